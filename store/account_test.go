package store_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// accountPolicy gives fit to leads of software companies.
var accountPolicy = strings.Replace(testPolicy, "fit:\n", `fit:
  - name: Software company
    field: account.industry
    equals: Software
    points: 25
`, 1)

// TestAccountEditsRescoreTheirLeads: fit rules read account fields, so an
// edit of the account moves its leads' fit in the same transaction (for a
// few leads) or by a job (for many); each change is audited; leads that an
// account takes in when it is created are scored with it.
func TestAccountEditsRescoreTheirLeads(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := storetest.System()
		tm := storetest.SeedTeam(t, db)
		publish(t, db, accountPolicy)
		lead := storetest.MustLead(t, db, &baton.Lead{Email: "ann@acme.example"})
		acc := &baton.Account{Name: "Acme", Domain: "acme.example", Industry: "Retail"}
		if err := db.CreateAccount(ctx, acc); err != nil {
			t.Fatal(err)
		}
		fit := func(id int64) float64 {
			l, err := db.FindLeadByID(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return l.Score.Fit
		}
		if got := fit(lead.ID); got != 0 {
			t.Fatalf("fit of a retail lead: %v", got)
		}
		software := "Software"
		if _, err := db.UpdateAccount(storetest.As(tm.Marketing), acc.ID, baton.AccountUpdate{Industry: &software}); err != nil {
			t.Fatal(err)
		}
		if got := fit(lead.ID); got != 25 {
			t.Fatalf("fit after the account became software: %v, want 25", got)
		}
		hist, err := db.AccountHistory(ctx, acc.ID)
		if err != nil || len(hist) != 1 || hist[0].Field != "industry" || hist[0].From != "Retail" || hist[0].To != "Software" ||
			hist[0].ActorID == nil || *hist[0].ActorID != tm.Marketing.ID {
			t.Fatalf("account history: %+v %v", hist, err)
		}
		// A new account takes in and scores the leads of its domain.
		late := storetest.MustLead(t, db, &baton.Lead{Email: "bo@globex.example"})
		if err := db.CreateAccount(ctx, &baton.Account{Name: "Globex", Domain: "globex.example", Industry: "Software"}); err != nil {
			t.Fatal(err)
		}
		if got := fit(late.ID); got != 25 {
			t.Fatalf("fit of a lead its new account took in: %v", got)
		}
		// Many leads: the edit enqueues a job that rescores them.
		defer store.SetAccountRescoreNow(2)()
		var many []int64
		for i := range 5 {
			many = append(many, storetest.MustLead(t, db, &baton.Lead{Email: fmt.Sprintf("m%d@acme.example", i)}).ID)
		}
		retail := "Retail"
		if _, err := db.UpdateAccount(ctx, acc.ID, baton.AccountUpdate{Industry: &retail}); err != nil {
			t.Fatal(err)
		}
		if got := fit(many[0]); got != 25 {
			t.Fatalf("rescored before the job ran: %v", got)
		}
		for {
			ran, err := db.RunDueJob(ctx, "test", db.JobHandlers())
			if err != nil {
				t.Fatal(err)
			}
			if !ran {
				break
			}
		}
		for _, id := range append(many, lead.ID) {
			if got := fit(id); got != 0 {
				t.Fatalf("lead %d after the job: fit %v", id, got)
			}
		}
		// An edit that changes nothing writes nothing.
		if _, err := db.UpdateAccount(ctx, acc.ID, baton.AccountUpdate{Industry: &retail}); err != nil {
			t.Fatal(err)
		}
		if hist, _ := db.AccountHistory(ctx, acc.ID); len(hist) != 2 {
			t.Fatalf("%d history entries, want 2", len(hist))
		}
	})
}
