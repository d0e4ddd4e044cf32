package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
)

// The training set of the predictive model, point in time: every example
// is what Baton knew at the moment its outcome's clock started, never what
// it learnt after. Without that, behaviour that goes on after the outcome
// was decided leaks the outcome: a lead nobody called keeps visiting the
// site for months, one that bought stops, and "more visits" is learnt as
// "less likely to buy".

// TrainingExample is one lead with a known outcome, as the model sees it.
type TrainingExample struct {
	Row       map[string]string
	Converted bool
	CreatedAt time.Time
	// At is when the outcome's clock started, the moment Row describes: the
	// last handoff to sales (the last move to MQL) before the outcome of a
	// lead that sales worked, the first move of one that never got there,
	// or the lead's creation for an outcome imported with it.
	At time.Time
}

// TrainingSet returns every lead whose outcome is known: won (converted),
// lost or disqualified (not), or else the outcome attribute imported with
// the lead (the policy's outcome, by default OutcomeAttribute). Each
// example's fields and behaviour counts are as of its At: field changes
// recorded since are undone and only events that occurred by then count.
// The policy's post-contact fields and outcome are left out of the rows.
func (db *DB) TrainingSet(ctx context.Context) ([]TrainingExample, error) {
	tx, err := db.beginLagged(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	sc, err := tx.scorer(ctx)
	if err != nil {
		return nil, err
	}
	outcomeAttr := OutcomeAttribute
	if a := sc.policy.OutcomeAttribute(); a != "" {
		outcomeAttr = a
	}
	defs, err := tx.attrDefs(ctx)
	if err != nil {
		return nil, err
	}
	var out []TrainingExample
	var after int64
	for {
		set, err := tx.scoringRows(ctx, nil, `id > $1 ORDER BY id LIMIT 5000`, after)
		if err != nil {
			return nil, fmt.Errorf("training set: %w", err)
		}
		if len(set.leads) == 0 {
			return out, nil
		}
		after = set.leads[len(set.leads)-1].ID
		examples, err := tx.pointInTime(ctx, set.leads, outcomeAttr, defs, sc.policy)
		if err != nil {
			return nil, err
		}
		out = append(out, examples...)
	}
}

// pointInTime makes the examples of the leads whose outcome is known.
func (tx *Tx) pointInTime(ctx context.Context, leads []*baton.Lead, outcomeAttr string, defs map[string]baton.AttrType, pol *policy.Policy) ([]TrainingExample, error) {
	type known struct {
		l       *baton.Lead
		label   bool
		byStage bool
	}
	var ks []known
	for _, l := range leads {
		if label, byStage, ok := outcomeOf(l, outcomeAttr); ok {
			ks = append(ks, known{l, label, byStage})
		}
	}
	if len(ks) == 0 {
		return nil, nil
	}
	// The chunk's leads are in id order: one range holds them all.
	cond, args := `lead_id BETWEEN $1 AND $2`, []any{ks[0].l.ID, ks[len(ks)-1].l.ID}
	moves, err := tx.historyWhere(ctx, cond, args...)
	if err != nil {
		return nil, err
	}
	events, err := tx.eventsWhere(ctx, eventParts{}, cond, args...)
	if err != nil {
		return nil, err
	}
	asOf := make([]*baton.Lead, len(ks))
	at := make([]time.Time, len(ks))
	for i, k := range ks {
		at[i] = k.l.CreatedAt
		if k.byStage {
			at[i] = clockStart(moves[k.l.ID], k.l.CreatedAt)
		}
		asOf[i] = leadAsOf(k.l, moves[k.l.ID], at[i], defs)
	}
	accounts, err := tx.accountsOf(ctx, asOf)
	if err != nil {
		return nil, err
	}
	skip := append(pol.NotFeatures(), outcomeAttr)
	out := make([]TrainingExample, 0, len(ks))
	for i, k := range ks {
		counts := map[string]int{}
		for _, e := range events[k.l.ID] {
			if !e.OccurredAt.After(at[i]) {
				counts[e.Type]++
			}
		}
		var acc *baton.Account
		if id := asOf[i].AccountID; id != nil {
			acc = accounts[*id]
		}
		row := ModelRow(asOf[i], acc, counts, outcomeAttr)
		for _, f := range skip {
			delete(row, f)
		}
		out = append(out, TrainingExample{Row: row, Converted: k.label, CreatedAt: k.l.CreatedAt, At: at[i]})
	}
	return out, nil
}

// outcomeOf returns a lead's known outcome, and whether its stage (rather
// than an imported attribute) says it.
func outcomeOf(l *baton.Lead, outcomeAttr string) (converted, byStage, known bool) {
	switch l.Stage {
	case baton.StageWon:
		return true, true, true
	case baton.StageLost, baton.StageDisqualified:
		return false, true, true
	}
	switch v := l.Attrs[outcomeAttr].(type) {
	case float64:
		return v == 1, false, v == 0 || v == 1
	case bool:
		return v, false, true
	}
	return false, false, false
}

// historyEntry is a stage move or field change of a lead, for training.
type historyEntry struct {
	at              time.Time
	action          baton.Action
	field, from, to string
}

// historyWhere loads the stage moves and field changes of the leads that
// cond (on lead_id) selects, in time order.
func (tx *Tx) historyWhere(ctx context.Context, cond string, args ...any) (map[int64][]historyEntry, error) {
	rows, err := tx.QueryContext(ctx, `SELECT lead_id, at, action, field, from_value, to_value FROM lead_history WHERE `+cond+
		` AND action IN ('stage', 'updated') ORDER BY lead_id, at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("history of leads: %w", err)
	}
	defer rows.Close()
	out := map[int64][]historyEntry{}
	for rows.Next() {
		var id, at int64
		var h historyEntry
		if err := rows.Scan(&id, &at, &h.action, &h.field, &h.from, &h.to); err != nil {
			return nil, err
		}
		h.at = fromMicros(at)
		out[id] = append(out[id], h)
	}
	return out, rows.Err()
}

// clockStart is when the outcome of a lead that moved through the
// lifecycle started to be decided: its last move to MQL (the handoff that
// led to the outcome), or else its first move (marketing let it go).
func clockStart(hist []historyEntry, created time.Time) time.Time {
	var first, lastMQL time.Time
	for _, h := range hist {
		if h.action != baton.ActionStage {
			continue
		}
		if first.IsZero() {
			first = h.at
		}
		if baton.Stage(h.to) == baton.StageMQL {
			lastMQL = h.at
		}
	}
	switch {
	case !lastMQL.IsZero():
		return lastMQL
	case !first.IsZero():
		return first
	}
	return created
}

// leadAsOf returns the lead as it was at t: the field changes recorded
// after t undone, newest first. The lead itself is left alone.
func leadAsOf(l *baton.Lead, hist []historyEntry, t time.Time, defs map[string]baton.AttrType) *baton.Lead {
	c := *l
	copied := false
	for i := len(hist) - 1; i >= 0; i-- {
		h := hist[i]
		if !h.at.After(t) {
			break
		}
		if h.action != baton.ActionUpdated {
			continue
		}
		if name, ok := strings.CutPrefix(h.field, "attributes."); ok && name != "" {
			if !copied {
				c.Attrs, copied = baton.Attrs{}, true
				for k, v := range l.Attrs {
					c.Attrs[k] = v
				}
			}
			if v, ok := attrValue(h.from, defs[name]); ok {
				c.Attrs[name] = v
			} else {
				delete(c.Attrs, name)
			}
			continue
		}
		switch h.field {
		case "email":
			c.Email = h.from
		case "name":
			c.Name = h.from
		case "title":
			c.Title = h.from
		case "phone":
			c.Phone = h.from
		case "company":
			c.Company = h.from
		case "country":
			c.Country = h.from
		case "source":
			c.Source = h.from
		case "campaign":
			c.Campaign = h.from
		case "account_id":
			c.AccountID = nil
			if id, err := strconv.ParseInt(h.from, 10, 64); err == nil {
				c.AccountID = &id
			}
		}
	}
	return &c
}

// attrValue parses an attribute's value as history wrote it; "" is none.
func attrValue(s string, t baton.AttrType) (any, bool) {
	if s == "" {
		return nil, false
	}
	switch t {
	case baton.AttrNumber:
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, true
		}
	case baton.AttrBool:
		if v, err := strconv.ParseBool(s); err == nil {
			return v, true
		}
	}
	return s, true
}
