package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"

	"github.com/batonhq/baton"
)

// How good the leads are: by source or another dimension (Quality), or by
// the scoring rules that fire for them (QualityByRule, from the counters of
// the published policy's fit rules; RuleQuality, for any rules, reading the
// leads).

// qualityStages are the cohort stages Quality reads, in the order of its
// columns.
var qualityStages = []string{stageLead, "mql", "sal", "sql", "won", "lost"}

// Quality rates the leads created in the period per source (f.By: any
// dimension, default source): leads, MQLs, MQL rate (MQL/leads),
// acceptance rate (SAL/MQL), SQL rate (SQL/SAL), win rate (won/(won+lost)),
// and won value: the close value of the won opportunities of those leads.
// Grouped by the leads' current values, except by team and owner, where each
// step counts under the owner the lead had when it reached the step (see
// Funnel); the won value goes with the lead's current owner, who won it. A
// range scan of report_daily and a join of the won opportunities with
// report_leads.
func (db *DB) Quality(ctx context.Context, f baton.ReportFilter) (*baton.Report, error) {
	tx, err := db.beginReport(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := tx.scopeManager(&f, false); err != nil {
		return nil, err
	}
	if err := checkTeam(f, baton.ReportQuality); err != nil {
		return nil, err
	}
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
	if err := tx.dailyCounts(ctx, 'c', dim, p, nil, func(value, stage string, n float64) {
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
	if err := checkTeam(f, baton.ReportRuleFit); err != nil {
		return nil, err
	}
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
	if err := tx.dailyCounts(ctx, 'c', dimFitRule, p, nil, func(value, stage string, n float64) {
		if i, ok := index[value]; ok {
			if k, ok := stat[stage]; ok {
				firedStats[i][k] += n
			}
		}
	}); err != nil {
		return nil, err
	}
	if err := tx.dailyCounts(ctx, 'c', dimSource, p, nil, func(_, stage string, n float64) {
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
	if err := checkTeam(f, "rule quality"); err != nil {
		return nil, err
	}
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

// ruleStats counts leads, MQLs, SALs, SQLs, wins and losses.
type ruleStats [6]float64

func (s *ruleStats) add(flags ruleStats) {
	for i, v := range flags {
		s[i] += v
	}
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
