package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
)

// Scoring a batch of events before the write transaction. A batch found its
// leads on a reader (checkAndResolve) while the writer was busy with the
// batches before it; prescore then reads those leads' scoring rows there too
// and folds the batch's events into their states, on that core. The writer
// only stores each lead's new scores, with an UPDATE that checks that the
// lead's score_seq and version are still those read: a lead scored or
// changed meanwhile, one that more than one batch of the writer's group
// touches, and every lead of a group where an event turned out to be stored
// already are scored by the writer from what it reads, as before. With one
// writer on SQLite, the reading, decoding, scoring and encoding it no longer
// does are what its turn, which every batch waits for, saves.

// prescored is one lead's engagement scored before the write transaction.
type prescored struct {
	lead  *baton.Lead // id, stage, version, fit and fit grade as read
	seq   int64       // its score_seq as read
	state *scoreState // the batch's events folded in
	ps    policy.Score
	at    time.Time // when it was scored
}

// prescore scores the engagement of a resolved batch's leads on a reader,
// when a policy and no model is in force, into b.pre.
func (db *DB) prescore(ctx context.Context, b *eventBatch) error {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	sc, err := tx.scorer(ctx)
	if err != nil || sc.policy == nil || sc.model != nil {
		return err
	}
	byLead := map[int64][]*baton.Event{}
	seen := map[eventKey]bool{}
	for _, i := range b.valid {
		id := b.ids[i]
		if id == 0 {
			continue
		}
		e := &b.in[i]
		k := eventKey{id, e.ID}
		if seen[k] {
			return nil // an event sent twice: the writer sees which one counts
		}
		seen[k] = true
		byLead[id] = append(byLead[id], &baton.Event{ID: e.ID, LeadID: id, Type: e.Type,
			OccurredAt: e.OccurredAt.UTC(), Properties: e.Properties})
	}
	ids := make([]int64, 0, len(byLead))
	for id := range byLead {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	pre := make(map[int64]*prescored, len(ids))
	err = db.idLists(ids, func(list string, args []any) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, stage, version, fit, fit_grade, score_state, score_seq FROM leads WHERE id IN `+list, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			p := &prescored{lead: &baton.Lead{}, at: tx.now}
			l := p.lead
			var raw []byte
			if err := rows.Scan(&l.ID, &l.Stage, &l.Version, &l.Score.Fit, &l.Score.FitGrade, &raw, &p.seq); err != nil {
				return err
			}
			if p.state, err = sc.parseState(raw); err != nil {
				return err
			}
			if !sc.fresh(p.state) {
				continue // to be replayed from its stored events: the writer's
			}
			sc.observe(p.state, l, byLead[l.ID])
			p.ps = sc.policy.ScoreWithFit(l.Score.Fit, p.state.Engagement, p.at)
			pre[l.ID] = p
		}
		return rows.Err()
	})
	if err != nil {
		return fmt.Errorf("record events: %w", err)
	}
	b.pre, b.preVersion = pre, sc.policyVersion
	return nil
}

// storePrescored stores the scores of the leads of byLead that their batch
// scored before the transaction and that are as they were then, promotes
// those that qualify, and removes them from byLead: the writer scores the
// rest. It is called only when every event of the batches was new.
func (tx *Tx) storePrescored(ctx context.Context, sc *scorer, batches []*eventBatch, byLead map[int64][]*baton.Event) error {
	if sc.policy == nil || sc.model != nil || !tx.db.updateRowByRow() {
		return nil
	}
	from := map[int64]*eventBatch{}
	for _, b := range batches {
		for _, i := range b.rows {
			id := b.ids[i]
			if f, ok := from[id]; ok && f != b {
				from[id] = nil // in two batches: each scored it without the other's events
			} else if !ok {
				from[id] = b
			}
		}
	}
	var items []*prescored
	for id := range byLead {
		if b := from[id]; b != nil && b.pre != nil && b.preVersion == sc.policyVersion && b.pre[id] != nil {
			items = append(items, b.pre[id])
		}
	}
	if len(items) == 0 {
		return nil
	}
	slices.SortFunc(items, func(a, b *prescored) int { return cmp.Compare(a.lead.ID, b.lead.ID) })
	stmt, err := tx.PrepareContext(ctx, `UPDATE leads SET engagement = ?, engagement_grade = ?, fit_grade = ?, policy_version = ?,
		scored_at = ?, score_state = ?, score_seq = score_seq + 1 WHERE id = ? AND score_seq = ? AND version = ?`)
	if err != nil {
		return fmt.Errorf("save scores: %w", err)
	}
	defer stmt.Close()
	ectx := context.WithoutCancel(ctx) // as in storeScores
	for _, p := range items {
		res, err := stmt.ExecContext(ectx, p.ps.Engagement, p.ps.EngagementGrade, p.ps.FitGrade, sc.policyVersion,
			micros(p.at), p.state.encode(), p.lead.ID, p.seq, p.lead.Version)
		if err != nil {
			return fmt.Errorf("save score of lead %d: %w", p.lead.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			continue // changed since it was read: scored again by the writer
		}
		delete(byLead, p.lead.ID)
		if err := tx.promote(ctx, p.lead, p.ps); err != nil {
			return err
		}
	}
	return nil
}
