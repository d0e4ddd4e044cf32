package store

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/batonhq/baton"
)

// SLA reports how reps answered their handoffs assigned in the period: how
// many, the share answered within the window, the median working time to
// answer, reminders and breaches, by rep (or by team with f.By "team"); and
// the handoffs open now, with those due within two hours. Marketing,
// managers (their team) and admins may run it.
func (db *DB) SLA(ctx context.Context, f baton.ReportFilter) (*baton.Report, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if tx.actor.Role.Rep() {
		return nil, baton.Errorf(baton.EFORBIDDEN, "the SLA report is for managers, marketing and admins")
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
		w.add("(u.id = ? OR u.manager_id = ?)", tx.actor.UserID, tx.actor.UserID)
	}
	rows, err := tx.QueryContext(ctx, `SELECT u.name, u.id, u.team, h.state, h.met, h.working_seconds, h.reminded_at IS NOT NULL,
		h.breached_at IS NOT NULL, h.due_at FROM handoffs h JOIN users u ON u.id = h.owner_id WHERE `+w.String(), w.args...)
	if err != nil {
		return nil, fmt.Errorf("sla report: %w", err)
	}
	defer rows.Close()
	type group struct {
		name                                              string
		handoffs, answered, met, reminded, breached, open int
		missed                                            int // breached and never answered
		dueSoon                                           int
		secs                                              []int64
	}
	groups := map[string]*group{}
	total := &group{name: "(total)"}
	soon := micros(tx.now.Add(2 * time.Hour))
	for rows.Next() {
		var name, team, state string
		var uid, secs, due int64
		var met *bool
		var reminded, breached bool
		if err := rows.Scan(&name, &uid, &team, &state, &met, &secs, &reminded, &breached, &due); err != nil {
			return nil, err
		}
		key := name + " (" + strconv.FormatInt(uid, 10) + ")"
		if f.By == baton.DimTeam {
			key = team
		}
		g := groups[key]
		if g == nil {
			g = &group{name: key}
			groups[key] = g
		}
		for _, x := range []*group{g, total} {
			x.handoffs++
			if reminded {
				x.reminded++
			}
			if breached {
				x.breached++
			}
			switch {
			case state == baton.HandoffOpen && !breached:
				x.open++
				if due <= soon {
					x.dueSoon++
				}
			case state == baton.HandoffAccepted || state == baton.HandoffRejected:
				x.answered++
				x.secs = append(x.secs, secs)
				if met != nil && *met {
					x.met++
				}
			case breached:
				x.missed++
			}
		}
	}
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
			sort.Slice(g.secs, func(i, j int) bool { return g.secs[i] < g.secs[j] })
			median = strconv.FormatFloat(float64(g.secs[len(g.secs)/2])/60, 'f', 1, 64)
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
