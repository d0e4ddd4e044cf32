// Package web is Baton's HTML interface: every role's daily work in plain
// server-rendered pages (html/template, embedded with the static assets, no
// build step, no script needed). Forms post and redirect; charts are SVG
// drawn on the server; every list is paginated.
//
// Sign-in is by email and password (see Auth, implemented by *store.DB):
// the session token lives in an HttpOnly, SameSite=Lax cookie, and every
// form carries the session's CSRF token, checked on every POST, behind
// http.CrossOriginProtection as a second layer. The cookie is marked Secure
// when the request came over HTTPS (directly or, as a proxy says with
// X-Forwarded-Proto, through one) or when Server.SecureCookies is set; it is
// not otherwise, so that signing in over plain http://localhost works in
// every browser (some drop Secure cookies there). Behind a TLS proxy that
// does not send X-Forwarded-Proto, set SecureCookies.
//
// No script is served: every action is a form (one click to accept, a
// <details> disclosure for the reject reasons), which keeps the pages
// working without JavaScript and the Content-Security-Policy strict.
package web

import (
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/batonhq/baton"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Services are the storage services the pages use; *store.DB implements
// them all. Reports may be nil: the charts are then left out.
type Services struct {
	Users    baton.UserService
	Leads    baton.LeadService
	Accounts baton.AccountService
	Events   baton.EventService
	Handoffs baton.HandoffService
	Scoring  baton.ScoringService
	Reports  baton.ReportService
	// Outbox and Calendars serve the admin's webhooks and calendars pages
	// (nil: the pages are off).
	Outbox    baton.OutboxService
	Calendars Calendars
	// Health tells storage outages (a full disk) from bugs; optional.
	Health baton.HealthService
	// Audit serves the admin's audit log page (nil: the page is off).
	Audit baton.AuditService
}

// Auth signs users in and keeps their sessions; *store.DB implements it.
type Auth interface {
	// CheckPassword returns the active user with the email and password
	// signing in from the client address addr, or EUNAUTHORIZED; ETOOMANY
	// when failures from addr make it wait, or too many sign-ins run at
	// once (the error then has a RetryAfter() time.Duration method).
	CheckPassword(ctx context.Context, email, password, addr string) (*baton.User, error)
	// CreateSession starts a session and returns its token and CSRF token.
	CreateSession(ctx context.Context, userID int64) (token, csrf string, err error)
	// SessionUser returns the user and CSRF token of a live session, or EUNAUTHORIZED.
	SessionUser(ctx context.Context, token string) (*baton.User, string, error)
	// DeleteSession ends a session.
	DeleteSession(ctx context.Context, token string) error
	// SetPassword sets a user's password (the user themselves, or an admin).
	SetPassword(ctx context.Context, userID int64, password string) error
	// SetPasswordKeepTokens is SetPassword leaving the user's API tokens
	// working.
	SetPasswordKeepTokens(ctx context.Context, userID int64, password string) error
	// ChangePassword changes the actor's own password given their current
	// one (EINVALID on current_password otherwise), ending their sessions
	// and, unless keepTokens, revoking their API tokens.
	ChangePassword(ctx context.Context, current, next string, keepTokens bool) error
	// EndSessions ends every session of the actor ("sign out everywhere").
	EndSessions(ctx context.Context) error
	// UserZone is the zone the user reads dates in: theirs, else their
	// working calendar's, else UTC.
	UserZone(ctx context.Context, u *baton.User) *time.Location
}

// BANTReader is implemented by a HandoffService that can show a lead's
// BANT record (*store.DB does); the lead page shows it when it can.
type BANTReader interface {
	BANTOf(ctx context.Context, leadID int64) (*baton.BANT, error)
}

// Server serves the HTML pages. It holds no global state: make as many as
// needed. Set its exported fields before serving.
type Server struct {
	svc     Services
	auth    Auth
	logger  *slog.Logger
	pages   map[string]*template.Template
	handler http.Handler
	// zoned holds the pages bound to a viewer's zone (pageKey), made once
	// each: see pageIn.
	zoned sync.Map

	// Now is the clock of SLA countdowns (time.Now when nil). Tests share
	// the store's clock.
	Now func() time.Time
	// SecureCookies marks the session cookie Secure on every response, not
	// only on HTTPS requests.
	SecureCookies bool
	// SessionIdle is how long a session lasts without a page, as the
	// profile page tells it (an hour when 0: the store's default).
	SessionIdle time.Duration
}

// Cookie names.
const (
	sessionCookie = "baton_session"
	signinCookie  = "baton_signin" // double-submit token of the sign-in form
)

// New returns the UI server of the services, signing users in with auth and
// logging to logger (slog.Default() if nil).
func New(svc Services, auth Auth, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Server{svc: svc, auth: auth, logger: logger, pages: parsePages()}
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	fileServer := http.StripPrefix("/static/", http.FileServerFS(static))
	mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Files only: a directory's listing is nobody's business (and a
		// directory asked without its slash is redirected to it first).
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fileServer.ServeHTTP(w, r)
	}))
	mux.HandleFunc("GET /signin", s.signinForm)
	mux.HandleFunc("POST /signin", s.signin)
	s.routes(mux)
	s.adminRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c, _ := s.session(r) // a signed-in user keeps their header and menu
		s.fail(w, r, c, baton.Errorf(baton.ENOTFOUND, "there is no page %s", r.URL.Path))
	})
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, nil, baton.Errorf(baton.EFORBIDDEN, "this form was sent from another site: refused"))
	}))
	s.handler = s.recover(securityHeaders(cop.Handler(mux)))
	return s
}

