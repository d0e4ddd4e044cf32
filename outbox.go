package baton

import (
	"context"
	"encoding/json"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Webhook is an endpoint that receives Baton's events as signed JSON POSTs.
type Webhook struct {
	ID  int64  `json:"id"`
	URL string `json:"url"`
	// Secret signs each delivery (HMAC-SHA256). Baton makes it when the
	// webhook is created (or rotated) and shows it that once.
	Secret    string    `json:"secret,omitempty"`
	Events    []string  `json:"events"` // event names, or ["*"] for all
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	// OldSecrets, for a delivery, are the secrets a rotation replaced that
	// still sign beside Secret during their grace period. Never shown.
	OldSecrets []string `json:"-"`
}

// DefaultSecretGrace is how long a rotated webhook secret keeps signing
// beside the new one.
const DefaultSecretGrace = 24 * time.Hour

// WebhookEvents are the events a webhook may subscribe to, in the order of
// the lifecycle. Every move of Rules emits at least one (Effects.Events);
// lead.created, lead.reminder and lead.stale_sal are not moves.
var WebhookEvents = []string{"lead.created", "lead.mql", "lead.assigned", "lead.reassigned", "lead.reminder",
	"lead.breached", "lead.accepted", "lead.rejected", "lead.disqualified", "lead.qualified", "lead.recycled",
	"lead.sent_back", "lead.converted", "lead.won", "lead.lost", "lead.stale_sal"}

// webhookEventWhen says when each of WebhookEvents is sent.
var webhookEventWhen = map[string]string{
	"lead.created":      "a lead is created (the API, the web UI, an import); its scores follow, and a lead.mql if the policy promotes it at once",
	"lead.mql":          "a lead becomes an MQL: promoted by the policy or by marketing, or pulled from new or nurture by a rep",
	"lead.assigned":     "a handoff is opened to a rep with its answer window: a new MQL or SQL routed, claimed, assigned or reassigned (`data.handoff`)",
	"lead.reassigned":   "a SAL or an opportunity is given to another rep (no answer window)",
	"lead.reminder":     "an open handoff reaches its reminder time (75% of its window by default)",
	"lead.breached":     "an open handoff passes its deadline unanswered; by policy the lead goes to the next rep (`data.handoff` is the new one)",
	"lead.accepted":     "a rep accepts the lead's handoff: an MQL becomes a SAL, or an account executive accepts an SQL",
	"lead.rejected":     "a rep rejects an MQL or a SAL with an agreed reason (`data.reason`, `data.outcome`: recycled or disqualified, `data.duplicate_of`)",
	"lead.disqualified": "marketing disqualifies a new or nurtured lead",
	"lead.qualified":    "a SAL is qualified with BANT into an SQL, routed to an account executive",
	"lead.recycled":     "a lead goes back to nurture: qualified with timing later, or returned by the account executive",
	"lead.sent_back":    "the account executive sends an SQL back to the development rep",
	"lead.converted":    "an SQL becomes an opportunity",
	"lead.won":          "the opportunity is won",
	"lead.lost":         "the opportunity is lost",
	"lead.stale_sal":    "an accepted lead still has no opportunity when the policy's limit passes",
}

// WebhookEventsMarkdown is the README's table of webhook events.
func WebhookEventsMarkdown() string {
	var b strings.Builder
	b.WriteString("| event | sent when |\n|---|---|\n")
	for _, e := range WebhookEvents {
		b.WriteString("| `" + e + "` | " + webhookEventWhen[e] + " |\n")
	}
	return b.String()
}

// Validate checks a webhook's URL and events. The URL must be http or https,
// with a host and without a user name or password: credentials in a URL end
// up wherever the URL is shown, and a receiver authenticates deliveries by
// their signature. Where the URL may point is the operator's rule, checked
// by CheckTarget.
func (w *Webhook) Validate() error {
	u, err := url.Parse(strings.TrimSpace(w.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return FieldError("url", "%q is not an http(s) URL", RedactURL(w.URL))
	}
	if u.User != nil {
		return FieldError("url", "must not hold a user name or password (%s): receivers check the Baton-Signature instead", RedactURL(w.URL))
	}
	w.URL = u.String()
	if len(w.Events) == 0 {
		w.Events = []string{"*"}
	}
	for _, e := range w.Events {
		if e != "*" && !contains(WebhookEvents, e) {
			return FieldError("events", "unknown event %q (want * or one of %s)", e, strings.Join(WebhookEvents, ", "))
		}
	}
	if w.Secret != "" && len(w.Secret) < 16 {
		return FieldError("secret", "at least 16 characters, or none: Baton makes one")
	}
	return nil
}

// CheckTarget applies the operator's rule for where a valid webhook may
// point: an https URL whose host is not localhost nor an address that is not
// public (see PublicAddr). allowPrivate (baton serve --webhook-allow-private)
// lifts the rule, for receivers on the operator's own network. A host name
// cannot be judged here: each delivery checks every address it connects to.
func (w *Webhook) CheckTarget(allowPrivate bool) error {
	if allowPrivate {
		return nil
	}
	u, err := url.Parse(w.URL)
	if err != nil {
		return FieldError("url", "%q is not an http(s) URL", RedactURL(w.URL))
	}
	const allow = "(baton serve --webhook-allow-private allows it)"
	if u.Scheme != "https" {
		return FieldError("url", "must be https, not %s %s", u.Scheme, allow)
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return FieldError("url", "%s is this machine, not a receiver outside %s", u.Hostname(), allow)
	}
	if ip, err := netip.ParseAddr(host); err == nil && !PublicAddr(ip) {
		return FieldError("url", "%s is a loopback, private, link-local or reserved address %s", u.Hostname(), allow)
	}
	return nil
}

// notPublic are the IPv4 ranges beside those netip classifies that a webhook
// must not reach: "this network", shared address space (CGNAT), IETF
// protocol assignments, benchmarking, and the reserved 240/4 with broadcast.
var notPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
}

// nat64 is the well-known NAT64 prefix (RFC 6052): its addresses stand for
// the IPv4 address in their last 32 bits, which is the one to judge.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// PublicAddr reports whether ip is an address a webhook may connect to: not
// unspecified, loopback, private (RFC 1918, fc00::/7), link-local
// (169.254/16 with the cloud metadata address, fe80::/10), multicast, CGNAT
// (100.64/10) or otherwise reserved. An IPv4 address mapped into IPv6, or
// behind NAT64, is judged as itself.
func PublicAddr(ip netip.Addr) bool {
	ip = ip.WithZone("").Unmap()
	if nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte(b[12:]))
	}
	if !ip.IsValid() || ip.IsUnspecified() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsMulticast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() {
		return false
	}
	for _, p := range notPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// RedactURL returns a URL fit to show: a user name and password in it are
