package api

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/batonhq/baton"
)

// The intake's doors: Segment's HTTP Tracking API (segment.go), the
// website's form endpoint and script (capture.go), and the admin's routes
// of ingest keys. An intake route takes an ingest key, never an API token,
// and an ingest key reaches nothing but the intake routes: the key's
// scope is the route table's, not a check each handler must remember.
//
// A write key comes as the basic-auth user (as Segment sends it) from a
// server: a request with an Origin header, from a browser, is refused. A
// capture key comes as ?key= (a plain HTML form cannot set a header) from
// a browser on one of its origins; its answers carry CORS headers for that
// origin only, and each address may send only so many (addrLimiter).

// Kinds of route.ingest.
const (
	ingestAny     = "any"     // a write key, or a capture key from its origins
	ingestWrite   = "write"   // a write key only (identify)
	ingestCapture = "capture" // a capture key only (the form)
)

type ingestKeyCtx struct{}

// ingestKeyOf is the ingest key of an intake request.
func ingestKeyOf(r *http.Request) *baton.IngestKey {
	k, _ := r.Context().Value(ingestKeyCtx{}).(*baton.IngestKey)
	return k
}

// ingestAuth authenticates an intake request by its key and origin, and
// returns it acting as the key. A capture key's allowed origin gets its
// CORS header here, before any error, so that the page can read why.
func (s *Server) ingestAuth(w http.ResponseWriter, r *http.Request, rt route) (*http.Request, error) {
	if s.svc.Intake == nil {
		return nil, baton.Errorf(baton.ENOTFOUND, "this server takes no intake")
	}
	k, err := s.ingestKey(r)
	if err != nil {
		return nil, err
	}
	origin := r.Header.Get("Origin")
	switch k.Kind {
	case baton.KeyWrite:
		if origin != "" {
			return nil, baton.Errorf(baton.EFORBIDDEN, "a write key is for servers (Segment), and this request came from a browser at %s: give the website a capture key", origin)
		}
		if rt.ingest == ingestCapture {
			return nil, baton.Errorf(baton.EFORBIDDEN, "the form endpoint takes a capture key, not a write key")
		}
	case baton.KeyCapture:
		if origin == "" {
			return nil, baton.Errorf(baton.EFORBIDDEN, "a capture key is taken only from a browser on its allowed origins: this request has no Origin header")
		}
		if !k.AllowsOrigin(origin) {
			return nil, baton.Errorf(baton.EFORBIDDEN, "origin %s is not allowed for this capture key", origin)
		}
		allowOrigin(w, origin)
		if rt.ingest == ingestWrite {
			return nil, baton.Errorf(baton.EFORBIDDEN, "a capture key may not identify visitors: a visitor becomes a lead through a form")
		}
		lim := s.captureLimit
		if rt.ingest == ingestCapture {
			lim = s.formLimit
		}
		if wait := lim.take(ingestAddr(r)); wait > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(max(1, int((wait+time.Second-1)/time.Second))))
			return nil, baton.Errorf(baton.ETOOMANY, "too many requests from your address: try again in %d s", max(1, int((wait+time.Second-1)/time.Second)))
		}
	}
	ctx := baton.WithClientAddr(baton.WithActor(r.Context(), k.Actor()), ingestAddr(r))
	return r.WithContext(context.WithValue(ctx, ingestKeyCtx{}, k)), nil
}

// ingestKey finds the request's key: the basic-auth user, a bearer token
// or ?key=.
func (s *Server) ingestKey(r *http.Request) (*baton.IngestKey, error) {
	key := r.URL.Query().Get("key")
	if u, _, ok := r.BasicAuth(); ok {
		key = u
	} else if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		key = strings.TrimSpace(tok)
	}
	if key == "" {
		return nil, baton.Errorf(baton.EUNAUTHORIZED, "missing ingest key: send a write key as the basic-auth user (as Segment does), or ?key= with a capture key")
	}
	return s.svc.Intake.AuthenticateIngestKey(r.Context(), key)
}

// allowOrigin lets the page at origin read the answer.
func allowOrigin(w http.ResponseWriter, origin string) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
}

// isIntakePath reports whether a path is one of the intake's, which
// answer CORS preflights.
func isIntakePath(p string) bool {
	return strings.HasPrefix(p, "/v1/") || strings.HasPrefix(p, "/capture/v1/")
}

