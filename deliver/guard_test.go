package deliver_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/deliver"
	"github.com/batonhq/baton/notify"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

const hookSecret = "a-very-secret-webhook-key"

// TestWebhookTargetsAtCreation: unless the operator allows private targets,
// the store refuses webhooks to literal loopback, private and link-local
// addresses and to plain http, naming the url field; with them allowed it
// takes them. A URL with credentials is refused either way.
func TestWebhookTargetsAtCreation(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		sys := storetest.System()
		inside := []string{"https://127.0.0.1/in", "https://[::1]:8443/in", "https://10.1.2.3/in",
			"https://169.254.169.254/latest/meta-data/", "http://example.com/in", "https://localhost/in"}
		for _, u := range inside {
			err := db.CreateWebhook(sys, &baton.Webhook{URL: u, Secret: hookSecret, Events: assigned})
			if baton.ErrorField(err) != "url" || !strings.Contains(err.Error(), "--webhook-allow-private") {
				t.Errorf("%s: %v, want refused on url with the flag that allows it", u, err)
			}
		}
		if err := db.CreateWebhook(sys, &baton.Webhook{URL: "https://hooks.example.com/in", Secret: hookSecret, Events: assigned}); err != nil {
			t.Fatalf("a public https webhook: %v", err)
		}
		if err := db.SetWebhookAllowPrivate(context.Background(), true); err != nil {
			t.Fatal(err)
		}
		for _, u := range inside {
			if err := db.CreateWebhook(sys, &baton.Webhook{URL: u, Secret: hookSecret, Events: assigned}); err != nil {
				t.Errorf("%s with private targets allowed: %v", u, err)
			}
		}
		err := db.CreateWebhook(sys, &baton.Webhook{URL: "https://user:s3cr3t@hooks.example.com/in", Secret: hookSecret, Events: assigned})
		if baton.ErrorField(err) != "url" || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("a URL with credentials: %v, want refused on url without showing them", err)
		}
		if ws, err := db.FindWebhooks(sys); err != nil || len(ws) != 1+len(inside) {
			t.Fatalf("%d webhooks (%v), want %d", len(ws), err, 1+len(inside))
		}
	})
}

// TestRebindRefusedAtConnect: a host name passes the check at creation, as
// it must (it could resolve anywhere later), and resolves to loopback when
// the delivery is made. The dialer refuses the address before connecting:
// the receiver sees no connection, the log says only that the address is
// not allowed, and the message is not retried. With private targets allowed
// the same name, through the same resolver, is delivered.
func TestRebindRefusedAtConnect(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := newHookDB(t, open)
		resolver := fakeDNS(netip.MustParseAddr("127.0.0.1"))

		inside := newCountingServer(t, true)
		hook := &baton.Webhook{URL: fmt.Sprintf("https://rebind.test:%d/in", inside.port), Secret: hookSecret, Events: assigned}
		if err := db.CreateWebhook(storetest.System(), hook); err != nil {
			t.Fatalf("a host name is refused at creation: %v", err)
		}
		assign(t, db)
		strict := &deliver.Deliverer{Outbox: db, Webhook: &notify.Sender{Timeout: 5 * time.Second}, Name: "t", Resolver: resolver}
		log := deliverAll(t, db, strict)
		if len(log) != 1 || log[0].Error != deliver.ErrBlocked || log[0].State != "dead" || log[0].Status != 0 {
			t.Fatalf("log %+v, want one attempt, %q, dead", log, deliver.ErrBlocked)
		}
		if n := inside.conns.Load(); n != 0 {
			t.Fatalf("the receiver on loopback saw %d connections", n)
		}

		// The operator allows private targets: the same name is delivered.
		if err := db.SetWebhookActive(storetest.System(), hook.ID, false); err != nil {
			t.Fatal(err)
		}
		if err := db.SetWebhookAllowPrivate(context.Background(), true); err != nil {
			t.Fatal(err)
		}
		plain := newCountingServer(t, false)
		if err := db.CreateWebhook(storetest.System(), &baton.Webhook{URL: fmt.Sprintf("http://rebind.test:%d/in", plain.port), Secret: hookSecret, Events: assigned}); err != nil {
			t.Fatal(err)
		}
		assign(t, db)
		loose := &deliver.Deliverer{Outbox: db, Webhook: &notify.Sender{Timeout: 5 * time.Second}, Name: "t", Resolver: resolver, AllowPrivate: true}
		log = deliverAll(t, db, loose)
		if len(log) != 2 || log[0].Result != baton.AttemptDelivered || log[0].Status != http.StatusNoContent || plain.hits.Load() != 1 {
			t.Fatalf("log %+v, %d requests received; want the second delivered", log, plain.hits.Load())
		}
	})
}

