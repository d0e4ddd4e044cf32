package web

import (
	"net/http"
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
}

func (s *Server) profileRoutes(mux *http.ServeMux) {
	mux.Handle("GET /profile", s.page(s.profile))
	mux.Handle("POST /profile/time-zone", s.page(s.setTimeZone))
}

func (s *Server) profile(w http.ResponseWriter, r *http.Request, c *session) error {
	s.renderProfile(w, r, c, http.StatusOK, nil)
	return nil
}

func (s *Server) renderProfile(w http.ResponseWriter, r *http.Request, c *session, status int, fe *formErr) {
	d := profilePage{Zones: zones, Own: c.User.TimeZone, Effective: zoneName(c.Loc, s.now()), Now: s.now()}
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
