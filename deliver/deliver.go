// Package deliver empties Baton's outbox: it sends the emails, signed
// webhooks and Slack messages that changes wrote there, retries failures with backoff through
// the store, and logs every attempt. Any number of instances may run it: a
// message is leased to one at a time.
//
// Delivery is at least once. Each attempt is logged, in flight, when its
// message is claimed and before it is sent, and finished when the receiver
// answers. If the process dies in between, nobody knows whether the receiver
// got the message, so it is sent again, with the same delivery id (the outbox
// id, in the Baton-Delivery header, the payload's delivery_id and the email's
// Message-ID), and the log shows the first attempt interrupted. Receivers drop
// delivery ids they have already seen.
//
// A Deliverer restarted under the same Name (the server's default is its host
// name and listen port) takes back the leases it held at once; another
// instance takes them over when they run out.
package deliver

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/notify"
)

// Deliverer sends what the outbox holds.
type Deliverer struct {
	Outbox baton.OutboxService
	// Webhook gives the timeout and signing clock of webhook requests (nil:
	// notify's defaults). Its Client is not used: the Deliverer sends with
	// its own, which checks every address it connects to, follows no
	// redirect and logs generic errors (newClient).
	Webhook *notify.Sender
	// AllowPrivate lets webhooks reach addresses that are not public
	// (loopback, private, link-local, CGNAT: baton.PublicAddr) over plain
	// http too: for a receiver on the operator's own network (baton serve
	// --webhook-allow-private), and for tests. Off, an http URL is refused
	// and each connection is checked as it is made, after the host name was
	// resolved, so DNS rebinding cannot get around it.
	AllowPrivate bool
	// Resolver looks up webhook hosts; nil means net.DefaultResolver.
	Resolver *net.Resolver
	// SMTP sends emails; nil marks emails dead with a clear error.
	SMTP *notify.SMTPConfig
	// PublicURL is where people reach the web UI ("https://baton.example.com"),
	// for the buttons of Slack messages; empty, messages have no buttons.
	PublicURL string
	// AcceptLinkTTL is how long a Slack message's accept link works
	// (baton.DefaultAcceptLinkTTL when 0); Now is the clock it is counted
	// from (time.Now when nil).
	AcceptLinkTTL time.Duration
	Now           func() time.Time
	// Name names this instance as the holder of its leases. It should stay
	// the same across restarts, so a restart can release what it held.
	Name   string
	Poll   time.Duration
	Lease  time.Duration
	Logger *slog.Logger

	once   sync.Once
	sender *notify.Sender
}

// Run delivers until ctx ends. It first releases the leases a previous run
// under the same Name left behind, so the messages that run was sending when
// it stopped go out again now rather than when their leases run out.
func (d *Deliverer) Run(ctx context.Context) {
	poll := d.Poll
	if poll <= 0 {
		poll = time.Second
	}
	if n, err := d.Outbox.ReleaseLeases(ctx, d.Name); err != nil {
		// Not fatal: the leases run out on their own.
		if ctx.Err() == nil && d.Logger != nil {
			d.Logger.Error("outbox: release the leases of a previous run", "worker", d.Name, "err", err)
		}
	} else if n > 0 && d.Logger != nil {
		d.Logger.Info("outbox: released the leases of a previous run; their messages are sent again", "worker", d.Name, "released", n)
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := d.Once(ctx)
		if err != nil && ctx.Err() == nil && d.Logger != nil {
			d.Logger.Error("outbox", "err", err)
		}
		if n > 0 {
			t.Reset(0)
		} else {
			t.Reset(poll)
		}
	}
}

// Once claims a batch of due messages, delivers them and records each
// result. A message claimed here whose result is not recorded (the process
// died) is sent again later: see the package comment.
func (d *Deliverer) Once(ctx context.Context) (int, error) {
	lease := d.Lease
	if lease <= 0 {
		lease = 2 * time.Minute
	}
	msgs, err := d.Outbox.ClaimOutbox(ctx, d.Name, 20, lease)
	if err != nil {
		return 0, err
	}
	for _, m := range msgs {
		r := d.deliver(ctx, m)
		if err := d.Outbox.FinishOutbox(ctx, m, r); err != nil {
			return 0, err
		}
	}
	return len(msgs), nil
}

