package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/batonhq/baton"
)

// Leads is the LeadService of the database.
func (db *DB) Leads() baton.LeadService { return db }

const leadColumns = `id, email, external_id, name, title, phone, company, country, source, campaign,
	account_id, owner_id, stage, attrs, created_at, updated_at, stage_changed_at, version,
	fit, engagement, fit_grade, engagement_grade, policy_version, probability, model_version, scored_at,
	nurture_track, nurture_until`

func scanLead(s interface{ Scan(...any) error }) (*baton.Lead, error) {
	var l baton.Lead
	var email, ext sql.NullString
	var account, owner sql.NullInt64
	var attrs []byte
	var created, updated, changed, scored int64
	var prob sql.NullFloat64
	var nurtureUntil sql.NullInt64
	sc := &l.Score
	if err := s.Scan(&l.ID, &email, &ext, &l.Name, &l.Title, &l.Phone, &l.Company, &l.Country, &l.Source, &l.Campaign,
		&account, &owner, &l.Stage, &attrs, &created, &updated, &changed, &l.Version,
		&sc.Fit, &sc.Engagement, &sc.FitGrade, &sc.EngagementGrade, &sc.PolicyVersion, &prob, &sc.ModelVersion, &scored,
		&l.NurtureTrack, &nurtureUntil); err != nil {
		return nil, err
	}
	if prob.Valid {
		sc.Probability = &prob.Float64
	}
	if scored > 0 {
		sc.ScoredAt = fromMicros(scored)
	}
	l.NurtureUntil = fromNullMicros(nurtureUntil)
	l.Email, l.ExternalID = email.String, ext.String
	l.AccountID, l.OwnerID = ptrInt(account), ptrInt(owner)
	l.CreatedAt, l.UpdatedAt, l.StageChangedAt = fromMicros(created), fromMicros(updated), fromMicros(changed)
	if len(attrs) > 2 {
		if err := json.Unmarshal(attrs, &l.Attrs); err != nil {
			return nil, fmt.Errorf("lead %d attributes: %w", l.ID, err)
		}
	}
	return &l, nil
}

func attrsJSON(a baton.Attrs) string {
	if len(a) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(a) // values are validated strings, finite numbers and bools
	return string(b)
}

// CreateLead stores a new lead and its "created" history entry.
func (db *DB) CreateLead(ctx context.Context, l *baton.Lead) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if !tx.actor.CanEditLeads() {
		return baton.Errorf(baton.EFORBIDDEN, "a %s may not create leads", tx.actor.Role)
	}
	defs, err := tx.attrDefs(ctx)
	if err != nil {
		return err
	}
	if err := tx.createLead(ctx, l, defs); err != nil {
		return err
	}
	return tx.Commit()
}

// UpsertLead creates the lead or updates the one with the same email or
// external id.
func (db *DB) UpsertLead(ctx context.Context, l *baton.Lead) (bool, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if !tx.actor.CanEditLeads() {
		return false, baton.Errorf(baton.EFORBIDDEN, "a %s may not create leads", tx.actor.Role)
	}
	defs, err := tx.attrDefs(ctx)
	if err != nil {
		return false, err
	}
	created, err := tx.upsertLead(ctx, l, defs)
	if err != nil {
		return false, err
	}
	return created, tx.Commit()
}

