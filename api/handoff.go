package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// The handoff: accept, reject, attempts, qualification, the AE's answer,
// conversion, closing, assignment, claims, the queue, the SLA records and
// the inbox. Storage decides who may do what (baton.HandoffService); the
// handlers read the input and map the answers.

// attemptInput is the body that logs a contact attempt: the writable
// fields of baton.Attempt. A missing at means now.
type attemptInput struct {
	Channel string     `json:"channel"`
	Outcome string     `json:"outcome"`
	At      *time.Time `json:"at,omitempty"`
	Note    string     `json:"note,omitempty"`
}

// sendBackInput is the AE's reason for sending an SQL back, or returning
// it to nurture.
type sendBackInput struct {
	Reason string `json:"reason"`
}

// assignInput gives a lead to another rep.
type assignInput struct {
	UserID int64  `json:"user_id"`
	Note   string `json:"note,omitempty"`
}

// idempotencyHeader makes a retried conversion return the first one's
// opportunity.
const idempotencyHeader = "Idempotency-Key"

// maxIdempotencyKey is the longest key accepted, in bytes.
const maxIdempotencyKey = 255

// queueSorts are the orders of the queue.
var queueSorts = []string{"deadline", "probability", "fit"}

// handoff wraps a handler of the handoff: a server made without a
// HandoffService answers its routes with an internal error, logged.
func handoff(h func(*Server, http.ResponseWriter, *http.Request) error) func(*Server, http.ResponseWriter, *http.Request) error {
	return func(s *Server, w http.ResponseWriter, r *http.Request) error {
		if s.svc.Handoffs == nil {
			return baton.Errorf(baton.EINTERNAL, "api: no HandoffService in api.Services")
		}
		return h(s, w, r)
	}
}

// leadAction runs an action on the lead of the path that answers the lead.
func (s *Server) leadAction(w http.ResponseWriter, r *http.Request, do func(id int64) (*baton.Lead, error)) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	l, err := do(id)
	if err != nil {
		return err
	}
	return s.writeLead(w, r, http.StatusOK, l)
}

func (s *Server) acceptLead(w http.ResponseWriter, r *http.Request) error {
	return s.leadAction(w, r, func(id int64) (*baton.Lead, error) {
		return s.svc.Handoffs.Accept(r.Context(), id)
	})
}

func (s *Server) rejectLead(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in baton.Rejection
	if err := decode(w, r, &in); err != nil {
		return err
	}
	l, err := s.svc.Handoffs.Reject(r.Context(), id, in)
	if err != nil {
		return err
	}
	return s.writeLead(w, r, http.StatusOK, l)
}

func (s *Server) logAttempt(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in attemptInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	a := &baton.Attempt{Channel: strings.TrimSpace(in.Channel), Outcome: in.Outcome, Note: in.Note}
	if in.At != nil {
		a.At = in.At.UTC()
	}
	if err := s.svc.Handoffs.LogAttempt(r.Context(), id, a); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a)
	return nil
}

func (s *Server) listAttempts(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	items, err := s.svc.Handoffs.Attempts(r.Context(), id)
	if err != nil {
		return err
	}
	writeList(w, items, len(items))
	return nil
}

func (s *Server) qualifyLead(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in baton.BANT
	if err := decode(w, r, &in); err != nil {
		return err
	}
	l, err := s.svc.Handoffs.Qualify(r.Context(), id, in)
	if err != nil {
		return err
	}
	return s.writeLead(w, r, http.StatusOK, l)
}

func (s *Server) sendBackLead(w http.ResponseWriter, r *http.Request) error {
	return s.withReason(w, r, s.svc.Handoffs.SendBack)
}

func (s *Server) recycleLead(w http.ResponseWriter, r *http.Request) error {
	return s.withReason(w, r, s.svc.Handoffs.Recycle)
}

// withReason runs a move whose body is a reason on the lead of the path.
func (s *Server) withReason(w http.ResponseWriter, r *http.Request, move func(context.Context, int64, string) (*baton.Lead, error)) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in sendBackInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	l, err := move(r.Context(), id, strings.TrimSpace(in.Reason))
	if err != nil {
		return err
	}
	return s.writeLead(w, r, http.StatusOK, l)
}

// idempotencyKey reads the request's Idempotency-Key.
func idempotencyKey(r *http.Request) (string, error) {
	key := strings.TrimSpace(r.Header.Get(idempotencyHeader))
	if len(key) > maxIdempotencyKey {
		return "", baton.FieldError(idempotencyHeader, "at most %d bytes", maxIdempotencyKey)
	}
	return key, nil
}

// convertLead makes an SQL an opportunity: 201 the first time, 200 with the
// same opportunity on a retry with the same Idempotency-Key.
func (s *Server) convertLead(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	key, err := idempotencyKey(r)
	if err != nil {
		return err
	}
	var in baton.ConvertInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	in.IdempotencyKey = key
	o, created, err := s.svc.Handoffs.Convert(r.Context(), id, in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, o)
	return nil
}

func (s *Server) closeLead(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in baton.CloseInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	l, err := s.svc.Handoffs.CloseLead(r.Context(), id, in)
	if err != nil {
		return err
	}
	return s.writeLead(w, r, http.StatusOK, l)
}

func (s *Server) assignLead(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in assignInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.UserID <= 0 {
		return baton.FieldError("user_id", "required: the id of the rep to give the lead to")
	}
	l, err := s.svc.Handoffs.Assign(r.Context(), id, in.UserID, strings.TrimSpace(in.Note))
	if err != nil {
		return err
	}
	return s.writeLead(w, r, http.StatusOK, l)
}

func (s *Server) claimLead(w http.ResponseWriter, r *http.Request) error {
	return s.leadAction(w, r, func(id int64) (*baton.Lead, error) {
		return s.svc.Handoffs.Claim(r.Context(), id)
	})
}

func (s *Server) leadHandoffs(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	items, err := s.svc.Handoffs.Handoffs(r.Context(), id)
	if err != nil {
		return err
	}
	writeList(w, items, len(items))
	return nil
}

func (s *Server) queue(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	sort := ""
	if v := q.str("sort"); v != nil {
		sort = *v // storage refuses an unknown order, naming the field
	}
	offset, limit := q.page()
	if q.err != nil {
		return q.err
	}
	items, total, err := s.svc.Handoffs.QueuePage(r.Context(), sort, offset, limit)
	if err != nil {
		return err
	}
	p, err := s.hiding(r.Context())
	if err != nil {
		return err
	}
	for i := range items {
		items[i].Lead = p.VisibleLead(items[i].Lead)
	}
	writeList(w, items, total)
	return nil
}

func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	unread := q.boolean("unread")
	limit := q.limit()
	if q.err != nil {
		return q.err
	}
	items, err := s.svc.Handoffs.Notifications(r.Context(), unread, limit)
	if err != nil {
		return err
	}
	writeList(w, items, len(items))
	return nil
}

func (s *Server) markRead(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.svc.Handoffs.MarkRead(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) staleSALs(w http.ResponseWriter, r *http.Request) error {
	items, err := s.svc.Handoffs.StaleSALs(r.Context())
	if err != nil {
		return err
	}
	writeList(w, items, len(items))
	return nil
}

// updateOpportunity changes some fields of an open opportunity; storage
// judges who may, as for the moves of its lead.
func (s *Server) updateOpportunity(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in baton.OpportunityUpdate
	if err := decode(w, r, &in); err != nil {
		return err
	}
	o, err := s.svc.Opportunities.UpdateOpportunity(r.Context(), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}
