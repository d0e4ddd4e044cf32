package notify

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// receiver is a webhook endpoint that verifies signatures and answers with
// whatever the test sets.
type receiver struct {
	t      *testing.T
	secret []byte
	mu     sync.Mutex
	got    []*http.Request
	bodies []string
	reply  func(w http.ResponseWriter)
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := Verify(rc.secret, r.Header.Get("Baton-Signature"), body, time.Now(), time.Minute); err != nil {
		rc.t.Errorf("receiver: %v", err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	rc.mu.Lock()
	rc.got = append(rc.got, r)
	rc.bodies = append(rc.bodies, string(body))
	reply := rc.reply
	rc.mu.Unlock()
	if reply != nil {
		reply(w)
	}
}

func TestSend(t *testing.T) {
	secret := []byte("s3cret")
	rc := &receiver{t: t, secret: secret}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	s := &Sender{Timeout: 2 * time.Second}
	hook := Webhook{URL: srv.URL + "/hooks/baton", Secret: secret}
	d := Delivery{ID: "dlv_1", Event: "lead.assigned", Body: []byte(`{"lead_id":7}`)}

	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name       string
		reply      func(w http.ResponseWriter)
		status     int
		ok, retry  bool
		retryAfter time.Duration // checked to the second
		err        string
	}{
		{"200", nil, 200, true, false, 0, ""},
		{"204", func(w http.ResponseWriter) { w.WriteHeader(204) }, 204, true, false, 0, ""},
		{"500", func(w http.ResponseWriter) { http.Error(w, "boom", 500) }, 500, false, true, 0, "HTTP 500 Internal Server Error"},
		{"503 retry-after", func(w http.ResponseWriter) { w.Header().Set("Retry-After", "7"); w.WriteHeader(503) }, 503, false, true, 7 * time.Second, "HTTP 503"},
		{"404", func(w http.ResponseWriter) { http.NotFound(w, nil) }, 404, false, false, 0, "HTTP 404"},
		{"410 ignores retry-after", func(w http.ResponseWriter) { w.Header().Set("Retry-After", "7"); w.WriteHeader(410) }, 410, false, false, 0, "HTTP 410"},
		{"408", func(w http.ResponseWriter) { w.WriteHeader(408) }, 408, false, true, 0, "HTTP 408"},
		{"429 seconds", func(w http.ResponseWriter) { w.Header().Set("Retry-After", "120"); w.WriteHeader(429) }, 429, false, true, 120 * time.Second, "HTTP 429"},
		{"429 date", func(w http.ResponseWriter) { w.Header().Set("Retry-After", date); w.WriteHeader(429) }, 429, false, true, 90 * time.Second, "HTTP 429"},
		{"429 garbage", func(w http.ResponseWriter) { w.Header().Set("Retry-After", "soon"); w.WriteHeader(429) }, 429, false, true, 0, "HTTP 429"},
		{"redirect not followed", func(w http.ResponseWriter) { w.Header().Set("Location", "/elsewhere"); w.WriteHeader(307) }, 307, false, false, 0, "HTTP 307"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc.mu.Lock()
			rc.reply, rc.got, rc.bodies = tt.reply, nil, nil
			rc.mu.Unlock()
			a := s.Send(context.Background(), hook, d)
			if a.Status != tt.status || a.OK() != tt.ok || a.Retry != tt.retry || !strings.HasPrefix(a.Err, tt.err) {
				t.Errorf("Attempt = %+v", a)
			}
			if tt.retryAfter == 0 && a.RetryAfter != 0 || (a.RetryAfter-tt.retryAfter).Abs() > 2*time.Second {
				t.Errorf("RetryAfter = %v, want %v", a.RetryAfter, tt.retryAfter)
			}
			if a.Duration <= 0 {
				t.Errorf("Duration = %v", a.Duration)
			}
			rc.mu.Lock()
			defer rc.mu.Unlock()
			if len(rc.got) != 1 {
				t.Fatalf("receiver got %d requests", len(rc.got))
			}
			r := rc.got[0]
			for k, v := range map[string]string{"Content-Type": "application/json", "Baton-Delivery": "dlv_1", "Baton-Event": "lead.assigned", "User-Agent": UserAgent} {
				if r.Header.Get(k) != v {
					t.Errorf("header %s = %q, want %q", k, r.Header.Get(k), v)
				}
			}
			if r.Method != http.MethodPost || r.URL.Path != "/hooks/baton" || rc.bodies[0] != `{"lead_id":7}` {
				t.Errorf("request %s %s %q", r.Method, r.URL.Path, rc.bodies[0])
			}
		})
	}
	rc.mu.Lock()
	rc.reply = nil
	rc.mu.Unlock()
	if a := s.Send(context.Background(), hook, d); a.Response != "" || !a.OK() {
		t.Errorf("empty 200: %+v", a)
	}
	rc.mu.Lock()
	rc.reply = func(w http.ResponseWriter) { http.Error(w, strings.Repeat("x", 5000), 500) }
	rc.mu.Unlock()
	if a := s.Send(context.Background(), hook, d); len(a.Response) != 1024 {
		t.Errorf("Response kept %d bytes", len(a.Response))
	}
}

