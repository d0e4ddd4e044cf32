// Package worker runs background jobs: each Baton instance runs a Worker, and
// the database makes sure that each job runs once however many there are.
package worker

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/batonhq/baton"
)

// Worker polls for due jobs and runs them until its context ends.
type Worker struct {
	Jobs     baton.JobService
	Name     string // recorded on each job it runs
	Handlers map[string]baton.JobHandler
	// Poll is how long to wait when no job is due (default 1 s).
	Poll time.Duration
	// Concurrency is how many jobs run at once (default 1).
	Concurrency int
	Logger      *slog.Logger
}

// Run runs jobs until ctx is done. Errors are logged and retried after Poll;
// a failing job is rescheduled by storage with backoff.
func (w *Worker) Run(ctx context.Context) {
	poll := w.Poll
	if poll <= 0 {
		poll = time.Second
	}
	n := max(w.Concurrency, 1)
	logger := w.Logger
	if logger == nil {
		logger = slog.Default()
	}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			timer := time.NewTimer(0)
			defer timer.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-timer.C:
				}
				ran, err := w.Jobs.RunDueJob(ctx, w.Name, w.Handlers)
				if err != nil && ctx.Err() == nil {
					logger.Error("background job", "worker", w.Name, "err", err)
				}
				if ran && err == nil {
					timer.Reset(0)
				} else {
					timer.Reset(poll)
				}
			}
		}()
	}
	wg.Wait()
}
