package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/storetest"
)

// returnIn is the body of an out of office that ends d after the wall
// clock's now (the fixture's database keeps the real clock unless a test
// sets one).
func returnIn(d time.Duration) func() string {
	return func() string {
		return fmt.Sprintf(`{"until":%q,"note":"at a conference"}`, time.Now().Add(d).UTC().Format(time.RFC3339))
	}
}

// TestOutOfOffice sets and ends absences through the API: by the rep, their
// manager and an admin; refused for another team's manager, another rep
// and marketing, with the field at fault for bad dates; and routing skips
// the absent rep, saying so, until their return date.
func TestOutOfOffice(t *testing.T) {
	f := newFixture(t)
	clock := storetest.NewClock()
	f.db.Now = clock.Now
	if _, err := f.db.PublishDocument(sys(), handoffPolicy); err != nil {
		t.Fatal(err)
	}
	path := func(key string) string { return "/api/v1/users/" + itoa(f.users[key].ID) + "/out-of-office" }
	at := func(d time.Duration) string { return clock.Now().Add(d).Format(time.RFC3339) }
	body := func(until, note string) string { return fmt.Sprintf(`{"until":%q,"note":%q}`, until, note) }

	// Who may set sdrA's absence: sdrA, their manager, an admin.
	for _, c := range []struct {
		caller string
		status int
	}{{sdrA, 200}, {manager, 200}, {admin, 200}, {managerN, 403}, {sdrB, 403}, {marketing, 403}, {ae, 403}} {
		st, b := f.do(c.caller, "PUT", path(sdrA), body(at(72*time.Hour), "set by "+c.caller))
		var u baton.User
		want(t, "out of office of sdrA set by "+c.caller, st, b, c.status, "", &u)
		if st != 200 {
			continue
		}
		if u.OutOfOfficeUntil == nil || !u.OutOfOfficeUntil.Equal(clock.Now().Add(72*time.Hour)) || u.OutOfOfficeNote != "set by "+c.caller ||
			!u.UpdatedAt.Equal(clock.Now()) {
			t.Fatalf("set by %s: %s", c.caller, b)
		}
	}
	// The user's JSON shows it to everyone.
	st, b := f.do(sdrB, "GET", "/api/v1/users/"+itoa(f.users[sdrA].ID), "")
	if st != 200 || !strings.Contains(string(b), `"out_of_office_until":"`+clock.Now().Add(72*time.Hour).Format(time.RFC3339)) ||
		!strings.Contains(string(b), `"out_of_office_note":"set by admin"`) {
		t.Fatalf("sdrA as sdrB sees them: %d %s", st, b)
	}

	// Bad return dates name the field.
	for _, c := range []struct{ name, body, field string }{
		{"past", body(at(-time.Hour), ""), "until"},
		{"now", body(at(0), ""), "until"},
		{"a day past", body(clock.Now().AddDate(0, 0, -1).Format(time.DateOnly), ""), "until"},
		{"over a year", body(at(366*24*time.Hour), ""), "until"},
		{"not a time", body("next monday", ""), "until"},
		{"missing", `{"note":"away"}`, "until"},
		{"note too long", body(at(time.Hour), strings.Repeat("x", 501)), "note"},
	} {
		st, b := f.do(sdrA, "PUT", path(sdrA), c.body)
		want(t, c.name, st, b, 400, c.field, nil)
	}
	// A user who does not exist: 404, for anyone.
	st, b = f.do(sdrA, "PUT", "/api/v1/users/999999/out-of-office", body(at(time.Hour), ""))
	want(t, "nobody", st, b, 404, "", nil)
	st, b = f.do(manager, "DELETE", "/api/v1/users/999999/out-of-office", "")
	want(t, "nobody back", st, b, 404, "", nil)

	// A day is the start of that day (UTC here: sdrA has no calendar).
	st, b = f.do(sdrA, "PUT", path(sdrA), body(clock.Now().AddDate(0, 0, 2).Format(time.DateOnly), "conference"))
	var u baton.User
	want(t, "a day", st, b, 200, "", &u)
	back := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	if u.OutOfOfficeUntil == nil || !u.OutOfOfficeUntil.Equal(back) {
		t.Fatalf("back on %v, want %v", u.OutOfOfficeUntil, back)
	}

	// While sdrA is away, routing gives every MQL to sdrB and says why.
	for range 2 {
		l := f.routedMQL("")
		if l.OwnerID == nil || *l.OwnerID != f.users[sdrB].ID {
			t.Fatalf("an MQL went to %v while sdrA is away", l.OwnerID)
		}
		var hs handoffsBody
		st, b := f.do(admin, "GET", "/api/v1/leads/"+itoa(l.ID)+"/handoffs", "")
		want(t, "handoffs", st, b, 200, "", &hs)
		if len(hs.Items) != 1 || !strings.Contains(hs.Items[0].Why, "out of office: sdrA until 2026-03-04 00:00 UTC") {
			t.Fatalf("why of the assignment: %+v", hs.Items)
		}
	}
	// Back on the return date: sdrA gets leads again.
	clock.Set(back)
	owners := map[int64]int{}
	for range 2 {
		owners[*f.routedMQL("").OwnerID]++
	}
	if owners[f.users[sdrA].ID] != 1 || owners[f.users[sdrB].ID] != 1 {
		t.Fatalf("after the return date: %v", owners)
	}

	// Ending an absence early: the manager ends sdrA's; another team's
	// manager may not.
	clock.Advance(time.Hour)
	st, b = f.do(manager, "PUT", path(sdrA), body(at(48*time.Hour), ""))
	want(t, "away again", st, b, 200, "", nil)
	st, b = f.do(managerN, "DELETE", path(sdrA), "")
	want(t, "ended by another team's manager", st, b, 403, "", nil)
	st, b = f.do(sdrB, "DELETE", path(sdrA), "")
	want(t, "ended by another rep", st, b, 403, "", nil)
	st, b = f.do(manager, "DELETE", path(sdrA), "")
	want(t, "ended by the manager", st, b, 200, "", &u)
	if u.OutOfOfficeUntil != nil || u.OutOfOfficeNote != "" || strings.Contains(string(b), "out_of_office") {
		t.Fatalf("after the end: %s", b)
	}
	owners = map[int64]int{}
	for range 2 {
		owners[*f.routedMQL("").OwnerID]++
	}
	if owners[f.users[sdrA].ID] != 1 {
		t.Fatalf("after the end of the absence: %v", owners)
	}
}
