package api_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/batonhq/baton"
)

// handoffPolicy is testPolicy with a handoff section that routes every MQL
// to the fixture's development reps (sdrA and sdrB in turn) and every SQL
// to its account executive.
var handoffPolicy = testPolicy + `
handoff:
  sdr:
    within: 4h
    remind_at: 0.75
    on_breach: reassign
    routes:
      - name: Everyone
  ae:
    within: 8h
    on_breach: notify
    routes:
      - name: Closers
  rejection:
    unable_to_reach: {attempts: 2, days: 5}
    cool_down: 10d
    track: "nurture: {reason}"
  bant: [budget, authority, need]
  opportunity_within: 7d
`

// fullBANT has every part of a BANT record.
const fullBANT = `{"budget_amount":25000,"budget_currency":"EUR","budget_confirmed":true,"authority":"decision_maker","decision_maker":"CFO","need":"onboarding","timing":"this_quarter"}`

// routedMQL makes a new lead owned by owner ("" for none) and has marketing
// move it to mql, which routes it: to its owner when it has one.
func (f *fixture) routedMQL(owner string) *baton.Lead {
	f.t.Helper()
	l := f.lead(owner, baton.StageNew)
	l, err := f.db.ChangeStage(f.as(marketing), l.ID, baton.StageChange{To: baton.StageMQL, Reason: "booth visit"})
	if err != nil {
		f.t.Fatalf("move lead to mql: %v", err)
	}
	return l
}

// keyOf returns the fixture's key of the user with the id.
func (f *fixture) keyOf(t *testing.T, id *int64) string {
	t.Helper()
	if id == nil {
		t.Fatal("the lead has no owner")
	}
	for k, u := range f.users {
		if u.ID == *id {
			return k
		}
	}
	t.Fatalf("no user %d", *id)
	return ""
}

// want checks a response's status, and for an error its field, and decodes
// a success into v (if not nil), zeroed first.
func want(t *testing.T, what string, st int, b []byte, status int, field string, v any) {
	t.Helper()
	if st != status {
		t.Fatalf("%s: status %d, want %d: %s", what, st, status, b)
	}
	if st >= 400 {
		var e apiError
		decodeJSON(t, b, &e)
		if e.Error.Field != field {
			t.Fatalf("%s: field %q, want %q: %s", what, e.Error.Field, field, b)
		}
		return
	}
	if v != nil {
		reflect.ValueOf(v).Elem().SetZero() // no field left from an earlier response
		decodeJSON(t, b, v)
	}
}

type queueBody struct {
	Items []baton.QueueItem `json:"items"`
}

type handoffsBody struct {
	Items []baton.Handoff `json:"items"`
}

type notificationsBody struct {
	Items []baton.Notification `json:"items"`
}

