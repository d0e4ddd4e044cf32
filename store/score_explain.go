package store

import (
	"context"
	"fmt"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/model"
)

// ExplainScore returns a lead's score now with every rule and factor behind
// it: the model's factors in log-odds, in percentage points that add up to
// the probability less the base, and in words. Nothing is hidden here; the
// doors that answer sales take out what the policy hides from them
// (baton.ScoreExplanation.Hide).
func (db *DB) ExplainScore(ctx context.Context, id int64) (*baton.ScoreExplanation, error) {
	out, err := db.ExplainScores(ctx, []int64{id})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// ExplainScores is ExplainScore of each lead, in one transaction: a page
// that explains the scores of its 25 rows reads the policy and the model
// once, not 25 times, and the leads, their states and their accounts with
// one query each, not three a lead (the inbox's 75 statements were a
// fifth of its storage time).
func (db *DB) ExplainScores(ctx context.Context, ids []int64) ([]*baton.ScoreExplanation, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	sc, err := tx.scorer(ctx)
	if err != nil {
		return nil, err
	}
	type loaded struct {
		lead  *baton.Lead
		state []byte
	}
	found := make(map[int64]loaded, len(ids))
	err = db.idLists(ids, func(list string, args []any) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+leadColumns+`, score_state FROM leads WHERE id IN `+list, args...)
		if err != nil {
			return fmt.Errorf("explain scores: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var raw []byte
			l, err := scanLead(scanFunc(func(dest ...any) error { return rows.Scan(append(dest, &raw)...) }))
			if err != nil {
				return err
			}
			found[l.ID] = loaded{l, raw}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	// The errors of ExplainScore, in the order of ids: a lead that does not
	// exist, or that the actor may not see.
	leads := make([]*baton.Lead, 0, len(ids))
	for _, id := range ids {
		f, ok := found[id]
		if !ok {
			return nil, notFound(id)
		}
		if ok, err := tx.canSee(ctx, f.lead); err != nil {
			return nil, err
		} else if !ok {
			return nil, notFound(id)
		}
		leads = append(leads, f.lead)
	}
	accounts, err := tx.accountsOf(ctx, leads)
	if err != nil {
		return nil, err
	}
	out := make([]*baton.ScoreExplanation, len(ids))
	for i, l := range leads {
		var acc *baton.Account
		if l.AccountID != nil {
			acc = accounts[*l.AccountID]
		}
		if out[i], err = tx.explainLoaded(sc, l, found[l.ID].state, acc); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// explainLoaded explains the score of a lead read with its scoring state
// (raw, as stored) and its account (nil: none).
func (tx *Tx) explainLoaded(sc *scorer, l *baton.Lead, raw []byte, acc *baton.Account) (*baton.ScoreExplanation, error) {
	st, err := parseState(raw)
	if err != nil {
		return nil, err
	}
	score, ps := sc.evaluate(l, acc, st, tx.now)
	ex := &baton.ScoreExplanation{LeadID: l.ID, At: tx.now, Score: score, Qualifies: ps.Qualifies, Why: ps.Why, Reasons: []baton.ScoreReason{}}
	for _, r := range ps.Reasons {
		ex.Reasons = append(ex.Reasons, baton.ScoreReason{Rule: r.Rule, Axis: r.Axis, Points: r.Points, Detail: r.Detail, Events: r.Events})
	}
	if sc.model != nil {
		e := sc.model.Explain(ModelRow(l, acc, st.Counts, OutcomeAttribute))
		ex.BaseLogOdds, ex.BaseProbability = e.BaseLogOdds, e.BaseProbability
		for _, f := range e.Factors {
			ex.Factors = append(ex.Factors, probabilityFactor(f))
		}
	}
	return ex, nil
}

// probabilityFactor is one of the model's reasons as the domain says it,
// with its words.
func probabilityFactor(f model.Factor) baton.ProbabilityFactor {
	pf := baton.ProbabilityFactor{Feature: f.Feature, Value: f.Value, Contribution: f.Contribution, PercentPoints: f.PercentPoints}
	if f.Value == model.MissingValue {
		pf.Value = baton.FactorMissing
	}
	if f.HasThreshold {
		t := f.Threshold
		pf.Threshold, pf.Over = &t, f.Over
	}
	pf.Text = pf.Words()
	return pf
}
