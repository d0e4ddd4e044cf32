package web

import (
	"context"
	"net/http"
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
}

// adminWebhooks lists the webhooks, a form to add one, and the latest
// delivery attempts.
func (s *Server) adminWebhooks(w http.ResponseWriter, r *http.Request, c *session) error {
	return s.renderWebhooks(w, r, c, http.StatusOK, nil)
}

func (s *Server) renderWebhooks(w http.ResponseWriter, r *http.Request, c *session, status int, fe *formErr) error {
	if s.svc.Outbox == nil {
		return baton.Errorf(baton.ENOTFOUND, "webhooks are not available here")
	}
	ws, err := s.svc.Outbox.FindWebhooks(r.Context())
	if err != nil {
		return err
	}
	ds, err := s.svc.Outbox.Deliveries(r.Context(), 100)
	if err != nil {
		return err
	}
	s.render(w, r, c, status, "webhooks", "Webhooks", webhooksPage{Webhooks: ws, Deliveries: ds, Events: baton.WebhookEvents}, fe)
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
	hook := &baton.Webhook{URL: strings.TrimSpace(r.PostForm.Get("url")), Secret: r.PostForm.Get("secret"), Events: events}
	if err := s.svc.Outbox.CreateWebhook(r.Context(), hook); err != nil {
		if baton.ErrorCode(err) != baton.EINVALID {
			return err
		}
		r.PostForm.Del("secret")
		return s.renderWebhooks(w, r, c, statusFor(err), newFormErr("webhook", 0, err, r.PostForm))
	}
	redirect(w, r, "/admin/webhooks", "webhook")
	return nil
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

type calendarRow struct {
	Team, Body string
}

type calendarsPage struct {
	Calendars []calendarRow
	Teams     []string
}

// adminCalendars lists the teams' working calendars with a form to set one.
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
	seen := map[string]bool{"*": true}
	d.Teams = []string{"*"}
	var reps []string
	for _, u := range users {
		if u.Team != "" && !seen[u.Team] {
			seen[u.Team] = true
			d.Teams = append(d.Teams, u.Team)
		}
		// A rep may have hours of their own, over their team's.
		if u.Role.Rep() && u.Active {
			reps = append(reps, baton.UserCalendarPrefix+u.Email)
		}
	}
	sort.Strings(reps)
	d.Teams = append(d.Teams, reps...)
	s.render(w, r, c, status, "calendars", "Working calendars", d, fe)
	return nil
}

// setCalendar stores a team's working calendar.
func (s *Server) setCalendar(w http.ResponseWriter, r *http.Request, c *session) error {
	if s.svc.Calendars == nil {
		return baton.Errorf(baton.ENOTFOUND, "calendars are not available here")
	}
	err := s.svc.Calendars.SetCalendar(r.Context(), strings.TrimSpace(r.PostForm.Get("team")), []byte(r.PostForm.Get("body")))
	if err != nil {
		if baton.ErrorCode(err) != baton.EINVALID {
			return err
		}
		return s.renderCalendars(w, r, c, statusFor(err), newFormErr("calendar", 0, calendarField(err), r.PostForm))
	}
	redirect(w, r, "/admin/calendars", "calendar")
	return nil
}

// calendarField shows a calendar's own field errors (time_zone, hours.mon,
// ...) next to the document they are in.
func calendarField(err error) error {
	if f := baton.ErrorField(err); f != "team" {
		return baton.FieldError("body", "%s: %s", f, baton.ErrorMessage(err))
	}
	return err
}

// updateUser changes a user's role, team and manager (admins).
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, c *session) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	role := baton.Role(r.PostForm.Get("role"))
	team := strings.TrimSpace(r.PostForm.Get("team"))
	upd := baton.UserUpdate{Role: &role, Team: &team, Territory: &team}
	if m := r.PostForm.Get("manager_id"); m != "" {
		mid, perr := strconv.ParseInt(m, 10, 64)
		if perr != nil {
			return baton.FieldError("manager_id", "choose a manager")
		}
		upd.ManagerID = &mid
	}
	if _, err := s.svc.Users.UpdateUser(r.Context(), id, upd); err != nil {
		if baton.ErrorCode(err) != baton.EINVALID {
			return err
		}
		return s.renderUsers(w, r, c, statusFor(err), newFormErr("user", id, err, r.PostForm))
	}
	redirect(w, r, "/admin/users", "user")
	return nil
}
