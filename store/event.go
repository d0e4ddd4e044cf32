package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
//
// On SQLite, batches that arrive while the writer is busy wait in a queue
// (eventQueue), and the next writer stores them all in one transaction and
// scores each lead they touch once: pages of the indexes by lead that many
// of them write to are then written to the WAL once per commit rather than
// once per batch.
func (db *DB) RecordEvents(ctx context.Context, in []baton.EventInput) (_ baton.EventResult, err error) {
	defer raceConflict(&err)
	a, ok := baton.ActorFrom(ctx)
	if !ok {
		return baton.EventResult{}, baton.Errorf(baton.EUNAUTHORIZED, "no actor: sign in first")
	}
	if !a.CanEditLeads() {
		return baton.EventResult{}, baton.Errorf(baton.EFORBIDDEN, "a %s may not send events", a.Role)
	}
	b := &eventBatch{in: in, invalid: make([]error, len(in))}
	alone := db.gate == nil || db.joined(ctx, a) != nil
	// A batch on SQLite, outside another transaction, is checked and its
	// leads found before the write transaction, in two halves at once on
	// reader connections: the writer's turn, which the batches queued
	// behind it wait for, is taken only to store it.
	if !alone && len(in) >= 100 {
		b.resolved = true
		if b.valid, b.ids, err = db.checkAndResolve(ctx, in, b.invalid); err != nil {
			return baton.EventResult{}, err
		}
	}
	if alone {
		err = db.recordAlone(ctx, b)
	} else {
		err = db.queued.record(ctx, db, a, b)
	}
	if err != nil {
		return baton.EventResult{}, err
	}
	return b.res, nil
}

// eventBatch is one call's events on their way to the database.
type eventBatch struct {
	in      []baton.EventInput
	invalid []error // each event's validation error
	// resolved says that valid and ids are known: the valid events'
	// indexes, and the lead id of each event by index (0: no such lead).
	resolved bool
	valid    []int
	ids      []int64
	rows     []int // the events to insert: valid, of a known lead
	res      baton.EventResult
}

// groupEvents is about the most events one turn of the writer stores.
const groupEvents = 20000

// eventQueue holds the event batches waiting for SQLite's writer.
type eventQueue struct {
	mu      sync.Mutex
	waiting []*queuedBatch
}

type queuedBatch struct {
	*eventBatch
	ctx  context.Context
	err  error
	done chan struct{} // closed once stored, or failed (err)
}

// record queues b, and stores it with the batches queued with it when the
// writer's turn comes to this call first; else it waits for the call whose
// turn it was to store it.
func (q *eventQueue) record(ctx context.Context, db *DB, a baton.Actor, b *eventBatch) error {
	me := &queuedBatch{eventBatch: b, ctx: ctx, done: make(chan struct{})}
	q.mu.Lock()
	q.waiting = append(q.waiting, me)
	q.mu.Unlock()
	select {
	case <-me.done:
		return me.err
	case <-ctx.Done():
		q.mu.Lock()
		i := slices.Index(q.waiting, me)
		if i >= 0 {
			q.waiting = slices.Delete(q.waiting, i, i+1)
		}
		q.mu.Unlock()
		if i >= 0 {
			return fmt.Errorf("record events: %w", ctx.Err())
		}
		<-me.done // being stored by another call
		return me.err
	case db.gate <- struct{}{}:
	}
	q.mu.Lock()
	// A turn takes batches up to groupEvents events, so that a crowd of
	// clients does not make one transaction of them all.
	n, events := 0, 0
	for n < len(q.waiting) && (n == 0 || events+len(q.waiting[n].in) <= groupEvents) {
		events += len(q.waiting[n].in)
		n++
	}
	group := slices.Clone(q.waiting[:n])
	q.waiting = slices.Delete(q.waiting, 0, n)
	q.mu.Unlock()
	if len(group) == 0 {
		// An earlier turn took this batch: it is stored, or about to be.
		<-db.gate
		<-me.done
		return me.err
	}
	// The group is stored even if this call's client goes away: the other
	// batches are not its to cancel.
	gctx := context.WithoutCancel(ctx)
	err := db.recordTurn(gctx, a, group)
	if err != nil && len(group) > 1 {
		// One batch may have failed the others: each is tried alone, in its
		// own transaction and with its own context.
		for _, g := range group {
			// Its leads are found again, in its transaction: one merged
			// away meanwhile may be why the group failed.
			g.res, g.resolved = baton.EventResult{}, false
			g.err = db.recordAlone(g.ctx, g.eventBatch)
		}
	} else {
		for _, g := range group {
			g.err = err
		}
	}
	for _, g := range group {
		if g != me {
			close(g.done)
		}
	}
	if !slices.Contains(group, me) {
		<-me.done
	}
	return me.err
}