func (d *Deliverer) deliver(ctx context.Context, m baton.OutboxMessage) baton.DeliveryResult {
	switch m.Channel {
	case "webhook":
		id, _ := strconv.ParseInt(m.Target, 10, 64)
		w, err := d.Outbox.WebhookSecret(ctx, id)
		if err != nil {
			return baton.DeliveryResult{Error: err.Error()}
		}
		if !w.Active {
			return baton.DeliveryResult{Error: "webhook turned off"}
		}
		// A webhook created under a looser rule than the one in force now.
		if err := w.CheckTarget(d.AllowPrivate); err != nil {
			return baton.DeliveryResult{Error: ErrBlocked + ": " + baton.ErrorMessage(err)}
		}
		body := m.Payload
		// The delivery id lets a receiver drop a message it has seen.
		var env map[string]any
		if json.Unmarshal(m.Payload, &env) == nil {
			env["delivery_id"] = strconv.FormatInt(m.ID, 10)
			body, _ = json.Marshal(env)
		}
		sctx, n := withNote(ctx)
		a := d.webhookSender().Send(sctx, notify.Webhook{URL: w.URL, Secret: []byte(w.Secret), OldSecrets: byteSecrets(w.OldSecrets)}, notify.Delivery{ID: strconv.FormatInt(m.ID, 10), Event: m.Event, Body: body})
		r := baton.DeliveryResult{Status: a.Status, Error: a.Err, Duration: a.Duration, OK: a.OK(), Retry: a.Retry, RetryAfter: a.RetryAfter}
		if a.Status == 0 && a.Err != "" {
			// No answer: the log keeps the kind of failure, not the dial's
			// own words (addresses, ports). A refused address stays refused.
			r.Error = cmp.Or(n.err, ErrConnection)
			r.Retry = r.Retry && n.err != ErrBlocked
		}
		return r
	case "slack":
		return d.slack(ctx, m)
	case "email":
		if d.SMTP == nil {
			return baton.DeliveryResult{Error: "email is not configured (baton serve --smtp-host)"}
		}
		var p struct {
			Subject string `json:"subject"`
			Text    string `json:"text"`
		}
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			return baton.DeliveryResult{Error: "bad payload: " + err.Error()}
		}
		start := time.Now()
		err := d.SMTP.Send(ctx, notify.Email{To: []string{m.Target}, Subject: p.Subject, Text: p.Text, MessageID: fmt.Sprintf("outbox-%d@baton", m.ID)})
		if err != nil {
			return baton.DeliveryResult{Error: err.Error(), Duration: time.Since(start), Retry: notify.IsTemporary(err)}
		}
		return baton.DeliveryResult{OK: true, Duration: time.Since(start)}
	}
	return baton.DeliveryResult{Error: "unknown channel " + m.Channel}
}

// slack posts a note to a Slack channel as a Block Kit message, through the
// same guarded client as webhooks. Its accept link is signed now, so that a
// message sent late still gets a link that works for its whole life.
func (d *Deliverer) slack(ctx context.Context, m baton.OutboxMessage) baton.DeliveryResult {
	id, _ := strconv.ParseInt(m.Target, 10, 64)
	c, err := d.Outbox.SlackChannelURL(ctx, id)
	if err != nil {
		return baton.DeliveryResult{Error: err.Error()}
	}
	if !c.Active {
		return baton.DeliveryResult{Error: "Slack channel turned off"}
	}
	if err := c.CheckTarget(d.AllowPrivate); err != nil {
		return baton.DeliveryResult{Error: ErrBlocked + ": " + baton.ErrorMessage(err)}
	}
	var n baton.SlackNote
	if err := json.Unmarshal(m.Payload, &n); err != nil {
		return baton.DeliveryResult{Error: "bad payload: " + err.Error()}
	}
	var links notify.SlackLinks
	if base := strings.TrimRight(d.PublicURL, "/"); base != "" {
		links.Lead = fmt.Sprintf("%s/leads/%d", base, n.LeadID)
		if n.AcceptFor != 0 && n.HandoffID != 0 {
			key, err := d.Outbox.AcceptLinkKey(ctx)
			if err != nil {
				return baton.DeliveryResult{Error: err.Error(), Retry: true}
			}
			now := time.Now
			if d.Now != nil {
				now = d.Now
			}
			ttl := cmp.Or(d.AcceptLinkTTL, baton.DefaultAcceptLinkTTL)
			token := baton.AcceptLink{LeadID: n.LeadID, HandoffID: n.HandoffID, UserID: n.AcceptFor, Expires: now().Add(ttl)}.Sign(key)
			links.Accept = links.Lead + "?accept=" + token
		}
	}
	body, err := notify.SlackMessage(n, links)
	if err != nil {
		return baton.DeliveryResult{Error: err.Error()}
	}
	sctx, note := withNote(ctx)
	a := d.webhookSender().PostJSON(sctx, c.URL, body)
	r := baton.DeliveryResult{Status: a.Status, Error: a.Err, Duration: a.Duration, OK: a.OK(), Retry: a.Retry, RetryAfter: a.RetryAfter}
	if a.Status == 0 && a.Err != "" {
		r.Error = cmp.Or(note.err, ErrConnection)
		r.Retry = r.Retry && note.err != ErrBlocked
	} else if !r.OK && a.Response != "" {
		// Slack says what is wrong in a word: no_service, invalid_blocks.
		r.Error += ": " + clip(strings.TrimSpace(a.Response), 100)
	}
	return r
}

// clip cuts s to at most n bytes, never inside a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// webhookSender returns the Sender of webhooks: Webhook's settings with the
// Deliverer's own client.
func (d *Deliverer) webhookSender() *notify.Sender {
	d.once.Do(func() {
		s := notify.Sender{}
		if d.Webhook != nil {
			s = *d.Webhook
		}
		s.Client = newClient(d.AllowPrivate, d.Resolver)
		d.sender = &s
	})
	return d.sender
}

// byteSecrets are the secrets as HMAC keys.
func byteSecrets(ss []string) [][]byte {
	var out [][]byte
	for _, s := range ss {
		out = append(out, []byte(s))
	}
	return out
}
