package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// benchLeads is the size of BenchmarkReports' database.
const benchLeads = 1_000_000

// BenchmarkReports times each report on SQLite over 1,000,000 leads with
// about 5,000,000 stage changes (walks of five moves on average), created
// over a year. Building that database
// takes a few minutes, so the benchmark runs only with BATON_BENCH_REPORTS=1
// (and not with -short); BATON_BENCH_REPORTS_DB=path keeps the database
// there and reuses it on the next run.
//
//	BATON_BENCH_REPORTS=1 go test ./store -run '^$' -bench BenchmarkReports -benchtime 5x
func BenchmarkReports(b *testing.B) {
	if testing.Short() || os.Getenv("BATON_BENCH_REPORTS") != "1" {
		b.Skip("set BATON_BENCH_REPORTS=1 to build 1,000,000 leads and time the reports")
	}
	ctx := storetest.System()
	path := os.Getenv("BATON_BENCH_REPORTS_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "reports.db")
	}
	_, statErr := os.Stat(path)
	db, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	var end int64
	if statErr == nil {
		if err := db.SQL().QueryRow(`SELECT MAX(at) FROM lead_history`).Scan(&end); err != nil {
			b.Fatal(err)
		}
		b.Logf("reusing %s", path)
	} else {
		start := time.Now()
		if end, err = buildReportBench(ctx, db); err != nil {
			b.Fatal(err)
		}
		b.Logf("built %d leads in %v", benchLeads, time.Since(start).Round(time.Second))
	}
	var aggs int
	if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM report_leads`).Scan(&aggs); err != nil {
		b.Fatal(err)
	}
	if aggs == 0 {
		start := time.Now()
		if _, err := db.RebuildReports(ctx); err != nil {
			b.Fatal(err)
		}
		b.Logf("aggregates rebuilt from the history in %v", time.Since(start).Round(time.Second))
	}
	now := time.UnixMicro(end).UTC().Add(time.Hour)
	db.Now = func() time.Time { return now }
	var hist, stages int64
	db.SQL().QueryRow(`SELECT COUNT(*), SUM(CASE WHEN action = 'stage' THEN 1 ELSE 0 END) FROM lead_history`).Scan(&hist, &stages)
	b.Logf("%d history entries, %d stage changes", hist, stages)
	year := baton.ReportFilter{}
	// The last quarter of the year in which the leads were created.
	quarter := baton.ReportFilter{From: now.AddDate(0, -3, 0), To: now}
	for _, c := range []struct {
		name string
		f    baton.ReportFilter
	}{
		{"funnel", baton.ReportFilter{}},
		{"funnel", baton.ReportFilter{Cohort: true, By: baton.DimOwner}},
		{"funnel", baton.ReportFilter{By: baton.DimCampaign}},
		{"funnel", baton.ReportFilter{Cohort: true, By: baton.DimTeam}},
		{"funnel", quarter},
		{"velocity", year},
		{"velocity", quarter},
		{"rejections", year},
		{"rejections", baton.ReportFilter{By: baton.DimCampaign}},
		{"rejections", baton.ReportFilter{By: "week"}},
		{"recycled", year},
		{"quality", year},
		{"quality", baton.ReportFilter{By: baton.DimCampaign}},
		{"stale", year},
		{"stalled", year},
	} {
		name := c.name
		if c.f.By != "" {
			name += "/by_" + c.f.By
		}
		if c.f.Cohort {
			name += "/cohort"
		}
		if !c.f.From.IsZero() {
			name += "/quarter"
		}
		b.Run(name, func(b *testing.B) {
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if _, err := db.RunReport(ctx, c.name, c.f); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/op")
		})
	}
	// Quality per fit rule counts from the rules stored with each lead by
	// the rescore of a policy published once over the database.
	if _, err := db.CurrentPolicy(ctx); baton.ErrorCode(err) == baton.ENOTFOUND {
		if _, err := db.PublishDocument(ctx, benchRulesPolicy); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		n, err := db.RescoreAll(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("published a policy and rescored %d leads in %v", n, time.Since(start).Round(time.Second))
	} else if err != nil {
		b.Fatal(err)
	}
	all := baton.ReportFilter{From: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), To: now}
	for _, c := range []struct {
		name string
		f    baton.ReportFilter
	}{{"all", all}} {
		b.Run("quality_rules/"+c.name, func(b *testing.B) {
			start := time.Now()
			for i := 0; i < b.N; i++ {
				r, err := db.QualityByRule(ctx, c.f)
				if err != nil {
					b.Fatal(err)
				}
				if i == 0 {
					b.Logf("%s: %v", c.name, r.Rows[0])
				}
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/op")
		})
	}
}

// benchRulesPolicy has fit rules on the fields of the benchmark's leads.
const benchRulesPolicy = `
name: Benchmark rules
fit:
  - {name: webinar, field: source, equals: s1, points: 10}
  - {name: enterprise, field: account.employees, range: {min: 1000}, points: 20}
  - {name: germany, field: country, equals: c3, points: 5}
engagement:
  half_life: 30d
  rules:
    - {name: pricing, event: pricing_page_view, points: 5}
mql:
  fit: 30
  engagement: 1000
  match: all
`

// benchWalk moves on from a stage: the next stage, or "" to stop there.
func benchWalk(rng *rand.Rand, s baton.Stage) baton.Stage {
	x := rng.Float64()
	switch s {
	case baton.StageNew:
		return pickStage(x, 0.96, baton.StageMQL, 0.99, baton.StageDisqualified)
	case baton.StageMQL:
		return pickStage(x, 0.74, baton.StageSAL, 0.93, baton.StageRecycled, 0.98, baton.StageDisqualified)
	case baton.StageSAL:
		return pickStage(x, 0.72, baton.StageSQL, 0.86, baton.StageRecycled, 0.93, baton.StageDisqualified)
	case baton.StageSQL:
		return pickStage(x, 0.72, baton.StageOpportunity, 0.82, baton.StageSAL, 0.94, baton.StageRecycled)
	case baton.StageOpportunity:
		return pickStage(x, 0.5, baton.StageWon, 0.98, baton.StageLost)
	case baton.StageRecycled:
		return pickStage(x, 0.8, baton.StageMQL, 0.88, baton.StageDisqualified)
	}
	return ""
}

// pickStage returns the stage after the first threshold x is below.
func pickStage(x float64, pairs ...any) baton.Stage {
	for i := 0; i < len(pairs); i += 2 {
		if x < pairs[i].(float64) {
			return pairs[i+1].(baton.Stage)
		}
	}
	return ""
}

// benchInserter writes rows with multi-row INSERTs of "?" placeholders.
type benchInserter struct {
	tx    *sql.Tx
	head  string
	cols  int
	batch int
	args  []any
	n     int
	// before is flushed first: the rows referenced by these.
	before *benchInserter
}

func (w *benchInserter) add(ctx context.Context, vals ...any) error {
	w.args = append(w.args, vals...)
	w.n++
	if w.n == w.batch {
		return w.flush(ctx)
	}
	return nil
}

func (w *benchInserter) flush(ctx context.Context) error {
	if w.n == 0 {
		return nil
	}
	if w.before != nil {
		if err := w.before.flush(ctx); err != nil {
			return err
		}
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", w.cols), ",") + ")"
	q := w.head + strings.TrimSuffix(strings.Repeat(row+",", w.n), ",")
	_, err := w.tx.ExecContext(ctx, q, w.args...)
	w.args, w.n = w.args[:0], 0
	return err
}

// buildReportBench writes users, accounts, leads with their history,
// opportunities and events straight into the tables, in one transaction, and
// returns the time of the last history entry.
func buildReportBench(ctx context.Context, db *store.DB) (int64, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	tx, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	const owners, accounts = 100, 20000
	users := &benchInserter{tx: tx, head: `INSERT INTO users (id, email, name, role, team, created_at, updated_at) VALUES `, cols: 7, batch: 100}
	for i := 1; i <= owners; i++ {
		if err := users.add(ctx, i, fmt.Sprintf("rep%d@example.com", i), fmt.Sprintf("Rep %d", i), "sdr", fmt.Sprintf("team%d", i%10), t0, t0); err != nil {
			return 0, err
		}
	}
	acc := &benchInserter{tx: tx, head: `INSERT INTO accounts (id, domain, name, industry, employees, country, created_at, updated_at) VALUES `, cols: 8, batch: 500}
	for i := 1; i <= accounts; i++ {
		var emp any
		if rng.IntN(5) > 0 {
			emp = int64(math.Exp(rng.Float64() * 10))
		}
		if err := acc.add(ctx, i, fmt.Sprintf("a%d.example", i), fmt.Sprintf("Account %d", i), fmt.Sprintf("industry%d", rng.IntN(30)), emp, "", t0, t0); err != nil {
			return 0, err
		}
	}
	if err := users.flush(ctx); err != nil {
		return 0, err
	}
	if err := acc.flush(ctx); err != nil {
		return 0, err
	}
	leads := &benchInserter{tx: tx, head: `INSERT INTO leads (id, email, source, campaign, country, account_id, owner_id, stage, created_at, updated_at, stage_changed_at) VALUES `, cols: 11, batch: 500}
	hist := &benchInserter{tx: tx, head: `INSERT INTO lead_history (lead_id, at, actor_name, action, field, from_value, to_value, reason) VALUES `, cols: 8, batch: 500}
	opps := &benchInserter{tx: tx, head: `INSERT INTO opportunities (lead_id, name, stage, close_value, created_at) VALUES `, cols: 5, batch: 500}
	events := &benchInserter{tx: tx, head: `INSERT INTO events (lead_id, client_id, type, occurred_at, received_at) VALUES `, cols: 5, batch: 500}
	hist.before, opps.before, events.before = leads, leads, leads
	reasons := []string{"no_budget", "no_need", "bad_timing", "no_fit", "no_authority", "unable_to_reach", "inaccurate_data"}
	year := int64(365 * 24 * time.Hour / time.Microsecond)
	var last int64
	type step struct {
		at       int64
		from, to baton.Stage
	}
	var path []step
	for id := int64(1); id <= benchLeads; id++ {
		created := t0 + year*(id-1)/benchLeads
		source, campaign := fmt.Sprintf("s%d", rng.IntN(20)), fmt.Sprintf("c%d", rng.IntN(200))
		country, owner := fmt.Sprintf("c%d", rng.IntN(50)), 1+rng.IntN(owners)
		var account any
		if rng.IntN(10) < 7 {
			account = 1 + rng.IntN(accounts)
		}
		path = path[:0]
		at, s := created, baton.StageNew
		for len(path) < 12 {
			next := benchWalk(rng, s)
			if next == "" {
				break
			}
			// Between ten minutes and sixty days, log-uniform.
			at += int64(math.Exp(math.Log(600e6) + rng.Float64()*(math.Log(60*24*3600e6)-math.Log(600e6))))
			path = append(path, step{at, s, next})
			s = next
		}
		changed := created
		if len(path) > 0 {
			changed = path[len(path)-1].at
		}
		last = max(last, changed)
		if err := leads.add(ctx, id, fmt.Sprintf("lead%d@example.net", id), source, campaign, country, account, owner, string(s), created, changed, changed); err != nil {
			return 0, err
		}
		if err := hist.add(ctx, id, created, "system", "created", "", "", "new", "bench"); err != nil {
			return 0, err
		}
		for _, p := range path {
			reason := ""
			if p.to == baton.StageRecycled || p.to == baton.StageDisqualified || p.to == baton.StageLost || p.from == baton.StageSQL && p.to == baton.StageSAL {
				reason = reasons[rng.IntN(len(reasons))]
			} else if p.to == baton.StageMQL {
				reason = "policy"
			}
			if err := hist.add(ctx, id, p.at, "system", "stage", "stage", string(p.from), string(p.to), reason); err != nil {
				return 0, err
			}
		}
		if s == baton.StageWon {
			if err := opps.add(ctx, id, fmt.Sprintf("deal %d", id), "won", float64(1000+rng.IntN(100000)), changed); err != nil {
				return 0, err
			}
		}
		if rng.IntN(4) == 0 {
			// An event somewhere in the lead's life, or in the last weeks.
			ev := created + rng.Int64N(max(changed-created, 1)+30*24*3600e6)
			if err := events.add(ctx, id, fmt.Sprintf("e%d", id), "email_open", ev, ev); err != nil {
				return 0, err
			}
		}
	}
	for _, w := range []*benchInserter{leads, hist, opps, events} {
		if err := w.flush(ctx); err != nil {
			return 0, err
		}
	}
	return last, tx.Commit()
}
