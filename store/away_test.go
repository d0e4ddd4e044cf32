package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// TestOutOfOfficeRights: a rep sets and ends their own absence, their
// manager theirs, an admin anyone's; another team's manager, another rep
// and marketing may not, and a user who does not exist is not found.
func TestOutOfOfficeRights(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		w := newHandoffWorld(t, open)
		rep := w.emea1
		until := w.clock.Now().Add(72 * time.Hour)
		away := baton.OutOfOffice{Until: until.Format(time.RFC3339), Note: "  trade fair, Ella covers "}
		for _, by := range []*baton.User{rep, w.emeaMgr, w.tm.Admin} {
			w.clock.Advance(time.Minute)
			u, err := w.db.SetOutOfOffice(storetest.As(by), rep.ID, away)
			if err != nil {
				t.Fatalf("set by %s: %v", by.Name, err)
			}
			got, err := w.db.FindUserByID(storetest.System(), rep.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range []*baton.User{u, got} {
				if u.OutOfOfficeUntil == nil || !u.OutOfOfficeUntil.Equal(until) || u.OutOfOfficeNote != "trade fair, Ella covers" ||
					!u.UpdatedAt.Equal(w.clock.Now()) || !u.Away(w.clock.Now()) {
					t.Fatalf("set by %s: %+v", by.Name, u)
				}
			}
			w.clock.Advance(time.Minute)
			if u, err = w.db.EndOutOfOffice(storetest.As(by), rep.ID); err != nil || u.OutOfOfficeUntil != nil || u.OutOfOfficeNote != "" {
				t.Fatalf("ended by %s: %+v %v", by.Name, u, err)
			}
			if got, _ = w.db.FindUserByID(storetest.System(), rep.ID); got.OutOfOfficeUntil != nil || got.Away(w.clock.Now()) {
				t.Fatalf("after the end by %s: %+v", by.Name, got)
			}
		}
		for _, by := range []*baton.User{w.tm.Manager1, w.emea2, w.tm.Marketing, w.tm.SDR1} {
			_, err := w.db.SetOutOfOffice(storetest.As(by), rep.ID, away)
			wantCode(t, err, baton.EFORBIDDEN)
			_, err = w.db.EndOutOfOffice(storetest.As(by), rep.ID)
			wantCode(t, err, baton.EFORBIDDEN)
		}
		// A manager sets their own too.
		if _, err := w.db.SetOutOfOffice(storetest.As(w.emeaMgr), w.emeaMgr.ID, away); err != nil {
			t.Fatal(err)
		}
		_, err := w.db.SetOutOfOffice(storetest.As(w.tm.Admin), 999999, away)
		wantCode(t, err, baton.ENOTFOUND)
		_, err = w.db.EndOutOfOffice(storetest.As(rep), 999999)
		wantCode(t, err, baton.ENOTFOUND)
		// Bad return dates are refused naming the field.
		for _, until := range []string{"", "soon", w.clock.Now().Add(-time.Second).Format(time.RFC3339),
			w.clock.Now().Format(time.DateOnly), w.clock.Now().Add(baton.MaxAbsence + time.Hour).Format(time.RFC3339)} {
			_, err := w.db.SetOutOfOffice(storetest.As(rep), rep.ID, baton.OutOfOffice{Until: until})
			if baton.ErrorCode(err) != baton.EINVALID || baton.ErrorField(err) != "until" {
				t.Fatalf("until %q: %v", until, err)
			}
		}
	})
}

