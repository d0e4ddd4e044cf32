package web

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/batonhq/baton"
)

// zones are the time zones the profile page suggests; any IANA name is
// accepted.
var zones = []string{"UTC", "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Paris", "Europe/Berlin", "Europe/Madrid",
	"Europe/Rome", "Europe/Amsterdam", "Europe/Zurich", "Europe/Stockholm", "Europe/Warsaw", "Europe/Athens", "Europe/Istanbul",
	"Africa/Johannesburg", "Africa/Lagos", "Africa/Cairo", "Asia/Dubai", "Asia/Kolkata", "Asia/Singapore", "Asia/Shanghai",
	"Asia/Tokyo", "Australia/Sydney", "Pacific/Auckland", "America/Sao_Paulo", "America/Mexico_City", "America/New_York",
	"America/Chicago", "America/Denver", "America/Los_Angeles", "America/Toronto"}

// profilePage is the data of the profile page.
type profilePage struct {
	Zones []string
	// Effective is the zone dates are written in now, and Own the one set
	// by the user ("" when it follows their calendar).
	Effective, Own string
	Now            time.Time
	// Idle is how long a session lasts without a page, in words.
	Idle string
}

func (s *Server) profileRoutes(mux *http.ServeMux) {
	mux.Handle("GET /profile", s.page(s.profile))
	mux.Handle("POST /profile/time-zone", s.page(s.setTimeZone))
	mux.Handle("POST /profile/password", s.page(s.changePassword))
	mux.Handle("POST /profile/sign-out-everywhere", s.page(s.signOutEverywhere))
}

// changePassword changes the user's own password, given the current one.
// It ends every session of theirs, this one too: they sign in again with
// the new password.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, c *session) error {
	f := r.PostForm
	if f.Get("password") != f.Get("password2") {
		s.renderProfile(w, r, c, http.StatusBadRequest, newFormErr("password", 0, baton.FieldError("password2", "is not the new password again: type the same twice"), url.Values{}))
		return nil
	}
	err := s.auth.ChangePassword(r.Context(), f.Get("current_password"), f.Get("password"), f.Get("keep_tokens") != "")
	if baton.ErrorCode(err) == baton.EINVALID {
		s.renderProfile(w, r, c, http.StatusBadRequest, newFormErr("password", 0, err, url.Values{})) // passwords are never shown again
		return nil
	} else if err != nil {
		return err
	}
	s.setCookie(w, r, sessionCookie, "", -1)
	redirect(w, r, "/signin", "passwordchanged")
	return nil
}

// signOutEverywhere ends every session of the user, on every device.
func (s *Server) signOutEverywhere(w http.ResponseWriter, r *http.Request, c *session) error {
	if err := s.auth.EndSessions(r.Context()); err != nil {
		return err
	}
	s.setCookie(w, r, sessionCookie, "", -1)
	redirect(w, r, "/signin", "signedouteverywhere")
	return nil
}

func (s *Server) profile(w http.ResponseWriter, r *http.Request, c *session) error {
	s.renderProfile(w, r, c, http.StatusOK, nil)
	return nil
}

func (s *Server) renderProfile(w http.ResponseWriter, r *http.Request, c *session, status int, fe *formErr) {
	d := profilePage{Zones: zones, Own: c.User.TimeZone, Effective: zoneName(c.Loc, s.now()), Now: s.now(), Idle: durationWords(s.sessionIdle())}
	s.render(w, r, c, status, "profile", "Your profile", d, fe)
}

// setTimeZone sets the zone the user reads dates in ("" follows their
// working calendar).
func (s *Server) setTimeZone(w http.ResponseWriter, r *http.Request, c *session) error {
	if _, err := s.svc.Users.SetTimeZone(r.Context(), c.User.ID, r.PostForm.Get("time_zone")); err != nil {
		if baton.ErrorCode(err) == baton.EINVALID {
			s.renderProfile(w, r, c, http.StatusBadRequest, newFormErr("profile", 0, err, r.PostForm))
			return nil
		}
		return err
	}
	redirect(w, r, "/profile", "zone")
	return nil
}

// sessionIdle is how long a session lasts without a page: the Server's
// SessionIdle, or the store's default of an hour.
func (s *Server) sessionIdle() time.Duration {
	if s.SessionIdle > 0 {
		return s.SessionIdle
	}
	return time.Hour
}

// durationWords writes a duration of whole minutes in words: "1 hour",
// "90 minutes".
func durationWords(d time.Duration) string {
	switch {
	case d == time.Hour:
		return "an hour"
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return fmt.Sprintf("%d minutes", d/time.Minute)
}
