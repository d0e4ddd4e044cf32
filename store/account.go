package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/batonhq/baton"
)

// Accounts is the AccountService of the database.
func (db *DB) Accounts() baton.AccountService { return db }

const accountColumns = `id, domain, name, industry, employees, annual_revenue, country, created_at, updated_at`

func scanAccount(s interface{ Scan(...any) error }) (*baton.Account, error) {
	var a baton.Account
	var domain sql.NullString
	var emp sql.NullInt64
	var rev sql.NullFloat64
	var created, updated int64
	if err := s.Scan(&a.ID, &domain, &a.Name, &a.Industry, &emp, &rev, &a.Country, &created, &updated); err != nil {
		return nil, err
	}
	a.Domain = domain.String
	a.Employees = ptrInt(emp)
	if rev.Valid {
		a.AnnualRevenue = &rev.Float64
	}
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &a, nil
}

func nullFloat(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// CreateAccount stores a new account; leads with an email at its domain and
// no account yet are linked to it.
func (db *DB) CreateAccount(ctx context.Context, a *baton.Account) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if !tx.actor.CanEditLeads() {
		return baton.Errorf(baton.EFORBIDDEN, "a %s may not create accounts", tx.actor.Role)
	}
	if err := tx.createAccount(ctx, a); err != nil {
		return err
	}
	return tx.Commit()
}

func (tx *Tx) createAccount(ctx context.Context, a *baton.Account) error {
	if err := a.Validate(); err != nil {
		return err
	}
	if a.Domain != "" {
		if _, err := tx.findAccount(ctx, "domain", a.Domain); err == nil {
			return &baton.Error{Code: baton.ECONFLICT, Field: "domain", Message: fmt.Sprintf("an account with domain %s exists", a.Domain)}
		} else if baton.ErrorCode(err) != baton.ENOTFOUND {
			return err
		}
	}
	a.CreatedAt, a.UpdatedAt = tx.now, tx.now
	err := tx.QueryRowContext(ctx, `INSERT INTO accounts (domain, name, industry, employees, annual_revenue, country, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		nullString(a.Domain), a.Name, a.Industry, nullInt(a.Employees), nullFloat(a.AnnualRevenue), a.Country, micros(tx.now), micros(tx.now)).Scan(&a.ID)
	if err != nil {
		return fmt.Errorf("create account: %w", err)
	}
	return tx.linkLeads(ctx, a)
}

// linkLeads links the account's domain's unlinked leads to it.
func (tx *Tx) linkLeads(ctx context.Context, a *baton.Account) error {
	if a.Domain == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE leads SET account_id = $1 WHERE account_id IS NULL AND email LIKE $2`,
		a.ID, "%@"+a.Domain); err != nil {
		return fmt.Errorf("link leads to account %d: %w", a.ID, err)
	}
	return nil
}

func (tx *Tx) findAccount(ctx context.Context, col string, v any) (*baton.Account, error) {
	a, err := scanAccount(tx.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE `+col+` = $1 ORDER BY id LIMIT 1`, v))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baton.Errorf(baton.ENOTFOUND, "no account with %s %v", col, v)
	} else if err != nil {
		return nil, fmt.Errorf("find account: %w", err)
	}
	return a, nil
}

// ImportAccounts upserts accounts by domain, or by name when there is none.
func (db *DB) ImportAccounts(ctx context.Context, accounts []*baton.Account) (baton.ImportResult, error) {
	var res baton.ImportResult
	tx, err := db.begin(ctx)
	if err != nil {
		return res, err
	}
	defer tx.Rollback()
	if !tx.actor.CanEditLeads() {
		return res, baton.Errorf(baton.EFORBIDDEN, "a %s may not import accounts", tx.actor.Role)
	}
	for i, a := range accounts {
		if err := a.Validate(); err != nil {
			res.Rejected++
			res.Errors = append(res.Errors, baton.RowError{Row: i, Column: baton.ErrorField(err), Message: baton.ErrorMessage(err)})
			continue
		}
		var existing *baton.Account
		if a.Domain != "" {
			existing, err = tx.findAccount(ctx, "domain", a.Domain)
		} else {
			existing, err = tx.findAccount(ctx, "LOWER(name)", strings.ToLower(a.Name))
		}
		if baton.ErrorCode(err) == baton.ENOTFOUND {
			if err := tx.createAccount(ctx, a); err != nil {
				return res, err
			}
			res.Created++
			continue
		} else if err != nil {
			return res, err
		}
		a.ID, a.CreatedAt, a.UpdatedAt = existing.ID, existing.CreatedAt, tx.now
		if a.Domain == "" {
			a.Domain = existing.Domain
		}
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET domain = $1, name = $2, industry = $3, employees = $4, annual_revenue = $5, country = $6, updated_at = $7 WHERE id = $8`,
			nullString(a.Domain), a.Name, a.Industry, nullInt(a.Employees), nullFloat(a.AnnualRevenue), a.Country, micros(tx.now), a.ID); err != nil {
			return res, fmt.Errorf("import accounts: %w", err)
		}
		res.Updated++
	}
	return res, tx.Commit()
}

