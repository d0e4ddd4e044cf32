package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/batonhq/baton"
)

var _ baton.StatsService = (*DB)(nil)

// counters are what this DB counted since it was opened (baton.Counts). A
// transaction tallies what it does in its pending work and adds it here
// only once it has committed, so that a rolled back change counts nothing.
type counters struct {
	mu sync.Mutex
	c  baton.Counts
}

// tally is a transaction's part of the counters.
type tally = baton.Counts

// count adds to the transaction's tally.
func (tx *Tx) count(f func(*tally)) {
	if tx.pending == nil {
		return
	}
	if tx.pending.tally == nil {
		tx.pending.tally = &tally{}
	}
	f(tx.pending.tally)
}

// add adds a committed transaction's tally.
func (c *counters) add(t *tally) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.c.MQLsPromoted += t.MQLsPromoted
	addTo(&c.c.Events, t.Events)
	addTo(&c.c.Breaches, t.Breaches)
	addTo(&c.c.Deliveries, t.Deliveries)
}

func addTo[K comparable](dst *map[K]int64, src map[K]int64) {
	if len(src) == 0 {
		return
	}
	if *dst == nil {
		*dst = map[K]int64{}
	}
	for k, v := range src {
		(*dst)[k] += v
	}
}

func inc[K comparable](m *map[K]int64, k K, n int64) {
	if *m == nil {
		*m = map[K]int64{}
	}
	(*m)[k] += n
}

// snapshot copies the counts.
func (c *counters) snapshot() baton.Counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := baton.Counts{MQLsPromoted: c.c.MQLsPromoted}
	addTo(&out.Events, c.c.Events)
	addTo(&out.Breaches, c.c.Breaches)
	addTo(&out.Deliveries, c.c.Deliveries)
	return out
}

// Stats reads the numbers of the metrics: this instance's counts, and
// gauges from the database. Each query reads an index range bounded by what
// it counts (open handoffs, the SLA window, due jobs, pending and dead
// messages), never every lead: a scrape costs the same on a million leads.
func (db *DB) Stats(ctx context.Context) (*baton.Stats, error) {
	tx, err := db.beginLagged(baton.WithActor(ctx, baton.SystemActor))
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	s := &baton.Stats{Counts: db.counts.snapshot(),
		OpenHandoffs: map[baton.HandoffKind]int{}, PastDueHandoffs: map[baton.HandoffKind]int{},
		SLADecided: map[baton.HandoffKind]int{}, SLAMet: map[baton.HandoffKind]int{},
		JobsDue: map[string]int{}, JobsOldestDue: map[string]time.Duration{},
		OutboxPending: map[string]int{}, OutboxDead: map[string]int{}}
	now := micros(tx.now)
	// Every kind, so that a series exists at 0 before the first handoff.
	for _, k := range []baton.HandoffKind{baton.HandoffSDR, baton.HandoffAE} {
		s.OpenHandoffs[k], s.PastDueHandoffs[k], s.SLADecided[k], s.SLAMet[k] = 0, 0, 0, 0
	}
	for _, ch := range []string{"email", "webhook", "slack"} {
		s.OutboxPending[ch], s.OutboxDead[ch] = 0, 0
	}
	if err := eachRow(ctx, tx, `SELECT kind, COUNT(*), COALESCE(SUM(CASE WHEN due_at <= $1 THEN 1 ELSE 0 END), 0) FROM handoffs
		WHERE state = 'open' GROUP BY kind`, []any{now}, func(scan func(...any) error) error {
		var k string
		var open, due int
		if err := scan(&k, &open, &due); err != nil {
			return err
		}
		s.OpenHandoffs[baton.HandoffKind(k)], s.PastDueHandoffs[baton.HandoffKind(k)] = open, due
		return nil
	}); err != nil {
		return nil, fmt.Errorf("stats: open handoffs: %w", err)
	}
	if err := eachRow(ctx, tx, `SELECT kind, COUNT(met), COALESCE(SUM(CASE WHEN met THEN 1 ELSE 0 END), 0) FROM handoffs
		WHERE assigned_at >= $1 AND met IS NOT NULL GROUP BY kind`, []any{micros(tx.now.Add(-baton.SLAWindow))}, func(scan func(...any) error) error {
		var k string
		var decided, met int
		if err := scan(&k, &decided, &met); err != nil {
			return err
		}
		s.SLADecided[baton.HandoffKind(k)], s.SLAMet[baton.HandoffKind(k)] = decided, met
		return nil
	}); err != nil {
		return nil, fmt.Errorf("stats: SLA: %w", err)
	}
	if err := eachRow(ctx, tx, `SELECT kind, COUNT(*), MIN(run_at) FROM jobs WHERE done_at IS NULL AND run_at <= $1 GROUP BY kind`, []any{now},
		func(scan func(...any) error) error {
			var k string
			var n int
			var oldest int64
			if err := scan(&k, &n, &oldest); err != nil {
				return err
			}
			s.JobsDue[k], s.JobsOldestDue[k] = n, tx.now.Sub(fromMicros(oldest))
			return nil
		}); err != nil {
		return nil, fmt.Errorf("stats: jobs: %w", err)
	}
	for _, state := range []string{"pending", "dead"} {
		m := s.OutboxPending
		if state == "dead" {
			m = s.OutboxDead
		}
		if err := eachRow(ctx, tx, `SELECT channel, COUNT(*) FROM outbox WHERE state = $1 GROUP BY channel`, []any{state}, func(scan func(...any) error) error {
			var ch string
			var n int
			if err := scan(&ch, &n); err != nil {
				return err
			}
			m[ch] = n
			return nil
		}); err != nil {
			return nil, fmt.Errorf("stats: outbox: %w", err)
		}
	}
	sc, err := tx.scorer(ctx)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	s.PolicyVersion, s.ModelVersion = sc.policyVersion, sc.modelVersion
	// A rescore is a chain of jobs, one chunk each: the one not done holds
	// the last lead id done. (Ordered by run_at, it reads the index of jobs
	// not done, not the whole table of jobs done.)
	var payload string
	err = tx.QueryRowContext(ctx, `SELECT payload FROM jobs WHERE kind = $1 AND done_at IS NULL ORDER BY run_at LIMIT 1`, RescoreJob).Scan(&payload)
	switch {
	case err == nil:
		var p rescorePayload
		_ = json.Unmarshal([]byte(payload), &p) // the first job has none: at the start
		var last int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM leads`).Scan(&last); err != nil {
			return nil, fmt.Errorf("stats: leads: %w", err)
		}
		s.Rescoring, s.RescoreProgress = true, 0
		if last > 0 {
			s.RescoreProgress = min(float64(p.After)/float64(last), 1)
		}
	case errors.Is(err, sql.ErrNoRows):
		s.RescoreProgress = 1
	default:
		return nil, fmt.Errorf("stats: rescore: %w", err)
	}
	s.Counts.Reads = map[string]int64{"primary": db.reads.primary.Load(), "replica": db.reads.replica.Load()}
	if db.replicas != nil {
		s.Replicas = db.replicas.health()
	}
	return s, nil
}

// eachRow runs a query and calls row for each of its rows.
func eachRow(ctx context.Context, tx *Tx, q string, args []any, row func(scan func(...any) error) error) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}
