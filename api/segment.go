package api

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// Segment's HTTP Tracking API, as Baton takes it: POST /v1/identify,
// /v1/track, /v1/page with one message, /v1/batch with {"batch": [...]},
// authenticated with a write key as the basic-auth user. Fields Baton does
// not use (integrations, context.library, version, ...) are accepted and
// ignored, as Segment's own API does.

// segmentMessage is one message of Segment's HTTP Tracking API: the fields
// Baton reads.
type segmentMessage struct {
	Type        string `json:"type,omitempty"`
	MessageID   string `json:"messageId"`
	AnonymousID string `json:"anonymousId,omitempty"`
	UserID      string `json:"userId,omitempty"`
	// Event is a track's event name; Name a page's name.
	Event      string          `json:"event,omitempty"`
	Name       string          `json:"name,omitempty"`
	Properties json.RawMessage `json:"properties,omitempty"`
	Traits     json.RawMessage `json:"traits,omitempty"`
	Context    json.RawMessage `json:"context,omitempty"`
	// Integrations says which destinations get the message; Baton is one
	// whatever it says.
	Integrations json.RawMessage `json:"integrations,omitempty"`
	// Timestamp is when it happened (Segment's, corrected for the
	// sender's clock); without it, OriginalTimestamp corrected by SentAt
	// against the time of receipt.
	Timestamp         *time.Time `json:"timestamp,omitempty"`
	OriginalTimestamp *time.Time `json:"originalTimestamp,omitempty"`
	SentAt            *time.Time `json:"sentAt,omitempty"`
}

// segmentBatch is the body of POST /v1/batch: the messages, and a context,
// integrations and sentAt that every message without its own takes.
type segmentBatch struct {
	Batch        []json.RawMessage `json:"batch"`
	Context      json.RawMessage   `json:"context,omitempty"`
	Integrations json.RawMessage   `json:"integrations,omitempty"`
	SentAt       *time.Time        `json:"sentAt,omitempty"`
}

// segmentContext is what Baton reads of a message's context.
type segmentContext struct {
	Page struct {
		URL  string `json:"url"`
		Path string `json:"path"`
	} `json:"page"`
	Campaign struct {
		Name string `json:"name"`
	} `json:"campaign"`
	Traits json.RawMessage `json:"traits"`
}

// segmentTraits is what Baton reads of identify's traits.
type segmentTraits struct {
	Email     any `json:"email"`
	Name      any `json:"name"`
	FirstName any `json:"firstName"`
	LastName  any `json:"lastName"`
	First     any `json:"first_name"`
	Last      any `json:"last_name"`
	Title     any `json:"title"`
	Phone     any `json:"phone"`
	Company   any `json:"company"`
	Country   any `json:"country"`
	Address   any `json:"address"`
}

// text is a trait as text: a string as it is, a number as written; else "".
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

// field is a trait that may be text or an object with a field (company:
// {name: ...}, address: {country: ...}).
func field(v any, key string) string {
	if m, ok := v.(map[string]any); ok {
		return text(m[key])
	}
	return text(v)
}

// decodeSegment decodes the body of a Segment route: a batch for typ
// "batch", else one message whose type, if given, must be typ. It returns
// the messages that decode, the index of each in the batch, and the errors
// of those that do not, by index.
func decodeSegment(body []byte, typ string, now time.Time, source string) ([]baton.IntakeMessage, []int, []baton.RowError, error) {
	body = bytes.TrimSpace(body)
	if typ == "batch" && len(body) > 0 && body[0] == '[' {
		// A bare array, as Segment's Webhooks destination sends a batch.
		body = append(append([]byte(`{"batch":`), body...), '}')
	}
	if len(body) == 0 || body[0] != '{' {
		return nil, nil, nil, baton.Errorf(baton.EINVALID, "send a JSON object: a Segment message, or {\"batch\": [...]} to /v1/batch")
	}
	if typ == "batch" {
		var top map[string]json.RawMessage
		if json.Unmarshal(body, &top) == nil && top["batch"] == nil && top["type"] != nil {
			// One message, as Segment's Webhooks destination sends an event.
			typ = ""
		}
	}
	if typ != "batch" {
		m, err := segmentOne(body, typ, nil, now, source)
		if err != nil {
			return nil, nil, nil, err
		}
		return []baton.IntakeMessage{m}, []int{0}, nil, nil
	}
	var b segmentBatch
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, nil, nil, timeError(body, jsonError(err, "", nil), "sentAt")
	}
	if b.Batch == nil {
		return nil, nil, nil, baton.FieldError("batch", "required: the list of messages")
	}
	if len(b.Batch) > baton.MaxIntakeBatch {
		return nil, nil, nil, baton.FieldError("batch", "%d messages, at most %d in one request", len(b.Batch), baton.MaxIntakeBatch)
	}
	out := make([]baton.IntakeMessage, 0, len(b.Batch))
	rows := make([]int, 0, len(b.Batch))
	var bad []baton.RowError
	for i, raw := range b.Batch {
		m, err := segmentOne(raw, "", &b, now, source)
		if err != nil {
			bad = append(bad, baton.RowError{Row: i, Column: baton.ErrorField(err), Message: baton.ErrorMessage(err)})
			continue
		}
		out = append(out, m)
		rows = append(rows, i)
	}
	return out, rows, bad, nil
}