// preflight answers a browser's CORS preflight of an intake route: 204
// with the CORS headers for a capture key's allowed origin, else 403
// without them (the browser then sends nothing).
func (s *Server) preflight(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if s.svc.Intake == nil || origin == "" {
		s.writeError(w, r, baton.Errorf(baton.EFORBIDDEN, "a preflight needs an Origin and a capture key (?key=)"))
		return
	}
	k, err := s.svc.Intake.AuthenticateIngestKey(r.Context(), r.URL.Query().Get("key"))
	if err != nil || k.Kind != baton.KeyCapture || !k.AllowsOrigin(origin) {
		s.writeError(w, r, baton.Errorf(baton.EFORBIDDEN, "origin %s may not send to %s with this key", origin, r.URL.Path))
		return
	}
	allowOrigin(w, origin)
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// ingestAddr is the address a capture request is limited by: the peer's,
// or, when the peer is this machine (a reverse proxy in front of Baton),
// the last address of X-Forwarded-For. A header from any other peer is
// ignored: a client could write any address there.
func ingestAddr(r *http.Request) string {
	host := apiClientAddr(r)
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

// addrLimiter is a token bucket per address: burst requests at once, then
// one per every. It holds at most maxAddrs addresses; past that it forgets
// those whose buckets are full again, and if none are, all.
type addrLimiter struct {
	burst float64
	every time.Duration
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

const maxAddrs = 10000

func newAddrLimiter(burst int, every time.Duration) *addrLimiter {
	return &addrLimiter{burst: float64(burst), every: every, now: time.Now, buckets: map[string]*bucket{}}
}

// take spends a token of addr's bucket and returns 0, or returns how long
// until there is one.
func (l *addrLimiter) take(addr string) time.Duration {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[addr]
	if b == nil {
		if len(l.buckets) >= maxAddrs {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[addr] = b
	}
	b.tokens = min(l.burst, b.tokens+float64(now.Sub(b.at))/float64(l.every))
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(l.every))
}

func (l *addrLimiter) sweep(now time.Time) {
	for a, b := range l.buckets {
		if b.tokens+float64(now.Sub(b.at))/float64(l.every) >= l.burst {
			delete(l.buckets, a)
		}
	}
	if len(l.buckets) >= maxAddrs {
		clear(l.buckets)
	}
}

// intakeResult is the answer of the Segment routes: Segment's
// {"success": true} and what Baton did with the messages.
type intakeResult struct {
	Success      bool             `json:"success"`
	LeadsCreated int              `json:"leads_created"`
	LeadsUpdated int              `json:"leads_updated"`
	Events       int              `json:"events"`
	Pending      int              `json:"pending"`
	Stitched     int              `json:"stitched"`
	Duplicates   int              `json:"duplicates"`
	Rejected     int              `json:"rejected"`
	Errors       []baton.RowError `json:"errors"`
}

// segment returns the handler of a Segment route of message type typ
// ("batch" for /v1/batch).
func segment(typ string) func(s *Server, w http.ResponseWriter, r *http.Request) error {
	return func(s *Server, w http.ResponseWriter, r *http.Request) error {
		body, err := readBody(w, r, maxSegmentBody)
		if err != nil {
			return err
		}
		k := ingestKeyOf(r)
		msgs, rows, bad, err := decodeSegment(body, typ, time.Now(), k.Source())
		if err != nil {
			return err
		}
		if k.Kind == baton.KeyCapture {
			// A capture key's identify is refused, message by message.
			kept, keptRows := msgs[:0], rows[:0]
			for i, m := range msgs {
				if m.Type == baton.MessageIdentify {
					bad = append(bad, baton.RowError{Row: rows[i], Column: "type", Message: "a capture key may not identify visitors: a visitor becomes a lead through a form"})
					continue
				}
				kept, keptRows = append(kept, m), append(keptRows, rows[i])
			}
			msgs, rows = kept, keptRows
		}
		res, err := s.svc.Intake.Intake(r.Context(), msgs)
		if baton.ErrorCode(err) == baton.ECONFLICT {
			// Two senders wrote one lead at once: Segment retries a 503.
			return &statusError{status: http.StatusServiceUnavailable,
				err: baton.Errorf(baton.EUNAVAILABLE, "another request changed the same lead at the same moment: nothing was stored; retry")}
		} else if err != nil {
			return err
		}
		for i := range res.Errors {
			res.Errors[i].Row = rows[res.Errors[i].Row]
		}
		res.Errors = append(res.Errors, bad...)
		res.Rejected += len(bad)
		slices.SortStableFunc(res.Errors, func(a, b baton.RowError) int { return a.Row - b.Row })
		if typ != "batch" && len(res.Errors) > 0 {
			e := res.Errors[0]
			return &baton.Error{Code: baton.EINVALID, Field: e.Column, Message: e.Message}
		}
		writeJSON(w, http.StatusOK, intakeResult{Success: true, LeadsCreated: res.LeadsCreated, LeadsUpdated: res.LeadsUpdated,
			Events: res.Events, Pending: res.Pending, Stitched: res.Stitched, Duplicates: res.Duplicates, Rejected: res.Rejected, Errors: res.Errors})
		return nil
	}
}

// maxSegmentBody is the largest body of a Segment route: Segment's own
// limit of a batch is 500 KB.
const maxSegmentBody = 1 << 20

// Ingest keys, for admins.

// ingestKeyResult is the answer of POST /api/v1/ingest-keys: the key,
// shown this once, and how it is listed.
type ingestKeyResult struct {
	Key       string              `json:"key"`
	ID        int64               `json:"id"`
	Kind      baton.IngestKeyKind `json:"kind"`
	Name      string              `json:"name"`
	Origins   []string            `json:"origins"`
	CreatedBy *int64              `json:"created_by,omitempty"`
	CreatedAt time.Time           `json:"created_at"`
}

func (s *Server) intake() (baton.IntakeService, error) {
	if s.svc.Intake == nil {
		return nil, baton.Errorf(baton.ENOTFOUND, "this server takes no intake")
	}
	return s.svc.Intake, nil
}

func (s *Server) createIngestKey(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.intake()
	if err != nil {
		return err
	}
	var in baton.IngestKeyInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	key, k, err := svc.CreateIngestKey(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, ingestKeyResult{Key: key, ID: k.ID, Kind: k.Kind, Name: k.Name, Origins: k.Origins, CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt})
	return nil
}

func (s *Server) listIngestKeys(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.intake()
	if err != nil {
		return err
	}
	keys, err := svc.FindIngestKeys(r.Context())
	if err != nil {
		return err
	}
	writeList(w, keys, len(keys))
	return nil
}

func (s *Server) revokeIngestKey(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.intake()
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	k, err := svc.RevokeIngestKey(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, k)
	return nil
}
