package store

import (
	"context"
	"strings"

	"github.com/batonhq/baton"
)

// The verbs of the handoff. Each says which rule of baton.Rules it means,
// from the lead as it is, and makes it through Tx.move: none does
// anything its rule does not.

var _ baton.HandoffService = (*DB)(nil)

// Accept answers the lead's open handoff: an MQL becomes a SAL owned by the
// rep (whose accountability clock starts); an AE accepting an SQL keeps it
// an SQL.
func (db *DB) Accept(ctx context.Context, leadID int64) (*baton.Lead, error) {
	l, _, err := db.moveLead(ctx, leadID, baton.VerbAccept, func(_ *Tx, l *baton.Lead) (baton.StageChange, error) {
		to := baton.StageSAL
		if l.Stage == baton.StageSQL {
			to = baton.StageSQL
		}
		return baton.StageChange{Verb: baton.VerbAccept, To: to}, nil
	})
	return l, err
}

// Reject refuses an MQL or a SAL with an agreed reason: the policy's
// outcome of the reason says whether it is recycled, disqualified or
// merged into the lead it duplicates.
func (db *DB) Reject(ctx context.Context, leadID int64, r baton.Rejection) (*baton.Lead, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	l, _, err := db.moveLead(ctx, leadID, baton.VerbReject, func(tx *Tx, _ *baton.Lead) (baton.StageChange, error) {
		to, err := tx.rejectionStage(ctx, r.Reason)
		return baton.StageChange{Verb: baton.VerbReject, To: to, Reason: r.Reason, Note: r.Note, DuplicateOf: r.DuplicateOf, From: r.From}, err
	})
	return l, err
}

// rejectionStage is where the policy in force sends a lead rejected for the
// reason.
func (tx *Tx) rejectionStage(ctx context.Context, reason string) (baton.Stage, error) {
	sc, err := tx.scorer(ctx)
	if err != nil {
		return "", err
	}
	switch sc.handoffConfig().Rejection.Outcomes[reason] {
	case baton.OutcomeDisqualify, baton.OutcomeMerge:
		return baton.StageDisqualified, nil
	}
	if reason == baton.ReasonDuplicate {
		return baton.StageDisqualified, nil
	}
	return baton.StageRecycled, nil
}

// Qualify makes a SAL an SQL with its BANT record and routes it to an
// account executive; with timing "later" the policy may send it back to
// nurture until that date instead.
func (db *DB) Qualify(ctx context.Context, leadID int64, b baton.BANT) (*baton.Lead, error) {
	l, _, err := db.moveLead(ctx, leadID, baton.VerbQualify, func(tx *Tx, _ *baton.Lead) (baton.StageChange, error) {
		sc, err := tx.scorer(ctx)
		if err != nil {
			return baton.StageChange{}, err
		}
		to := baton.StageSQL
		if b.Timing == baton.TimingLater && sc.handoffConfig().NurtureLater {
			to = baton.StageRecycled
		}
		return baton.StageChange{Verb: baton.VerbQualify, To: to, BANT: &b}, nil
	})
	return l, err
}

// SendBack returns an SQL to the development rep who qualified it.
func (db *DB) SendBack(ctx context.Context, leadID int64, reason string) (*baton.Lead, error) {
	l, _, err := db.moveLead(ctx, leadID, baton.VerbSendBack, func(*Tx, *baton.Lead) (baton.StageChange, error) {
		return baton.StageChange{Verb: baton.VerbSendBack, To: baton.StageSAL, Reason: reason}, nil
	})
	return l, err
}

// Recycle returns an SQL to marketing's nurture, with the account
// executive's reason.
func (db *DB) Recycle(ctx context.Context, leadID int64, reason string) (*baton.Lead, error) {
	l, _, err := db.moveLead(ctx, leadID, baton.VerbRecycle, func(*Tx, *baton.Lead) (baton.StageChange, error) {
		return baton.StageChange{Verb: baton.VerbRecycle, To: baton.StageRecycled, Reason: reason}, nil
	})
	return l, err
}

// Convert makes an SQL an opportunity, once: a retry with the same
// idempotency key returns the opportunity of the first call, and the key
// used with another body is refused.
func (db *DB) Convert(ctx context.Context, leadID int64, in baton.ConvertInput) (*baton.Opportunity, bool, error) {
	if o, err := db.opportunityByKey(ctx, leadID, in); err != nil || o != nil {
		return o, false, err
	}
	_, m, err := db.moveLead(ctx, leadID, baton.VerbConvert, func(*Tx, *baton.Lead) (baton.StageChange, error) {
		return baton.StageChange{Verb: baton.VerbConvert, To: baton.StageOpportunity, Opportunity: &in}, nil
	})
	if err != nil && in.IdempotencyKey != "" && baton.ErrorCode(err) == baton.ECONFLICT {
		// A concurrent retry with the same key won: return its opportunity.
		if o, err2 := db.opportunityByKey(ctx, leadID, in); err2 == nil && o != nil {
			return o, false, nil
		}
	}
	if err != nil {
		return nil, false, err
	}
	return m.opportunity, true, nil
}

// CloseLead closes a lead's opportunity won (with its value) or lost (with
// why).
func (db *DB) CloseLead(ctx context.Context, leadID int64, in baton.CloseInput) (*baton.Lead, error) {
	to := baton.StageLost
	if in.Won {
		to = baton.StageWon
	}
	l, _, err := db.moveLead(ctx, leadID, baton.VerbClose, func(*Tx, *baton.Lead) (baton.StageChange, error) {
		return baton.StageChange{Verb: baton.VerbClose, To: to, Reason: strings.TrimSpace(in.Reason), Close: &in}, nil
	})
	return l, err
}

// Assign gives a lead to a user: an unowned lead of the manager's team's
// pool (assign) or one of their team's leads to another rep of the team
// (reassign); an admin any lead to any user whose role fits its stage.
func (db *DB) Assign(ctx context.Context, leadID, userID int64, note string) (*baton.Lead, error) {
	l, _, err := db.moveLead(ctx, leadID, "", func(_ *Tx, l *baton.Lead) (baton.StageChange, error) {
		return assignment(l, userID, note), nil
	})
	return l, err
}

// assignment is the move that gives l to userID.
func assignment(l *baton.Lead, userID int64, note string) baton.StageChange {
	verb := baton.VerbReassign
	if l.OwnerID == nil {
		verb = baton.VerbAssign
	}
	return baton.StageChange{Verb: verb, To: l.Stage, UserID: userID, Note: note}
}

// Claim lets a development rep pull a lead: an unassigned MQL, or a lead in
// nurture for longer than the policy's pull_after that keeps engaging. The
// claimant is the actor of its history.
func (db *DB) Claim(ctx context.Context, leadID int64) (*baton.Lead, error) {
	l, _, err := db.moveLead(ctx, leadID, baton.VerbClaim, func(*Tx, *baton.Lead) (baton.StageChange, error) {
		return baton.StageChange{Verb: baton.VerbClaim, To: baton.StageMQL}, nil
	})
	return l, err
}
