package web

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/batonhq/baton"
)

// Calendars reads and sets teams' working calendars; *store.DB implements it.
type Calendars interface {
	Calendars(ctx context.Context) (map[string]string, error)
	SetCalendar(ctx context.Context, team string, body []byte) error
}

type webhooksPage struct {
	Webhooks   []*baton.Webhook
	Deliveries []baton.DeliveryAttempt
	Events     []string
	// Secret is the signing secret Baton just made for webhook SecretFor
	// (created or rotated), shown this once.
	Secret    string
	SecretFor int64
	Rotated   bool
	// Slack are the Slack channels; Users whom a channel may be for, by
	// name, and Names every user's name by id.
	Slack []*baton.SlackChannel
	Users []*baton.User
	Names map[int64]string
}

// adminWebhooks lists the webhooks, a form to add one, and the latest
// delivery attempts.
func (s *Server) adminWebhooks(w http.ResponseWriter, r *http.Request, c *session) error {
	return s.renderWebhooks(w, r, c, http.StatusOK, nil)
}

func (s *Server) renderWebhooks(w http.ResponseWriter, r *http.Request, c *session, status int, fe *formErr) error {
	return s.renderWebhooksWith(w, r, c, status, fe, webhooksPage{})
}

// renderWebhooksWith is renderWebhooks with a secret to show once.
func (s *Server) renderWebhooksWith(w http.ResponseWriter, r *http.Request, c *session, status int, fe *formErr, d webhooksPage) error {
	if s.svc.Outbox == nil {
		return baton.Errorf(baton.ENOTFOUND, "webhooks are not available here")
	}
	ws, err := s.svc.Outbox.FindWebhooks(r.Context())
	if err != nil {
		return err
	}
	ds, err := s.svc.Outbox.Deliveries(r.Context(), baton.DeliveryFilter{Limit: 100})
	if err != nil {
		return err
	}
	d.Webhooks, d.Deliveries, d.Events = ws, ds, baton.WebhookEvents
	if d.Slack, err = s.svc.Outbox.FindSlackChannels(r.Context()); err != nil {
		return err
	}
	users, err := s.userNames(r.Context())
	if err != nil {
		return err
	}
	d.Names = map[int64]string{}
	for _, u := range users {
		d.Names[u.ID] = u.Name
		if u.Active {
			d.Users = append(d.Users, u)
		}
	}
	sort.Slice(d.Users, func(i, j int) bool { return d.Users[i].Name < d.Users[j].Name })
	s.render(w, r, c, status, "webhooks", "Webhooks", d, fe)
	return nil
}

// createWebhook registers an endpoint.
func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, c *session) error {
	if s.svc.Outbox == nil {
		return baton.Errorf(baton.ENOTFOUND, "webhooks are not available here")
	}
	events := r.PostForm["events"]
	if len(events) == 0 {
		events = []string{"*"}
	}
	hook := &baton.Webhook{URL: strings.TrimSpace(r.PostForm.Get("url")), Events: events}
	if err := s.svc.Outbox.CreateWebhook(r.Context(), hook); err != nil {
		if baton.ErrorCode(err) != baton.EINVALID {
			return err
		}
		return s.renderWebhooks(w, r, c, statusFor(err), newFormErr("webhook", 0, err, r.PostForm))
	}
	// The secret Baton made, shown on this answer only (not after a
	// redirect, whose address could be kept).
	return s.renderWebhooksWith(w, r, c, http.StatusOK, nil, webhooksPage{Secret: hook.Secret, SecretFor: hook.ID})
}

// rotateWebhookSecret gives a webhook a new secret and shows it once; the
// old one still signs for baton.DefaultSecretGrace.
func (s *Server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request, c *session) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	secret, err := s.svc.Outbox.RotateWebhookSecret(r.Context(), id, 0)
	if err != nil {
		return err
	}
	return s.renderWebhooksWith(w, r, c, http.StatusOK, nil, webhooksPage{Secret: secret, SecretFor: id, Rotated: true})
}

// toggleWebhook turns a webhook on or off.
func (s *Server) toggleWebhook(w http.ResponseWriter, r *http.Request, c *session) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.svc.Outbox.SetWebhookActive(r.Context(), id, r.PostForm.Get("active") == "true"); err != nil {
		return err
	}
	redirect(w, r, "/admin/webhooks", "webhook")
	return nil
}

// createSlackChannel adds a Slack incoming webhook for a team or a user.
func (s *Server) createSlackChannel(w http.ResponseWriter, r *http.Request, c *session) error {
	if s.svc.Outbox == nil {
		return baton.Errorf(baton.ENOTFOUND, "Slack channels are not available here")
	}
	ch := &baton.SlackChannel{URL: strings.TrimSpace(r.PostForm.Get("url"))}
	switch who := r.PostForm.Get("for"); {
	case who == "team":
		ch.Team = r.PostForm.Get("team")
	case strings.HasPrefix(who, "user:"):
		id, err := strconv.ParseInt(strings.TrimPrefix(who, "user:"), 10, 64)
		if err != nil {
			return s.renderWebhooks(w, r, c, http.StatusBadRequest, newFormErr("slack", 0, baton.FieldError("for", "choose a team or a user"), r.PostForm))
		}
		ch.UserID = &id
	}
	if err := s.svc.Outbox.CreateSlackChannel(r.Context(), ch); err != nil {
		if baton.ErrorCode(err) != baton.EINVALID {
			return err
		}
		// The URL is a secret: a refused form does not show it again.
		r.PostForm.Del("url")
		return s.renderWebhooks(w, r, c, statusFor(err), newFormErr("slack", 0, err, r.PostForm))
	}
	redirect(w, r, "/admin/webhooks", "slack")
	return nil
}

