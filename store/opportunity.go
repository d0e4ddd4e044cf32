package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

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
	err := tx.QueryRowContext(ctx, `INSERT INTO opportunities (external_id, lead_id, account_id, owner_id, product, name, stage, amount, expected_close, engaged_at, closed_at, close_value, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
		nullString(o.ExternalID), nullInt(o.LeadID), nullInt(o.AccountID), nullInt(o.OwnerID), o.Product, o.Name, string(o.Stage),
		o.Amount, nullMicros(o.ExpectedClose), nullMicros(o.EngagedAt), nullMicros(o.ClosedAt), o.CloseValue, micros(o.CreatedAt)).Scan(&o.ID)
	if isUniqueViolation(err) {
		return &baton.Error{Code: baton.ECONFLICT, Field: "external_id", Message: fmt.Sprintf("opportunity %s exists", o.ExternalID)}
	} else if isForeignKeyViolation(err) {
		return baton.Errorf(baton.EINVALID, "the opportunity names a lead, account or owner that does not exist")
	} else if err != nil {
		return fmt.Errorf("create opportunity: %w", err)
	}
	return nil
}

const opportunityColumns = `id, external_id, lead_id, account_id, owner_id, product, name, stage, amount, expected_close, engaged_at, closed_at, close_value, created_at`

func scanOpportunity(s interface{ Scan(...any) error }) (*baton.Opportunity, error) {
	var o baton.Opportunity
	var ext sql.NullString
	var lead, acc, owner, expected, engaged, closed sql.NullInt64
	var created int64
	if err := s.Scan(&o.ID, &ext, &lead, &acc, &owner, &o.Product, &o.Name, &o.Stage, &o.Amount, &expected, &engaged, &closed, &o.CloseValue, &created); err != nil {
		return nil, err
	}
	o.ExternalID = ext.String
	o.LeadID, o.AccountID, o.OwnerID = ptrInt(lead), ptrInt(acc), ptrInt(owner)
	o.ExpectedClose, o.EngagedAt, o.ClosedAt, o.CreatedAt = fromNullMicros(expected), fromNullMicros(engaged), fromNullMicros(closed), fromMicros(created)
	return &o, nil
}

// FindOpportunities lists opportunities the actor may see, newest first: a
// rep's are those they own and those of the leads they own (a lead
// reassigned as an opportunity takes its deal with it), a manager's also
// their team's.
func (db *DB) FindOpportunities(ctx context.Context, f baton.OpportunityFilter) ([]*baton.Opportunity, int, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var w where
	switch tx.actor.Role {
	case baton.RoleSDR, baton.RoleAE:
		w.add("(owner_id = ? OR lead_id IN (SELECT id FROM leads WHERE owner_id = ?))", tx.actor.UserID, tx.actor.UserID)
	case baton.RoleManager:
		w.add(`(owner_id = ? OR owner_id IN (SELECT id FROM users WHERE manager_id = ?)
			OR lead_id IN (SELECT id FROM leads WHERE owner_id = ? OR owner_id IN (SELECT id FROM users WHERE manager_id = ?)))`,
			tx.actor.UserID, tx.actor.UserID, tx.actor.UserID, tx.actor.UserID)
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
	rows, err := tx.QueryContext(ctx, `SELECT `+opportunityColumns+`
		FROM opportunities WHERE `+w.String()+` ORDER BY created_at DESC, id DESC`+limitClause(f.Offset, f.Limit), w.args...)
	if err != nil {
		return nil, 0, fmt.Errorf("find opportunities: %w", err)
	}
	defer rows.Close()
	out := []*baton.Opportunity{}
	for rows.Next() {
		o, err := scanOpportunity(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, o)
	}
	return out, total, rows.Err()
}

// UpdateOpportunity changes some fields of an open opportunity, with an
// entry in its lead's history for each field that changed. Who may is
// judged as for the lead's moves: the owner of the lead (of the
// opportunity, when it has none), their manager, an admin; one who may not
// read it is told it does not exist.
func (db *DB) UpdateOpportunity(ctx context.Context, id int64, u baton.OpportunityUpdate) (*baton.Opportunity, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if err := u.Validate(tx.now); err != nil {
		return nil, err
	}
	q := `SELECT ` + opportunityColumns + ` FROM opportunities WHERE id = $1`
	if tx.db.backend == Postgres {
		q += lockForWrite
	}
	o, err := scanOpportunity(tx.QueryRowContext(ctx, q, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baton.Errorf(baton.ENOTFOUND, "no opportunity %d", id)
	} else if err != nil {
		return nil, fmt.Errorf("find opportunity %d: %w", id, err)
	}
	ownerOf := o.OwnerID
	if o.LeadID != nil {
		l, err := tx.findLead(ctx, *o.LeadID, true)
		if err != nil {
			return nil, err
		}
		ownerOf = l.OwnerID
	}
	var owner int64
	if ownerOf != nil {
		owner = *ownerOf
	}
	inTeam, err := tx.inTeam(ctx, owner)
	if err != nil {
		return nil, err
	}
	if !tx.actor.CanActOnOwner(owner, inTeam) {
		if tx.actor.SeesAllLeads() {
			return nil, baton.Errorf(baton.EFORBIDDEN, "%s may not change an opportunity: its owner, their manager or an admin may", tx.actor.Role.Words())
		}
		return nil, baton.Errorf(baton.ENOTFOUND, "no opportunity %d", id)
	}
	if !o.Stage.Open() {
		return nil, baton.Errorf(baton.ECONFLICT, "opportunity %d is closed %s: a closed deal does not change", id, o.Stage)
	}
	if u.Product != nil && *u.Product != "" && *u.Product != o.Product {
		if err := tx.checkProduct(ctx, *u.Product); err != nil {
			return nil, err
		}
	}
	var changes []baton.FieldChange
	set := func(field, from, to string) {
		if from != to {
			changes = append(changes, baton.FieldChange{Field: "opportunity." + field, From: from, To: to})
		}
	}
	day := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format("2006-01-02")
	}
	amount := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	if u.Name != nil {
		set("name", o.Name, *u.Name)
		o.Name = *u.Name
	}
	if u.Amount != nil {
		set("amount", amount(o.Amount), amount(*u.Amount))
		o.Amount = *u.Amount
	}
	if u.Product != nil {
		set("product", o.Product, *u.Product)
		o.Product = *u.Product
	}
	if u.ExpectedClose != nil {
		set("expected_close", day(o.ExpectedClose), day(u.ExpectedClose))
		o.ExpectedClose = u.ExpectedClose
	}
	if len(changes) == 0 {
		return o, nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE opportunities SET name = $1, amount = $2, product = $3, expected_close = $4
		WHERE id = $5 AND stage IN ('prospecting', 'engaging')`, o.Name, o.Amount, o.Product, nullMicros(o.ExpectedClose), id)
	if err != nil {
		return nil, fmt.Errorf("update opportunity %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, baton.Errorf(baton.ECONFLICT, "opportunity %d was closed meanwhile", id)
	}
	if o.LeadID != nil {
		for _, c := range changes {
			if err := tx.addHistory(ctx, baton.HistoryEntry{LeadID: *o.LeadID, At: tx.now, Action: baton.ActionUpdated,
				Field: c.Field, From: c.From, To: c.To}); err != nil {
				return nil, err
			}
		}
	}
	return o, tx.Commit()
}

// checkProduct refuses a product that is not one of the products, when
// there are any (a database without products takes any name).
func (tx *Tx) checkProduct(ctx context.Context, name string) error {
	var all, match int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN name = $1 THEN 1 ELSE 0 END), 0) FROM products`, name).Scan(&all, &match); err != nil {
		return fmt.Errorf("check product: %w", err)
	}
	if all > 0 && match == 0 {
		return baton.FieldError("product", "unknown product %q: choose one of the products", name)
	}
	return nil
}
