package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// Users is the UserService of the database.
func (db *DB) Users() baton.UserService { return db }

const userColumns = `id, email, name, role, team, territory, manager_id, active, out_of_office_until, out_of_office_note, time_zone, created_at, updated_at`

func scanUser(s interface{ Scan(...any) error }) (*baton.User, error) {
	var u baton.User
	var mgr, away sql.NullInt64
	var created, updated int64
	if err := s.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Team, &u.Territory, &mgr, &u.Active, &away, &u.OutOfOfficeNote, &u.TimeZone, &created, &updated); err != nil {
		return nil, err
	}
	u.ManagerID = ptrInt(mgr)
	u.OutOfOfficeUntil = fromNullMicros(away)
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &u, nil
}

// CreateUser stores a new user. Only an admin may.
func (db *DB) CreateUser(ctx context.Context, u *baton.User) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() {
		return baton.Errorf(baton.EFORBIDDEN, "only an admin may create users")
	}
	if err := tx.createUser(ctx, u); err != nil {
		return err
	}
	if err := tx.audit(ctx, "user.create", "user", u.ID, nil, auditUser(u)); err != nil {
		return err
	}
	return tx.Commit()
}

func (tx *Tx) createUser(ctx context.Context, u *baton.User) error {
	u.Active = true
	if err := u.Validate(); err != nil {
		return err
	}
	if u.ManagerID != nil {
		if _, err := tx.findUserByID(ctx, *u.ManagerID); err != nil {
			return baton.FieldError("manager_id", "no user %d", *u.ManagerID)
		}
	}
	u.CreatedAt, u.UpdatedAt = tx.now, tx.now
	err := tx.QueryRowContext(ctx, `INSERT INTO users (email, name, role, team, territory, manager_id, active, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		u.Email, u.Name, string(u.Role), u.Team, u.Territory, nullInt(u.ManagerID), u.Active, micros(tx.now), micros(tx.now)).Scan(&u.ID)
	if isUniqueViolation(err) {
		return &baton.Error{Code: baton.ECONFLICT, Field: "email", Message: fmt.Sprintf("a user with email %s exists", u.Email)}
	} else if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	return nil
}

// FindUserByID returns the user with the id, or ENOTFOUND.
func (db *DB) FindUserByID(ctx context.Context, id int64) (*baton.User, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return tx.findUserByID(ctx, id)
}

func (tx *Tx) findUserByID(ctx context.Context, id int64) (*baton.User, error) {
	u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baton.Errorf(baton.ENOTFOUND, "no user %d", id)
	} else if err != nil {
		return nil, fmt.Errorf("find user %d: %w", id, err)
	}
	return u, nil
}

// FindUserByEmail returns the user with the email, or ENOTFOUND.
func (db *DB) FindUserByEmail(ctx context.Context, email string) (*baton.User, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return tx.findUserByEmail(ctx, email)
}

func (tx *Tx) findUserByEmail(ctx context.Context, email string) (*baton.User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`, email))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baton.Errorf(baton.ENOTFOUND, "no user with email %s", email)
	} else if err != nil {
		return nil, fmt.Errorf("find user %s: %w", email, err)
	}
	return u, nil
}

// FindUsers lists users. Everyone signed in may see who is who.
func (db *DB) FindUsers(ctx context.Context, f baton.UserFilter) ([]*baton.User, int, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var w where
	if f.ID != nil {
		w.add("id = ?", *f.ID)
	}
	if f.Email != nil {
		w.add("email = ?", strings.ToLower(*f.Email))
	}
	if f.Role != nil {
		w.add("role = ?", string(*f.Role))
	}
	if f.Team != nil {
		w.add("team = ?", *f.Team)
	}
	if f.ManagerID != nil {
		w.add("manager_id = ?", *f.ManagerID)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+userColumns+`, COUNT(*) OVER () FROM users WHERE `+w.String()+
		` ORDER BY id`+limitClause(f.Offset, f.Limit), w.args...)
	if err != nil {
		return nil, 0, fmt.Errorf("find users: %w", err)
	}
	defer rows.Close()
	var users []*baton.User
	var total int
	for rows.Next() {
		u, err := scanUser(scanFunc(func(dest ...any) error { return rows.Scan(append(dest, &total)...) }))
		if err != nil {
			return nil, 0, fmt.Errorf("find users: %w", err)
		}
		users = append(users, u)
	}
	return users, total, rows.Err()
}

