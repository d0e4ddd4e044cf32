package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRecover checks that a panic in a handler is logged and answered with
// a JSON 500, and that the server goes on serving. Services without storage
// make authentication panic on the nil UserService.
func TestRecover(t *testing.T) {
	var logs bytes.Buffer
	s := New(Services{}, slog.New(slog.NewTextHandler(&logs, nil)))
	for range 2 {
		req := httptest.NewRequest("GET", "/api/v1/leads", nil)
		req.Header.Set("Authorization", "Bearer x")
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, req)
		var body ErrorBody
		if w.Code != 500 || json.Unmarshal(w.Body.Bytes(), &body) != nil || body.Error.Code != "internal" || body.Error.Message != "internal error" {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	if n := strings.Count(logs.String(), "panic serving request"); n != 2 {
		t.Errorf("%d panics logged, want 2: %s", n, logs.String())
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
	if w.Code != 200 || strings.TrimSpace(w.Body.String()) != `{"status":"ok"}` {
		t.Errorf("healthz after a panic: %d %s", w.Code, w.Body)
	}
}

// TestMetrics checks that requests are counted by route pattern and status
// and timed, in the server's own registry.
func TestMetrics(t *testing.T) {
	s := New(Services{}, nil)
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		return w
	}
	get("/healthz")
	get("/healthz")
	get("/api/v1/leads/7") // no token: 401
	get("/nowhere")
	if w := get("/metrics"); w.Code != http.StatusUnauthorized {
		t.Errorf("/metrics without a token: %d, want 401", w.Code)
	}
	w := httptest.NewRecorder()
	s.MetricsHandler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("%d %s", w.Code, w.Header())
	}
	for _, want := range []string{
		`baton_http_requests_total{code="200",route="GET /healthz"} 2`,
		`baton_http_requests_total{code="401",route="GET /api/v1/leads/{id}"} 1`,
		`baton_http_requests_total{code="404",route="unmatched"} 1`,
		`baton_http_requests_total{code="401",route="GET /metrics"} 1`,
		`baton_http_request_duration_seconds_count{route="GET /healthz"} 2`,
		`go_goroutines`,
	} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// A second server has its own registry.
	other := New(Services{}, nil)
	w = httptest.NewRecorder()
	other.MetricsHandler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if strings.Contains(w.Body.String(), `route="GET /healthz"`) {
		t.Errorf("a new server sees another's metrics")
	}
}
