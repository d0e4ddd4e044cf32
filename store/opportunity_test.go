package store_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// dealWorld is a seeded team with a published policy and an opportunity
// owned by the account executive, made from an SQL.
type dealWorld struct {
	db    *store.DB
	clock *storetest.Clock
	tm    *storetest.Team
	lead  *baton.Lead
	opp   *baton.Opportunity
}

func newDealWorld(t *testing.T, open func(testing.TB) *store.DB) *dealWorld {
	t.Helper()
	db := open(t)
	clock := storetest.NewClock()
	db.Now = clock.Now
	w := &dealWorld{db: db, clock: clock, tm: storetest.SeedTeam(t, db)}
	if _, err := db.PublishDocument(storetest.System(), handoffPolicy); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"GTX Basic", "GTX Pro"} {
		if err := db.CreateProduct(storetest.System(), &baton.Product{Name: name, Price: 1000}); err != nil {
			t.Fatal(err)
		}
	}
	w.lead = storetest.MustLead(t, db, &baton.Lead{Email: "deal@initech.test", Name: "Dee Deal", Stage: baton.StageSQL, OwnerID: &w.tm.AE.ID})
	close := clock.Now().AddDate(0, 1, 0).Truncate(24 * time.Hour)
	var err error
	w.opp, _, err = db.Convert(storetest.As(w.tm.AE), w.lead.ID, baton.ConvertInput{Name: "Initech deal", Amount: 1000, Product: "GTX Basic",
		ExpectedClose: &close, IdempotencyKey: "deal-world"})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestUpdateOpportunity: the owner of the deal's lead, their manager and an
// admin change it, each change in the lead's history; others are refused
// as for the lead's moves; a past close, an unknown product and a closed
// deal are refused.
func TestUpdateOpportunity(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		w := newDealWorld(t, open)
		tm := w.tm
		if w.opp.ExpectedClose == nil || w.opp.Product != "GTX Basic" {
			t.Fatalf("converted: %+v", w.opp)
		}
		opps, _, err := w.db.FindOpportunities(storetest.As(tm.AE), baton.OpportunityFilter{LeadID: &w.lead.ID})
		if err != nil || len(opps) != 1 || opps[0].ExpectedClose == nil || !opps[0].ExpectedClose.Equal(*w.opp.ExpectedClose) {
			t.Fatalf("found %+v %v", opps, err)
		}
		amount, product, name := 2500.0, "GTX Pro", " Initech, bigger "
		close := w.clock.Now().AddDate(0, 2, 0)
		o, err := w.db.UpdateOpportunity(storetest.As(tm.AE), w.opp.ID, baton.OpportunityUpdate{Amount: &amount, Product: &product, Name: &name, ExpectedClose: &close})
		if err != nil {
			t.Fatal(err)
		}
		if o.Amount != 2500 || o.Product != "GTX Pro" || o.Name != "Initech, bigger" || o.ExpectedClose.Format("2006-01-02") != close.Format("2006-01-02") {
			t.Fatalf("updated %+v", o)
		}
		hist, err := w.db.History(storetest.System(), w.lead.ID)
		if err != nil {
			t.Fatal(err)
		}
		var changes []string
		for _, h := range hist {
			if strings.HasPrefix(h.Field, "opportunity.") {
				changes = append(changes, h.Field+" "+h.From+">"+h.To+" by "+h.ActorName)
			}
		}
		want := []string{"opportunity.name Initech deal>Initech, bigger by Alex Ae", "opportunity.amount 1000>2500 by Alex Ae",
			"opportunity.product GTX Basic>GTX Pro by Alex Ae",
			"opportunity.expected_close " + w.opp.ExpectedClose.Format("2006-01-02") + ">" + close.Format("2006-01-02") + " by Alex Ae"}
		if !slices.Equal(changes, want) {
			t.Fatalf("history %v, want %v", changes, want)
		}
		// Who may: the AE's manager and an admin; not marketing (who reads
		// it), not another team's manager or a rep (who do not).
		for _, c := range []struct {
			who  *baton.User
			code string
		}{{tm.Manager1, ""}, {tm.Admin, ""}, {tm.Marketing, baton.EFORBIDDEN}, {tm.Manager2, baton.ENOTFOUND}, {tm.SDR1, baton.ENOTFOUND}} {
			amount := 3000.0
			_, err := w.db.UpdateOpportunity(storetest.As(c.who), w.opp.ID, baton.OpportunityUpdate{Amount: &amount})
			if baton.ErrorCode(err) != c.code {
				t.Errorf("%s: %v, want %q", c.who.Email, err, c.code)
			}
		}
		// Refusals name the field.
		past := w.clock.Now().AddDate(0, 0, -1)
		unknown := "Teleporter"
		for _, c := range []struct {
			u     baton.OpportunityUpdate
			field string
		}{{baton.OpportunityUpdate{ExpectedClose: &past}, "expected_close"}, {baton.OpportunityUpdate{Product: &unknown}, "product"}} {
			if _, err := w.db.UpdateOpportunity(storetest.As(tm.AE), w.opp.ID, c.u); baton.ErrorField(err) != c.field {
				t.Errorf("want a refusal of %s, got %v", c.field, err)
			}
		}
		// The deal follows its lead: reassigned to another AE, it is theirs
		// to read and change.
		ava := &baton.User{Email: "ava.second@example.com", Name: "Ava Second", Role: baton.RoleAE, Team: "East", ManagerID: &tm.Manager1.ID}
		if err := w.db.CreateUser(storetest.System(), ava); err != nil {
			t.Fatal(err)
		}
		if _, err := w.db.Assign(storetest.As(tm.Manager1), w.lead.ID, ava.ID, "Alex is away"); err != nil {
			t.Fatal(err)
		}
		if opps, _, err := w.db.FindOpportunities(storetest.As(ava), baton.OpportunityFilter{LeadID: &w.lead.ID}); err != nil || len(opps) != 1 {
			t.Fatalf("the new owner's deals: %v %v", opps, err)
		}
		if _, err := w.db.UpdateOpportunity(storetest.As(ava), w.opp.ID, baton.OpportunityUpdate{Name: &product}); err != nil {
			t.Fatalf("the new owner edits: %v", err)
		}
		// Closed, it no longer changes.
		if _, err := w.db.CloseLead(storetest.As(ava), w.lead.ID, baton.CloseInput{Won: true, Value: 2500}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.db.UpdateOpportunity(storetest.As(ava), w.opp.ID, baton.OpportunityUpdate{Amount: &amount}); baton.ErrorCode(err) != baton.ECONFLICT {
			t.Fatalf("edit a won deal: %v", err)
		}
		if _, err := w.db.UpdateOpportunity(storetest.As(tm.Admin), 999999, baton.OpportunityUpdate{Amount: &amount}); baton.ErrorCode(err) != baton.ENOTFOUND {
			t.Fatalf("edit no deal: %v", err)
		}
	})
}