// accountForEmail returns the account whose domain is the email's, if any.
func (tx *Tx) accountForEmail(ctx context.Context, email string) (*int64, error) {
	d := baton.EmailDomain(email)
	if d == "" {
		return nil, nil
	}
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM accounts WHERE domain = $1`, d).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("account for %s: %w", d, err)
	}
	return &id, nil
}

func (tx *Tx) createLead(ctx context.Context, l *baton.Lead, defs map[string]baton.AttrType) error {
	if err := l.Validate(); err != nil {
		return err
	}
	if err := tx.checkNew(l); err != nil {
		return err
	}
	if err := tx.checkAttrs(ctx, defs, l.Attrs); err != nil {
		return err
	}
	if err := tx.checkLeadKeys(ctx, l, 0); err != nil {
		return err
	}
	if l.AccountID == nil {
		var err error
		if l.AccountID, err = tx.accountForEmail(ctx, l.Email); err != nil {
			return err
		}
	} else if err := tx.checkAccount(ctx, *l.AccountID); err != nil {
		return err
	}
	if l.OwnerID != nil {
		if _, err := tx.findUserByID(ctx, *l.OwnerID); err != nil {
			return baton.FieldError("owner_id", "no user %d", *l.OwnerID)
		}
	}
	tx.stampNew(l)
	err := tx.QueryRowContext(ctx, `INSERT INTO leads (email, external_id, name, title, phone, company, country, source, campaign,
		account_id, owner_id, stage, attrs, created_at, updated_at, stage_changed_at, version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 1) RETURNING id`,
		nullString(l.Email), nullString(l.ExternalID), l.Name, l.Title, l.Phone, l.Company, l.Country, l.Source, l.Campaign,
		nullInt(l.AccountID), nullInt(l.OwnerID), string(l.Stage), attrsJSON(l.Attrs),
		micros(l.CreatedAt), micros(tx.now), micros(l.StageChangedAt)).Scan(&l.ID)
	if isUniqueViolation(err) {
		return baton.Errorf(baton.ECONFLICT, "a lead with this email or external id exists")
	} else if err != nil {
		return fmt.Errorf("create lead: %w", err)
	}
	h := tx.createdEntry(l)
	if err := tx.addHistory(ctx, h); err != nil {
		return err
	}
	// Before scoring, which may promote it: receivers see lead.created, then
	// lead.mql.
	if err := tx.emit(ctx, "lead.created", l, map[string]any{"via": tx.via()}); err != nil {
		return err
	}
	sc, err := tx.scorer(ctx)
	if err != nil {
		return err
	}
	return tx.scoreNewLead(ctx, sc, l)
}

// checkNew refuses what only the system may bring with a new lead: a stage
// past new (an import by an operator bringing leads from another system),
// and, unless the actor is a manager or an admin, an owner.
func (tx *Tx) checkNew(l *baton.Lead) error {
	if !tx.actor.System() && l.Stage != baton.StageNew {
		return baton.FieldError("stage", "a new lead starts as new, not %s: move it with a transition", l.Stage)
	}
	if !tx.actor.System() && l.OwnerID != nil && !tx.actor.CanAdmin() && tx.actor.Role != baton.RoleManager {
		return &baton.Error{Code: baton.EFORBIDDEN, Field: "owner_id", Message: "only a manager or an admin may assign a lead"}
	}
	return nil
}

// stampNew sets a new lead's times: created when it says, if that is not
// in the future, else now.
func (tx *Tx) stampNew(l *baton.Lead) {
	if l.CreatedAt.IsZero() || l.CreatedAt.After(tx.now) {
		l.CreatedAt = tx.now
	}
	l.CreatedAt = l.CreatedAt.UTC()
	l.UpdatedAt, l.StageChangedAt, l.Version = tx.now, l.CreatedAt, 1
}

// createdEntry is a new lead's "created" history entry: the door it came
// through and where it came from.
func (tx *Tx) createdEntry(l *baton.Lead) baton.HistoryEntry {
	var note []string
	for _, kv := range [][2]string{{"source", l.Source}, {"campaign", l.Campaign}, {"email", l.Email}, {"external id", l.ExternalID}} {
		if kv[1] != "" {
			note = append(note, kv[0]+" "+kv[1])
		}
	}
	return baton.HistoryEntry{LeadID: l.ID, At: l.CreatedAt, Action: baton.ActionCreated,
		To: string(l.Stage), Reason: tx.via(), Note: strings.Join(note, "; ")}
}

// via is the door the transaction's actor came through: api unless said.
func (tx *Tx) via() string {
	if tx.actor.Via == "" {
		return "api"
	}
	return tx.actor.Via
}

func (tx *Tx) checkAccount(ctx context.Context, id int64) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM accounts WHERE id = $1`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return baton.FieldError("account_id", "no account %d", id)
	}
	return err
}

