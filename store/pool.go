package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
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
	// read returns the leads of the query, at most n.
	read := func(q string, n int, args ...any) ([]*baton.Lead, error) {
		rows, err := tx.QueryContext(ctx, q, append(args, n)...)
		if err != nil {
			return nil, fmt.Errorf("claimable leads: %w", err)
		}
		defer rows.Close()
		var got []*baton.Lead
		for rows.Next() {
			l, err := scanLead(rows)
			if err != nil {
				return nil, err
			}
			got = append(got, l)
		}
		return got, rows.Err()
	}
	if cfg.PullUnassigned {
		got, err := read(`SELECT `+leadColumns+` FROM leads WHERE owner_id IS NULL AND stage = $1 ORDER BY stage_changed_at, id LIMIT $2`,
			limit+1, string(baton.StageMQL))
		if err != nil {
			return nil, false, err
		}
		out = append(out, got...)
	}
	if cfg.PullAfter > 0 && len(out) <= limit {
		// One query per stage, merged here: on one stage the index on
		// (stage, stage_changed_at) reads the leads in order and stops at
		// the first n engaging ones; on two (stage IN) the database reads
		// and probes every lead of both to sort them, 900,000 probes at a
		// million leads, on every inbox page (measured here).
		n := limit - len(out) + 1
		var pulls []*baton.Lead
		for _, stage := range []baton.Stage{baton.StageNew, baton.StageRecycled} {
			got, err := read(`SELECT `+leadColumns+` FROM leads WHERE owner_id IS NULL AND stage = $1 AND stage_changed_at <= $2
				AND EXISTS (SELECT 1 FROM events e WHERE e.lead_id = leads.id AND e.occurred_at >= $3)
				ORDER BY stage_changed_at, id LIMIT $4`, n,
				string(stage), micros(tx.now.Add(-cfg.PullAfter)), micros(tx.now.Add(-pullEngagedWithin)))
			if err != nil {
				return nil, false, err
			}
			pulls = append(pulls, got...)
		}
		slices.SortFunc(pulls, func(a, b *baton.Lead) int {
			return cmp.Or(a.StageChangedAt.Compare(b.StageChangedAt), cmp.Compare(a.ID, b.ID))
		})
		out = append(out, pulls[:min(n, len(pulls))]...)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}
