package baton

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"
)

// Built-in event types. Custom types (lower_snake_case) are allowed too.
const (
	EventPageView          = "page_view"
	EventPricingPageView   = "pricing_page_view"
	EventContentDownload   = "content_download"
	EventWebinarRegistered = "webinar_registered"
	EventWebinarAttended   = "webinar_attended"
	EventEmailOpen         = "email_open"
	EventEmailClick        = "email_click"
	EventFormSubmit        = "form_submit"
	EventDemoRequest       = "demo_request"
	EventUnsubscribe       = "unsubscribe"
)

// EventTypes lists the built-in event types.
var EventTypes = []string{EventPageView, EventPricingPageView, EventContentDownload, EventWebinarRegistered,
	EventWebinarAttended, EventEmailOpen, EventEmailClick, EventFormSubmit, EventDemoRequest, EventUnsubscribe}

// ValidEventType says whether s is an event type: lower_snake_case, a
// letter first, at most 64 bytes (^[a-z][a-z0-9_]{0,63}$). It is checked on
// every event received, so by hand rather than by a regular expression.
func ValidEventType(s string) bool {
	if len(s) == 0 || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// MaxEventBatch is the most events one request may carry.
const MaxEventBatch = 10000

// Event is one thing a lead did. ID is the sender's id for it, so that a
// retried event is stored once.
type Event struct {
	ID         string          `json:"id"`
	LeadID     int64           `json:"lead_id"`
	Type       string          `json:"type"`
	OccurredAt time.Time       `json:"occurred_at"`
	Properties json.RawMessage `json:"properties,omitempty"`
	ReceivedAt time.Time       `json:"received_at"`
}

// EventInput is an event as a sender gives it: the lead is named by its id,
// email or external id.
type EventInput struct {
	ID         string          `json:"id"`
	LeadID     int64           `json:"lead_id,omitempty"`
	Email      string          `json:"email,omitempty"`
	ExternalID string          `json:"external_id,omitempty"`
	Type       string          `json:"type"`
	OccurredAt time.Time       `json:"occurred_at"`
	Properties json.RawMessage `json:"properties,omitempty"`
}

// Validate normalises the input and checks it. now is the time of receipt:
// an event from more than a day in the future is refused.
func (e *EventInput) Validate(now time.Time) error {
	e.ID = strings.TrimSpace(e.ID)
	if e.ID == "" {
		return FieldError("id", "required: the sender's id of the event, so that a retry is stored once")
	} else if len(e.ID) > 200 {
		return FieldError("id", "at most 200 bytes")
	}
	if e.LeadID == 0 && e.Email == "" && e.ExternalID == "" {
		return FieldError("lead_id", "name the lead by lead_id, email or external_id")
	}
	if e.LeadID < 0 {
		return FieldError("lead_id", "must be positive")
	}
	if e.Email != "" {
		email, err := NormalizeEmail(e.Email)
		if err != nil {
			return err
		}
		e.Email = email
	}
	e.Type = strings.TrimSpace(e.Type)
	if !ValidEventType(e.Type) {
		return FieldError("type", "%q is not an event type (lower_snake_case, e.g. %s)", e.Type, EventPricingPageView)
	}
	if e.OccurredAt.IsZero() {
		return FieldError("occurred_at", "required (RFC 3339 time)")
	}
	if e.OccurredAt.After(now.Add(24 * time.Hour)) {
		return FieldError("occurred_at", "%s is in the future", e.OccurredAt.Format(time.RFC3339))
	}
	if len(e.Properties) > 0 {
		if len(e.Properties) > 16<<10 {
			return FieldError("properties", "at most 16 KiB")
		}
		p := bytes.TrimLeft(e.Properties, " \t\r\n")
		if len(p) == 0 || p[0] != '{' || !json.Valid(p) {
			return FieldError("properties", "must be a JSON object")
		}
	}
	return nil
}

// EventFilter selects events.
type EventFilter struct {
	LeadID *int64
	Type   *string
	After  *time.Time
	Offset int
	Limit  int
}

// EventResult says what a batch of events did. Duplicates were stored before
// (same lead and id) and were not stored again.
type EventResult struct {
	Created    int        `json:"created"`
	Duplicates int        `json:"duplicates"`
	Rejected   int        `json:"rejected"`
	Errors     []RowError `json:"errors,omitempty"`
}

// EventService records what leads did.
type EventService interface {
	// RecordEvents stores a batch of events in one transaction. Bad ones are
	// reported with Row set to their index in events, and the good ones land.
	RecordEvents(ctx context.Context, events []EventInput) (EventResult, error)
	FindEvents(ctx context.Context, f EventFilter) ([]*Event, int, error)
}
