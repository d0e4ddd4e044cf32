package store_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// TestAudit: each audited act writes exactly one entry, in its own
// transaction, with its actor, door, target and changed fields, and never a
// secret; a failed act writes none; only an admin reads the log, through
// filters.
func TestAudit(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		tm := storetest.SeedTeam(t, db)
		admin := baton.WithClientAddr(storetest.As(tm.Admin), "192.0.2.7")
		mia, sam := storetest.As(tm.Marketing), storetest.As(tm.SDR1)
		const (
			password = "correct horse battery staple"
			secret   = "whsec-do-not-log-me"
		)
		var token, session string
		var draft *baton.PolicyDoc
		var userID int64
		steps := []struct {
			name        string
			act         func() error
			action      string
			actor       *baton.User // nil: none
			via, kind   string
			id          func() int64
			before, aft string // substrings of Before and After
		}{
			{"create user", func() error {
				u := &baton.User{Email: "new@example.com", Name: "New Rep", Role: baton.RoleSDR}
				err := db.CreateUser(admin, u)
				userID = u.ID
				return err
			}, "user.create", tm.Admin, "test", "user", func() int64 { return userID }, "", `"email":"new@example.com"`},
			{"update user", func() error {
				role, team := baton.RoleAE, "West"
				_, err := db.UpdateUser(admin, userID, baton.UserUpdate{Role: &role, Team: &team, ManagerID: &tm.Manager1.ID})
				return err
			}, "user.update", tm.Admin, "test", "user", func() int64 { return userID },
				`"manager_id":0`, `"manager_id":` + itoa(tm.Manager1.ID)},
			{"deactivate user", func() error {
				off := false
				_, err := db.UpdateUser(admin, userID, baton.UserUpdate{Active: &off})
				return err
			}, "user.update", tm.Admin, "test", "user", func() int64 { return userID }, `{"active":true}`, `{"active":false}`},
			{"set password", func() error { return db.SetPassword(admin, tm.SDR1.ID, password) },
				"user.password", tm.Admin, "test", "user", func() int64 { return tm.SDR1.ID }, "", `"tokens_revoked":true`},
			{"keep tokens", func() error { return db.SetPasswordKeepTokens(sam, tm.SDR1.ID, password) },
				"user.password", tm.SDR1, "test", "user", func() int64 { return tm.SDR1.ID }, "", `"tokens_revoked":false`},
			{"create token", func() (err error) { token, err = db.CreateToken(sam, tm.SDR1.ID, "laptop"); return err },
				"token.create", tm.SDR1, "test", "token", nil, "", `"name":"laptop"`},
			{"revoke token", func() error {
				ts, _, err := db.FindTokens(sam, baton.TokenFilter{})
				if err == nil {
					_, err = db.RevokeToken(sam, ts[0].ID)
				}
				return err
			}, "token.revoke", tm.SDR1, "test", "token", nil, "", `"user_id":` + itoa(tm.SDR1.ID)},
			{"create webhook", func() error {
				return db.CreateWebhook(admin, &baton.Webhook{URL: "https://hooks.example.com/in", Secret: secret})
			}, "webhook.create", tm.Admin, "test", "webhook", nil, "", `"url":"https://hooks.example.com/in"`},
			{"turn webhook off", func() error {
				hs, err := db.FindWebhooks(admin)
				if err == nil {
					err = db.SetWebhookActive(admin, hs[0].ID, false)
				}
				return err
			}, "webhook.toggle", tm.Admin, "test", "webhook", nil, `{"active":true}`, `{"active":false}`},
			{"set calendar", func() error {
				return db.SetCalendar(admin, "EMEA", []byte(`{"time_zone": "Europe/Berlin", "hours": {"mon-fri": ["08:00-18:00"]}}`))
			}, "calendar.set", tm.Admin, "test", "calendar", func() int64 { return 0 }, "", `Europe/Berlin`},
			{"change calendar", func() error {
				return db.SetCalendar(admin, "EMEA", []byte(`{"time_zone": "Europe/Paris", "hours": {"mon-fri": ["09:00-17:00"]}}`))
			}, "calendar.set", tm.Admin, "test", "calendar", func() int64 { return 0 }, `Europe/Berlin`, `Europe/Paris`},
			{"save draft", func() (err error) { draft, err = db.SaveDraft(mia, storetest.Policy); return err },
				"policy.draft", tm.Marketing, "test", "policy", func() int64 { return draft.ID }, "", `"sha256"`},
			{"publish", func() error {
				_, err := db.PublishPolicy(mia, baton.PolicyPublish{ID: draft.ID, ChangeNote: "first audited version"})
				return err
			}, "policy.publish", tm.Marketing, "test", "policy", func() int64 { return draft.ID }, "", `"change_note":"first audited version"`},
			{"train model", func() error {
				return db.SaveModel(mia, &baton.ModelInfo{Rows: 10, Positives: 3, Note: "audit"}, []byte(`{}`))
			}, "model.train", tm.Marketing, "test", "model", func() int64 { return 1 }, "", `"rows":10`},
			{"activate model", func() error { return db.ActivateModel(admin, 1) },
				"model.activate", tm.Admin, "test", "model", func() int64 { return 1 }, `"active_version":0`, `"active_version":1`},
			{"out of office", func() error {
				_, err := db.SetOutOfOffice(sam, tm.SDR1.ID, baton.OutOfOffice{Until: "2026-03-09", Note: "holiday"})
				return err
			}, "user.away", tm.SDR1, "test", "user", func() int64 { return tm.SDR1.ID }, `"until":null`, `"note":"holiday"`},
			{"back", func() error { _, err := db.EndOutOfOffice(sam, tm.SDR1.ID); return err },
				"user.away", tm.SDR1, "test", "user", func() int64 { return tm.SDR1.ID }, `"note":"holiday"`, `"until":null`},
			{"sign in", func() error {
				_, err := db.CheckPassword(context.Background(), "Sam.Sdr@example.com", password, "198.51.100.4")
				return err
			}, "signin.success", tm.SDR1, "ui", "user", func() int64 { return tm.SDR1.ID }, "", `"email":"sam.sdr@example.com"`},
			{"wrong password", func() error {
				_, err := db.CheckPassword(context.Background(), "sam.sdr@example.com", "wrong "+password, "198.51.100.4")
				return wantErr(err, baton.EUNAUTHORIZED)
			}, "signin.failure", nil, "ui", "user", func() int64 { return tm.SDR1.ID }, "", `"email":"sam.sdr@example.com"`},
			{"unknown email", func() error {
				_, err := db.CheckPassword(context.Background(), "nobody@example.com", password, "198.51.100.4")
				return wantErr(err, baton.EUNAUTHORIZED)
			}, "signin.failure", nil, "ui", "user", func() int64 { return 0 }, "", `"email":"nobody@example.com"`},
			{"session", func() (err error) { session, _, err = db.CreateSession(context.Background(), tm.SDR1.ID); return err },
				"", nil, "", "", nil, "", ""},
			{"sign out", func() error { return db.DeleteSession(context.Background(), session) },
				"signout", tm.SDR1, "ui", "user", func() int64 { return tm.SDR1.ID }, "", ""},
			{"sign out again", func() error { return db.DeleteSession(context.Background(), session) },
				"", nil, "", "", nil, "", ""},
			// Failed acts write nothing: their transaction rolls back.
			{"duplicate email", func() error {
				return wantErr(db.CreateUser(admin, &baton.User{Email: "new@example.com", Name: "Again", Role: baton.RoleSDR}), baton.ECONFLICT)
			}, "", nil, "", "", nil, "", ""},
			{"forbidden update", func() error {
				name := "Sneaky"
				_, err := db.UpdateUser(sam, tm.SDR2.ID, baton.UserUpdate{Name: &name})
				return wantErr(err, baton.EFORBIDDEN)
			}, "", nil, "", "", nil, "", ""},
			{"bad calendar", func() error {
				return wantErr(db.SetCalendar(admin, "EMEA", []byte(`{"time_zone": "Mars/Olympus"}`)), baton.EINVALID)
			}, "", nil, "", "", nil, "", ""},
			{"unchanged update", func() error {
				name := tm.SDR2.Name
				_, err := db.UpdateUser(admin, tm.SDR2.ID, baton.UserUpdate{Name: &name})
				return err
			}, "", nil, "", "", nil, "", ""},
		}
		_, seen, err := db.FindAudit(admin, baton.AuditFilter{})
		if err != nil || seen != len(tm.Users()) {
			t.Fatalf("the seeded users' entries: %d %v", seen, err)
		}
		for _, s := range steps {
			clock.Advance(time.Second)
			if err := s.act(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			got, total, err := db.FindAudit(admin, baton.AuditFilter{Limit: 1})
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			want := seen
			if s.action != "" {
				want++
			}
			if total != want {
				t.Fatalf("%s: %d entries, want %d", s.name, total, want)
			}
			seen = total
			if s.action == "" {
				continue
			}
			e := got[0]
			if e.Action != s.action || e.Via != s.via || e.TargetKind != s.kind || !e.At.Equal(clock.Now()) {
				t.Fatalf("%s: %+v", s.name, e)
			}
			if s.id != nil && e.TargetID != s.id() {
				t.Fatalf("%s: target %d, want %d", s.name, e.TargetID, s.id())
			}
			if s.actor == nil && e.ActorID != nil || s.actor != nil && (e.ActorID == nil || *e.ActorID != s.actor.ID || e.ActorName != s.actor.Name) {
				t.Fatalf("%s: actor %v %q, want %v", s.name, e.ActorID, e.ActorName, s.actor)
			}
			if !strings.Contains(e.Before, s.before) || !strings.Contains(e.After, s.aft) {
				t.Fatalf("%s: before %s after %s, want %q and %q", s.name, e.Before, e.After, s.before, s.aft)
			}
		}

		all, total, err := db.FindAudit(admin, baton.AuditFilter{Limit: 1000})
		if err != nil || total != len(all) {
			t.Fatal(total, err)
		}
		for _, e := range all {
			for _, s := range []string{password, secret, token, session} {
				if strings.Contains(e.Before+e.After, s) {
					t.Fatalf("a secret in %+v", e)
				}
			}
		}
		// The address: the request's, when the context carries one; the
		// sign-in's own.
		if e := find(all, "webhook.create"); e.Addr != "192.0.2.7" {
			t.Fatalf("the admin's address: %+v", e)
		}
		if e := find(all, "signin.success"); e.Addr != "198.51.100.4" {
			t.Fatalf("the sign-in's address: %+v", e)
		}

		// Throttled tries are recorded too.
		for range store.LoginFreeFailures + 1 {
			db.CheckPassword(context.Background(), "sue.sdr@example.com", "nope nope nope", "203.0.113.9")
		}
		if _, err := db.CheckPassword(context.Background(), "sue.sdr@example.com", "nope nope nope", "203.0.113.9"); baton.ErrorCode(err) != baton.ETOOMANY {
			t.Fatalf("not throttled: %v", err)
		}
		if got, n, err := db.FindAudit(admin, baton.AuditFilter{Action: ptr("signin.throttled")}); err != nil || n != 1 || got[0].Addr != "203.0.113.9" || got[0].TargetID != tm.SDR2.ID && got[0].TargetID != 0 {
			t.Fatalf("throttled: %d %v %v", n, got, err)
		}

		// Filters.
		from, to := storetest.Epoch.Add(2*time.Second), storetest.Epoch.Add(4*time.Second)
		for _, c := range []struct {
			name string
			f    baton.AuditFilter
			want int
		}{
			{"action prefix", baton.AuditFilter{Action: ptr("user.")}, 7 + 1 + 2 + 2 + 2},
			{"exact action", baton.AuditFilter{Action: ptr("token.revoke")}, 1},
			{"no such action", baton.AuditFilter{Action: ptr("user_")}, 0},
			{"actor", baton.AuditFilter{ActorID: &tm.Marketing.ID}, 3},
			{"target", baton.AuditFilter{TargetKind: ptr("user"), TargetID: &userID}, 3},
			{"kind", baton.AuditFilter{TargetKind: ptr("webhook")}, 2},
			{"time", baton.AuditFilter{From: &from, To: &to}, 2},
			{"page", baton.AuditFilter{Action: ptr("user."), Offset: 12, Limit: 5}, 2},
		} {
			got, total, err := db.FindAudit(admin, c.f)
			if err != nil || len(got) != c.want {
				t.Errorf("%s: %d of %d, want %d: %v", c.name, len(got), total, c.want, err)
			}
		}
		for _, ctx := range []context.Context{mia, sam, storetest.As(tm.Manager1)} {
			if _, _, err := db.FindAudit(ctx, baton.AuditFilter{}); baton.ErrorCode(err) != baton.EFORBIDDEN {
				t.Fatalf("a non-admin read the audit log: %v", err)
			}
		}
		if _, _, err := db.FindAudit(context.Background(), baton.AuditFilter{}); baton.ErrorCode(err) != baton.EUNAUTHORIZED {
			t.Fatalf("no actor: %v", err)
		}
	})
}

