package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// Jobs is the JobService of the database.
func (db *DB) Jobs() baton.JobService { return db }

// EnqueueJob stores a job. Called with the context of a job handler or of a
// storage method's transaction, it joins that transaction.
func (db *DB) EnqueueJob(ctx context.Context, j *baton.Job) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := tx.enqueueJob(ctx, j); err != nil {
		return err
	}
	return tx.Commit()
}

func (tx *Tx) enqueueJob(ctx context.Context, j *baton.Job) error {
	if strings.TrimSpace(j.Kind) == "" {
		return baton.FieldError("kind", "required")
	}
	if j.RunAt.IsZero() {
		j.RunAt = tx.now
	}
	payload := "{}"
	if len(j.Payload) > 0 {
		payload = string(j.Payload)
	}
	if err := tx.QueryRowContext(ctx, `INSERT INTO jobs (kind, subject, payload, run_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		j.Kind, j.Subject, payload, micros(j.RunAt)).Scan(&j.ID); err != nil {
		return fmt.Errorf("enqueue %s job: %w", j.Kind, err)
	}
	return nil
}

// RunDueJob claims the oldest due job of a handled kind and runs it in the
// claiming transaction. On PostgreSQL the claim is SELECT ... FOR UPDATE SKIP
// LOCKED, so concurrent instances take different jobs and a crashed
// instance's claim is released with its connection; on SQLite the write
// transaction (BEGIN IMMEDIATE) serialises claimers.
func (db *DB) RunDueJob(ctx context.Context, worker string, handlers map[string]baton.JobHandler) (bool, error) {
	if len(handlers) == 0 {
		return false, nil
	}
	kinds := make([]string, 0, len(handlers))
	for k := range handlers {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	ctx = baton.WithActor(ctx, baton.Actor{Name: "system", Role: baton.RoleSystem, Via: "job"})
	tx, err := db.begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var w where
	w.add("done_at IS NULL")
	w.add("run_at <= ?", micros(tx.now))
	in := make([]string, len(kinds))
	for i, k := range kinds {
		w.args = append(w.args, k)
		in[i] = fmt.Sprintf("$%d", len(w.args))
	}
	w.conds = append(w.conds, "kind IN ("+strings.Join(in, ",")+")")
	q := `SELECT id, kind, subject, payload, run_at, attempts, last_error FROM jobs WHERE ` + w.String() + ` ORDER BY run_at, id LIMIT 1`
	if db.backend == Postgres {
		q += ` FOR UPDATE SKIP LOCKED`
	}
	var j baton.Job
	var payload string
	var runAt int64
	err = tx.QueryRowContext(ctx, q, w.args...).Scan(&j.ID, &j.Kind, &j.Subject, &payload, &runAt, &j.Attempts, &j.LastError)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("claim job: %w", err)
	}
	j.Payload, j.RunAt = []byte(payload), fromMicros(runAt)
	j.Attempts++
	hctx := context.WithValue(baton.WithActor(ctx, baton.Actor{Name: "system", Role: baton.RoleSystem, Via: "job " + j.Kind}), txKey{}, tx)
	if herr := runHandler(hctx, handlers[j.Kind], &j); herr != nil {
		// Roll the effect back, then record the failure in a transaction of its own.
		tx.Rollback()
		return true, db.failJob(ctx, &j, worker, herr)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE jobs SET done_at = $1, attempts = $2, lease_owner = $3, last_error = '' WHERE id = $4`,
		micros(tx.now), j.Attempts, worker, j.ID); err != nil {
		return true, fmt.Errorf("finish job %d: %w", j.ID, err)
	}
	return true, tx.Commit()
}

// runHandler runs a job handler, turning a panic into an error so that one bad
// job cannot take the worker down.
func runHandler(ctx context.Context, h baton.JobHandler, j *baton.Job) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return h(ctx, j)
}