// replaced by "redacted". A string that does not parse as a URL is not shown.
func RedactURL(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "(not a URL)"
	}
	if u.User != nil {
		u.User = url.User("redacted")
	}
	return u.String()
}

// OutboxMessage is one notification to deliver by email, webhook or Slack,
// written in the transaction of the change that caused it.
type OutboxMessage struct {
	ID        int64           `json:"id"`
	Channel   string          `json:"channel"` // email, webhook or slack
	Target    string          `json:"target"`  // an email address, a webhook's or a Slack channel's id
	Event     string          `json:"event"`
	Subject   string          `json:"subject,omitempty"`
	Payload   json.RawMessage `json:"payload"`
	Attempts  int             `json:"attempts"`
	CreatedAt time.Time       `json:"created_at"`
	// AttemptID is the delivery attempt the claim logged, in flight, before
	// the message is sent; FinishOutbox records the answer on it.
	AttemptID int64 `json:"attempt_id"`
}

// DeliveryResult is what one attempt to deliver a message gave.
type DeliveryResult struct {
	Status   int           `json:"status,omitempty"`
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration"`
	OK       bool          `json:"ok"`
	// Retry says whether a failure may succeed later; RetryAfter is the
	// receiver's wish for when.
	Retry      bool          `json:"retry"`
	RetryAfter time.Duration `json:"retry_after,omitempty"`
}

// DeliveryAttempt is one logged attempt. It is logged when its message is
// claimed, before anything is sent, so the log also shows the attempts a
// stopped instance never finished.
type DeliveryAttempt struct {
	ID       int64     `json:"id"`
	OutboxID int64     `json:"outbox_id"` // also the delivery id the receiver sees
	Channel  string    `json:"channel"`   // email, webhook or slack
	Event    string    `json:"event"`
	Target   string    `json:"target"`
	At       time.Time `json:"at"` // when it was claimed, just before it was sent
	Status   int       `json:"status"`
	Error    string    `json:"error,omitempty"`
	Millis   int64     `json:"duration_ms"`
	State    string    `json:"state"` // of the message now: pending, sent, dead
	// Result is what became of this attempt: AttemptInFlight,
	// AttemptInterrupted, AttemptDelivered or AttemptFailed.
	Result     string     `json:"result"`
	Worker     string     `json:"worker,omitempty"`      // the instance that made it
	FinishedAt *time.Time `json:"finished_at,omitempty"` // nil while in flight
}

