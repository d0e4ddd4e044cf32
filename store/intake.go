package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
)

// The intake: ingest keys (Segment write keys, website capture keys), and
// the messages sent with them, linked to leads by the rules in the comment
// at the top of intake.go of package baton. Keys are stored as their
// SHA-256, like API tokens (token.go).

const ingestKeyColumns = `id, kind, name, origins, created_at, created_by, last_used_at, revoked_at, revoked_by`

func scanIngestKey(s interface{ Scan(...any) error }) (*baton.IngestKey, error) {
	var k baton.IngestKey
	var origins string
	var created int64
	var by, used, revoked, revokedBy sql.NullInt64
	if err := s.Scan(&k.ID, &k.Kind, &k.Name, &origins, &created, &by, &used, &revoked, &revokedBy); err != nil {
		return nil, err
	}
	k.Origins = strings.Fields(origins)
	if k.Origins == nil {
		k.Origins = []string{}
	}
	k.CreatedAt, k.LastUsedAt, k.RevokedAt = fromMicros(created), fromNullMicros(used), fromNullMicros(revoked)
	k.CreatedBy, k.RevokedBy = ptrInt(by), ptrInt(revokedBy)
	return &k, nil
}

// keyPrefixes tell the kinds of keys apart where they are pasted: bw_ for
// a write key, bc_ for a capture key (API tokens are bt_).
var keyPrefixes = map[baton.IngestKeyKind]string{baton.KeyWrite: "bw_", baton.KeyCapture: "bc_"}

