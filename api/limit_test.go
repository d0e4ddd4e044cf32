package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/api"
)

// withLimits serves the fixture's database through a server with limits.
func (f *fixture) withLimits(l api.Limits) {
	a := api.New(api.Services{Users: f.db, Leads: f.db, Accounts: f.db, Events: f.db, Opportunities: f.db,
		Scoring: f.db, Handoffs: f.db, Reports: f.db, Health: f.db}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	a.SetLimits(l)
	f.srv = httptest.NewServer(a.Handler())
	f.t.Cleanup(f.srv.Close)
}

// TestWritesShedWhenFull: with one place for write requests, a write that
// arrives while another is being worked on (held by a transaction the test
// keeps open on the database's one writer connection) waits its turn, then
// gets 429 with Retry-After; /readyz says busy meanwhile; once the first is
// done, writes are taken again.
func TestWritesShedWhenFull(t *testing.T) {
	f := newFixture(t)
	f.withLimits(api.Limits{Writes: 1, WriteWait: time.Millisecond})
	hold, err := f.db.SQL().BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	first := make(chan int, 1)
	go func() {
		st, _ := f.send(t, admin, "POST", "/api/v1/leads", `{"email":"first@held.test"}`)
		first <- st
	}()
	// The readiness signal that the first write holds the one place.
	for {
		st, body := f.do(none, "GET", "/readyz", "")
		if st == http.StatusServiceUnavailable && strings.Contains(string(body), `"busy"`) {
			break
		}
		if st != http.StatusOK {
			t.Fatalf("/readyz: %d %s", st, body)
		}
	}
	req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/leads", strings.NewReader(`{"email":"second@held.test"}`))
	req.Header.Set("Authorization", "Bearer "+f.tokens[admin])
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var e apiError
	decodeJSON(t, body, &e)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" || e.Error.Code != "unavailable" ||
		!strings.Contains(e.Error.Message, "too many write requests") {
		t.Fatalf("second write: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	// Reads are not shed.
	if st, body := f.do(admin, "GET", "/api/v1/leads?limit=1", ""); st != http.StatusOK {
		t.Fatalf("a read while writes are full: %d %s", st, body)
	}
	hold.Rollback()
	if st := <-first; st != http.StatusCreated {
		t.Fatalf("first write: %d", st)
	}
	if st, body := f.do(admin, "POST", "/api/v1/leads", `{"email":"second@held.test"}`); st != http.StatusCreated {
		t.Fatalf("second write, retried: %d %s", st, body)
	}
	if st, body := f.do(none, "GET", "/readyz", ""); st != http.StatusOK {
		t.Fatalf("/readyz after: %d %s", st, body)
	}
}

// TestBodiesWithinBudget: the bodies being received share a budget counted
// as bytes arrive. While one request has sent 300 KiB of its body and
// waits, another of 100 KiB does not fit a 600 KiB budget and gets 429;
// when the first ends, the second is taken (and answered on its merits).
func TestBodiesWithinBudget(t *testing.T) {
	f := newFixture(t)
	f.withLimits(api.Limits{BodyBytes: 600 << 10})
	pr, pw := io.Pipe()
	first := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/leads", pr)
		req.Header.Set("Authorization", "Bearer "+f.tokens[admin])
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			first <- 0
			return
		}
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	if _, err := pw.Write([]byte(`{"email":"big@body.test","name":"` + strings.Repeat("x", 300<<10))); err != nil {
		t.Fatal(err)
	}
	// The readiness signal that the server holds the first body: the bytes
	// held, in /metrics.
	for held := 0.0; held < 300<<10; {
		_, m := f.do(admin, "GET", "/metrics", "")
		held = metricValue(t, m, "baton_http_request_body_bytes")
	}
	second := `{"email":"` + strings.Repeat("y", 100<<10) + `"}`
	st, body := f.do(admin, "POST", "/api/v1/leads", second)
	if st != http.StatusTooManyRequests || !strings.Contains(string(body), "receiving too much data at once") {
		t.Fatalf("second while the first holds the budget: %d %s", st, body)
	}
	if _, m := f.do(admin, "GET", "/metrics", ""); metricValue(t, m, "baton_http_shed_bodies_total") != 1 {
		t.Fatalf("shed bodies not counted:\n%s", m)
	}
	pw.Write([]byte(`"}`))
	pw.Close()
	if st := <-first; st != http.StatusBadRequest { // a name of 300 KiB is too long
		t.Fatalf("first: %d", st)
	}
	if st, body := f.do(admin, "POST", "/api/v1/leads", second); st != http.StatusBadRequest {
		t.Fatalf("second after the first ended: %d %s", st, body)
	}
}

// metricValue reads an unlabelled metric from a /metrics answer.
func metricValue(t *testing.T, body []byte, name string) float64 {
	t.Helper()
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("no metric %s in:\n%s", name, body)
	return 0
}

// TestHealthReportsDatabase: /healthz and /readyz say the database answers
// and takes writes, with the WAL's size and the free space on SQLite.
func TestHealthReportsDatabase(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		st, body := f.do(none, "GET", path, "")
		var h struct {
			Status   string `json:"status"`
			Database struct {
				Backend   string `json:"backend"`
				Reachable bool   `json:"reachable"`
				Writable  bool   `json:"writable"`
				WALBytes  *int64 `json:"wal_bytes"`
				FreeBytes *int64 `json:"free_bytes"`
			} `json:"database"`
		}
		decodeJSON(t, body, &h)
		if st != http.StatusOK || h.Status != "ok" || h.Database.Backend != "sqlite" || !h.Database.Reachable || !h.Database.Writable ||
			h.Database.WALBytes == nil || h.Database.FreeBytes == nil || *h.Database.FreeBytes <= 0 {
			t.Fatalf("%s: %d %s", path, st, body)
		}
	}
}
