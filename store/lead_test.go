package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

func ptr[T any](v T) *T { return &v }

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := baton.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func TestLeadCreateAndFind(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		ctx := storetest.System()
		l := &baton.Lead{Email: "  Jane.Doe@Acme.COM ", Name: "Jane Doe", Source: "webinar", Campaign: "Q1",
			Attrs: baton.Attrs{"seats": 25.0, "trial": true, "plan": "pro"}}
		if err := db.CreateLead(ctx, l); err != nil {
			t.Fatal(err)
		}
		got, err := db.FindLeadByID(ctx, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Email != "jane.doe@acme.com" || got.Stage != baton.StageNew || got.Version != 1 {
			t.Fatalf("got %+v", got)
		}
		if got.Attrs["seats"] != 25.0 || got.Attrs["trial"] != true || got.Attrs["plan"] != "pro" {
			t.Fatalf("attrs = %#v", got.Attrs)
		}
		if !got.CreatedAt.Equal(storetest.Epoch) {
			t.Fatalf("created_at = %v, want the clock's %v", got.CreatedAt, storetest.Epoch)
		}
		// The email is unique.
		wantCode(t, db.CreateLead(ctx, &baton.Lead{Email: "jane.doe@acme.com"}), baton.ECONFLICT)
		// A custom attribute keeps its first type.
		err = db.CreateLead(ctx, &baton.Lead{Email: "x@y.com", Attrs: baton.Attrs{"seats": "many"}})
		wantCode(t, err, baton.EINVALID)
		if baton.ErrorField(err) != "attributes.seats" {
			t.Fatalf("field = %q", baton.ErrorField(err))
		}
		// The creation is audited with where the lead came from.
		hist, err := db.History(ctx, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 1 || hist[0].Action != baton.ActionCreated || !strings.Contains(hist[0].Note, "source webinar") {
			t.Fatalf("history = %+v", hist)
		}
		_, err = db.FindLeadByID(ctx, 999999)
		wantCode(t, err, baton.ENOTFOUND)
	})
}

func TestLeadValidation(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := storetest.System()
		for _, tc := range []struct {
			name  string
			lead  baton.Lead
			field string
		}{
			{"no key", baton.Lead{Name: "x"}, "email"},
			{"bad email", baton.Lead{Email: "not-an-email"}, "email"},
			{"bad stage", baton.Lead{Email: "a@b.co", Stage: "maybe"}, "stage"},
			{"long name", baton.Lead{Email: "a@b.co", Name: strings.Repeat("x", 501)}, "name"},
			{"bad attr", baton.Lead{Email: "a@b.co", Attrs: baton.Attrs{"x": []int{1}}}, "attributes.x"},
			{"unknown owner", baton.Lead{Email: "a@b.co", OwnerID: ptr(int64(4242))}, "owner_id"},
			{"unknown account", baton.Lead{Email: "a@b.co", AccountID: ptr(int64(4242))}, "account_id"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := db.CreateLead(ctx, &tc.lead)
				wantCode(t, err, baton.EINVALID)
				if f := baton.ErrorField(err); f != tc.field {
					t.Fatalf("field = %q, want %q (%v)", f, tc.field, err)
				}
			})
		}
		_, n, err := db.FindLeads(ctx, baton.LeadFilter{})
		if err != nil || n != 0 {
			t.Fatalf("bad leads were stored: %d, %v", n, err)
		}
	})
}