type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// UpdateUser changes a user. Only an admin may. Deactivating a user ends
// their web sessions in the same transaction (their API tokens are refused
// while they are inactive, see Authenticate), and routing skips them from
// then on; the leads they own stay theirs until reassigned. No admin may
// deactivate themselves, so that one admin is always left who can undo it.
func (db *DB) UpdateUser(ctx context.Context, id int64, upd baton.UserUpdate) (*baton.User, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() {
		return nil, baton.Errorf(baton.EFORBIDDEN, "only an admin may change users")
	}
	u, err := tx.findUserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	old := auditUser(u)
	if upd.Name != nil {
		u.Name = *upd.Name
	}
	if upd.Role != nil {
		u.Role = *upd.Role
	}
	if upd.Team != nil {
		u.Team = *upd.Team
	}
	if upd.Territory != nil {
		u.Territory = *upd.Territory
	}
	deactivated := false
	if upd.Active != nil {
		if !*upd.Active && u.Active && id == tx.actor.UserID {
			return nil, baton.FieldError("active", "you cannot deactivate yourself: another admin must")
		}
		deactivated = u.Active && !*upd.Active
		u.Active = *upd.Active
	}
	if upd.ManagerID != nil {
		if *upd.ManagerID == 0 {
			u.ManagerID = nil
		} else {
			if _, err := tx.findUserByID(ctx, *upd.ManagerID); err != nil {
				return nil, baton.FieldError("manager_id", "no user %d", *upd.ManagerID)
			}
			u.ManagerID = upd.ManagerID
		}
	}
	if err := u.Validate(); err != nil {
		return nil, err
	}
	u.UpdatedAt = tx.now
	if _, err := tx.ExecContext(ctx, `UPDATE users SET name = $1, role = $2, team = $3, territory = $4, manager_id = $5, active = $6, updated_at = $7 WHERE id = $8`,
		u.Name, string(u.Role), u.Team, u.Territory, nullInt(u.ManagerID), u.Active, micros(tx.now), u.ID); err != nil {
		return nil, fmt.Errorf("update user %d: %w", id, err)
	}
	if deactivated {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
			return nil, fmt.Errorf("end the sessions of user %d: %w", id, err)
		}
	}
	if before, after := changed(old, auditUser(u)); before != nil {
		if err := tx.audit(ctx, "user.update", "user", u.ID, before, after); err != nil {
			return nil, err
		}
	}
	return u, tx.Commit()
}

// SetOutOfOffice marks a user away until the return date, replacing any
// absence set before. The user, their manager and an admin may; a day
// (YYYY-MM-DD) is the start of that day in the user's working calendar's
// time zone, so that a rep in New York who is back on Monday gets no lead
// on Sunday evening. The audit log records it (user.away) with the
// absence before and after.
func (db *DB) SetOutOfOffice(ctx context.Context, id int64, o baton.OutOfOffice) (*baton.User, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	u, err := tx.absenceOf(ctx, id)
	if err != nil {
		return nil, err
	}
	cal, err := tx.calendarOf(ctx, u)
	if err != nil {
		return nil, err
	}
	until, note, err := o.Return(tx.now, cal.Location)
	if err != nil {
		return nil, err
	}
	if err := tx.setAbsence(ctx, u, &until, note); err != nil {
		return nil, err
	}
	return u, tx.Commit()
}

// EndOutOfOffice ends a user's absence now, with the rights of
// SetOutOfOffice: it clears the return date and the note. A user without
// one is left as they are.
func (db *DB) EndOutOfOffice(ctx context.Context, id int64) (*baton.User, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	u, err := tx.absenceOf(ctx, id)
	if err != nil {
		return nil, err
	}
	if u.OutOfOfficeUntil == nil {
		return u, nil
	}
	if err := tx.setAbsence(ctx, u, nil, ""); err != nil {
		return nil, err
	}
	return u, tx.Commit()
}