// wantErr returns nil when err has the code, else an error saying so.
func wantErr(err error, code string) error {
	if baton.ErrorCode(err) == code {
		return nil
	}
	return baton.Errorf(baton.EINTERNAL, "want %s, got %v", code, err)
}

func find(es []*baton.AuditEntry, action string) *baton.AuditEntry {
	for _, e := range es {
		if e.Action == action {
			return e
		}
	}
	return &baton.AuditEntry{}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestAuditImportsAndCalendarRemoval: a user import writes one user.create
// per user it adds and one user.update per user it changes (nothing for a
// row that changes nothing), and removing a calendar writes
// calendar.delete.
func TestAuditImportsAndCalendarRemoval(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		admin := storetest.System()
		count := func(action string) int {
			_, n, err := db.FindAudit(admin, baton.AuditFilter{Action: &action})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		rows := []baton.UserImport{
			{User: baton.User{Email: "ann@example.com", Name: "Ann", Role: baton.RoleSDR, Team: "East"}},
			{User: baton.User{Email: "bob@example.com", Name: "Bob", Role: baton.RoleAE, Team: "East"}},
		}
		if _, err := db.ImportUsers(admin, rows); err != nil {
			t.Fatal(err)
		}
		rows[1].User.Team = "West"
		if _, err := db.ImportUsers(admin, rows); err != nil {
			t.Fatal(err)
		}
		if c, u := count("user.create"), count("user.update"); c != 2 || u != 1 {
			t.Fatalf("user.create %d, user.update %d after two imports, want 2 and 1", c, u)
		}
		if err := db.SetCalendar(admin, "EMEA", []byte(`{"time_zone": "Europe/Berlin", "hours": {"mon-fri": ["08:00-18:00"]}}`)); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteCalendar(admin, "EMEA"); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteCalendar(admin, "EMEA"); baton.ErrorCode(err) != baton.ENOTFOUND {
			t.Fatalf("removing it twice: %v", err)
		}
		if n := count("calendar.delete"); n != 1 {
			t.Fatalf("calendar.delete %d, want 1", n)
		}
	})
}