// DeliveryFilter chooses delivery attempts; its zero value, every one (up
// to a page).
type DeliveryFilter struct {
	// Channel is "email", "webhook" or "slack"; "" for all.
	Channel string
	// Target is the recipient within the channel: an email address, a
	// webhook's or a Slack channel's id. "" for all.
	Target string
	// Limit is how many, the newest (0: 50; at most 1000).
	Limit int
}

// The results of a delivery attempt.
const (
	// AttemptInFlight: claimed and being sent; the receiver has not answered.
	AttemptInFlight = "in_flight"
	// AttemptInterrupted: closed without an answer, because its instance
	// stopped or its lease ran out. The receiver may have got it; the message
	// is sent again with the same delivery id.
	AttemptInterrupted = "interrupted"
	AttemptDelivered   = "delivered"
	AttemptFailed      = "failed"
)

// MaxDeliveryAttempts is how often a message is tried before it is dead.
const MaxDeliveryAttempts = 12

// OutboxService delivers what the outbox holds, and manages webhooks.
//
// Delivery is at least once: an attempt is logged when its message is
// claimed and finished when the receiver answers, and a message whose
// attempt was cut short (its instance stopped, or its lease ran out) is sent
// again, with the same delivery id (the outbox id), because the first try may
// or may not have reached the receiver. Receivers drop delivery ids they have
// seen.
type OutboxService interface {
	// ClaimOutbox leases up to n due messages to a worker and logs an
	// attempt in flight for each (OutboxMessage.AttemptID), before any is
	// sent: no other worker takes them until the lease ends, so a crashed
	// worker's messages are retried by another. Taking over a message whose
	// lease ran out marks the attempt left unfinished interrupted.
	ClaimOutbox(ctx context.Context, worker string, n int, lease time.Duration) ([]OutboxMessage, error)
	// FinishOutbox records the answer on the message's attempt and marks the
	// message sent, or schedules its retry with backoff, or marks it dead
	// after MaxDeliveryAttempts. An attempt already closed as interrupted
	// (the lease was lost meanwhile) only gets the answer logged: the message
	// is its new holder's.
	FinishOutbox(ctx context.Context, m OutboxMessage, r DeliveryResult) error
	// ReleaseLeases ends at once the leases a worker holds on messages still
	// pending and marks their attempts in flight interrupted: a worker that
	// starts under the name of one that stopped (a restart) calls it, so the
	// messages it was sending go out again now rather than when their leases
	// would have run out. It returns how many it released.
	ReleaseLeases(ctx context.Context, worker string) (int, error)
	// WebhookSecret returns a webhook's URL and signing secret.
	WebhookSecret(ctx context.Context, id int64) (*Webhook, error)
	// CreateWebhook registers a webhook; without a Secret, Baton makes one
	// and returns it in w.Secret, shown that once.
	CreateWebhook(ctx context.Context, w *Webhook) error
	// RotateWebhookSecret gives a webhook a new secret, made by Baton and
	// returned that once; the old one still signs beside it for grace
	// (DefaultSecretGrace when 0), so that receivers move without missing
	// a delivery.
	RotateWebhookSecret(ctx context.Context, id int64, grace time.Duration) (string, error)
	FindWebhooks(ctx context.Context) ([]*Webhook, error)
	SetWebhookActive(ctx context.Context, id int64, active bool) error
	// Deliveries lists the latest delivery attempts, newest first.
	Deliveries(ctx context.Context, f DeliveryFilter) ([]DeliveryAttempt, error)

	// CreateSlackChannel adds a Slack incoming webhook for a team or a
	// user (admins only); its URL is never shown again (c.URL is cleared,
	// c.Hint set).
	CreateSlackChannel(ctx context.Context, c *SlackChannel) error
	FindSlackChannels(ctx context.Context) ([]*SlackChannel, error)
	SetSlackChannelActive(ctx context.Context, id int64, active bool) error
	// SlackChannelURL returns a channel with its URL, for delivery.
	SlackChannelURL(ctx context.Context, id int64) (*SlackChannel, error)
	// AcceptLinkKey returns the key that signs accept links (AcceptLink),
	// the same for every instance on the database.
	AcceptLinkKey(ctx context.Context) ([]byte, error)
}