// toggleSlackChannel turns a Slack channel on or off.
func (s *Server) toggleSlackChannel(w http.ResponseWriter, r *http.Request, c *session) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.svc.Outbox.SetSlackChannelActive(r.Context(), id, r.PostForm.Get("active") == "true"); err != nil {
		return err
	}
	redirect(w, r, "/admin/webhooks", "slack")
	return nil
}

type calendarRow struct {
	Team, Body string
}

type calendarsPage struct {
	Calendars []calendarRow
	// Teams are the names a calendar may be set for: DefaultTeam, the
	// teams, the reps' own.
	Teams []string
	// Team is the one the form is for and Body its document: what a
	// refused form sent, or the calendar chosen to edit.
	Team, Body string
}

// DefaultTeam names the default calendar, that of every team without one.
const DefaultTeam = "*"

// adminCalendars lists the teams' working calendars with a form to set one;
// ?team= fills the form with that team's calendar, to edit it.
func (s *Server) adminCalendars(w http.ResponseWriter, r *http.Request, c *session) error {
	return s.renderCalendars(w, r, c, http.StatusOK, nil)
}

func (s *Server) renderCalendars(w http.ResponseWriter, r *http.Request, c *session, status int, fe *formErr) error {
	if s.svc.Calendars == nil {
		return baton.Errorf(baton.ENOTFOUND, "calendars are not available here")
	}
	cals, err := s.svc.Calendars.Calendars(r.Context())
	if err != nil {
		return err
	}
	d := calendarsPage{}
	for team, body := range cals {
		d.Calendars = append(d.Calendars, calendarRow{team, body})
	}
	sort.Slice(d.Calendars, func(i, j int) bool { return d.Calendars[i].Team < d.Calendars[j].Team })
	users, _, err := s.svc.Users.FindUsers(r.Context(), baton.UserFilter{Limit: 1000})
	if err != nil {
		return err
	}
	seen := map[string]bool{DefaultTeam: true}
	d.Teams = []string{DefaultTeam}
	var teams, reps []string
	for _, u := range users {
		if u.Team != "" && !seen[u.Team] {
			seen[u.Team] = true
			teams = append(teams, u.Team)
		}
		// A rep may have hours of their own, over their team's.
		if u.Role.Rep() && u.Active {
			reps = append(reps, baton.UserCalendarPrefix+u.Email)
		}
	}
	sort.Strings(teams)
	sort.Strings(reps)
	d.Teams = append(append(d.Teams, teams...), reps...)
	// The form keeps the team it was sent for: an error never turns it into
	// the default, for the next save to overwrite.
	if fe != nil {
		d.Team, d.Body = strings.TrimSpace(fe.Values.Get("team")), fe.Values.Get("body")
	} else if team := r.URL.Query().Get("team"); team != "" {
		d.Team, d.Body = team, cals[team]
	}
	if d.Team != "" && !slices.Contains(d.Teams, d.Team) {
		d.Teams = append(d.Teams, d.Team)
	}
	s.render(w, r, c, status, "calendars", "Working calendars", d, fe)
	return nil
}

// setCalendar stores a team's working calendar. The default one (team
// DefaultTeam) is replaced only with its box ticked, so that it is never
// overwritten by a save meant for a team.
func (s *Server) setCalendar(w http.ResponseWriter, r *http.Request, c *session) error {
	if s.svc.Calendars == nil {
		return baton.Errorf(baton.ENOTFOUND, "calendars are not available here")
	}
	team := strings.TrimSpace(r.PostForm.Get("team"))
	var err error
	if team == DefaultTeam && r.PostForm.Get("confirm_default") != "yes" {
		err = baton.FieldError("confirm_default", "%s is the default calendar of every team without its own: tick the box to replace it", DefaultTeam)
	} else {
		err = s.svc.Calendars.SetCalendar(r.Context(), team, []byte(r.PostForm.Get("body")))
	}
	if err != nil {
		if baton.ErrorCode(err) != baton.EINVALID {
			return err
		}
		return s.renderCalendars(w, r, c, statusFor(err), newFormErr("calendar", 0, calendarField(err), r.PostForm))
	}
	redirect(w, r, "/admin/calendars", "calendar")
	return nil
}

// calendarField shows a calendar's own errors (a line and column, a field
// such as time_zone or hours.mon) next to the document they are in.
func calendarField(err error) error {
	switch f := baton.ErrorField(err); f {
	case "team", "confirm_default":
		return err
	case "":
		return baton.FieldError("body", "%s", baton.ErrorMessage(err))
	default:
		return baton.FieldError("body", "%s: %s", f, baton.ErrorMessage(err))
	}
}
