package store_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// BenchmarkRescore publishes a policy over 1,000,000 leads with 2,000,000
// events on SQLite and times the rescoring of every lead: after a change of
// the engagement rules (engagement replayed from the events), and after a
// change of fit points only (engagement from the stored states). The million-lead setup takes a while: it runs only with
// BATON_BENCH_RESCORE=1 (BATON_BENCH_RESCORE_LEADS to change the count).
func BenchmarkRescore(b *testing.B) {
	if os.Getenv("BATON_BENCH_RESCORE") == "" {
		b.Skip("set BATON_BENCH_RESCORE=1 to build 1,000,000 leads and time their rescoring")
	}
	n := 1_000_000
	if v := os.Getenv("BATON_BENCH_RESCORE_LEADS"); v != "" {
		fmt.Sscan(v, &n)
	}
	db := storetest.SQLite(b)
	ctx := context.Background()
	start := time.Now()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	tx, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	titles := []string{"VP Sales", "Engineer", "Head of Growth", "Student", ""}
	var q strings.Builder
	args := make([]any, 0, 500*7)
	for i := 0; i < n; i += 500 {
		q.Reset()
		args = args[:0]
		q.WriteString(`INSERT INTO leads (id, email, title, source, stage, created_at, updated_at, stage_changed_at) VALUES `)
		for j := i; j < min(i+500, n); j++ {
			if j > i {
				q.WriteByte(',')
			}
			q.WriteString("(?,?,?,?,'new',?,?,?)")
			args = append(args, j+1, fmt.Sprintf("l%d@example.com", j), titles[j%len(titles)], []string{"web", "webinar", "referral"}[j%3], now, now, now)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 2*n; i += 500 {
		q.Reset()
		args = args[:0]
		q.WriteString(`INSERT INTO events (lead_id, client_id, type, occurred_at, received_at) VALUES `)
		for j := i; j < min(i+500, 2*n); j++ {
			if j > i {
				q.WriteByte(',')
			}
			q.WriteString("(?,?,?,?,?)")
			args = append(args, j/2+1, fmt.Sprint("e", j), []string{"pricing_page_view", "webinar_attended"}[j%2], now+int64(j%1000)*1e6, now)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %d leads and %d events in %s", n, 2*n, time.Since(start).Round(time.Second))
	db.Now = func() time.Time { return time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) }
	eng, fit := 15, 30
	rescore := func(b *testing.B, engagementPoints, fitPoints int) {
		// Thresholds no lead reaches, so that the run measures rescoring,
		// not the routing of new MQLs (each promotion costs about half a
		// millisecond more: routing, audit, report counters).
		body := strings.Replace(testPolicy, "points: 15", fmt.Sprintf("points: %d", engagementPoints), 1)
		body = strings.Replace(body, "points: 30", fmt.Sprintf("points: %d", fitPoints), 1)
		body = strings.Replace(body, "engagement: 30\n  match", "engagement: 1000\n  match", 1)
		if _, err := db.PublishDocument(storetest.System(), body); err != nil {
			b.Fatal(err)
		}
		// The pages written before (the setup, the last rescore) are copied
		// into the database file first, not during the timed rescore.
		if _, err := db.SQL().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			b.Fatal(err)
		}
		// The rescore runs as it does behind a server: the publication's
		// job, a chunk per run, run back to back as a worker does, with a
		// context that shutting down cancels.
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		t, cpu := time.Now(), cpuTime()
		if _, err := runRescores(ctx, db, 0, nil); err != nil {
			b.Fatal(err)
		}
		took, cpuTook := time.Since(t), cpuTime()-cpu
		st, err := db.RescoreStatus(storetest.System())
		if err != nil || st.Current != n {
			b.Fatalf("%d of %d leads current: %v", st.Current, n, err)
		}
		b.ReportMetric(float64(n)/took.Seconds(), "leads/s")
		b.ReportMetric(took.Seconds(), "s/rescore")
		// The CPU time of the process over the same span: above the wall
		// time when reading ahead runs on the second core.
		b.ReportMetric(cpuTook.Seconds(), "cpu-s/rescore")
		floor := touchEveryLead(b, db)
		b.ReportMetric(float64(n)/floor.Seconds(), "floor-leads/s")
		b.ReportMetric(floor.Seconds()/took.Seconds(), "ratio")
	}
	// A new engagement rule set each time: every lead's engagement is
	// replayed from its events.
	b.Run("engagement_changed", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			eng++
			rescore(b, eng, fit)
		}
	})
	// New fit points each time, the engagement rules as they were: scores
	// come from the stored states, with no replay.
	b.Run("fit_changed", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			fit++
			rescore(b, eng, fit)
		}
	})
}

// touchEveryLead is the rescore's floor, timed: every lead read and written
// back once with the same driver, in transactions of 5,000 leads as the
// rescore's, with nothing computed: its score state read, then one prepared
// UPDATE of the lead's scored_at and score state.
func touchEveryLead(b *testing.B, db *store.DB) time.Duration {
	ctx := context.Background()
	if _, err := db.SQL().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	type row struct {
		id    int64
		state []byte
	}
	rows := make([]row, 0, 5000)
	var after int64
	for {
		tx, err := db.SQL().BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		rs, err := tx.Query(`SELECT id, score_state FROM leads WHERE id > ? ORDER BY id LIMIT 5000`, after)
		if err != nil {
			b.Fatal(err)
		}
		rows = rows[:0]
		for rs.Next() {
			var r row
			if err := rs.Scan(&r.id, &r.state); err != nil {
				b.Fatal(err)
			}
			rows = append(rows, r)
		}
		rs.Close()
		stmt, err := tx.Prepare(`UPDATE leads SET scored_at = ?, score_state = ? WHERE id = ?`)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range rows {
			if _, err := stmt.Exec(time.Now().UnixMicro(), r.state, r.id); err != nil {
				b.Fatal(err)
			}
		}
		stmt.Close()
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		if len(rows) < 5000 {
			return time.Since(start)
		}
		after = rows[len(rows)-1].id
	}
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
