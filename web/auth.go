package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// signinPage is the data of the sign-in form.
type signinPage struct {
	Email, Next, Token, Error string
}

// safeNext returns next if it is a path on this site, "/" otherwise, so
// that the sign-in form cannot send anyone elsewhere: it must parse as a
// URL with no scheme and no host, begin with exactly one slash, and hold no
// control character (a browser drops a tab or a newline, so "/<TAB>/x"
// would become "//x", another site) and no backslash (which browsers read
// as a slash).
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsRune(next, '\\') {
		return "/"
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return next
}

func newToken() string {
	var b [24]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// signinForm shows the sign-in form. Its CSRF token is a double-submit
// cookie: there is no session yet to keep it in.
func (s *Server) signinForm(w http.ResponseWriter, r *http.Request) {
	if c, err := s.session(r); err == nil && c != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	token := newToken()
	s.setCookie(w, r, signinCookie, token, 3600)
	s.render(w, r, nil, http.StatusOK, "signin", "Sign in", signinPage{Next: safeNext(r.URL.Query().Get("next")), Token: token})
}

// signin checks the email and password, starts a session and goes on to
// the page asked for.
func (s *Server) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, nil, baton.Errorf(baton.EINVALID, "the form could not be read"))
		return
	}
	ck, err := s.cookie(r, signinCookie)
	if err != nil || ck.Value == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostForm.Get("csrf"))) != 1 {
		s.fail(w, r, nil, baton.Errorf(baton.EFORBIDDEN, "the sign-in form has expired or was not sent from this site: reload the page and try again"))
		return
	}
	email, next := strings.TrimSpace(r.PostForm.Get("email")), safeNext(r.PostForm.Get("next"))
	u, err := s.auth.CheckPassword(r.Context(), email, r.PostForm.Get("password"), clientAddr(r))
	if err != nil {
		if baton.ErrorCode(err) == baton.EINTERNAL {
			s.fail(w, r, nil, err)
			return
		}
		setRetryAfter(w, err)
		s.render(w, r, nil, statusFor(err), "signin", "Sign in",
			signinPage{Email: email, Next: next, Token: ck.Value, Error: baton.ErrorMessage(err)})
		return
	}
	token, _, err := s.auth.CreateSession(r.Context(), u.ID)
	if err != nil {
		s.fail(w, r, nil, err)
		return
	}
	s.setCookie(w, r, sessionCookie, token, 12*3600)
	s.setCookie(w, r, signinCookie, "", -1)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// clientAddr is the address sign-in failures are throttled by: the
// connection's peer, or, when the peer is this machine (a reverse proxy in
// front of Baton), the last address in X-Forwarded-For, the one that proxy
// saw. A header from any other peer is ignored: a client could write any
// address there and earn fresh tries with each.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !peer.Unmap().IsLoopback() {
		return host
	}
	fwd := r.Header.Values("X-Forwarded-For")
	if len(fwd) == 0 {
		return host
	}
	list := strings.Split(fwd[len(fwd)-1], ",")
	if a, err := netip.ParseAddr(strings.TrimSpace(list[len(list)-1])); err == nil {
		return a.String()
	}
	return host
}

// setRetryAfter tells a client refused for now (an error with a
// RetryAfter method: a throttled sign-in) how many seconds to wait.
func setRetryAfter(w http.ResponseWriter, err error) {
	var re interface{ RetryAfter() time.Duration }
	if !errors.As(err, &re) {
		return
	}
	secs := max(1, int((re.RetryAfter()+time.Second-1)/time.Second))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
}

// signout ends the session.
func (s *Server) signout(w http.ResponseWriter, r *http.Request, c *session) error {
	if ck, err := s.cookie(r, sessionCookie); err == nil {
		if err := s.auth.DeleteSession(r.Context(), ck.Value); err != nil {
			return err
		}
	}
	s.setCookie(w, r, sessionCookie, "", -1)
	redirect(w, r, "/signin", "signedout")
	return nil
}

// home sends each role to its daily page.
func (s *Server) home(w http.ResponseWriter, r *http.Request, c *session) error {
	to := "/inbox"
	switch c.User.Role {
	case baton.RoleManager:
		to = "/team"
	case baton.RoleMarketing:
		to = "/policy"
	case baton.RoleAdmin:
		to = "/admin/users"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}
