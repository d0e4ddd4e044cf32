package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

func TestJobsRunOnceAndJoinTheTransaction(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		ctx := storetest.System()
		l := storetest.MustLead(t, db, &baton.Lead{Email: "job@x.com"})
		for i := 0; i < 3; i++ {
			if err := db.EnqueueJob(ctx, &baton.Job{Kind: "touch", Subject: fmt.Sprint(l.ID), RunAt: clock.Now().Add(time.Duration(i) * time.Minute)}); err != nil {
				t.Fatal(err)
			}
		}
		fail := true
		handlers := map[string]baton.JobHandler{"touch": func(ctx context.Context, j *baton.Job) error {
			// The handler's storage calls join the job's transaction.
			if _, err := db.UpdateLead(ctx, l.ID, baton.LeadUpdate{Attrs: baton.Attrs{"touched": float64(j.ID)}}); err != nil {
				return err
			}
			if fail {
				return errors.New("receiver down")
			}
			return nil
		}}
		ran, err := db.RunDueJob(ctx, "w1", handlers)
		if !ran || err != nil {
			t.Fatalf("ran=%v err=%v", ran, err)
		}
		// The failed job's effect was rolled back and the job rescheduled.
		got, _ := db.FindLeadByID(ctx, l.ID)
		if got.Attrs["touched"] != nil || got.Version != 1 {
			t.Fatalf("a failed job's effect was kept: %+v", got)
		}
		if ran, _ := db.RunDueJob(ctx, "w1", handlers); ran {
			t.Fatal("a job ran before it was due")
		}
		fail = false
		clock.Advance(time.Hour)
		for i := 0; i < 3; i++ {
			if ran, err := db.RunDueJob(ctx, "w1", handlers); !ran || err != nil {
				t.Fatalf("job %d: ran=%v err=%v", i, ran, err)
			}
		}
		if ran, _ := db.RunDueJob(ctx, "w1", handlers); ran {
			t.Fatal("a job ran twice")
		}
		got, _ = db.FindLeadByID(ctx, l.ID)
		if got.Version != 4 {
			t.Fatalf("lead version %d, want 4 (three effects)", got.Version)
		}
		stats, err := db.JobStats(ctx)
		if err != nil || stats.Done != 3 || stats.Due != 0 {
			t.Fatalf("stats %+v %v", stats, err)
		}
		// Kinds without a handler are left alone; a panicking handler is an error, not a crash.
		db.EnqueueJob(ctx, &baton.Job{Kind: "other"})
		db.EnqueueJob(ctx, &baton.Job{Kind: "boom"})
		ran, err = db.RunDueJob(ctx, "w1", map[string]baton.JobHandler{"boom": func(context.Context, *baton.Job) error { panic("bad job") }})
		if !ran || err != nil {
			t.Fatalf("panicking job: ran=%v err=%v", ran, err)
		}
	})
}

// TestJobsConcurrentWorkers runs many workers on one database: every job's
// effect happens exactly once.
func TestJobsConcurrentWorkers(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := storetest.System()
		const jobs = 300
		for i := 0; i < jobs; i++ {
			if err := db.EnqueueJob(ctx, &baton.Job{Kind: store.ProbeJob}); err != nil {
				t.Fatal(err)
			}
		}
		handlers := map[string]baton.JobHandler{store.ProbeJob: db.ProbeHandler()}
		var wg sync.WaitGroup
		var total atomic.Int64
		for w := 0; w < 6; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for {
					ran, err := db.RunDueJob(ctx, fmt.Sprint("w", w), handlers)
					if err != nil {
						t.Error(err)
						return
					}
					if !ran {
						return
					}
					total.Add(1)
				}
			}(w)
		}
		wg.Wait()
		r, err := db.Probe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.Jobs != jobs || r.Once != jobs || total.Load() != jobs {
			t.Fatalf("probe %+v, %d runs; want each of %d jobs once", r, total.Load(), jobs)
		}
	})
}
