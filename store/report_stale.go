package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/batonhq/baton"
)

// Stale lists the SALs older than f.Days (default 14) at f.To (default now)
// that have no opportunity, oldest first (at most f.Limit, default 100), and
// counts them by owner (the labels). It lists only the leads the actor may
// see, and reads the leads in sal through their stage index.
func (db *DB) Stale(ctx context.Context, f baton.ReportFilter) (*baton.Report, error) {
	tx, err := db.beginLagged(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := checkTeam(f, baton.ReportStale); err != nil {
		return nil, err
	}
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
	tx, err := db.beginLagged(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := checkTeam(f, baton.ReportStalled); err != nil {
		return nil, err
	}
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

// asOf returns the time Stale and Stalled look at: f.To, or now.
func asOf(f baton.ReportFilter, now time.Time) time.Time {
	if f.To.IsZero() {
		return now
	}
	return f.To.UTC()
}

const oneDay = 24 * time.Hour

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
