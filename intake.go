package baton

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The intake takes in what analytics pipelines and websites send: Segment's
// HTTP Tracking API (identify, track, page, batch) with a write key, and
// the website's page views and form submits with a capture key. Both kinds
// are ingest keys: they may send messages and nothing else, and are no
// user's tokens.
//
// # Visitors and leads
//
// A message names its sender by userId (the site's own id, which becomes a
// lead's external_id), by email (identify's traits.email, a form's email)
// or only by anonymousId (a browser's first-party id). Messages are linked
// to leads thus:
//
//   - identify and a form submit upsert the lead by email, else by userId:
//     a lead is created when none has them. Its source is the intake's
//     ("segment", "website"); later messages change its name, title, phone,
//     company and country when they carry them, never its source, and set
//     its external_id only when it has none. The anonymousId and userId of
//     the message are then linked to that lead (the latest identify wins).
//   - track and page go to the lead their userId (linked, or an external_id)
//     or anonymousId is linked to. An event of a visitor Baton cannot link
//     yet is kept, as pending, under its anonymousId and userId.
//   - when an identify or a form submit links an anonymousId or userId, the
//     pending events of that visitor are recorded on the lead, with their
//     own times, as if they had named it: they score as they happened.
//
// The messageId is the event's id: a retried message is stored once,
// pending or not. Pending events never linked are deleted AnonymousRetention
// after they arrived: Baton keeps leads, not a record of every visitor.

// IngestKeyKind is what an ingest key is for.
type IngestKeyKind string

// Ingest key kinds.
const (
	// KeyWrite is a Segment write key: sent by a server (Segment's HTTP API
	// destination) as the basic-auth user; any origin.
	KeyWrite IngestKeyKind = "write"
	// KeyCapture is a website's capture key: public, in the page's HTML,
	// accepted only from browsers on its allowed origins, for page views,
	// track events and form submits (no identify: a visitor becomes a lead
	// through a form).
	KeyCapture IngestKeyKind = "capture"
)

// IngestKeyKinds lists the kinds of ingest keys.
var IngestKeyKinds = []IngestKeyKind{KeyWrite, KeyCapture}

// MaxOrigins is the most allowed origins of one capture key.
const MaxOrigins = 20

// AnonymousRetention is how long an event of a visitor Baton could not link
// to a lead is kept for a later identify or form submit to claim.
const AnonymousRetention = 90 * 24 * time.Hour

