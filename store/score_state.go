package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/bincode"
	"github.com/batonhq/baton/policy"
)

// The scoring state kept with each lead (leads.score_state): its codec, how
// new events fold into it (observe), and how a state that is not fresh is
// rebuilt from the lead's stored events and stage history (rebuildStates).

// scoreState is what a lead's scores are computed from besides its fields:
// engagement per rule as of its last event, and how many events of each type
// it had before sales touched it (the model's behaviour features).
type scoreState struct {
	Engagement *policy.Engagement `json:"engagement,omitempty"`
	Counts     map[string]int     `json:"counts,omitempty"`
	// Counted says that Counts covers every event of the lead: they were
	// rebuilt from its stored events while a model was in force, and every
	// event since was added as it came. Only the model reads the counts:
	// before one is in force nothing keeps them, and the first one's rescore
	// rebuilds them (a model can be replaced, not withdrawn, so that happens
	// once). Likewise before any policy or model nothing keeps states at
	// all, and the first one's rescore builds them.
	Counted bool `json:"counted,omitempty"`
}

// A state is stored in a binary form, since every event of a lead reads and
// rewrites it in the write transaction: stateBinary, a byte of flags
// (stateCounted, stateEngaged), the counts (a uvarint number of them, then
// each type as a uvarint length and its bytes and the count as a uvarint),
// then the engagement's own binary form (policy.Engagement.AppendBinary) to
// the end. Reading and writing it back takes under half the time of the
// JSON that earlier versions stored, in a third of the bytes
// (BenchmarkScoreState). That JSON is still read: a state that begins with
// '{' is JSON, and is written in the binary form when it next changes.
const (
	stateBinary  = 1
	stateCounted = 1 << 0
	stateEngaged = 1 << 1
)

// encode returns the state's stored form.
func (st *scoreState) encode() []byte {
	size := 3 + 24*len(st.Counts)
	if st.Engagement != nil {
		size += 64 + 80*len(st.Engagement.Rules)
	}
	b := make([]byte, 0, size)
	flags := byte(0)
	if st.Counted {
		flags |= stateCounted
	}
	if st.Engagement != nil {
		flags |= stateEngaged
	}
	b = append(b, stateBinary, flags)
	types := make([]string, 0, len(st.Counts))
	for t := range st.Counts {
		types = append(types, t)
	}
	slices.Sort(types)
	b = binary.AppendUvarint(b, uint64(len(types)))
	for _, t := range types {
		b = bincode.AppendString(b, t)
		b = binary.AppendUvarint(b, uint64(max(st.Counts[t], 0)))
	}
	if st.Engagement != nil {
		b, _ = st.Engagement.AppendBinary(b) // never fails
	}
	return b
}

// parseState reads a stored state, whole.
func parseState(b []byte) (*scoreState, error) {
	return decodeState(b, nil)
}

// parseState parses a state for the scorer: an engagement that the policy
// in force did not build (its key is not the policy's) is left out rather
// than decoded, for it is about to be replayed from the events.
func (sc *scorer) parseState(b []byte) (*scoreState, error) {
	if sc == nil || sc.policy == nil {
		return parseState(b)
	}
	return decodeState(b, sc)
}

// decodeState reads a stored state; with a scorer that has a policy, only an
// engagement that this policy built.
func decodeState(b []byte, sc *scorer) (*scoreState, error) {
	st := &scoreState{}
	switch {
	case len(b) <= 2: // '{}', as a new column's default
		return st, nil
	case b[0] == '{':
		return decodeStateJSON(b, sc)
	case b[0] != stateBinary || len(b) < 3:
		return nil, fmt.Errorf("score state: unknown form %#x", b[0])
	}
	flags := b[1]
	st.Counted = flags&stateCounted != 0
	r := bincode.Reader{B: b[2:]}
	if n := r.Count(); n > 0 {
		st.Counts = make(map[string]int, n)
		for range n {
			t, c := r.String(), r.Uvarint()
			if c > math.MaxInt32 {
				return nil, errors.New("score state: a count out of range")
			}
			st.Counts[t] = int(c)
		}
	}
	if r.Err != nil {
		return nil, fmt.Errorf("score state: counts: %w", r.Err)
	}
	rest := r.B
	switch {
	case flags&stateEngaged == 0:
		if len(rest) > 0 {
			return nil, errors.New("score state: bytes after the counts")
		}
	case sc != nil:
		// Nil if built by another policy: replayed, not read.
		eng, err := sc.policy.ReadEngagement(rest)
		if err != nil {
			return nil, fmt.Errorf("score state: %w", err)
		}
		st.Engagement = eng
	default:
		st.Engagement = &policy.Engagement{}
		if err := st.Engagement.UnmarshalBinary(rest); err != nil {
			return nil, fmt.Errorf("score state: %w", err)
		}
	}
	return st, nil
}

// decodeStateJSON reads a state as earlier versions stored it; with a
// scorer, its engagement only if the scorer's policy built it.
func decodeStateJSON(b []byte, sc *scorer) (*scoreState, error) {
	st := &scoreState{}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("score state: %w", err)
	}
	if eng := st.Engagement; eng != nil && sc != nil && eng.Key != sc.policy.EngagementKey() {
		st.Engagement = nil
	}
	return st, nil
}

