package baton

import (
	"context"
	"encoding/json"
	"io"
	"time"
)

// The names of the reports (Report.Name), as the web UI and the CSV export
// name them.
const (
	ReportFunnel     = "funnel"
	ReportVelocity   = "velocity"
	ReportRejections = "rejections"
	ReportRecycled   = "recycled"
	ReportQuality    = "quality"
	ReportRuleFit    = "quality_rules"
	ReportStale      = "stale"
	ReportStalled    = "stalled"
	ReportSLA        = "sla"
)

// ReportNames lists the reports RunReport knows, in menu order.
var ReportNames = []string{ReportFunnel, ReportVelocity, ReportSLA, ReportRejections, ReportRecycled,
	ReportQuality, ReportRuleFit, ReportStale, ReportStalled}

// The dimensions a report can be broken down by (ReportFilter.By).
const (
	// DimSource is the lead's source.
	DimSource = "source"
	// DimCampaign is the lead's campaign.
	DimCampaign = "campaign"
	// DimIndustry is the industry of the lead's account.
	DimIndustry = "industry"
	// DimSize is the size band of the lead's account (see SizeBand).
	DimSize = "size"
	// DimCountry is the lead's country.
	DimCountry = "country"
	// DimTeam is the team of the lead's owner.
	DimTeam = "team"
	// DimOwner is the lead's owner.
	DimOwner = "owner"
)

// ReportDimensions lists the dimensions, in menu order.
var ReportDimensions = []string{DimSource, DimCampaign, DimIndustry, DimSize, DimCountry, DimTeam, DimOwner}

// SizeBands are the account size bands, by employees, smallest first;
// "unknown" is a lead without an account or an account without a head count.
var SizeBands = []string{"1-49", "50-199", "200-999", "1000-4999", "5000+", "unknown"}

// SizeBand returns the size band of an account with this many employees
// (nil: unknown). Fewer than one employee counts as the smallest band.
func SizeBand(employees *int64) string {
	if employees == nil {
		return "unknown"
	}
	switch n := *employees; {
	case n < 50:
		return "1-49"
	case n < 200:
		return "50-199"
	case n < 1000:
		return "200-999"
	case n < 5000:
		return "1000-4999"
	}
	return "5000+"
}

// ReportFilter selects what a report covers.
type ReportFilter struct {
	// From and To bound the period [From, To) in whole UTC days: From is
	// rounded down to its midnight, To up to the next midnight (unless it is
	// one). A zero From is the beginning of time; a zero To is the end of
	// today. Stale and Stalled take To (zero: now) as the time they look at.
	From, To time.Time
	// By is the dimension to break the report down by (one of
	// ReportDimensions), or "" for no breakdown. Each report says which it
	// accepts.
	By string
	// Cohort makes the funnel count the leads created in the period at every
	// stage they ever reached; otherwise it counts the transitions made in
	// the period.
	Cohort bool
	// Limit is the most groups (or, for lead lists, rows) a report shows;
	// 0 means the report's default. Groups past it are summed as "(other)".
	Limit int
	// Days is the age threshold of Stale and Stalled, in days (default 14).
	Days int
	// ActiveDays is how recent an event must be for Stalled to count a lead
	// as still engaging, in days (default 7).
	ActiveDays int
	// Manager, when not 0, scopes the Funnel, Velocity, Rejections and
	// ReportLeads to a manager's team: the manager and the users who report
	// to them (as the users table says now), each step counted under its
	// owner at the time as the report says (the funnel's under the owner who
	// got the step, a rejection under the owner who rejected, a duration
	// under the owner who held the lead until it moved on). Within a team a
	// report breaks down by owner or team only. The other reports refuse it.
	Manager int64
	// Offset is how many rows of ReportLeads to skip (Limit: how many to
	// return, default 50).
	Offset int
}

