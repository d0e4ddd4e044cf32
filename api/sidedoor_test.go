package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// poolPolicy routes MQLs from Germany to the East pool and the rest to the
// West pool, and SQLs to every account executive.
var poolPolicy = testPolicy + `
handoff:
  sdr:
    within: 4h
    on_breach: notify
    routes:
      - name: Germany
        when: [{field: country, equals: Germany}]
        pool: East
      - name: Rest
        pool: West
  ae:
    within: 8h
    routes:
      - name: Closers
  rejection:
    cool_down: 10d
    track: "nurture: {reason}"
  bant: [budget, authority, need]
`

// doors is a fixture whose reps are in teams: sdrA in East under manager,
// sdrB in West under managerN; with the pool policy and a webhook for every
// event.
func doors(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	for key, team := range map[string]string{sdrA: "East", manager: "East", sdrB: "West", managerN: "West"} {
		tm := team
		if _, err := f.db.UpdateUser(sys(), f.users[key].ID, baton.UserUpdate{Team: &tm}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.db.PublishDocument(sys(), poolPolicy); err != nil {
		t.Fatal(err)
	}
	if err := f.db.CreateWebhook(sys(), &baton.Webhook{URL: "https://hooks.example.com/baton", Secret: "0123456789abcdef0123"}); err != nil {
		t.Fatal(err)
	}
	return f
}

// newLead stores a new lead from a country, with no owner.
func (f *fixture) newLead(country string) *baton.Lead {
	f.t.Helper()
	n := f.n()
	l := &baton.Lead{Email: fmt.Sprintf("door%d@co%d.test", n, n), Name: fmt.Sprintf("Door %d", n), Country: country}
	if err := f.db.CreateLead(sys(), l); err != nil {
		f.t.Fatal(err)
	}
	return l
}

// promoted is a new lead from the country moved to mql by marketing,
// routed by the pool policy.
func (f *fixture) promoted(country string) *baton.Lead {
	f.t.Helper()
	l, err := f.db.ChangeStage(f.as(marketing), f.newLead(country).ID, baton.StageChange{To: baton.StageMQL, Reason: "booth"})
	if err != nil {
		f.t.Fatal(err)
	}
	return l
}

// events lists the webhook events written to the outbox for a lead.
func (f *fixture) events(t *testing.T, leadID int64) []string {
	t.Helper()
	rows, err := f.db.SQL().Query(`SELECT event, payload FROM outbox WHERE channel = 'webhook' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var event, payload string
		rows.Scan(&event, &payload)
		var p struct {
			Lead struct {
				ID int64 `json:"id"`
			} `json:"lead"`
		}
		json.Unmarshal([]byte(payload), &p)
		if p.Lead.ID == leadID {
			out = append(out, event)
		}
	}
	return out
}

func leadPath(l *baton.Lead, suffix string) string {
	return "/api/v1/leads/" + itoa(l.ID) + suffix
}

// TestTransitionsDoWhatTheVerbDoes: the generic transition needs what the
// verb needs: BANT for an SQL (400 naming the missing parts, or taken in
// the body), the opportunity for a conversion (which it creates), a value
// to close won.
func TestTransitionsDoWhatTheVerbDoes(t *testing.T) {
	f := doors(t)
	l := f.promoted("Germany") // to sdrA, East
	if st, b := f.do(sdrA, "POST", leadPath(l, "/accept"), ""); st != 200 {
		t.Fatalf("accept: %d %s", st, b)
	}
	st, b := f.do(sdrA, "POST", leadPath(l, "/transitions"), `{"to":"sql"}`)
	want(t, "sal to sql without BANT", st, b, 400, "bant", nil)
	st, b = f.do(sdrA, "POST", leadPath(l, "/transitions"), `{"to":"sql","bant":{"need":"reports"}}`)
	want(t, "sal to sql with half a BANT", st, b, 400, "bant", nil)
	if !strings.Contains(string(b), "missing budget (amount and currency), authority") {
		t.Fatalf("the missing parts are not named: %s", b)
	}
	var got baton.Lead
	st, b = f.do(sdrA, "POST", leadPath(l, "/transitions"), `{"to":"sql","bant":`+fullBANT+`}`)
	want(t, "sal to sql with BANT", st, b, 200, "", &got)
	if got.Stage != baton.StageSQL || got.OwnerID == nil || *got.OwnerID != f.users[ae].ID {
		t.Fatalf("the SQL is not the account executive's: %+v", got)
	}
	st, b = f.do(ae, "POST", leadPath(l, "/transitions"), `{"to":"opportunity"}`)
	want(t, "sql to opportunity without one", st, b, 400, "opportunity", nil)
	st, b = f.do(ae, "POST", leadPath(l, "/transitions"), `{"to":"opportunity","opportunity":{"name":"Door deal","amount":4000}}`)
	want(t, "sql to opportunity", st, b, 200, "", &got)
	opps, n, err := f.db.FindOpportunities(sys(), baton.OpportunityFilter{LeadID: &l.ID})
	if err != nil || n != 1 || opps[0].Name != "Door deal" || opps[0].Amount != 4000 {
		t.Fatalf("opportunities of the lead: %d %+v %v", n, opps, err)
	}
	st, b = f.do(ae, "POST", leadPath(l, "/transitions"), `{"to":"won"}`)
	want(t, "won without a value", st, b, 400, "value", nil)
	st, b = f.do(ae, "POST", leadPath(l, "/transitions"), `{"to":"won","close":{"won":true,"value":4200}}`)
	want(t, "won", st, b, 200, "", &got)
	if ev := strings.Join(f.events(t, l.ID), " "); ev != "lead.created lead.mql lead.assigned lead.accepted lead.qualified lead.assigned lead.converted lead.won" {
		t.Fatalf("webhook events: %s", ev)
	}
}

// TestManagersAssignOnlyTheirPool: a manager assigns only unowned leads of
// their team's routing pool, to active reps of their team whose role fits
// the stage; any other lead is not found, and nothing of it is shown.
func TestManagersAssignOnlyTheirPool(t *testing.T) {
	f := doors(t)
	// Nobody is available in West: its MQLs wait unassigned in its pool.
	for _, key := range []string{sdrB} {
		inactive := false
		f.db.UpdateUser(sys(), f.users[key].ID, baton.UserUpdate{Active: &inactive})
	}
	west := f.promoted("France")
	if west.OwnerID != nil {
		t.Fatalf("routed with nobody in West: %+v", west.OwnerID)
	}
	fresh := f.newLead("Germany")
	body := func(key string) string { return `{"user_id":` + itoa(f.users[key].ID) + `}` }
	for _, c := range []struct {
		what string
		lead *baton.Lead
	}{{"a new lead", fresh}, {"another team's pool", west}} {
		st, b := f.do(manager, "POST", leadPath(c.lead, "/assign"), body(sdrA))
		want(t, "assign "+c.what, st, b, 404, "", nil)
		if strings.Contains(string(b), c.lead.Email) {
			t.Fatalf("the answer shows the lead: %s", b)
		}
	}
	// East's own pool: East's manager assigns its MQLs to East's reps.
	unavailable := false
	f.db.UpdateUser(sys(), f.users[sdrA].ID, baton.UserUpdate{Active: &unavailable})
	east := f.promoted("Germany")
	active := true
	f.db.UpdateUser(sys(), f.users[sdrA].ID, baton.UserUpdate{Active: &active})
	st, b := f.do(manager, "POST", leadPath(east, "/assign"), body(marketing))
	want(t, "assign to marketing", st, b, 400, "user_id", nil)
	var got baton.Lead
	st, b = f.do(manager, "POST", leadPath(east, "/assign"), body(sdrA))
	want(t, "assign in the team's pool", st, b, 200, "", &got)
	if got.OwnerID == nil || *got.OwnerID != f.users[sdrA].ID {
		t.Fatalf("owner %v", got.OwnerID)
	}
	if q := queueOf(t, f, sdrA); !strings.Contains(q, east.Email) {
		t.Fatalf("the rep's queue lacks the assigned lead: %s", q)
	}
}

func queueOf(t *testing.T, f *fixture, key string) string {
	t.Helper()
	st, b := f.do(key, "GET", "/api/v1/queue", "")
	if st != 200 {
		t.Fatalf("queue of %s: %d %s", key, st, b)
	}
	return string(b)
}

// TestOwnerEditsAreReassignments: owner_id in a PATCH is a reassignment:
// to a rep of the manager's team whose role fits, never to another team,
// marketing or an inactive user; the old handoff is closed and the old
// owner's queue no longer lists the lead.
func TestOwnerEditsAreReassignments(t *testing.T) {
	f := doors(t)
	second := &baton.User{Email: "second.east@baton.test", Name: "Second East", Role: baton.RoleSDR, Team: "East", ManagerID: &f.users[manager].ID}
	gone := &baton.User{Email: "gone.east@baton.test", Name: "Gone East", Role: baton.RoleSDR, Team: "East", ManagerID: &f.users[manager].ID}
	for _, u := range []*baton.User{second, gone} {
		if err := f.db.CreateUser(sys(), u); err != nil {
			t.Fatal(err)
		}
	}
	inactive := false
	f.db.UpdateUser(sys(), gone.ID, baton.UserUpdate{Active: &inactive})
	// Round robin in East: take the lead that went to sdrA.
	var l *baton.Lead
	for l == nil || *l.OwnerID != f.users[sdrA].ID {
		l = f.promoted("Germany")
	}
	for _, c := range []struct {
		what string
		to   int64
	}{{"another team's rep", f.users[sdrB].ID}, {"marketing", f.users[marketing].ID}, {"an inactive rep", gone.ID}, {"the account executive", f.users[ae].ID}} {
		st, b := f.do(manager, "PATCH", leadPath(l, ""), `{"owner_id":`+itoa(c.to)+`}`)
		want(t, "owner_id to "+c.what, st, b, 400, "owner_id", nil)
	}
	var got baton.Lead
	st, b := f.do(manager, "PATCH", leadPath(l, ""), `{"owner_id":`+itoa(second.ID)+`}`)
	want(t, "owner_id to a rep of the team", st, b, 200, "", &got)
	hs, err := f.db.Handoffs(sys(), l.ID)
	if err != nil || len(hs) != 2 || hs[0].State != baton.HandoffReassigned || hs[1].State != baton.HandoffOpen || hs[1].OwnerID != second.ID {
		t.Fatalf("handoffs after the edit: %+v %v", hs, err)
	}
	if q := queueOf(t, f, sdrA); strings.Contains(q, l.Email) {
		t.Fatalf("the old owner's queue still lists the lead: %s", q)
	}
}

// TestNoExistenceOracle: a rep cannot merge into, nor learn of, a lead they
// may not read: the answer is the one of a lead that does not exist.
func TestNoExistenceOracle(t *testing.T) {
	f := doors(t)
	mine := f.promoted("Germany")
	theirs := f.promoted("France")
	owner := f.keyOf(t, mine.OwnerID)
	if other := f.keyOf(t, theirs.OwnerID); other == owner {
		t.Fatalf("both leads went to %s", owner)
	}
	dup := func(id int64) string {
		return `{"reason":"duplicate","duplicate_of":` + itoa(id) + `}`
	}
	st, b := f.do(owner, "POST", leadPath(mine, "/reject"), dup(theirs.ID))
	st2, b2 := f.do(owner, "POST", leadPath(mine, "/reject"), dup(999999))
	want(t, "duplicate of a lead the rep cannot read", st, b, 400, "duplicate_of", nil)
	if strings.Replace(string(b), itoa(theirs.ID), "999999", 1) != string(b2) || st2 != st {
		t.Fatalf("another's lead answers otherwise than none: %s against %s", b, b2)
	}
	hist, _ := f.db.History(sys(), theirs.ID)
	for _, h := range hist {
		if h.Action == baton.ActionMerged {
			t.Fatalf("merged into a lead the rep cannot read: %+v", h)
		}
	}
	for _, path := range []string{"", "/timeline", "/history", "/score", "/handoffs", "/attempts"} {
		st, b := f.do(owner, "GET", leadPath(theirs, path), "")
		st2, b2 := f.do(owner, "GET", "/api/v1/leads/999999"+path, "")
		if st != 404 || st2 != 404 || strings.Replace(string(b), itoa(theirs.ID), "999999", 1) != string(b2) {
			t.Fatalf("GET %s of another's lead: %d %s; of none: %d %s", path, st, b, st2, b2)
		}
	}
	for _, verb := range []string{"/accept", "/attempts", "/notes"} {
		body := `{"channel":"call","outcome":"no_answer","note":"x"}`
		if verb == "/accept" {
			body = ""
		} else if verb == "/notes" {
			body = `{"note":"x"}`
		}
		st, b := f.do(owner, "POST", leadPath(theirs, verb), body)
		st2, b2 := f.do(owner, "POST", "/api/v1/leads/999999"+verb, body)
		if st != st2 || strings.Replace(string(b), itoa(theirs.ID), "999999", 1) != string(b2) {
			t.Fatalf("POST %s of another's lead: %d %s; of none: %d %s", verb, st, b, st2, b2)
		}
	}
}

// TestClaimIsAuditedWithTheClaimant: a claim is made by the rep, and the
// history names them.
func TestClaimIsAuditedWithTheClaimant(t *testing.T) {
	f := doors(t)
	// Nobody is available: the MQL waits in the pool.
	unavailable, active := false, true
	for _, key := range []string{sdrA, sdrB} {
		f.db.UpdateUser(sys(), f.users[key].ID, baton.UserUpdate{Active: &unavailable})
	}
	l := f.promoted("Germany")
	f.db.UpdateUser(sys(), f.users[sdrA].ID, baton.UserUpdate{Active: &active})
	if st, b := f.do(sdrA, "POST", leadPath(l, "/claim"), ""); st != 200 {
		t.Fatalf("claim: %d %s", st, b)
	}
	hist, err := f.db.History(sys(), l.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := hist[len(hist)-1]
	if last.Action != baton.ActionAssigned || last.ActorID == nil || *last.ActorID != f.users[sdrA].ID || !strings.HasPrefix(last.Reason, "pulled by") {
		t.Fatalf("claim history: %+v", last)
	}
}

// TestSidePathsToNurture: BANT timing later and an account executive's
// return send the lead to nurture as a rejection does: the track, the
// cool-down, no owner, and a webhook event.
func TestSidePathsToNurture(t *testing.T) {
	f := doors(t)
	later := f.promoted("Germany")
	rep := f.keyOf(t, later.OwnerID)
	f.do(rep, "POST", leadPath(later, "/accept"), "")
	var got baton.Lead
	st, b := f.do(rep, "POST", leadPath(later, "/qualify"), `{"timing":"later","timing_date":"2027-03-01T00:00:00Z"}`)
	want(t, "qualify later", st, b, 200, "", &got)
	if got.Stage != baton.StageRecycled || got.OwnerID != nil || got.NurtureTrack != "later: 2027-03-01" || got.NurtureUntil == nil {
		t.Fatalf("timing later: %+v", got)
	}
	if ev := f.events(t, later.ID); ev[len(ev)-1] != "lead.recycled" {
		t.Fatalf("timing later emitted %v", ev)
	}

	// A rejection answers with the lead's nurture track and cool-down.
	rejected := f.promoted("Germany")
	st, b = f.do(f.keyOf(t, rejected.OwnerID), "POST", leadPath(rejected, "/reject"), `{"reason":"no_budget"}`)
	want(t, "reject", st, b, 200, "", &got)
	if got.NurtureTrack != "nurture: no_budget" || got.NurtureUntil == nil || got.OwnerID != nil {
		t.Fatalf("the rejection's answer: %+v", got)
	}

	back := f.promoted("Germany")
	rep = f.keyOf(t, back.OwnerID)
	f.do(rep, "POST", leadPath(back, "/accept"), "")
	f.do(rep, "POST", leadPath(back, "/qualify"), fullBANT)
	st, b = f.do(ae, "POST", leadPath(back, "/recycle"), `{}`)
	want(t, "recycle without a reason", st, b, 400, "reason", nil)
	st, b = f.do(ae, "POST", leadPath(back, "/recycle"), `{"reason":"no project before next year"}`)
	want(t, "recycle", st, b, 200, "", &got)
	until := got.NurtureUntil
	if got.Stage != baton.StageRecycled || got.OwnerID != nil || !strings.HasPrefix(got.NurtureTrack, "nurture: ") || until == nil ||
		until.Sub(got.StageChangedAt) != 10*24*time.Hour {
		t.Fatalf("an AE's return: %+v", got)
	}
	if ev := f.events(t, back.ID); ev[len(ev)-1] != "lead.recycled" {
		t.Fatalf("the return emitted %v", ev)
	}
	hs, _ := f.db.Handoffs(sys(), back.ID)
	if hs[len(hs)-1].Kind != baton.HandoffAE || hs[len(hs)-1].State != baton.HandoffRejected {
		t.Fatalf("the AE's handoff: %+v", hs[len(hs)-1])
	}
}

// TestAttemptsCannotBeBackdated: an attempt dated before the lead was handed
// to its owner is refused, so that unable_to_reach cannot be met at once.
func TestAttemptsCannotBeBackdated(t *testing.T) {
	f := doors(t)
	l := f.promoted("Germany")
	rep := f.keyOf(t, l.OwnerID)
	hs, _ := f.db.Handoffs(sys(), l.ID)
	before := hs[0].AssignedAt.Add(-time.Hour).Format(time.RFC3339)
	st, b := f.do(rep, "POST", leadPath(l, "/attempts"), `{"channel":"call","outcome":"no_answer","at":"`+before+`"}`)
	want(t, "a back-dated attempt", st, b, 400, "at", nil)
	st, b = f.do(rep, "POST", leadPath(l, "/attempts"), `{"channel":"call","outcome":"no_answer"}`)
	want(t, "an attempt now", st, b, 201, "", nil)
}