// checkLeadKeys refuses an email or external id that another lead has. It
// checks before writing because a failed statement aborts a PostgreSQL
// transaction, and a batch must survive one bad row.
func (tx *Tx) checkLeadKeys(ctx context.Context, l *baton.Lead, self int64) error {
	for _, k := range []struct{ col, v string }{{"email", l.Email}, {"external_id", l.ExternalID}} {
		if k.v == "" {
			continue
		}
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM leads WHERE `+k.col+` = $1`, k.v).Scan(&id)
		if err == nil && id != self {
			return &baton.Error{Code: baton.ECONFLICT, Field: k.col, Message: fmt.Sprintf("lead %d already has %s %s", id, k.col, k.v)}
		} else if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("check lead %s: %w", k.col, err)
		}
	}
	return nil
}

// upsertLead creates l or updates the lead with its email (else its
// external id) with l's non-empty fields. Stage and owner never change here:
// they move through ChangeStage and routing.
func (tx *Tx) upsertLead(ctx context.Context, l *baton.Lead, defs map[string]baton.AttrType) (bool, error) {
	// What the input said of the stage and the owner, before Validate
	// fills in the stage of a new lead.
	stage, owner := l.Stage, l.OwnerID
	if err := l.Validate(); err != nil {
		return false, err
	}
	var existing *baton.Lead
	for _, k := range []struct{ col, v string }{{"email", l.Email}, {"external_id", l.ExternalID}} {
		if k.v == "" || existing != nil {
			continue
		}
		e, err := scanLead(tx.QueryRowContext(ctx, `SELECT `+leadColumns+` FROM leads WHERE `+k.col+` = $1`, k.v))
		if err == nil {
			existing = e
		} else if !errors.Is(err, sql.ErrNoRows) {
			return false, fmt.Errorf("upsert lead: %w", err)
		}
	}
	if existing == nil {
		return true, tx.createLead(ctx, l, defs)
	}
	return false, tx.updateFrom(ctx, l, existing, stage, owner, defs)
}

// updateFrom updates existing, the lead with l's email (else its external
// id), with l's non-empty fields; l is validated, and stage and owner are
// what the input said of them before it was. l becomes the updated lead.
func (tx *Tx) updateFrom(ctx context.Context, l, existing *baton.Lead, stage baton.Stage, owner *int64, defs map[string]baton.AttrType) error {
	if l.Email != "" && existing.Email != "" && l.Email != existing.Email {
		return &baton.Error{Code: baton.ECONFLICT, Field: "external_id",
			Message: fmt.Sprintf("external_id %s belongs to lead %d, whose email is %s, not %s", l.ExternalID, existing.ID, existing.Email, l.Email)}
	}
	// An upsert changes a lead's data, never its place in the lifecycle: a
	// stage or an owner other than the lead's is refused (the lifecycle's
	// moves and their rules are the way), not dropped without a word.
	if stage != "" && stage != existing.Stage {
		return baton.FieldError("stage", "lead %d is %s: an upsert does not move a lead to %s; make the move with a transition", existing.ID, existing.Stage, stage)
	}
	if owner != nil && (existing.OwnerID == nil || *existing.OwnerID != *owner) {
		return baton.FieldError("owner_id", "an upsert does not change lead %d's owner: assign it", existing.ID)
	}
	upd := baton.LeadUpdate{Attrs: l.Attrs, AccountID: l.AccountID}
	for _, f := range []struct {
		dst **string
		v   string
	}{{&upd.Email, l.Email}, {&upd.ExternalID, l.ExternalID}, {&upd.Name, l.Name}, {&upd.Title, l.Title}, {&upd.Phone, l.Phone},
		{&upd.Company, l.Company}, {&upd.Country, l.Country}, {&upd.Source, l.Source}, {&upd.Campaign, l.Campaign}} {
		if f.v != "" {
			v := f.v
			*f.dst = &v
		}
	}
	*l = *existing
	updated, err := tx.updateLead(ctx, existing, upd, defs)
	if err != nil {
		return err
	}
	*l = *updated
	return nil
}

// FindLeadByID returns a lead the actor may see.
func (db *DB) FindLeadByID(ctx context.Context, id int64) (*baton.Lead, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return tx.findVisibleLead(ctx, id, false)
}

// findLead returns a lead, or ENOTFOUND. forUpdate locks the row on
// PostgreSQL (SQLite's write transaction already holds the lock).
func (tx *Tx) findLead(ctx context.Context, id int64, forUpdate bool) (*baton.Lead, error) {
	q := `SELECT ` + leadColumns + ` FROM leads WHERE id = $1`
	if forUpdate && tx.db.backend == Postgres {
		q += lockForWrite
	}
	l, err := scanLead(tx.QueryRowContext(ctx, q, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baton.Errorf(baton.ENOTFOUND, "no lead %d", id)
	} else if err != nil {
		return nil, fmt.Errorf("find lead %d: %w", id, err)
	}
	return l, nil
}

// findVisibleLead returns the lead if the actor may see it, else the same
// ENOTFOUND as for a lead that does not exist.
func (tx *Tx) findVisibleLead(ctx context.Context, id int64, forUpdate bool) (*baton.Lead, error) {
	l, err := tx.findLead(ctx, id, forUpdate)
	if err != nil {
		return nil, err
	}
	ok, err := tx.canSee(ctx, l)
	if err != nil {
		return nil, err
	} else if !ok {
		return nil, notFound(id)
	}
	return l, nil
}

// canSee reports whether the actor may read the lead: marketing and admins
// read all, reps their own, managers their own and their team's.
func (tx *Tx) canSee(ctx context.Context, l *baton.Lead) (bool, error) {
	if tx.actor.SeesAllLeads() {
		return true, nil
	}
	var owner int64
	if l.OwnerID != nil {
		owner = *l.OwnerID
	}
	inTeam, err := tx.inTeam(ctx, owner)
	if err != nil {
		return false, err
	}
	return tx.actor.CanActOnOwner(owner, inTeam), nil
}

// inTeam reports whether user reports to the actor.
func (tx *Tx) inTeam(ctx context.Context, user int64) (bool, error) {
	if user == 0 || tx.actor.Role != baton.RoleManager {
		return false, nil
	}
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE id = $1 AND manager_id = $2`, user, tx.actor.UserID).Scan(&n)
	return n > 0, err
}