// CreateIngestKey makes an ingest key (admins only) and returns it in clear,
// the only time it is shown. Audited as ingest_key.create.
func (db *DB) CreateIngestKey(ctx context.Context, in baton.IngestKeyInput) (string, *baton.IngestKey, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return "", nil, err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() {
		return "", nil, baton.Errorf(baton.EFORBIDDEN, "only an admin may create ingest keys")
	}
	if err := in.Validate(); err != nil {
		return "", nil, err
	}
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, err
	}
	key := keyPrefixes[in.Kind] + base64.RawURLEncoding.EncodeToString(raw[:])
	k, err := scanIngestKey(tx.QueryRowContext(ctx, `INSERT INTO ingest_keys (kind, name, hash, origins, created_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+ingestKeyColumns,
		string(in.Kind), in.Name, hashToken(key), strings.Join(in.Origins, " "), micros(tx.now), tx.actorID()))
	if err != nil {
		return "", nil, fmt.Errorf("create ingest key: %w", err)
	}
	if err := tx.audit(ctx, "ingest_key.create", "ingest_key", k.ID, nil, auditIngestKey(k)); err != nil {
		return "", nil, err
	}
	return key, k, tx.Commit()
}

// auditIngestKey is a key as the audit log records it: never the key or
// its hash.
func auditIngestKey(k *baton.IngestKey) map[string]any {
	return map[string]any{"kind": k.Kind, "name": k.Name, "origins": k.Origins}
}

// FindIngestKeys lists the ingest keys, live ones first, newest first
// (admins only).
func (db *DB) FindIngestKeys(ctx context.Context) ([]*baton.IngestKey, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() {
		return nil, baton.Errorf(baton.EFORBIDDEN, "only an admin may list ingest keys")
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+ingestKeyColumns+` FROM ingest_keys ORDER BY revoked_at IS NOT NULL, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("find ingest keys: %w", err)
	}
	defer rows.Close()
	out := []*baton.IngestKey{}
	for rows.Next() {
		k, err := scanIngestKey(rows)
		if err != nil {
			return nil, fmt.Errorf("find ingest keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeIngestKey revokes an ingest key now (admins only): it is refused
// from the next message on. A key revoked already is returned as it is.
// Audited as ingest_key.revoke.
func (db *DB) RevokeIngestKey(ctx context.Context, id int64) (*baton.IngestKey, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() {
		return nil, baton.Errorf(baton.EFORBIDDEN, "only an admin may revoke ingest keys")
	}
	k, err := scanIngestKey(tx.QueryRowContext(ctx, `SELECT `+ingestKeyColumns+` FROM ingest_keys WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baton.Errorf(baton.ENOTFOUND, "no ingest key %d", id)
	} else if err != nil {
		return nil, fmt.Errorf("revoke ingest key %d: %w", id, err)
	}
	if k.Revoked() {
		return k, nil
	}
	by := tx.actorID()
	if _, err := tx.ExecContext(ctx, `UPDATE ingest_keys SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL`,
		micros(tx.now), by, id); err != nil {
		return nil, fmt.Errorf("revoke ingest key %d: %w", id, err)
	}
	now := tx.now
	k.RevokedAt, k.RevokedBy = &now, ptrInt(by)
	if err := tx.audit(ctx, "ingest_key.revoke", "ingest_key", id, nil, auditIngestKey(k)); err != nil {
		return nil, err
	}
	return k, tx.Commit()
}

// AuthenticateIngestKey returns the live ingest key, or EUNAUTHORIZED. It
// records the key's last use at most once per baton.TokenUseResolution,
// best effort, as Authenticate does for tokens.
func (db *DB) AuthenticateIngestKey(ctx context.Context, key string) (*baton.IngestKey, error) {
	k, err := scanIngestKey(db.read.QueryRowContext(ctx, `SELECT `+ingestKeyColumns+` FROM ingest_keys WHERE hash = $1`, hashToken(key)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baton.Errorf(baton.EUNAUTHORIZED, "unknown ingest key")
	} else if err != nil {
		return nil, fmt.Errorf("authenticate ingest key: %w", err)
	}
	if k.Revoked() {
		return nil, baton.Errorf(baton.EUNAUTHORIZED, "this ingest key was revoked")
	}
	now := db.Now().UTC()
	if cutoff := micros(now.Add(-baton.TokenUseResolution)); k.LastUsedAt == nil || micros(*k.LastUsedAt) <= cutoff {
		db.touch(ctx, `UPDATE ingest_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)`,
			micros(now), k.ID, cutoff)
	}
	return k, nil
}

// Kinds of intake_visitors rows.
const (
	visitorAnonymous = "anonymous"
	visitorUser      = "user"
)

// visitor is one id of a visitor: an anonymousId or a userId.
type visitor struct{ kind, id string }

// pendingEvent is an event of a visitor not linked to a lead yet.
type pendingEvent struct {
	row   int // the message's index
	anon  string
	user  string
	event baton.EventInput
}

// Intake stores a batch of intake messages in one transaction: identifies
// and forms first, in order, then the track and page messages, then the
// pending events of the visitors the batch linked. Track and page messages
// are mapped to event types by the intake section of the policy in force
// (policy.DefaultIntake without one). Events go through RecordEvents, and
// so are scored as any others.
func (db *DB) Intake(ctx context.Context, msgs []baton.IntakeMessage) (res baton.IntakeResult, err error) {
	defer raceConflict(&err)
	a, ok := baton.ActorFrom(ctx)
	if !ok {
		return res, baton.Errorf(baton.EUNAUTHORIZED, "no actor: sign in first")
	}
	if !a.CanEditLeads() {
		return res, baton.Errorf(baton.EFORBIDDEN, "a %s may not send intake messages", a.Role)
	}
	if len(msgs) > baton.MaxIntakeBatch {
		return res, baton.Errorf(baton.EINVALID, "too many messages: at most %d in one request", baton.MaxIntakeBatch)
	}
	res.Errors = []baton.RowError{}
	bad := func(i int, err error) {
		res.Rejected++
		res.Errors = append(res.Errors, baton.RowError{Row: i, Column: baton.ErrorField(err), Message: baton.ErrorMessage(err)})
	}
	err = db.inTx(ctx, func(ctx context.Context, tx *Tx) error {
		valid := make([]bool, len(msgs))
		for i := range msgs {
			if err := msgs[i].Validate(tx.now); err != nil {
				bad(i, err)
			} else {
				valid[i] = true
			}
		}
		sc, err := tx.scorer(ctx)
		if err != nil {
			return err
		}
		mapping := policy.DefaultIntake()
		if sc.policy != nil {
			mapping = sc.policy.Intake
		}
		defs, err := tx.attrDefs(ctx)
		if err != nil {
			return err
		}
		leadOf := map[visitor]int64{} // memo of resolve, and the links made
		var linked []visitor          // the visitors this batch linked
		var events []baton.EventInput
		var rowOf []int // the message of each of events
		for i := range msgs {
			m := &msgs[i]
			if !valid[i] || (m.Type != baton.MessageIdentify && m.Type != baton.MessageForm) {
				continue
			}
			id, created, updated, err := tx.identify(ctx, m, defs)
			if err != nil {
				// Bad input is the message's; a race with another writer
				// (ECONFLICT) ends the batch, for the sender to retry.
				var be *baton.Error
				if !errors.As(err, &be) || be.Code == baton.ECONFLICT {
					return err
				}
				bad(i, err)
				valid[i] = false
				continue
			}
			if created {
				res.LeadsCreated++
			} else if updated {
				res.LeadsUpdated++
			}
			for _, v := range []visitor{{visitorAnonymous, m.AnonymousID}, {visitorUser, m.UserID}} {
				if v.id == "" {
					continue
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO intake_visitors (kind, visitor_id, lead_id, linked_at) VALUES ($1, $2, $3, $4)
					ON CONFLICT (kind, visitor_id) DO UPDATE SET lead_id = excluded.lead_id, linked_at = excluded.linked_at`,
					v.kind, v.id, id, micros(tx.now)); err != nil {
					return fmt.Errorf("link visitor: %w", err)
				}
				leadOf[v] = id
				linked = append(linked, v)
			}
			if m.Type == baton.MessageForm {
				events = append(events, baton.EventInput{ID: m.MessageID, LeadID: id, Type: baton.EventFormSubmit,
					OccurredAt: m.Timestamp, Properties: m.Properties})
				rowOf = append(rowOf, i)
			}
		}
		var pending []pendingEvent
		for i := range msgs {
			m := &msgs[i]
			if !valid[i] || (m.Type != baton.MessageTrack && m.Type != baton.MessagePage) {
				continue
			}
			var typ string
			if m.Type == baton.MessageTrack {
				t, ok := mapping.TrackEvent(m.Event)
				if !ok {
					bad(i, baton.FieldError("event", "%q names no event type: map it in the policy's intake.track", m.Event))
					continue
				}
				typ = t
			} else {
				typ = mapping.PageEvent(m.URL)
			}
			e := baton.EventInput{ID: m.MessageID, Type: typ, OccurredAt: m.Timestamp, Properties: m.Properties}
			id, err := tx.resolveVisitor(ctx, m, leadOf)
			if err != nil {
				return err
			}
			if id != 0 {
				e.LeadID = id
				events = append(events, e)
				rowOf = append(rowOf, i)
				continue
			}
			// Checked now, as RecordEvents will check it once it is linked.
			probe := e
			probe.LeadID = 1
			if err := probe.Validate(tx.now); err != nil {
				bad(i, err)
				continue
			}
			pending = append(pending, pendingEvent{row: i, anon: m.AnonymousID, user: m.UserID, event: e})
		}
		if len(events) > 0 {
			r, err := db.RecordEvents(ctx, events)
			if err != nil {
				return err
			}
			res.Events += r.Created
			res.Duplicates += r.Duplicates
			for _, e := range r.Errors {
				res.Rejected++
				res.Errors = append(res.Errors, baton.RowError{Row: rowOf[e.Row], Column: e.Column, Message: e.Message})
			}
		}
		for _, p := range pending {
			var props any
			if len(p.event.Properties) > 0 {
				props = string(p.event.Properties)
			}
			r, err := tx.ExecContext(ctx, `INSERT INTO intake_pending (anonymous_id, user_id, client_id, type, occurred_at, properties, received_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (anonymous_id, user_id, client_id) DO NOTHING`,
				p.anon, p.user, p.event.ID, p.event.Type, micros(p.event.OccurredAt), props, micros(tx.now))
			if err != nil {
				return fmt.Errorf("keep pending event: %w", err)
			}
			if n, _ := r.RowsAffected(); n > 0 {
				res.Pending++
			} else {
				res.Duplicates++
			}
		}
		stitched, err := tx.stitch(ctx, db, linked, leadOf)
		if err != nil {
			return err
		}
		res.Stitched = stitched
		if len(pending) > 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM intake_pending WHERE received_at < $1`,
				micros(tx.now.Add(-baton.AnonymousRetention))); err != nil {
				return fmt.Errorf("forget old pending events: %w", err)
			}
		}
		return nil
	}, false)
	if err != nil {
		return baton.IntakeResult{}, err
	}
	return res, nil
}

// identify upserts the lead of an identify or form message: by email, else
// by userId (linked, or as external_id). A new lead gets the message's
// source and campaign; an existing one gets the traits the message
// carries, its email and external_id only when it has none.
func (tx *Tx) identify(ctx context.Context, m *baton.IntakeMessage, defs map[string]baton.AttrType) (id int64, created, updated bool, err error) {
	var existing *baton.Lead
	// find finds the lead of a condition; a merged lead gives its survivor.
	find := func(q string, args ...any) error {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT COALESCE(merged_into, id) FROM leads WHERE `+q, args...).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return fmt.Errorf("identify: %w", err)
		}
		existing, err = tx.findLead(ctx, id, true)
		return err
	}
	if m.Email != "" {
		if err := find(`email = $1`, m.Email); err != nil {
			return 0, false, false, err
		}
	}
	if existing == nil && m.UserID != "" {
		if err := find(`id = (SELECT lead_id FROM intake_visitors WHERE kind = $1 AND visitor_id = $2)`, visitorUser, m.UserID); err != nil {
			return 0, false, false, err
		}
		if existing == nil {
			if err := find(`external_id = $1`, m.UserID); err != nil {
				return 0, false, false, err
			}
		}
	}
	t := m.Traits
	if existing == nil {
		l := &baton.Lead{Email: m.Email, ExternalID: m.UserID, Name: t.Name, Title: t.Title, Phone: t.Phone,
			Company: t.Company, Country: t.Country, Source: m.Source, Campaign: m.Campaign}
		if err := tx.createLead(ctx, l, defs); err != nil {
			return 0, false, false, err
		}
		return l.ID, true, false, nil
	}
	var upd baton.LeadUpdate
	changed := false
	for _, f := range []struct {
		dst      **string
		v, was   string
		onlyNone bool
	}{{&upd.Name, t.Name, existing.Name, false}, {&upd.Title, t.Title, existing.Title, false}, {&upd.Phone, t.Phone, existing.Phone, false},
		{&upd.Company, t.Company, existing.Company, false}, {&upd.Country, t.Country, existing.Country, false},
		{&upd.Email, m.Email, existing.Email, true}} {
		if f.v != "" && f.v != f.was && (!f.onlyNone || f.was == "") {
			v := f.v
			*f.dst, changed = &v, true
		}
	}
	if m.UserID != "" && existing.ExternalID == "" {
		var other int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM leads WHERE external_id = $1`, m.UserID).Scan(&other)
		if errors.Is(err, sql.ErrNoRows) {
			v := m.UserID
			upd.ExternalID, changed = &v, true
		} else if err != nil {
			return 0, false, false, fmt.Errorf("identify: %w", err)
		}
	}
	if !changed {
		return existing.ID, false, false, nil
	}
	if _, err := tx.updateLead(ctx, existing, upd, defs); err != nil {
		return 0, false, false, err
	}
	return existing.ID, false, true, nil
}

// resolveVisitor returns the lead of a track or page message: its userId's
// (linked, or a lead's external_id), else its anonymousId's; 0 for none.
// Merged leads give their survivor. It remembers in memo.
func (tx *Tx) resolveVisitor(ctx context.Context, m *baton.IntakeMessage, memo map[visitor]int64) (int64, error) {
	for _, v := range []visitor{{visitorUser, m.UserID}, {visitorAnonymous, m.AnonymousID}} {
		if v.id == "" {
			continue
		}
		id, ok := memo[v]
		if !ok {
			q := `SELECT COALESCE(l.merged_into, l.id) FROM intake_visitors v JOIN leads l ON l.id = v.lead_id WHERE v.kind = $1 AND v.visitor_id = $2`
			args := []any{v.kind, v.id}
			if v.kind == visitorUser {
				q += ` UNION ALL SELECT COALESCE(merged_into, id) FROM leads WHERE external_id = $2`
			}
			err := tx.QueryRowContext(ctx, q+` LIMIT 1`, args...).Scan(&id)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return 0, fmt.Errorf("resolve visitor: %w", err)
			}
			memo[v] = id
		}
		if id != 0 {
			return id, nil
		}
	}
	return 0, nil
}

// stitch records the pending events of the visitors linked in this batch
// on their leads, and forgets them as pending. It returns how many it
// recorded (those on the lead already are not counted).
func (tx *Tx) stitch(ctx context.Context, db *DB, linked []visitor, leadOf map[visitor]int64) (int, error) {
	if len(linked) == 0 {
		return 0, nil
	}
	var events []baton.EventInput
	var ids []any
	seen := map[int64]bool{}
	for _, v := range linked {
		col := "anonymous_id"
		if v.kind == visitorUser {
			col = "user_id"
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, client_id, type, occurred_at, properties FROM intake_pending WHERE `+col+` = $1 ORDER BY id`, v.id)
		if err != nil {
			return 0, fmt.Errorf("stitch: %w", err)
		}
		for rows.Next() {
			var id, occurred int64
			var e baton.EventInput
			var props sql.NullString
			if err := rows.Scan(&id, &e.ID, &e.Type, &occurred, &props); err != nil {
				rows.Close()
				return 0, fmt.Errorf("stitch: %w", err)
			}
			if seen[id] {
				continue
			}
			seen[id] = true
			e.LeadID, e.OccurredAt = leadOf[v], fromMicros(occurred)
			if props.Valid {
				e.Properties = []byte(props.String)
			}
			events = append(events, e)
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, fmt.Errorf("stitch: %w", err)
		}
	}
	if len(events) == 0 {
		return 0, nil
	}
	r, err := db.RecordEvents(ctx, events)
	if err != nil {
		return 0, err
	}
	for start := 0; start < len(ids); start += eventChunk {
		chunk := ids[start:min(start+eventChunk, len(ids))]
		var b strings.Builder
		b.WriteString(`DELETE FROM intake_pending WHERE id IN (`)
		for i := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d", i+1)
		}
		b.WriteString(")")
		if _, err := tx.ExecContext(ctx, b.String(), chunk...); err != nil {
			return 0, fmt.Errorf("stitch: %w", err)
		}
	}
	return r.Created, nil
}
