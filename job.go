package baton

import (
	"context"
	"encoding/json"
	"time"
)

// Job is one piece of background work, due at RunAt: an SLA deadline, a
// reminder, a notification to deliver, a rescore. Jobs live in the database so
// that they survive restarts and so that any number of Baton instances share
// them: each job runs exactly once.
type Job struct {
	ID        int64           `json:"id"`
	Kind      string          `json:"kind"`
	Subject   string          `json:"subject,omitempty"`
	Payload   json.RawMessage `json:"payload,omitempty"`
	RunAt     time.Time       `json:"run_at"`
	Attempts  int             `json:"attempts"`
	LastError string          `json:"last_error,omitempty"`
}

// JobHandler does the work of one job. Its ctx carries the transaction that
// claimed the job: storage calls made with it join that transaction, so the
// effect and the job's completion commit together or not at all. Returning
// an error rolls the effect back and retries the job later.
type JobHandler func(ctx context.Context, j *Job) error

// JobStats counts jobs by state.
type JobStats struct {
	Due     int `json:"due"`
	Waiting int `json:"waiting"`
	Done    int `json:"done"`
	Dead    int `json:"dead"`
}

// MaxJobAttempts is how often a failing job is tried before it is marked dead.
const MaxJobAttempts = 10

// JobService stores and runs background jobs.
type JobService interface {
	// EnqueueJob stores a job to run at j.RunAt (now if zero).
	EnqueueJob(ctx context.Context, j *Job) error
	// RunDueJob claims one due job of a kind in handlers, runs it, and marks
	// it done, all in one transaction; it reports whether there was one.
	// Claims skip jobs that another instance holds, so N instances calling it
	// in a loop run each job exactly once.
	RunDueJob(ctx context.Context, worker string, handlers map[string]JobHandler) (bool, error)
	JobStats(ctx context.Context) (JobStats, error)
}