// scope limits a lead query to what the actor may see.
func (tx *Tx) scope(w *where, alias string) {
	switch tx.actor.Role {
	case baton.RoleSystem, baton.RoleAdmin, baton.RoleMarketing:
	case baton.RoleManager:
		w.add("("+alias+"owner_id = ? OR "+alias+"owner_id IN (SELECT id FROM users WHERE manager_id = ?))", tx.actor.UserID, tx.actor.UserID)
	case baton.RoleSDR, baton.RoleAE:
		w.add(alias+"owner_id = ?", tx.actor.UserID)
	default:
		w.add("1 = 0")
	}
}

// leadWhere is the condition of the leads the actor may see that match the
// filter (its Offset, Limit and Sort aside).
func (tx *Tx) leadWhere(f baton.LeadFilter) where {
	var w where
	tx.scope(&w, "")
	if f.ID != nil {
		w.add("id = ?", *f.ID)
	}
	if f.Stage != nil {
		w.add("stage = ?", string(*f.Stage))
	}
	if f.OwnerID != nil {
		w.add("owner_id = ?", *f.OwnerID)
	}
	if f.Unowned {
		w.add("owner_id IS NULL")
	}
	if f.Source != nil {
		w.add("source = ?", *f.Source)
	}
	if f.Campaign != nil {
		w.add("campaign = ?", *f.Campaign)
	}
	if f.AccountID != nil {
		w.add("account_id = ?", *f.AccountID)
	}
	if f.CreatedAfter != nil {
		w.add("created_at >= ?", micros(*f.CreatedAfter))
	}
	if f.CreatedBefore != nil {
		w.add("created_at < ?", micros(*f.CreatedBefore))
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(q)) + "%"
		w.add(`(LOWER(COALESCE(email, '')) LIKE ? ESCAPE '\' OR LOWER(name) LIKE ? ESCAPE '\' OR LOWER(company) LIKE ? ESCAPE '\' OR LOWER(COALESCE(external_id, '')) LIKE ? ESCAPE '\')`, like, like, like, like)
	}
	return w
}

// leadLabel is what a lead's name sorts by: its name, else its email, else
// its external id, in lower case (ASCII only on SQLite, every letter on
// PostgreSQL: the order of accented names may differ between them).
const leadLabel = `LOWER(COALESCE(NULLIF(name, ''), email, external_id))`

