package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/batonhq/baton"
)

// The audit trail: every change of a lead is a history entry, written in
// the transaction of the change; the timeline mixes it with the events.

// addHistory writes one audit entry for the transaction's actor.
func (tx *Tx) addHistory(ctx context.Context, h baton.HistoryEntry) error {
	actorID, name := tx.historyActor()
	if _, err := tx.ExecContext(ctx, `INSERT INTO lead_history (lead_id, at, actor_id, actor_name, action, field, from_value, to_value, reason, note)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		h.LeadID, micros(h.At), actorID, name, h.Action, h.Field, h.From, h.To, h.Reason, h.Note); err != nil {
		return fmt.Errorf("history of lead %d: %w", h.LeadID, err)
	}
	return tx.afterHistory(ctx, h)
}

// historyActor is who the transaction's history entries name: the user's
// id (none for the system) and the name shown.
func (tx *Tx) historyActor() (id any, name string) {
	if !tx.actor.System() && tx.actor.UserID != 0 {
		id = tx.actor.UserID
	}
	name = tx.actor.Name
	if name == "" {
		name = string(tx.actor.Role)
	}
	return id, name
}

// History returns a lead's audit entries in time order.
func (db *DB) History(ctx context.Context, id int64) ([]baton.HistoryEntry, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.findVisibleLead(ctx, id, false); err != nil {
		return nil, err
	}
	return tx.history(ctx, id)
}

func (tx *Tx) history(ctx context.Context, id int64) ([]baton.HistoryEntry, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, lead_id, at, actor_id, actor_name, action, field, from_value, to_value, reason, note
		FROM lead_history WHERE lead_id = $1 ORDER BY at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("history of lead %d: %w", id, err)
	}
	defer rows.Close()
	out := []baton.HistoryEntry{}
	for rows.Next() {
		var h baton.HistoryEntry
		var at int64
		var actor sql.NullInt64
		if err := rows.Scan(&h.ID, &h.LeadID, &at, &actor, &h.ActorName, &h.Action, &h.Field, &h.From, &h.To, &h.Reason, &h.Note); err != nil {
			return nil, err
		}
		h.At, h.ActorID = fromMicros(at), ptrInt(actor)
		out = append(out, h)
	}
	return out, rows.Err()
}

// Timeline returns a lead's history and its (latest 1,000) events in time order.
func (db *DB) Timeline(ctx context.Context, id int64) ([]baton.TimelineItem, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.findVisibleLead(ctx, id, false); err != nil {
		return nil, err
	}
	hist, err := tx.history(ctx, id)
	if err != nil {
		return nil, err
	}
	events, _, err := tx.findEvents(ctx, baton.EventFilter{LeadID: &id, Limit: 1000})
	if err != nil {
		return nil, err
	}
	items := make([]baton.TimelineItem, 0, len(hist)+len(events))
	for i := range hist {
		items = append(items, baton.TimelineItem{At: hist[i].At, Kind: baton.TimelineHistory, History: &hist[i]})
	}
	for _, e := range events {
		items = append(items, baton.TimelineItem{At: e.OccurredAt, Kind: baton.TimelineEvent, Event: e})
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].At.Before(items[j].At) })
	return items, nil
}

// AddNote writes a note on a lead's timeline, as a history entry.
func (db *DB) AddNote(ctx context.Context, id int64, text string) error {
	text = strings.TrimSpace(text)
	if text == "" {
		return baton.FieldError("note", "write the note")
	} else if len(text) > 2000 {
		return baton.FieldError("note", "at most 2,000 characters")
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.findVisibleLead(ctx, id, false); err != nil {
		return err
	}
	if err := tx.addHistory(ctx, baton.HistoryEntry{LeadID: id, At: tx.now, Action: baton.ActionNote, Reason: tx.actor.Via, Note: text}); err != nil {
		return err
	}
	return tx.Commit()
}