// recordTurn stores a group of queued batches in one transaction, the
// writer's turn already held.
func (db *DB) recordTurn(ctx context.Context, a baton.Actor, group []*queuedBatch) error {
	tx, err := db.beginTurn(ctx, a) // gives the turn back if it fails
	if err != nil {
		return err
	}
	defer tx.Rollback()
	batches := make([]*eventBatch, len(group))
	for i, g := range group {
		batches[i] = g.eventBatch
	}
	if err := tx.storeEvents(ctx, batches); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record events: %w", err)
	}
	return nil
}

// recordAlone stores one batch in a transaction of its own (or the one ctx
// carries).
func (db *DB) recordAlone(ctx context.Context, b *eventBatch) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := tx.storeEvents(ctx, []*eventBatch{b}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record events: %w", err)
	}
	return nil
}

// storeEvents inserts the batches' events, each batch's result in its res,
// and scores each lead that got new events once, whichever batches they
// came in.
func (tx *Tx) storeEvents(ctx context.Context, batches []*eventBatch) error {
	for _, b := range batches {
		if err := tx.checkBatch(ctx, b); err != nil {
			return err
		}
	}
	sc, err := tx.scorer(ctx)
	if err != nil {
		return err
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
			return fmt.Errorf("record events: %w", err)
		}
	}
	returning := scoring && tx.db.backend == Postgres
	if returning {
		if err := tx.lockEventLeads(ctx, batches); err != nil {
			return err
		}
	}
	stored := map[eventKey]bool{}
	ins := &eventInserter{tx: tx, returning: returning}
	defer ins.close()
	all, created := 0, 0
	for _, b := range batches {
		if err := ins.insert(ctx, b, stored); err != nil {
			return err
		}
		tx.countEvents(b.res)
		all += len(b.rows)
		created += b.res.Created
	}
	if !scoring {
		return nil
	}
	if !returning {
		if created == all {
			for _, b := range batches {
				for _, i := range b.rows {
					stored[eventKey{b.ids[i], b.in[i].ID}] = true
				}
			}
		} else if err := func() error {
			r, err := tx.QueryContext(ctx, `SELECT lead_id, client_id FROM events WHERE id > $1`, before)
			if err != nil {
				return err
			}
			defer r.Close()
			for r.Next() {
				var k eventKey
				if err := r.Scan(&k.lead, &k.id); err != nil {
					return err
				}
				stored[k] = true
			}
			return r.Err()
		}(); err != nil {
			return fmt.Errorf("record events: %w", err)
		}
	}
	// Score each lead that got new events, in this same transaction.
	byLead := map[int64][]*baton.Event{}
	for _, b := range batches {
		for _, i := range b.rows {
			e := &b.in[i]
			k := eventKey{b.ids[i], e.ID}
			if !stored[k] {
				continue
			}
			delete(stored, k) // an id sent twice was stored once, the first time
			byLead[k.lead] = append(byLead[k.lead], &baton.Event{ID: e.ID, LeadID: k.lead, Type: e.Type,
				OccurredAt: e.OccurredAt.UTC(), Properties: e.Properties, ReceivedAt: tx.now})
		}
	}
	return tx.scoreLeads(ctx, sc, byLead)
}

