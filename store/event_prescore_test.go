package store_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// TestPrescoredEvents: batches scored on a reader before the writer's turn
// leave every lead scored as if its events had all been replayed, whatever
// happened between the reading and the writing: nothing, another event of
// the lead, a lead in two batches of the turn, an event stored before, a
// new policy.
func TestPrescoredEvents(t *testing.T) {
	for _, c := range []struct {
		name string
		// between runs after the batches were scored and before they are
		// stored; it may store events of its own, returned to count for
		// their leads. batch is the first batch.
		between func(t *testing.T, db *store.DB, leads []*baton.Lead, batch []baton.EventInput) []baton.EventInput
		// second makes a second batch of the turn, if any.
		second bool
		// policy replaces the test policy between, if set.
		policy string
	}{
		{name: "nothing between"},
		{name: "an event of a lead between", between: func(t *testing.T, db *store.DB, leads []*baton.Lead, batch []baton.EventInput) []baton.EventInput {
			e := event("between", leads[3].ID, baton.EventWebinarAttended, batch[0].OccurredAt)
			mustEvents(t, db, e)
			return []baton.EventInput{e}
		}},
		{name: "a lead in two batches", second: true},
		{name: "an event stored before", between: func(t *testing.T, db *store.DB, leads []*baton.Lead, batch []baton.EventInput) []baton.EventInput {
			// The batch's first event, stored alone: the batch then holds
			// it as a duplicate.
			mustEvents(t, db, batch[0])
			return nil
		}},
		{name: "a new policy", policy: strings.Replace(storetest.Policy, "points: 20", "points: 25", 1)},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := storetest.SQLite(t)
			clock := storetest.NewClock()
			db.Now = clock.Now
			publish(t, db, testPolicy)
			var leads []*baton.Lead
			for i := range 10 {
				title := ""
				if i%2 == 0 {
					title = "VP Sales" // fit 30: qualifies once engaged
				}
				leads = append(leads, storetest.MustLead(t, db, &baton.Lead{Email: fmt.Sprintf("p%d@acme.com", i), Title: title}))
			}
			clock.Advance(time.Hour)
			at := clock.Now()
			batch := func(name string, n int) []baton.EventInput {
				var in []baton.EventInput
				for i := range n {
					typ := baton.EventPricingPageView
					if i%3 == 0 {
						typ = baton.EventWebinarAttended
					}
					in = append(in, event(fmt.Sprintf("%s-%d", name, i), leads[i%len(leads)].ID, typ, at.Add(-time.Duration(i)*time.Hour)))
				}
				return in
			}
			sent := batch("b0", 120)
			first, n, err := db.Prescore(storetest.System(), slices.Clone(sent))
			if err != nil || n != len(leads) {
				t.Fatalf("prescored %d leads (%v), want %d", n, err, len(leads))
			}
			pending := []*store.PendingEvents{first}
			if c.second {
				more := batch("b1", 100)
				second, _, err := db.Prescore(storetest.System(), more)
				if err != nil {
					t.Fatal(err)
				}
				pending = append(pending, second)
				sent = append(sent, more...)
			}
			clock.Advance(time.Minute)
			if c.between != nil {
				sent = append(sent, c.between(t, db, leads, sent)...)
			}
			doc := testPolicy
			if c.policy != "" {
				doc = c.policy
				if _, err := db.PublishDocument(storetest.System(), doc); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.StoreTogether(storetest.System(), pending...); err != nil {
				t.Fatal(err)
			}
			p, err := policy.Parse([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range leads {
				var events []*baton.Event
				for _, e := range sent {
					if e.LeadID == l.ID {
						events = append(events, &baton.Event{ID: e.ID, LeadID: l.ID, Type: e.Type, OccurredAt: e.OccurredAt})
					}
				}
				got := lead(t, db, l.ID)
				want := p.ScoreWithFit(got.Score.Fit, p.Replay(events), got.Score.ScoredAt)
				if !near(got.Score.Engagement, want.Engagement) || got.Score.EngagementGrade != want.EngagementGrade {
					t.Errorf("lead %d: engagement %v (%s), want %v (%s) from its %d events", l.ID, got.Score.Engagement,
						got.Score.EngagementGrade, want.Engagement, want.EngagementGrade, len(events))
				}
				if wantStage := map[bool]baton.Stage{true: baton.StageMQL, false: baton.StageNew}[want.Qualifies]; got.Stage != wantStage {
					t.Errorf("lead %d: %s, want %s (fit %v, engagement %v)", l.ID, got.Stage, wantStage, got.Score.Fit, want.Engagement)
				}
			}
		})
	}
}