func TestSendRotation(t *testing.T) {
	old, next := []byte("old"), []byte("new")
	rc := &receiver{t: t, secret: old} // receiver not moved yet
	srv := httptest.NewServer(rc)
	defer srv.Close()
	a := new(Sender).Send(context.Background(), Webhook{URL: srv.URL, Secret: next, OldSecrets: [][]byte{old}}, Delivery{ID: "1", Event: "e", Body: []byte("{}")})
	if !a.OK() {
		t.Fatalf("%+v", a)
	}
	if h := rc.got[0].Header.Get("Baton-Signature"); strings.Count(h, "v1=") != 2 {
		t.Errorf("signature %q", h)
	}
}

func TestSendNow(t *testing.T) {
	var header string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { header = r.Header.Get("Baton-Signature") }))
	defer srv.Close()
	s := &Sender{Now: func() time.Time { return time.Unix(1_700_000_000, 0) }}
	s.Send(context.Background(), Webhook{URL: srv.URL, Secret: []byte("k")}, Delivery{Body: []byte("{}")})
	if !strings.HasPrefix(header, "t=1700000000,") {
		t.Errorf("header %q", header)
	}
}

func TestSendTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
	}))
	defer srv.Close()
	defer close(release)
	s := &Sender{Timeout: 100 * time.Millisecond}
	a := s.Send(context.Background(), Webhook{URL: srv.URL, Secret: []byte("k")}, Delivery{Body: []byte("{}")})
	if !a.Retry || a.Status != 0 || !strings.Contains(a.Err, "timed out") {
		t.Errorf("Attempt = %+v", a)
	}
	if a.Duration < 100*time.Millisecond || a.Duration > 2*time.Second {
		t.Errorf("Duration = %v", a.Duration)
	}
}

func TestSendConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	a := new(Sender).Send(context.Background(), Webhook{URL: "http://" + addr + "/x", Secret: []byte("k")}, Delivery{Body: []byte("{}")})
	if !a.Retry || a.Status != 0 || !strings.Contains(a.Err, "refused") {
		t.Errorf("Attempt = %+v", a)
	}
}

func TestSendCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a := new(Sender).Send(ctx, Webhook{URL: "http://127.0.0.1:1/", Secret: []byte("k")}, Delivery{Body: []byte("{}")})
	if !a.Retry || a.Err == "" {
		t.Errorf("Attempt = %+v", a)
	}
}

func TestSendBadURL(t *testing.T) {
	for _, u := range []string{"", "ftp://example.com/x", "example.com/hook", "http://", "://"} {
		a := new(Sender).Send(context.Background(), Webhook{URL: u}, Delivery{})
		if a.Retry || a.Err == "" || a.OK() {
			t.Errorf("%q: Attempt = %+v", u, a)
		}
	}
}
