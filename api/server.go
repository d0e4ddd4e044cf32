package api

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// Services are the storage services the API serves; *store.DB implements
// them all.
type Services struct {
	Users         baton.UserService
	Leads         baton.LeadService
	Accounts      baton.AccountService
	Events        baton.EventService
	Opportunities baton.OpportunityService
	Scoring       baton.ScoringService
	Handoffs      baton.HandoffService
	Reports       baton.ReportService
	// Health answers /healthz and /readyz and tells storage outages (a
	// full disk) from bugs; optional.
	Health baton.HealthService
	// Audit serves /api/v1/audit; optional.
	Audit baton.AuditService
	// Outbox serves /api/v1/webhooks; optional.
	Outbox baton.OutboxService
	// Stats adds the business metrics to /metrics; optional.
	Stats baton.StatsService
	// Intake serves Segment's routes (/v1/...), the website's capture
	// (/capture.js, /capture/v1/form) and /api/v1/ingest-keys; optional.
	Intake baton.IntakeService
}

// Server is the JSON API. It holds no global state: make as many as needed.
type Server struct {
	svc     Services
	logger  *slog.Logger
	routes  []route
	mux     *http.ServeMux
	metrics *metrics
	openapi []byte
	handler http.Handler
	limiter *limiter
	// captureLimit and formLimit bound what one address sends with a
	// capture key: messages, and forms.
	captureLimit, formLimit *addrLimiter
}

// New returns a server of the services that logs to logger (slog.Default()
// if nil).
func New(s Services, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.Default()
	}
	srv := &Server{svc: s, logger: logger, routes: routes(), mux: http.NewServeMux(), metrics: newMetrics()}
	srv.SetLimits(DefaultLimits())
	for _, rt := range srv.routes {
		srv.mux.Handle(rt.method+" "+rt.path, srv.endpoint(rt))
	}
	doc, err := json.Marshal(openAPI(srv.routes))
	if err != nil {
		panic(fmt.Sprintf("api: the OpenAPI document does not marshal: %v", err)) // a bug in this package
	}
	srv.openapi = doc
	srv.metrics.watchLimits(srv)
	if s.Stats != nil {
		srv.metrics.registry.MustRegister(statsCollector{svc: s.Stats, logger: logger})
	}
	srv.handler = http.HandlerFunc(srv.serve)
	return srv
}

// SetLimits replaces the limits of DefaultLimits; call it before serving.
func (s *Server) SetLimits(l Limits) {
	d := DefaultLimits()
	s.limiter = newLimiter(l)
	s.captureLimit = newAddrLimiter(cmp.Or(l.CaptureBurst, d.CaptureBurst), cmp.Or(l.CaptureEvery, d.CaptureEvery))
	s.formLimit = newAddrLimiter(cmp.Or(l.FormBurst, d.FormBurst), cmp.Or(l.FormEvery, d.FormEvery))
}

// Handler returns the handler of every route: /api/v1/..., /healthz and
// /metrics.
func (s *Server) Handler() http.Handler { return s.handler }

// serve routes a request, recovers from a panic in it and records its
// metrics.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	route := "unmatched"
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.logger.ErrorContext(r.Context(), "panic serving request", slog.String("method", r.Method),
				slog.String("path", r.URL.Path), slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
			if !sw.wrote {
				writeJSON(sw, http.StatusInternalServerError, ErrorBody{Error: ErrorDetail{Code: baton.EINTERNAL, Message: "internal error"}})
			}
		}
		if r.Pattern != "" {
			route = r.Pattern // set by the mux on r as it routes
		}
		s.metrics.observe(route, sw.code(), time.Since(start))
	}()
	// Answers carry lead data and tokens: no cache, shared or private,
	// keeps them (OWASP ASVS 8.2.1).
	sw.Header().Set("Cache-Control", "no-store")
	if r.Method == http.MethodOptions && isIntakePath(r.URL.Path) {
		s.preflight(sw, r)
		return
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.unrouted(sw, r)
		return
	}
	s.mux.ServeHTTP(sw, r)
}

// unrouted answers a request that matches no route with a JSON 404, or 405
// when the path exists with other methods.
func (s *Server) unrouted(w http.ResponseWriter, r *http.Request) {
	h, _ := s.mux.Handler(r)
	rec := &headerRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	if rec.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", rec.header.Get("Allow"))
		s.writeError(w, r, &statusError{status: http.StatusMethodNotAllowed,
			err: baton.Errorf(baton.EINVALID, "method %s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, rec.header.Get("Allow"))})
		return
	}
	s.writeError(w, r, baton.Errorf(baton.ENOTFOUND, "no route %s %s", r.Method, r.URL.Path))
}

type userKey struct{}

// endpoint wraps a route's handler: authentication unless the route is
// public, the limits of write requests, and errors written through
// writeError. A write's body is received whole, within the body budget,
// before the request waits for a place among the writes being worked on:
// a slow sender holds no place, and the places bound the memory and time
// of the work itself.
func (s *Server) endpoint(rt route) http.Handler {
	limit := bodyLimit(rt)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.ingest != "" {
			ir, err := s.ingestAuth(w, r, rt)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			r = ir
		} else if !rt.public {
			u, err := s.authenticate(r)
			if err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="baton"`)
				s.writeError(w, r, err)
				return
			}
			ctx := baton.WithClientAddr(baton.WithActor(r.Context(), baton.ActorOf(u, "api")), apiClientAddr(r))
			r = r.WithContext(context.WithValue(ctx, userKey{}, u))
		}
		if isWrite(r) {
			l := s.limiter
			b := &budget{l: l}
			defer b.release()
			body, err := receiveBody(w, r, limit, b)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			release, err := l.acquireWrite(r.Context())
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			defer release()
			r = r.WithContext(context.WithValue(r.Context(), bodyKey{}, body))
		}
		if err := rt.handle(s, w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// authenticate returns the user of the request's bearer token.
func (s *Server) authenticate(r *http.Request) (*baton.User, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, baton.Errorf(baton.EUNAUTHORIZED, "missing API token: send Authorization: Bearer TOKEN")
	}
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, baton.Errorf(baton.EUNAUTHORIZED, "the Authorization header must be Bearer TOKEN")
	}
	u, err := s.svc.Users.Authenticate(r.Context(), token)
	if err != nil {
		return nil, err
	}
	return u, nil
}

// currentUser returns the signed-in user of an authenticated request.
func currentUser(r *http.Request) *baton.User {
	u, _ := r.Context().Value(userKey{}).(*baton.User)
	return u
}

// statusWriter remembers the status written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) code() int {
	if !w.wrote {
		return http.StatusOK
	}
	return w.status
}

// headerRecorder captures the status and headers of the mux's own 404 and
// 405 answers, and drops their plain-text bodies.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header { return h.header }
func (h *headerRecorder) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
}
func (h *headerRecorder) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return len(b), nil
}

// apiClientAddr is the client's address for the audit log: the peer's,
// without its port.
func apiClientAddr(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}