// leadOrder is the order of LeadFilter.Sort: the key a list sorts by, then
// id, both downwards (desc) or both upwards. A key is never NULL, so that a
// page can start after the last row's (key, id), and each (key, id) pair is
// an index (0016_lead_sorts.sql) read one way or the other.
func leadOrder(sort string, reverse bool) (key string, desc bool, err error) {
	switch sort {
	case "", "created":
		key, desc = "created_at", true
	case "probability":
		// Leads without a probability come after every scored one.
		key, desc = "COALESCE(probability, -1)", true
	case "fit", "engagement":
		key, desc = sort, true
	case "name":
		key = leadLabel
	default:
		return "", false, baton.FieldError("sort", "unknown order %q (want %s)", sort, strings.Join(baton.LeadSorts, ", "))
	}
	return key, desc != reverse, nil
}

func orderBy(key string, desc bool) string {
	if desc {
		return ` ORDER BY ` + key + ` DESC, id DESC`
	}
	return ` ORDER BY ` + key + `, id`
}

// FindLeads lists the leads the actor may see that match the filter, in
// the filter's order, and how many match in all.
func (db *DB) FindLeads(ctx context.Context, f baton.LeadFilter) ([]*baton.Lead, int, error) {
	key, desc, err := leadOrder(f.Sort, f.Reverse)
	if err != nil {
		return nil, 0, err
	}
	tx, err := db.beginLagged(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	w := tx.leadWhere(f)
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM leads WHERE `+w.String(), w.args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count leads: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+leadColumns+` FROM leads WHERE `+w.String()+orderBy(key, desc)+limitClause(f.Offset, f.Limit), w.args...)
	if err != nil {
		return nil, 0, fmt.Errorf("find leads: %w", err)
	}
	defer rows.Close()
	leads := []*baton.Lead{}
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("find leads: %w", err)
		}
		leads = append(leads, l)
	}
	return leads, total, rows.Err()
}

// UpdateLead changes a lead's fields and audits each change.
func (db *DB) UpdateLead(ctx context.Context, id int64, upd baton.LeadUpdate) (_ *baton.Lead, err error) {
	defer raceConflict(&err)
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	l, err := tx.findVisibleLead(ctx, id, true)
	if err != nil {
		return nil, err
	}
	if !tx.actor.CanEditLeads() && tx.actor.Role != baton.RoleManager {
		return nil, baton.Errorf(baton.EFORBIDDEN, "a %s may not edit leads", tx.actor.Role)
	}
	if upd.IfVersion != nil && *upd.IfVersion != l.Version {
		return nil, &baton.Error{Code: baton.ECONFLICT, Field: "if_version",
			Message: fmt.Sprintf("lead %d is at version %d, not %d: someone changed it first", id, l.Version, *upd.IfVersion)}
	}
	// A new owner is a move of the lifecycle (assign or reassign), with
	// its rules, its handoff and its history, like every change of owner.
	if upd.OwnerID != nil {
		if l.OwnerID == nil || *l.OwnerID != *upd.OwnerID {
			if _, err := tx.move(ctx, l, assignment(l, *upd.OwnerID, "")); err != nil {
				if e, ok := err.(*baton.Error); ok && e.Field == "user_id" {
					return nil, &baton.Error{Code: e.Code, Field: "owner_id", Message: e.Message}
				}
				return nil, err
			}
		}
		upd.OwnerID = nil
	}
	defs, err := tx.attrDefs(ctx)
	if err != nil {
		return nil, err
	}
	l, err = tx.updateLead(ctx, l, upd, defs)
	if err != nil {
		return nil, err
	}
	return l, tx.Commit()
}

// updateLead applies upd to l, checks and stores it, and writes one history
// entry per changed field. It is a compare-and-set on the lead's version.
func (tx *Tx) updateLead(ctx context.Context, l *baton.Lead, upd baton.LeadUpdate, defs map[string]baton.AttrType) (*baton.Lead, error) {
	oldEmail, oldVersion := l.Email, l.Version
	if err := upd.Attrs.Validate(); err != nil {
		return nil, err
	}
	changes := upd.Apply(l)
	if len(changes) == 0 {
		return l, nil
	}
	if err := l.Validate(); err != nil {
		return nil, err
	}
	if err := tx.checkAttrs(ctx, defs, l.Attrs); err != nil {
		return nil, err
	}
	if err := tx.checkLeadKeys(ctx, l, l.ID); err != nil {
		return nil, err
	}
	if upd.AccountID != nil && l.AccountID != nil {
		if err := tx.checkAccount(ctx, *l.AccountID); err != nil {
			return nil, err
		}
	} else if upd.AccountID == nil && l.Email != oldEmail {
		acc, err := tx.accountForEmail(ctx, l.Email)
		if err != nil {
			return nil, err
		}
		if acc != nil && idOf(acc) != idOf(l.AccountID) {
			changes = append(changes, baton.FieldChange{Field: "account_id", From: fmtID(l.AccountID), To: fmtID(acc)})
			l.AccountID = acc
		}
	}
	l.UpdatedAt = tx.now
	l.Version++
	res, err := tx.ExecContext(ctx, `UPDATE leads SET email = $1, external_id = $2, name = $3, title = $4, phone = $5, company = $6,
		country = $7, source = $8, campaign = $9, account_id = $10, owner_id = $11, attrs = $12, updated_at = $13, version = $14
		WHERE id = $15 AND version = $16`,
		nullString(l.Email), nullString(l.ExternalID), l.Name, l.Title, l.Phone, l.Company, l.Country, l.Source, l.Campaign,
		nullInt(l.AccountID), nullInt(l.OwnerID), attrsJSON(l.Attrs), micros(tx.now), l.Version, l.ID, oldVersion)
	if err != nil {
		return nil, fmt.Errorf("update lead %d: %w", l.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, baton.Errorf(baton.ECONFLICT, "lead %d changed while you edited it: try again", l.ID)
	}
	for _, c := range changes {
		if err := tx.addHistory(ctx, baton.HistoryEntry{LeadID: l.ID, At: tx.now, Action: baton.ActionUpdated,
			Field: c.Field, From: c.From, To: c.To, Reason: tx.actor.Via}); err != nil {
			return nil, err
		}
	}
	sc, err := tx.scorer(ctx)
	if err != nil {
		return nil, err
	}
	return l, tx.rescoreLead(ctx, sc, l, nil)
}

func idOf(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func fmtID(p *int64) string {
	if p == nil {
		return ""
	}
	return fmt.Sprint(*p)
}

// EachLead calls fn for every lead the actor may see that matches the filter,
// in the filter's order (id order when Sort is empty), reading a page at a
// time, each in a read transaction of its own, so that any number of leads
// stream without holding a snapshot open while fn writes them out. A page
// starts after the last row's sort key and id. The filter's Offset and Limit
// are ignored.
func (db *DB) EachLead(ctx context.Context, f baton.LeadFilter, fn func(*baton.Lead) error) error {
	key, desc := "id", false
	if f.Sort != "" {
		var err error
		if key, desc, err = leadOrder(f.Sort, f.Reverse); err != nil {
			return err
		}
	}
	const page = 1000
	var after []any // the last row's key and id
	for {
		tx, err := db.beginLagged(ctx)
		if err != nil {
			return err
		}
		w := tx.leadWhere(f)
		order := orderBy(key, desc)
		switch {
		case key == "id":
			order = ` ORDER BY id`
			if after != nil {
				w.add("id > ?", after[1])
			}
		case after != nil && desc:
			w.add("("+key+", id) < (?, ?)", after...)
		case after != nil:
			w.add("("+key+", id) > (?, ?)", after...)
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+leadColumns+`, `+key+` FROM leads WHERE `+w.String()+order+` LIMIT `+strconv.Itoa(page), w.args...)
		if err != nil {
			tx.Rollback()
			return fmt.Errorf("each lead: %w", err)
		}
		var leads []*baton.Lead
		var last any
		for rows.Next() {
			l, err := scanLead(scanFunc(func(dest ...any) error { return rows.Scan(append(dest, &last)...) }))
			if err != nil {
				rows.Close()
				tx.Rollback()
				return fmt.Errorf("each lead: %w", err)
			}
			leads = append(leads, l)
		}
		rows.Close()
		tx.Rollback()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("each lead: %w", err)
		}
		for _, l := range leads {
			if err := fn(l); err != nil {
				return err
			}
		}
		if len(leads) < page {
			return nil
		}
		after = []any{last, leads[len(leads)-1].ID}
	}
}