// TestHandoffFlow runs the handoff through HTTP: marketing qualifies leads,
// the reps' queues show them with their deadlines, rejections need their
// reasons, attempts are logged, a lead is accepted, qualified with a BANT
// record, routed to the AE, sent back, qualified again, converted once
// whatever the retries, and closed won.
func TestHandoffFlow(t *testing.T) {
	f := newFixture(t)
	if _, err := f.db.PublishDocument(sys(), handoffPolicy); err != nil {
		t.Fatal(err)
	}
	path := func(l *baton.Lead, suffix string) string { return "/api/v1/leads/" + itoa(l.ID) + suffix }

	// Marketing qualifies a lead: it is routed to a development rep.
	first := f.lead("", baton.StageNew)
	var l baton.Lead
	st, b := f.do(marketing, "POST", path(first, "/transitions"), `{"to":"mql","reason":"booth visit"}`)
	want(t, "mql", st, b, 200, "", &l)
	rep := f.keyOf(t, l.OwnerID)
	if rep != sdrA && rep != sdrB {
		t.Fatalf("the MQL went to %s, not an SDR", rep)
	}
	other := map[string]string{sdrA: sdrB, sdrB: sdrA}[rep]

	// It is in the owner's queue, with its deadline; not in the other rep's.
	var q queueBody
	st, b = f.do(rep, "GET", "/api/v1/queue", "")
	want(t, "queue", st, b, 200, "", &q)
	if len(q.Items) != 1 || q.Items[0].Lead.ID != first.ID || q.Items[0].Handoff == nil {
		t.Fatalf("queue of %s: %s", rep, b)
	}
	if h := q.Items[0].Handoff; h.Kind != baton.HandoffSDR || h.State != baton.HandoffOpen || h.OwnerID != *l.OwnerID ||
		h.DueAt.IsZero() || !h.DueAt.After(h.AssignedAt) || !strings.Contains(string(b), `"due_at":"`) {
		t.Fatalf("queue item's handoff: %s", b)
	}
	st, b = f.do(other, "GET", "/api/v1/queue?sort=deadline", "")
	want(t, "other queue", st, b, 200, "", &q)
	if len(q.Items) != 0 {
		t.Fatalf("the lead is in %s's queue too: %s", other, b)
	}
	st, b = f.do(rep, "GET", "/api/v1/queue?sort=oldest", "")
	want(t, "queue sort", st, b, 400, "sort", nil)

	// Rejections need an agreed reason and what it asks for.
	for _, c := range []struct{ name, body, field string }{
		{"no reason", `{}`, "reason"},
		{"unknown reason", `{"reason":"meh"}`, "reason"},
		{"other without note", `{"reason":"other"}`, "note"},
		{"duplicate of nothing", `{"reason":"duplicate"}`, "duplicate_of"},
		{"unable to reach without attempts", `{"reason":"unable_to_reach"}`, "reason"},
		{"unknown field", `{"reason":"no_need","why":"x"}`, "why"},
	} {
		st, b := f.do(rep, "POST", path(first, "/reject"), c.body)
		want(t, "reject: "+c.name, st, b, 400, c.field, nil)
	}
	// The other rep may not answer for it (to them it is not found, with
	// the words of a lead that does not exist); marketing may not either.
	st, b = f.do(other, "POST", path(first, "/reject"), `{"reason":"no_need"}`)
	want(t, "reject by another rep", st, b, 404, "", nil)
	if st2, b2 := f.do(other, "POST", "/api/v1/leads/999999/reject", `{"reason":"no_need"}`); st2 != 404 ||
		strings.Replace(string(b), strconv.FormatInt(first.ID, 10), "999999", 1) != string(b2) {
		t.Fatalf("a lead that does not exist answers otherwise: %s against %s", b2, b)
	}
	st, b = f.do(marketing, "POST", path(first, "/accept"), "")
	want(t, "accept by marketing", st, b, 403, "", nil)

	// Two logged attempts make unable_to_reach a valid reason.
	st, b = f.do(rep, "POST", path(first, "/attempts"), `{"channel":"fax","outcome":"no_answer"}`)
	want(t, "attempt channel", st, b, 400, "channel", nil)
	st, b = f.do(rep, "POST", path(first, "/attempts"), `{"channel":"call","outcome":"no_answer","at":"yesterday"}`)
	want(t, "attempt time", st, b, 400, "at", nil)
	for _, body := range []string{`{"channel":"call","outcome":"no_answer"}`, `{"channel":"email","outcome":"bounced","note":"the address is dead"}`} {
		var a baton.Attempt
		st, b := f.do(rep, "POST", path(first, "/attempts"), body)
		want(t, "attempt", st, b, 201, "", &a)
		if a.ID == 0 || a.LeadID != first.ID || a.UserID != f.users[rep].ID || a.At.IsZero() {
			t.Fatalf("attempt: %s", b)
		}
	}
	var attempts struct {
		Items []baton.Attempt `json:"items"`
	}
	st, b = f.do(rep, "GET", path(first, "/attempts"), "")
	want(t, "attempts", st, b, 200, "", &attempts)
	if len(attempts.Items) != 2 || attempts.Items[1].Note != "the address is dead" {
		t.Fatalf("attempts: %s", b)
	}
	st, b = f.do(rep, "POST", path(first, "/reject"), `{"reason":"unable_to_reach","note":"voicemail twice"}`)
	want(t, "reject", st, b, 200, "", &l)
	if l.Stage != baton.StageRecycled || l.OwnerID != nil {
		t.Fatalf("rejected lead: %s", b)
	}
	var hs handoffsBody
	st, b = f.do(marketing, "GET", path(first, "/handoffs"), "")
	want(t, "handoffs", st, b, 200, "", &hs)
	if len(hs.Items) != 1 || hs.Items[0].State != baton.HandoffRejected || hs.Items[0].Met == nil || !*hs.Items[0].Met {
		t.Fatalf("handoffs of the rejected lead: %s", b)
	}
	var ns notificationsBody
	st, b = f.do(marketing, "GET", "/api/v1/notifications?unread=true", "")
	want(t, "marketing's inbox", st, b, 200, "", &ns)
	if len(ns.Items) != 1 || ns.Items[0].Kind != "rejected" || ns.Items[0].LeadID == nil || *ns.Items[0].LeadID != first.ID {
		t.Fatalf("marketing is not told of the rejection: %s", b)
	}

	// Another lead: accepted by its rep.
	second := f.lead("", baton.StageNew)
	st, b = f.do(marketing, "POST", path(second, "/transitions"), `{"to":"mql","reason":"asked for a demo"}`)
	want(t, "mql", st, b, 200, "", &l)
	rep = f.keyOf(t, l.OwnerID)
	st, b = f.do(rep, "POST", path(second, "/accept"), "")
	want(t, "accept", st, b, 200, "", &l)
	if l.Stage != baton.StageSAL || *l.OwnerID != f.users[rep].ID {
		t.Fatalf("accepted lead: %s", b)
	}
	st, b = f.do(rep, "POST", path(second, "/accept"), "")
	want(t, "accept again", st, b, 409, "stage", nil)

	// Half a BANT: 400, naming what is missing; a full one makes it an SQL
	// routed to the account executive.
	st, b = f.do(rep, "POST", path(second, "/qualify"), `{"need":"onboarding","authority":"none"}`)
	want(t, "half a BANT", st, b, 400, "bant", nil)
	if msg := string(b); !strings.Contains(msg, "budget") || !strings.Contains(msg, "authority") || strings.Contains(msg, "missing need") {
		t.Fatalf("half a BANT: %s", b)
	}
	st, b = f.do(rep, "POST", path(second, "/qualify"), `{"authority":"boss"}`)
	want(t, "bad authority", st, b, 400, "authority", nil)
	st, b = f.do(rep, "POST", path(second, "/qualify"), fullBANT)
	want(t, "qualify", st, b, 200, "", &l)
	if l.Stage != baton.StageSQL || l.OwnerID == nil || *l.OwnerID != f.users[ae].ID {
		t.Fatalf("qualified lead: %s", b)
	}
	st, b = f.do(ae, "GET", "/api/v1/queue", "")
	want(t, "AE queue", st, b, 200, "", &q)
	if len(q.Items) != 1 || q.Items[0].Lead.ID != second.ID || q.Items[0].Handoff.Kind != baton.HandoffAE {
		t.Fatalf("AE queue: %s", b)
	}

	// The AE sends it back (with a reason); the rep qualifies it again.
	st, b = f.do(ae, "POST", path(second, "/send-back"), `{"reason":"  "}`)
	want(t, "send back without reason", st, b, 400, "reason", nil)
	st, b = f.do(ae, "POST", path(second, "/send-back"), `{"reason":"no real budget yet"}`)
	want(t, "send back", st, b, 200, "", &l)
	if l.Stage != baton.StageSAL || *l.OwnerID != f.users[rep].ID {
		t.Fatalf("sent back: %s", b)
	}
	st, b = f.do(rep, "POST", path(second, "/qualify"), fullBANT)
	want(t, "qualify again", st, b, 200, "", &l)

	// Converted once: 201, then 200 with the same opportunity on a retry
	// with the same key; another key is a second conversion: 409.
	conv := `{"name":"Acme onboarding","amount":25000,"product":"Platform","expected_close":"2031-03-31T00:00:00Z"}`
	st, b = f.sendHeader(t, rep, "POST", path(second, "/convert"), conv, map[string]string{"Idempotency-Key": "k1"})
	want(t, "convert by the SDR", st, b, 403, "", nil)
	st, b = f.sendHeader(t, ae, "POST", path(second, "/convert"), `{"amount":1}`, map[string]string{"Idempotency-Key": "k1"})
	want(t, "convert without name", st, b, 400, "name", nil)
	var o1, o2 baton.Opportunity
	st, b = f.sendHeader(t, ae, "POST", path(second, "/convert"), conv, map[string]string{"Idempotency-Key": "k1"})
	want(t, "convert", st, b, 201, "", &o1)
	if o1.ID == 0 || o1.LeadID == nil || *o1.LeadID != second.ID || o1.Amount != 25000 || o1.Name != "Acme onboarding" {
		t.Fatalf("opportunity: %s", b)
	}
	st, b = f.sendHeader(t, ae, "POST", path(second, "/convert"), conv, map[string]string{"Idempotency-Key": "k1"})
	want(t, "convert retry", st, b, 200, "", &o2)
	if o2.ID != o1.ID {
		t.Fatalf("the retry made opportunity %d, the first %d", o2.ID, o1.ID)
	}
	st, b = f.sendHeader(t, ae, "POST", path(second, "/convert"), conv, map[string]string{"Idempotency-Key": "k2"})
	want(t, "convert again", st, b, 409, "stage", nil)
	st, b = f.sendHeader(t, ae, "POST", path(second, "/convert"), conv, map[string]string{"Idempotency-Key": strings.Repeat("k", 256)})
	want(t, "convert long key", st, b, 400, "Idempotency-Key", nil)
	var opps struct {
		Total int `json:"total"`
	}
	st, b = f.do(admin, "GET", "/api/v1/opportunities?lead_id="+itoa(second.ID), "")
	want(t, "opportunities", st, b, 200, "", &opps)
	if opps.Total != 1 {
		t.Fatalf("%d opportunities of the lead: %s", opps.Total, b)
	}

	// Closed won.
	st, b = f.do(ae, "POST", path(second, "/close"), `{"won":true,"value":-1}`)
	want(t, "close negative", st, b, 400, "value", nil)
	st, b = f.do(ae, "POST", path(second, "/close"), `{"won":true,"value":24000}`)
	want(t, "close", st, b, 200, "", &l)
	if l.Stage != baton.StageWon {
		t.Fatalf("closed: %s", b)
	}
	st, b = f.do(admin, "GET", path(second, "/handoffs"), "")
	want(t, "handoffs", st, b, 200, "", &hs)
	var kinds []string
	for _, h := range hs.Items {
		kinds = append(kinds, string(h.Kind)+":"+string(h.State))
	}
	if got := strings.Join(kinds, " "); got != "sdr:accepted ae:rejected ae:accepted" {
		t.Fatalf("handoffs %q: %s", got, b)
	}

	// The rep's inbox: assigned, sent back, converted; one is marked read.
	st, b = f.do(rep, "GET", "/api/v1/notifications?unread=true&limit=100", "")
	want(t, "inbox", st, b, 200, "", &ns)
	got := map[string]int{}
	for _, n := range ns.Items {
		got[n.Kind]++
	}
	if got["assigned"] < 1 || got["sent_back"] != 1 || got["converted"] != 1 {
		t.Fatalf("the rep's inbox: %s", b)
	}
	unread := len(ns.Items)
	read := "/api/v1/notifications/" + itoa(ns.Items[0].ID) + "/read"
	if st, b := f.do(map[string]string{sdrA: sdrB, sdrB: sdrA}[rep], "POST", read, ""); st != 404 {
		t.Fatalf("another rep marks it read: %d %s", st, b)
	}
	if st, b := f.do(rep, "POST", read, ""); st != 204 || len(b) != 0 {
		t.Fatalf("mark read: %d %s", st, b)
	}
	if st, b := f.do(rep, "POST", read, ""); st != 404 {
		t.Fatalf("mark read twice: %d %s", st, b)
	}
	st, b = f.do(rep, "GET", "/api/v1/notifications?unread=true", "")
	want(t, "inbox", st, b, 200, "", &ns)
	if len(ns.Items) != unread-1 {
		t.Fatalf("%d unread after marking one of %d read: %s", len(ns.Items), unread, b)
	}
	st, b = f.do(rep, "GET", "/api/v1/notifications?limit=1", "")
	want(t, "inbox limit", st, b, 200, "", &ns)
	if len(ns.Items) != 1 {
		t.Fatalf("inbox limit 1: %s", b)
	}
	st, b = f.do(rep, "GET", "/api/v1/notifications?limit=0", "")
	want(t, "inbox limit 0", st, b, 400, "limit", nil)
	st, b = f.do(rep, "GET", "/api/v1/notifications?unread=maybe", "")
	want(t, "inbox unread", st, b, 400, "unread", nil)

	// Nothing accepted is stale yet.
	var stale struct {
		Items []baton.Lead `json:"items"`
	}
	st, b = f.do(admin, "GET", "/api/v1/stale-sals", "")
	want(t, "stale SALs", st, b, 200, "", &stale)
	if stale.Items == nil || len(stale.Items) != 0 {
		t.Fatalf("stale SALs: %s", b)
	}
}

