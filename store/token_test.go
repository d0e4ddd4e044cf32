package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// TestTokens: tokens are listed without their secret, with who made them
// and when they were last used (at most one write a minute), to their owner
// and to admins; a revoked token authenticates nothing from then on.
func TestTokens(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		tm := storetest.SeedTeam(t, db)
		admin, sam, sue := storetest.As(tm.Admin), storetest.As(tm.SDR1), storetest.As(tm.SDR2)

		forSam, err := db.CreateToken(admin, tm.SDR1.ID, " zapier ")
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
		own, err := db.CreateToken(sam, tm.SDR1.ID, "laptop")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateToken(storetest.System(), tm.SDR2.ID, "cli"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateToken(sam, tm.SDR1.ID, strings.Repeat("n", baton.MaxTokenName+1)); baton.ErrorField(err) != "name" {
			t.Fatalf("a name over %d characters: %v", baton.MaxTokenName, err)
		}

		// An admin lists every token, newest first, with who made it; Sam
		// only his own, and not Sue's even by asking.
		all, total, err := db.FindTokens(admin, baton.TokenFilter{})
		if err != nil || total != 3 || len(all) != 3 {
			t.Fatalf("the admin's list: %d %v %v", total, all, err)
		}
		if all[0].UserID != tm.SDR2.ID || all[0].CreatedBy != nil || all[2].Name != "zapier" ||
			all[2].CreatedBy == nil || *all[2].CreatedBy != tm.Admin.ID || all[2].CreatedVia != "test" || !all[2].CreatedAt.Equal(storetest.Epoch) {
			t.Fatalf("the admin's list: %+v %+v %+v", all[0], all[1], all[2])
		}
		mine, total, err := db.FindTokens(sam, baton.TokenFilter{})
		if err != nil || total != 2 || mine[0].Name != "laptop" || mine[1].Name != "zapier" {
			t.Fatalf("Sam's list: %d %v %v", total, mine, err)
		}
		if _, _, err := db.FindTokens(sam, baton.TokenFilter{UserID: &tm.SDR2.ID}); baton.ErrorCode(err) != baton.EFORBIDDEN {
			t.Fatalf("Sam asked for Sue's tokens: %v", err)
		}
		if ts, n, err := db.FindTokens(admin, baton.TokenFilter{UserID: &tm.SDR2.ID}); err != nil || n != 1 || ts[0].UserID != tm.SDR2.ID {
			t.Fatalf("the admin's list of Sue's: %d %v %v", n, ts, err)
		}

		// The last use is written at the first use and then at most once a
		// minute, however often the token is used.
		lastUsed := func() *time.Time {
			t.Helper()
			ts, _, err := db.FindTokens(sam, baton.TokenFilter{})
			if err != nil {
				t.Fatal(err)
			}
			return ts[0].LastUsedAt
		}
		if lastUsed() != nil {
			t.Fatal("a token never used has a last use")
		}
		first := clock.Now()
		for range 3 {
			if u, err := db.Authenticate(t.Context(), own); err != nil || u.ID != tm.SDR1.ID {
				t.Fatalf("authenticate: %v %v", u, err)
			}
			clock.Advance(20 * time.Second)
		}
		if at := lastUsed(); at == nil || !at.Equal(first) {
			t.Fatalf("used three times within a minute: last use %v, want %v", at, first)
		}
		db.Authenticate(t.Context(), own)
		if at := lastUsed(); at == nil || !at.Equal(clock.Now()) {
			t.Fatalf("used a minute later: last use %v, want %v", at, clock.Now())
		}

		// Only the owner and an admin revoke; to Sue, Sam's token does not
		// exist. Revoked, it is refused at once, and a second revocation
		// changes nothing.
		if _, err := db.RevokeToken(sue, mine[0].ID); baton.ErrorCode(err) != baton.ENOTFOUND {
			t.Fatalf("Sue revoked Sam's token: %v", err)
		}
		if _, err := db.RevokeToken(sam, 999999); baton.ErrorCode(err) != baton.ENOTFOUND {
			t.Fatalf("no such token: %v", err)
		}
		revoked, err := db.RevokeToken(sam, mine[0].ID)
		if err != nil || revoked.RevokedAt == nil || !revoked.RevokedAt.Equal(clock.Now()) || revoked.RevokedBy == nil || *revoked.RevokedBy != tm.SDR1.ID {
			t.Fatalf("revoke: %+v %v", revoked, err)
		}
		if _, err := db.Authenticate(t.Context(), own); baton.ErrorCode(err) != baton.EUNAUTHORIZED || !strings.Contains(baton.ErrorMessage(err), "revoked") {
			t.Fatalf("a revoked token: %v", err)
		}
		if _, err := db.Authenticate(t.Context(), forSam); err != nil {
			t.Fatalf("Sam's other token: %v", err)
		}
		clock.Advance(time.Hour)
		again, err := db.RevokeToken(admin, mine[0].ID)
		if err != nil || !again.RevokedAt.Equal(*revoked.RevokedAt) || *again.RevokedBy != tm.SDR1.ID {
			t.Fatalf("revoked twice: %+v %v", again, err)
		}
		// Revoked tokens are listed after the live ones, and filtered.
		yes, no := true, false
		if ts, n, err := db.FindTokens(sam, baton.TokenFilter{}); err != nil || n != 2 || ts[0].Name != "zapier" || !ts[1].Revoked() {
			t.Fatalf("live first: %v %v", ts, err)
		}
		if ts, n, err := db.FindTokens(admin, baton.TokenFilter{Revoked: &yes}); err != nil || n != 1 || ts[0].ID != mine[0].ID {
			t.Fatalf("only revoked: %d %v %v", n, ts, err)
		}
		if _, n, err := db.FindTokens(admin, baton.TokenFilter{Revoked: &no}); err != nil || n != 2 {
			t.Fatalf("only live: %d %v", n, err)
		}
	})
}

