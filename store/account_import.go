package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/batonhq/baton"
)

// Importing accounts: ImportAccounts stores a batch with the effect of
// upserting each account in turn (by domain, else by name, as the lowest id
// of that name), but the stored accounts the batch names are read a chunk
// of keys per query rather than one per row, the new accounts are inserted
// without a second look-up, and the leads they take in are linked (linkAll)
// and counted for rescoring in bulk.

// ImportAccounts upserts accounts by domain, or by name when there is none.
// Bad rows are reported (Row is their index) and skipped. The import is
// audited ("account.import", with its counts).
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
	created, err := tx.importAccounts(ctx, accounts, &res)
	if err != nil {
		return res, err
	}
	// The new accounts take in their domains' leads, which are then
	// scored with their account's fields, as createAccount does.
	if err := tx.linkAll(ctx, created); err != nil {
		return res, err
	}
	if err := tx.rescoreAccounts(ctx, created); err != nil {
		return res, err
	}
	if len(accounts) > 0 {
		if err := tx.audit(ctx, "account.import", "import", 0, nil,
			map[string]any{"created": res.Created, "updated": res.Updated, "rejected": res.Rejected}); err != nil {
			return res, err
		}
	}
	return res, tx.Commit()
}

// importAccounts upserts the accounts in the transaction, in the batch's
// order, and returns those it created.
func (tx *Tx) importAccounts(ctx context.Context, accounts []*baton.Account, res *baton.ImportResult) ([]*baton.Account, error) {
	domains, names := map[string]int{}, map[string]int{}
	valid := make([]bool, len(accounts))
	for i, a := range accounts {
		if err := a.Validate(); err != nil {
			res.Rejected++
			res.Errors = append(res.Errors, baton.RowError{Row: i, Column: baton.ErrorField(err), Message: baton.ErrorMessage(err)})
			continue
		}
		valid[i] = true
		if a.Domain != "" {
			domains[a.Domain]++
		} else {
			names[strings.ToLower(a.Name)]++
		}
	}
	byDomain, err := tx.accountsByKey(ctx, "domain", domains)
	if err != nil {
		return nil, err
	}
	byName, err := tx.accountsByKey(ctx, "LOWER(name)", names)
	if err != nil {
		return nil, err
	}
	// renamed says that an update of this batch changed an account's name:
	// the names read before may then name other accounts, and a row
	// without a domain looks its name up again.
	renamed := false
	var created []*baton.Account
	for i, a := range accounts {
		if !valid[i] {
			continue
		}
		name := strings.ToLower(a.Name)
		var existing *baton.Account
		switch {
		case a.Domain != "":
			existing = byDomain[a.Domain]
		case !renamed:
			existing = byName[name]
		default:
			if existing, err = tx.findAccount(ctx, "LOWER(name)", name); baton.ErrorCode(err) == baton.ENOTFOUND {
				existing = nil
			} else if err != nil {
				return nil, err
			}
		}
		if existing == nil {
			if err := tx.insertNewAccount(ctx, a); err != nil {
				return nil, err
			}
			created = append(created, a)
			res.Created++
			if a.Domain != "" {
				byDomain[a.Domain] = a
			}
			// Its id is above every stored one: the lowest of its name
			// only if the name had none.
			if _, asked := names[name]; asked && byName[name] == nil {
				byName[name] = a
			}
			continue
		}
		if !strings.EqualFold(existing.Name, a.Name) {
			renamed = true
		}
		a.ID, a.CreatedAt, a.UpdatedAt = existing.ID, existing.CreatedAt, tx.now
		if a.Domain == "" {
			a.Domain = existing.Domain
		}
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET domain = $1, name = $2, industry = $3, employees = $4, annual_revenue = $5, country = $6, updated_at = $7 WHERE id = $8`,
			nullString(a.Domain), a.Name, a.Industry, nullInt(a.Employees), nullFloat(a.AnnualRevenue), a.Country, micros(tx.now), a.ID); err != nil {
			return nil, fmt.Errorf("import accounts: %w", err)
		}
		existing.Name = a.Name
		res.Updated++
	}
	return created, nil
}

// accountsByKey returns the stored accounts whose column expression col
// (domain, LOWER(name)) is one of the keys, the one of lowest id for each
// key, a chunk of keys per query (see keyLists).
func (tx *Tx) accountsByKey(ctx context.Context, col string, keys map[string]int) (map[string]*baton.Account, error) {
	out := map[string]*baton.Account{}
	err := tx.db.keyLists(col, keys, func(cond string, args []any) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE `+cond, args...)
		if err != nil {
			return fmt.Errorf("find accounts by %s: %w", col, err)
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAccount(rows)
			if err != nil {
				return fmt.Errorf("find accounts by %s: %w", col, err)
			}
			key := a.Domain
			if col != "domain" {
				key = strings.ToLower(a.Name)
			}
			if prev := out[key]; prev == nil || a.ID < prev.ID {
				out[key] = a
			}
		}
		return rows.Err()
	})
	return out, err
}

// insertNewAccount inserts a valid account known not to be stored.
func (tx *Tx) insertNewAccount(ctx context.Context, a *baton.Account) error {
	a.CreatedAt, a.UpdatedAt = tx.now, tx.now
	err := tx.QueryRowContext(ctx, `INSERT INTO accounts (domain, name, industry, employees, annual_revenue, country, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		nullString(a.Domain), a.Name, a.Industry, nullInt(a.Employees), nullFloat(a.AnnualRevenue), a.Country, micros(tx.now), micros(tx.now)).Scan(&a.ID)
	if err != nil {
		if isUniqueViolation(err) {
			return &baton.Error{Code: baton.ECONFLICT, Field: "domain", Message: fmt.Sprintf("an account with domain %s exists", a.Domain)}
		}
		return fmt.Errorf("create account: %w", err)
	}
	return nil
}

// rescoreAccounts rescores the leads of each account as rescoreAccount
// does, in the accounts' order, but counts their leads in one query per
// chunk of accounts.
func (tx *Tx) rescoreAccounts(ctx context.Context, accounts []*baton.Account) error {
	if len(accounts) == 0 {
		return nil
	}
	sc, err := tx.scorer(ctx)
	if err != nil {
		return err
	}
	if sc.model == nil && (sc.policy == nil || !sc.policy.FitReads().Account) {
		return nil
	}
	counts := map[int64]int{}
	for start := 0; start < len(accounts); start += idChunk {
		chunk := accounts[start:min(start+idChunk, len(accounts))]
		var b strings.Builder
		b.WriteString(`SELECT account_id, COUNT(*) FROM leads WHERE account_id IN `)
		tx.db.inList(&b, len(chunk))
		b.WriteString(` GROUP BY account_id`)
		args := make([]any, len(chunk))
		for k, a := range chunk {
			args[k] = a.ID
		}
		rows, err := tx.QueryContext(ctx, b.String(), args...)
		if err != nil {
			return fmt.Errorf("count leads of accounts: %w", err)
		}
		for rows.Next() {
			var id int64
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return fmt.Errorf("count leads of accounts: %w", err)
			}
			counts[id] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("count leads of accounts: %w", err)
		}
	}
	for _, a := range accounts {
		if counts[a.ID] > 0 {
			if err := tx.rescoreAccount(ctx, a.ID); err != nil {
				return err
			}
		}
	}
	return nil
}
