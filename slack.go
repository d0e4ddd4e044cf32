package baton

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/url"
	"strings"
	"time"
)

// SlackChannel is a Slack incoming webhook that Baton posts notifications
// to: those of one user (UserID), or those of every member of a team (Team;
// a user's team is their own, else their manager's). See SlackNote for what
// is posted.
type SlackChannel struct {
	ID     int64  `json:"id"`
	Team   string `json:"team,omitempty"`
	UserID *int64 `json:"user_id,omitempty"`
	// URL is the incoming webhook's address. Whoever has it may post to the
	// channel, so it is a secret: given when the channel is added, stored
	// sealed like webhook secrets, and never shown again; Hint shows enough
	// of it to tell channels apart.
	URL       string    `json:"url,omitempty"`
	Hint      string    `json:"hint"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
}

// Validate checks that a channel names one team or one user and an http(s)
// URL without a user name or password. Where the URL may point is checked
// by CheckTarget, with the rule of webhooks.
func (c *SlackChannel) Validate() error {
	c.Team = strings.TrimSpace(c.Team)
	switch {
	case c.Team == "" && c.UserID == nil:
		return FieldError("team", "required: the team whose notifications the channel gets, or a user_id")
	case c.Team != "" && c.UserID != nil:
		return FieldError("team", "give a team or a user_id, not both")
	case len(c.Team) > 100:
		return FieldError("team", "at most 100 characters")
	}
	w := Webhook{URL: c.URL, Events: []string{"*"}}
	if err := w.Validate(); err != nil {
		return err
	}
	c.URL = w.URL
	return nil
}

// CheckTarget applies the operator's rule for where a webhook may point
// (Webhook.CheckTarget) to the channel's URL.
func (c *SlackChannel) CheckTarget(allowPrivate bool) error {
	w := Webhook{URL: c.URL}
	return w.CheckTarget(allowPrivate)
}

// SlackHint is the part of a channel's URL fit to show: the host and every
// path segment but the last, which holds the token
// ("hooks.slack.com/services/T0123/B0456/…").
func SlackHint(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(not a URL)"
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(segs) > 0 {
		segs[len(segs)-1] = "…"
	}
	return u.Host + "/" + strings.Join(segs, "/")
}

// The moments of the handoff that are posted to Slack.
const (
	SlackNewMQL    = "new_mql"   // an MQL handed to a development rep
	SlackNewSQL    = "new_sql"   // an SQL handed over to an account executive
	SlackReminder  = "reminder"  // an open handoff at its reminder time
	SlackBreach    = "breach"    // an open handoff past its deadline
	SlackRejection = "rejection" // a rep rejected a lead
)

// SlackNote is one message to a Slack channel, as the outbox keeps it: the
// facts, from which the deliverer builds the Block Kit message and its
// links when it sends it (so that a retried message gets a fresh accept
// link).
type SlackNote struct {
	Kind  string `json:"kind"`
	Title string `json:"title"`
	Text  string `json:"text"`
	// The lead as the inbox names it (name and company; nothing the
	// policy may hide from reps), its owner and the open handoff's
	// deadline.
	LeadID int64      `json:"lead_id"`
	Name   string     `json:"name"`
	Owner  string     `json:"owner,omitempty"`
	DueAt  *time.Time `json:"due_at,omitempty"`
	// AcceptFor and HandoffID, when set, ask for an accept button: a link
	// for that user to accept that handoff (AcceptLink).
	AcceptFor int64 `json:"accept_for,omitempty"`
	HandoffID int64 `json:"handoff_id,omitempty"`
}

// AcceptLink is what a Slack accept button carries: a signed, short-lived
// claim that the user was asked to accept the handoff of the lead. It opens
// the lead's page with the accept button in front; it does nothing by
// itself: the page still wants the user's session, and the user presses
// the button.
type AcceptLink struct {
	LeadID, HandoffID, UserID int64
	Expires                   time.Time
}

// DefaultAcceptLinkTTL is how long an accept link works.
const DefaultAcceptLinkTTL = 4 * time.Hour

// Errors of ParseAcceptLink.
var (
	ErrLinkInvalid = errors.New("the accept link is not one Baton made")
	ErrLinkExpired = errors.New("the accept link has expired")
)

// Sign returns the link's token: its fields and their HMAC-SHA256 under key,
// in URL-safe base64.
func (a AcceptLink) Sign(key []byte) string {
	b := make([]byte, 32)
	binary.BigEndian.PutUint64(b[0:], uint64(a.LeadID))
	binary.BigEndian.PutUint64(b[8:], uint64(a.HandoffID))
	binary.BigEndian.PutUint64(b[16:], uint64(a.UserID))
	binary.BigEndian.PutUint64(b[24:], uint64(a.Expires.Unix()))
	m := hmac.New(sha256.New, key)
	m.Write([]byte("baton accept link v1\x00"))
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(append(b, m.Sum(nil)...))
}

// ParseAcceptLink checks a token made by AcceptLink.Sign with key and
// returns its link: ErrLinkInvalid for anything else, ErrLinkExpired past
// its time.
func ParseAcceptLink(key []byte, token string, now time.Time) (AcceptLink, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 32+sha256.Size || len(key) == 0 {
		return AcceptLink{}, ErrLinkInvalid
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("baton accept link v1\x00"))
	m.Write(raw[:32])
	if !hmac.Equal(m.Sum(nil), raw[32:]) {
		return AcceptLink{}, ErrLinkInvalid
	}
	a := AcceptLink{
		LeadID:    int64(binary.BigEndian.Uint64(raw[0:])),
		HandoffID: int64(binary.BigEndian.Uint64(raw[8:])),
		UserID:    int64(binary.BigEndian.Uint64(raw[16:])),
		Expires:   time.Unix(int64(binary.BigEndian.Uint64(raw[24:])), 0),
	}
	if !now.Before(a.Expires) {
		return a, ErrLinkExpired
	}
	return a, nil
}