// Handler returns the handler of every page, /static/ and /signin; mount it
// at "/" beside the API.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// securityHeaders sets the headers every page carries: no framing, no
// sniffing, scripts only from this origin, and no caching of private pages.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			hd.Set("Cache-Control", "no-store")
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) recover(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logger.ErrorContext(r.Context(), "panic serving page", slog.String("path", r.URL.Path),
					slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		h.ServeHTTP(w, r)
	})
}

// session is the signed-in user of a request.
type session struct {
	User *baton.User
	CSRF string
	// Loc is the zone the user reads dates in.
	Loc *time.Location
}

// handlerFunc is a page's handler; an error it returns is shown as a page.
type handlerFunc func(w http.ResponseWriter, r *http.Request, c *session) error

// page wraps a handler: the session is required (a GET without one goes to
// the sign-in page), the actor is put in the context, every POST must carry
// the session's CSRF token, and roles, when given, limit who may come.
func (s *Server) page(h handlerFunc, roles ...baton.Role) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := s.session(r)
		if err != nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.fail(w, r, nil, baton.Errorf(baton.EUNAUTHORIZED, "your session has ended: sign in again"))
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
			if err := r.ParseForm(); err != nil {
				s.fail(w, r, c, baton.Errorf(baton.EINVALID, "the form could not be read"))
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(c.CSRF)) != 1 {
				s.fail(w, r, c, baton.Errorf(baton.EFORBIDDEN, "this form has no valid security token (it may be from an old page): reload the page and try again"))
				return
			}
		}
		if len(roles) > 0 && !hasRole(c.User.Role, roles) {
			s.fail(w, r, c, baton.Errorf(baton.EFORBIDDEN, "this page is not for the %s role", c.User.Role))
			return
		}
		r = r.WithContext(baton.WithClientAddr(baton.WithActor(r.Context(), baton.ActorOf(c.User, "ui")), clientAddr(r)))
		if err := h(w, r, c); err != nil {
			s.fail(w, r, c, err)
		}
	})
}

func hasRole(r baton.Role, roles []baton.Role) bool {
	for _, x := range roles {
		if r == x {
			return true
		}
	}
	return false
}

// session returns the request's session, or EUNAUTHORIZED.
func (s *Server) session(r *http.Request) (*session, error) {
	ck, err := s.cookie(r, sessionCookie)
	if err != nil {
		return nil, baton.Errorf(baton.EUNAUTHORIZED, "not signed in")
	}
	u, csrf, err := s.auth.SessionUser(r.Context(), ck.Value)
	if err != nil {
		return nil, err
	}
	return &session{User: u, CSRF: csrf, Loc: s.auth.UserZone(r.Context(), u)}, nil
}