// TestDeliveryLog: an attempt that got no answer is logged with a generic
// error and no addresses; a redirect is logged with its status and not
// followed; a webhook registered while private targets were allowed is
// refused once they are not.
func TestDeliveryLog(t *testing.T) {
	closed := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "http://" + addr + "/in"
	}
	tests := []struct {
		name   string
		url    func(t *testing.T, srv *countingServer) string
		reply  func(w http.ResponseWriter) // of the receiver; nil: 204
		allow  bool                        // the Deliverer's AllowPrivate
		status int
		err    string // the logged error, exactly
		state  string // of the message afterwards
		hits   int32  // requests the receiver answered
	}{
		{"delivered", func(_ *testing.T, s *countingServer) string { return s.url }, nil, true, 204, "", "sent", 1},
		{"connection refused", func(t *testing.T, _ *countingServer) string { return closed(t) }, nil, true, 0, deliver.ErrRefused, "pending", 0},
		{"TLS to a plain server", func(_ *testing.T, s *countingServer) string { return strings.Replace(s.url, "http:", "https:", 1) }, nil, true, 0, deliver.ErrTLS, "pending", 0},
		{"DNS lookup failed", func(_ *testing.T, s *countingServer) string {
			return fmt.Sprintf("http://nowhere.invalid:%d/in", s.port)
		}, nil, true, 0, deliver.ErrDNS, "pending", 0},
		{"redirect not followed", func(_ *testing.T, s *countingServer) string { return s.url }, func(w http.ResponseWriter) {
			w.Header().Set("Location", "http://169.254.169.254/latest/meta-data/")
			w.WriteHeader(http.StatusTemporaryRedirect)
		}, true, 307, "HTTP 307 Temporary Redirect", "dead", 1},
		{"registered when allowed, refused now", func(_ *testing.T, s *countingServer) string { return s.url }, nil, false, 0,
			deliver.ErrBlocked + ": must be https, not http (baton serve --webhook-allow-private allows it)", "dead", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := newHookDB(t, storetest.SQLite)
			if err := db.SetWebhookAllowPrivate(context.Background(), true); err != nil {
				t.Fatal(err)
			}
			srv := newCountingServer(t, false)
			srv.reply = tt.reply
			if err := db.CreateWebhook(storetest.System(), &baton.Webhook{URL: tt.url(t, srv), Secret: hookSecret, Events: assigned}); err != nil {
				t.Fatal(err)
			}
			assign(t, db)
			d := &deliver.Deliverer{Outbox: db, Webhook: &notify.Sender{Timeout: 5 * time.Second}, Name: "t", AllowPrivate: tt.allow,
				Resolver: fakeDNS(netip.Addr{})}
			log := deliverAll(t, db, d)
			if len(log) != 1 || log[0].Status != tt.status || log[0].Error != tt.err || log[0].State != tt.state || srv.hits.Load() != tt.hits {
				t.Fatalf("log %+v, %d requests; want status %d, error %q, %s, %d requests", log, srv.hits.Load(), tt.status, tt.err, tt.state, tt.hits)
			}
		})
	}
}

// assigned subscribes a webhook to lead.assigned only, the one event that
// assign makes it count.
var assigned = []string{"lead.assigned"}

// newHookDB opens a database with a team and the handoff policy, so that a
// new lead is assigned and its lead.assigned event written for the webhooks.
func newHookDB(t *testing.T, open func(testing.TB) *store.DB) *store.DB {
	t.Helper()
	db := open(t)
	storetest.SeedTeam(t, db)
	if _, err := db.PublishDocument(storetest.System(), e2ePolicy); err != nil {
		t.Fatal(err)
	}
	return db
}

