package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// Reports is the ReportService of the database.
func (db *DB) Reports() baton.ReportService { return db }

// Labels of groups that have no value of their own.
const (
	labelNone       = "(none)"
	labelOther      = "(other)"
	labelTotal      = "(total)"
	labelUnassigned = "(unassigned)"
)

// canReport refuses the aggregated reports to reps: they span every lead.
func (tx *Tx) canReport() error {
	switch tx.actor.Role {
	case baton.RoleSystem, baton.RoleAdmin, baton.RoleMarketing, baton.RoleManager:
		return nil
	}
	return baton.Errorf(baton.EFORBIDDEN, "a %s may not read aggregated reports", tx.actor.Role)
}

// beginReport starts the read transaction of an aggregated report.
func (db *DB) beginReport(ctx context.Context) (*Tx, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	if err := tx.canReport(); err != nil {
		tx.Rollback()
		return nil, err
	}
	return tx, nil
}

// period is a report's [from, to) in days and in microseconds.
type period struct {
	fromDay, toDay int64
	fromUS, toUS   int64
}

// periodOf rounds the filter's period to whole UTC days (see ReportFilter).
func periodOf(f baton.ReportFilter, now time.Time) period {
	var p period
	if f.From.IsZero() {
		p.fromDay = -100000
	} else {
		p.fromDay = dayOf(micros(f.From))
	}
	to := f.To
	if to.IsZero() {
		to = now
	}
	us := micros(to)
	p.toDay = dayOf(us)
	if dayStart(p.toDay) != us {
		p.toDay++
	}
	p.fromUS, p.toUS = dayStart(p.fromDay), dayStart(p.toDay)
	return p
}

// span is a range [from, to) of days counted in one grain of the counter
// tables: "d" for days, "m" for months (from and to are first days).
type span struct {
	grain    string
	from, to int64
}

// spans covers the period with whole months inside and days at its edges.
func (p period) spans() []span {
	m1, m2 := monthOf(p.fromDay), monthOf(p.toDay)
	if m1 < p.fromDay {
		m1 = monthOf(m1 + 31)
	}
	if m1 >= m2 {
		return []span{{"d", p.fromDay, p.toDay}}
	}
	return []span{{"d", p.fromDay, m1}, {"m", m1, m2}, {"d", m2, p.toDay}}
}

// spanQuery returns "SELECT cols FROM table WHERE cond AND <span>" for each
// span, joined by UNION ALL, and its arguments: args (numbered from $1 in
// cond), then two per span.
func (tx *Tx) spanQuery(cols, table, cond string, spans []span, args ...any) (string, []any) {
	var parts []string
	for _, sp := range spans {
		parts = append(parts, fmt.Sprintf(`SELECT %s FROM %s WHERE %s AND grain = '%s' AND day >= $%d AND day < $%d`,
			cols, table, cond, sp.grain, len(args)+1, len(args)+2))
		args = append(args, sp.from, sp.to)
	}
	return strings.Join(parts, " UNION ALL "), args
}

// checkBy checks a breakdown dimension against those a report accepts.
func checkBy(by string, allowed ...string) error {
	if by == "" || slices.Contains(allowed, by) {
		return nil
	}
	return baton.FieldError("by", "cannot break this report down by %q (want one of %s)", by, strings.Join(allowed, ", "))
}

// dimIndex returns the index of a stored dimension ("team" is stored as the
// owner).
func dimIndex(by string) int {
	if by == baton.DimTeam {
		by = baton.DimOwner
	}
	for i, n := range dimNames[:nDims] {
		if n == by {
			return i
		}
	}
	return dimSource
}

// labeler names the groups of a dimension: owners by name, teams by the
// owner's current team, empty values as "(none)".
type labeler struct {
	by    string
	names map[string]string
	teams map[string]string
}

