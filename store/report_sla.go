package store

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// SLA reports how reps answered their handoffs assigned in the period: how
// many, the share answered within the window, the median working time to
// answer, reminders and breaches, by rep (or by team with f.By "team"); and
// the handoffs open now, with those due within two hours. Marketing,
// managers (their team) and admins may run it.
func (db *DB) SLA(ctx context.Context, f baton.ReportFilter) (*baton.Report, error) {
	tx, err := db.beginLagged(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if tx.actor.Role.Rep() {
		return nil, baton.Errorf(baton.EFORBIDDEN, "the SLA report is for managers, marketing and admins")
	}
	if err := checkTeam(f, baton.ReportSLA); err != nil {
		return nil, err
	}
	if f.By != "" && f.By != baton.DimOwner && f.By != baton.DimTeam {
		return nil, baton.FieldError("by", "the SLA report is by owner or team, not %q", f.By)
	}
	to := f.To
	if to.IsZero() {
		to = tx.now.Add(time.Microsecond) // through now
	}
	from := f.From
	if from.IsZero() {
		from = to.AddDate(0, 0, -90)
	}
	var w where
	w.add("h.assigned_at >= ?", micros(from))
	w.add("h.assigned_at < ?", micros(to))
	if tx.actor.Role == baton.RoleManager {
		w.add("h.owner_id IN (SELECT id FROM users WHERE id = ? OR manager_id = ?)", tx.actor.UserID, tx.actor.UserID)
	}
	type group struct {
		name                                              string
		handoffs, answered, met, reminded, breached, open int
		missed                                            int // breached and never answered
		dueSoon                                           int
		minutes                                           map[int64]int // working minutes to answer -> answers
	}
	// Reps by id, with their names and teams.
	users := map[int64][2]string{}
	urows, err := tx.QueryContext(ctx, `SELECT id, name, team FROM users`)
	if err != nil {
		return nil, err
	}
	for urows.Next() {
		var id int64
		var name, team string
		if err := urows.Scan(&id, &name, &team); err != nil {
			urows.Close()
			return nil, err
		}
		users[id] = [2]string{name + " (" + strconv.FormatInt(id, 10) + ")", team}
	}
	urows.Close()
	groups := map[string]*group{}
	total := &group{name: "(total)", minutes: map[int64]int{}}
	groupOf := func(owner int64) *group {
		key := users[owner][0]
		if f.By == baton.DimTeam {
			key = users[owner][1]
		}
		g := groups[key]
		if g == nil {
			g = &group{name: key, minutes: map[int64]int{}}
			groups[key] = g
		}
		return g
	}
	// One pass in SQL: counts per rep and minute of working time to answer
	// (-1 for handoffs not answered), so that medians are exact to the
	// minute without reading every handoff. On SQLite the handoffs_sla index
	// is in that order, so the grouping needs no sort; its expression is
	// slaMinute word for word.
	args := append([]any{micros(tx.now.Add(2 * time.Hour))}, w.args...)
	table := `handoffs h`
	if tx.db.backend == SQLite {
		table = `handoffs h INDEXED BY handoffs_sla`
	}
	q := `SELECT h.owner_id, ` + slaMinute + ` AS minute, COUNT(*),
		SUM(CASE WHEN h.state IN ('accepted', 'rejected') AND h.met THEN 1 ELSE 0 END),
		SUM(CASE WHEN h.reminded_at IS NOT NULL THEN 1 ELSE 0 END),
		SUM(CASE WHEN h.breached_at IS NOT NULL THEN 1 ELSE 0 END),
		SUM(CASE WHEN h.state = 'open' AND h.breached_at IS NULL THEN 1 ELSE 0 END),
		SUM(CASE WHEN h.state = 'open' AND h.breached_at IS NULL AND h.due_at <= $1 THEN 1 ELSE 0 END),
		SUM(CASE WHEN h.state NOT IN ('accepted', 'rejected') AND h.breached_at IS NOT NULL THEN 1 ELSE 0 END)
		FROM ` + table + ` WHERE ` + renumber(w.String(), 1) + ` GROUP BY h.owner_id, minute`
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sla report: %w", err)
	}
	for rows.Next() {
		var owner, minute int64
		var c [7]int
		if err := rows.Scan(&owner, &minute, &c[0], &c[1], &c[2], &c[3], &c[4], &c[5], &c[6]); err != nil {
			rows.Close()
			return nil, err
		}
		for _, g := range []*group{groupOf(owner), total} {
			g.handoffs += c[0]
			if minute >= 0 {
				g.answered += c[0]
				g.minutes[minute] += c[0]
			}
			g.met += c[1]
			g.reminded += c[2]
			g.breached += c[3]
			g.open += c[4]
			g.dueSoon += c[5]
			g.missed += c[6]
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	list := make([]*group, 0, len(groups))
	for _, g := range groups {
		list = append(list, g)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
	list = append(list, total)
	by := "owner"
	if f.By == baton.DimTeam {
		by = "team"
	}
	r := &baton.Report{Name: baton.ReportSLA, Title: fmt.Sprintf("SLA compliance of handoffs assigned %s to %s", from.Format("2006-01-02"), to.Format("2006-01-02")),
		Columns: []string{by, "handoffs", "answered", "within_sla_pct", "median_working_minutes", "reminded", "breached", "open", "due_within_2h"},
		Series:  []baton.Series{{Name: "within SLA %"}, {Name: "breached"}},
		Notes: []string{"Answered means accepted or rejected (an AE's send-back too). Within the SLA is the share of the handoffs " +
			"answered or breached that were answered before the deadline, in the team's working time."}}
	for _, g := range list {
		pct, median := "", ""
		if g.answered+g.missed > 0 {
			pct = strconv.FormatFloat(100*float64(g.met)/float64(g.answered+g.missed), 'f', 1, 64)
		}
		if g.answered > 0 {
			median = strconv.FormatFloat(float64(medianOf(g.minutes, g.answered)), 'f', 1, 64)
		}
		r.Rows = append(r.Rows, []string{g.name, strconv.Itoa(g.handoffs), strconv.Itoa(g.answered), pct, median,
			strconv.Itoa(g.reminded), strconv.Itoa(g.breached), strconv.Itoa(g.open), strconv.Itoa(g.dueSoon)})
		if g != total {
			r.Labels = append(r.Labels, g.name)
			p, _ := strconv.ParseFloat(pct, 64)
			r.Series[0].Values = append(r.Series[0].Values, p)
			r.Series[1].Values = append(r.Series[1].Values, float64(g.breached))
		}
	}
	return r, nil
}

// slaMinute is the minute of working time a handoff took to be answered, -1
// when it was not (the states are baton.HandoffAccepted and HandoffRejected):
// the expression of the handoffs_sla index (migration 0006).
const slaMinute = `CASE WHEN state IN ('accepted', 'rejected') THEN working_seconds / 60 ELSE -1 END`

// medianOf returns the median of a histogram of n values.
func medianOf(h map[int64]int, n int) int64 {
	keys := make([]int64, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	seen := 0
	for _, k := range keys {
		seen += h[k]
		if seen > n/2 {
			return k
		}
	}
	return 0
}

// renumber shifts the $n placeholders of a condition by k, for a condition
// built from 1 and used after k other parameters.
func renumber(cond string, k int) string {
	var b strings.Builder
	for i := 0; i < len(cond); i++ {
		if cond[i] != '$' {
			b.WriteByte(cond[i])
			continue
		}
		j := i + 1
		for j < len(cond) && cond[j] >= '0' && cond[j] <= '9' {
			j++
		}
		n, _ := strconv.Atoi(cond[i+1 : j])
		b.WriteString("$" + strconv.Itoa(n+k))
		i = j - 1
	}
	return b.String()
}
