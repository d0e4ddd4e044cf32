package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
)

// Where scores are written: saveScores stores a batch of leads' scores
// (storeScores), moves the report counters of those whose fit rules changed
// and promotes those that qualify to MQL (promote).

// scored is one lead's new scores, waiting to be stored with others.
type scored struct {
	lead  *baton.Lead
	score baton.LeadScore
	ps    policy.Score
	state *scoreState
	same  bool   // the state is as stored: not written again
	coded []byte // the state to write, if already encoded (else state.encode())
	rules string // the fit rules that fired (leads.fit_rules)
	old   string // the fit rules stored before
	seq   int64  // the lead's score_seq as read (a guarded write's check)
}

// stateArg is the state to store, or NULL to keep the stored one.
func (it *scored) stateArg() any {
	if it.same {
		return nil
	}
	if it.coded != nil {
		return it.coded
	}
	return it.state.encode()
}

// saveScores stores leads' scores with one statement per chunk instead of
// one per lead, moves the report counters of those whose fit rules changed,
// then promotes those that qualify and wait in new or recycled. An MQL never
// falls back by itself: only a person's rejection moves it.
func (tx *Tx) saveScores(ctx context.Context, items []scored) error {
	if _, err := tx.storeScores(ctx, items, false); err != nil {
		return err
	}
	return tx.promoteAll(ctx, items)
}

// storeScores writes leads' scores. guarded, it writes only the leads whose
// version and score_seq are still those the scores were computed from (read
// on an earlier snapshot: lead.Version, seq) and returns the others' ids.
func (tx *Tx) storeScores(ctx context.Context, items []scored, guarded bool) (missed []int64, err error) {
	if tx.db.updateRowByRow() {
		// In-process SQLite has no round trips to save: one prepared UPDATE
		// by primary key per lead beats a join of the leads with a VALUES list.
		// Without a model, probability and model_version stay NULL and 0 (a
		// model, once active, is only ever replaced): not setting them spares
		// the update of their index.
		withModel := false
		// Scores of one batch share their policy version and time (one
		// scorer, one clock reading): those go in the statement, not in
		// each execution's parameters.
		shared := len(items) > 0
		for _, it := range items {
			withModel = withModel || it.score.ModelVersion != 0
			shared = shared && it.score.PolicyVersion == items[0].score.PolicyVersion && it.score.ScoredAt.Equal(items[0].score.ScoredAt)
		}
		version, at := "?", "?"
		if shared {
			version, at = strconv.Itoa(items[0].score.PolicyVersion), strconv.FormatInt(micros(items[0].score.ScoredAt), 10)
		}
		q := `UPDATE leads SET fit = ?, engagement = ?, fit_grade = ?, engagement_grade = ?, policy_version = ` + version + `,
			scored_at = ` + at + `, score_state = COALESCE(?, score_state), fit_rules = ?, score_seq = score_seq + 1`
		if withModel {
			q += `, probability = ?, model_version = ?`
		}
		q += ` WHERE id = ?`
		if guarded {
			q += ` AND version = ? AND score_seq = ?`
		}
		stmt, err := tx.PrepareContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("save scores: %w", err)
		}
		defer stmt.Close()
		// Each statement takes microseconds, and the driver watches a
		// cancellable context with a goroutine per statement, which costs
		// more than the statement: the transaction's own context still
		// rolls it back when cancelled.
		ctx := context.WithoutCancel(ctx)
		args := make([]any, 0, 13)
		for _, it := range items {
			s := it.score
			args = append(args[:0], s.Fit, s.Engagement, s.FitGrade, s.EngagementGrade)
			if !shared {
				args = append(args, s.PolicyVersion, micros(s.ScoredAt))
			}
			args = append(args, it.stateArg(), it.rules)
			if withModel {
				var prob any
				if s.Probability != nil {
					prob = *s.Probability
				}
				args = append(args, prob, s.ModelVersion)
			}
			args = append(args, it.lead.ID)
			if guarded {
				args = append(args, it.lead.Version, it.seq)
			}
			res, err := stmt.ExecContext(ctx, args...)
			if err != nil {
				return nil, fmt.Errorf("save score of lead %d: %w", it.lead.ID, err)
			}
			if guarded {
				if n, err := res.RowsAffected(); err != nil {
					return nil, err
				} else if n == 0 {
					missed = append(missed, it.lead.ID)
				}
			}
		}
		return missed, nil
	}
	cols := 11
	if guarded {
		cols = 13
	}
	var b strings.Builder
	args := make([]any, 0, 200*cols)
	for start := 0; start < len(items); start += 200 {
		chunk := items[start:min(start+200, len(items))]
		b.Reset()
		args = args[:0]
		b.WriteString(`WITH v(id, fit, engagement, fit_grade, engagement_grade, policy_version, probability, model_version, scored_at, score_state, fit_rules`)
		if guarded {
			b.WriteString(`, version, seq`)
		}
		b.WriteString(`) AS (VALUES `)
		if tx.db.typedValues() {
			// PostgreSQL cannot infer the types of parameters in VALUES.
			for i := range chunk {
				if i > 0 {
					b.WriteByte(',')
				}
				n := i*cols + 1
				fmt.Fprintf(&b, "($%d::bigint,$%d::float8,$%d::float8,$%d::text,$%d::text,$%d::int,$%d::float8,$%d::int,$%d::bigint,$%d::bytea,$%d::text",
					n, n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10)
				if guarded {
					fmt.Fprintf(&b, ",$%d::bigint,$%d::bigint", n+11, n+12)
				}
				b.WriteByte(')')
			}
		} else {
			tx.db.placeholders(&b, len(chunk), cols, 1)
		}
		b.WriteString(`) UPDATE leads SET fit = v.fit, engagement = v.engagement, fit_grade = v.fit_grade,
			engagement_grade = v.engagement_grade, policy_version = v.policy_version, probability = v.probability,
			model_version = v.model_version, scored_at = v.scored_at, score_state = COALESCE(v.score_state, leads.score_state),
			fit_rules = v.fit_rules, score_seq = leads.score_seq + 1 FROM v WHERE leads.id = v.id`)
		if guarded {
			b.WriteString(` AND leads.version = v.version AND leads.score_seq = v.seq RETURNING leads.id`)
		}
		for _, it := range chunk {
			var prob any
			if it.score.Probability != nil {
				prob = *it.score.Probability
			}
			s := it.score
			args = append(args, it.lead.ID, s.Fit, s.Engagement, s.FitGrade, s.EngagementGrade, s.PolicyVersion, prob,
				s.ModelVersion, micros(s.ScoredAt), it.stateArg(), it.rules)
			if guarded {
				args = append(args, it.lead.Version, it.seq)
			}
		}
		if !guarded {
			if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
				return nil, fmt.Errorf("save scores: %w", err)
			}
			continue
		}
		rows, err := tx.QueryContext(ctx, b.String(), args...)
		if err != nil {
			return nil, fmt.Errorf("save scores: %w", err)
		}
		written := map[int64]bool{}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			written[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("save scores: %w", err)
		}
		for _, it := range chunk {
			if !written[it.lead.ID] {
				missed = append(missed, it.lead.ID)
			}
		}
	}
	return missed, nil
}

