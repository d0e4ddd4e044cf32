package store

import (
	"context"
	"fmt"
	"time"

	"github.com/batonhq/baton"
)

// pullEngagedWithin is how recent an event must be for a lead in nurture
// to count as still engaging (checkPull's window).
const pullEngagedWithin = 30 * 24 * time.Hour

// Claimable lists, for a development rep, the leads the policy lets them
// claim (baton.VerbClaim): the unassigned MQLs when handoff.pull.unassigned
// is on, then the unowned new and recycled leads older than
// handoff.pull.nurture_after that had an event in the last 30 days; each
// part longest waiting first, at most limit in all, and whether there are
// more. The pool is open to every development rep (Tx.move lets them claim
// a lead they may not read), so the list shows it; a claim still checks
// every need of the rule.
func (db *DB) Claimable(ctx context.Context, limit int) ([]*baton.Lead, bool, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, false, err
	}
	defer tx.Rollback()
	if tx.actor.Role != baton.RoleSDR {
		return nil, false, baton.Errorf(baton.EFORBIDDEN, "only development reps claim leads")
	}
	if limit <= 0 || limit > 200 {
		limit = 200
	}
	sc, err := tx.scorer(ctx)
	if err != nil {
		return nil, false, err
	}
	cfg := sc.handoffConfig()
	out := []*baton.Lead{}
	more := false
	read := func(q string, args ...any) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("claimable leads: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			l, err := scanLead(rows)
			if err != nil {
				return err
			}
			if len(out) == limit {
				more = true
				break
			}
			out = append(out, l)
		}
		return rows.Err()
	}
	if cfg.PullUnassigned {
		if err := read(`SELECT `+leadColumns+` FROM leads WHERE owner_id IS NULL AND stage = $1 ORDER BY stage_changed_at, id LIMIT $2`,
			string(baton.StageMQL), limit+1); err != nil {
			return nil, false, err
		}
	}
	if cfg.PullAfter > 0 && !more {
		if err := read(`SELECT `+leadColumns+` FROM leads WHERE owner_id IS NULL AND stage IN ($1, $2) AND stage_changed_at <= $3
			AND EXISTS (SELECT 1 FROM events e WHERE e.lead_id = leads.id AND e.occurred_at >= $4)
			ORDER BY stage_changed_at, id LIMIT $5`,
			string(baton.StageNew), string(baton.StageRecycled), micros(tx.now.Add(-cfg.PullAfter)), micros(tx.now.Add(-pullEngagedWithin)),
			limit-len(out)+1); err != nil {
			return nil, false, err
		}
	}
	return out, more, nil
}