// TestDeactivate: a deactivated user's sessions end and their tokens are
// refused; reactivated, their tokens work again but the sessions stay
// ended. No admin deactivates themselves.
func TestDeactivate(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		tm := storetest.SeedTeam(t, db)
		admin := storetest.As(tm.Admin)
		token, err := db.CreateToken(admin, tm.SDR1.ID, "sync")
		if err != nil {
			t.Fatal(err)
		}
		session, _, err := db.CreateSession(t.Context(), tm.SDR1.ID)
		if err != nil {
			t.Fatal(err)
		}
		other, _, err := db.CreateSession(t.Context(), tm.SDR2.ID)
		if err != nil {
			t.Fatal(err)
		}
		off, on := false, true
		if _, err := db.UpdateUser(storetest.As(tm.SDR2), tm.SDR1.ID, baton.UserUpdate{Active: &off}); baton.ErrorCode(err) != baton.EFORBIDDEN {
			t.Fatalf("a rep deactivated another: %v", err)
		}
		if _, err := db.UpdateUser(admin, tm.Admin.ID, baton.UserUpdate{Active: &off}); baton.ErrorField(err) != "active" {
			t.Fatalf("an admin deactivated themselves: %v", err)
		}
		if u, err := db.UpdateUser(admin, tm.SDR1.ID, baton.UserUpdate{Active: &off}); err != nil || u.Active {
			t.Fatalf("deactivate: %+v %v", u, err)
		}
		if _, _, err := db.SessionUser(t.Context(), session); baton.ErrorCode(err) != baton.EUNAUTHORIZED {
			t.Fatalf("the session of a deactivated user: %v", err)
		}
		if _, err := db.Authenticate(t.Context(), token); baton.ErrorCode(err) != baton.EUNAUTHORIZED {
			t.Fatalf("the token of a deactivated user: %v", err)
		}
		if u, _, err := db.SessionUser(t.Context(), other); err != nil || u.ID != tm.SDR2.ID {
			t.Fatalf("another user's session: %v %v", u, err)
		}
		if _, err := db.UpdateUser(admin, tm.SDR1.ID, baton.UserUpdate{Active: &on}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Authenticate(t.Context(), token); err != nil {
			t.Fatalf("the token of a reactivated user: %v", err)
		}
		if _, _, err := db.SessionUser(t.Context(), session); baton.ErrorCode(err) != baton.EUNAUTHORIZED {
			t.Fatalf("a session ended by deactivation came back: %v", err)
		}
	})
}

