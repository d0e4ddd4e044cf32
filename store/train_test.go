package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// TestTrainingIsPointInTime plants the leak that behaviour after the outcome
// was decided makes: every lead visits the site three times when it comes;
// the ones sales wins stop there (sales handled them), the ones nobody
// called (their outcome, "not converted", imported with them) go on
// visiting for three months. Counted to today, visits would tell the
// classes apart perfectly, backwards. Counted as of each outcome's clock
// start, they are the same for all, and the model learns nothing from them.
func TestTrainingIsPointInTime(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		tm := storetest.SeedTeam(t, db)
		start := clock.Now()
		const n = 160
		var negatives []int64
		for i := range n {
			clock.Set(start.Add(time.Duration(i) * 6 * time.Hour))
			won := i%2 == 0
			l := &baton.Lead{Email: fmt.Sprintf("lead%d@example.com", i), Attrs: baton.Attrs{"Noise": float64(i * 7919 % 13)}}
			if !won {
				l.Attrs[store.OutcomeAttribute] = 0.0
			}
			storetest.MustLead(t, db, l)
			at := clock.Now()
			mustEvents(t, db, event(fmt.Sprint(i, "-a"), l.ID, baton.EventPageView, at),
				event(fmt.Sprint(i, "-b"), l.ID, baton.EventPageView, at), event(fmt.Sprint(i, "-c"), l.ID, baton.EventPageView, at))
			if won {
				clock.Advance(time.Hour)
				for _, to := range []baton.Stage{baton.StageMQL, baton.StageSAL, baton.StageSQL, baton.StageOpportunity, baton.StageWon} {
					moveTo(t, db, tm, l.ID, to, "bought")
				}
			} else {
				negatives = append(negatives, l.ID)
			}
		}
		// The leads nobody called go on browsing, long after their import.
		var later []baton.EventInput
		for _, id := range negatives {
			for d := range 30 {
				later = append(later, event(fmt.Sprint(id, "-later-", d), id, baton.EventPageView, clock.Now().Add(time.Hour+time.Duration(d)*72*time.Hour)))
			}
		}
		clock.Advance(100 * 24 * time.Hour)
		for len(later) > 0 {
			k := min(len(later), baton.MaxEventBatch)
			mustEvents(t, db, later[:k]...)
			later = later[k:]
		}
		set, err := db.TrainingSet(storetest.System())
		if err != nil {
			t.Fatal(err)
		}
		if len(set) != n {
			t.Fatalf("%d examples, want %d", len(set), n)
		}
		for _, e := range set {
			if got := e.Row["events.page_view"]; got != "3" {
				t.Fatalf("converted %v: page views %q as of %s, want the 3 before the outcome's clock started", e.Converted, got, e.At)
			}
			if _, ok := e.Row[store.OutcomeAttribute]; ok {
				t.Fatal("the outcome is a feature")
			}
		}
		rep, err := db.TrainModel(storetest.As(tm.Admin), 0.25, 1, false)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("held-out AUC %.3f on %d", rep.New.AUC, rep.Holdout)
		if rep.New.AUC > 0.75 {
			t.Errorf("held-out AUC %.3f: the model learnt the leak", rep.New.AUC)
		}
	})
}
