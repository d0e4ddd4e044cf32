package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/batonhq/baton"
)

// Audit is the AuditService of the database.
func (db *DB) Audit() baton.AuditService { return db }

// execer is what writes an audit row: a *Tx, or the *sql.Tx of the
// sign-in paths, which run without an actor.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// audit records an act of the transaction's actor in the audit log, in the
// transaction: it commits with the act or not at all. before and after are
// the changed fields, marshalled to JSON (nil: none); they must never hold
// a secret. The client address is the one the context carries
// (baton.WithClientAddr), if any.
func (tx *Tx) audit(ctx context.Context, action, kind string, id int64, before, after any) error {
	e := &baton.AuditEntry{At: tx.now, ActorName: tx.actor.Name, Via: tx.actor.Via,
		Action: action, TargetKind: kind, TargetID: id, Addr: baton.ClientAddrFrom(ctx)}
	if tx.actor.UserID != 0 {
		uid := tx.actor.UserID
		e.ActorID = &uid
	}
	if e.Via == "" && tx.actor.System() {
		e.Via = "system"
	}
	var err error
	if e.Before, err = auditJSON(before); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	if e.After, err = auditJSON(after); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return insertAudit(ctx, tx, e)
}

// auditJSON marshals the fields of an audit entry; nil is "".
func auditJSON(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// insertAudit writes an audit entry with ex.
func insertAudit(ctx context.Context, ex execer, e *baton.AuditEntry) error {
	if _, err := ex.ExecContext(ctx, `INSERT INTO audit_log (at, actor_id, actor_name, via, action, target_kind, target_id, before_json, after_json, addr)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		micros(e.At), nullInt(e.ActorID), e.ActorName, e.Via, e.Action, e.TargetKind, e.TargetID, e.Before, e.After, e.Addr); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// changed returns the fields of old and new (maps of the same names) whose
// values differ, as the before and after of an audit entry; nil, nil when
// none does.
func changed(old, new map[string]any) (before, after map[string]any) {
	for name, was := range old {
		if is := new[name]; !reflect.DeepEqual(was, is) {
			if before == nil {
				before, after = map[string]any{}, map[string]any{}
			}
			before[name], after[name] = was, is
		}
	}
	return before, after
}

// auditUser is the fields of a user the audit log records: never the
// password or its hash. The manager is 0 for none.
func auditUser(u *baton.User) map[string]any {
	var mgr int64
	if u.ManagerID != nil {
		mgr = *u.ManagerID
	}
	return map[string]any{"email": u.Email, "name": u.Name, "role": string(u.Role), "team": u.Team,
		"territory": u.Territory, "manager_id": mgr, "active": u.Active}
}

// FindAudit lists audit entries, newest first. Only an admin may.
func (db *DB) FindAudit(ctx context.Context, f baton.AuditFilter) ([]*baton.AuditEntry, int, error) {
	tx, err := db.beginLagged(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() {
		return nil, 0, baton.Errorf(baton.EFORBIDDEN, "only an admin may read the audit log")
	}
	var w where
	if f.Action != nil && *f.Action != "" {
		// A prefix without LIKE, whose wildcards _ and % an action may not
		// mean: the first characters, compared.
		w.add("substr(action, 1, ?) = ?", len(*f.Action), *f.Action)
	}
	if f.ActorID != nil {
		w.add("actor_id = ?", *f.ActorID)
	}
	if f.TargetKind != nil && *f.TargetKind != "" {
		w.add("target_kind = ?", *f.TargetKind)
	}
	if f.TargetID != nil {
		w.add("target_id = ?", *f.TargetID)
	}
	if f.From != nil {
		w.add("at >= ?", micros(*f.From))
	}
	if f.To != nil {
		w.add("at < ?", micros(*f.To))
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, at, actor_id, actor_name, via, action, target_kind, target_id, before_json, after_json, addr, COUNT(*) OVER ()
		FROM audit_log WHERE `+w.String()+` ORDER BY at DESC, id DESC`+limitClause(f.Offset, f.Limit), w.args...)
	if err != nil {
		return nil, 0, fmt.Errorf("find audit: %w", err)
	}
	defer rows.Close()
	out := []*baton.AuditEntry{}
	var total int
	for rows.Next() {
		var e baton.AuditEntry
		var at int64
		var actor sql.NullInt64
		if err := rows.Scan(&e.ID, &at, &actor, &e.ActorName, &e.Via, &e.Action, &e.TargetKind, &e.TargetID, &e.Before, &e.After, &e.Addr, &total); err != nil {
			return nil, 0, fmt.Errorf("find audit: %w", err)
		}
		e.At, e.ActorID = fromMicros(at), ptrInt(actor)
		out = append(out, &e)
	}
	return out, total, rows.Err()
}

// RecordExport records an export of lead data by the actor, in a
// transaction of its own, before the export starts.
func (db *DB) RecordExport(ctx context.Context, what, filter string) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if len(filter) > 2000 {
		filter = filter[:2000]
	}
	if err := tx.audit(ctx, "lead.export", "export", 0, nil, map[string]any{"what": what, "filter": filter}); err != nil {
		return err
	}
	return tx.Commit()
}
