package store

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/batonhq/baton"
)

// velocityKinds are the durations Velocity reports, with their labels.
var velocityKinds = []struct{ kind, label string }{
	{"in:new", "time in new"}, {"in:mql", "time in mql"}, {"in:sal", "time in sal"}, {"in:sql", "time in sql"},
	{"in:opportunity", "time in opportunity"}, {"in:recycled", "time in recycled"},
	{"mql_to_sal", "MQL to accept (SAL)"}, {"sal_to_sql", "accept (SAL) to SQL"},
	{"sql_to_opportunity", "SQL to opportunity"}, {"opportunity_to_close", "opportunity to close (won or lost)"},
}

// quantileBucket returns the bucket of the q-quantile (nearest rank: the
// smallest value with at least ceil(q*n) values at or below it) of a
// histogram, given as bucket -> count.
func quantileBucket(h map[int]int64, q float64) (int, bool) {
	var n int64
	buckets := make([]int, 0, len(h))
	for b, c := range h {
		n += c
		buckets = append(buckets, b)
	}
	if n == 0 {
		return 0, false
	}
	sort.Ints(buckets)
	rank := max(int64(math.Ceil(q*float64(n))), 1)
	var cum int64
	for _, b := range buckets {
		cum += h[b]
		if cum >= rank {
			return b, true
		}
	}
	return buckets[len(buckets)-1], true
}

// Velocity gives the median and 90th percentile time, in hours, spent in
// each stage before leaving it and taken by each main step (MQL to SAL, SAL
// to SQL, SQL to opportunity, opportunity to won or lost: the time in the
// first stage of the step), over the transitions made in the period. Times
// come from histograms whose buckets span 9%: a figure is its bucket's
// middle, within 5% of the exact one. f.By is not supported.
//
// Within a manager's team (f.Manager) it times the transitions made by the
// manager or the people who report to them: each time counts under the
// owner the lead had as it left the stage, the one who made the step (a
// lead reassigned while in a stage counts under the one who moved it on,
// not the one who got it), from report_owner_durations, an index range per
// owner.
func (db *DB) Velocity(ctx context.Context, f baton.ReportFilter) (*baton.Report, error) {
	tx, err := db.beginReport(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := tx.scopeManager(&f, true); err != nil {
		return nil, err
	}
	if err := checkBy(f.By); err != nil {
		return nil, err
	}
	owners, err := tx.teamOwners(ctx, f.Manager)
	if err != nil {
		return nil, err
	}
	p := periodOf(f, tx.now)
	table, cond, condArgs := "report_durations", "1 = 1", []any(nil)
	if owners != nil {
		var in string
		in, condArgs = inValues(nil, owners)
		table, cond = "report_owner_durations", "owner IN "+in
	}
	q, args := tx.spanQuery("kind, bucket, n", table, cond, p.spans(), condArgs...)
	rows, err := tx.QueryContext(ctx, `SELECT kind, bucket, CAST(SUM(n) AS BIGINT) FROM (`+q+`) t GROUP BY kind, bucket`, args...)
	if err != nil {
		return nil, fmt.Errorf("velocity: %w", err)
	}
	defer rows.Close()
	hist := map[string]map[int]int64{}
	for rows.Next() {
		var kind string
		var b int
		var n int64
		if err := rows.Scan(&kind, &b, &n); err != nil {
			return nil, err
		}
		if hist[kind] == nil {
			hist[kind] = map[int]int64{}
		}
		hist[kind][b] += n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	r := &baton.Report{Name: baton.ReportVelocity, Title: "Velocity",
		Columns: []string{"measure", "transitions", "median_hours", "p90_hours"},
		Series:  []baton.Series{{Name: "median (hours)"}, {Name: "p90 (hours)"}},
		Notes: []string{"Over the transitions made in the period: the time the lead had spent in the stage it left.",
			"Figures come from histograms with buckets 9% wide: each is its bucket's middle, within 5% of the exact time."}}
	if owners != nil {
		note, err := tx.teamNote(ctx, f.Manager, "each time counts under the owner who moved the lead on from the stage")
		if err != nil {
			return nil, err
		}
		r.Notes = append(r.Notes, note)
	}
	for _, k := range velocityKinds {
		h := hist[k.kind]
		var n int64
		for _, c := range h {
			n += c
		}
		r.Labels = append(r.Labels, k.label)
		row := []string{k.label, strconv.FormatInt(n, 10), "", ""}
		for i, q := range []float64{0.5, 0.9} {
			v := 0.0
			if b, ok := quantileBucket(h, q); ok {
				v = bucketHours(b)
				row[2+i] = strconv.FormatFloat(v, 'f', 2, 64)
			}
			r.Series[i].Values = append(r.Series[i].Values, math.Round(v*100)/100)
		}
		r.Rows = append(r.Rows, row)
	}
	return r, nil
}
