package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/batonhq/baton"
)

// Importing the leads of a CRM file: each row may describe the lead's
// company (a Salesforce lead's Industry, No. of Employees, Annual Revenue;
// a HubSpot contact's). ImportLeadRows makes or updates those accounts
// first, then stores the leads as ImportLeads does, each linked to its
// row's account, all in one transaction. This file is the account half;
// lead_import.go the lead half, untouched.

// ImportLeadRows upserts a batch of a CRM lead file in one transaction. The
// accounts the rows describe are found by domain, else by name (an account
// of that name without a domain takes the row's domain), and made when
// there is none; a row's empty cells leave an account's fields as they are,
// its other cells change them (the last row of the batch wins), each change
// in the account's history. Then the leads are stored as ImportLeads
// stores them, linked to their rows' accounts. Rows are reported by their
// index in rows; a row whose account is refused is refused whole. It
// returns what happened to the leads and to the accounts.
func (db *DB) ImportLeadRows(ctx context.Context, rows []baton.LeadImport) (leads, accounts baton.ImportResult, err error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return leads, accounts, err
	}
	defer tx.Rollback()
	if !tx.actor.CanEditLeads() {
		return leads, accounts, baton.Errorf(baton.EFORBIDDEN, "a %s may not import leads", tx.actor.Role)
	}
	refused := map[int]bool{}
	accounts, err = tx.upsertLeadAccounts(ctx, rows, refused)
	if err != nil {
		return leads, accounts, fmt.Errorf("import accounts of leads: %w", err)
	}
	defs, err := tx.attrDefs(ctx)
	if err != nil {
		return leads, accounts, err
	}
	// The rows left, and the index of each in rows.
	batch := make([]*baton.Lead, 0, len(rows))
	index := make([]int, 0, len(rows))
	for i, r := range rows {
		if !refused[i] {
			batch = append(batch, r.Lead)
			index = append(index, i)
		}
	}
	leads, err = tx.importLeads(ctx, batch, defs)
	if err != nil {
		return leads, accounts, fmt.Errorf("import leads: %w", err)
	}
	for i := range leads.Errors {
		leads.Errors[i].Row = index[leads.Errors[i].Row]
	}
	for _, e := range accounts.Errors {
		leads.Rejected++
		leads.Errors = append(leads.Errors, e)
	}
	accounts.Errors, accounts.Rejected = nil, 0
	if len(rows) > 0 {
		if err := tx.audit(ctx, "lead.import", "import", 0, nil,
			map[string]any{"created": leads.Created, "updated": leads.Updated, "rejected": leads.Rejected}); err != nil {
			return leads, accounts, err
		}
	}
	if accounts.Created+accounts.Updated > 0 {
		if err := tx.audit(ctx, "account.import", "import", 0, nil,
			map[string]any{"created": accounts.Created, "updated": accounts.Updated}); err != nil {
			return leads, accounts, err
		}
	}
	if err := tx.Commit(); err != nil {
		return leads, accounts, fmt.Errorf("import leads: %w", err)
	}
	return leads, accounts, nil
}

// leadAccount is one account a batch's rows describe, their cells merged.
type leadAccount struct {
	acc  baton.Account
	rows []int
}

