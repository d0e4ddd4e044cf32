package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/batonhq/baton"
)

// Qualification and conversion: BANT, the opportunity an SQL becomes, and
// the idempotency of conversions.

func bantNote(b baton.BANT) string {
	var parts []string
	if b.BudgetAmount != nil {
		parts = append(parts, fmt.Sprintf("budget %.0f %s", *b.BudgetAmount, b.BudgetCurrency))
	}
	if b.Authority != "" {
		parts = append(parts, "authority "+b.Authority)
	}
	if b.Need != "" {
		parts = append(parts, "need: "+b.Need)
	}
	if b.Timing != "" {
		parts = append(parts, "timing "+b.Timing)
	}
	return strings.Join(parts, "; ")
}

// BANTOf returns a lead's BANT record, or ENOTFOUND.
func (db *DB) BANTOf(ctx context.Context, leadID int64) (*baton.BANT, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.findVisibleLead(ctx, leadID, false); err != nil {
		return nil, err
	}
	var b baton.BANT
	var amount sql.NullFloat64
	var date sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT budget_amount, budget_currency, budget_confirmed, authority, decision_maker, need, timing, timing_date FROM bant WHERE lead_id = $1`, leadID).
		Scan(&amount, &b.BudgetCurrency, &b.BudgetConfirmed, &b.Authority, &b.DecisionMaker, &b.Need, &b.Timing, &date)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baton.Errorf(baton.ENOTFOUND, "lead %d has no BANT record", leadID)
	} else if err != nil {
		return nil, err
	}
	if amount.Valid {
		b.BudgetAmount = &amount.Float64
	}
	b.TimingDate = fromNullMicros(date)
	return &b, nil
}

// opportunityByKey returns the opportunity a conversion with the same
// idempotency key made, or nil. The key of another lead's conversion is a
// conflict; the same key with another body (name, amount, product,
// expected close) is EUNPROCESSABLE: a client reusing a key for a
// different request must not get the first answer as if it were its own.
func (db *DB) opportunityByKey(ctx context.Context, leadID int64, in baton.ConvertInput) (*baton.Opportunity, error) {
	if in.IdempotencyKey == "" {
		return nil, nil
	}
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var id, lead sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT id, lead_id FROM opportunities WHERE idempotency_key = $1`, in.IdempotencyKey).Scan(&id, &lead)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if _, err := tx.findVisibleLead(ctx, leadID, false); err != nil {
		return nil, err
	}
	if lead.Int64 != leadID {
		return nil, &baton.Error{Code: baton.ECONFLICT, Field: "Idempotency-Key", Message: "this idempotency key was used to convert another lead"}
	}
	opps, _, err := db.FindOpportunities(ctx, baton.OpportunityFilter{LeadID: &leadID, Limit: 100})
	if err != nil {
		return nil, err
	}
	for _, o := range opps {
		if o.ID != id.Int64 {
			continue
		}
		var close sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT expected_close FROM opportunities WHERE id = $1`, o.ID).Scan(&close); err != nil {
			return nil, err
		}
		same := o.Name == strings.TrimSpace(in.Name) && o.Amount == in.Amount && o.Product == in.Product &&
			(in.AccountID == nil || o.AccountID != nil && *o.AccountID == *in.AccountID) &&
			close.Valid == (in.ExpectedClose != nil) && (!close.Valid || close.Int64 == micros(*in.ExpectedClose))
		if !same {
			return nil, &baton.Error{Code: baton.EUNPROCESSABLE, Field: "Idempotency-Key",
				Message: fmt.Sprintf("this idempotency key converted lead %d into %q already, with other fields: use a new key for a different conversion", leadID, o.Name)}
		}
		return o, nil
	}
	return nil, nil
}

// saveBANT stores the lead's qualification by the development rep.
func (tx *Tx) saveBANT(ctx context.Context, l *baton.Lead, b baton.BANT, qualifier *int64) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO bant (lead_id, budget_amount, budget_currency, budget_confirmed, authority, decision_maker, need, timing, timing_date, qualified_by, qualified_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (lead_id) DO UPDATE SET budget_amount = excluded.budget_amount, budget_currency = excluded.budget_currency,
		budget_confirmed = excluded.budget_confirmed, authority = excluded.authority, decision_maker = excluded.decision_maker,
		need = excluded.need, timing = excluded.timing, timing_date = excluded.timing_date, qualified_by = excluded.qualified_by,
		qualified_at = excluded.qualified_at`,
		l.ID, nullFloat(b.BudgetAmount), b.BudgetCurrency, b.BudgetConfirmed, b.Authority, b.DecisionMaker, b.Need, b.Timing,
		nullMicros(b.TimingDate), nullInt(qualifier), micros(tx.now)); err != nil {
		return fmt.Errorf("save BANT: %w", err)
	}
	return nil
}

// convert creates the opportunity an SQL becomes.
func (tx *Tx) convert(ctx context.Context, l *baton.Lead, in baton.ConvertInput) (*baton.Opportunity, error) {
	acc := in.AccountID
	if acc == nil {
		acc = l.AccountID
	}
	o := &baton.Opportunity{LeadID: &l.ID, AccountID: acc, OwnerID: l.OwnerID, Product: in.Product, Name: strings.TrimSpace(in.Name),
		Stage: baton.OppProspecting, Amount: in.Amount, ExpectedClose: in.ExpectedClose, CreatedAt: tx.now}
	if err := tx.createOpportunity(ctx, o); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE opportunities SET idempotency_key = $1, expected_close = $2 WHERE id = $3`,
		nullString(in.IdempotencyKey), nullMicros(in.ExpectedClose), o.ID); err != nil {
		if isUniqueViolation(err) {
			return nil, baton.Errorf(baton.ECONFLICT, "this idempotency key was used already")
		}
		return nil, err
	}
	return o, nil
}