// TestTokenExpiry: a token works until the lifetime the server gives tokens
// (90 days by default) has passed since it was made, and is listed with
// when it ends; a negative lifetime makes tokens that never end.
func TestTokenExpiry(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		tm := storetest.SeedTeam(t, db)
		sam := storetest.As(tm.SDR1)
		for _, c := range []struct {
			name     string
			lifetime time.Duration
			works    time.Duration // after this long it still works,
			ends     time.Duration // after this long it does not (0: never)
		}{
			{"default", 0, baton.DefaultTokenLifetime - time.Second, baton.DefaultTokenLifetime},
			{"an hour", time.Hour, 59 * time.Minute, time.Hour},
			{"never", -1, 5 * 365 * 24 * time.Hour, 0},
		} {
			clock.Set(storetest.Epoch)
			db.TokenLifetime = c.lifetime
			made := clock.Now()
			tok, err := db.CreateToken(sam, tm.SDR1.ID, c.name)
			if err != nil {
				t.Fatal(err)
			}
			list, _, err := db.FindTokens(sam, baton.TokenFilter{})
			if err != nil {
				t.Fatal(err)
			}
			var listed *baton.Token
			for _, l := range list {
				if l.Name == c.name {
					listed = l
				}
			}
			switch {
			case listed == nil:
				t.Fatalf("%s: not listed", c.name)
			case c.ends == 0 && listed.ExpiresAt != nil:
				t.Errorf("%s: expires %v, want never", c.name, listed.ExpiresAt)
			case c.ends != 0 && (listed.ExpiresAt == nil || !listed.ExpiresAt.Equal(made.Add(c.ends))):
				t.Errorf("%s: expires %v, want %v", c.name, listed.ExpiresAt, made.Add(c.ends))
			}
			clock.Set(made.Add(c.works))
			if _, err := db.Authenticate(sam, tok); err != nil {
				t.Errorf("%s after %v: %v", c.name, c.works, err)
			}
			if c.ends == 0 {
				continue
			}
			clock.Set(made.Add(c.ends))
			if _, err := db.Authenticate(sam, tok); baton.ErrorCode(err) != baton.EUNAUTHORIZED || !strings.Contains(baton.ErrorMessage(err), "expired") {
				t.Errorf("%s after %v: %v, want it expired", c.name, c.ends, err)
			}
			if !listed.Expired(clock.Now()) {
				t.Errorf("%s: listed as not expired at %v", c.name, clock.Now())
			}
		}
	})
}

// TestPasswordResetRevokesTokens: a new password revokes the user's live
// tokens (whoever knew the old one may have made one), recorded as revoked
// by whoever set it; SetPasswordKeepTokens leaves them working.
func TestPasswordResetRevokesTokens(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		tm := storetest.SeedTeam(t, db)
		admin, sam := storetest.As(tm.Admin), storetest.As(tm.SDR1)
		kept, err := db.CreateToken(sam, tm.SDR1.ID, "laptop")
		if err != nil {
			t.Fatal(err)
		}
		other, err := db.CreateToken(admin, tm.SDR2.ID, "sue's")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SetPasswordKeepTokens(sam, tm.SDR1.ID, "a changed passphrase"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Authenticate(sam, kept); err != nil {
			t.Fatalf("after a change that keeps tokens: %v", err)
		}
		if err := db.SetPassword(admin, tm.SDR1.ID, "a reset passphrase"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Authenticate(sam, kept); baton.ErrorCode(err) != baton.EUNAUTHORIZED {
			t.Fatalf("after a reset: %v, want the token revoked", err)
		}
		if _, err := db.Authenticate(sam, other); err != nil {
			t.Fatalf("another user's token after Sam's reset: %v", err)
		}
		list, _, err := db.FindTokens(admin, baton.TokenFilter{UserID: &tm.SDR1.ID})
		if err != nil || len(list) != 1 {
			t.Fatalf("Sam's tokens: %v %v", list, err)
		}
		if tok := list[0]; !tok.Revoked() || tok.RevokedBy == nil || *tok.RevokedBy != tm.Admin.ID {
			t.Fatalf("revoked by the reset: %+v", tok)
		}
	})
}
