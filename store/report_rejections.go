package store

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"

	"github.com/batonhq/baton"
)

// Rejections counts the leads sales rejected in the period (moved from mql or
// sal to recycled or disqualified), by the reason given. With f.By ""
// (or "reason") the labels are the reasons, with count and share; with
// "source" or "campaign" (the lead's at the time), "owner" (the one who
// rejected: the lead's owner as it was rejected) or "week" (weeks starting
// on Monday, UTC) the labels are those groups and there is one series per
// reason (the f.Limit most frequent, default 10, the rest as "(other)").
// Within a manager's team (f.Manager) it counts the rejections by the
// manager or the people who report to them, by reason, owner or week.
// One indexed range scan of report_rejections.
func (db *DB) Rejections(ctx context.Context, f baton.ReportFilter) (*baton.Report, error) {
	tx, err := db.beginReport(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := tx.scopeManager(&f, true); err != nil {
		return nil, err
	}
	by := f.By
	if by == "reason" {
		by = ""
	}
	if err := checkBy(by, baton.DimSource, baton.DimCampaign, baton.DimOwner, "week"); err != nil {
		return nil, err
	}
	owners, err := tx.teamOwners(ctx, f.Manager)
	if err != nil {
		return nil, err
	}
	if owners != nil && (by == baton.DimSource || by == baton.DimCampaign) {
		return nil, baton.FieldError("by", "within a team the rejections break down by reason, owner or week, not by %q", by)
	}
	lb, err := tx.labeler(ctx, by)
	if err != nil {
		return nil, err
	}
	p := periodOf(f, tx.now)
	col, dim, spans := "value", by, p.spans()
	if by == "week" {
		// Weeks need days.
		col, dim, spans = "CAST(day AS TEXT)", "", []span{{"d", p.fromDay, p.toDay}}
	}
	cond, condArgs := "dim = $1", []any{dim}
	if owners != nil {
		var in string
		in, condArgs = inValues([]any{baton.DimOwner}, owners)
		cond = "dim = $1 AND value IN " + in
	}
	q, args := tx.spanQuery(col+" AS grp, reason, from_stage, to_stage, n", "report_rejections", cond, spans, condArgs...)
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
		case baton.DimOwner:
			group = lb.label(group)
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
	if owners != nil {
		note, err := tx.teamNote(ctx, f.Manager, "each rejection counts under the owner who rejected the lead")
		if err != nil {
			return nil, err
		}
		r.Notes = append(r.Notes, note)
	}
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
		if by == baton.DimOwner {
			r.Notes = append(r.Notes, "The owner who rejected: the lead's owner as it was rejected.")
		} else {
			r.Notes = append(r.Notes, "The lead's "+by+" at the time of the rejection.")
		}
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

// weekOf returns the first day (a Monday) of a day's week.
func weekOf(day int64) int64 {
	return day - ((day%7 + 7 + 3) % 7)
}

func dayLabel(day int64) string { return fromMicros(dayStart(day)).Format("2006-01-02") }