// FindAccountByID returns the account, or ENOTFOUND.
func (db *DB) FindAccountByID(ctx context.Context, id int64) (*baton.Account, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	a, err := tx.findAccount(ctx, "id", id)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return nil, baton.Errorf(baton.ENOTFOUND, "no account %d", id)
	}
	return a, err
}

// FindAccounts lists accounts by name.
func (db *DB) FindAccounts(ctx context.Context, f baton.AccountFilter) ([]*baton.Account, int, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var w where
	if f.ID != nil {
		w.add("id = ?", *f.ID)
	}
	if f.Domain != nil {
		w.add("domain = ?", strings.ToLower(*f.Domain))
	}
	if f.Name != nil {
		w.add("LOWER(name) = ?", strings.ToLower(*f.Name))
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(q)) + "%"
		w.add(`(LOWER(name) LIKE ? ESCAPE '\' OR LOWER(COALESCE(domain, '')) LIKE ? ESCAPE '\')`, like, like)
	}
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts WHERE `+w.String(), w.args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count accounts: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE `+w.String()+` ORDER BY name, id`+limitClause(f.Offset, f.Limit), w.args...)
	if err != nil {
		return nil, 0, fmt.Errorf("find accounts: %w", err)
	}
	defer rows.Close()
	out := []*baton.Account{}
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, a)
	}
	return out, total, rows.Err()
}

// UpdateAccount changes an account.
func (db *DB) UpdateAccount(ctx context.Context, id int64, upd baton.AccountUpdate) (*baton.Account, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if !tx.actor.CanEditLeads() {
		return nil, baton.Errorf(baton.EFORBIDDEN, "a %s may not edit accounts", tx.actor.Role)
	}
	a, err := tx.findAccount(ctx, "id", id)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return nil, baton.Errorf(baton.ENOTFOUND, "no account %d", id)
	} else if err != nil {
		return nil, err
	}
	oldDomain := a.Domain
	for _, f := range []struct {
		dst *string
		v   *string
	}{{&a.Domain, upd.Domain}, {&a.Name, upd.Name}, {&a.Industry, upd.Industry}, {&a.Country, upd.Country}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	if upd.Employees != nil {
		a.Employees = upd.Employees
	}
	if upd.AnnualRevenue != nil {
		a.AnnualRevenue = upd.AnnualRevenue
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if a.Domain != oldDomain && a.Domain != "" {
		if other, err := tx.findAccount(ctx, "domain", a.Domain); err == nil && other.ID != a.ID {
			return nil, &baton.Error{Code: baton.ECONFLICT, Field: "domain", Message: fmt.Sprintf("account %d has domain %s", other.ID, a.Domain)}
		}
	}
	a.UpdatedAt = tx.now
	if _, err := tx.ExecContext(ctx, `UPDATE accounts SET domain = $1, name = $2, industry = $3, employees = $4, annual_revenue = $5, country = $6, updated_at = $7 WHERE id = $8`,
		nullString(a.Domain), a.Name, a.Industry, nullInt(a.Employees), nullFloat(a.AnnualRevenue), a.Country, micros(tx.now), a.ID); err != nil {
		return nil, fmt.Errorf("update account %d: %w", id, err)
	}
	if a.Domain != oldDomain {
		if err := tx.linkLeads(ctx, a); err != nil {
			return nil, err
		}
	}
	return a, tx.Commit()
}