func TestLeadUpdateIsAudited(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		tm := storetest.SeedTeam(t, db)
		l := storetest.MustLead(t, db, &baton.Lead{Email: "a@acme.com", Title: "Engineer"})
		clock.Advance(time.Hour)
		ctx := storetest.As(tm.Marketing)
		got, err := db.UpdateLead(ctx, l.ID, baton.LeadUpdate{Title: ptr("VP Engineering"), Attrs: baton.Attrs{"seats": 10.0}, IfVersion: ptr(l.Version)})
		if err != nil {
			t.Fatal(err)
		}
		if got.Title != "VP Engineering" || got.Version != 2 {
			t.Fatalf("got %+v", got)
		}
		// A stale version is refused.
		_, err = db.UpdateLead(ctx, l.ID, baton.LeadUpdate{Title: ptr("CTO"), IfVersion: ptr(l.Version)})
		wantCode(t, err, baton.ECONFLICT)
		hist, _ := db.History(ctx, l.ID)
		var fields []string
		for _, h := range hist[1:] {
			fields = append(fields, h.Field+":"+h.From+">"+h.To+"@"+h.ActorName)
			if !h.At.Equal(storetest.Epoch.Add(time.Hour)) {
				t.Fatalf("history at %v", h.At)
			}
		}
		want := "attributes.seats:>10@Mia Marketing,title:Engineer>VP Engineering@Mia Marketing"
		if strings.Join(sorted(fields), ",") != want {
			t.Fatalf("history = %v, want %s", fields, want)
		}
		// A rep may not edit lead data (nor read another's lead: not found),
		// and an email taken by another lead is a conflict.
		_, err = db.UpdateLead(storetest.As(tm.SDR1), l.ID, baton.LeadUpdate{Title: ptr("x")})
		wantCode(t, err, baton.ENOTFOUND)
		storetest.MustLead(t, db, &baton.Lead{Email: "b@acme.com"})
		_, err = db.UpdateLead(ctx, l.ID, baton.LeadUpdate{Email: ptr("b@acme.com")})
		wantCode(t, err, baton.ECONFLICT)
	})
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestUpsertLead(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := storetest.System()
		created, err := db.UpsertLead(ctx, &baton.Lead{ExternalID: "form-1", Name: "A"})
		if err != nil || !created {
			t.Fatal(created, err)
		}
		l := &baton.Lead{ExternalID: "form-1", Email: "a@b.co", Company: "B"}
		created, err = db.UpsertLead(ctx, l)
		if err != nil || created {
			t.Fatal(created, err)
		}
		if l.Name != "A" || l.Email != "a@b.co" || l.Company != "B" {
			t.Fatalf("merged lead = %+v", l)
		}
		_, n, _ := db.FindLeads(ctx, baton.LeadFilter{})
		if n != 1 {
			t.Fatalf("%d leads, want 1", n)
		}
	})
}

func TestImportLeadsReportsBadRows(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := storetest.System()
		storetest.MustLead(t, db, &baton.Lead{Email: "taken@x.com", ExternalID: "e-taken"})
		batch := []*baton.Lead{
			{Email: "ok1@x.com"},
			{Email: "bad"},
			{Email: "ok2@x.com", Attrs: baton.Attrs{"n": 1.0}},
			{Email: "other@x.com", ExternalID: "e-taken"}, // the external id belongs to another lead
			{ExternalID: "e-3", Attrs: baton.Attrs{"n": "text"}},
			{Email: "taken@x.com", Name: "Updated"},
		}
		res, err := db.ImportLeads(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		if res.Created != 2 || res.Updated != 1 || res.Rejected != 3 {
			t.Fatalf("result = %+v", res)
		}
		rows := fmt.Sprint(res.Errors[0].Row, res.Errors[1].Row, res.Errors[2].Row)
		if rows != "1 3 4" || res.Errors[2].Column != "attributes.n" {
			t.Fatalf("errors = %+v", res.Errors)
		}
		// Re-running the same batch duplicates nothing.
		res, err = db.ImportLeads(ctx, batch)
		if err != nil || res.Created != 0 {
			t.Fatalf("re-run: %+v %v", res, err)
		}
		_, n, _ := db.FindLeads(ctx, baton.LeadFilter{})
		if n != 3 {
			t.Fatalf("%d leads, want 3", n)
		}
	})
}

func TestAccountLinking(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := storetest.System()
		early := storetest.MustLead(t, db, &baton.Lead{Email: "early@acme.com"})
		acc := &baton.Account{Name: "Acme", Domain: "https://www.Acme.com/", Employees: ptr(int64(500))}
		if err := db.CreateAccount(ctx, acc); err != nil {
			t.Fatal(err)
		}
		if acc.Domain != "acme.com" {
			t.Fatalf("domain = %q", acc.Domain)
		}
		late := storetest.MustLead(t, db, &baton.Lead{Email: "late@acme.com"})
		other := storetest.MustLead(t, db, &baton.Lead{Email: "x@gmail.com"})
		for _, l := range []*baton.Lead{early, late} {
			got, _ := db.FindLeadByID(ctx, l.ID)
			if got.AccountID == nil || *got.AccountID != acc.ID {
				t.Fatalf("lead %s not linked to the account", l.Email)
			}
		}
		if got, _ := db.FindLeadByID(ctx, other.ID); got.AccountID != nil {
			t.Fatal("gmail lead linked")
		}
		wantCode(t, db.CreateAccount(ctx, &baton.Account{Name: "Acme 2", Domain: "acme.com"}), baton.ECONFLICT)
		res, err := db.ImportAccounts(ctx, []*baton.Account{{Name: "acme", Domain: "acme.com", Industry: "software"}, {Name: ""}, {Name: "Globex"}})
		if err != nil || res.Created != 1 || res.Updated != 1 || res.Rejected != 1 {
			t.Fatalf("import: %+v %v", res, err)
		}
	})
}

