package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
)

// Scoring leads in the transaction that changes them: a lead just created
// (scoreNewLead), one lead after an edit or a merge (rescoreLead), and many
// leads after a batch of events (scoreLeads; scoreEngagement when no model
// is active and only engagement moves). Each stores the scores and promotes
// the leads that qualify (score_write.go).

// scoreNewLead scores a lead just created, which has no events yet.
func (tx *Tx) scoreNewLead(ctx context.Context, sc *scorer, l *baton.Lead) error {
	st := &scoreState{Counted: sc.counts}
	if sc.policy != nil {
		st.Engagement = sc.policy.NewEngagement()
	}
	acc, err := tx.accountOf(ctx, l)
	if err != nil {
		return err
	}
	return tx.scoreWith(ctx, sc, l, acc, st, nil, "")
}

// rescoreLead scores a lead after a change in the transaction of the change,
// stores the scores, and promotes the lead to MQL when the policy says so.
// events are the lead's newly stored events, if any.
func (tx *Tx) rescoreLead(ctx context.Context, sc *scorer, l *baton.Lead, events []*baton.Event) error {
	var raw []byte
	var old string
	if err := tx.QueryRowContext(ctx, `SELECT score_state, fit_rules FROM leads WHERE id = $1`+tx.lockRows(), l.ID).Scan(&raw, &old); err != nil {
		return fmt.Errorf("score lead %d: %w", l.ID, err)
	}
	st, err := sc.parseState(raw)
	if err != nil {
		return err
	}
	acc, err := tx.accountOf(ctx, l)
	if err != nil {
		return err
	}
	return tx.scoreWith(ctx, sc, l, acc, st, events, old)
}

// scoreWith folds new events into a loaded state, scores the lead, stores it
// and promotes it if it qualifies.
func (tx *Tx) scoreWith(ctx context.Context, sc *scorer, l *baton.Lead, acc *baton.Account, st *scoreState, events []*baton.Event, old string) error {
	score, ps, err := tx.compute(ctx, sc, l, acc, st, events)
	if err != nil {
		return err
	}
	return tx.saveScores(ctx, []scored{{lead: l, score: score, ps: ps, state: st, rules: sc.fitRules(ps), old: old}})
}

// compute folds new events into a loaded state and scores the lead. A state
// that is not fresh is rebuilt from all the lead's stored events (the new
// ones included) rather than mix versions or miss events.
func (tx *Tx) compute(ctx context.Context, sc *scorer, l *baton.Lead, acc *baton.Account, st *scoreState, events []*baton.Event) (baton.LeadScore, policy.Score, error) {
	switch {
	case !sc.active():
		*st = scoreState{}
	case !sc.fresh(st):
		if err := tx.rebuildStates(ctx, sc, []*baton.Lead{l}, []*scoreState{st}); err != nil {
			return baton.LeadScore{}, policy.Score{}, err
		}
	default:
		sc.observe(st, l, events)
	}
	score, ps := sc.evaluate(l, acc, st, tx.now)
	return score, ps, nil
}

// scoreNew is compute for a new lead without events: its state is new,
// so fresh by construction (its counts cover its no events; its
// engagement is the policy's own), and scoring it reads nothing from the
// database. It returns the state as well.
func (sc *scorer) scoreNew(l *baton.Lead, acc *baton.Account, now time.Time) (*scoreState, baton.LeadScore, policy.Score) {
	st := &scoreState{}
	if sc.active() {
		st.Counted = sc.counts
		sc.observe(st, l, nil)
	}
	score, ps := sc.evaluate(l, acc, st, now)
	return st, score, ps
}

