package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// TestStats: the numbers of the metrics follow what happens: MQLs, events
// by result, open and past-due handoffs, breaches, the SLA met ratio, the
// job backlog, the outbox and the rescore; a transaction rolled back counts
// nothing.
func TestStats(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		sys := storetest.System()
		tm := storetest.SeedTeam(t, db)
		stats := func() *baton.Stats {
			t.Helper()
			s, err := db.Stats(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		s := stats()
		if s.Counts.MQLsPromoted != 0 || s.OpenHandoffs[baton.HandoffSDR] != 0 || s.Rescoring || s.RescoreProgress != 1 || s.PolicyVersion != 0 {
			t.Fatalf("a new database: %+v", s)
		}
		for _, l := range []*baton.Lead{{Email: "a@one.test"}, {Email: "b@two.test"}, {Email: "c@three.test"}} {
			storetest.MustLead(t, db, l)
		}
		if _, err := db.PublishDocument(sys, handoffPolicy); err != nil {
			t.Fatal(err)
		}
		if s = stats(); !s.Rescoring || s.RescoreProgress != 0 || s.PolicyVersion != 1 || s.JobsDue[store.RescoreJob] != 1 {
			t.Fatalf("after a publication: rescoring %v %.2f, policy %d, jobs due %v", s.Rescoring, s.RescoreProgress, s.PolicyVersion, s.JobsDue)
		}
		handlers := db.JobHandlers()
		runDue := func() {
			t.Helper()
			for {
				ran, err := db.RunDueJob(sys, "t", handlers)
				if err != nil {
					t.Fatal(err)
				}
				if !ran {
					return
				}
			}
		}
		runDue()
		if s = stats(); s.Rescoring || s.RescoreProgress != 1 || len(s.JobsDue) != 0 {
			t.Fatalf("after the rescore: %v %.2f, jobs due %v", s.Rescoring, s.RescoreProgress, s.JobsDue)
		}
		hook := &baton.Webhook{URL: "https://hooks.example.com/in", Events: []string{"lead.mql"}}
		if err := db.CreateWebhook(sys, hook); err != nil {
			t.Fatal(err)
		}

		// Two MQLs by hand; a third rolled back counts nothing.
		leads, _, _ := db.FindLeads(sys, baton.LeadFilter{})
		promote := func(ctx context.Context, l *baton.Lead) error {
			_, err := db.ChangeStage(ctx, l.ID, baton.StageChange{To: baton.StageMQL, Reason: "asked for a call"})
			return err
		}
		for _, l := range leads[:2] {
			if err := promote(storetest.As(tm.Marketing), l); err != nil {
				t.Fatal(err)
			}
		}
		no := errors.New("changed my mind")
		if err := db.InTx(storetest.As(tm.Marketing), func(ctx context.Context) error {
			if err := promote(ctx, leads[2]); err != nil {
				return err
			}
			return no
		}); !errors.Is(err, no) {
			t.Fatalf("the rolled back promotion: %v", err)
		}
		s = stats()
		if s.Counts.MQLsPromoted != 2 || s.OpenHandoffs[baton.HandoffSDR] != 2 || s.OpenHandoffs[baton.HandoffAE] != 0 || s.OutboxPending["webhook"] != 2 {
			t.Fatalf("after two MQLs: promoted %d, open %v, outbox %v", s.Counts.MQLsPromoted, s.OpenHandoffs, s.OutboxPending)
		}

		// Events: one stored, one again, one for nobody.
		in := []baton.EventInput{{ID: "e1", LeadID: leads[0].ID, Type: baton.EventPageView, OccurredAt: clock.Now()},
			{ID: "e2", LeadID: 99999, Type: baton.EventPageView, OccurredAt: clock.Now()}}
		for range 2 {
			if _, err := db.RecordEvents(sys, in); err != nil {
				t.Fatal(err)
			}
		}
		if e := stats().Counts.Events; e["created"] != 1 || e["duplicate"] != 1 || e["rejected"] != 2 {
			t.Fatalf("events: %v", e)
		}

		// One accepted in time; the other breaches. (Only the open one's
		// breach job is due: the answered one's was cancelled with it.)
		mql, _ := db.FindLeadByID(sys, leads[0].ID)
		owner := map[int64]*baton.User{tm.SDR1.ID: tm.SDR1, tm.SDR2.ID: tm.SDR2}[*mql.OwnerID]
		if _, err := db.Accept(storetest.As(owner), mql.ID); err != nil {
			t.Fatal(err)
		}
		clock.Advance(5 * time.Hour)
		s = stats()
		if s.OpenHandoffs[baton.HandoffSDR] != 1 || s.PastDueHandoffs[baton.HandoffSDR] != 1 || s.SLADecided[baton.HandoffSDR] != 1 ||
			s.SLAMet[baton.HandoffSDR] != 1 || s.JobsDue[store.BreachJob] != 1 || s.JobsOldestDue[store.BreachJob] != time.Hour {
			t.Fatalf("past the deadline: open %v, past due %v, SLA %v of %v, jobs %v %v", s.OpenHandoffs, s.PastDueHandoffs, s.SLAMet, s.SLADecided, s.JobsDue, s.JobsOldestDue)
		}
		runDue()
		s = stats()
		if s.Counts.Breaches[baton.HandoffSDR] != 1 || s.PastDueHandoffs[baton.HandoffSDR] != 0 || s.SLADecided[baton.HandoffSDR] != 2 || s.SLAMet[baton.HandoffSDR] != 1 {
			t.Fatalf("after the breach: breaches %v, past due %v, SLA %v of %v", s.Counts.Breaches, s.PastDueHandoffs, s.SLAMet, s.SLADecided)
		}

		// A claim of another channel leaves them.
		if other, err := db.ClaimOutboxOf(sys, "slack", "t", 10, time.Minute); err != nil || len(other) != 0 {
			t.Fatalf("claim of slack messages: %+v %v", other, err)
		}
		// The outbox: one delivered, one refused for good.
		msgs, err := db.ClaimOutboxOf(sys, "webhook", "t", 10, time.Minute)
		if err != nil || len(msgs) != 2 {
			t.Fatalf("claim: %d %v", len(msgs), err)
		}
		if err := db.FinishOutbox(sys, msgs[0], baton.DeliveryResult{OK: true, Status: 204}); err != nil {
			t.Fatal(err)
		}
		if err := db.FinishOutbox(sys, msgs[1], baton.DeliveryResult{Status: 410, Error: "HTTP 410 Gone"}); err != nil {
			t.Fatal(err)
		}
		s = stats()
		d := s.Counts.Deliveries
		if s.OutboxPending["webhook"] != 0 || s.OutboxDead["webhook"] != 1 || d[baton.DeliveryCount{Channel: "webhook", Result: "delivered"}] != 1 ||
			d[baton.DeliveryCount{Channel: "webhook", Result: "dead"}] != 1 {
			t.Fatalf("the outbox: pending %v, dead %v, deliveries %v", s.OutboxPending, s.OutboxDead, d)
		}
	})
}