func TestVisibility(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		tm := storetest.SeedTeam(t, db)
		mine := storetest.MustLead(t, db, &baton.Lead{Email: "mine@x.com", OwnerID: &tm.SDR1.ID})
		theirs := storetest.MustLead(t, db, &baton.Lead{Email: "theirs@x.com", OwnerID: &tm.SDR2.ID})
		storetest.MustLead(t, db, &baton.Lead{Email: "nobody@x.com"})
		for _, tc := range []struct {
			who   *baton.User
			count int
			sees  map[int64]bool
		}{
			{tm.Admin, 3, map[int64]bool{mine.ID: true, theirs.ID: true}},
			{tm.Marketing, 3, map[int64]bool{mine.ID: true, theirs.ID: true}},
			{tm.SDR1, 1, map[int64]bool{mine.ID: true, theirs.ID: false}},
			{tm.SDR2, 1, map[int64]bool{mine.ID: false, theirs.ID: true}},
			{tm.Manager1, 1, map[int64]bool{mine.ID: true, theirs.ID: false}},
			{tm.AE, 0, map[int64]bool{mine.ID: false, theirs.ID: false}},
		} {
			t.Run(tc.who.Email, func(t *testing.T) {
				ctx := storetest.As(tc.who)
				_, n, err := db.FindLeads(ctx, baton.LeadFilter{})
				if err != nil || n != tc.count {
					t.Fatalf("sees %d leads (%v), want %d", n, err, tc.count)
				}
				for id, ok := range tc.sees {
					_, err := db.FindLeadByID(ctx, id)
					// A lead the user may not read is not found, with the
					// words of one that does not exist.
					if ok && err != nil || !ok && (baton.ErrorCode(err) != baton.ENOTFOUND || err.Error() != fmt.Sprintf("baton not_found: no lead %d", id)) {
						t.Fatalf("lead %d: %v, want visible=%v", id, err, ok)
					}
					_, err = db.Timeline(ctx, id)
					if !ok && baton.ErrorCode(err) != baton.ENOTFOUND {
						t.Fatalf("timeline of lead %d: %v", id, err)
					}
				}
			})
		}
		_, err := db.FindLeadByID(context.Background(), mine.ID)
		wantCode(t, err, baton.EUNAUTHORIZED)
	})
}

func TestStageChanges(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		tm := storetest.SeedTeam(t, db)
		l := storetest.MustLead(t, db, &baton.Lead{Email: "l@x.com", OwnerID: &tm.SDR1.ID})
		amount := 1000.0
		bant := &baton.BANT{BudgetAmount: &amount, BudgetCurrency: "EUR", Authority: baton.AuthorityDecisionMaker, Need: "x", Timing: baton.TimingImmediate}
		steps := []struct {
			who   *baton.User
			c     baton.StageChange
			code  string
			field string
		}{
			{tm.SDR1, baton.StageChange{To: baton.StageMQL, Reason: "hot"}, baton.EFORBIDDEN, ""}, // only marketing qualifies
			{tm.Marketing, baton.StageChange{To: baton.StageMQL}, baton.EINVALID, "reason"},       // a manual MQL needs a reason
			{tm.Marketing, baton.StageChange{To: baton.StageSQL, Reason: "x"}, baton.ECONFLICT, "stage"},
			{tm.Marketing, baton.StageChange{To: baton.StageMQL, Reason: "asked for a demo at the booth"}, "", ""},
			{tm.Marketing, baton.StageChange{To: baton.StageSAL}, baton.EFORBIDDEN, ""}, // marketing cannot accept for sales
			{tm.SDR2, baton.StageChange{To: baton.StageSAL}, baton.ENOTFOUND, ""},       // not the owner: not even found
			{tm.Manager2, baton.StageChange{To: baton.StageSAL}, baton.ENOTFOUND, ""},   // not the owner's manager
			{tm.SDR1, baton.StageChange{To: baton.StageSAL}, "", ""},
			{tm.SDR1, baton.StageChange{To: baton.StageSQL}, baton.EINVALID, "bant"}, // the BANT the policy needs
			{tm.SDR1, baton.StageChange{To: baton.StageSQL, BANT: bant}, "", ""},
			{tm.SDR1, baton.StageChange{To: baton.StageOpportunity}, baton.ECONFLICT, ""}, // the SQL went to an AE
			{tm.Manager1, baton.StageChange{To: baton.StageOpportunity}, baton.EINVALID, "opportunity"},
			{tm.Manager1, baton.StageChange{To: baton.StageOpportunity, Opportunity: &baton.ConvertInput{Name: "Deal", Amount: 900}}, "", ""},
			{tm.Manager1, baton.StageChange{To: baton.StageLost}, baton.EINVALID, "reason"},
			{tm.Manager1, baton.StageChange{To: baton.StageWon}, baton.EINVALID, "value"},
			{tm.Manager1, baton.StageChange{To: baton.StageWon, Close: &baton.CloseInput{Won: true, Value: 900}}, "", ""},
			{tm.Admin, baton.StageChange{To: baton.StageMQL, Reason: "again"}, baton.ECONFLICT, "stage"},
		}
		for i, s := range steps {
			_, err := db.ChangeStage(storetest.As(s.who), l.ID, s.c)
			if baton.ErrorCode(err) != s.code && !(s.code == "" && err == nil) {
				t.Fatalf("step %d (%s -> %s): %v, want %q", i, s.who.Email, s.c.To, err, s.code)
			}
			if s.field != "" && baton.ErrorField(err) != s.field {
				t.Fatalf("step %d: field %q, want %q (%v)", i, baton.ErrorField(err), s.field, err)
			}
			if s.field == "stage" && !strings.Contains(err.Error(), string(s.c.To)) {
				t.Fatalf("step %d: %v does not name the target stage", i, err)
			}
		}
		hist, _ := db.History(storetest.System(), l.ID)
		var path []string
		for _, h := range hist {
			if h.Action == baton.ActionStage {
				path = append(path, h.From+">"+h.To)
			}
		}
		if got := strings.Join(path, " "); got != "new>mql mql>sal sal>sql sql>opportunity opportunity>won" {
			t.Fatalf("stage history: %s", got)
		}
		if hist[1].Reason != "asked for a demo at the booth" || hist[1].ActorName != "Mia Marketing" {
			t.Fatalf("mql entry = %+v", hist[1])
		}
	})
}

