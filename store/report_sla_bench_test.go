package store_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/storetest"
)

// BenchmarkSLAReport times the SLA report over 1,000,000 handoffs of 40 reps
// in 4 teams spread over a year (the handoffs of about a million leads), on
// SQLite: the last 90 days, and all of it. It runs with BATON_BENCH_REPORTS=1.
// The grouping reads the handoffs_sla index whole, in its order (no sort), so
// the time hardly depends on the period.
func BenchmarkSLAReport(b *testing.B) {
	if os.Getenv("BATON_BENCH_REPORTS") == "" {
		b.Skip("set BATON_BENCH_REPORTS=1 to build a million handoffs and time the SLA report")
	}
	const n = 1_000_000
	db := storetest.SQLite(b)
	ctx := context.Background()
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return end }
	tx, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := 1; i <= 40; i++ {
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (id, email, name, role, team, created_at, updated_at) VALUES (?, ?, ?, 'sdr', ?, 0, 0)`,
			i, "rep"+strings.Repeat("x", i%3)+string(rune('a'+i%26))+"@example.com"+string(rune('0'+i/26)), "Rep", []string{"Central", "East", "West", "EMEA"}[i%4]); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO leads (id, stage, created_at, updated_at, stage_changed_at, email) VALUES (1, 'sal', 0, 0, 0, 'x@example.com')`); err != nil {
		b.Fatal(err)
	}
	var q strings.Builder
	args := make([]any, 0, 500*9)
	year := int64(365 * 24 * time.Hour / time.Microsecond)
	for i := 0; i < n; i += 500 {
		q.Reset()
		args = args[:0]
		q.WriteString(`INSERT INTO handoffs (lead_id, kind, owner_id, state, assigned_at, due_at, remind_at, answered_at, breached_at, met, working_seconds) VALUES `)
		for j := i; j < i+500; j++ {
			if j > i {
				q.WriteByte(',')
			}
			q.WriteString("(1,'sdr',?,?,?,?,?,?,?,?,?)")
			at := end.UnixMicro() - int64(j)*year/n
			state, met, breached, answered := baton.HandoffAccepted, any(true), any(nil), any(at+3600e6)
			switch j % 10 {
			case 7:
				state, met, breached, answered = baton.HandoffReassigned, false, at+4*3600e6, nil
			case 8:
				state, met = baton.HandoffRejected, false
			}
			args = append(args, j%40+1, state, at, at+4*3600e6, at+3*3600e6, answered, breached, met, (j%300)*60)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		f    baton.ReportFilter
	}{
		{"last90days", baton.ReportFilter{}},
		{"last90days_by_team", baton.ReportFilter{By: baton.DimTeam}},
		{"all", baton.ReportFilter{From: end.AddDate(-2, 0, 0)}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				r, err := db.SLA(storetest.System(), c.f)
				if err != nil || len(r.Rows) == 0 {
					b.Fatal(r, err)
				}
			}
		})
	}
}