// ReportCell names a number of a report, for ReportLeads: a step of the
// funnel of the period (Report ReportFunnel, Step one of FunnelSteps) or
// the rejections for a reason (Report ReportRejections, Reason; "" is all
// of them, "(none)" those given none).
type ReportCell struct {
	Report string `json:"report"`
	Step   string `json:"step,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// FunnelSteps are the steps of the funnel, as ReportCell.Step names them:
// "lead" is a lead's creation, the others the stage the lead entered.
var FunnelSteps = []string{"lead", "mql", "sal", "sql", "opportunity", "won"}

// ReportLeads are the leads behind a number of a report.
type ReportLeads struct {
	// Count is the number as the report has it: a lead that made the step
	// twice in the period counts twice.
	Count int `json:"count"`
	// Total is how many leads made it; Hidden how many of them the actor
	// may not see (they have left the actor's team, or have no owner now).
	Total  int `json:"total"`
	Hidden int `json:"hidden"`
	// Leads are the ones the actor may see, the latest step first, from
	// ReportFilter.Offset, ReportFilter.Limit at most.
	Leads []*Lead `json:"leads"`
}

// Report is a report in a charting-ready shape: a chart draws Series over
// Labels as bars or lines without reshaping, and the table form (Columns and
// Rows) is what the CSV export writes.
type Report struct {
	// Name is the report's name (ReportFunnel, ...); Title a human title.
	Name  string `json:"name"`
	Title string `json:"title"`
	// Labels are the x-axis categories (or the chart's rows).
	Labels []string `json:"labels"`
	// Series are the values to plot, each with one value per label.
	Series []Series `json:"series"`
	// Columns and Rows are the table form.
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
	// Notes explain definitions and caveats, one sentence each.
	Notes []string `json:"notes,omitempty"`
}

// Series is one named line or set of bars of a chart: Values[i] belongs to
// the report's Labels[i].
type Series struct {
	Name   string    `json:"name"`
	Values []float64 `json:"values"`
}

// MarshalJSON writes the report with every array present, [] when empty
// and never null: a report without rows is still a chart and a table to
// its clients (and their generated types say array).
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report // without this method
	p := plain(r)
	p.Labels = orEmpty(p.Labels)
	p.Columns = orEmpty(p.Columns)
	p.Series = make([]Series, len(r.Series))
	for i, s := range r.Series {
		p.Series[i] = Series{Name: s.Name, Values: orEmpty(s.Values)}
	}
	p.Rows = make([][]string, len(r.Rows))
	for i, row := range r.Rows {
		p.Rows[i] = orEmpty(row)
	}
	return json.Marshal(p)
}

// orEmpty returns xs, or an empty slice for nil.
func orEmpty[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// WriteCSV writes the report's table (Columns, then Rows) as CSV that is
// safe to open in a spreadsheet (CSVWriter): a source or campaign named
// like a formula is written as text.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := NewCSVWriter(w)
	if err := cw.Write(r.Columns); err != nil {
		return err
	}
	return cw.WriteAll(r.Rows)
}

// FiredRules returns the names of the scoring rules that fire for a lead and
// its account (nil when it has none), for RuleQuality.
type FiredRules func(l *Lead, a *Account) []string

// ReportService computes the reports that close the loop between marketing
// and sales. Aggregated reports need the admin, marketing or manager role (or
// the system); Stale and Stalled list only the leads the actor may see.
type ReportService interface {
	// Funnel counts leads, MQLs, SALs, SQLs, opportunities and wins, with
	// the step conversion rates, by cohort or by period (f.Cohort), broken
	// down by any dimension.
	Funnel(ctx context.Context, f ReportFilter) (*Report, error)
	// Velocity gives the median and 90th percentile of the time spent in
	// each stage and of the main steps, over the transitions made in the
	// period.
	Velocity(ctx context.Context, f ReportFilter) (*Report, error)
	// Rejections counts the leads sales rejected (mql or sal to recycled or
	// disqualified) in the period by reason, broken down by source,
	// campaign or week (f.By).
	Rejections(ctx context.Context, f ReportFilter) (*Report, error)
	// Recycled follows the leads first recycled in the period: how many came
	// back (became an MQL again) and where they are now.
	Recycled(ctx context.Context, f ReportFilter) (*Report, error)
	// Quality rates the leads created in the period per source (or f.By):
	// leads, MQLs, acceptance, SQL and win rates, and won value.
	Quality(ctx context.Context, f ReportFilter) (*Report, error)
	// RuleQuality compares, for each rule, the leads created in the period
	// for which it fires against the rest.
	RuleQuality(ctx context.Context, f ReportFilter, rules []string, fired FiredRules) (*Report, error)
	// QualityByRule is RuleQuality over the fit rules of the published
	// scoring policy, as they fired when each lead was last scored.
	QualityByRule(ctx context.Context, f ReportFilter) (*Report, error)
	// Stale lists the SALs older than f.Days with no opportunity.
	Stale(ctx context.Context, f ReportFilter) (*Report, error)
	// Stalled lists the leads in new, recycled or mql for longer than f.Days
	// that had an event in the last f.ActiveDays.
	Stalled(ctx context.Context, f ReportFilter) (*Report, error)
	// RunReport runs the report named name (one of ReportNames).
	RunReport(ctx context.Context, name string, f ReportFilter) (*Report, error)
	// ReportLeads lists the leads behind a number of the funnel of the
	// period or of the rejections, in f's period and team (f.Manager).
	ReportLeads(ctx context.Context, f ReportFilter, c ReportCell) (*ReportLeads, error)
}