// upsertLeadAccounts makes or updates the accounts of the rows and sets
// each row's lead's account. Rows whose account is refused are added to
// refused and reported in the result's Errors.
func (tx *Tx) upsertLeadAccounts(ctx context.Context, rows []baton.LeadImport, refused map[int]bool) (baton.ImportResult, error) {
	var res baton.ImportResult
	refuse := func(rs []int, err error) {
		for _, i := range rs {
			refused[i] = true
			res.Errors = append(res.Errors, baton.RowError{Row: i, Column: "account." + baton.ErrorField(err), Message: baton.ErrorMessage(err)})
		}
		res.Rejected += len(rs)
	}
	var order []string
	byKey := map[string]*leadAccount{}
	domains, names := map[string]int{}, map[string]int{}
	for i, r := range rows {
		if r.Account == nil {
			continue
		}
		a := *r.Account
		if err := a.Validate(); err != nil {
			refuse([]int{i}, err)
			continue
		}
		key := "n:" + strings.ToLower(a.Name)
		if a.Domain != "" {
			key = "d:" + a.Domain
			domains[a.Domain]++
		} else {
			names[strings.ToLower(a.Name)]++
		}
		m := byKey[key]
		if m == nil {
			m = &leadAccount{acc: a}
			byKey[key] = m
			order = append(order, key)
		} else {
			mergeAccount(&m.acc, &a)
		}
		m.rows = append(m.rows, i)
	}
	if len(order) == 0 {
		return res, nil
	}
	// The stored accounts the batch names: by domain, and by name for the
	// accounts without a domain and those whose domain is new.
	byDomain, err := tx.accountsBy(ctx, "domain", domains)
	if err != nil {
		return res, err
	}
	for _, k := range order {
		if a := &byKey[k].acc; a.Domain != "" && byDomain[a.Domain] == nil {
			names[strings.ToLower(a.Name)]++
		}
	}
	byName, err := tx.accountsBy(ctx, "LOWER(name)", names)
	if err != nil {
		return res, err
	}
	var created, changed []*baton.Account
	for _, k := range order {
		m := byKey[k]
		a := m.acc
		var existing *baton.Account
		if a.Domain != "" {
			existing = byDomain[a.Domain]
			// An account of the name without a domain is the same company.
			if n := byName[strings.ToLower(a.Name)]; existing == nil && n != nil && n.Domain == "" {
				existing = n
			}
		} else {
			existing = byName[strings.ToLower(a.Name)]
		}
		if existing == nil {
			if err := tx.insertAccount(ctx, &a); err != nil {
				if rowError(err) {
					refuse(m.rows, err)
					continue
				}
				return res, err
			}
			created = append(created, &a)
			res.Created++
		} else {
			before := *existing
			mergeAccount(existing, &a)
			if cs := accountChanges(&before, existing); len(cs) > 0 {
				if err := tx.saveLeadAccount(ctx, existing, cs); err != nil {
					return res, err
				}
				changed = append(changed, existing)
				res.Updated++
			}
			a = *existing
		}
		for _, i := range m.rows {
			id := a.ID
			rows[i].Lead.AccountID = &id
		}
	}
	// As ImportAccounts: the new accounts take in their domains' unlinked
	// leads; accounts that changed have their leads rescored.
	if err := tx.linkAll(ctx, created); err != nil {
		return res, err
	}
	for _, a := range append(created, changed...) {
		if err := tx.rescoreAccount(ctx, a.ID); err != nil {
			return res, err
		}
	}
	return res, nil
}

// mergeAccount sets the fields of a that b gives.
func mergeAccount(a, b *baton.Account) {
	for _, f := range []struct{ dst, v *string }{{&a.Domain, &b.Domain}, {&a.Name, &b.Name}, {&a.Industry, &b.Industry}, {&a.Country, &b.Country}} {
		if *f.v != "" {
			*f.dst = *f.v
		}
	}
	if b.Employees != nil {
		a.Employees = b.Employees
	}
	if b.AnnualRevenue != nil {
		a.AnnualRevenue = b.AnnualRevenue
	}
}

// saveLeadAccount writes an account's changed fields and their history.
func (tx *Tx) saveLeadAccount(ctx context.Context, a *baton.Account, changes []baton.FieldChange) error {
	a.UpdatedAt = tx.now
	if _, err := tx.ExecContext(ctx, `UPDATE accounts SET domain = $1, name = $2, industry = $3, employees = $4, annual_revenue = $5, country = $6, updated_at = $7 WHERE id = $8`,
		nullString(a.Domain), a.Name, a.Industry, nullInt(a.Employees), nullFloat(a.AnnualRevenue), a.Country, micros(tx.now), a.ID); err != nil {
		return fmt.Errorf("update account %d: %w", a.ID, err)
	}
	for _, c := range changes {
		if err := tx.accountHistory(ctx, a.ID, c); err != nil {
			return err
		}
	}
	return nil
}

// accountsBy returns the stored accounts whose column (domain, or
// LOWER(name)) is one of the keys, a chunk of keys per query; of two
// accounts of one name, the older.
func (tx *Tx) accountsBy(ctx context.Context, col string, keys map[string]int) (map[string]*baton.Account, error) {
	out := map[string]*baton.Account{}
	if len(keys) == 0 {
		return out, nil
	}
	err := tx.db.keyLists(col, keys, func(cond string, args []any) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE `+cond+` ORDER BY id`, args...)
		if err != nil {
			return fmt.Errorf("find accounts by %s: %w", col, err)
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAccount(rows)
			if err != nil {
				return fmt.Errorf("find accounts by %s: %w", col, err)
			}
			k := a.Domain
			if col != "domain" {
				k = strings.ToLower(a.Name)
			}
			if out[k] == nil {
				out[k] = a
			}
		}
		return rows.Err()
	})
	return out, err
}