// segmentOne decodes one message. want is the route's type ("" in a
// batch: the message's own); batch gives its context and sentAt defaults.
func segmentOne(raw []byte, want string, batch *segmentBatch, now time.Time, source string) (baton.IntakeMessage, error) {
	var sm segmentMessage
	if err := json.Unmarshal(raw, &sm); err != nil {
		return baton.IntakeMessage{}, timeError(raw, jsonError(err, "", nil), "timestamp", "originalTimestamp", "sentAt")
	}
	sm.Type = strings.ToLower(strings.TrimSpace(sm.Type))
	switch {
	case want != "" && sm.Type == "":
		sm.Type = want
	case want != "" && sm.Type != want:
		return baton.IntakeMessage{}, baton.FieldError("type", "this is /v1/%s: a %q message goes to /v1/%s or in a batch", want, sm.Type, sm.Type)
	}
	switch sm.Type {
	case "identify", "track", "page":
	case "":
		return baton.IntakeMessage{}, baton.FieldError("type", "required in a batch: identify, track or page")
	default:
		return baton.IntakeMessage{}, baton.FieldError("type", "Baton records identify, track and page messages, not %q", sm.Type)
	}
	m := baton.IntakeMessage{Type: baton.MessageType(sm.Type), MessageID: sm.MessageID, AnonymousID: sm.AnonymousID,
		UserID: sm.UserID, Event: sm.Event, Source: source}
	ctxRaw := sm.Context
	if len(ctxRaw) == 0 && batch != nil {
		ctxRaw = batch.Context
	}
	var c segmentContext
	if len(ctxRaw) > 0 && string(ctxRaw) != "null" {
		if err := json.Unmarshal(ctxRaw, &c); err != nil {
			return m, baton.FieldError("context", "must be an object: %s", baton.ErrorMessage(jsonError(err, "", nil)))
		}
	}
	m.Campaign = c.Campaign.Name
	if p, err := objectOrNil(sm.Properties, "properties"); err != nil {
		return m, err
	} else {
		m.Properties = p
	}
	switch m.Type {
	case baton.MessageIdentify:
		traits := sm.Traits
		if len(traits) == 0 {
			traits = c.Traits // analytics.js puts them in context.traits too
		}
		var t segmentTraits
		if len(traits) > 0 && string(traits) != "null" {
			if err := json.Unmarshal(traits, &t); err != nil {
				return m, baton.FieldError("traits", "must be an object")
			}
		}
		m.Email = text(t.Email)
		name := text(t.Name)
		if name == "" {
			name = strings.TrimSpace(firstOf(text(t.FirstName), text(t.First)) + " " + firstOf(text(t.LastName), text(t.Last)))
		}
		m.Traits = baton.Traits{Name: name, Title: text(t.Title), Phone: text(t.Phone),
			Company: field(t.Company, "name"), Country: text(t.Country)}
		if m.Traits.Country == "" {
			m.Traits.Country = field(t.Address, "country")
		}
	case baton.MessagePage:
		var p struct {
			URL  string `json:"url"`
			Path string `json:"path"`
		}
		if len(m.Properties) > 0 {
			json.Unmarshal(m.Properties, &p) // an object, checked above
		}
		m.URL = firstOf(p.URL, c.Page.URL, p.Path, c.Page.Path)
		if sm.Name != "" && !bytes.Contains(m.Properties, []byte(`"name"`)) {
			m.Properties = withField(m.Properties, "name", sm.Name)
		}
	case baton.MessageTrack:
		m.URL = firstOf(c.Page.URL, c.Page.Path)
	}
	sentAt := sm.SentAt
	if sentAt == nil && batch != nil {
		sentAt = batch.SentAt
	}
	switch {
	case sm.Timestamp != nil:
		m.Timestamp = *sm.Timestamp
	case sm.OriginalTimestamp != nil && sentAt != nil:
		// Segment's correction of the sender's clock: the message is as
		// old, when it arrives, as it was when it was sent.
		m.Timestamp = now.Add(-sentAt.Sub(*sm.OriginalTimestamp))
	case sm.OriginalTimestamp != nil:
		m.Timestamp = *sm.OriginalTimestamp
	}
	return m, nil
}

// objectOrNil checks that raw, if any, is a JSON object.
func objectOrNil(raw json.RawMessage, field string) (json.RawMessage, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return nil, nil
	}
	if t[0] != '{' {
		return nil, baton.FieldError(field, "must be a JSON object")
	}
	return t, nil
}

// withField adds "key": value to a JSON object (nil: a new one).
func withField(obj json.RawMessage, key, value string) json.RawMessage {
	kv, _ := json.Marshal(map[string]string{key: value})
	t := bytes.TrimSpace(obj)
	if len(t) < 2 {
		return kv
	}
	inner := bytes.TrimSpace(t[1 : len(t)-1])
	if len(inner) == 0 {
		return kv
	}
	out := append([]byte{}, kv[:len(kv)-1]...)
	out = append(out, ',')
	out = append(out, inner...)
	return append(out, '}')
}

func firstOf(xs ...string) string {
	for _, x := range xs {
		if x != "" {
			return x
		}
	}
	return ""
}

// segmentBatchDoc is segmentBatch as the OpenAPI document shows it.
type segmentBatchDoc struct {
	Batch        []segmentMessage `json:"batch"`
	Context      json.RawMessage  `json:"context,omitempty"`
	Integrations json.RawMessage  `json:"integrations,omitempty"`
	SentAt       *time.Time       `json:"sentAt,omitempty"`
}

// timeError names the time field of obj that does not parse, when err is
// about a time and names no field (encoding/json does not say which).
func timeError(obj []byte, err error, fields ...string) error {
	if baton.ErrorField(err) != "" || !strings.Contains(baton.ErrorMessage(err), "RFC 3339") {
		return err
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(obj, &m) != nil {
		return err
	}
	for _, f := range fields {
		var t *time.Time
		if raw, ok := m[f]; ok && json.Unmarshal(raw, &t) != nil {
			return baton.FieldError(f, "expected an RFC 3339 time such as 2026-11-30T09:19:02.551Z")
		}
	}
	return err
}