// lockEventLeads locks, on PostgreSQL, the leads the batches' events go to,
// in the order of their ids, before the events are inserted. Inserting an
// event takes a key-share lock on its lead, in the events' order; scoring
// then locks the leads to update them, in id order. Two transactions of
// random leads each held the first kind of lock on a lead the other was
// waiting to score, and deadlocked: taken first and in one order, the
// update locks make every later lock on those leads the transaction's own.
func (tx *Tx) lockEventLeads(ctx context.Context, batches []*eventBatch) error {
	seen := map[int64]bool{}
	var ids []int64
	for _, b := range batches {
		for _, i := range b.rows {
			if id := b.ids[i]; !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	return tx.db.idLists(ids, func(list string, args []any) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM leads WHERE id IN `+list+` ORDER BY id`+tx.lockRows(), args...)
		if err != nil {
			return fmt.Errorf("record events: %w", err)
		}
		rows.Close()
		return rows.Err()
	})
}

// eventKey is how an event is stored once: by lead and client id.
type eventKey struct {
	lead int64
	id   string
}

// checkBatch validates the batch's events and finds their leads, unless
// that was done before the transaction, and sets its rows and rejections.
func (tx *Tx) checkBatch(ctx context.Context, b *eventBatch) error {
	if !b.resolved {
		b.valid = validate(b.in, 0, len(b.in), tx.now, b.invalid)
		var err error
		if b.ids, err = tx.resolveLeads(ctx, b.in, b.valid); err != nil {
			return err
		}
		b.resolved = true
	}
	res := &b.res
	bad := func(i int, err error) {
		res.Rejected++
		res.Errors = append(res.Errors, baton.RowError{Row: i, Column: baton.ErrorField(err), Message: baton.ErrorMessage(err)})
	}
	for i, err := range b.invalid {
		if err != nil {
			bad(i, err)
		}
	}
	b.rows = make([]int, 0, len(b.valid))
	for _, i := range b.valid {
		if b.ids[i] == 0 {
			e := &b.in[i]
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
		b.rows = append(b.rows, i)
	}
	// Inserted in lead order (each lead's events in the order sent), the
	// events go into the indexes by lead in key order, and two batches with
	// the same events wait for each other's in one order, never in a cycle.
	slices.SortStableFunc(b.rows, func(i, j int) int { return cmp.Compare(b.ids[i], b.ids[j]) })
	return nil
}

// unnest inserts the batch's rows into PostgreSQL with one statement whose
// parameters are a column each, as arrays: one round trip and one short
// statement to parse for the whole batch, where rows of parameters took a
// statement of 3,000 of them per 500 events.
//
// Difference of speed: see insertRows. COPY cannot skip the events stored
// before, and through a temporary table would cost more round trips than
// it saves at a batch's size.
func (ins *eventInserter) unnest(ctx context.Context, b *eventBatch, stored map[eventKey]bool) error {
	if len(b.rows) == 0 {
		return nil
	}
	n := len(b.rows)
	leads, ids, types, occurred := make([]int64, n), make([]string, n), make([]string, n), make([]int64, n)
	props := make([]*string, n)
	for k, i := range b.rows {
		e := &b.in[i]
		leads[k], ids[k], types[k], occurred[k] = b.ids[i], e.ID, e.Type, micros(e.OccurredAt)
		if len(e.Properties) > 0 {
			p := string(e.Properties)
			props[k] = &p
		}
	}
	// WITH ORDINALITY and ORDER BY keep the batch's order: the first of an
	// id sent twice is the one stored.
	q := `INSERT INTO events (lead_id, client_id, type, occurred_at, properties, received_at)
		SELECT u.lead_id, u.client_id, u.type, u.occurred_at, u.properties::jsonb, $6
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[]) WITH ORDINALITY
			AS u(lead_id, client_id, type, occurred_at, properties, n)
		ORDER BY u.n
		ON CONFLICT (lead_id, client_id) DO NOTHING`
	args := []any{leads, ids, types, occurred, props, micros(ins.tx.now)}
	created := 0
	if ins.returning {
		r, err := ins.tx.QueryContext(ctx, q+` RETURNING lead_id, client_id`, args...)
		if err != nil {
			return fmt.Errorf("record events: %w", err)
		}
		defer r.Close()
		for r.Next() {
			var k eventKey
			if err := r.Scan(&k.lead, &k.id); err != nil {
				return fmt.Errorf("record events: %w", err)
			}
			stored[k] = true
			created++
		}
		if err := r.Err(); err != nil {
			return fmt.Errorf("record events: %w", err)
		}
	} else {
		r, err := ins.tx.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("record events: %w", err)
		}
		affected, _ := r.RowsAffected()
		created = int(affected)
	}
	b.res.Created += created
	b.res.Duplicates += n - created
	return nil
}

// eventInserter inserts events, eventChunk rows per statement.
type eventInserter struct {
	tx        *Tx
	returning bool // PostgreSQL: RETURNING the rows stored
	// full is the statement of a full chunk, parsed once: parsing 3,000
	// parameters costs about as much as inserting the rows.
	full *sql.Stmt
	args []any
}

func (ins *eventInserter) close() {
	if ins.full != nil {
		ins.full.Close()
	}
}

func (ins *eventInserter) sql(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO events (lead_id, client_id, type, occurred_at, properties, received_at) VALUES `)
	ins.tx.db.placeholders(&b, n, 6, 1)
	b.WriteString(` ON CONFLICT (lead_id, client_id) DO NOTHING`)
	if ins.returning {
		b.WriteString(` RETURNING lead_id, client_id`)
	}
	return b.String()
}

// insert inserts the batch's rows, counting in its res those created and
// those already stored, and (returning) marking in stored those created.
func (ins *eventInserter) insert(ctx context.Context, b *eventBatch, stored map[eventKey]bool) error {
	tx := ins.tx
	received := micros(tx.now)
	if tx.db.backend == Postgres {
		return ins.unnest(ctx, b, stored)
	}
	for start := 0; start < len(b.rows); start += eventChunk {
		chunk := b.rows[start:min(start+eventChunk, len(b.rows))]
		args := ins.args[:0]
		for _, i := range chunk {
			e := &b.in[i]
			var props any
			if len(e.Properties) > 0 {
				props = string(e.Properties)
			}
			args = append(args, b.ids[i], e.ID, e.Type, micros(e.OccurredAt), props, received)
		}
		ins.args = args
		stmt := ins.full
		if stmt == nil || len(chunk) < eventChunk {
			var err error
			if stmt, err = tx.PrepareContext(ctx, ins.sql(len(chunk))); err != nil {
				return fmt.Errorf("record events: %w", err)
			}
			if len(chunk) == eventChunk {
				ins.full = stmt
			} else {
				defer stmt.Close()
			}
		}
		n := 0
		if ins.returning {
			r, err := stmt.QueryContext(ctx, args...)
			if err != nil {
				return fmt.Errorf("record events: %w", err)
			}
			for r.Next() {
				var k eventKey
				if err := r.Scan(&k.lead, &k.id); err != nil {
					r.Close()
					return fmt.Errorf("record events: %w", err)
				}
				stored[k] = true
				n++
			}
			r.Close()
			if err := r.Err(); err != nil {
				return fmt.Errorf("record events: %w", err)
			}
		} else {
			r, err := stmt.ExecContext(ctx, args...)
			if err != nil {
				return fmt.Errorf("record events: %w", err)
			}
			affected, _ := r.RowsAffected()
			n = int(affected)
		}
		b.res.Created += n
		b.res.Duplicates += len(chunk) - n
	}
	return nil
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
