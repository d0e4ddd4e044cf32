package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/batonhq/baton"
)

// Opportunities is the OpportunityService of the database.
func (db *DB) Opportunities() baton.OpportunityService { return db }

// CreateProduct stores a product, or updates the one with the same name.
func (db *DB) CreateProduct(ctx context.Context, p *baton.Product) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() {
		return baton.Errorf(baton.EFORBIDDEN, "only an admin may change products")
	}
	if p.Name == "" {
		return baton.FieldError("name", "required")
	}
	if err := tx.QueryRowContext(ctx, `INSERT INTO products (name, series, price) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET series = excluded.series, price = excluded.price RETURNING id`,
		p.Name, p.Series, p.Price).Scan(&p.ID); err != nil {
		return fmt.Errorf("create product: %w", err)
	}
	return tx.Commit()
}

// FindProducts lists the products by name.
func (db *DB) FindProducts(ctx context.Context) ([]*baton.Product, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT id, name, series, price FROM products ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("find products: %w", err)
	}
	defer rows.Close()
	out := []*baton.Product{}
	for rows.Next() {
		var p baton.Product
		if err := rows.Scan(&p.ID, &p.Name, &p.Series, &p.Price); err != nil {
			return nil, err
		}
		out = append(out, &p)
	}
	return out, rows.Err()
}

// CreateOpportunity stores an opportunity. Reps may create their own; the
// converting of an SQL goes through the lead's lifecycle.
func (db *DB) CreateOpportunity(ctx context.Context, o *baton.Opportunity) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() && !(tx.actor.Role.Rep() && o.OwnerID != nil && *o.OwnerID == tx.actor.UserID) {
		return baton.Errorf(baton.EFORBIDDEN, "a %s may not create this opportunity", tx.actor.Role)
	}
	if err := tx.createOpportunity(ctx, o); err != nil {
		return err
	}
	return tx.Commit()
}

func (tx *Tx) createOpportunity(ctx context.Context, o *baton.Opportunity) error {
	if o.Name == "" {
		return baton.FieldError("name", "required")
	}
	if _, err := baton.ParseOpportunityStage("stage", string(o.Stage)); err != nil {
		return err
	}
	if o.CreatedAt.IsZero() {
		o.CreatedAt = tx.now
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO opportunities (external_id, lead_id, account_id, owner_id, product, name, stage, amount, engaged_at, closed_at, close_value, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
		nullString(o.ExternalID), nullInt(o.LeadID), nullInt(o.AccountID), nullInt(o.OwnerID), o.Product, o.Name, string(o.Stage),
		o.Amount, nullMicros(o.EngagedAt), nullMicros(o.ClosedAt), o.CloseValue, micros(o.CreatedAt)).Scan(&o.ID)
	if isUniqueViolation(err) {
		return &baton.Error{Code: baton.ECONFLICT, Field: "external_id", Message: fmt.Sprintf("opportunity %s exists", o.ExternalID)}
	} else if isForeignKeyViolation(err) {
		return baton.Errorf(baton.EINVALID, "the opportunity names a lead, account or owner that does not exist")
	} else if err != nil {
		return fmt.Errorf("create opportunity: %w", err)
	}
	return nil
}

// FindOpportunities lists opportunities the actor may see, newest first.
func (db *DB) FindOpportunities(ctx context.Context, f baton.OpportunityFilter) ([]*baton.Opportunity, int, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var w where
	switch tx.actor.Role {
	case baton.RoleSDR, baton.RoleAE:
		w.add("owner_id = ?", tx.actor.UserID)
	case baton.RoleManager:
		w.add("(owner_id = ? OR owner_id IN (SELECT id FROM users WHERE manager_id = ?))", tx.actor.UserID, tx.actor.UserID)
	}
	if f.OwnerID != nil {
		w.add("owner_id = ?", *f.OwnerID)
	}
	if f.AccountID != nil {
		w.add("account_id = ?", *f.AccountID)
	}
	if f.LeadID != nil {
		w.add("lead_id = ?", *f.LeadID)
	}
	if f.Stage != nil {
		w.add("stage = ?", string(*f.Stage))
	}
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM opportunities WHERE `+w.String(), w.args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count opportunities: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, external_id, lead_id, account_id, owner_id, product, name, stage, amount, engaged_at, closed_at, close_value, created_at
		FROM opportunities WHERE `+w.String()+` ORDER BY created_at DESC, id DESC`+limitClause(f.Offset, f.Limit), w.args...)
	if err != nil {
		return nil, 0, fmt.Errorf("find opportunities: %w", err)
	}
	defer rows.Close()
	out := []*baton.Opportunity{}
	for rows.Next() {
		var o baton.Opportunity
		var ext sql.NullString
		var lead, acc, owner, engaged, closed sql.NullInt64
		var created int64
		if err := rows.Scan(&o.ID, &ext, &lead, &acc, &owner, &o.Product, &o.Name, &o.Stage, &o.Amount, &engaged, &closed, &o.CloseValue, &created); err != nil {
			return nil, 0, err
		}
		o.ExternalID = ext.String
		o.LeadID, o.AccountID, o.OwnerID = ptrInt(lead), ptrInt(acc), ptrInt(owner)
		o.EngagedAt, o.ClosedAt, o.CreatedAt = fromNullMicros(engaged), fromNullMicros(closed), fromMicros(created)
		out = append(out, &o)
	}
	return out, total, rows.Err()
}
