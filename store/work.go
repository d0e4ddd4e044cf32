package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/batonhq/baton"
)

// The worklists of the "my work" page (baton.WorkService). Each reads the
// leads the actor may see (Tx.scope), so that a rep gets their own, a
// manager their own and their team's, marketing and admins everyone's.

// Work is the WorkService of the database.
func (db *DB) Work() baton.WorkService { return db }

// workLimit is the LIMIT of a worklist: at least one row, at most 500.
func workLimit(n int) string {
	return " LIMIT " + strconv.Itoa(min(max(n, 1), 500))
}

// countAndList counts the rows of FROM ... WHERE and runs the SELECT of
// cols over them in the order, for a worklist and its total.
func (tx *Tx) countAndList(ctx context.Context, what, cols, from string, w where, order string, limit int) (*sql.Rows, int, error) {
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+from+` WHERE `+w.String(), w.args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count %s: %w", what, err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+cols+` FROM `+from+` WHERE `+w.String()+` ORDER BY `+order+workLimit(limit), w.args...)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", what, err)
	}
	return rows, total, nil
}

func scanLeads(rows *sql.Rows) ([]*baton.Lead, error) {
	defer rows.Close()
	out := []*baton.Lead{}
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// SALs lists the SALs the actor may see, longest accepted first, with the
// policy's accountability limit. The index leads_stage_since serves it.
func (db *DB) SALs(ctx context.Context, limit int) (*baton.SALList, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	sc, err := tx.scorer(ctx)
	if err != nil {
		return nil, err
	}
	var w where
	tx.scope(&w, "")
	w.add("stage = ?", string(baton.StageSAL))
	rows, total, err := tx.countAndList(ctx, "SALs", leadColumns, "leads", w, "stage_changed_at, id", limit)
	if err != nil {
		return nil, err
	}
	leads, err := scanLeads(rows)
	if err != nil {
		return nil, fmt.Errorf("SALs: %w", err)
	}
	return &baton.SALList{Leads: leads, Total: total, Within: sc.handoffConfig().OpportunityWithin}, nil
}

// AwaitingAnswer lists the open handoffs of the kind on the leads the actor
// may see, soonest deadline first: the rep's own queue, a manager's team's.
func (db *DB) AwaitingAnswer(ctx context.Context, kind baton.HandoffKind, limit int) ([]baton.QueueItem, int, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var w where
	tx.scope(&w, "l.")
	w.add("h.state = 'open'") // written in: see stmtCache
	w.add("h.kind = ?", string(kind))
	w.add("l.owner_id = h.owner_id")
	rows, total, err := tx.countAndList(ctx, "awaiting answer", prefix("h.", handoffColumns)+`, `+prefix("l.", leadColumns),
		"handoffs h JOIN leads l ON l.id = h.lead_id", w, "h.due_at, h.id", limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out, err := scanQueueItems(rows)
	if err != nil {
		return nil, 0, fmt.Errorf("awaiting answer: %w", err)
	}
	return out, total, nil
}

// HandedOver lists the leads the actor qualified to an SQL (a manager: also
// those their team qualified; marketing and admins: all), as they are now,
// latest qualification first. The qualifier may no longer read the lead, so
// only what names it is returned. A qualification is a handover when the
// lead's move from SAL to SQL is the one that wrote it (bant.qualified_at is
// the move's time): a "timing later" one sent the lead to nurture instead.
func (db *DB) HandedOver(ctx context.Context, limit int) ([]baton.HandedOver, int, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var w where
	switch tx.actor.Role {
	case baton.RoleSystem, baton.RoleAdmin, baton.RoleMarketing:
	case baton.RoleManager:
		w.add("(b.qualified_by = ? OR b.qualified_by IN (SELECT id FROM users WHERE manager_id = ?))", tx.actor.UserID, tx.actor.UserID)
	default:
		w.add("b.qualified_by = ?", tx.actor.UserID)
	}
	w.add(`EXISTS (SELECT 1 FROM lead_history lh WHERE lh.lead_id = b.lead_id AND lh.at = b.qualified_at
		AND lh.action = ? AND lh.from_value = ? AND lh.to_value = ?)`, string(baton.ActionStage), string(baton.StageSAL), string(baton.StageSQL))
	rows, total, err := tx.countAndList(ctx, "handed over",
		"l.id, l.name, COALESCE(l.email, ''), l.company, l.stage, l.owner_id, l.stage_changed_at, b.qualified_by, b.qualified_at",
		"bant b JOIN leads l ON l.id = b.lead_id", w, "b.qualified_at DESC, b.lead_id DESC", limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []baton.HandedOver{}
	for rows.Next() {
		var h baton.HandedOver
		var owner sql.NullInt64
		var changed, qualified int64
		if err := rows.Scan(&h.LeadID, &h.Name, &h.Email, &h.Company, &h.Stage, &owner, &changed, &h.QualifiedBy, &qualified); err != nil {
			return nil, 0, fmt.Errorf("handed over: %w", err)
		}
		h.OwnerID, h.StageChangedAt, h.QualifiedAt = ptrInt(owner), fromMicros(changed), fromMicros(qualified)
		out = append(out, h)
	}
	return out, total, rows.Err()
}

// OpenDeals lists the open opportunities of the leads the actor may see
// that are opportunities now, soonest expected close first, those without
// a date last. Opportunities imported without a lead are not here: they
// are not closed through Baton.
func (db *DB) OpenDeals(ctx context.Context, limit int) ([]baton.Deal, int, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var w where
	tx.scope(&w, "l.")
	w.add("l.stage = ?", string(baton.StageOpportunity))
	w.add("o.stage IN (?, ?)", string(baton.OppProspecting), string(baton.OppEngaging))
	rows, total, err := tx.countAndList(ctx, "open deals",
		"o.id, o.name, o.product, o.amount, o.stage, o.owner_id, o.account_id, o.created_at, o.expected_close, "+prefix("l.", leadColumns),
		"opportunities o JOIN leads l ON l.id = o.lead_id", w, "o.expected_close IS NULL, o.expected_close, o.id", limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []baton.Deal{}
	for rows.Next() {
		var o baton.Opportunity
		var owner, account, expected sql.NullInt64
		var created int64
		l, err := scanLead(scanFunc(func(dest ...any) error {
			return rows.Scan(append([]any{&o.ID, &o.Name, &o.Product, &o.Amount, &o.Stage, &owner, &account, &created, &expected}, dest...)...)
		}))
		if err != nil {
			return nil, 0, fmt.Errorf("open deals: %w", err)
		}
		o.LeadID, o.OwnerID, o.AccountID, o.CreatedAt = &l.ID, ptrInt(owner), ptrInt(account), fromMicros(created)
		o.ExpectedClose = fromNullMicros(expected)
		out = append(out, baton.Deal{Lead: l, Opportunity: &o})
	}
	return out, total, rows.Err()
}

// ComingBack lists the recycled leads the actor may see whose cool-down
// ends before the time (or has ended): the leads marketing's nurture hands
// back, soonest first.
func (db *DB) ComingBack(ctx context.Context, before time.Time, limit int) ([]*baton.Lead, int, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var w where
	tx.scope(&w, "")
	w.add("stage = ?", string(baton.StageRecycled))
	w.add("nurture_until IS NOT NULL AND nurture_until < ?", micros(before))
	rows, total, err := tx.countAndList(ctx, "coming back", leadColumns, "leads", w, "nurture_until, id", limit)
	if err != nil {
		return nil, 0, err
	}
	leads, err := scanLeads(rows)
	if err != nil {
		return nil, 0, fmt.Errorf("coming back: %w", err)
	}
	return leads, total, nil
}

// LeadChoices lists the sources and campaigns of the leads the actor may
// see (at most 200 of each, by name), for the lead list's filters.
func (db *DB) LeadChoices(ctx context.Context) (sources, campaigns []string, err error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback()
	distinct := func(col string) ([]string, error) {
		var w where
		tx.scope(&w, "")
		w.add(col + " <> ''")
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT `+col+` FROM leads WHERE `+w.String()+` ORDER BY `+col+` LIMIT 200`, w.args...)
		if err != nil {
			return nil, fmt.Errorf("lead %ss: %w", col, err)
		}
		defer rows.Close()
		out := []string{}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, rows.Err()
	}
	if sources, err = distinct("source"); err != nil {
		return nil, nil, err
	}
	if campaigns, err = distinct("campaign"); err != nil {
		return nil, nil, err
	}
	return sources, campaigns, nil
}
