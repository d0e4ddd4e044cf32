package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
)

// What scoring reads besides the policy and model: the leads with their
// stored states (scoringRows, only the columns the fit rules read when no
// model is active), their events (eventsWhere) and their accounts.

// scoringSet is leads read with what scoring them needs, index by index.
type scoringSet struct {
	leads  []*baton.Lead
	states []*scoreState
	// rules are the fit rules stored with each lead (leads.fit_rules).
	rules []string
	// seqs are the leads' score_seq: a rescore computed on a read snapshot
	// writes a lead only if its score_seq and version are still these.
	seqs []int64
}

// scoringRows reads the leads that cond selects (a WHERE clause of leads,
// with its ORDER BY and LIMIT) with their scoring states and stored fit
// rules, locked in a write transaction (lockRows). With a scorer that has no model, it reads only the fields its fit
// rules read and what storing and promoting the scores need: the rest of each
// lead is left zero.
func (tx *Tx) scoringRows(ctx context.Context, sc *scorer, cond string, args ...any) (*scoringSet, error) {
	cols := leadColumns
	narrow := sc != nil && sc.model == nil
	if narrow {
		cols = sc.columns()
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+cols+`, score_state, fit_rules, score_seq FROM leads WHERE `+cond+tx.lockRows(), args...)
	if err != nil {
		return nil, fmt.Errorf("leads to score: %w", err)
	}
	defer rows.Close()
	set := &scoringSet{}
	var reads policy.FitReads
	if narrow && sc.policy != nil {
		reads = sc.policy.FitReads()
	}
	var dest []any
	var raw sql.RawBytes // parsed before the next row
	var slab []baton.Lead
	for rows.Next() {
		var old string
		var seq int64
		var l *baton.Lead
		if narrow {
			if len(slab) == 0 {
				slab = make([]baton.Lead, 256) // a lead each row, allocated 256 at a time
			}
			l, slab = &slab[0], slab[1:]
			err = scanScoring(rows, l, &dest, reads, &raw, &old, &seq)
		} else {
			l, err = scanLead(scanFunc(func(dest ...any) error { return rows.Scan(append(dest, &raw, &old, &seq)...) }))
		}
		if err != nil {
			return nil, err
		}
		st, err := sc.parseState(raw)
		if err != nil {
			return nil, err
		}
		set.leads = append(set.leads, l)
		set.states = append(set.states, st)
		set.rules = append(set.rules, old)
		set.seqs = append(set.seqs, seq)
	}
	return set, rows.Err()
}

// columns returns the columns of leads that scoring without a model reads:
// what storing and promoting need, and the fields the fit rules read.
func (sc *scorer) columns() string {
	cols := "id, stage, version"
	if sc.policy != nil {
		r := sc.policy.FitReads()
		if r.Account {
			cols += ", account_id"
		}
		for _, f := range r.Fields {
			cols += ", " + f
		}
		if r.Attributes {
			cols += ", attrs"
		}
	}
	return cols
}

// scanScoring scans a row of sc.columns() then the state, fit rules and
// score_seq, reusing *buf for the destinations.
func scanScoring(rows *sql.Rows, l *baton.Lead, buf *[]any, reads policy.FitReads, raw *sql.RawBytes, old *string, seq *int64) error {
	var account sql.NullInt64
	var email sql.NullString
	var attrsJSON []byte
	dest := append((*buf)[:0], &l.ID, &l.Stage, &l.Version)
	if reads.Account {
		dest = append(dest, &account)
	}
	for _, f := range reads.Fields {
		switch f {
		case "email":
			dest = append(dest, &email)
		case "name":
			dest = append(dest, &l.Name)
		case "title":
			dest = append(dest, &l.Title)
		case "phone":
			dest = append(dest, &l.Phone)
		case "company":
			dest = append(dest, &l.Company)
		case "country":
			dest = append(dest, &l.Country)
		case "source":
			dest = append(dest, &l.Source)
		case "campaign":
			dest = append(dest, &l.Campaign)
		default:
			return fmt.Errorf("score leads: no column for field %q", f)
		}
	}
	if reads.Attributes {
		dest = append(dest, &attrsJSON)
	}
	dest = append(dest, raw, old, seq)
	*buf = dest
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	l.Email, l.AccountID = email.String, ptrInt(account)
	if len(attrsJSON) > 2 {
		if err := json.Unmarshal(attrsJSON, &l.Attrs); err != nil {
			return fmt.Errorf("lead %d attributes: %w", l.ID, err)
		}
	}
	return nil
}

