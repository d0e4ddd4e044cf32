package store

import (
	"context"
	"fmt"

	"github.com/batonhq/baton"
)

// Recycled follows the leads first recycled in the period: how many came
// back (were made an MQL again, at any time since) and the stage each is in
// now, against those that did not come back. f.By is not supported. One
// indexed range scan of report_leads.
func (db *DB) Recycled(ctx context.Context, f baton.ReportFilter) (*baton.Report, error) {
	tx, err := db.beginReport(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := checkTeam(f, baton.ReportRecycled); err != nil {
		return nil, err
	}
	if err := checkBy(f.By); err != nil {
		return nil, err
	}
	p := periodOf(f, tx.now)
	rows, err := tx.QueryContext(ctx, `SELECT stage, CASE WHEN returned_at IS NULL THEN 0 ELSE 1 END, COUNT(*) FROM report_leads
		WHERE recycled_at >= $1 AND recycled_at < $2 GROUP BY stage, CASE WHEN returned_at IS NULL THEN 0 ELSE 1 END`, p.fromUS, p.toUS)
	if err != nil {
		return nil, fmt.Errorf("recycled: %w", err)
	}
	defer rows.Close()
	counts := map[string][2]float64{}
	var back, all float64
	for rows.Next() {
		var stage string
		var returned int
		var n int64
		if err := rows.Scan(&stage, &returned, &n); err != nil {
			return nil, err
		}
		c := counts[stage]
		c[1-returned] += float64(n)
		counts[stage] = c
		all += float64(n)
		if returned == 1 {
			back += float64(n)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	r := &baton.Report{Name: baton.ReportRecycled, Title: "Recycled leads: who came back, and where they are now",
		Columns: []string{"stage_now", "came_back", "did_not_come_back"},
		Series:  []baton.Series{{Name: "came back"}, {Name: "did not come back"}},
		Notes: []string{"The leads first recycled in the period; came back means made an MQL again since.",
			fmt.Sprintf("%s recycled, %s came back (%s%%).", itoa(all), itoa(back), pct(back, all))}}
	for _, s := range baton.Stages {
		if s == baton.StageNew {
			continue
		}
		c := counts[string(s)]
		r.Labels = append(r.Labels, string(s))
		r.Series[0].Values = append(r.Series[0].Values, c[0])
		r.Series[1].Values = append(r.Series[1].Values, c[1])
		r.Rows = append(r.Rows, []string{string(s), itoa(c[0]), itoa(c[1])})
	}
	r.Rows = append(r.Rows, []string{labelTotal, itoa(back), itoa(all - back)})
	return r, nil
}