// TestRoutingSkipsAbsentRep: while a rep is out of office, round robin
// passes them over and the assignment says so; from their return date they
// get leads again. A return day is read in the rep's own time zone.
func TestRoutingSkipsAbsentRep(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		w := newHandoffWorld(t, open)
		berlin := `{"time_zone": "Europe/Berlin", "hours": {"mon-fri": ["08:00-18:00"]}}`
		if err := w.db.SetCalendar(storetest.System(), "EMEA", []byte(berlin)); err != nil {
			t.Fatal(err)
		}
		// Back on Wednesday, 4 March: midnight in Berlin, 23:00 UTC the day before.
		u, err := w.db.SetOutOfOffice(storetest.As(w.emea1), w.emea1.ID, baton.OutOfOffice{Until: "2026-03-04", Note: "sick"})
		if err != nil {
			t.Fatal(err)
		}
		back := time.Date(2026, 3, 3, 23, 0, 0, 0, time.UTC)
		if !u.OutOfOfficeUntil.Equal(back) {
			t.Fatalf("back at %v, want %v", u.OutOfOfficeUntil, back)
		}
		for i := range 3 {
			w.clock.Advance(time.Hour)
			l := w.mql(t, "away"+string(rune('a'+i))+"@de.example", "Germany")
			hs := w.handoffs(t, l.ID)
			if *l.OwnerID != w.emea2.ID || len(hs) != 1 || !strings.Contains(hs[0].Why, "(out of office: Emil Emea until 2026-03-03 23:00 UTC)") {
				t.Fatalf("lead %d while Emil is away: owner %v, %+v", i, *l.OwnerID, hs)
			}
		}
		// A minute before the return, still away; at it, back in turn.
		w.clock.Set(back.Add(-time.Minute))
		if l := w.mql(t, "before@de.example", "Germany"); *l.OwnerID != w.emea2.ID {
			t.Fatal("Emil got a lead before his return")
		}
		w.clock.Set(back)
		got := map[int64]int{}
		for i := range 4 {
			l := w.mql(t, "back"+string(rune('a'+i))+"@de.example", "Germany")
			got[*l.OwnerID]++
			if hs := w.handoffs(t, l.ID); strings.Contains(hs[0].Why, "out of office") {
				t.Fatalf("why after the return: %s", hs[0].Why)
			}
		}
		if got[w.emea1.ID] != 2 || got[w.emea2.ID] != 2 {
			t.Fatalf("after the return: Emil %d, Ella %d", got[w.emea1.ID], got[w.emea2.ID])
		}
		// With the whole pool away, the lead goes to the next route.
		for _, rep := range []*baton.User{w.emea1, w.emea2} {
			if _, err := w.db.SetOutOfOffice(storetest.As(w.emeaMgr), rep.ID, baton.OutOfOffice{Until: "2026-03-10"}); err != nil {
				t.Fatal(err)
			}
		}
		l := w.mql(t, "allaway@de.example", "Germany")
		if *l.OwnerID != w.tm.SDR1.ID && *l.OwnerID != w.tm.SDR2.ID {
			t.Fatalf("with EMEA away the lead went to %d", *l.OwnerID)
		}
		if why := w.handoffs(t, l.ID)[0].Why; !strings.Contains(why, `rule "EMEA": nobody available in EMEA`) {
			t.Fatalf("why: %s", why)
		}
	})
}

