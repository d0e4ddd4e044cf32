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

// Running the reports. The aggregated ones read the counters that
// afterHistory keeps with each change (report.go, report_agg.go): a range
// scan or two over the period, cut into whole months and the days at its
// edges (period.spans). By file:
//   - report_funnel.go: Funnel;
//   - report_velocity.go: Velocity;
//   - report_rejections.go: Rejections;
//   - report_recycled.go: Recycled;
//   - report_quality.go: Quality and QualityByRule from the counters, and
//     RuleQuality, which reads the leads;
//   - report_stale.go: Stale and Stalled, lists of the leads nobody moves,
//     read from the leads;
//   - report_sla.go: SLA, from the handoffs.
//
// This file holds RunReport, which runs one by name, and what they share:
// who may read them, the period, and the labels and groups of a breakdown.
// RebuildReports (report_rebuild.go) recomputes the counters from the
// history.

// Reports is the ReportService of the database.
func (db *DB) Reports() baton.ReportService { return db }

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

// Labels of groups that have no value of their own.
const (
	labelNone       = "(none)"
	labelOther      = "(other)"
	labelTotal      = "(total)"
	labelUnassigned = "(unassigned)"
	// labelNoTeam is the team of an owner who has none, nor a manager who
	// has one.
	labelNoTeam = "(no team)"
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
	tx, err := db.beginLagged(ctx)
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

// dailyCounts sums report_daily by dimension value and stage over a period;
// with values, only the counters of those values.
func (tx *Tx) dailyCounts(ctx context.Context, kind byte, dim int, p period, values []string, fn func(value, stage string, n float64)) error {
	cond, args := "kind = $1 AND dim = $2", []any{string(kind), dimNames[dim]}
	if values != nil {
		var in string
		in, args = inValues(args, values)
		cond += " AND value IN " + in
	}
	q, args := tx.spanQuery("value, stage, n", "report_daily", cond, p.spans(), args...)
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

// teamOwners returns the owners of a manager's team (ReportFilter.Manager)
// as the counters name them (user ids as text): the manager and the users
// who report to them now, active or not. It returns nil for no team
// (manager 0), and refuses a manager who is not a user.
func (tx *Tx) teamOwners(ctx context.Context, manager int64) ([]string, error) {
	if manager == 0 {
		return nil, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id FROM users WHERE id = $1 OR manager_id = $1 ORDER BY id`, manager)
	if err != nil {
		return nil, fmt.Errorf("report team: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, strconv.FormatInt(id, 10))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !slices.Contains(out, strconv.FormatInt(manager, 10)) {
		return nil, baton.FieldError("manager", "there is no user %d", manager)
	}
	return out, nil
}

// scopeManager keeps a manager to their own team, as the SLA report does: a
// team named (ReportFilter.Manager) must be theirs, and a breakdown by
// owner (each rep's results) is of their team only: within it where the
// report keeps its counts by owner (teamKept), refused where it does not.
// Other breakdowns (by source, by team) stay company-wide. Other roles are
// left as they are.
func (tx *Tx) scopeManager(f *baton.ReportFilter, teamKept bool) error {
	if tx.actor.Role != baton.RoleManager {
		return nil
	}
	if f.Manager != 0 && f.Manager != tx.actor.UserID {
		return baton.Errorf(baton.EFORBIDDEN, "a manager reads the reports of their own team: leave manager out, or give %d", tx.actor.UserID)
	}
	if f.By != baton.DimOwner {
		return nil
	}
	if !teamKept {
		return baton.FieldError("by", "a manager sees the results of their own team's reps only, which this report does not keep apart: break it down by another dimension")
	}
	f.Manager = tx.actor.UserID
	return nil
}

// checkTeam refuses a team (ReportFilter.Manager) to the reports not kept
// by owner.
func checkTeam(f baton.ReportFilter, report string) error {
	if f.Manager == 0 {
		return nil
	}
	return baton.FieldError("manager", "the %s report is not kept by team: leave manager out", report)
}

// teamBy checks the breakdown of a report within a team: by owner or team
// only, the dimensions the counters keep by owner.
func teamBy(f baton.ReportFilter) error {
	if f.Manager == 0 || f.By == "" || f.By == baton.DimOwner || f.By == baton.DimTeam {
		return nil
	}
	return baton.FieldError("by", "within a team this report breaks down by owner or team only, not by %q", f.By)
}

// inValues appends values to args and returns the IN list of their
// parameters, "($n, ...)", numbered after those already in args.
func inValues(args []any, values []string) (string, []any) {
	var b strings.Builder
	b.WriteByte('(')
	for i, v := range values {
		if i > 0 {
			b.WriteByte(',')
		}
		args = append(args, v)
		b.WriteString("$" + strconv.Itoa(len(args)))
	}
	if len(values) == 0 {
		b.WriteString("NULL") // matches nothing
	}
	b.WriteByte(')')
	return b.String(), args
}

// teamNote is the note of a report within a team.
func (tx *Tx) teamNote(ctx context.Context, manager int64, how string) (string, error) {
	var name string
	if err := tx.QueryRowContext(ctx, `SELECT name FROM users WHERE id = $1`, manager).Scan(&name); err != nil {
		return "", fmt.Errorf("report team: %w", err)
	}
	return "Within the team of " + name + ": " + name + " and the people who report to them; " + how + ".", nil
}

// checkBy checks a breakdown dimension against those a report accepts.
func checkBy(by string, allowed ...string) error {
	if by == "" || slices.Contains(allowed, by) {
		return nil
	}
	if len(allowed) == 0 {
		return baton.FieldError("by", "this report has no breakdown (got %q): leave by out", by)
	}
	return baton.FieldError("by", "cannot break this report down by %q (want one of %s)", by, strings.Join(allowed, ", "))
}

// dimIndex returns the index of the stored dimension that a breakdown reads
// in the cohort counters (and its column in report_leads): a team is the
// team of the owner who got each step (dimStepOwner).
func dimIndex(by string) int { return countDim(by, 'c') }

// countDim returns the index of the stored dimension that a breakdown reads
// in the counters of a kind. A team is resolved from owners when a report
// runs: in the period counters from the owner of each transition (dimOwner
// counts each under the owner once its move was made), in the cohort ones
// from the owner who got each step (dimStepOwner), not the lead's current
// owner, so that a step counts under the team that took it.
func countDim(by string, kind byte) int {
	if by == baton.DimTeam {
		if kind == 'p' {
			return dimOwner
		}
		return dimStepOwner
	}
	for i, n := range dimNames[:nDims] {
		if n == by {
			return i
		}
	}
	return dimSource
}

// labeler names the groups of a dimension: owners by name, teams by the
// owner's team (see teamsOf), no owner as "(unassigned)", other empty values
// as "(none)".
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
	rows, err := tx.QueryContext(ctx, `SELECT id, name, team, manager_id FROM users`)
	if err != nil {
		return nil, fmt.Errorf("report users: %w", err)
	}
	defer rows.Close()
	var users []reportUser
	lb.names = map[string]string{}
	for rows.Next() {
		var u reportUser
		var name string
		var manager sql.NullInt64
		if err := rows.Scan(&u.id, &name, &u.team, &manager); err != nil {
			return nil, err
		}
		u.manager = manager.Int64
		k := strconv.FormatInt(u.id, 10)
		lb.names[k] = name + " (" + k + ")"
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	lb.teams = teamsOf(users)
	return lb, nil
}

// reportUser is what the reports need of a user to find their team.
type reportUser struct {
	id, manager int64 // manager 0: none
	team        string
}

// teamsOf returns the team the reports count each user under, by user id
// as text: the user's own team (users.team); for a user without one, their
// manager's team, so that a new rep whose team nobody filled in still
// counts with the people they work with; else "(no team)". Only the direct
// manager is asked: a chain of managers without teams is not a team.
func teamsOf(users []reportUser) map[string]string {
	own := make(map[int64]string, len(users))
	for _, u := range users {
		own[u.id] = u.team
	}
	out := make(map[string]string, len(users))
	for _, u := range users {
		team := u.team
		if team == "" {
			team = own[u.manager]
		}
		if team == "" {
			team = labelNoTeam
		}
		out[strconv.FormatInt(u.id, 10)] = team
	}
	return out
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
		return labelNoTeam
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

func allZero(v []float64) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
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