// absenceOf returns the user whose absence the actor changes: ENOTFOUND
// for no such user, EFORBIDDEN unless the actor may (baton.Actor.CanSetAbsence).
func (tx *Tx) absenceOf(ctx context.Context, id int64) (*baton.User, error) {
	u, err := tx.findUserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !tx.actor.CanSetAbsence(u) {
		if tx.actor.Role == baton.RoleManager {
			return nil, baton.Errorf(baton.EFORBIDDEN, "%s does not report to you: only they, their manager or an admin may set their out of office", u.Name)
		}
		return nil, baton.Errorf(baton.EFORBIDDEN, "you may set only your own out of office")
	}
	return u, nil
}

// setAbsence sets or ends (until nil) a user's absence and records it in
// the audit log.
func (tx *Tx) setAbsence(ctx context.Context, u *baton.User, until *time.Time, note string) error {
	before := auditAbsence(u.OutOfOfficeUntil, u.OutOfOfficeNote)
	if _, err := tx.ExecContext(ctx, `UPDATE users SET out_of_office_until = $1, out_of_office_note = $2, updated_at = $3 WHERE id = $4`,
		nullMicros(until), note, micros(tx.now), u.ID); err != nil {
		return fmt.Errorf("out of office of user %d: %w", u.ID, err)
	}
	u.OutOfOfficeUntil, u.OutOfOfficeNote, u.UpdatedAt = until, note, tx.now
	return tx.audit(ctx, "user.away", "user", u.ID, before, auditAbsence(until, note))
}

// auditAbsence is an absence as the audit log records it: until is null
// for none.
func auditAbsence(until *time.Time, note string) map[string]any {
	return map[string]any{"until": until, "note": note}
}

// awayNote says, for the why of a routed assignment, which reps of the
// route's pool were skipped as out of office: " (out of office: Emil Emea
// until 2026-03-05 00:00 UTC)", or "" when none was.
func (tx *Tx) awayNote(ctx context.Context, role baton.Role, pool string) (string, error) {
	var w where
	w.add("role = ?", string(role))
	w.add("active = ?", true)
	w.add("out_of_office_until > ?", micros(tx.now))
	if pool != "" {
		w.add("team = ?", pool)
	}
	rows, err := tx.QueryContext(ctx, `SELECT name, out_of_office_until FROM users WHERE `+w.String()+` ORDER BY out_of_office_until, id`, w.args...)
	if err != nil {
		return "", fmt.Errorf("reps out of office: %w", err)
	}
	defer rows.Close()
	var away []string
	n := 0
	for rows.Next() {
		var name string
		var until int64
		if err := rows.Scan(&name, &until); err != nil {
			return "", fmt.Errorf("reps out of office: %w", err)
		}
		if n++; n <= 3 {
			away = append(away, name+" until "+fromMicros(until).Format("2006-01-02 15:04 MST"))
		}
	}
	if err := rows.Err(); err != nil || n == 0 {
		return "", err
	}
	if n > len(away) {
		away = append(away, fmt.Sprintf("%d more", n-len(away)))
	}
	return " (out of office: " + strings.Join(away, ", ") + ")", nil
}

