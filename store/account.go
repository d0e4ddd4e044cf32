package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
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
	if err := tx.insertAccount(ctx, a); err != nil {
		return err
	}
	if err := tx.linkLeads(ctx, a); err != nil {
		return err
	}
	// The leads it took in are scored with their account's fields.
	return tx.rescoreAccount(ctx, a.ID)
}

// insertAccount stores a new account, unlinked.
func (tx *Tx) insertAccount(ctx context.Context, a *baton.Account) error {
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
	return nil
}

// linkAll links the unlinked leads of the accounts' domains to them, as
// linkLeads does one account: a few accounts one statement each, more by
// one read of the unlinked leads and an update of those at their domains,
// a chunk of ids per statement (each linkLeads reads every lead).
func (tx *Tx) linkAll(ctx context.Context, accounts []*baton.Account) error {
	byDomain := map[string]int64{}
	for _, a := range accounts {
		if a.Domain != "" {
			byDomain[a.Domain] = a.ID
		}
	}
	if len(byDomain) <= 4 {
		for _, a := range accounts {
			if err := tx.linkLeads(ctx, a); err != nil {
				return err
			}
		}
		return nil
	}
	link := map[int64][]int64{}
	rows, err := tx.QueryContext(ctx, `SELECT id, email FROM leads WHERE account_id IS NULL AND email IS NOT NULL`)
	if err != nil {
		return fmt.Errorf("link leads to accounts: %w", err)
	}
	for rows.Next() {
		var id int64
		var email string
		if err := rows.Scan(&id, &email); err != nil {
			rows.Close()
			return fmt.Errorf("link leads to accounts: %w", err)
		}
		if acc, ok := byDomain[baton.EmailDomain(email)]; ok {
			link[acc] = append(link[acc], id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("link leads to accounts: %w", err)
	}
	for _, a := range accounts {
		ids := link[a.ID]
		for start := 0; start < len(ids); start += idChunk {
			chunk := ids[start:min(start+idChunk, len(ids))]
			var b strings.Builder
			b.WriteString(`UPDATE leads SET account_id = `)
			tx.db.param(&b, 1)
			b.WriteString(`, version = version + 1, score_seq = score_seq + 1 WHERE account_id IS NULL AND id IN (`)
			args := []any{a.ID}
			for i, id := range chunk {
				if i > 0 {
					b.WriteByte(',')
				}
				tx.db.param(&b, i+2)
				args = append(args, id)
			}
			b.WriteByte(')')
			if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
				return fmt.Errorf("link leads to account %d: %w", a.ID, err)
			}
		}
	}
	return nil
}

// linkLeads links the account's domain's unlinked leads to it. Their
// version and score_seq move, so that a rescore reading ahead does not
// write their old scores over.
func (tx *Tx) linkLeads(ctx context.Context, a *baton.Account) error {
	if a.Domain == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE leads SET account_id = $1, version = version + 1, score_seq = score_seq + 1 WHERE account_id IS NULL AND email LIKE $2`,
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
	oldDomain, before := a.Domain, *a
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
	changes := accountChanges(&before, a)
	if len(changes) == 0 {
		return a, nil
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
	for _, c := range changes {
		if err := tx.accountHistory(ctx, a.ID, c); err != nil {
			return nil, err
		}
	}
	if err := tx.rescoreAccount(ctx, a.ID); err != nil {
		return nil, err
	}
	return a, tx.Commit()
}

// accountChanges lists the fields that differ between two versions of an
// account.
func accountChanges(old, a *baton.Account) []baton.FieldChange {
	var out []baton.FieldChange
	add := func(field, from, to string) {
		if from != to {
			out = append(out, baton.FieldChange{Field: field, From: from, To: to})
		}
	}
	num := func(p *int64) string { return fmtID(p) }
	money := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	add("domain", old.Domain, a.Domain)
	add("name", old.Name, a.Name)
	add("industry", old.Industry, a.Industry)
	add("employees", num(old.Employees), num(a.Employees))
	add("annual_revenue", money(old.AnnualRevenue), money(a.AnnualRevenue))
	add("country", old.Country, a.Country)
	return out
}

// accountHistory audits one change of an account's field.
func (tx *Tx) accountHistory(ctx context.Context, id int64, c baton.FieldChange) error {
	var actorID any
	if !tx.actor.System() && tx.actor.UserID != 0 {
		actorID = tx.actor.UserID
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO account_history (account_id, at, actor_id, actor_name, field, from_value, to_value)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, micros(tx.now), actorID, tx.actor.Name, c.Field, c.From, c.To); err != nil {
		return fmt.Errorf("history of account %d: %w", id, err)
	}
	return nil
}

// accountRescoreNow is how many leads an account edit rescores in its own
// transaction; an account with more has them rescored by a job (a variable
// for tests only).
var accountRescoreNow = 500

// AccountRescoreJob rescores the leads of one account (the subject), a
// chunk per run, after the account changed.
const AccountRescoreJob = "rescore_account"

// rescoreAccount rescores the account's leads when the scoring reads
// accounts: now for a few, by a job for many.
func (tx *Tx) rescoreAccount(ctx context.Context, id int64) error {
	sc, err := tx.scorer(ctx)
	if err != nil {
		return err
	}
	if sc.model == nil && (sc.policy == nil || !sc.policy.FitReads().Account) {
		return nil
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM leads WHERE account_id = $1`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	if n <= accountRescoreNow {
		_, err := tx.rescoreWhere(ctx, sc, `account_id = $1 ORDER BY id`, id)
		return err
	}
	return tx.enqueueJob(ctx, &baton.Job{Kind: AccountRescoreJob, Subject: strconv.FormatInt(id, 10), Payload: []byte(`{"after":0}`)})
}

// AccountRescoreHandler is the handler of AccountRescoreJob.
func (db *DB) AccountRescoreHandler() baton.JobHandler {
	return db.chunkedJob(func(ctx context.Context, tx *Tx, subject string, after int64) (int64, int, error) {
		sc, err := tx.scorer(ctx)
		if err != nil {
			return 0, 0, err
		}
		id, _ := strconv.ParseInt(subject, 10, 64)
		set, err := tx.rescoreWhere(ctx, sc, `account_id = $1 AND id > $2 ORDER BY id LIMIT $3`, id, after, rescoreChunk)
		if err != nil || len(set.leads) == 0 {
			return 0, 0, err
		}
		return set.leads[len(set.leads)-1].ID, len(set.leads), nil
	})
}

// AccountHistory returns an account's audited changes in time order.
func (db *DB) AccountHistory(ctx context.Context, id int64) ([]baton.AccountChange, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.findAccount(ctx, "id", id); baton.ErrorCode(err) == baton.ENOTFOUND {
		return nil, baton.Errorf(baton.ENOTFOUND, "no account %d", id)
	} else if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, account_id, at, actor_id, actor_name, field, from_value, to_value
		FROM account_history WHERE account_id = $1 ORDER BY at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("history of account %d: %w", id, err)
	}
	defer rows.Close()
	out := []baton.AccountChange{}
	for rows.Next() {
		var c baton.AccountChange
		var at int64
		var actor sql.NullInt64
		if err := rows.Scan(&c.ID, &c.AccountID, &at, &actor, &c.ActorName, &c.Field, &c.From, &c.To); err != nil {
			return nil, err
		}
		c.At, c.ActorID = fromMicros(at), ptrInt(actor)
		out = append(out, c)
	}
	return out, rows.Err()
}