// TestRepCalendar: a rep with a calendar of their own that works 09:00-13:00
// gets a 4 h window that ends the next working day, and the working time
// they take is counted in it, while a teammate without one gets the team's.
// Removing the rep's calendar gives them the team's again.
func TestRepCalendar(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		w := newHandoffWorld(t, open)
		admin := storetest.As(w.tm.Admin)
		team := `{"time_zone": "UTC", "hours": {"mon-fri": ["09:00-18:00"]}}`
		mornings := `{"time_zone": "UTC", "hours": {"mon-fri": ["09:00-13:00"]}, "holidays": ["2026-03-04"]}`
		if err := w.db.SetCalendar(admin, "EMEA", []byte(team)); err != nil {
			t.Fatal(err)
		}
		if err := w.db.SetCalendar(admin, " user:Emil.Emea@example.com", []byte(mornings)); err != nil {
			t.Fatal(err)
		}
		// Only an admin sets calendars; a rep's names a user.
		wantCode(t, w.db.SetCalendar(storetest.As(w.emeaMgr), "user:emil.emea@example.com", []byte(mornings)), baton.EFORBIDDEN)
		if err := w.db.SetCalendar(admin, "user:nobody@example.com", []byte(mornings)); baton.ErrorField(err) != "team" {
			t.Fatalf("calendar of nobody: %v", err)
		}
		cals, err := w.db.Calendars(admin)
		if err != nil || len(cals) != 2 || !strings.Contains(cals["user:emil.emea@example.com"], "09:00-13:00") || !strings.Contains(cals["EMEA"], "09:00-18:00") {
			t.Fatalf("calendars %v %v", cals, err)
		}

		// Monday 11:00 UTC: Emil's 4 h are 11-13 today and 9-11 tomorrow;
		// Ella's end at 15:00 today.
		monday11 := time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)
		w.clock.Set(monday11)
		a := w.mql(t, "a@de.example", "Germany")
		b := w.mql(t, "b@fr.example", "France")
		byOwner := map[int64]baton.Handoff{}
		for _, l := range []*baton.Lead{a, b} {
			h := w.handoffs(t, l.ID)[0]
			byOwner[h.OwnerID] = h
		}
		emil, ella := byOwner[w.emea1.ID], byOwner[w.emea2.ID]
		if want := time.Date(2026, 3, 3, 11, 0, 0, 0, time.UTC); !emil.DueAt.Equal(want) {
			t.Fatalf("Emil's window ends %v, want %v", emil.DueAt, want)
		}
		if want := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC); !emil.RemindAt.Equal(want) {
			t.Fatalf("Emil is reminded %v, want %v", emil.RemindAt, want)
		}
		if want := monday11.Add(4 * time.Hour); !ella.DueAt.Equal(want) {
			t.Fatalf("Ella's window ends %v, want %v", ella.DueAt, want)
		}
		// Both answer on Tuesday at 10:00: Emil took 3 working hours (2
		// on Monday, 1 on Tuesday), in time; Ella 8, late.
		w.clock.Set(time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC))
		for _, l := range []*baton.Lead{a, b} {
			owner := w.emea1
			if *l.OwnerID == w.emea2.ID {
				owner = w.emea2
			}
			if _, err := w.db.Accept(storetest.As(owner), l.ID); err != nil {
				t.Fatal(err)
			}
		}
		for _, l := range []*baton.Lead{a, b} {
			h := w.handoffs(t, l.ID)
			last := h[len(h)-1]
			wantSeconds, wantMet := int64(3*3600), true
			if last.OwnerID == w.emea2.ID {
				wantSeconds, wantMet = 8*3600, false
			}
			if last.State != baton.HandoffAccepted || last.WorkingSeconds != wantSeconds || last.Met == nil || *last.Met != wantMet {
				t.Fatalf("handoff of %d: %+v, want %d working seconds, met %v", last.OwnerID, last, wantSeconds, wantMet)
			}
		}

		// Tuesday 12:00: Emil's holiday on Wednesday pushes his window
		// to Thursday 12:00 (1 h on Tuesday, 3 on Thursday).
		w.clock.Set(time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC))
		due := map[int64]time.Time{}
		for _, e := range []string{"c@de.example", "d@de.example"} {
			h := w.handoffs(t, w.mql(t, e, "Germany").ID)[0]
			due[h.OwnerID] = h.DueAt
		}
		if want := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC); !due[w.emea1.ID].Equal(want) {
			t.Fatalf("Emil's window over his holiday ends %v, want %v", due[w.emea1.ID], want)
		}
		if want := time.Date(2026, 3, 3, 16, 0, 0, 0, time.UTC); !due[w.emea2.ID].Equal(want) {
			t.Fatalf("Ella's window ends %v, want %v", due[w.emea2.ID], want)
		}

		// Without his own calendar, Emil counts in the team's again.
		if err := w.db.DeleteCalendar(admin, "user:emil.emea@example.com"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, w.db.DeleteCalendar(admin, "user:emil.emea@example.com"), baton.ENOTFOUND)
		for _, e := range []string{"e@de.example", "f@de.example"} {
			h := w.handoffs(t, w.mql(t, e, "Germany").ID)[0]
			if want := time.Date(2026, 3, 3, 16, 0, 0, 0, time.UTC); !h.DueAt.Equal(want) {
				t.Fatalf("handoff to %d without his calendar ends %v, want %v", h.OwnerID, h.DueAt, want)
			}
		}
	})
}