// scoreLeads scores many leads after new events, loading them, their states
// and their accounts a chunk at a time rather than a query per lead.
func (tx *Tx) scoreLeads(ctx context.Context, sc *scorer, byLead map[int64][]*baton.Event) error {
	if len(byLead) == 0 || !sc.active() {
		return nil
	}
	ids := make([]int64, 0, len(byLead))
	for id := range byLead {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if sc.model == nil {
		// Events move engagement only: without a model there is no need to
		// read the leads' fields, and fit stays as it was.
		return tx.scoreEngagement(ctx, sc, ids, byLead)
	}
	return tx.db.idLists(ids, func(list string, args []any) error {
		set, err := tx.scoringRows(ctx, sc, `id IN `+list+` ORDER BY id`, args...)
		if err != nil {
			return err
		}
		leads, states, olds := set.leads, set.states, set.rules
		accounts, err := tx.accountsOf(ctx, leads)
		if err != nil {
			return err
		}
		items := make([]scored, 0, len(leads))
		for i, l := range leads {
			var acc *baton.Account
			if l.AccountID != nil {
				acc = accounts[*l.AccountID]
			}
			score, ps, err := tx.compute(ctx, sc, l, acc, states[i], byLead[l.ID])
			if err != nil {
				return err
			}
			items = append(items, scored{lead: l, score: score, ps: ps, state: states[i], rules: sc.fitRules(ps), old: olds[i]})
		}
		return tx.saveScores(ctx, items)
	})
}

// scoreEngagement is scoreLeads for when no model is active: it reads and
// writes only the scoring columns.
func (tx *Tx) scoreEngagement(ctx context.Context, sc *scorer, ids []int64, byLead map[int64][]*baton.Event) error {
	var stmt *sql.Stmt
	if tx.db.updateRowByRow() {
		var err error
		stmt, err = tx.PrepareContext(ctx, `UPDATE leads SET engagement = ?, engagement_grade = ?, fit_grade = ?, policy_version = ?,
			scored_at = ?, score_state = ?, score_seq = score_seq + 1 WHERE id = ?`)
		if err != nil {
			return fmt.Errorf("score leads: %w", err)
		}
		defer stmt.Close()
	}
	return tx.db.idLists(ids, func(list string, args []any) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, stage, version, fit, fit_grade, score_state FROM leads WHERE id IN `+list+` ORDER BY id`+tx.lockRows(), args...)
		if err != nil {
			return fmt.Errorf("score leads: %w", err)
		}
		var items []scored
		for rows.Next() {
			l := &baton.Lead{}
			var raw []byte
			if err := rows.Scan(&l.ID, &l.Stage, &l.Version, &l.Score.Fit, &l.Score.FitGrade, &raw); err != nil {
				rows.Close()
				return err
			}
			st, err := sc.parseState(raw)
			if err != nil {
				rows.Close()
				return err
			}
			items = append(items, scored{lead: l, state: st})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var stale []*baton.Lead
		var staleStates []*scoreState
		for i := range items {
			if it := &items[i]; !sc.fresh(it.state) {
				stale, staleStates = append(stale, it.lead), append(staleStates, it.state)
			} else {
				sc.observe(it.state, it.lead, byLead[it.lead.ID])
			}
		}
		// Rebuilt states take in the new events from the table.
		if err := tx.rebuildStates(ctx, sc, stale, staleStates); err != nil {
			return err
		}
		for i := range items {
			it := &items[i]
			l, st := it.lead, it.state
			it.score = baton.LeadScore{Fit: l.Score.Fit, FitGrade: l.Score.FitGrade, ScoredAt: tx.now}
			if sc.policy != nil {
				it.ps = sc.policy.ScoreWithFit(l.Score.Fit, st.Engagement, tx.now)
				it.score.Engagement, it.score.EngagementGrade, it.score.FitGrade = it.ps.Engagement, it.ps.EngagementGrade, it.ps.FitGrade
				it.score.PolicyVersion = sc.policyVersion
			}
		}
		if stmt != nil {
			ctx := context.WithoutCancel(ctx) // as in storeScores
			for _, it := range items {
				s := it.score
				if _, err := stmt.ExecContext(ctx, s.Engagement, s.EngagementGrade, s.FitGrade, s.PolicyVersion, micros(s.ScoredAt), it.state.encode(), it.lead.ID); err != nil {
					return fmt.Errorf("save score of lead %d: %w", it.lead.ID, err)
				}
			}
		} else {
			var b strings.Builder
			args = args[:0]
			b.WriteString(`WITH v(id, engagement, engagement_grade, fit_grade, policy_version, scored_at, score_state) AS (VALUES `)
			for i, it := range items {
				if i > 0 {
					b.WriteByte(',')
				}
				n := i*7 + 1
				fmt.Fprintf(&b, "($%d::bigint,$%d::float8,$%d::text,$%d::text,$%d::int,$%d::bigint,$%d::bytea)", n, n+1, n+2, n+3, n+4, n+5, n+6)
				s := it.score
				args = append(args, it.lead.ID, s.Engagement, s.EngagementGrade, s.FitGrade, s.PolicyVersion, micros(s.ScoredAt), it.state.encode())
			}
			b.WriteString(`) UPDATE leads SET engagement = v.engagement, engagement_grade = v.engagement_grade, fit_grade = v.fit_grade,
				policy_version = v.policy_version, scored_at = v.scored_at, score_state = v.score_state, score_seq = leads.score_seq + 1
				FROM v WHERE leads.id = v.id`)
			if len(items) > 0 {
				if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
					return fmt.Errorf("save scores: %w", err)
				}
			}
		}
		for _, it := range items {
			if err := tx.promote(ctx, it.lead, it.ps); err != nil {
				return err
			}
		}
		return nil
	})
}
