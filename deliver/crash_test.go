package deliver_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/deliver"
	"github.com/batonhq/baton/notify"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// crashWorld is a database whose outbox holds webhook messages to a
// receiver, and the messages a worker "w1" claimed just before it died: the
// claim is made, its results never recorded.
type crashWorld struct {
	db      *store.DB
	clock   *storetest.Clock
	rc      *receiver
	claimed []baton.OutboxMessage
	// during runs inside the receiver, while a delivery is being sent.
	during func(deliveryID string)
}

func newCrashWorld(t *testing.T, open func(testing.TB) *store.DB) *crashWorld {
	t.Helper()
	w := &crashWorld{db: open(t), clock: storetest.NewClock()}
	w.db.Now = w.clock.Now
	sys := storetest.System()
	storetest.SeedTeam(t, w.db)
	w.rc = &receiver{secret: []byte("a-very-secret-webhook-key"), got: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if w.during != nil {
			w.during(r.Header.Get("Baton-Delivery"))
		}
		w.rc.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	// The receiver is an http server on loopback: the operator allows it.
	if err := w.db.SetWebhookAllowPrivate(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if err := w.db.CreateWebhook(sys, &baton.Webhook{URL: srv.URL, Secret: string(w.rc.secret)}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.PublishDocument(sys, e2ePolicy); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		l := storetest.MustLead(t, w.db, &baton.Lead{Email: fmt.Sprintf("vp%d@acme.com", i), Title: "VP Sales"})
		mustEvents(t, w.db, baton.EventInput{ID: fmt.Sprintf("%d-a", i), LeadID: l.ID, Type: baton.EventPricingPageView, OccurredAt: w.clock.Now()},
			baton.EventInput{ID: fmt.Sprintf("%d-b", i), LeadID: l.ID, Type: baton.EventPricingPageView, OccurredAt: w.clock.Now()})
	}
	var pending int
	if err := w.db.SQL().QueryRow(`SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND channel = 'webhook'`).Scan(&pending); err != nil {
		t.Fatal(err)
	}
	var err error
	if w.claimed, err = w.db.ClaimOutbox(context.Background(), "w1", 20, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	if pending < 3 || len(w.claimed) != pending {
		t.Fatalf("w1 claimed %d of %d pending webhook messages", len(w.claimed), pending)
	}
	return w
}

// attempts lists a message's logged attempts, newest first.
func (w *crashWorld) attempts(t *testing.T, outboxID int64) []baton.DeliveryAttempt {
	t.Helper()
	ds, err := w.db.Deliveries(storetest.System(), baton.DeliveryFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []baton.DeliveryAttempt
	for _, d := range ds {
		if d.OutboxID == outboxID {
			out = append(out, d)
		}
	}
	return out
}

// sender returns a Deliverer of webhooks under a name.
func (w *crashWorld) sender(name string, outbox baton.OutboxService, log *bytes.Buffer) *deliver.Deliverer {
	d := &deliver.Deliverer{Outbox: outbox, Webhook: &notify.Sender{Timeout: 2 * time.Second}, AllowPrivate: true, Name: name, Poll: time.Millisecond}
	if log != nil {
		d.Logger = slog.New(slog.NewTextHandler(log, nil))
	}
	return d
}

// wantAttempts checks a message's log, newest first, against results and the
// workers that made them, and each error against a part it must contain.
func wantAttempts(t *testing.T, got []baton.DeliveryAttempt, want ...[3]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d attempts logged, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Result != w[0] || got[i].Worker != w[1] || !strings.Contains(got[i].Error, w[2]) {
			t.Fatalf("attempt %d: %s by %s, %q; want %s by %s, containing %q", i, got[i].Result, got[i].Worker, got[i].Error, w[0], w[1], w[2])
		}
		if (got[i].FinishedAt == nil) != (w[0] == baton.AttemptInFlight) {
			t.Fatalf("attempt %d (%s) finished at %v", i, got[i].Result, got[i].FinishedAt)
		}
	}
}

// stopAfterClaims stops a Deliverer's Run at its claim after the first few,
// so a test can run Run to its end without a deadline.
type stopAfterClaims struct {
	baton.OutboxService
	left   int
	cancel context.CancelFunc
}

func (s *stopAfterClaims) ClaimOutbox(ctx context.Context, worker string, n int, lease time.Duration) ([]baton.OutboxMessage, error) {
	if s.left == 0 {
		s.cancel()
		return nil, nil
	}
	s.left--
	return s.OutboxService.ClaimOutbox(ctx, worker, n, lease)
}

// TestClaimLogsAttemptInFlight: the claim logs each attempt, in flight,
// before anything is sent, and the attempt is still in flight while the
// receiver is being sent to.
func TestClaimLogsAttemptInFlight(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		w := newCrashWorld(t, open)
		for _, m := range w.claimed {
			a := w.attempts(t, m.ID)
			wantAttempts(t, a, [3]string{baton.AttemptInFlight, "w1", "in flight: sent by instance w1, no answer yet"})
			if a[0].ID != m.AttemptID || m.AttemptID == 0 {
				t.Fatalf("message %d claimed with attempt %d, logged %d", m.ID, m.AttemptID, a[0].ID)
			}
		}
		// A lease that ran out with the attempt unfinished says so.
		w.clock.Advance(2 * time.Minute)
		wantAttempts(t, w.attempts(t, w.claimed[0].ID), [3]string{baton.AttemptInFlight, "w1", "instance w1's lease ran out"})

		// Seen from the receiver, while w2 sends: w2's attempt is logged and open.
		var mu sync.Mutex
		seen := map[string]string{}
		w.during = func(id string) {
			// The receiver's goroutine: it records what it saw, the test checks.
			ds, err := w.db.Deliveries(storetest.System(), baton.DeliveryFilter{Limit: 1000})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				seen[id] = err.Error()
				return
			}
			for _, d := range ds { // newest first
				if strconv.FormatInt(d.OutboxID, 10) == id {
					seen[id] = d.Result + " by " + d.Worker
					return
				}
			}
		}
		if n, err := w.sender("w2", w.db, nil).Once(context.Background()); err != nil || n != len(w.claimed) {
			t.Fatalf("w2 delivered %d of %d: %v", n, len(w.claimed), err)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, m := range w.claimed {
			if got := seen[strconv.FormatInt(m.ID, 10)]; got != "in_flight by w2" {
				t.Fatalf("during the delivery of %d its newest attempt was %q", m.ID, got)
			}
			wantAttempts(t, w.attempts(t, m.ID), [3]string{baton.AttemptDelivered, "w2", ""}, [3]string{baton.AttemptInterrupted, "w1", "lease ran out"})
		}
	})
}

// TestRestartReleasesOwnLeases: an instance restarted under the name of one
// that died mid-send (w1) sends w1's messages at once, without waiting out
// the leases, with the same delivery ids; the log shows the interrupted
// attempt and then the one that delivered.
func TestRestartReleasesOwnLeases(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		w := newCrashWorld(t, open)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var log bytes.Buffer
		// Run releases, claims and delivers, then claims again (and stops).
		w.sender("w1", &stopAfterClaims{OutboxService: w.db, left: 1, cancel: cancel}, &log).Run(ctx)

		w.rc.mu.Lock()
		defer w.rc.mu.Unlock()
		if len(w.rc.got) != len(w.claimed) || w.rc.bad != 0 {
			t.Fatalf("the restarted w1 delivered %d of %d messages (%d bad signatures)", len(w.rc.got), len(w.claimed), w.rc.bad)
		}
		for _, m := range w.claimed {
			if n := w.rc.got[strconv.FormatInt(m.ID, 10)]; n != 1 {
				t.Fatalf("delivery id %d received %d times", m.ID, n)
			}
			wantAttempts(t, w.attempts(t, m.ID), [3]string{baton.AttemptDelivered, "w1", ""},
				[3]string{baton.AttemptInterrupted, "w1", "interrupted: instance w1 stopped before the receiver answered; it may have been delivered"})
			var state string
			var attempts int
			if err := w.db.SQL().QueryRow(`SELECT state, attempts FROM outbox WHERE id = $1`, m.ID).Scan(&state, &attempts); err != nil {
				t.Fatal(err)
			}
			if state != "sent" || attempts != 2 {
				t.Fatalf("message %d: %s after %d attempts", m.ID, state, attempts)
			}
		}
		if want := fmt.Sprintf("released=%d", len(w.claimed)); !strings.Contains(log.String(), want) {
			t.Fatalf("the log does not say %s: %s", want, log.String())
		}
		// Nothing left to release.
		if n, err := w.db.ReleaseLeases(context.Background(), "w1"); err != nil || n != 0 {
			t.Fatalf("released %d again: %v", n, err)
		}
	})
}

