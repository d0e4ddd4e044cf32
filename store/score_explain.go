package store

import (
	"context"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/model"
)

// ExplainScore returns a lead's score now with every rule and factor behind
// it: the model's factors in log-odds, in percentage points that add up to
// the probability less the base, and in words. Nothing is hidden here; the
// doors that answer sales take out what the policy hides from them
// (baton.ScoreExplanation.Hide).
func (db *DB) ExplainScore(ctx context.Context, id int64) (*baton.ScoreExplanation, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	sc, err := tx.scorer(ctx)
	if err != nil {
		return nil, err
	}
	return tx.explainScore(ctx, sc, id)
}

// ExplainScores is ExplainScore of each lead, in one transaction: a page
// that explains the scores of its 25 rows reads the policy and the model
// once, not 25 times.
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
	out := make([]*baton.ScoreExplanation, len(ids))
	for i, id := range ids {
		if out[i], err = tx.explainScore(ctx, sc, id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (tx *Tx) explainScore(ctx context.Context, sc *scorer, id int64) (*baton.ScoreExplanation, error) {
	l, err := tx.findVisibleLead(ctx, id, false)
	if err != nil {
		return nil, err
	}
	var raw []byte
	if err := tx.QueryRowContext(ctx, `SELECT score_state FROM leads WHERE id = $1`, id).Scan(&raw); err != nil {
		return nil, err
	}
	st, err := parseState(raw)
	if err != nil {
		return nil, err
	}
	acc, err := tx.accountOf(ctx, l)
	if err != nil {
		return nil, err
	}
	score, ps := sc.evaluate(l, acc, st, tx.now)
	ex := &baton.ScoreExplanation{LeadID: id, At: tx.now, Score: score, Qualifies: ps.Qualifies, Why: ps.Why, Reasons: []baton.ScoreReason{}}
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