func (tx *Tx) labeler(ctx context.Context, by string) (*labeler, error) {
	lb := &labeler{by: by}
	if by != baton.DimOwner && by != baton.DimTeam {
		return lb, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, name, team FROM users`)
	if err != nil {
		return nil, fmt.Errorf("report users: %w", err)
	}
	defer rows.Close()
	lb.names, lb.teams = map[string]string{}, map[string]string{}
	for rows.Next() {
		var id int64
		var name, team string
		if err := rows.Scan(&id, &name, &team); err != nil {
			return nil, err
		}
		k := strconv.FormatInt(id, 10)
		lb.names[k] = name + " (" + k + ")"
		if team == "" {
			team = labelNone
		}
		lb.teams[k] = team
	}
	return lb, rows.Err()
}

// label returns the group of a stored value.
func (lb *labeler) label(v string) string {
	switch {
	case lb.by == "":
		return labelTotal
	case (lb.by == baton.DimOwner || lb.by == baton.DimTeam) && v == "":
		return labelUnassigned
	case lb.by == baton.DimOwner:
		if n, ok := lb.names[v]; ok {
			return n
		}
		return "user " + v
	case lb.by == baton.DimTeam:
		if t, ok := lb.teams[v]; ok {
			return t
		}
		return labelNone
	case v == "":
		return labelNone
	}
	return v
}

// groups sums rows of values by group label.
type groups map[string][]float64

func (g groups) add(label string, i int, v float64, width int) {
	row, ok := g[label]
	if !ok {
		row = make([]float64, width)
		g[label] = row
	}
	row[i] += v
}

// top orders the groups by the value at index key (largest first, then by
// label) and folds those past limit into "(other)" (summing every column
// except those in noSum, which are left 0).
func (g groups) top(key, limit int) []string {
	labels := make([]string, 0, len(g))
	for l := range g {
		labels = append(labels, l)
	}
	sort.Slice(labels, func(i, j int) bool {
		a, b := g[labels[i]][key], g[labels[j]][key]
		if a != b {
			return a > b
		}
		return labels[i] < labels[j]
	})
	if limit > 0 && len(labels) > limit {
		other := make([]float64, len(g[labels[0]]))
		for _, l := range labels[limit-1:] {
			for i, v := range g[l] {
				other[i] += v
			}
			delete(g, l)
		}
		labels = append(labels[:limit-1], labelOther)
		g[labelOther] = other
	}
	return labels
}

func itoa(v float64) string { return strconv.FormatInt(int64(math.Round(v)), 10) }

// pct returns 100*a/b with one decimal, or "" when b is 0.
func pct(a, b float64) string {
	if b == 0 {
		return ""
	}
	return strconv.FormatFloat(100*a/b, 'f', 1, 64)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return math.Round(1000*a/b) / 10
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// funnelSteps are the funnel's steps: stored stage and label.
var funnelSteps = []struct{ stage, label string }{
	{stageLead, "Leads"}, {"mql", "MQL"}, {"sal", "SAL"}, {"sql", "SQL"}, {"opportunity", "Opportunity"}, {"won", "Won"},
}

// dailyCounts sums report_daily by dimension value and stage over a period.
func (tx *Tx) dailyCounts(ctx context.Context, kind byte, dim int, p period, fn func(value, stage string, n float64)) error {
	q, args := tx.spanQuery("value, stage, n", "report_daily", "kind = $1 AND dim = $2", p.spans(), string(kind), dimNames[dim])
	rows, err := tx.QueryContext(ctx, `SELECT value, stage, CAST(SUM(n) AS BIGINT) FROM (`+q+`) t GROUP BY value, stage`, args...)
	if err != nil {
		return fmt.Errorf("report counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var value, stage string
		var n int64
		if err := rows.Scan(&value, &stage, &n); err != nil {
			return err
		}
		fn(value, stage, float64(n))
	}
	return rows.Err()
}

// Funnel counts leads at each step of the funnel (lead, MQL, SAL, SQL,
// opportunity, won) with the step conversion rates (each step over the one
// before), by f.By (any dimension, or none).
//
// With f.Cohort it counts the leads created in the period at every stage
// they ever reached, grouped by their current dimension values. Otherwise it
// counts what happened in the period: leads created, and transitions into
// each stage (a lead that becomes an MQL twice counts twice), grouped by the
// values the lead had at the time of each. Teams are the owners' current
// teams in both. One indexed range scan of report_daily.
func (db *DB) Funnel(ctx context.Context, f baton.ReportFilter) (*baton.Report, error) {
	tx, err := db.beginReport(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := checkBy(f.By, baton.ReportDimensions...); err != nil {
		return nil, err
	}
	p := periodOf(f, tx.now)
	lb, err := tx.labeler(ctx, f.By)
	if err != nil {
		return nil, err
	}
	kind := byte('p')
	if f.Cohort {
		kind = 'c'
	}
	g := groups{}
	if err := tx.dailyCounts(ctx, kind, dimIndex(f.By), p, func(value, stage string, n float64) {
		for i, s := range funnelSteps {
			if s.stage == stage {
				g.add(lb.label(value), i, n, len(funnelSteps))
			}
		}
	}); err != nil {
		return nil, err
	}
	for l, row := range g {
		if allZero(row) {
			delete(g, l)
		}
	}
	total := make([]float64, len(funnelSteps))
	for _, row := range g {
		for i, v := range row {
			total[i] += v
		}
	}
	labels := g.top(0, orDefault(f.Limit, 20))
	r := &baton.Report{Name: baton.ReportFunnel, Title: "Funnel"}
	if f.Cohort {
		r.Title = "Funnel of the leads created in the period"
		r.Notes = append(r.Notes, "Cohort: the leads created in the period, counted at every stage they ever reached, by their current values.")
	} else {
		r.Title = "Funnel of the period"
		r.Notes = append(r.Notes, "Period: leads created and transitions into each stage made in the period, by the lead's values at the time.")
	}
	r.Notes = append(r.Notes, "Each rate is the step over the step before it, in percent.")
	for _, s := range funnelSteps {
		r.Labels = append(r.Labels, s.label)
	}
	group := f.By
	if group == "" {
		group = "group"
	}
	r.Columns = []string{group, "leads", "mql", "sal", "sql", "opportunity", "won", "mql_rate", "sal_rate", "sql_rate", "opportunity_rate", "won_rate"}
	row := func(label string, v []float64) []string {
		out := []string{label}
		for _, x := range v {
			out = append(out, itoa(x))
		}
		for i := 1; i < len(v); i++ {
			out = append(out, pct(v[i], v[i-1]))
		}
		return out
	}
	for _, l := range labels {
		r.Series = append(r.Series, baton.Series{Name: l, Values: g[l]})
		if f.By != "" {
			r.Rows = append(r.Rows, row(l, g[l]))
		}
	}
	if len(labels) == 0 && f.By == "" {
		r.Series = append(r.Series, baton.Series{Name: labelTotal, Values: total})
	}
	r.Rows = append(r.Rows, row(labelTotal, total))
	return r, nil
}

func allZero(v []float64) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

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
func (db *DB) Velocity(ctx context.Context, f baton.ReportFilter) (*baton.Report, error) {
	tx, err := db.beginReport(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := checkBy(f.By); err != nil {
		return nil, err
	}
	p := periodOf(f, tx.now)
	q, args := tx.spanQuery("kind, bucket, n", "report_durations", "1 = 1", p.spans())
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

// weekOf returns the first day (a Monday) of a day's week.
func weekOf(day int64) int64 {
	return day - ((day%7 + 7 + 3) % 7)
}

func dayLabel(day int64) string { return fromMicros(dayStart(day)).Format("2006-01-02") }

// Rejections counts the leads sales rejected in the period (moved from mql or
// sal to recycled or disqualified), by the reason given. With f.By ""
// (or "reason") the labels are the reasons, with count and share; with
// "source" or "campaign" (the lead's at the time) or "week" (weeks starting
// on Monday, UTC) the labels are those groups and there is one series per
// reason (the f.Limit most frequent, default 10, the rest as "(other)").
// One indexed range scan of report_rejections.
func (db *DB) Rejections(ctx context.Context, f baton.ReportFilter) (*baton.Report, error) {
	tx, err := db.beginReport(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	by := f.By
	if by == "reason" {
		by = ""
	}
	if err := checkBy(by, baton.DimSource, baton.DimCampaign, "week"); err != nil {
		return nil, err
	}
	p := periodOf(f, tx.now)
	col, dim, spans := "value", by, p.spans()
	if by == "week" {
		// Weeks need days.
		col, dim, spans = "CAST(day AS TEXT)", "", []span{{"d", p.fromDay, p.toDay}}
	}
	q, args := tx.spanQuery(col+" AS grp, reason, from_stage, to_stage, n", "report_rejections", "dim = $1", spans, dim)
	rows, err := tx.QueryContext(ctx, `SELECT grp, reason, from_stage, to_stage, CAST(SUM(n) AS BIGINT) FROM (`+q+`) t
		GROUP BY grp, reason, from_stage, to_stage`, args...)
	if err != nil {
		return nil, fmt.Errorf("rejections: %w", err)
	}
	defer rows.Close()
	// byReason: rejections, recycled, disqualified, from mql, from sal.
	byReason := groups{}
	cells := map[[2]string]float64{}
	var total float64
	for rows.Next() {
		var group, reason, from, to string
		var n int64
		if err := rows.Scan(&group, &reason, &from, &to, &n); err != nil {
			return nil, err
		}
		v := float64(n)
		if reason == "" {
			reason = labelNone
		}
		switch by {
		case "week":
			d, _ := strconv.ParseInt(group, 10, 64)
			group = strconv.FormatInt(weekOf(d), 10)
		case "":
		default:
			if group == "" {
				group = labelNone
			}
		}
		total += v
		byReason.add(reason, 0, v, 5)
		if to == string(baton.StageRecycled) {
			byReason.add(reason, 1, v, 5)
		} else {
			byReason.add(reason, 2, v, 5)
		}
		if from == string(baton.StageMQL) {
			byReason.add(reason, 3, v, 5)
		} else {
			byReason.add(reason, 4, v, 5)
		}
		cells[[2]string{group, reason}] += v
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	r := &baton.Report{Name: baton.ReportRejections, Title: "Rejections by reason",
		Notes: []string{"Leads moved by sales from mql or sal to recycled or disqualified in the period, by the reason given."}}
	if by == "" {
		reasons := byReason.top(0, orDefault(f.Limit, 50))
		r.Columns = []string{"reason", "rejections", "share", "recycled", "disqualified", "from_mql", "from_sal"}
		r.Series = []baton.Series{{Name: "rejections"}, {Name: "share (%)"}}
		for _, reason := range reasons {
			v := byReason[reason]
			r.Labels = append(r.Labels, reason)
			r.Series[0].Values = append(r.Series[0].Values, v[0])
			r.Series[1].Values = append(r.Series[1].Values, ratio(v[0], total))
			r.Rows = append(r.Rows, []string{reason, itoa(v[0]), pct(v[0], total), itoa(v[1]), itoa(v[2]), itoa(v[3]), itoa(v[4])})
		}
		r.Rows = append(r.Rows, []string{labelTotal, itoa(total), pct(total, total), "", "", "", ""})
		return r, nil
	}
	// Keep the most frequent reasons; fold the rest.
	reasons := byReason.top(0, orDefault(f.Limit, 10))
	kept := map[string]bool{}
	for _, reason := range reasons {
		kept[reason] = true
	}
	grid := map[string]map[string]float64{}
	totals := map[string]float64{}
	for k, v := range cells {
		reason := k[1]
		if !kept[reason] {
			reason = labelOther
		}
		if grid[k[0]] == nil {
			grid[k[0]] = map[string]float64{}
		}
		grid[k[0]][reason] += v
		totals[k[0]] += v
	}
	var labels []string
	if by == "week" {
		var weeks []int64
		for w := range grid {
			d, _ := strconv.ParseInt(w, 10, 64)
			weeks = append(weeks, d)
		}
		slices.Sort(weeks)
		// Every week from the first to the last, with the empty ones.
		if len(weeks) > 0 {
			for w := weeks[0]; w <= weeks[len(weeks)-1]; w += 7 {
				labels = append(labels, strconv.FormatInt(w, 10))
			}
		}
		r.Title = "Rejections by week"
	} else {
		for gl := range grid {
			labels = append(labels, gl)
		}
		sort.Slice(labels, func(i, j int) bool {
			if totals[labels[i]] != totals[labels[j]] {
				return totals[labels[i]] > totals[labels[j]]
			}
			return labels[i] < labels[j]
		})
		r.Title = "Rejections by " + by + " and reason"
		r.Notes = append(r.Notes, "The lead's "+by+" at the time of the rejection.")
	}
	group := by
	r.Columns = []string{group, "reason", "rejections", "share"}
	for _, reason := range reasons {
		r.Series = append(r.Series, baton.Series{Name: reason})
	}
	for _, gl := range labels {
		name := gl
		if by == "week" {
			d, _ := strconv.ParseInt(gl, 10, 64)
			name = dayLabel(d)
		}
		r.Labels = append(r.Labels, name)
		for i, reason := range reasons {
			v := grid[gl][reason]
			r.Series[i].Values = append(r.Series[i].Values, v)
			if v != 0 {
				r.Rows = append(r.Rows, []string{name, reason, itoa(v), pct(v, totals[gl])})
			}
		}
	}
	return r, nil
}

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

// qualityStages are the cohort stages Quality reads, in the order of its
// columns.
var qualityStages = []string{stageLead, "mql", "sal", "sql", "won", "lost"}

// Quality rates the leads created in the period per source (f.By: any
// dimension, default source): leads, MQLs, MQL rate (MQL/leads),
// acceptance rate (SAL/MQL), SQL rate (SQL/SAL), win rate (won/(won+lost)),
// and won value: the close value of the won opportunities of those leads.
// Grouped by the leads' current values. A range scan of report_daily and a
// join of the won opportunities with report_leads.
func (db *DB) Quality(ctx context.Context, f baton.ReportFilter) (*baton.Report, error) {
	tx, err := db.beginReport(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := checkBy(f.By, baton.ReportDimensions...); err != nil {
		return nil, err
	}
	by := f.By
	if by == "" {
		by = baton.DimSource
	}
	p := periodOf(f, tx.now)
	lb, err := tx.labeler(ctx, by)
	if err != nil {
		return nil, err
	}
	const width = 7 // qualityStages, then won value
	g := groups{}
	dim := dimIndex(by)
	if err := tx.dailyCounts(ctx, 'c', dim, p, func(value, stage string, n float64) {
		if i := slices.Index(qualityStages, stage); i >= 0 {
			g.add(lb.label(value), i, n, width)
		}
	}); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT r.`+dimColumns[dim]+`, SUM(o.close_value) FROM opportunities o
		JOIN report_leads r ON r.lead_id = o.lead_id
		WHERE o.stage = 'won' AND r.created_at >= $1 AND r.created_at < $2 GROUP BY r.`+dimColumns[dim], p.fromUS, p.toUS)
	if err != nil {
		return nil, fmt.Errorf("quality: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var value string
		var sum sql.NullFloat64
		if err := rows.Scan(&value, &sum); err != nil {
			return nil, err
		}
		g.add(lb.label(value), 6, sum.Float64, width)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for l, row := range g {
		if allZero(row) {
			delete(g, l)
		}
	}
	labels := g.top(0, orDefault(f.Limit, 20))
	r := &baton.Report{Name: baton.ReportQuality, Title: "Lead quality by " + by,
		Columns: []string{by, "leads", "mql", "sal", "sql", "won", "lost", "mql_rate", "acceptance_rate", "sql_rate", "win_rate", "won_value"},
		Series:  []baton.Series{{Name: "MQL rate (%)"}, {Name: "acceptance rate (%)"}, {Name: "SQL rate (%)"}, {Name: "win rate (%)"}, {Name: "won value"}},
		Notes: []string{"The leads created in the period, by their current " + by + ".",
			"MQL rate = MQL/leads, acceptance = SAL/MQL, SQL rate = SQL/SAL, win rate = won/(won+lost); won value sums the close value of their won opportunities."}}
	total := make([]float64, width)
	row := func(label string, v []float64) []string {
		return []string{label, itoa(v[0]), itoa(v[1]), itoa(v[2]), itoa(v[3]), itoa(v[4]), itoa(v[5]),
			pct(v[1], v[0]), pct(v[2], v[1]), pct(v[3], v[2]), pct(v[4], v[4]+v[5]), strconv.FormatFloat(v[6], 'f', 2, 64)}
	}
	for _, l := range labels {
		v := g[l]
		for i, x := range v {
			total[i] += x
		}
		r.Labels = append(r.Labels, l)
		for i, x := range []float64{ratio(v[1], v[0]), ratio(v[2], v[1]), ratio(v[3], v[2]), ratio(v[4], v[4]+v[5]), v[6]} {
			r.Series[i].Values = append(r.Series[i].Values, x)
		}
		r.Rows = append(r.Rows, row(l, v))
	}
	r.Rows = append(r.Rows, row(labelTotal, total))
	return r, nil
}

// ruleStats counts leads, MQLs, SALs, SQLs, wins and losses.
type ruleStats [6]float64

func (s *ruleStats) add(flags ruleStats) {
	for i, v := range flags {
		s[i] += v
	}
}

// RuleQuality compares, for each rule, the leads created in the period for
// which fired says it fires against the rest: leads, MQL rate (MQL/leads),
// acceptance rate (SAL/MQL), SQL rate (SQL/SAL) and win rate (won/(won+lost)).
// It reads every lead of the period and its account a thousand at a time and
// calls fired on each (about 10 s per million leads): it is for rules that
// are not the published policy's fit rules, which QualityByRule counts from
// counters kept as leads are scored. f.By is not supported.
func (db *DB) RuleQuality(ctx context.Context, f baton.ReportFilter, rules []string, fired baton.FiredRules) (*baton.Report, error) {
	tx, err := db.beginReport(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return tx.ruleQuality(ctx, f, rules, fired)
}

func (tx *Tx) ruleQuality(ctx context.Context, f baton.ReportFilter, rules []string, fired baton.FiredRules) (*baton.Report, error) {
	if err := checkBy(f.By); err != nil {
		return nil, err
	}
	p := periodOf(f, tx.now)
	index := map[string]int{}
	for i, r := range rules {
		index[r] = i
	}
	firedStats := make([]ruleStats, len(rules))
	var all ruleStats
	hit := make([]bool, len(rules))
	var after int64
	for {
		leads, err := tx.leadsCreatedBetween(ctx, p, after, 1000)
		if err != nil {
			return nil, err
		}
		if len(leads) == 0 {
			break
		}
		after = leads[len(leads)-1].ID
		accounts, err := tx.accountsOf(ctx, leads)
		if err != nil {
			return nil, err
		}
		flags, err := tx.reachedFlags(ctx, leads[0].ID, after)
		if err != nil {
			return nil, err
		}
		for _, l := range leads {
			var acc *baton.Account
			if l.AccountID != nil {
				acc = accounts[*l.AccountID]
			}
			st := flags[l.ID]
			st[0] = 1
			all.add(st)
			clear(hit)
			for _, name := range fired(l, acc) {
				if i, ok := index[name]; ok && !hit[i] {
					hit[i] = true
					firedStats[i].add(st)
				}
			}
		}
	}
	return ruleReport(rules, firedStats, all), nil
}

// ruleReport lays out rule quality: each rule's leads against the rest.
func ruleReport(rules []string, firedStats []ruleStats, all ruleStats) *baton.Report {
	r := &baton.Report{Name: baton.ReportRuleFit, Title: "Lead quality by scoring rule",
		Columns: []string{"rule", "leads_fired", "mql_rate_fired", "acceptance_rate_fired", "sql_rate_fired", "win_rate_fired",
			"leads_rest", "mql_rate_rest", "acceptance_rate_rest", "sql_rate_rest", "win_rate_rest"},
		Series: []baton.Series{{Name: "MQL rate, fired (%)"}, {Name: "MQL rate, rest (%)"}, {Name: "acceptance rate, fired (%)"},
			{Name: "acceptance rate, rest (%)"}, {Name: "win rate, fired (%)"}, {Name: "win rate, rest (%)"}},
		Notes: []string{"The leads created in the period for which the rule fires now, against the rest.",
			"MQL rate = MQL/leads, acceptance = SAL/MQL, SQL rate = SQL/SAL, win rate = won/(won+lost)."}}
	cells := func(s ruleStats) []string {
		return []string{itoa(s[0]), pct(s[1], s[0]), pct(s[2], s[1]), pct(s[3], s[2]), pct(s[4], s[4]+s[5])}
	}
	for i, name := range rules {
		fs := firedStats[i]
		var rest ruleStats
		for j := range rest {
			rest[j] = all[j] - fs[j]
		}
		r.Labels = append(r.Labels, name)
		for k, v := range []float64{ratio(fs[1], fs[0]), ratio(rest[1], rest[0]), ratio(fs[2], fs[1]), ratio(rest[2], rest[1]),
			ratio(fs[4], fs[4]+fs[5]), ratio(rest[4], rest[4]+rest[5])} {
			r.Series[k].Values = append(r.Series[k].Values, v)
		}
		r.Rows = append(r.Rows, append(append([]string{name}, cells(fs)...), cells(rest)...))
	}
	return r
}

// leadsCreatedBetween returns up to limit leads created in the period with
// ids after the given one, in id order.
func (tx *Tx) leadsCreatedBetween(ctx context.Context, p period, after int64, limit int) ([]*baton.Lead, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+leadColumns+` FROM leads WHERE id > $1 AND created_at >= $2 AND created_at < $3
		ORDER BY id LIMIT `+strconv.Itoa(limit), after, p.fromUS, p.toUS)
	if err != nil {
		return nil, fmt.Errorf("report leads: %w", err)
	}
	defer rows.Close()
	var out []*baton.Lead
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// reachedFlags returns, for the leads with ids in [first, last], whether
// each reached mql, sal, sql, won and lost (at indexes 1-5).
func (tx *Tx) reachedFlags(ctx context.Context, first, last int64) (map[int64]ruleStats, error) {
	rows, err := tx.QueryContext(ctx, `SELECT lead_id, mql_at IS NOT NULL, sal_at IS NOT NULL, sql_at IS NOT NULL,
		won_at IS NOT NULL, lost_at IS NOT NULL FROM report_leads WHERE lead_id >= $1 AND lead_id <= $2`, first, last)
	if err != nil {
		return nil, fmt.Errorf("report rows: %w", err)
	}
	defer rows.Close()
	out := map[int64]ruleStats{}
	for rows.Next() {
		var id int64
		var b [5]bool
		if err := rows.Scan(&id, &b[0], &b[1], &b[2], &b[3], &b[4]); err != nil {
			return nil, err
		}
		var s ruleStats
		for i, v := range b {
			if v {
				s[i+1] = 1
			}
		}
		out[id] = s
	}
	return out, rows.Err()
}

// QualityByRule is RuleQuality over the fit rules of the published scoring
// policy, from the cohort counters of the fit rules that fire for each lead
// (kept with its scores: report_daily.dim 'fit_rule'), so it reads counters,
// not leads. Without a published policy the report is empty, with a note.
func (db *DB) QualityByRule(ctx context.Context, f baton.ReportFilter) (*baton.Report, error) {
	tx, err := db.beginReport(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := checkBy(f.By); err != nil {
		return nil, err
	}
	sc, err := tx.scorer(ctx)
	if err != nil {
		return nil, err
	}
	rules := sc.fitNames
	index := map[string]int{}
	for i, r := range rules {
		index[r] = i
	}
	stat := map[string]int{stageLead: 0, "mql": 1, "sal": 2, "sql": 3, "won": 4, "lost": 5}
	p := periodOf(f, tx.now)
	firedStats := make([]ruleStats, len(rules))
	var all ruleStats
	if err := tx.dailyCounts(ctx, 'c', dimFitRule, p, func(value, stage string, n float64) {
		if i, ok := index[value]; ok {
			if k, ok := stat[stage]; ok {
				firedStats[i][k] += n
			}
		}
	}); err != nil {
		return nil, err
	}
	if err := tx.dailyCounts(ctx, 'c', dimSource, p, func(_, stage string, n float64) {
		if k, ok := stat[stage]; ok {
			all[k] += n
		}
	}); err != nil {
		return nil, err
	}
	r := ruleReport(rules, firedStats, all)
	if sc.policy == nil {
		r.Notes = append(r.Notes, "No scoring policy is published: there are no rules to compare.")
		return r, nil
	}
	r.Notes = append(r.Notes, fmt.Sprintf("The fit rules of policy v%d.", sc.policyVersion))
	var rescoring bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM jobs WHERE kind = $1 AND done_at IS NULL)`, RescoreJob).Scan(&rescoring); err != nil {
		return nil, fmt.Errorf("rule quality: %w", err)
	}
	if rescoring {
		r.Notes = append(r.Notes, fmt.Sprintf("A rescore by policy v%d is under way: leads it has not reached count with the rules of their version.", sc.policyVersion))
	}
	return r, nil
}

// asOf returns the time Stale and Stalled look at: f.To, or now.
func asOf(f baton.ReportFilter, now time.Time) time.Time {
	if f.To.IsZero() {
		return now
	}
	return f.To.UTC()
}

const oneDay = 24 * time.Hour

// Stale lists the SALs older than f.Days (default 14) at f.To (default now)
// that have no opportunity, oldest first (at most f.Limit, default 100), and
// counts them by owner (the labels). It lists only the leads the actor may
// see, and reads the leads in sal through their stage index.
func (db *DB) Stale(ctx context.Context, f baton.ReportFilter) (*baton.Report, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := checkBy(f.By, baton.DimOwner); err != nil {
		return nil, err
	}
	at := asOf(f, tx.now)
	days := orDefault(f.Days, 14)
	var w where
	tx.scope(&w, "l.")
	w.add("l.stage = ?", string(baton.StageSAL))
	w.add("l.stage_changed_at <= ?", micros(at.Add(-time.Duration(days)*oneDay)))
	w.add("NOT EXISTS (SELECT 1 FROM opportunities o WHERE o.lead_id = l.id)")
	r := &baton.Report{Name: baton.ReportStale, Title: fmt.Sprintf("SALs older than %d days with no opportunity", days),
		Columns: []string{"lead_id", "email", "name", "owner", "source", "campaign", "sal_since", "days_in_sal"},
		Notes:   []string{fmt.Sprintf("As of %s; the labels count the stale SALs by owner.", at.Format(time.RFC3339))}}
	if err := tx.leadList(ctx, r, w, at, orDefault(f.Limit, 100), "", ""); err != nil {
		return nil, err
	}
	return r, nil
}

// Stalled lists the leads in new, recycled or mql for longer than f.Days
// (default 14) at f.To (default now) that had an event in the f.ActiveDays
// (default 7) before it: still engaging, but nobody moves them. Oldest first
// (at most f.Limit, default 100), counted by stage (the labels). It lists
// only the leads the actor may see; it reads the old leads of those stages
// through their stage index and probes each one's latest events.
func (db *DB) Stalled(ctx context.Context, f baton.ReportFilter) (*baton.Report, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := checkBy(f.By, "stage"); err != nil {
		return nil, err
	}
	at := asOf(f, tx.now)
	days, active := orDefault(f.Days, 14), orDefault(f.ActiveDays, 7)
	since := micros(at.Add(-time.Duration(active) * oneDay))
	var w where
	tx.scope(&w, "l.")
	w.add("l.stage IN (?, ?, ?)", string(baton.StageNew), string(baton.StageRecycled), string(baton.StageMQL))
	w.add("l.stage_changed_at <= ?", micros(at.Add(-time.Duration(days)*oneDay)))
	w.add("EXISTS (SELECT 1 FROM events e WHERE e.lead_id = l.id AND e.occurred_at > ? AND e.occurred_at <= ?)", since, micros(at))
	r := &baton.Report{Name: baton.ReportStalled,
		Title:   fmt.Sprintf("Leads in new, recycled or mql for over %d days with events in the last %d", days, active),
		Columns: []string{"lead_id", "email", "name", "owner", "source", "campaign", "stage", "stage_since", "days_in_stage", "events", "last_event"},
		Notes:   []string{fmt.Sprintf("As of %s; the labels count the stalled leads by stage.", at.Format(time.RFC3339))}}
	if err := tx.leadList(ctx, r, w, at, orDefault(f.Limit, 100), "stage", `(SELECT COUNT(*) FROM events e WHERE e.lead_id = l.id AND e.occurred_at > `+
		strconv.FormatInt(since, 10)+` AND e.occurred_at <= `+strconv.FormatInt(micros(at), 10)+`), (SELECT MAX(e.occurred_at) FROM events e WHERE e.lead_id = l.id AND e.occurred_at <= `+
		strconv.FormatInt(micros(at), 10)+`)`); err != nil {
		return nil, err
	}
	return r, nil
}

// leadList fills a lead-list report: counts by owner (or by stage when
// byStage is "stage") for the chart, and the oldest limit leads as rows.
// extra selects two more columns (event count, last event time) for Stalled.
func (tx *Tx) leadList(ctx context.Context, r *baton.Report, w where, at time.Time, limit int, byStage, extra string) error {
	groupCol := "l.owner_id"
	if byStage != "" {
		groupCol = "l.stage"
	}
	rows, err := tx.QueryContext(ctx, `SELECT COALESCE(CAST(`+groupCol+` AS TEXT), ''), COUNT(*) FROM leads l WHERE `+w.String()+` GROUP BY `+groupCol, w.args...)
	if err != nil {
		return fmt.Errorf("%s: %w", r.Name, err)
	}
	counts := map[string]float64{}
	var total float64
	for rows.Next() {
		var g string
		var n int64
		if err := rows.Scan(&g, &n); err != nil {
			rows.Close()
			return err
		}
		counts[g] += float64(n)
		total += float64(n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	lb, err := tx.labeler(ctx, baton.DimOwner)
	if err != nil {
		return err
	}
	r.Series = []baton.Series{{Name: "leads"}}
	if byStage != "" {
		for _, s := range []baton.Stage{baton.StageNew, baton.StageMQL, baton.StageRecycled} {
			r.Labels = append(r.Labels, string(s))
			r.Series[0].Values = append(r.Series[0].Values, counts[string(s)])
		}
	} else {
		g := groups{}
		for k, v := range counts {
			g.add(lb.label(k), 0, v, 1)
		}
		for _, l := range g.top(0, 50) {
			r.Labels = append(r.Labels, l)
			r.Series[0].Values = append(r.Series[0].Values, g[l][0])
		}
	}
	cols := `l.id, COALESCE(l.email, ''), l.name, l.owner_id, l.source, l.campaign, l.stage, l.stage_changed_at`
	if extra != "" {
		cols += ", " + extra
	}
	rows, err = tx.QueryContext(ctx, `SELECT `+cols+` FROM leads l WHERE `+w.String()+` ORDER BY l.stage_changed_at, l.id LIMIT `+strconv.Itoa(limit), w.args...)
	if err != nil {
		return fmt.Errorf("%s: %w", r.Name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, since int64
		var email, name, source, campaign, stage string
		var owner, events, last sql.NullInt64
		dest := []any{&id, &email, &name, &owner, &source, &campaign, &stage, &since}
		if extra != "" {
			dest = append(dest, &events, &last)
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		age := at.Sub(fromMicros(since)).Hours() / 24
		row := []string{strconv.FormatInt(id, 10), email, name, lb.label(fmtID(ptrInt(owner))), source, campaign}
		if byStage != "" {
			row = append(row, stage)
		}
		row = append(row, fromMicros(since).Format(time.RFC3339), strconv.FormatFloat(math.Floor(age*10)/10, 'f', 1, 64))
		if extra != "" {
			lastAt := ""
			if last.Valid {
				lastAt = fromMicros(last.Int64).Format(time.RFC3339)
			}
			row = append(row, strconv.FormatInt(events.Int64, 10), lastAt)
		}
		r.Rows = append(r.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if float64(len(r.Rows)) < total {
		r.Notes = append(r.Notes, fmt.Sprintf("%s leads in all; the %d oldest are listed.", itoa(total), len(r.Rows)))
	} else {
		r.Notes = append(r.Notes, fmt.Sprintf("%s leads.", itoa(total)))
	}
	return nil
}

// RunReport runs the report named name (one of baton.ReportNames).
func (db *DB) RunReport(ctx context.Context, name string, f baton.ReportFilter) (*baton.Report, error) {
	switch name {
	case baton.ReportFunnel:
		return db.Funnel(ctx, f)
	case baton.ReportVelocity:
		return db.Velocity(ctx, f)
	case baton.ReportRejections:
		return db.Rejections(ctx, f)
	case baton.ReportRecycled:
		return db.Recycled(ctx, f)
	case baton.ReportQuality:
		return db.Quality(ctx, f)
	case baton.ReportRuleFit:
		return db.QualityByRule(ctx, f)
	case baton.ReportStale:
		return db.Stale(ctx, f)
	case baton.ReportStalled:
		return db.Stalled(ctx, f)
	case baton.ReportSLA:
		return db.SLA(ctx, f)
	}
	return nil, baton.FieldError("report", "unknown report %q (want one of %s)", name, strings.Join(baton.ReportNames, ", "))
}