var leads atomic.Int64

// assign makes a new lead an MQL: its assignment is an event for every
// active webhook.
func assign(t *testing.T, db *store.DB) {
	t.Helper()
	i := leads.Add(1)
	l := storetest.MustLead(t, db, &baton.Lead{Email: fmt.Sprintf("vp%d@acme.com", i), Title: "VP Sales"})
	now := db.Now()
	mustEvents(t, db, baton.EventInput{ID: fmt.Sprintf("%d-a", i), LeadID: l.ID, Type: baton.EventPricingPageView, OccurredAt: now},
		baton.EventInput{ID: fmt.Sprintf("%d-b", i), LeadID: l.ID, Type: baton.EventPricingPageView, OccurredAt: now})
}

// deliverAll runs d until nothing is due (the clock does not move, so a
// retry is not) and returns the webhooks' delivery log, newest first.
func deliverAll(t *testing.T, db *store.DB, d *deliver.Deliverer) []baton.DeliveryAttempt {
	t.Helper()
	for {
		n, err := d.Once(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	ds, err := db.Deliveries(storetest.System(), baton.DeliveryFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []baton.DeliveryAttempt
	for _, a := range ds {
		if a.Event == "lead.assigned" {
			out = append(out, a)
		}
	}
	return out
}

// countingServer is a webhook receiver on loopback that counts the
// connections made to it and the requests it answered.
type countingServer struct {
	url   string
	port  int
	conns atomic.Int32
	hits  atomic.Int32
	reply func(w http.ResponseWriter)
}

func newCountingServer(t *testing.T, tls bool) *countingServer {
	s := &countingServer{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		s.hits.Add(1)
		if s.reply != nil {
			s.reply(w)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // TLS handshakes that fail on purpose
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	s.url = srv.URL + "/in"
	s.port = srv.Listener.Addr().(*net.TCPAddr).Port
	return s
}

// fakeDNS is a resolver whose DNS server, in the test, answers every query
// for an A (or AAAA) record with ip, and any other with no record; the
// invalid Addr answers every name with NXDOMAIN. The Deliverer resolves with
// it as with a real server, so what its dialer checks is the address the
// name resolved to.
func fakeDNS(ip netip.Addr) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		client, server := net.Pipe()
		go serveDNS(server, ip)
		return client, nil
	}}
}

// serveDNS answers DNS queries over a stream (each message after its
// two-byte length) until the client hangs up.
func serveDNS(c net.Conn, ip netip.Addr) {
	defer c.Close()
	for {
		var size [2]byte
		if _, err := io.ReadFull(c, size[:]); err != nil {
			return
		}
		q := make([]byte, binary.BigEndian.Uint16(size[:]))
		if _, err := io.ReadFull(c, q); err != nil {
			return
		}
		// The question follows the 12-byte header: a name in labels ending
		// with a zero, then its type and class.
		end := 12
		for end < len(q) && q[end] != 0 {
			end += int(q[end]) + 1
		}
		end += 5
		if end > len(q) {
			return
		}
		qtype := binary.BigEndian.Uint16(q[end-4:])
		rcode := byte(0)
		if !ip.IsValid() {
			rcode = 3 // NXDOMAIN
		}
		// The id, a recursive response, one question, no other records yet.
		resp := append(q[:2:2], 0x81, 0x80|rcode, 0, 1, 0, 0, 0, 0, 0, 0)
		resp = append(resp, q[12:end]...)
		if (qtype == 1 && ip.Is4()) || (qtype == 28 && ip.Is6()) {
			resp[7] = 1 // one answer: the name (a pointer to the question's), type, class IN, TTL 60 s, the address
			resp = append(resp, 0xc0, 12, 0, byte(qtype), 0, 1, 0, 0, 0, 60, 0, byte(ip.BitLen()/8))
			resp = append(resp, ip.AsSlice()...)
		}
		if _, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(resp))), resp...)); err != nil {
			return
		}
	}
}
