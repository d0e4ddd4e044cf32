package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

var handoffPolicy = testPolicy + `
handoff:
  sdr:
    within: 4h
    remind_at: 0.75
    on_breach: reassign
    routes:
      - name: EMEA
        when:
          - {field: country, in: [Germany, France]}
        pool: EMEA
      - name: Rest of world
        pool: East
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

type handoffWorld struct {
	db      *store.DB
	clock   *storetest.Clock
	tm      *storetest.Team
	emea1   *baton.User
	emea2   *baton.User
	emeaMgr *baton.User
}

func newHandoffWorld(t *testing.T, open func(testing.TB) *store.DB) *handoffWorld {
	db := open(t)
	clock := storetest.NewClock()
	db.Now = clock.Now
	w := &handoffWorld{db: db, clock: clock, tm: storetest.SeedTeam(t, db)}
	mk := func(email, name string, role baton.Role, mgr *baton.User) *baton.User {
		u := &baton.User{Email: email, Name: name, Role: role, Team: "EMEA"}
		if mgr != nil {
			u.ManagerID = &mgr.ID
		}
		if err := db.CreateUser(storetest.System(), u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	w.emeaMgr = mk("eve.emea@example.com", "Eve Emea", baton.RoleManager, nil)
	w.emea1 = mk("emil.emea@example.com", "Emil Emea", baton.RoleSDR, w.emeaMgr)
	w.emea2 = mk("ella.emea@example.com", "Ella Emea", baton.RoleSDR, w.emeaMgr)
	if _, err := db.PublishDocument(storetest.System(), handoffPolicy); err != nil {
		t.Fatal(err)
	}
	return w
}

// mql makes a lead and has marketing qualify it by hand.
func (w *handoffWorld) mql(t *testing.T, email, country string) *baton.Lead {
	t.Helper()
	l := storetest.MustLead(t, w.db, &baton.Lead{Email: email, Country: country, Name: email})
	l, err := w.db.ChangeStage(storetest.As(w.tm.Marketing), l.ID, baton.StageChange{To: baton.StageMQL, Reason: "booth visit"})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// runJobs runs every due job of the handoff.
func (w *handoffWorld) runJobs(t *testing.T) int {
	t.Helper()
	h := w.db.JobHandlers()
	n := 0
	for {
		ran, err := w.db.RunDueJob(storetest.System(), "test", h)
		if err != nil {
			t.Fatal(err)
		}
		if !ran {
			return n
		}
		n++
	}
}

func (w *handoffWorld) handoffs(t *testing.T, id int64) []baton.Handoff {
	t.Helper()
	hs, err := w.db.Handoffs(storetest.System(), id)
	if err != nil {
		t.Fatal(err)
	}
	return hs
}

func notifications(t *testing.T, db *store.DB, u *baton.User, kind string) []baton.Notification {
	t.Helper()
	ns, err := db.Notifications(storetest.As(u), false, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []baton.Notification
	for _, n := range ns {
		if n.Kind == kind {
			out = append(out, n)
		}
	}
	return out
}

func TestRoutingReminderBreachReassign(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		w := newHandoffWorld(t, open)
		a := w.mql(t, "a@de.example", "Germany")
		b := w.mql(t, "b@fr.example", "France")
		c := w.mql(t, "c@us.example", "United States")
		ha, hb, hc := w.handoffs(t, a.ID), w.handoffs(t, b.ID), w.handoffs(t, c.ID)
		if len(ha) != 1 || ha[0].OwnerID != w.emea1.ID || ha[0].Why != `rule "EMEA", pool "EMEA", round robin turn 1` {
			t.Fatalf("lead a: %+v", ha)
		}
		if hb[0].OwnerID != w.emea2.ID || !strings.HasSuffix(hb[0].Why, "turn 2") {
			t.Fatalf("lead b: %+v", hb)
		}
		if hc[0].OwnerID != w.tm.SDR1.ID && hc[0].OwnerID != w.tm.SDR2.ID {
			t.Fatalf("lead c went to %d: %+v", hc[0].OwnerID, hc)
		}
		if !ha[0].DueAt.Equal(w.clock.Now().Add(4*time.Hour)) || !ha[0].RemindAt.Equal(w.clock.Now().Add(3*time.Hour)) {
			t.Fatalf("deadlines %+v", ha[0])
		}
		if len(notifications(t, w.db, w.emea1, "assigned")) != 1 {
			t.Fatal("emea1 not told of the assignment")
		}
		// The queue lists the rep's leads, soonest deadline first.
		q, err := w.db.Queue(storetest.As(w.emea1), "")
		if err != nil || len(q) != 1 || q[0].Lead.ID != a.ID || q[0].Handoff.ID != ha[0].ID {
			t.Fatalf("queue %+v %v", q, err)
		}
		// Three hours on: reminders, once.
		w.clock.Advance(3*time.Hour + time.Minute)
		w.runJobs(t)
		w.runJobs(t)
		if n := len(notifications(t, w.db, w.emea1, "reminder")); n != 1 {
			t.Fatalf("%d reminders", n)
		}
		// emea2 accepts in time; emea1 does not answer.
		if _, err := w.db.Accept(storetest.As(w.emea2), b.ID); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(time.Hour)
		w.runJobs(t)
		ha = w.handoffs(t, a.ID)
		if len(ha) != 2 || ha[0].State != baton.HandoffReassigned || ha[0].BreachedAt == nil || *ha[0].Met {
			t.Fatalf("after breach %+v", ha)
		}
		if ha[1].OwnerID != w.emea2.ID || ha[1].State != baton.HandoffOpen {
			t.Fatalf("not reassigned to the next rep: %+v", ha[1])
		}
		if n := len(notifications(t, w.db, w.emeaMgr, "escalated")); n != 1 {
			t.Fatalf("manager got %d escalations", n)
		}
		// The first rep can no longer answer it; the new one accepts.
		_, err = w.db.Accept(storetest.As(w.emea1), a.ID)
		wantCode(t, err, baton.ECONFLICT)
		w.clock.Advance(30 * time.Minute)
		if _, err := w.db.Accept(storetest.As(w.emea2), a.ID); err != nil {
			t.Fatal(err)
		}
		ha = w.handoffs(t, a.ID)
		if ha[1].State != baton.HandoffAccepted || !*ha[1].Met || ha[1].WorkingSeconds != 1800 {
			t.Fatalf("accepted handoff %+v", ha[1])
		}
		hb = w.handoffs(t, b.ID)
		if !*hb[0].Met || hb[0].WorkingSeconds != 3*3600+60 {
			t.Fatalf("b's SLA record %+v", hb[0])
		}
		// A week with no opportunity: the owner hears of it and sales ops sees it.
		w.clock.Advance(8 * 24 * time.Hour)
		w.runJobs(t)
		if len(notifications(t, w.db, w.emea2, "stale_sal")) != 2 {
			t.Fatal("no stale SAL reminders")
		}
		stale, err := w.db.StaleSALs(storetest.As(w.tm.Admin))
		if err != nil || len(stale) != 2 {
			t.Fatalf("stale SALs %d %v", len(stale), err)
		}
		// The SLA report agrees with the handoffs' own records.
		var handoffs, breached, answered, met, missed int
		for _, id := range []int64{a.ID, b.ID, c.ID} {
			for _, h := range w.handoffs(t, id) {
				handoffs++
				if h.BreachedAt != nil {
					breached++
				}
				if h.State == baton.HandoffAccepted || h.State == baton.HandoffRejected {
					answered++
					if h.Met != nil && *h.Met {
						met++
					}
				} else if h.BreachedAt != nil {
					missed++
				}
			}
		}
		rep, err := w.db.SLA(storetest.As(w.tm.Admin), baton.ReportFilter{From: storetest.Epoch.Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		total := rep.Rows[len(rep.Rows)-1]
		want := []string{"(total)", fmt.Sprint(handoffs), fmt.Sprint(answered), fmt.Sprintf("%.1f", 100*float64(met)/float64(answered+missed))}
		if strings.Join(total[:4], ",") != strings.Join(want, ",") || total[6] != fmt.Sprint(breached) {
			t.Fatalf("SLA report total %v, want %v and %d breached", total, want, breached)
		}
		_, err = w.db.SLA(storetest.As(w.emea1), baton.ReportFilter{})
		wantCode(t, err, baton.EFORBIDDEN)
	})
}

func TestRejectionRules(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		w := newHandoffWorld(t, open)
		l := w.mql(t, "r@us.example", "United States")
		owner := w.handoffs(t, l.ID)[0].OwnerID
		rep := w.tm.SDR1
		if owner == w.tm.SDR2.ID {
			rep = w.tm.SDR2
		}
		as := storetest.As(rep)
		for _, tc := range []struct {
			r     baton.Rejection
			field string
		}{
			{baton.Rejection{}, "reason"},
			{baton.Rejection{Reason: "meh"}, "reason"},
			{baton.Rejection{Reason: baton.ReasonOther}, "note"},
			{baton.Rejection{Reason: baton.ReasonDuplicate}, "duplicate_of"},
			{baton.Rejection{Reason: baton.ReasonUnableToReach}, "reason"},
		} {
			_, err := w.db.Reject(as, l.ID, tc.r)
			wantCode(t, err, baton.EINVALID)
			if baton.ErrorField(err) != tc.field {
				t.Fatalf("%+v: field %q (%v)", tc.r, baton.ErrorField(err), err)
			}
		}
		if got, _ := w.db.FindLeadByID(storetest.System(), l.ID); got.Stage != baton.StageMQL || got.Version != l.Version {
			t.Fatalf("a refused rejection changed the lead: %+v", got)
		}
		for i := 0; i < 2; i++ {
			if err := w.db.LogAttempt(as, l.ID, &baton.Attempt{Channel: baton.ChannelCall, Outcome: "no_answer"}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := w.db.Reject(as, l.ID, baton.Rejection{Reason: baton.ReasonUnableToReach, Note: "voicemail twice"})
		if err != nil || got.Stage != baton.StageRecycled || got.OwnerID != nil {
			t.Fatalf("reject: %+v %v", got, err)
		}
		if len(notifications(t, w.db, w.tm.Marketing, "rejected")) != 1 {
			t.Fatal("marketing not told of the rejection")
		}
		if got, _ := w.db.FindLeadByID(storetest.System(), l.ID); got.NurtureTrack != "nurture: unable_to_reach" ||
			got.NurtureUntil == nil || !got.NurtureUntil.Equal(w.clock.Now().Add(10*24*time.Hour)) {
			t.Fatalf("nurture track %q until %v", got.NurtureTrack, got.NurtureUntil)
		}
		// In cool-down, engagement does not bring it back; after it, it does.
		mustEvents(t, w.db, event("x1", l.ID, baton.EventPricingPageView, w.clock.Now()), event("x2", l.ID, baton.EventPricingPageView, w.clock.Now()))
		_, err = w.db.ChangeStage(storetest.As(w.tm.Marketing), l.ID, baton.StageChange{To: baton.StageMQL, Reason: "again"})
		wantCode(t, err, baton.ECONFLICT)
		w.clock.Advance(11 * 24 * time.Hour)
		mustEvents(t, w.db, event("x3", l.ID, baton.EventPricingPageView, w.clock.Now()), event("x4", l.ID, baton.EventWebinarAttended, w.clock.Now()))
		// Fit 0 < 20: the thresholds do not hold; marketing brings it back by hand.
		got, err = w.db.ChangeStage(storetest.As(w.tm.Marketing), l.ID, baton.StageChange{To: baton.StageMQL, Reason: "re-engaged"})
		if err != nil || got.Stage != baton.StageMQL || len(w.handoffs(t, l.ID)) != 2 {
			t.Fatalf("re-promotion: %+v %v", got, err)
		}
		// A duplicate is merged into the lead it duplicates.
		dup := w.mql(t, "dup@us.example", "United States")
		dupOwner := w.handoffs(t, dup.ID)[0].OwnerID
		mustEvents(t, w.db, event("d1", dup.ID, baton.EventPageView, w.clock.Now()))
		asRep := storetest.As(&baton.User{ID: dupOwner, Name: "rep", Role: baton.RoleSDR})
		if owner, _ := w.db.FindLeadByID(storetest.System(), l.ID); owner.OwnerID == nil || *owner.OwnerID != dupOwner {
			// The survivor must be a lead the rep may read: naming another
			// rep's lead answers as if it did not exist.
			_, err = w.db.Reject(asRep, dup.ID, baton.Rejection{Reason: baton.ReasonDuplicate, DuplicateOf: l.ID})
			if baton.ErrorField(err) != "duplicate_of" || !strings.Contains(err.Error(), fmt.Sprintf("no lead %d", l.ID)) {
				t.Fatalf("a duplicate of a lead the rep cannot read: %v", err)
			}
			asRep = storetest.As(w.tm.Admin)
		}
		got, err = w.db.Reject(asRep, dup.ID, baton.Rejection{Reason: baton.ReasonDuplicate, DuplicateOf: l.ID})
		if err != nil || got.Stage != baton.StageDisqualified {
			t.Fatalf("duplicate: %+v %v", got, err)
		}
		events, _, _ := w.db.FindEvents(storetest.System(), baton.EventFilter{LeadID: &l.ID})
		hist, _ := w.db.History(storetest.System(), l.ID)
		merged := false
		for _, h := range hist {
			merged = merged || h.Action == baton.ActionMerged
		}
		if len(events) != 5 || !merged {
			t.Fatalf("survivor has %d events, merged entry %v", len(events), merged)
		}
	})
}

func TestQualifyHandToAEAndConvert(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		w := newHandoffWorld(t, open)
		l := w.mql(t, "q@de.example", "Germany")
		rep := w.emea1
		if _, err := w.db.Accept(storetest.As(rep), l.ID); err != nil {
			t.Fatal(err)
		}
		as := storetest.As(rep)
		_, err := w.db.Qualify(as, l.ID, baton.BANT{Need: "onboarding", Authority: baton.AuthorityNone})
		wantCode(t, err, baton.EINVALID)
		if !strings.Contains(err.Error(), "budget") || !strings.Contains(err.Error(), "authority") || strings.Contains(err.Error(), "missing need") {
			t.Fatalf("half a BANT: %v", err)
		}
		amount := 25000.0
		full := baton.BANT{BudgetAmount: &amount, BudgetCurrency: "EUR", Authority: baton.AuthorityDecisionMaker, DecisionMaker: "CFO", Need: "onboarding", Timing: baton.TimingThisQuarter}
		got, err := w.db.Qualify(as, l.ID, full)
		if err != nil || got.Stage != baton.StageSQL || got.OwnerID == nil || *got.OwnerID != w.tm.AE.ID {
			t.Fatalf("qualify: %+v %v", got, err)
		}
		// The AE sends it back; the SDR qualifies it again; the AE converts it.
		ae := storetest.As(w.tm.AE)
		got, err = w.db.SendBack(ae, l.ID, "no real budget yet")
		if err != nil || got.Stage != baton.StageSAL || *got.OwnerID != rep.ID {
			t.Fatalf("send back: %+v %v", got, err)
		}
		if _, err := w.db.Qualify(as, l.ID, full); err != nil {
			t.Fatal(err)
		}
		// A development rep never converts.
		_, _, err = w.db.Convert(as, l.ID, baton.ConvertInput{Name: "Acme onboarding", Amount: 25000, IdempotencyKey: "k1"})
		wantCode(t, err, baton.EFORBIDDEN)
		in := baton.ConvertInput{Name: "Acme onboarding", Amount: 25000, IdempotencyKey: "k1"}
		o1, created1, err := w.db.Convert(ae, l.ID, in)
		if err != nil || !created1 {
			t.Fatal(o1, err)
		}
		o2, created2, err := w.db.Convert(ae, l.ID, in)
		if err != nil || created2 || o2.ID != o1.ID {
			t.Fatalf("retry: %+v %v %v", o2, created2, err)
		}
		// The same key with another body is not the same conversion.
		other := in
		other.Amount = 99
		_, _, err = w.db.Convert(ae, l.ID, other)
		wantCode(t, err, baton.EUNPROCESSABLE)
		_, _, err = w.db.Convert(ae, l.ID, baton.ConvertInput{Name: "again", IdempotencyKey: "k2"})
		wantCode(t, err, baton.ECONFLICT)
		opps, n, _ := w.db.FindOpportunities(storetest.System(), baton.OpportunityFilter{LeadID: &l.ID})
		if n != 1 || opps[0].Stage != baton.OppProspecting {
			t.Fatalf("%d opportunities", n)
		}
		got, err = w.db.CloseLead(ae, l.ID, baton.CloseInput{Won: true, Value: 24000})
		if err != nil || got.Stage != baton.StageWon {
			t.Fatal(got, err)
		}
		hs := w.handoffs(t, l.ID)
		var kinds []string
		for _, h := range hs {
			kinds = append(kinds, string(h.Kind)+":"+string(h.State))
		}
		if strings.Join(kinds, " ") != "sdr:accepted ae:rejected ae:accepted" {
			t.Fatalf("handoffs %v", kinds)
		}
	})
}

// TestAcceptRacesBreach has a rep accept while the SLA sweeper breaches, many
// times over: exactly one of them wins each time.
func TestAcceptRacesBreach(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		w := newHandoffWorld(t, open)
		for trial := 0; trial < 8; trial++ {
			l := w.mql(t, fmt.Sprintf("race%d@de.example", trial), "Germany")
			h := w.handoffs(t, l.ID)[0]
			owner := w.emea1
			if h.OwnerID == w.emea2.ID {
				owner = w.emea2
			}
			w.clock.Advance(5 * time.Hour) // past the deadline
			var wg sync.WaitGroup
			var mu sync.Mutex
			accepted, conflicts := 0, 0
			for i := 0; i < 6; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := w.db.Accept(storetest.As(owner), l.ID)
					mu.Lock()
					defer mu.Unlock()
					switch baton.ErrorCode(err) {
					case "":
						accepted++
					case baton.ECONFLICT, baton.EFORBIDDEN:
						conflicts++
					default:
						t.Errorf("accept: %v", err)
					}
				}()
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.runJobs(t)
			}()
			wg.Wait()
			got, _ := w.db.FindLeadByID(storetest.System(), l.ID)
			hs := w.handoffs(t, l.ID)
			switch {
			case accepted == 1 && got.Stage == baton.StageSAL && hs[0].State == baton.HandoffAccepted && hs[0].BreachedAt == nil && len(hs) == 1:
			case accepted == 0 && hs[0].State == baton.HandoffReassigned && len(hs) == 2 && got.Stage == baton.StageMQL:
			default:
				t.Fatalf("trial %d: %d accepted, %d refused, stage %s, handoffs %+v", trial, accepted, conflicts, got.Stage, hs)
			}
			w.runJobs(t)
		}
	})
}

func TestClaimAndAssign(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		w := newHandoffWorld(t, open)
		// Everyone in East is out: the lead waits unassigned in the pool.
		for _, u := range []*baton.User{w.tm.SDR1, w.tm.SDR2} {
			if _, err := w.db.UpdateUser(storetest.System(), u.ID, baton.UserUpdate{Active: new(bool)}); err != nil {
				t.Fatal(err)
			}
		}
		l := w.mql(t, "pool@us.example", "United States")
		if got, _ := w.db.FindLeadByID(storetest.System(), l.ID); got.OwnerID != nil || len(w.handoffs(t, l.ID)) != 0 {
			t.Fatalf("assigned with nobody available: %+v", got)
		}
		got, err := w.db.Claim(storetest.As(w.emea1), l.ID)
		if err != nil || *got.OwnerID != w.emea1.ID {
			t.Fatal(got, err)
		}
		hs := w.handoffs(t, l.ID)
		if len(hs) != 1 || !hs[0].Pull || hs[0].Why != "pulled by Emil Emea" {
			t.Fatalf("claim handoff %+v", hs)
		}
		// Claimed, the lead is another rep's: to them it is not found.
		_, err = w.db.Claim(storetest.As(w.emea2), l.ID)
		wantCode(t, err, baton.ENOTFOUND)
		// A manager reassigns within their team; another team's lead is
		// not found.
		_, err = w.db.Assign(storetest.As(w.tm.Manager1), l.ID, w.emea2.ID, "")
		wantCode(t, err, baton.ENOTFOUND)
		got, err = w.db.Assign(storetest.As(w.emeaMgr), l.ID, w.emea2.ID, "Emil is on leave")
		if err != nil || *got.OwnerID != w.emea2.ID {
			t.Fatal(got, err)
		}
		hs = w.handoffs(t, l.ID)
		if len(hs) != 2 || hs[0].State != baton.HandoffReassigned || hs[1].Why != "reassigned by Eve Emea: Emil is on leave" {
			t.Fatalf("handoffs after reassign %+v", hs)
		}
		// The rep it was taken from is told so; a rep may not assign.
		_, err = w.db.Assign(storetest.As(w.emea1), l.ID, w.emea1.ID, "")
		wantCode(t, err, baton.ECONFLICT)
		_, err = w.db.Assign(storetest.As(w.emea2), l.ID, w.emea1.ID, "")
		wantCode(t, err, baton.EFORBIDDEN)
		_ = context.Background()
	})
}

// TestNoReminderAfterDeadline: a reminder job that runs only after its
// handoff's deadline (the server was down across both) sends nothing, not in
// the inbox, by email or by webhook, and leaves the breach to the breach job;
// one that runs before the deadline still reminds.
func TestNoReminderAfterDeadline(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		w := newHandoffWorld(t, open)
		if err := w.db.SetEmail(context.Background(), true); err != nil {
			t.Fatal(err)
		}
		if err := w.db.CreateWebhook(storetest.System(), &baton.Webhook{URL: "https://hooks.example.com/in", Secret: "a-very-secret-webhook-key"}); err != nil {
			t.Fatal(err)
		}
		inboxReminders := func(leadID int64) (n int, body string) {
			t.Helper()
			for _, u := range []*baton.User{w.emea1, w.emea2} {
				for _, r := range notifications(t, w.db, u, "reminder") {
					if r.LeadID != nil && *r.LeadID == leadID {
						n, body = n+1, r.Body
					}
				}
			}
			return n, body
		}
		outboxReminders := func(event, like string) int {
			t.Helper()
			var n int
			if err := w.db.SQL().QueryRow(`SELECT COUNT(*) FROM outbox WHERE event = $1 AND payload LIKE $2`, event, like).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		// Down from before the reminder (at 3 h) until after the deadline (4 h).
		a := w.mql(t, "a@de.example", "Germany")
		w.clock.Advance(4*time.Hour + time.Minute)
		w.runJobs(t)
		ha := w.handoffs(t, a.ID)
		if ha[0].RemindedAt != nil || ha[0].BreachedAt == nil || ha[0].State != baton.HandoffReassigned {
			t.Fatalf("handoff after the deadline: reminded %v, breached %v, %s", ha[0].RemindedAt, ha[0].BreachedAt, ha[0].State)
		}
		inbox, _ := inboxReminders(a.ID)
		if emails, hooks := outboxReminders("reminder", "%"), outboxReminders("lead.reminder", "%"); inbox != 0 || emails != 0 || hooks != 0 {
			t.Fatalf("reminded after the deadline: %d in the inbox, %d emails, %d webhooks", inbox, emails, hooks)
		}
		if n := len(notifications(t, w.db, w.emea1, "breached")); n != 1 {
			t.Fatalf("%d breach notices for the rep", n)
		}

		// Up in time: the reminder goes out, once, with the time left.
		b := w.mql(t, "b@fr.example", "France")
		w.clock.Advance(3*time.Hour + time.Minute)
		w.runJobs(t)
		hb := w.handoffs(t, b.ID)
		if hb[0].RemindedAt == nil || hb[0].BreachedAt != nil {
			t.Fatalf("handoff before the deadline: reminded %v, breached %v", hb[0].RemindedAt, hb[0].BreachedAt)
		}
		inbox, body := inboxReminders(b.ID)
		emails := outboxReminders("reminder", fmt.Sprintf(`%%"lead_id":%d%%`, b.ID))
		if inbox != 1 || emails != 1 || outboxReminders("lead.reminder", "%") == 0 {
			t.Fatalf("reminded before the deadline: %d in the inbox, %d emails, no webhook", inbox, emails)
		}
		if !strings.HasPrefix(body, "59m0s left") {
			t.Fatalf("reminder %q", body)
		}
	})
}

// TestQueuePage: the pages of a rep's queue are the queue's items in its
// order, a page at a time, each with the number of the whole queue.
func TestQueuePage(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		w := newHandoffWorld(t, open)
		for i := range 6 { // round robin: emea1 gets every other lead
			w.mql(t, fmt.Sprintf("p%d@de.example", i), "Germany")
			w.clock.Advance(time.Minute)
		}
		ctx := storetest.As(w.emea1)
		all, err := w.db.Queue(ctx, "")
		if err != nil || len(all) != 3 {
			t.Fatalf("queue %d items, %v", len(all), err)
		}
		for _, tc := range []struct {
			offset, limit int
			want          []baton.QueueItem
		}{
			{0, 2, all[:2]},
			{2, 2, all[2:]},
			{1, 5, all[1:]},
			{3, 2, nil},
			{9, 2, nil},
		} {
			got, total, err := w.db.QueuePage(ctx, "", tc.offset, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if total != 3 || len(got) != len(tc.want) {
				t.Fatalf("offset %d limit %d: %d items of %d, want %d of 3", tc.offset, tc.limit, len(got), total, len(tc.want))
			}
			for i := range got {
				if got[i].Handoff.ID != tc.want[i].Handoff.ID {
					t.Errorf("offset %d limit %d: item %d is handoff %d, want %d", tc.offset, tc.limit, i, got[i].Handoff.ID, tc.want[i].Handoff.ID)
				}
			}
		}
		for _, bad := range [][2]int{{-1, 2}, {0, 0}} {
			if _, _, err := w.db.QueuePage(ctx, "", bad[0], bad[1]); baton.ErrorCode(err) != baton.EINVALID {
				t.Errorf("offset %d limit %d: %v, want invalid", bad[0], bad[1], err)
			}
		}
	})
}