// TestClaimable: a development rep sees the unassigned MQLs and the leads
// long in nurture that engage again, the longest waiting first, each one
// Claim would take; nobody else may list them.
func TestClaimable(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		tm := storetest.SeedTeam(t, db)
		if _, err := db.PublishDocument(storetest.System(), handoffPolicy+"  pull: {unassigned: true, nurture_after: 30d}\n"); err != nil {
			t.Fatal(err)
		}
		mk := func(email string, stage baton.Stage, owner *baton.User) *baton.Lead {
			l := &baton.Lead{Email: email, Stage: stage}
			if owner != nil {
				l.OwnerID = &owner.ID
			}
			return storetest.MustLead(t, db, l)
		}
		old := mk("old@pool.test", baton.StageRecycled, nil)
		mk("quiet@pool.test", baton.StageRecycled, nil)
		clock.Advance(20 * 24 * time.Hour)
		fresh := mk("fresh@pool.test", baton.StageRecycled, nil)
		mql := mk("mql@pool.test", baton.StageMQL, nil)
		mk("owned@pool.test", baton.StageMQL, tm.SDR2)
		clock.Advance(15 * 24 * time.Hour)
		for _, l := range []*baton.Lead{old, fresh} {
			if _, err := db.RecordEvents(storetest.System(), []baton.EventInput{{ID: "e-" + l.Email, LeadID: l.ID, Type: baton.EventPageView, OccurredAt: clock.Now().Add(-time.Hour)}}); err != nil {
				t.Fatal(err)
			}
		}
		got, more, err := db.Claimable(storetest.As(tm.SDR1), 10)
		if err != nil {
			t.Fatal(err)
		}
		var emails []string
		for _, l := range got {
			emails = append(emails, l.Email)
		}
		// The MQL first, then the recycled lead past 30 days that engaged;
		// not the quiet one, not the recent one, not the owned MQL.
		if want := []string{mql.Email, old.Email}; !slices.Equal(emails, want) || more {
			t.Fatalf("claimable %v (more %v), want %v", emails, more, want)
		}
		if got, more, err := db.Claimable(storetest.As(tm.SDR1), 1); err != nil || len(got) != 1 || !more {
			t.Fatalf("one of two: %d more %v %v", len(got), more, err)
		}
		// Each is one Claim takes.
		for _, l := range []*baton.Lead{mql, old} {
			if _, err := db.Claim(storetest.As(tm.SDR1), l.ID); err != nil {
				t.Fatalf("claim %s: %v", l.Email, err)
			}
		}
		if got, _, _ := db.Claimable(storetest.As(tm.SDR2), 10); len(got) != 0 {
			t.Fatalf("claimed leads still listed: %d", len(got))
		}
		for _, u := range []*baton.User{tm.AE, tm.Manager1, tm.Marketing, tm.Admin} {
			if _, _, err := db.Claimable(storetest.As(u), 10); baton.ErrorCode(err) != baton.EFORBIDDEN {
				t.Errorf("%s lists the pool: %v", u.Role, err)
			}
		}
	})
}