// TestAnswerRace has the owner and the owner's manager accept and reject
// one MQL at once, 16 requests through HTTP: exactly one wins, and every
// other request is told 409, whoever made it and whatever it asked.
func TestAnswerRace(t *testing.T) {
	f := newFixture(t)
	if _, err := f.db.PublishDocument(sys(), handoffPolicy); err != nil {
		t.Fatal(err)
	}
	for trial := range 4 {
		l := f.routedMQL(sdrA)
		path := "/api/v1/leads/" + itoa(l.ID)
		type result struct {
			who    string
			status int
			body   []byte
		}
		results := make([]result, 16)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range results {
			who := []string{sdrA, manager}[i%2]
			method, body, what := "POST", "", "accept"
			if i%4 >= 2 {
				// from: reject the MQL, not the SAL it may have become.
				body, what = `{"reason":"no_need","from":"mql"}`, "reject"
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				st, b := f.send(t, who, method, path+"/"+what, body)
				results[i] = result{who + " " + what, st, b}
			}()
		}
		close(start)
		wg.Wait()
		won, lost := 0, 0
		var winner string
		for _, r := range results {
			switch r.status {
			case http.StatusOK:
				won++
				winner = r.who
			case http.StatusConflict, http.StatusNotFound:
				// Someone was first; or the lead went to nurture, out of
				// the manager's sight.
				lost++
			default:
				t.Errorf("trial %d: %s: %d %s", trial, r.who, r.status, r.body)
			}
		}
		if won != 1 || lost != 15 {
			var all []string
			for _, r := range results {
				all = append(all, fmt.Sprintf("%s=%d", r.who, r.status))
			}
			t.Fatalf("trial %d: %d won, %d lost, want 1 and 15: %s", trial, won, lost, strings.Join(all, " "))
		}
		var hs handoffsBody
		st, b := f.do(admin, "GET", path+"/handoffs", "")
		want(t, "handoffs", st, b, 200, "", &hs)
		if len(hs.Items) != 1 || hs.Items[0].AnsweredAt == nil {
			t.Fatalf("trial %d: handoffs after the race won by %s: %s", trial, winner, b)
		}
		wantState := map[bool]baton.HandoffState{true: baton.HandoffRejected, false: baton.HandoffAccepted}[strings.HasSuffix(winner, "reject")]
		if hs.Items[0].State != wantState {
			t.Fatalf("trial %d: %s won, handoff %s", trial, winner, hs.Items[0].State)
		}
	}
}
