package worker_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
	"github.com/batonhq/baton/worker"
)

func TestWorkerRunsDueJobsAndStops(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := storetest.System()
		for i := 0; i < 20; i++ {
			if err := db.EnqueueJob(ctx, &baton.Job{Kind: "count"}); err != nil {
				t.Fatal(err)
			}
		}
		// One job is not due for an hour: the worker must leave it.
		db.EnqueueJob(ctx, &baton.Job{Kind: "count", RunAt: time.Now().Add(time.Hour)})
		var n atomic.Int32
		wctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		w := &worker.Worker{Jobs: db, Name: "t", Poll: 10 * time.Millisecond, Concurrency: 3,
			Handlers: map[string]baton.JobHandler{"count": func(context.Context, *baton.Job) error { n.Add(1); return nil }}}
		go func() { w.Run(wctx); close(done) }()
		// Stop once the 20 jobs are marked done, not once their handlers
		// ran: cancelling between a handler and its commit rolls the run
		// back (the job runs again later), which is not what this checks.
		// The readiness signal is the job table; go test's -timeout bounds it.
		for {
			if s, err := db.JobStats(ctx); err == nil && s.Done == 20 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		<-done // the worker stops when its context ends
		if got := n.Load(); got != 20 {
			t.Fatalf("ran %d jobs, want 20", got)
		}
		if s, _ := db.JobStats(ctx); s.Waiting != 1 || s.Done != 20 {
			t.Fatalf("stats %+v", s)
		}
	})
}