// failJob records a failed attempt and schedules the next with capped
// exponential backoff and jitter, or marks the job dead after MaxJobAttempts.
func (db *DB) failJob(ctx context.Context, j *baton.Job, worker string, cause error) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	msg := cause.Error()
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	if j.Attempts >= baton.MaxJobAttempts {
		_, err = tx.ExecContext(ctx, `UPDATE jobs SET attempts = $1, last_error = $2, lease_owner = $3, done_at = $4 WHERE id = $5`,
			j.Attempts, "dead: "+msg, worker, micros(tx.now), j.ID)
	} else {
		backoff := min(time.Second<<j.Attempts, time.Hour)
		backoff += time.Duration(rand.Int64N(int64(backoff/4) + 1))
		_, err = tx.ExecContext(ctx, `UPDATE jobs SET attempts = $1, last_error = $2, lease_owner = $3, run_at = $4 WHERE id = $5`,
			j.Attempts, msg, worker, micros(tx.now.Add(backoff)), j.ID)
	}
	if err != nil {
		return fmt.Errorf("record failure of job %d: %w", j.ID, err)
	}
	return tx.Commit()
}

// JobStats counts jobs by state.
func (db *DB) JobStats(ctx context.Context) (baton.JobStats, error) {
	var s baton.JobStats
	now := micros(db.Now())
	err := db.read.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN done_at IS NULL AND run_at <= $1 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN done_at IS NULL AND run_at > $1 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN done_at IS NOT NULL AND last_error NOT LIKE 'dead:%' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN done_at IS NOT NULL AND last_error LIKE 'dead:%' THEN 1 ELSE 0 END), 0)
		FROM jobs`, now).Scan(&s.Due, &s.Waiting, &s.Done, &s.Dead)
	if err != nil {
		return s, fmt.Errorf("job stats: %w", err)
	}
	return s, nil
}

// ProbeJob is the kind of job that `baton jobs probe` enqueues to check that
// the instances' workers run each job exactly once: its effect is one row in
// job_probes, written in the job's transaction.
const ProbeJob = "probe"

// ProbeHandler is the handler of probe jobs. A probe job's payload may hold
// {"delay_ms": N} to make it take a while, so that a probe spreads over the
// running instances.
func (db *DB) ProbeHandler() baton.JobHandler {
	return func(ctx context.Context, j *baton.Job) error {
		tx, err := db.begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		var p struct {
			DelayMS int `json:"delay_ms"`
		}
		if len(j.Payload) > 0 {
			if err := json.Unmarshal(j.Payload, &p); err != nil {
				return fmt.Errorf("probe job %d: payload: %w", j.ID, err)
			}
		}
		if p.DelayMS > 0 {
			time.Sleep(time.Duration(min(p.DelayMS, 10000)) * time.Millisecond)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO job_probes (job_id, ran_at, worker) VALUES ($1, $2, $3)`, j.ID, micros(tx.now), j.Subject); err != nil {
			return fmt.Errorf("probe job %d: %w", j.ID, err)
		}
		return tx.Commit()
	}
}

// ProbeReport counts how often each probe job's effect happened.
type ProbeReport struct {
	Jobs, Once, Never, More int
	Workers                 map[string]int
}

// Probe returns how the probe jobs ran.
func (db *DB) Probe(ctx context.Context) (ProbeReport, error) {
	r := ProbeReport{Workers: map[string]int{}}
	rows, err := db.read.QueryContext(ctx, `SELECT j.id, COUNT(p.job_id) FROM jobs j LEFT JOIN job_probes p ON p.job_id = j.id WHERE j.kind = $1 GROUP BY j.id`, ProbeJob)
	if err != nil {
		return r, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return r, err
		}
		r.Jobs++
		switch {
		case n == 0:
			r.Never++
		case n == 1:
			r.Once++
		default:
			r.More++
		}
	}
	if err := rows.Err(); err != nil {
		return r, err
	}
	wrows, err := db.read.QueryContext(ctx, `SELECT j.lease_owner, COUNT(*) FROM jobs j WHERE j.kind = $1 AND j.done_at IS NOT NULL GROUP BY j.lease_owner`, ProbeJob)
	if err != nil {
		return r, err
	}
	defer wrows.Close()
	for wrows.Next() {
		var w string
		var n int
		if err := wrows.Scan(&w, &n); err != nil {
			return r, err
		}
		r.Workers[w] = n
	}
	return r, wrows.Err()
}
