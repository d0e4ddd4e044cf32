package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"

	"github.com/batonhq/baton"
)

// ReportLeads lists the leads behind a number of the funnel of the period
// (a step: the leads created, or moved into the step's stage, in the period
// under an owner of the team) or of the rejections (a reason: the leads
// rejected for it in the period by an owner of the team), as Funnel and
// Rejections count them, in f's period and team (f.Manager; everyone
// without). Every lead counted is in Total; those the actor may not see (a
// manager: leads now owned outside the team, or by nobody) are in Hidden,
// not in Leads. The rows come from report_steps, an index range per owner.
func (db *DB) ReportLeads(ctx context.Context, f baton.ReportFilter, c baton.ReportCell) (*baton.ReportLeads, error) {
	tx, err := db.beginReport(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := tx.scopeManager(&f, true); err != nil {
		return nil, err
	}
	var step string
	switch c.Report {
	case baton.ReportFunnel:
		if f.Cohort {
			return nil, baton.FieldError("cohort", "the leads behind the funnel are listed for the period only, not for a cohort")
		}
		if !slices.Contains(baton.FunnelSteps, c.Step) {
			return nil, baton.FieldError("step", "unknown step %q (want one of %v)", c.Step, baton.FunnelSteps)
		}
		step = c.Step
	case baton.ReportRejections:
		switch c.Reason {
		case "":
			return nil, baton.FieldError("reason", "required: the reason whose rejections to list")
		case labelNone:
			step = rejectedStep
		default:
			step = rejectedStep + c.Reason
		}
	default:
		return nil, baton.FieldError("report", "the leads behind a number are listed for the funnel and the rejections, not for %q", c.Report)
	}
	owners, err := tx.teamOwners(ctx, f.Manager)
	if err != nil {
		return nil, err
	}
	if owners == nil {
		// Everyone: every user, and nobody. Naming them keeps the query an
		// index range per owner.
		if owners, err = tx.everyOwner(ctx); err != nil {
			return nil, err
		}
	}
	team, err := tx.actorTeam(ctx)
	if err != nil {
		return nil, err
	}
	p := periodOf(f, tx.now)
	in, args := inValues([]any{step, p.fromUS, p.toUS}, owners)
	rows, err := tx.QueryContext(ctx, `SELECT s.lead_id, s.at, s.n, l.owner_id FROM (
		SELECT lead_id, MAX(at) AS at, CAST(SUM(n) AS BIGINT) AS n FROM report_steps
		WHERE step = $1 AND owner IN `+in+` AND at >= $2 AND at < $3 AND n > 0 GROUP BY lead_id) s
		JOIN leads l ON l.id = s.lead_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("report leads: %w", err)
	}
	defer rows.Close()
	type hit struct{ id, at int64 }
	var seen []hit
	out := &baton.ReportLeads{Leads: []*baton.Lead{}}
	for rows.Next() {
		var h hit
		var n int64
		var owner sql.NullInt64
		if err := rows.Scan(&h.id, &h.at, &n, &owner); err != nil {
			return nil, err
		}
		out.Count += int(n)
		out.Total++
		if tx.actor.SeesAllLeads() || tx.actor.CanActOnOwner(owner.Int64, team[owner.Int64]) {
			seen = append(seen, h)
		} else {
			out.Hidden++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(seen, func(a, b hit) int { return cmp.Or(cmp.Compare(b.at, a.at), cmp.Compare(b.id, a.id)) })
	limit := orDefault(f.Limit, 50)
	from := min(max(f.Offset, 0), len(seen))
	page := seen[from:min(from+limit, len(seen))]
	ids := make([]int64, len(page))
	for i, h := range page {
		ids[i] = h.id
	}
	byID := map[int64]*baton.Lead{}
	err = tx.db.idLists(ids, func(list string, args []any) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+leadColumns+` FROM leads WHERE id IN `+list, args...)
		if err != nil {
			return fmt.Errorf("report leads: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			l, err := scanLead(rows)
			if err != nil {
				return err
			}
			byID[l.ID] = l
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if l := byID[id]; l != nil {
			out.Leads = append(out.Leads, l)
		}
	}
	return out, nil
}

// everyOwner returns every user's id as text, and "" for no owner: every
// owner report_steps names.
func (tx *Tx) everyOwner(ctx context.Context) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("report owners: %w", err)
	}
	defer rows.Close()
	out := []string{""}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, strconv.FormatInt(id, 10))
	}
	return out, rows.Err()
}

// actorTeam returns the users who report to the actor, if a manager: whose
// leads they may see besides their own.
func (tx *Tx) actorTeam(ctx context.Context) (map[int64]bool, error) {
	team := map[int64]bool{}
	if tx.actor.Role != baton.RoleManager {
		return team, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id FROM users WHERE manager_id = $1`, tx.actor.UserID)
	if err != nil {
		return nil, fmt.Errorf("report team: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		team[id] = true
	}
	return team, rows.Err()
}