// IngestKey is an ingest key as Baton lists it. The key itself is shown
// only when made; only its SHA-256 is stored.
type IngestKey struct {
	ID   int64         `json:"id"`
	Kind IngestKeyKind `json:"kind"`
	Name string        `json:"name"`
	// Origins are the origins (scheme://host[:port]) a capture key is
	// accepted from; empty for a write key.
	Origins    []string   `json:"origins"`
	CreatedBy  *int64     `json:"created_by,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	RevokedBy  *int64     `json:"revoked_by,omitempty"`
}

// Revoked reports whether the key was revoked.
func (k *IngestKey) Revoked() bool { return k.RevokedAt != nil }

// AllowsOrigin reports whether a browser on origin may use the key: for a
// capture key, one of its origins (compared as ParseOrigin writes them).
func (k *IngestKey) AllowsOrigin(origin string) bool {
	o, err := ParseOrigin("origin", origin)
	return err == nil && slices.Contains(k.Origins, o)
}

// Source is the source of the leads the key's messages create.
func (k *IngestKey) Source() string {
	if k.Kind == KeyCapture {
		return "website"
	}
	return "segment"
}

// Actor is who the key's messages act as: the system, named after the key,
// through the intake. The key reaches only the intake's routes, so the
// system's rights go no further than the intake.
func (k *IngestKey) Actor() Actor {
	return Actor{Name: fmt.Sprintf("%s key %q", k.Kind, k.Name), Role: RoleSystem, Via: k.Source()}
}

// IngestKeyInput is what an admin says of a new ingest key.
type IngestKeyInput struct {
	Kind    IngestKeyKind `json:"kind"`
	Name    string        `json:"name"`
	Origins []string      `json:"origins,omitempty"`
}

// Validate normalises the input and checks it.
func (in *IngestKeyInput) Validate() error {
	in.Kind = IngestKeyKind(strings.ToLower(strings.TrimSpace(string(in.Kind))))
	if !slices.Contains(IngestKeyKinds, in.Kind) {
		return FieldError("kind", "unknown kind %q (want write, for Segment, or capture, for a website)", in.Kind)
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return FieldError("name", "required: say what sends with the key (a Segment source, a website)")
	}
	if !utf8.ValidString(in.Name) || utf8.RuneCountInString(in.Name) > MaxTokenName {
		return FieldError("name", "at most %d characters", MaxTokenName)
	}
	switch {
	case in.Kind == KeyWrite && len(in.Origins) > 0:
		return FieldError("origins", "a write key is sent by a server, from no origin: give origins to a capture key")
	case in.Kind == KeyCapture && len(in.Origins) == 0:
		return FieldError("origins", "required for a capture key: the origins of the website, like https://www.example.com")
	case len(in.Origins) > MaxOrigins:
		return FieldError("origins", "%d origins, at most %d", len(in.Origins), MaxOrigins)
	}
	out := make([]string, 0, len(in.Origins))
	for i, s := range in.Origins {
		o, err := ParseOrigin(fmt.Sprintf("origins[%d]", i), s)
		if err != nil {
			return err
		}
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	in.Origins = out
	return nil
}

// ParseOrigin returns s as a browser writes an origin (lower-case
// scheme://host[:port], no default port, no path), or an EINVALID error
// naming field.
func ParseOrigin(field, s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", FieldError(field, "%q is not an origin: want scheme://host[:port], like https://www.example.com", s)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", FieldError(field, "%q has a path: an origin is only scheme://host[:port]", s)
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return u.Scheme + "://" + host, nil
}

// MessageType is the kind of an intake message.
type MessageType string

// Message types: Segment's three, and the website's form submit.
const (
	MessageIdentify MessageType = "identify"
	MessageTrack    MessageType = "track"
	MessagePage     MessageType = "page"
	MessageForm     MessageType = "form"
)

// MaxIntakeBatch is the most messages one intake request may carry.
// Segment's batch is at most 500 KB; a few thousand small messages.
const MaxIntakeBatch = 2500

// Traits are what a message says of the person, in lead fields.
type Traits struct {
	Name    string
	Title   string
	Phone   string
	Company string
	Country string
}

// IntakeMessage is one message of the intake in Baton's words, after the
// API decoded Segment's or the website's shape.
type IntakeMessage struct {
	Type MessageType
	// MessageID is the sender's id of the message (Segment's messageId):
	// the id of the event it records, so that a retry is stored once.
	MessageID   string
	AnonymousID string
	UserID      string
	// Email names the lead (identify's traits.email, a form's email).
	Email  string
	Traits Traits
	// Campaign is the lead's campaign if the message creates it.
	Campaign string
	// Event is a track message's event name; URL a page's (or the form's
	// page) URL; both are mapped to an event type by the policy's intake
	// section.
	Event string
	URL   string
	// Properties are the event's properties, a JSON object.
	Properties json.RawMessage
	Timestamp  time.Time
	// Source is the source of a lead the message creates.
	Source string
}

// maxIntakeID bounds messageId, anonymousId and userId.
const maxIntakeID = 200

// Validate normalises the message and checks it, at now (the time of
// receipt). Errors name the field as Segment does (messageId,
// traits.email, ...).
func (m *IntakeMessage) Validate(now time.Time) error {
	for _, f := range []struct {
		name string
		v    *string
	}{{"messageId", &m.MessageID}, {"anonymousId", &m.AnonymousID}, {"userId", &m.UserID}} {
		*f.v = strings.TrimSpace(*f.v)
		if len(*f.v) > maxIntakeID || !utf8.ValidString(*f.v) {
			return FieldError(f.name, "at most %d bytes of UTF-8", maxIntakeID)
		}
	}
	if m.MessageID == "" {
		return FieldError("messageId", "required: the message's id, so that a retry is stored once")
	}
	if m.Email != "" {
		email, err := NormalizeEmail(m.Email)
		if err != nil {
			return &Error{Code: EINVALID, Field: "traits.email", Message: ErrorMessage(err)}
		}
		m.Email = email
	}
	switch m.Type {
	case MessageIdentify:
		if m.Email == "" && m.UserID == "" {
			return FieldError("userId", "an identify needs a userId or traits.email: Baton keeps leads, not anonymous visitors")
		}
	case MessageForm:
		if m.Email == "" {
			return FieldError("email", "required: the email of the person sending the form")
		}
	case MessageTrack, MessagePage:
		if m.Type == MessageTrack {
			m.Event = strings.TrimSpace(m.Event)
			if m.Event == "" || len(m.Event) > maxIntakeID || !utf8.ValidString(m.Event) {
				return FieldError("event", "required: the name of the event (at most %d bytes)", maxIntakeID)
			}
		}
		if m.AnonymousID == "" && m.UserID == "" && m.Email == "" {
			return FieldError("anonymousId", "a %s needs an anonymousId or a userId", m.Type)
		}
	default:
		return FieldError("type", "unknown message type %q (want identify, track or page)", m.Type)
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"traits.name", &m.Traits.Name}, {"traits.title", &m.Traits.Title}, {"traits.phone", &m.Traits.Phone},
		{"traits.company", &m.Traits.Company}, {"traits.country", &m.Traits.Country}, {"context.campaign.name", &m.Campaign}} {
		*f.v = strings.TrimSpace(*f.v)
		if err := checkText(f.name, *f.v, MaxFieldLen); err != nil {
			return err
		}
	}
	if len(m.URL) > 2048 {
		return FieldError("properties.url", "at most 2048 bytes")
	}
	if m.Timestamp.IsZero() {
		m.Timestamp = now
	}
	if m.Timestamp.After(now.Add(24 * time.Hour)) {
		return FieldError("timestamp", "%s is in the future", m.Timestamp.Format(time.RFC3339))
	}
	if len(m.Properties) > 16<<10 {
		return FieldError("properties", "at most 16 KiB")
	}
	return nil
}

// IntakeResult says what a batch of intake messages did.
type IntakeResult struct {
	// LeadsCreated and LeadsUpdated count the leads identifies and forms
	// created and changed.
	LeadsCreated int `json:"leads_created"`
	LeadsUpdated int `json:"leads_updated"`
	// Events were recorded on leads; Pending kept for visitors not linked
	// to a lead yet; Stitched were pending before and are now recorded on
	// the lead an identify or form linked.
	Events   int `json:"events"`
	Pending  int `json:"pending"`
	Stitched int `json:"stitched"`
	// Duplicates were stored before (a retried messageId), not again.
	Duplicates int        `json:"duplicates"`
	Rejected   int        `json:"rejected"`
	Errors     []RowError `json:"errors"`
}

// IntakeService stores ingest keys and what is sent with them.
type IntakeService interface {
	// CreateIngestKey makes an ingest key (admin) and returns it in clear,
	// once, with how it is listed. Audited.
	CreateIngestKey(ctx context.Context, in IngestKeyInput) (string, *IngestKey, error)
	// FindIngestKeys lists the ingest keys, live ones first, newest first
	// (admin).
	FindIngestKeys(ctx context.Context) ([]*IngestKey, error)
	// RevokeIngestKey revokes a key (admin): it is refused from the next
	// message on. Audited.
	RevokeIngestKey(ctx context.Context, id int64) (*IngestKey, error)
	// AuthenticateIngestKey returns the live key, or EUNAUTHORIZED. It
	// needs no actor.
	AuthenticateIngestKey(ctx context.Context, key string) (*IngestKey, error)
	// Intake stores a batch of messages in one transaction, linking them
	// to leads by the rules at the top of this file (Visitors and leads). Bad ones are reported with
	// Row set to their index, and the good ones land.
	Intake(ctx context.Context, msgs []IntakeMessage) (IntakeResult, error)
}