func (tx *Tx) promoteAll(ctx context.Context, items []scored) error {
	changed := map[int64]string{}
	for _, it := range items {
		if it.rules != it.old {
			changed[it.lead.ID] = it.rules
		}
	}
	if err := tx.setFitRules(ctx, changed); err != nil {
		return err
	}
	for _, it := range items {
		it.lead.Score = it.score
		if err := tx.promote(ctx, it.lead, it.ps); err != nil {
			return err
		}
	}
	return nil
}

// promote moves a qualifying new or recycled lead to MQL as the system, with
// the policy's reason in its history.
func (tx *Tx) promote(ctx context.Context, l *baton.Lead, ps policy.Score) error {
	if !ps.Qualifies || (l.Stage != baton.StageNew && l.Stage != baton.StageRecycled) {
		return nil
	}
	if l.Stage == baton.StageRecycled {
		// A recycled lead waits out its cool-down before it may come back.
		if until, err := tx.nurtureUntil(ctx, l.ID); err != nil || until.After(tx.now) {
			return err
		}
	}
	// Routing reads the lead's fields: load them all (the ingest path may
	// have read only the scoring columns).
	full, err := tx.findLead(ctx, l.ID, true)
	if err != nil {
		return err
	}
	sys := *tx
	sys.actor = baton.Actor{Name: "scoring policy", Role: baton.RoleSystem, Via: "policy"}
	if err := sys.changeStage(ctx, full, baton.StageChange{To: baton.StageMQL, Reason: ps.Why}); err != nil {
		return err
	}
	l.Stage, l.Version, l.OwnerID, l.StageChangedAt = full.Stage, full.Version, full.OwnerID, full.StageChangedAt
	return nil
}
