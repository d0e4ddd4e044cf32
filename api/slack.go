package api

import (
	"net/http"
	"strings"

	"github.com/batonhq/baton"
)

// The Slack routes manage the incoming webhooks that get the notifications
// of a team or of a user, with the rules of webhooks: admins only, the
// operator's rule for where a URL may point, the URL sealed and never shown
// again, every change audited by storage.

// slackInput is the body of POST /api/v1/slack-channels.
type slackInput struct {
	// URL is the Slack incoming webhook's address.
	URL string `json:"url"`
	// Team, or UserID: whose notifications the channel gets.
	Team   string `json:"team,omitempty"`
	UserID *int64 `json:"user_id,omitempty"`
}

func (s *Server) listSlackChannels(w http.ResponseWriter, r *http.Request) error {
	o, err := s.outbox()
	if err != nil {
		return err
	}
	cs, err := o.FindSlackChannels(r.Context())
	if err != nil {
		return err
	}
	writeList(w, cs, len(cs))
	return nil
}

func (s *Server) createSlackChannel(w http.ResponseWriter, r *http.Request) error {
	o, err := s.outbox()
	if err != nil {
		return err
	}
	var in slackInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	c := &baton.SlackChannel{URL: strings.TrimSpace(in.URL), Team: in.Team, UserID: in.UserID}
	if err := o.CreateSlackChannel(r.Context(), c); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

// updateSlackChannel turns a channel off or on.
func (s *Server) updateSlackChannel(w http.ResponseWriter, r *http.Request) error {
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
		return baton.FieldError("active", "required: false to turn the channel off, true to turn it on")
	}
	if err := o.SetSlackChannelActive(r.Context(), id, *in.Active); err != nil {
		return err
	}
	cs, err := o.FindSlackChannels(r.Context())
	if err != nil {
		return err
	}
	for _, c := range cs {
		if c.ID == id {
			writeJSON(w, http.StatusOK, c)
			return nil
		}
	}
	return baton.Errorf(baton.ENOTFOUND, "no Slack channel %d", id)
}