// TestOtherInstanceWaitsForLease: another instance (w2) leaves w1's
// messages alone until w1's lease runs out, then sends them and shows w1's
// attempt interrupted; w1's answer arriving after that is logged on its
// attempt without moving the message.
func TestOtherInstanceWaitsForLease(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		w := newCrashWorld(t, open)
		ctx := context.Background()
		w2 := w.sender("w2", w.db, nil)
		if n, err := w.db.ReleaseLeases(ctx, "w2"); err != nil || n != 0 {
			t.Fatalf("w2 released %d leases it never held: %v", n, err)
		}
		w.clock.Advance(2*time.Minute - time.Second)
		if n, err := w2.Once(ctx); err != nil || n != 0 {
			t.Fatalf("w2 took %d of w1's messages before the lease ran out: %v", n, err)
		}
		w.rc.mu.Lock()
		tries := w.rc.tries
		w.rc.mu.Unlock()
		if tries != 0 {
			t.Fatalf("%d deliveries during w1's lease", tries)
		}
		for _, m := range w.claimed {
			wantAttempts(t, w.attempts(t, m.ID), [3]string{baton.AttemptInFlight, "w1", "sent by instance w1"})
		}

		w.clock.Advance(time.Second) // the lease runs out
		if n, err := w2.Once(ctx); err != nil || n != len(w.claimed) {
			t.Fatalf("w2 took %d of w1's %d messages after the lease: %v", n, len(w.claimed), err)
		}
		for _, m := range w.claimed {
			wantAttempts(t, w.attempts(t, m.ID), [3]string{baton.AttemptDelivered, "w2", ""},
				[3]string{baton.AttemptInterrupted, "w1", "interrupted: instance w1's lease ran out before the receiver answered"})
		}
		w.rc.mu.Lock()
		for _, m := range w.claimed {
			if n := w.rc.got[strconv.FormatInt(m.ID, 10)]; n != 1 {
				t.Fatalf("delivery id %d received %d times", m.ID, n)
			}
		}
		w.rc.mu.Unlock()

		// w1 was only slow: its failed answer comes now. It is logged on w1's
		// attempt; the message stays sent.
		late := w.claimed[0]
		if err := w.db.FinishOutbox(ctx, late, baton.DeliveryResult{Status: 503, Error: "HTTP 503", Retry: true}); err != nil {
			t.Fatal(err)
		}
		wantAttempts(t, w.attempts(t, late.ID), [3]string{baton.AttemptDelivered, "w2", ""},
			[3]string{baton.AttemptInterrupted, "w1", "lease ran out before the receiver answered; it may have been delivered; the receiver answered later: HTTP 503"})
		var state string
		if err := w.db.SQL().QueryRow(`SELECT state FROM outbox WHERE id = $1`, late.ID).Scan(&state); err != nil || state != "sent" {
			t.Fatalf("after w1's late answer the message is %q (%v)", state, err)
		}
	})
}