// ImportUsers upserts users by email in one transaction; managers named by
// email or name are found or created first.
func (db *DB) ImportUsers(ctx context.Context, users []baton.UserImport) (baton.ImportResult, error) {
	var res baton.ImportResult
	tx, err := db.begin(ctx)
	if err != nil {
		return res, err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() {
		return res, baton.Errorf(baton.EFORBIDDEN, "only an admin may import users")
	}
	domain := "example.com"
	managerID := func(ref string) (*int64, error) {
		ref = strings.TrimSpace(ref)
		if ref == "" {
			return nil, nil
		}
		if strings.Contains(ref, "@") {
			m, err := tx.findUserByEmail(ctx, ref)
			if err != nil {
				return nil, err
			}
			return &m.ID, nil
		}
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE name = $1 ORDER BY id LIMIT 1`, ref).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			m := &baton.User{Name: ref, Email: baton.EmailFromName(ref, domain), Role: baton.RoleManager}
			if err := tx.createUser(ctx, m); err != nil {
				return nil, err
			}
			res.Created++
			return &m.ID, nil
		} else if err != nil {
			return nil, err
		}
		return &id, nil
	}
	for i, ui := range users {
		u := ui.User
		if at := strings.LastIndexByte(u.Email, '@'); at > 0 {
			domain = strings.ToLower(u.Email[at+1:])
		}
		mid, err := managerID(ui.Manager)
		if err != nil {
			res.Rejected++
			res.Errors = append(res.Errors, baton.RowError{Row: i, Column: "manager", Message: baton.ErrorMessage(err)})
			continue
		}
		u.ManagerID = mid
		existing, err := tx.findUserByEmail(ctx, u.Email)
		if baton.ErrorCode(err) == baton.ENOTFOUND {
			if err := tx.createUser(ctx, &u); err != nil {
				if baton.ErrorCode(err) == baton.EINTERNAL {
					return res, err
				}
				res.Rejected++
				res.Errors = append(res.Errors, baton.RowError{Row: i, Column: baton.ErrorField(err), Message: baton.ErrorMessage(err)})
				continue
			}
			if err := tx.audit(ctx, "user.create", "user", u.ID, nil, auditUser(&u)); err != nil {
				return res, err
			}
			res.Created++
			continue
		} else if err != nil {
			return res, err
		}
		u.ID = existing.ID
		u.Active = existing.Active
		if err := u.Validate(); err != nil {
			res.Rejected++
			res.Errors = append(res.Errors, baton.RowError{Row: i, Column: baton.ErrorField(err), Message: baton.ErrorMessage(err)})
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET name = $1, role = $2, team = $3, territory = $4, manager_id = $5, updated_at = $6 WHERE id = $7`,
			u.Name, string(u.Role), u.Team, u.Territory, nullInt(u.ManagerID), micros(tx.now), u.ID); err != nil {
			return res, fmt.Errorf("import users: %w", err)
		}
		if before, after := changed(auditUser(existing), auditUser(&u)); before != nil {
			if err := tx.audit(ctx, "user.update", "user", u.ID, before, after); err != nil {
				return res, err
			}
		}
		res.Updated++
	}
	return res, tx.Commit()
}

// prefix qualifies each comma-separated column with a table alias.
func prefix(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// SetTimeZone sets the zone a user reads dates in: the user or an admin.
func (db *DB) SetTimeZone(ctx context.Context, userID int64, zone string) (*baton.User, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	u, err := tx.findUserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	if tx.actor.UserID != userID && !tx.actor.CanAdmin() {
		return nil, baton.Errorf(baton.EFORBIDDEN, "only the user or an admin sets a user's time zone")
	}
	if _, err := baton.ParseTimeZone("time_zone", zone); err != nil {
		return nil, err
	}
	u.TimeZone, u.UpdatedAt = strings.TrimSpace(zone), tx.now
	if _, err := tx.ExecContext(ctx, `UPDATE users SET time_zone = $1, updated_at = $2 WHERE id = $3`, u.TimeZone, micros(tx.now), u.ID); err != nil {
		return nil, fmt.Errorf("set time zone of user %d: %w", u.ID, err)
	}
	return u, tx.Commit()
}

// UserZone returns the zone the user reads dates in: their own, else their
// working calendar's (theirs, their team's, the default), else UTC.
func (db *DB) UserZone(ctx context.Context, u *baton.User) *time.Location {
	if loc, err := baton.ParseTimeZone("time_zone", u.TimeZone); err == nil && loc != nil {
		return loc
	}
	tx, err := db.beginRead(baton.WithActor(ctx, baton.SystemActor))
	if err != nil {
		return time.UTC
	}
	defer tx.Rollback()
	cal, err := tx.calendarOf(ctx, u)
	if err != nil || cal.Location == nil {
		return time.UTC
	}
	return cal.Location
}