// eventsBetween loads the events of the leads with ids in [first, last].
func (tx *Tx) eventsBetween(ctx context.Context, first, last int64) (map[int64][]*baton.Event, error) {
	return tx.eventsWhere(ctx, allOfEvents, `lead_id BETWEEN $1 AND $2`, first, last)
}

// eventParts says which optional parts of events to load.
type eventParts struct {
	properties, received bool
}

var allOfEvents = eventParts{properties: true, received: true}

// eventsWhere loads the events of the leads that cond (on lead_id, its
// parameters written by db.param from 1) selects: id, lead, type and time,
// and the parts asked for.
func (tx *Tx) eventsWhere(ctx context.Context, parts eventParts, cond string, args ...any) (map[int64][]*baton.Event, error) {
	cols := `client_id, lead_id, type, occurred_at`
	if parts.properties {
		cols += `, properties`
	}
	if parts.received {
		cols += `, received_at`
	}
	// Ordered as the index of events by lead and time, with no sort in the
	// database: ties in time are put in order of id here.
	rows, err := tx.QueryContext(ctx, `SELECT `+cols+` FROM events WHERE `+cond+` ORDER BY lead_id, occurred_at`, args...)
	if err != nil {
		return nil, fmt.Errorf("events of leads: %w", err)
	}
	defer rows.Close()
	out := map[int64][]*baton.Event{}
	var at, received int64
	var props []byte
	var typ sql.RawBytes
	types := map[string]string{} // one string per event type, not per event
	var slab []baton.Event
	dest := make([]any, 4, 6)
	for rows.Next() {
		if len(slab) == 0 {
			slab = make([]baton.Event, 256)
		}
		e := &slab[0]
		slab = slab[1:]
		dest = append(dest[:0], &e.ID, &e.LeadID, &typ, &at)
		if parts.properties {
			dest = append(dest, &props)
		}
		if parts.received {
			dest = append(dest, &received)
		}
		props = nil
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		if t, ok := types[string(typ)]; ok {
			e.Type = t
		} else {
			e.Type = string(typ)
			types[e.Type] = e.Type
		}
		e.OccurredAt = fromMicros(at)
		if parts.received {
			e.ReceivedAt = fromMicros(received)
		}
		if len(props) > 0 {
			e.Properties = props // Scan made it a copy of its own
		}
		out[e.LeadID] = append(out[e.LeadID], e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, events := range out {
		for i := 1; i < len(events); i++ {
			if events[i].OccurredAt.Equal(events[i-1].OccurredAt) {
				slices.SortStableFunc(events, func(a, b *baton.Event) int {
					return cmp.Or(a.OccurredAt.Compare(b.OccurredAt), strings.Compare(a.ID, b.ID))
				})
				break
			}
		}
	}
	return out, nil
}

func (tx *Tx) accountOf(ctx context.Context, l *baton.Lead) (*baton.Account, error) {
	if l.AccountID == nil {
		return nil, nil
	}
	a, err := tx.findAccount(ctx, "id", *l.AccountID)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return nil, nil
	}
	return a, err
}

// accountsOf loads the accounts of the leads.
func (tx *Tx) accountsOf(ctx context.Context, leads []*baton.Lead) (map[int64]*baton.Account, error) {
	ids := map[int64]bool{}
	for _, l := range leads {
		if l.AccountID != nil {
			ids[*l.AccountID] = true
		}
	}
	out := map[int64]*baton.Account{}
	if len(ids) == 0 {
		return out, nil
	}
	var b strings.Builder
	args := make([]any, 0, len(ids))
	for id := range ids {
		args = append(args, id)
	}
	b.WriteString(`SELECT ` + accountColumns + ` FROM accounts WHERE id IN `)
	tx.db.inList(&b, len(args))
	rows, err := tx.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("accounts of leads: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out[a.ID] = a
	}
	return out, rows.Err()
}
