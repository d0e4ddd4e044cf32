package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/batonhq/baton"
)

// Limits bound what the API holds at once, so that bursts of writers and
// slow clients cost the server neither its memory nor its latency: past a
// bound the API sheds load with 429 Too Many Requests and a Retry-After,
// which a client waits out and retries (an event batch with its client ids
// is stored once however often it is sent).
type Limits struct {
	// Writes is how many write requests (POST, PUT, PATCH, DELETE) are
	// worked on at once, after their bodies arrived; others wait up to
	// WriteWait for a place. The database stores one write at a time on
	// SQLite, so more in flight only lengthen every answer.
	Writes    int
	WriteWait time.Duration
	// BodyBytes bounds the memory of the request bodies being received at
	// once, counted as they arrive (never from Content-Length, which a
	// client may state and never send).
	BodyBytes int64
	// CaptureBurst messages (page views, track events) may come at once
	// from one address with a capture key, then one per CaptureEvery;
	// forms FormBurst at once, then one per FormEvery. Past them: 429.
	CaptureBurst int
	CaptureEvery time.Duration
	FormBurst    int
	FormEvery    time.Duration
}

// DefaultLimits are the limits of New.
func DefaultLimits() Limits {
	return Limits{Writes: max(4, 2*runtime.GOMAXPROCS(0)), WriteWait: time.Second, BodyBytes: 128 << 20,
		CaptureBurst: 60, CaptureEvery: time.Second, FormBurst: 5, FormEvery: time.Minute}
}

// limiter applies Limits.
type limiter struct {
	wait   time.Duration
	writes chan struct{}
	bodies *semaphore.Weighted
	// held is the body bytes held now; shed counts the requests refused,
	// by why ("writes" or "bodies"). Both are in /metrics.
	held atomic.Int64
	shed [2]atomic.Int64
}

// Why a request was shed, as an index of limiter.shed.
const (
	shedWrites = iota
	shedBodies
)

func newLimiter(l Limits) *limiter {
	d := DefaultLimits()
	if l.Writes <= 0 {
		l.Writes = d.Writes
	}
	if l.WriteWait <= 0 {
		l.WriteWait = d.WriteWait
	}
	if l.BodyBytes <= 0 {
		l.BodyBytes = d.BodyBytes
	}
	return &limiter{wait: l.WriteWait, writes: make(chan struct{}, l.Writes), bodies: semaphore.NewWeighted(l.BodyBytes)}
}

// retryAfter is what a shed request is told to wait.
const retryAfter = time.Second

// busy is the error of a shed request.
func busy(what string) error {
	return &statusError{status: http.StatusTooManyRequests,
		err: baton.Errorf(baton.EUNAVAILABLE, "%s: retry after %d s", what, int(retryAfter.Seconds()))}
}

// isWrite reports whether a request changes something.
func isWrite(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// acquireWrite takes a place for a write request, waiting at most the
// limiter's wait; release gives it back.
func (l *limiter) acquireWrite(ctx context.Context) (release func(), err error) {
	select {
	case l.writes <- struct{}{}:
		return l.releaseWrite, nil
	default:
	}
	t := time.NewTimer(l.wait)
	defer t.Stop()
	select {
	case l.writes <- struct{}{}:
		return l.releaseWrite, nil
	case <-t.C:
		l.shed[shedWrites].Add(1)
		return nil, busy("too many write requests at once")
	case <-ctx.Done():
		return nil, baton.Errorf(baton.EUNAVAILABLE, "the request ended while it waited for its turn")
	}
}

func (l *limiter) releaseWrite() { <-l.writes }

// full reports whether every place for write requests is taken.
func (l *limiter) full() bool { return len(l.writes) == cap(l.writes) }

// budget is the share of the limiter's body bytes one request holds; it is
// given back when the request ends. A budget of no limiter is unbounded.
type budget struct {
	l    *limiter
	held int64
}

func (b *budget) take(n int64) bool {
	if b.l == nil {
		return true
	}
	if !b.l.bodies.TryAcquire(n) {
		b.l.shed[shedBodies].Add(1)
		return false
	}
	b.l.held.Add(n)
	b.held += n
	return true
}

func (b *budget) release() {
	if b.l != nil && b.held > 0 {
		b.l.bodies.Release(b.held)
		b.l.held.Add(-b.held)
		b.held = 0
	}
}

// bodyKey carries a write request's body, received before its handler
// runs, in its context.
type bodyKey struct{}

// bodyLimit is the largest body a route takes.
func bodyLimit(rt route) int64 {
	switch rt.body {
	case "EventBatch":
		return maxEventsBody
	case "PolicyInput":
		return maxPolicyBody
	}
	return maxBody
}

// receiveBody reads a request's whole body, refusing more than limit bytes.
// The buffer grows with what arrives, each growth taken from the server's
// body budget, so that a client announcing 32 MiB and sending nothing costs
// nothing, and many sending at once are refused before memory runs out.
func receiveBody(w http.ResponseWriter, r *http.Request, limit int64, b *budget) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	rd := http.MaxBytesReader(w, r.Body, limit)
	var buf []byte
	for {
		if len(buf) == cap(buf) {
			// MaxBytesReader fails on the byte past the limit, so the
			// buffer never needs more than limit+1.
			grow := min(max(cap(buf), 4<<10), int(limit)+1-cap(buf))
			if grow <= 0 {
				return nil, tooLarge(limit)
			}
			if !b.take(int64(grow)) {
				return nil, busy("the server is receiving too much data at once")
			}
			nb := make([]byte, len(buf), cap(buf)+grow)
			copy(nb, buf)
			buf = nb
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		} else if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, tooLarge(limit)
			}
			return nil, baton.Errorf(baton.EINVALID, "cannot read the request body")
		}
	}
}

// readBody returns the request's body, received before the handler ran,
// refusing more than limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, ok := r.Context().Value(bodyKey{}).([]byte)
	if !ok {
		// A request that did not pass through endpoint (a test's handler).
		return receiveBody(w, r, limit, &budget{})
	}
	if int64(len(body)) > limit {
		return nil, tooLarge(limit)
	}
	return body, nil
}

// setRetryAfter tells a client refused for now when to try again.
func setRetryAfter(w http.ResponseWriter) {
	w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter.Seconds())))
}