// secure reports whether cookies set in answer to r must be Secure.
func (s *Server) secure(r *http.Request) bool {
	return s.SecureCookies || r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// cookieName is the name of a cookie in answer to r: behind TLS it has the
// __Host- prefix, which browsers keep only for a Secure cookie of this
// host for every path, so that no other site or path can plant it.
func (s *Server) cookieName(r *http.Request, name string) string {
	if s.secure(r) {
		return "__Host-" + name
	}
	return name
}

// cookie returns the request's cookie of the name (cookieName).
func (s *Server) cookie(r *http.Request, name string) (*http.Cookie, error) {
	return r.Cookie(s.cookieName(r, name))
}

func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(r, name), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(r)})
}

// statusFor is the status of a page that shows err: baton's one table,
// shared with the API.
func statusFor(err error) int { return baton.HTTPStatus(err) }

// errorPage is the data of the error page.
type errorPage struct {
	Status  int
	Heading string
	Message string
}

// fail shows err as a page with its status. Internal errors are logged here
// and shown as "internal error".
func (s *Server) fail(w http.ResponseWriter, r *http.Request, c *session, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = baton.Errorf(baton.EINVALID, "the form is too large")
	}
	if baton.ErrorCode(err) == baton.EINTERNAL && s.svc.Health != nil {
		if o := s.svc.Health.Outage(err); o != nil {
			s.logger.WarnContext(r.Context(), "storage outage", slog.String("method", r.Method),
				slog.String("path", r.URL.Path), slog.Any("err", err))
			err = o
		}
	}
	status := statusFor(err)
	if status == http.StatusInternalServerError {
		s.logger.ErrorContext(r.Context(), "internal error", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Any("err", err))
	}
	heading := map[int]string{400: "That did not work", 401: "Please sign in", 403: "Not allowed",
		404: "Not found", 409: "Someone changed this first", 422: "That did not work", 500: "Something went wrong", 503: "Not now"}[status]
	s.render(w, r, c, status, "error", heading, errorPage{Status: status, Heading: heading, Message: baton.ErrorMessage(err)})
}

// redirect sends the browser on after a successful POST (303: the next
// request is a GET), with a message of the msgs table to show there.
func redirect(w http.ResponseWriter, r *http.Request, to, msg string) {
	if msg != "" {
		sep := "?"
		if strings.Contains(to, "?") {
			sep = "&"
		}
		to += sep + "msg=" + url.QueryEscape(msg)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// msgs are the confirmations a redirect may ask for: only these texts are
// shown, so that a link cannot make the page say anything else.
var msgs = map[string]string{
	"zone":                "Time zone saved: dates are written in it from now on.",
	"accepted":            "Lead accepted: it is yours to work now.",
	"rejected":            "Lead rejected with your reason.",
	"attempt":             "Attempt logged.",
	"qualified":           "Lead qualified (SQL) and handed to an account executive.",
	"later":               "Timing later: the lead is back in nurture until then.",
	"sentback":            "Lead sent back to the development rep who qualified it.",
	"recycled":            "Lead returned to marketing's nurture.",
	"converted":           "Lead converted to an opportunity.",
	"won":                 "Opportunity closed won.",
	"lost":                "Opportunity closed lost.",
	"claimed":             "Lead claimed: it is yours to answer now.",
	"assigned":            "Lead reassigned.",
	"draft":               "Draft saved. Backtest it, then publish it when it is right.",
	"published":           "Policy published: every lead is being rescored.",
	"password":            "Password set.",
	"read":                "Notification marked read.",
	"signedout":           "You are signed out.",
	"signedouteverywhere": "You are signed out everywhere: every session of yours has ended, on every device.",
	"passwordchanged":     "Password changed: sign in with the new one. Your other sessions have ended.",
	"webhook":             "Webhook saved.",
	"slack":               "Slack channel saved.",
	"note":                "Note added.",
	"calendar":            "Calendar saved.",
	"user":                "User changed.",
	"useradded":           "User added. Set their password (Set password…) so that they can sign in.",
	"deactivated": "User deactivated: they cannot sign in or use their API tokens, their sessions have ended, and routing " +
		"gives them no new leads. The leads they own stay theirs until reassigned.",
	"reactivated": "User reactivated: they can sign in again.",
	"revoked":     "Token revoked: it no longer works.",
}
