package csvimport

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// Events reads a CSV file of events and calls fn with consecutive batches;
// rows[i] is the CSV line of events[i]. The columns id, type and occurred_at
// are required, and one of lead_id, email or external_id. occurred_at is an
// RFC 3339 time, "YYYY-MM-DD HH:MM:SS" (UTC) or YYYY-MM-DD; properties is a
// JSON object, and every other column is added to it as a string property
// (unless the object has that key already). The events are not validated
// (storage does that), but a cell that cannot be parsed makes a bad row,
// which never reaches fn: it is in Stats.Bad. An error of fn stops reading
// and is returned.
func Events(r io.Reader, opt Options, fn func(events []baton.EventInput, rows []int) error) (Stats, error) {
	var st Stats
	t, err := open(r, opt, eventKind, &st)
	if err != nil {
		return st, err
	}
	for _, f := range []string{"id", "type", "occurred_at"} {
		if err := t.require(f); err != nil {
			return st, err
		}
	}
	if !t.has("lead_id") && !t.has("email") && !t.has("external_id") {
		return st, &baton.Error{Code: baton.EINVALID, Field: "lead_id",
			Message: "the file needs a lead_id, email or external_id column to name each event's lead"}
	}
	for j, i := range t.extra {
		if !validName(t.name[j]) {
			return st, &baton.Error{Code: baton.EINVALID, Field: t.header[i], Message: "a property name must be 1-100 bytes of UTF-8"}
		}
	}
	cell := func(rec record, f string) string {
		if i, ok := t.col[f]; ok {
			return strings.TrimSpace(rec.cells[i])
		}
		return ""
	}
	parse := func(rec record) (baton.EventInput, *baton.RowError) {
		e := baton.EventInput{
			ID:         cell(rec, "id"),
			Email:      cell(rec, "email"),
			ExternalID: cell(rec, "external_id"),
			Type:       cell(rec, "type"),
		}
		if s := cell(rec, "lead_id"); s != "" {
			id, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return e, t.rowError(rec.line, "lead_id", "expected a lead id (a whole number), got %s", quote(s))
			}
			e.LeadID = id
		}
		if s := cell(rec, "occurred_at"); s != "" {
			at, ok := parseTime(s)
			if !ok {
				return e, t.rowError(rec.line, "occurred_at",
					"expected a time (RFC 3339, \"YYYY-MM-DD HH:MM:SS\" UTC or YYYY-MM-DD), got %s", quote(s))
			}
			e.OccurredAt = at
		}
		props, bad := eventProperties(t, rec, cell(rec, "properties"))
		if bad != nil {
			return e, bad
		}
		e.Properties = props
		return e, nil
	}
	return st, deliver(t, opt, nil, parse, fn)
}

// eventProperties parses the properties cell and merges the extra columns.
func eventProperties(t *table, rec record, s string) (json.RawMessage, *baton.RowError) {
	var m map[string]json.RawMessage
	if s != "" {
		if err := json.Unmarshal([]byte(s), &m); err != nil || m == nil {
			return nil, t.rowError(rec.line, "properties", "expected a JSON object, got %s", quote(s))
		}
	}
	added := false
	for j, i := range t.extra {
		v := strings.TrimSpace(rec.cells[i])
		if v == "" {
			continue
		}
		if _, ok := m[t.name[j]]; ok {
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, &baton.RowError{Row: rec.line, Column: t.header[i], Message: "expected text"}
		}
		if m == nil {
			m = map[string]json.RawMessage{}
		}
		m[t.name[j]], added = b, true
	}
	if !added {
		if s == "" {
			return nil, nil
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, []byte(s)); err != nil {
			return nil, t.rowError(rec.line, "properties", "expected a JSON object, got %s", quote(s))
		}
		return buf.Bytes(), nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, t.rowError(rec.line, "properties", "expected a JSON object, got %s", quote(s))
	}
	return b, nil
}

// parseTime reads an RFC 3339 time, "YYYY-MM-DD HH:MM:SS" or YYYY-MM-DD (UTC).
func parseTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339, time.DateTime, time.DateOnly} {
		if at, err := time.Parse(layout, s); err == nil {
			return at, true
		}
	}
	return time.Time{}, false
}
