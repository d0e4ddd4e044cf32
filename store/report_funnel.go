package store

import (
	"context"

	"github.com/batonhq/baton"
)

// funnelSteps are the funnel's steps: stored stage and label.
var funnelSteps = []struct{ stage, label string }{
	{stageLead, "Leads"}, {"mql", "MQL"}, {"sal", "SAL"}, {"sql", "SQL"}, {"opportunity", "Opportunity"}, {"won", "Won"},
}

// Funnel counts leads at each step of the funnel (lead, MQL, SAL, SQL,
// opportunity, won) with the step conversion rates (each step over the one
// before), by f.By (any dimension, or none).
//
// With f.Cohort it counts the leads created in the period at every stage
// they ever reached, grouped by their current dimension values. Otherwise it
// counts what happened in the period: leads created, and transitions into
// each stage (a lead that becomes an MQL twice counts twice), grouped by the
// values the lead had at the time of each. One indexed range scan of
// report_daily.
//
// The owner at the time of a step is the one the lead has once the move is
// made, its routing included: an MQL counts under the development rep it
// went to, an SQL under the account executive. A lead counts as a lead
// under the owner it was created with, and a step made with nobody to take
// it under "(unassigned)", even if someone takes the lead later. By team,
// each step counts under the team of the owner who got it, in the period
// and in the cohort alike (a cohort by owner is by the current owner, as
// every dimension's is), so that a team that does the whole path has rates
// of at most 100% (but for leads that go round twice, in the period) and
// one that does a part has counts only there. A team is the owner's team,
// as the users table says now; an owner without one counts under their
// manager's team, and without that under "(no team)".
//
// Within a manager's team (f.Manager) it counts the steps whose owner, as
// by team, is the manager or reports to them, in the period and in the
// cohort (there by the owner who got each step, by owner too), broken down
// by owner or team or not at all. The same range scan, of those owners'
// counters.
func (db *DB) Funnel(ctx context.Context, f baton.ReportFilter) (*baton.Report, error) {
	tx, err := db.beginReport(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := tx.scopeManager(&f, true); err != nil {
		return nil, err
	}
	if err := checkBy(f.By, baton.ReportDimensions...); err != nil {
		return nil, err
	}
	if err := teamBy(f); err != nil {
		return nil, err
	}
	owners, err := tx.teamOwners(ctx, f.Manager)
	if err != nil {
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
	dim := countDim(f.By, kind)
	if owners != nil {
		// The owner who got each step: as by team.
		dim = countDim(baton.DimTeam, kind)
	}
	g := groups{}
	if err := tx.dailyCounts(ctx, kind, dim, p, owners, func(value, stage string, n float64) {
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
	const gotIt = " who got it (an MQL under the development rep it went to, an SQL under the account executive); " +
		"(unassigned) holds the leads created without an owner and the steps made with nobody to take them."
	switch {
	case f.By == baton.DimTeam:
		r.Notes = append(r.Notes, "Each step counts under the team of the owner"+gotIt)
	case f.By == baton.DimOwner && (!f.Cohort || owners != nil):
		r.Notes = append(r.Notes, "Each step counts under the owner"+gotIt)
	}
	if owners != nil {
		note, err := tx.teamNote(ctx, f.Manager, "each step counts if its owner, the one who got it, is one of them")
		if err != nil {
			return nil, err
		}
		r.Notes = append(r.Notes, note)
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
