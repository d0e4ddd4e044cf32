package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/batonhq/baton"
)

// Events is the EventService of the database.
func (db *DB) Events() baton.EventService { return db }

// eventChunk is how many events one multi-row INSERT carries: 6 columns each,
// well under SQLite's and PostgreSQL's limits on bound parameters.
const eventChunk = 500

// RecordEvents stores a batch of events in one transaction. Each event is
// stored once per (lead, id): a retried event counts as a duplicate.
func (db *DB) RecordEvents(ctx context.Context, in []baton.EventInput) (_ baton.EventResult, err error) {
	defer raceConflict(&err)
	var res baton.EventResult
	a, ok := baton.ActorFrom(ctx)
	if !ok {
		return res, baton.Errorf(baton.EUNAUTHORIZED, "no actor: sign in first")
	}
	if !a.CanEditLeads() {
		return res, baton.Errorf(baton.EFORBIDDEN, "a %s may not send events", a.Role)
	}
	bad := func(i int, err error) {
		res.Rejected++
		res.Errors = append(res.Errors, baton.RowError{Row: i, Column: baton.ErrorField(err), Message: baton.ErrorMessage(err)})
	}
	invalid := make([]error, len(in))
	var valid []int
	var ids []int64
	// A big batch on SQLite, outside another transaction, is checked and
	// its leads found before the write transaction, in two halves at once on
	// reader connections: the writer's lock is held only to store it.
	early := db.backend == SQLite && len(in) >= 2000 && db.joined(ctx, a) == nil
	if early {
		if valid, ids, err = db.checkAndResolve(ctx, in, invalid); err != nil {
			return res, err
		}
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return res, err
	}
	defer tx.Rollback()
	if !early {
		valid = validate(in, 0, len(in), tx.now, invalid)
		if ids, err = tx.resolveLeads(ctx, in, valid); err != nil {
			return res, err
		}
	}
	for i, err := range invalid {
		if err != nil {
			bad(i, err)
		}
	}
	rows := make([]int, 0, len(valid))
	for _, i := range valid {
		if ids[i] == 0 {
			e := &in[i]
			switch {
			case e.LeadID != 0:
				bad(i, baton.FieldError("lead_id", "no lead %d", e.LeadID))
			case e.Email != "":
				bad(i, baton.FieldError("email", "no lead with email %s", e.Email))
			default:
				bad(i, baton.FieldError("external_id", "no lead with external_id %s", e.ExternalID))
			}
			continue
		}
		rows = append(rows, i)
	}
	sc, err := tx.scorer(ctx)
	if err != nil {
		return res, err
	}
	// Scoring needs to know which events are new; without a policy or model
	// in force nothing reads them until one comes, and its rescore rebuilds
	// every lead's state from the stored events.
	scoring := sc.active()
	var before int64
	if scoring && tx.db.backend == SQLite {
		// SQLite has one writer: the rows this transaction inserts are those
		// with ids above the largest before it.
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM events`).Scan(&before); err != nil {
			return res, fmt.Errorf("record events: %w", err)
		}
	}
	type key struct {
		lead int64
		id   string
	}
	stored := make(map[key]bool, len(rows))
	returning := scoring && tx.db.backend == Postgres
	insertSQL := func(n int) string {
		var b strings.Builder
		b.WriteString(`INSERT INTO events (lead_id, client_id, type, occurred_at, properties, received_at) VALUES `)
		tx.db.placeholders(&b, n, 6, 1)
		b.WriteString(` ON CONFLICT (lead_id, client_id) DO NOTHING`)
		if returning {
			b.WriteString(` RETURNING lead_id, client_id`)
		}
		return b.String()
	}
	// Full chunks share one statement, parsed once: parsing 3,000 parameters
	// costs about as much as inserting the rows.
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	received := micros(tx.now)
	args := make([]any, 0, eventChunk*6)
	for start := 0; start < len(rows); start += eventChunk {
		chunk := rows[start:min(start+eventChunk, len(rows))]
		args = args[:0]
		for _, i := range chunk {
			e := &in[i]
			var props any
			if len(e.Properties) > 0 {
				props = string(e.Properties)
			}
			args = append(args, ids[i], e.ID, e.Type, micros(e.OccurredAt), props, received)
		}
		stmt := full
		if stmt == nil || len(chunk) < eventChunk {
			if stmt, err = tx.PrepareContext(ctx, insertSQL(len(chunk))); err != nil {
				return baton.EventResult{}, fmt.Errorf("record events: %w", err)
			}
			if len(chunk) == eventChunk {
				full = stmt
			}
		}
		n := 0
		if returning {
			r, err := stmt.QueryContext(ctx, args...)
			if err != nil {
				return baton.EventResult{}, fmt.Errorf("record events: %w", err)
			}
			for r.Next() {
				var k key
				if err := r.Scan(&k.lead, &k.id); err != nil {
					r.Close()
					return baton.EventResult{}, fmt.Errorf("record events: %w", err)
				}
				stored[k] = true
				n++
			}
			r.Close()
			if err := r.Err(); err != nil {
				return baton.EventResult{}, fmt.Errorf("record events: %w", err)
			}
		} else {
			r, err := stmt.ExecContext(ctx, args...)
			if err != nil {
				return baton.EventResult{}, fmt.Errorf("record events: %w", err)
			}
			affected, _ := r.RowsAffected()
			n = int(affected)
		}
		if stmt != full {
			stmt.Close()
		}
		res.Created += n
		res.Duplicates += len(chunk) - n
	}
	tx.countEvents(res)
	if !scoring {
		if err := tx.Commit(); err != nil {
			return baton.EventResult{}, fmt.Errorf("record events: %w", err)
		}
		return res, nil
	}
	if !returning {
		if res.Created == len(rows) {
			for _, i := range rows {
				stored[key{ids[i], in[i].ID}] = true
			}
		} else if err := func() error {
			r, err := tx.QueryContext(ctx, `SELECT lead_id, client_id FROM events WHERE id > $1`, before)
			if err != nil {
				return err
			}
			defer r.Close()
			for r.Next() {
				var k key
				if err := r.Scan(&k.lead, &k.id); err != nil {
					return err
				}
				stored[k] = true
			}
			return r.Err()
		}(); err != nil {
			return baton.EventResult{}, fmt.Errorf("record events: %w", err)
		}
	}
	// Score each lead that got new events, in this same transaction.
	byLead := map[int64][]*baton.Event{}
	for _, i := range rows {
		e := &in[i]
		k := key{ids[i], e.ID}
		if !stored[k] {
			continue
		}
		delete(stored, k) // an id sent twice in one batch was stored once
		byLead[k.lead] = append(byLead[k.lead], &baton.Event{ID: e.ID, LeadID: k.lead, Type: e.Type,
			OccurredAt: e.OccurredAt.UTC(), Properties: e.Properties, ReceivedAt: tx.now})
	}
	if err := tx.scoreLeads(ctx, sc, byLead); err != nil {
		return baton.EventResult{}, err
	}
	if err := tx.Commit(); err != nil {
		return baton.EventResult{}, fmt.Errorf("record events: %w", err)
	}
	return res, nil
}

// countEvents tallies a batch's results for the metrics.
func (tx *Tx) countEvents(res baton.EventResult) {
	tx.count(func(t *tally) {
		inc(&t.Events, "created", int64(res.Created))
		inc(&t.Events, "duplicate", int64(res.Duplicates))
		inc(&t.Events, "rejected", int64(res.Rejected))
	})
}

// validate checks the events in[lo:hi] at now, records each one's error in
// invalid, and returns the indexes of the valid ones.
func validate(in []baton.EventInput, lo, hi int, now time.Time, invalid []error) []int {
	valid := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		if invalid[i] = in[i].Validate(now); invalid[i] == nil {
			valid = append(valid, i)
		}
	}
	return valid
}

// checkAndResolve validates the events and finds their leads on the reader
// pool, in two halves at once. invalid receives each event's validation
// error; it returns the valid events' indexes and the lead ids by index.
func (db *DB) checkAndResolve(ctx context.Context, in []baton.EventInput, invalid []error) ([]int, []int64, error) {
	now := db.Now().UTC()
	ids := make([]int64, len(in))
	halves := [2][2]int{{0, len(in) / 2}, {len(in) / 2, len(in)}}
	var valid [2][]int
	var errs [2]error
	var wg sync.WaitGroup
	for h, r := range halves {
		wg.Go(func() {
			valid[h] = validate(in, r[0], r[1], now, invalid)
			tx, err := db.beginRead(ctx)
			if err != nil {
				errs[h] = err
				return
			}
			defer tx.Rollback()
			found, err := tx.resolveLeads(ctx, in, valid[h])
			if err != nil {
				errs[h] = err
				return
			}
			for _, i := range valid[h] {
				ids[i] = found[i]
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs[0], errs[1]); err != nil {
		return nil, nil, err
	}
	return append(valid[0], valid[1]...), ids, nil
}

// resolveLeads finds the lead id of each valid event, by id, email or
// external id, with one query per key kind and chunk rather than per event.
func (tx *Tx) resolveLeads(ctx context.Context, in []baton.EventInput, valid []int) ([]int64, error) {
	ids := make([]int64, len(in))
	byID := map[int64]bool{}
	byEmail := map[string]int64{}
	byExt := map[string]int64{}
	for _, i := range valid {
		switch e := &in[i]; {
		case e.LeadID != 0:
			byID[e.LeadID] = false
		case e.Email != "":
			byEmail[e.Email] = 0
		default:
			byExt[e.ExternalID] = 0
		}
	}
	// Each kind of key is looked up with one statement whose single
	// parameter is a JSON array of the keys: no statement with thousands of
	// parameters to parse, on either backend.
	lookup := func(col string, keys []any, found func(id int64, key string)) error {
		if len(keys) == 0 {
			return nil
		}
		list, err := json.Marshal(keys)
		if err != nil {
			return err
		}
		q := `SELECT l.id, l.` + col + ` FROM json_each($1) k CROSS JOIN leads l ON l.` + col + ` = k.value`
		if tx.db.backend == Postgres {
			match := "k.v"
			if col == "id" {
				match = "k.v::bigint"
			}
			q = `SELECT l.id, l.` + col + `::text FROM jsonb_array_elements_text($1::jsonb) k(v) JOIN leads l ON l.` + col + ` = ` + match
		}
		rows, err := tx.QueryContext(ctx, q, string(list))
		if err != nil {
			return fmt.Errorf("resolve leads by %s: %w", col, err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var key sql.NullString
			if err := rows.Scan(&id, &key); err != nil {
				return err
			}
			found(id, key.String)
		}
		return rows.Err()
	}
	keys := make([]any, 0, len(byID))
	for id := range byID {
		keys = append(keys, id)
	}
	if err := lookup("id", keys, func(id int64, _ string) { byID[id] = true }); err != nil {
		return nil, err
	}
	keys = keys[:0]
	for k := range byEmail {
		keys = append(keys, k)
	}
	if err := lookup("email", keys, func(id int64, k string) { byEmail[k] = id }); err != nil {
		return nil, err
	}
	keys = keys[:0]
	for k := range byExt {
		keys = append(keys, k)
	}
	if err := lookup("external_id", keys, func(id int64, k string) { byExt[k] = id }); err != nil {
		return nil, err
	}
	for _, i := range valid {
		switch e := &in[i]; {
		case e.LeadID != 0:
			if byID[e.LeadID] {
				ids[i] = e.LeadID
			}
		case e.Email != "":
			ids[i] = byEmail[e.Email]
		default:
			ids[i] = byExt[e.ExternalID]
		}
	}
	return ids, nil
}

// FindEvents lists events of leads the actor may see, latest first.
func (db *DB) FindEvents(ctx context.Context, f baton.EventFilter) ([]*baton.Event, int, error) {
	tx, err := db.beginLagged(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	if f.LeadID != nil {
		if _, err := tx.findVisibleLead(ctx, *f.LeadID, false); err != nil {
			return nil, 0, err
		}
	}
	return tx.findEvents(ctx, f)
}

func (tx *Tx) findEvents(ctx context.Context, f baton.EventFilter) ([]*baton.Event, int, error) {
	var w where
	if f.LeadID != nil {
		w.add("e.lead_id = ?", *f.LeadID)
	} else if !tx.actor.SeesAllLeads() {
		w.add("e.lead_id IN (SELECT id FROM leads l WHERE " + scopeSQL(tx, &w) + ")")
	}
	if f.Type != nil {
		w.add("e.type = ?", *f.Type)
	}
	if f.After != nil {
		w.add("e.occurred_at > ?", micros(*f.After))
	}
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM events e WHERE `+w.String(), w.args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count events: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT e.client_id, e.lead_id, e.type, e.occurred_at, e.properties, e.received_at
		FROM events e WHERE `+w.String()+` ORDER BY e.occurred_at DESC, e.id DESC`+limitClause(f.Offset, f.Limit), w.args...)
	if err != nil {
		return nil, 0, fmt.Errorf("find events: %w", err)
	}
	defer rows.Close()
	out := []*baton.Event{}
	for rows.Next() {
		var e baton.Event
		var occurred, received int64
		var props []byte
		if err := rows.Scan(&e.ID, &e.LeadID, &e.Type, &occurred, &props, &received); err != nil {
			return nil, 0, err
		}
		e.OccurredAt, e.ReceivedAt = fromMicros(occurred), fromMicros(received)
		if len(props) > 0 {
			e.Properties = append([]byte(nil), props...)
		}
		out = append(out, &e)
	}
	return out, total, rows.Err()
}

// scopeSQL returns the actor's lead scope as a condition on alias l, adding
// its arguments to w.
func scopeSQL(tx *Tx, w *where) string {
	var s where
	s.args = w.args
	tx.scope(&s, "l.")
	w.args = s.args
	return s.String()
}
