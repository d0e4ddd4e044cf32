package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// The webhook routes serve the admin's webhooks page as JSON, with its
// rules: storage refuses anyone but an admin, applies the operator's rule
// for where a webhook may point (https to public addresses unless baton
// serve --webhook-allow-private), makes the secret and audits every change.
// As on the page, Baton makes the secret: a body that brings one is refused.

// webhookInput is the body of POST /api/v1/webhooks.
type webhookInput struct {
	// URL is the receiver's endpoint: https, to a public address.
	URL string `json:"url"`
	// Events are the events to send (baton.WebhookEvents), or ["*"] (or
	// none) for all.
	Events []string `json:"events,omitempty"`
}

// webhookUpdate is the body of PATCH /api/v1/webhooks/{id}.
type webhookUpdate struct {
	// Active false disables the webhook: nothing more is sent to it, and
	// messages queued for it fail as "webhook turned off". True enables it.
	Active *bool `json:"active"`
}

// rotateInput is the optional body of POST /api/v1/webhooks/{id}/rotate.
type rotateInput struct {
	// Grace is how long the old secret still signs beside the new one, as
	// a Go duration ("24h", "90m"); empty for 24h, at most 30 days.
	Grace string `json:"grace,omitempty"`
}

// rotateResult is the answer of a rotation; its secret is shown only here.
type rotateResult struct {
	ID     int64  `json:"id"`
	Secret string `json:"secret"`
	// Grace is how long the old secret still signs, as a Go duration.
	Grace string `json:"grace"`
}

// outbox returns the webhook service, or not found where none is served.
func (s *Server) outbox() (baton.OutboxService, error) {
	if s.svc.Outbox == nil {
		return nil, baton.Errorf(baton.ENOTFOUND, "webhooks are not served here")
	}
	return s.svc.Outbox, nil
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	o, err := s.outbox()
	if err != nil {
		return err
	}
	hooks, err := o.FindWebhooks(r.Context())
	if err != nil {
		return err
	}
	writeList(w, hooks, len(hooks))
	return nil
}

// createWebhook registers an endpoint; the answer carries the secret Baton
// made for it, this once.
func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	o, err := s.outbox()
	if err != nil {
		return err
	}
	var in webhookInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	hook := &baton.Webhook{URL: strings.TrimSpace(in.URL), Events: in.Events}
	if err := o.CreateWebhook(r.Context(), hook); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, hook)
	return nil
}

// findWebhook returns the webhook of the path's id.
func (s *Server) findWebhook(r *http.Request) (*baton.Webhook, error) {
	o, err := s.outbox()
	if err != nil {
		return nil, err
	}
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	hooks, err := o.FindWebhooks(r.Context())
	if err != nil {
		return nil, err
	}
	for _, h := range hooks {
		if h.ID == id {
			return h, nil
		}
	}
	return nil, baton.Errorf(baton.ENOTFOUND, "no webhook %d", id)
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) error {
	h, err := s.findWebhook(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

// updateWebhook disables or enables a webhook.
func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	o, err := s.outbox()
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in webhookUpdate
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Active == nil {
		return baton.FieldError("active", "required: false to disable the webhook, true to enable it")
	}
	if err := o.SetWebhookActive(r.Context(), id, *in.Active); err != nil {
		return err
	}
	h, err := s.findWebhook(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

// rotateWebhook gives a webhook a new secret, shown in this answer only;
// the old one still signs beside it for the grace period.
func (s *Server) rotateWebhook(w http.ResponseWriter, r *http.Request) error {
	o, err := s.outbox()
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in rotateInput
	if body, err := readBody(w, r, maxBody); err != nil {
		return err
	} else if len(strings.TrimSpace(string(body))) > 0 {
		if err := decodeBytes(body, &in, ""); err != nil {
			return err
		}
	}
	grace := baton.DefaultSecretGrace
	if g := strings.TrimSpace(in.Grace); g != "" {
		if grace, err = time.ParseDuration(g); err != nil || grace <= 0 {
			return baton.FieldError("grace", "%q is not a duration such as 24h or 90m", g)
		}
	}
	secret, err := o.RotateWebhookSecret(r.Context(), id, grace)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rotateResult{ID: id, Secret: secret, Grace: grace.String()})
	return nil
}

// webhookDeliveries is a webhook's delivery log, newest first.
func (s *Server) webhookDeliveries(w http.ResponseWriter, r *http.Request) error {
	h, err := s.findWebhook(r)
	if err != nil {
		return err
	}
	q := newQuery(r)
	_, limit := q.page()
	if q.err != nil {
		return q.err
	}
	ds, err := s.svc.Outbox.Deliveries(r.Context(), baton.DeliveryFilter{Channel: "webhook", Target: strconv.FormatInt(h.ID, 10), Limit: limit})
	if err != nil {
		return err
	}
	writeList(w, ds, len(ds))
	return nil
}
