package deliver_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/deliver"
	"github.com/batonhq/baton/notify"
	"github.com/batonhq/baton/notify/smtptest"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

var e2ePolicy = storetest.Policy + `
handoff:
  sdr:
    within: 4h
    remind_at: 0.75
    on_breach: reassign
    routes:
      - name: East SDRs
        pool: East
  ae:
    within: 8h
    routes:
      - name: East closers
        pool: East
  rejection:
    cool_down: 10d
  bant: [budget, authority, need, timing]
`

// receiver is a webhook endpoint that can be down, verifies every signature,
// Baton's and Standard Webhooks' (with that project's own library), and
// counts each delivery id it accepted.
type receiver struct {
	secret []byte
	down   atomic.Bool
	mu     sync.Mutex
	got    map[string]int // delivery id -> times accepted
	events []string
	bad    int
	tries  int
	// ids are the webhook-id of each try of a Baton-Delivery: the same on
	// every retry.
	ids map[string]map[string]bool
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.tries++
	if rc.down.Load() {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	id := r.Header.Get("Baton-Delivery")
	if rc.ids == nil {
		rc.ids = map[string]map[string]bool{}
	}
	if rc.ids[id] == nil {
		rc.ids[id] = map[string]bool{}
	}
	rc.ids[id][r.Header.Get("webhook-id")] = true
	if err := notify.Verify(rc.secret, r.Header.Get("Baton-Signature"), body, time.Now(), 5*time.Minute); err != nil {
		rc.bad++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	// A secret Baton made is whsec_ and base64; one of the operator's own
	// is the key as it is, the libraries' "raw" key.
	wh, err := standardwebhooks.NewWebhookRaw(rc.secret)
	if strings.HasPrefix(string(rc.secret), "whsec_") {
		wh, err = standardwebhooks.NewWebhook(string(rc.secret))
	}
	if err == nil {
		err = wh.Verify(body, r.Header)
	}
	if err != nil {
		rc.bad++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	rc.got[id]++
	rc.events = append(rc.events, r.Header.Get("Baton-Event"))
	w.WriteHeader(http.StatusNoContent)
}

// TestHandoffEndToEnd moves the clock through a whole handoff: an MQL routed
// with its reason, reminded, breached, escalated by email, reassigned,
// accepted, worked, qualified, handed to an AE, converted and won; and a
// second lead rejected, recycled, and re-promoted after its cool-down. A
// webhook receiver that is down for a while still gets every event once,
// signed, and checks each signature with the Standard Webhooks library too.
func TestHandoffEndToEnd(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		sys := storetest.System()
		tm := storetest.SeedTeam(t, db) // every seeded user is in team East
		mail := smtptest.Start(t)
		rc := &receiver{got: map[string]int{}, ids: map[string]map[string]bool{}}
		rc.down.Store(true)
		srv := httptest.NewServer(rc)
		defer srv.Close()
		// The receiver is an http server on loopback: the operator allows it.
		if err := db.SetWebhookAllowPrivate(context.Background(), true); err != nil {
			t.Fatal(err)
		}
		hook := &baton.Webhook{URL: srv.URL}
		if err := db.CreateWebhook(sys, hook); err != nil {
			t.Fatal(err)
		}
		rc.secret = []byte(hook.Secret) // the one Baton made, as a receiver copies it
		if err := db.SetEmail(context.Background(), true); err != nil {
			t.Fatal(err)
		}
		if _, err := db.PublishDocument(sys, e2ePolicy); err != nil {
			t.Fatal(err)
		}
		d := &deliver.Deliverer{Outbox: db, Webhook: &notify.Sender{Timeout: 2 * time.Second}, AllowPrivate: true, Name: "t",
			SMTP: &notify.SMTPConfig{Host: mail.Host(), Port: mail.Port(), From: "baton@example.com", TLS: "none"}}
		handlers := db.JobHandlers()
		tick := func() {
			t.Helper()
			for {
				ran, err := db.RunDueJob(sys, "t", handlers)
				if err != nil {
					t.Fatal(err)
				}
				if !ran {
					break
				}
			}
			for {
				n, err := d.Once(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					break
				}
			}
		}
		as := storetest.As
		stageOf := func(id int64) baton.Stage {
			l, err := db.FindLeadByID(sys, id)
			if err != nil {
				t.Fatal(err)
			}
			return l.Stage
		}

		// Lead A: a VP who looks at pricing twice becomes an MQL, routed round robin.
		a := storetest.MustLead(t, db, &baton.Lead{Email: "vp@acme.com", Name: "Vera Page", Title: "VP Sales", Company: "Acme"})
		mustEvents(t, db, baton.EventInput{ID: "a1", LeadID: a.ID, Type: baton.EventPricingPageView, OccurredAt: clock.Now()},
			baton.EventInput{ID: "a2", LeadID: a.ID, Type: baton.EventPricingPageView, OccurredAt: clock.Now()})
		hs, _ := db.Handoffs(sys, a.ID)
		if stageOf(a.ID) != baton.StageMQL || len(hs) != 1 || hs[0].Why != `rule "East SDRs", pool "East", round robin turn 1` {
			t.Fatalf("A not routed: %s %+v", stageOf(a.ID), hs)
		}
		first := hs[0].OwnerID
		tick()
		clock.Advance(3*time.Hour + time.Minute) // the reminder at 75% of four hours
		tick()
		clock.Advance(time.Hour) // the breach
		tick()
		hs, _ = db.Handoffs(sys, a.ID)
		if len(hs) != 2 || hs[0].State != baton.HandoffReassigned || hs[1].OwnerID == first {
			t.Fatalf("not reassigned after the breach: %+v", hs)
		}
		second := map[int64]*baton.User{tm.SDR1.ID: tm.SDR1, tm.SDR2.ID: tm.SDR2}[hs[1].OwnerID]
		firstUser := map[int64]*baton.User{tm.SDR1.ID: tm.SDR1, tm.SDR2.ID: tm.SDR2}[first]
		// The escalation email reached the first rep's manager over SMTP.
		mgr, _ := db.FindUserByID(sys, *firstUser.ManagerID)
		found := false
		for _, m := range mail.Messages() {
			if len(m.To) == 1 && m.To[0] == mgr.Email && strings.Contains(string(m.Data), "Escalation") {
				found = true
			}
		}
		if !found {
			t.Fatalf("no escalation email to %s among %d messages", mgr.Email, len(mail.Messages()))
		}
		// The second rep accepts, calls, qualifies; the AE accepts, converts, wins.
		if _, err := db.Accept(as(second), a.ID); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			if err := db.LogAttempt(as(second), a.ID, &baton.Attempt{Channel: baton.ChannelCall, Outcome: "connected"}); err != nil {
				t.Fatal(err)
			}
		}
		budget := 40000.0
		if _, err := db.Qualify(as(second), a.ID, baton.BANT{BudgetAmount: &budget, BudgetCurrency: "USD", Authority: baton.AuthorityDecisionMaker,
			Need: "replace spreadsheets", Timing: baton.TimingImmediate}); err != nil {
			t.Fatal(err)
		}
		if l, _ := db.FindLeadByID(sys, a.ID); l.Stage != baton.StageSQL || *l.OwnerID != tm.AE.ID {
			t.Fatalf("SQL not routed to the AE: %+v", l)
		}
		clock.Advance(time.Hour)
		tick()
		if _, err := db.Accept(as(tm.AE), a.ID); err != nil {
			t.Fatal(err)
		}
		opp, created, err := db.Convert(as(tm.AE), a.ID, baton.ConvertInput{Name: "Acme platform", Amount: 40000, IdempotencyKey: "acme-1"})
		if err != nil || !created {
			t.Fatal(err)
		}
		if again, created, err := db.Convert(as(tm.AE), a.ID, baton.ConvertInput{Name: "Acme platform", Amount: 40000, IdempotencyKey: "acme-1"}); err != nil || created || again.ID != opp.ID {
			t.Fatalf("retried conversion: %+v %v %v", again, created, err)
		}
		clock.Advance(10 * 24 * time.Hour)
		if _, err := db.CloseLead(as(tm.AE), a.ID, baton.CloseInput{Won: true, Value: 38000}); err != nil {
			t.Fatal(err)
		}
		tick()

		// Lead B: rejected and recycled; it comes back only after its cool-down.
		b := storetest.MustLead(t, db, &baton.Lead{Email: "vp@globex.com", Title: "VP Ops"})
		mustEvents(t, db, baton.EventInput{ID: "b1", LeadID: b.ID, Type: baton.EventPricingPageView, OccurredAt: clock.Now()},
			baton.EventInput{ID: "b2", LeadID: b.ID, Type: baton.EventPricingPageView, OccurredAt: clock.Now()})
		hb, _ := db.Handoffs(sys, b.ID)
		owner := map[int64]*baton.User{tm.SDR1.ID: tm.SDR1, tm.SDR2.ID: tm.SDR2}[hb[0].OwnerID]
		if _, err := db.Reject(as(owner), b.ID, baton.Rejection{Reason: baton.ReasonNoNeed, Note: "happy with their vendor"}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(24 * time.Hour)
		mustEvents(t, db, baton.EventInput{ID: "b3", LeadID: b.ID, Type: baton.EventPricingPageView, OccurredAt: clock.Now()},
			baton.EventInput{ID: "b4", LeadID: b.ID, Type: baton.EventPricingPageView, OccurredAt: clock.Now()})
		if s := stageOf(b.ID); s != baton.StageRecycled {
			t.Fatalf("re-promoted during the cool-down: %s", s)
		}
		clock.Advance(10 * 24 * time.Hour)
		mustEvents(t, db, baton.EventInput{ID: "b5", LeadID: b.ID, Type: baton.EventPricingPageView, OccurredAt: clock.Now()},
			baton.EventInput{ID: "b6", LeadID: b.ID, Type: baton.EventPricingPageView, OccurredAt: clock.Now()})
		if s := stageOf(b.ID); s != baton.StageMQL {
			t.Fatalf("not re-promoted after the cool-down: %s", s)
		}
		hist, _ := db.History(sys, b.ID)
		promotions := 0
		for _, h := range hist {
			if h.Action == baton.ActionStage && h.To == string(baton.StageMQL) {
				promotions++
			}
		}
		if promotions != 2 {
			t.Fatalf("%d promotions of B", promotions)
		}
		tick()

		// The receiver comes back; every event arrives once, signed.
		rc.mu.Lock()
		triedWhileDown := rc.tries
		rc.mu.Unlock()
		if triedWhileDown == 0 {
			t.Fatal("nothing was tried while the receiver was down")
		}
		rc.down.Store(false)
		for i := 0; i < 30; i++ {
			clock.Advance(2 * time.Hour)
			tick()
		}
		var total, sent int
		if err := db.SQL().QueryRow(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN state = 'sent' THEN 1 ELSE 0 END), 0) FROM outbox WHERE channel = 'webhook'`).Scan(&total, &sent); err != nil {
			t.Fatal(err)
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if total == 0 || sent != total || len(rc.got) != total || rc.bad != 0 {
			t.Fatalf("webhooks: %d in the outbox, %d sent, %d distinct received, %d bad signatures", total, sent, len(rc.got), rc.bad)
		}
		for id, n := range rc.got {
			if n != 1 {
				t.Fatalf("delivery %s received %d times", id, n)
			}
			if len(rc.ids[id]) != 1 || !rc.ids[id][id] {
				t.Fatalf("delivery %s came with webhook-id %v over its tries, want only %s", id, rc.ids[id], id)
			}
		}
		t.Logf("%d deliveries accepted, each verified with the Standard Webhooks library and by Baton-Signature (%d attempts in all, those while the receiver was down included)", len(rc.got), rc.tries)
		want := []string{"lead.created", "lead.mql", "lead.assigned", "lead.reminder", "lead.breached", "lead.accepted", "lead.qualified",
			"lead.converted", "lead.won", "lead.rejected"}
		got := strings.Join(rc.events, ",")
		for _, e := range want {
			if !strings.Contains(got, e) {
				t.Fatalf("event %s never delivered: %s", e, got)
			}
		}
		var logged, failed int
		db.SQL().QueryRow(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN d.error <> '' THEN 1 ELSE 0 END), 0) FROM deliveries d
			JOIN outbox o ON o.id = d.outbox_id WHERE o.channel = 'webhook'`).Scan(&logged, &failed)
		if logged <= total || failed == 0 {
			t.Fatalf("%d attempts logged for %d messages (%d failed): the failures were not logged", logged, total, failed)
		}

		// The metrics say what happened: A and B's two promotions, the
		// eight events, A's breach and B's three while the clock ran on
		// (to the next rep, to the manager once, then into the pool: no
		// handoff open), every webhook delivered after the failures.
		checkMetrics(t, db, map[string]float64{
			"baton_stats_up":                                                      1,
			"baton_mqls_promoted_total":                                           3,
			`baton_events_ingested_total{result="created"}`:                       8,
			`baton_events_ingested_total{result="duplicate"}`:                     0,
			`baton_handoffs_breached_total{kind="sdr"}`:                           4,
			`baton_handoffs_breached_total{kind="ae"}`:                            0,
			`baton_handoffs_open{kind="sdr"}`:                                     0,
			`baton_handoffs_open{kind="ae"}`:                                      0,
			`baton_handoffs_past_due{kind="sdr"}`:                                 0,
			`baton_outbox_deliveries_total{channel="webhook",result="delivered"}`: float64(total),
			`baton_outbox_deliveries_total{channel="webhook",result="failed"}`:    float64(failed),
			`baton_outbox_pending{channel="webhook"}`:                             0,
			`baton_outbox_dead{channel="webhook"}`:                                0,
			"baton_policy_version":                                                1,
			"baton_model_version":                                                 0,
			"baton_rescore_running":                                               0,
			"baton_rescore_progress_ratio":                                        1,
		})
	})
}

func mustEvents(t *testing.T, db *store.DB, events ...baton.EventInput) {
	t.Helper()
	res, err := db.RecordEvents(storetest.System(), events)
	if err != nil || res.Rejected > 0 {
		t.Fatalf("events: %+v %v", res, err)
	}
}