// TestConcurrentStageChange races many accepts of one lead: exactly one wins.
func TestConcurrentStageChange(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		tm := storetest.SeedTeam(t, db)
		for trial := 0; trial < 5; trial++ {
			l := storetest.MustLead(t, db, &baton.Lead{Email: fmt.Sprintf("race%d@x.com", trial), OwnerID: &tm.SDR1.ID})
			if _, err := db.ChangeStage(storetest.System(), l.ID, baton.StageChange{To: baton.StageMQL, Reason: "test"}); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			wins, conflicts := 0, 0
			for i := 0; i < 16; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					who := tm.SDR1
					to := baton.StageSAL
					if i%2 == 1 {
						who, to = tm.Manager1, baton.StageRecycled
					}
					_, err := db.ChangeStage(storetest.As(who), l.ID, baton.StageChange{To: to, Reason: "no_need", From: baton.StageMQL})
					mu.Lock()
					defer mu.Unlock()
					switch baton.ErrorCode(err) {
					case "":
						wins++
					case baton.ECONFLICT, baton.ENOTFOUND:
						// The loser is told someone was first, or, once the
						// lead went to nurture, that it is out of its sight.
						conflicts++
					default:
						t.Errorf("unexpected error: %v", err)
					}
				}(i)
			}
			wg.Wait()
			if wins != 1 || conflicts != 15 {
				t.Fatalf("trial %d: %d winners, %d conflicts; want 1 and 15", trial, wins, conflicts)
			}
			hist, _ := db.History(storetest.System(), l.ID)
			moves := 0
			for _, h := range hist {
				if h.Action == baton.ActionStage {
					moves++
				}
			}
			if moves != 2 {
				t.Fatalf("trial %d: %d stage changes in the history, want 2", trial, moves)
			}
		}
	})
}

// TestUpsertDoesNotMoveLeads: an upsert with a stage or an owner other than
// the lead's is refused, naming the field, rather than dropped.
func TestUpsertDoesNotMoveLeads(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		tm := storetest.SeedTeam(t, db)
		ctx := storetest.As(tm.Marketing)
		l := storetest.MustLead(t, db, &baton.Lead{Email: "up@x.com", Name: "Up"})
		_, err := db.UpsertLead(ctx, &baton.Lead{Email: "up@x.com", Stage: baton.StageSQL})
		if baton.ErrorField(err) != "stage" || !strings.Contains(err.Error(), "make the move with a transition") {
			t.Fatalf("upsert with another stage: %v", err)
		}
		_, err = db.UpsertLead(ctx, &baton.Lead{Email: "up@x.com", OwnerID: &tm.SDR1.ID})
		wantCode(t, err, baton.EINVALID)
		// The same stage, or none, is an ordinary upsert.
		created, err := db.UpsertLead(ctx, &baton.Lead{Email: "up@x.com", Stage: baton.StageNew, Title: "CTO"})
		if err != nil || created {
			t.Fatalf("upsert in the same stage: %v %v", created, err)
		}
		if got, _ := db.FindLeadByID(ctx, l.ID); got.Title != "CTO" || got.Stage != baton.StageNew {
			t.Fatalf("after the upsert: %+v", got)
		}
	})
}