// countsBeforeSales reports whether events of a lead in this stage still count
// as behaviour before sales touched it.
func countsBeforeSales(s baton.Stage) bool {
	return s == baton.StageNew || s == baton.StageMQL || s == baton.StageRecycled
}

// observe folds new events into a lead's state.
func (sc *scorer) observe(st *scoreState, l *baton.Lead, events []*baton.Event) {
	if sc.policy != nil {
		if st.Engagement == nil {
			st.Engagement = sc.policy.NewEngagement()
		}
		for _, e := range events {
			sc.policy.Add(st.Engagement, e)
		}
	}
	if sc.counts {
		count(st, l, events)
	} else if len(events) > 0 {
		// Counts no longer cover every event: a model's first rescore
		// rebuilds them.
		st.Counts, st.Counted = nil, false
	}
}

// count adds events to the behaviour counts while sales has not touched the lead.
func count(st *scoreState, l *baton.Lead, events []*baton.Event) {
	if !countsBeforeSales(l.Stage) || len(events) == 0 {
		return
	}
	if st.Counts == nil {
		st.Counts = map[string]int{}
	}
	for _, e := range events {
		st.Counts[e.Type]++
	}
}

// rebuildStates rebuilds, from the stored events and stage history of the
// leads, the states that are not fresh: engagement replayed under the
// policy in force, and the behaviour counts of the events each lead received
// while marketing had it (new, MQL or recycled), as count keeps them.
func (tx *Tx) rebuildStates(ctx context.Context, sc *scorer, leads []*baton.Lead, states []*scoreState) error {
	var ids []int64
	for i, l := range leads {
		if !sc.fresh(states[i]) {
			ids = append(ids, l.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	// A range of ids when they are dense (a rescore's chunk), else a list
	// (a few leads among many, after new events).
	var b strings.Builder
	args := []any{ids[0], ids[len(ids)-1]}
	if ids[len(ids)-1]-ids[0] < 4*int64(len(ids)) {
		b.WriteString(`lead_id BETWEEN `)
		tx.db.param(&b, 1)
		b.WriteString(` AND `)
		tx.db.param(&b, 2)
	} else {
		b.WriteString(`lead_id IN `)
		tx.db.inList(&b, len(ids))
		args = make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
	}
	cond := b.String()
	// The stage history and the times events were received say which
	// events count for the model: needed only for states that have not
	// counted them yet.
	counting := false
	for i := range leads {
		counting = counting || sc.counts && !states[i].Counted
	}
	parts := eventParts{properties: sc.policy != nil && sc.policy.ReadsProperties(), received: counting}
	events, err := tx.eventsWhere(ctx, parts, cond, args...)
	if err != nil {
		return err
	}
	var changes map[int64][]stageChange
	if counting {
		if changes, err = tx.stageChangesWhere(ctx, cond, args...); err != nil {
			return err
		}
	}
	for i, l := range leads {
		st := states[i]
		if sc.fresh(st) {
			continue
		}
		if sc.policy != nil {
			st.Engagement = sc.policy.Replay(events[l.ID])
		}
		switch {
		case !sc.counts:
			st.Counts, st.Counted = nil, false
		case !st.Counted:
			st.Counts = countsBeforeSalesOf(events[l.ID], changes[l.ID], l.Stage)
			st.Counted = true
		}
	}
	return nil
}

// stageChange is a lead's move out of a stage, from its history.
type stageChange struct {
	at   time.Time
	from baton.Stage
}

// stageChangesWhere loads the stage changes of the leads that cond (on
// lead_id, its parameters written by db.param from 1) selects, in time order.
func (tx *Tx) stageChangesWhere(ctx context.Context, cond string, args ...any) (map[int64][]stageChange, error) {
	var b strings.Builder
	b.WriteString(`SELECT lead_id, at, from_value FROM lead_history WHERE ` + cond + ` AND action = `)
	tx.db.param(&b, len(args)+1)
	b.WriteString(` ORDER BY lead_id, at, id`)
	rows, err := tx.QueryContext(ctx, b.String(), append(args, baton.ActionStage)...)
	if err != nil {
		return nil, fmt.Errorf("stage history of leads: %w", err)
	}
	defer rows.Close()
	out := map[int64][]stageChange{}
	for rows.Next() {
		var id, at int64
		var from string
		if err := rows.Scan(&id, &at, &from); err != nil {
			return nil, err
		}
		out[id] = append(out[id], stageChange{fromMicros(at), baton.Stage(from)})
	}
	return out, rows.Err()
}

// countsBeforeSalesOf counts by type the events received while the lead was
// in a stage where its behaviour still counts: the stage at an event's
// receipt is the one the next later change left, or else the current one.
func countsBeforeSalesOf(events []*baton.Event, changes []stageChange, current baton.Stage) map[string]int {
	var out map[string]int
	for _, e := range events {
		stage := current
		for _, c := range changes {
			if c.at.After(e.ReceivedAt) {
				stage = c.from
				break
			}
		}
		if !countsBeforeSales(stage) {
			continue
		}
		if out == nil {
			out = map[string]int{}
		}
		out[e.Type]++
	}
	return out
}
