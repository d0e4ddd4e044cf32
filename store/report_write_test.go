package store

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// BenchmarkAfterHistory times what the reports add to each stage change on
// SQLite (afterHistory alone, in one open transaction, on a lead moving
// mql > sal > recycled > mql ...), next to the history insert every change
// makes anyway.
func BenchmarkAfterHistory(b *testing.B) {
	ctx := baton.WithActor(context.Background(), baton.SystemActor)
	db := benchDB(b)
	l := &baton.Lead{Email: "bench@example.com", Source: "web", Campaign: "q1"}
	if err := db.CreateLead(ctx, l); err != nil {
		b.Fatal(err)
	}
	cycle := []baton.Stage{baton.StageMQL, baton.StageSAL, baton.StageRecycled}
	for _, c := range []struct {
		name string
		fn   func(tx *Tx, h baton.HistoryEntry) error
	}{
		{"aggregates", func(tx *Tx, h baton.HistoryEntry) error { return tx.afterHistory(ctx, h) }},
		{"history_insert", func(tx *Tx, h baton.HistoryEntry) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO lead_history (lead_id, at, actor_id, actor_name, action, field, from_value, to_value, reason, note)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, h.LeadID, micros(h.At), nil, "system", h.Action, h.Field, h.From, h.To, h.Reason, h.Note)
			return err
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			tx, err := db.begin(ctx)
			if err != nil {
				b.Fatal(err)
			}
			defer tx.Rollback()
			from := baton.StageNew
			at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				to := cycle[i%len(cycle)]
				at = at.Add(time.Hour)
				if err := c.fn(tx, baton.HistoryEntry{LeadID: l.ID, At: at, Action: baton.ActionStage, Field: "stage",
					From: string(from), To: string(to), Reason: "no_need"}); err != nil {
					b.Fatal(err)
				}
				from = to
			}
		})
	}
}

// BenchmarkAfterHistoryRouted times what the reports add to a routed move on
// SQLite: a stage change and, at its instant, the assignment to the next rep
// (which moves the step to them), the lead going mql > sal > recycled > mql
// ... between two reps; the owner is written to the lead as setOwner does.
func BenchmarkAfterHistoryRouted(b *testing.B) {
	ctx := baton.WithActor(context.Background(), baton.SystemActor)
	db := benchDB(b)
	var reps [2]int64
	for i := range reps {
		u := &baton.User{Email: "rep" + strconv.Itoa(i) + "@example.com", Name: "Rep", Role: baton.RoleSDR, Team: "T" + strconv.Itoa(i)}
		if err := db.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
		reps[i] = u.ID
	}
	l := &baton.Lead{Email: "bench@example.com", Source: "web", Campaign: "q1"}
	if err := db.CreateLead(ctx, l); err != nil {
		b.Fatal(err)
	}
	tx, err := db.begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	cycle := []baton.Stage{baton.StageMQL, baton.StageSAL, baton.StageRecycled}
	from, owner := baton.StageNew, ""
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		to := cycle[i%len(cycle)]
		at = at.Add(time.Hour)
		next := strconv.FormatInt(reps[i%2], 10)
		if err := tx.afterHistory(ctx, baton.HistoryEntry{LeadID: l.ID, At: at, Action: baton.ActionStage, Field: "stage",
			From: string(from), To: string(to), Reason: "no_need"}); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE leads SET owner_id = $1 WHERE id = $2`, reps[i%2], l.ID); err != nil {
			b.Fatal(err)
		}
		if err := tx.afterHistory(ctx, baton.HistoryEntry{LeadID: l.ID, At: at, Action: baton.ActionAssigned, Field: "owner_id",
			From: owner, To: next, Reason: "routed"}); err != nil {
			b.Fatal(err)
		}
		from, owner = to, next
	}
	b.StopTimer()
	if err := tx.flushDelta(ctx, tx.delta()); err != nil {
		b.Fatal(err)
	}
}

// benchDB opens a migrated SQLite database in a temporary directory, closed
// when the benchmark ends.
func benchDB(b *testing.B) *DB {
	b.Helper()
	ctx := baton.WithActor(context.Background(), baton.SystemActor)
	db, err := Open(ctx, filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	return db
}
