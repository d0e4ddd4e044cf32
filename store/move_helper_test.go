package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// plausible is a move by a rule with what its needs ask for: the actor who
// may make it (the system for the system's moves, else the admin) and a
// change carrying a reason, BANT, an opportunity, a close or an assignee as
// the rule needs. ok is false when the lead cannot take the rule now (an
// owner rule on an unowned lead, no assignee of the role but its owner).
func plausible(r baton.Rule, l *baton.Lead, tm *storetest.Team, reason string) (ctx context.Context, c baton.StageChange, ok bool) {
	ctx = storetest.As(tm.Admin)
	if len(r.Who.Roles) == 0 || r.Verb == baton.VerbClaim {
		return nil, c, false
	}
	if r.Who.Owner && !r.Who.Pool && l.OwnerID == nil {
		return nil, c, false
	}
	c = baton.StageChange{Verb: r.Verb, To: r.To, Reason: reason}
	for _, n := range r.Needs {
		switch n {
		case baton.NeedReason, baton.NeedLostReason:
			if c.Reason == "" {
				c.Reason = "test"
			}
		case baton.NeedRejection:
			c.Reason = baton.ReasonNoBudget
			if r.To == baton.StageDisqualified {
				c.Reason = baton.ReasonNoFit
			}
		case baton.NeedBANT:
			amount := 12000.0
			c.BANT = &baton.BANT{BudgetAmount: &amount, BudgetCurrency: "EUR", Authority: baton.AuthorityDecisionMaker, Need: "reporting", Timing: baton.TimingThisQuarter}
			if r.To == baton.StageRecycled {
				later := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
				c.BANT = &baton.BANT{Timing: baton.TimingLater, TimingDate: &later}
			}
		case baton.NeedOpportunity:
			c.Opportunity = &baton.ConvertInput{Name: "Deal", Amount: 5000}
		case baton.NeedCloseValue:
			c.Close = &baton.CloseInput{Won: true, Value: 5000}
		case baton.NeedAssignee:
			who := []*baton.User{tm.SDR1, tm.SDR2}
			if r.From == baton.StageSQL || r.From == baton.StageOpportunity {
				who = []*baton.User{tm.AE}
			}
			for _, u := range who {
				if l.OwnerID == nil || *l.OwnerID != u.ID {
					c.UserID = u.ID
				}
			}
			if c.UserID == 0 {
				return nil, c, false
			}
		case baton.NeedUnowned:
			if l.OwnerID != nil {
				return nil, c, false
			}
		}
	}
	return ctx, c, true
}

// moveTo moves a lead to a stage by the first rule from its stage that the
// admin (or, for the policy's promotion, the system) can make with
// plausible needs.
func moveTo(t testing.TB, db *store.DB, tm *storetest.Team, id int64, to baton.Stage, reason string) *baton.Lead {
	t.Helper()
	l, err := db.FindLeadByID(storetest.System(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range baton.Rules {
		if r.From != l.Stage || r.To != to {
			continue
		}
		ctx, c, ok := plausible(r, l, tm, reason)
		if !ok {
			continue
		}
		got, err := db.ChangeStage(ctx, id, c)
		if err != nil {
			t.Fatalf("lead %d %s %s to %s: %v", id, r.Verb, l.Stage, to, err)
		}
		return got
	}
	t.Fatalf("lead %d: no rule takes a %s lead to %s here", id, l.Stage, to)
	return nil
}
