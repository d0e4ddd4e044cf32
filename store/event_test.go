package store_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

func TestRecordEvents(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		ctx := storetest.System()
		a := storetest.MustLead(t, db, &baton.Lead{Email: "a@x.com", ExternalID: "ext-a"})
		at := storetest.Epoch.Add(-time.Hour)
		batch := []baton.EventInput{
			{ID: "e1", LeadID: a.ID, Type: baton.EventPricingPageView, OccurredAt: at, Properties: json.RawMessage(`{"url":"/pricing"}`)},
			{ID: "e2", Email: "A@X.com", Type: baton.EventDemoRequest, OccurredAt: at.Add(time.Minute)},
			{ID: "e3", ExternalID: "ext-a", Type: "trade_show_visit", OccurredAt: at.Add(2 * time.Minute)},
			{ID: "e1", LeadID: a.ID, Type: baton.EventPricingPageView, OccurredAt: at}, // sent twice in one batch
			{ID: "e4", Email: "nobody@x.com", Type: baton.EventPageView, OccurredAt: at},
			{ID: "e5", LeadID: a.ID, Type: "Bad Type", OccurredAt: at},
			{ID: "", LeadID: a.ID, Type: baton.EventPageView, OccurredAt: at},
			{ID: "e6", LeadID: a.ID, Type: baton.EventPageView, OccurredAt: at, Properties: json.RawMessage(`[1]`)},
			{ID: "e7", LeadID: a.ID, Type: baton.EventPageView, OccurredAt: at.Add(72 * time.Hour)},
		}
		res, err := db.RecordEvents(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		if res.Created != 3 || res.Duplicates != 1 || res.Rejected != 5 {
			t.Fatalf("result %+v", res)
		}
		wantFields := map[int]string{4: "email", 5: "type", 6: "id", 7: "properties", 8: "occurred_at"}
		for _, e := range res.Errors {
			if wantFields[e.Row] != e.Column {
				t.Fatalf("error %+v: want column %q", e, wantFields[e.Row])
			}
		}
		// A retry of the whole batch stores nothing new.
		res, err = db.RecordEvents(ctx, batch[:4])
		if err != nil || res.Created != 0 || res.Duplicates != 4 {
			t.Fatalf("retry: %+v %v", res, err)
		}
		events, n, err := db.FindEvents(ctx, baton.EventFilter{LeadID: &a.ID})
		if err != nil || n != 3 || events[0].Type != "trade_show_visit" || string(events[2].Properties) == "" {
			t.Fatalf("events %d %+v %v", n, events, err)
		}
		// Marketing may send events; a rep may not.
		tm := storetest.SeedTeam(t, db)
		_, err = db.RecordEvents(storetest.As(tm.SDR1), batch[:1])
		wantCode(t, err, baton.EFORBIDDEN)

		// The timeline merges history and events in time order.
		items, err := db.Timeline(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 4 || items[0].Kind != "event" || items[3].Kind != "history" {
			t.Fatalf("timeline %+v", items)
		}
		for i := 1; i < len(items); i++ {
			if items[i].At.Before(items[i-1].At) {
				t.Fatal("timeline out of order")
			}
		}
	})
}

func TestUsersAndTokens(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		tm := storetest.SeedTeam(t, db)
		tok, err := db.CreateToken(storetest.As(tm.SDR1), tm.SDR1.ID, "cli")
		if err != nil {
			t.Fatal(err)
		}
		u, err := db.Authenticate(storetest.System(), tok)
		if err != nil || u.ID != tm.SDR1.ID {
			t.Fatalf("authenticate: %v %v", u, err)
		}
		_, err = db.Authenticate(storetest.System(), tok+"x")
		wantCode(t, err, baton.EUNAUTHORIZED)
		_, err = db.CreateToken(storetest.As(tm.SDR1), tm.SDR2.ID, "steal")
		wantCode(t, err, baton.EFORBIDDEN)
		// Tokens are stored hashed: the clear token is nowhere in the table.
		var n int
		if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM api_tokens WHERE hash = $1`, tok).Scan(&n); err != nil || n != 0 {
			t.Fatalf("token stored in clear (%d, %v)", n, err)
		}
		// Deactivated users' tokens stop working.
		if _, err := db.UpdateUser(storetest.As(tm.Admin), tm.SDR1.ID, baton.UserUpdate{Active: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		_, err = db.Authenticate(storetest.System(), tok)
		wantCode(t, err, baton.EUNAUTHORIZED)
		wantCode(t, db.CreateUser(storetest.As(tm.Marketing), &baton.User{Email: "n@x.com", Name: "N", Role: baton.RoleSDR}), baton.EFORBIDDEN)
		wantCode(t, db.CreateUser(storetest.System(), &baton.User{Email: "sam.sdr@example.com", Name: "N", Role: baton.RoleSDR}), baton.ECONFLICT)
		err = db.CreateUser(storetest.System(), &baton.User{Email: "n@x.com", Name: "N", Role: "boss"})
		wantCode(t, err, baton.EINVALID)

		res, err := db.ImportUsers(storetest.System(), []baton.UserImport{
			{User: baton.User{Email: "anna.snelling@example.com", Name: "Anna Snelling", Role: baton.RoleSDR, Team: "Central"}, Manager: "Dustin Brinkmann"},
			{User: baton.User{Email: "cecily.lampkin@example.com", Name: "Cecily Lampkin", Role: baton.RoleSDR}, Manager: "Dustin Brinkmann"},
			{User: baton.User{Email: "bad", Name: "B", Role: baton.RoleSDR}},
		})
		if err != nil || res.Created != 3 || res.Rejected != 1 {
			t.Fatalf("import users: %+v %v", res, err)
		}
		mgr, err := db.FindUserByEmail(storetest.System(), "dustin.brinkmann@example.com")
		if err != nil || mgr.Role != baton.RoleManager {
			t.Fatalf("manager %+v %v", mgr, err)
		}
		team, n2, _ := db.FindUsers(storetest.System(), baton.UserFilter{ManagerID: &mgr.ID})
		if n2 != 2 || len(team) != 2 {
			t.Fatalf("team of %d", n2)
		}
	})
}

func TestSchemaVersion(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := storetest.System()
		if err := db.CheckSchema(ctx); err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("migrating twice: %v", err)
		}
		if _, err := db.SQL().Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future.sql', 0)`); err != nil {
			t.Fatal(err)
		}
		if err := db.CheckSchema(ctx); err == nil {
			t.Fatal("a newer schema was accepted")
		}
		if err := db.Migrate(ctx); err == nil {
			t.Fatal("migrate accepted a newer schema")
		}
	})
}

// TestRecordBigBatch: a batch big enough to be checked and resolved before
// the write transaction (on SQLite) reports the same as a small one: every
// bad row by index, in order, duplicates within it and from before counted,
// and, under a policy, every new event scored once.
func TestRecordBigBatch(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		ctx := storetest.System()
		publish(t, db, testPolicy)
		var leads []*baton.Lead
		for i := range 50 {
			leads = append(leads, storetest.MustLead(t, db, &baton.Lead{Email: fmt.Sprintf("l%d@x.com", i), ExternalID: fmt.Sprintf("ext-%d", i)}))
		}
		at := clock.Now().Add(-time.Hour)
		mustEvents(t, db, event("old", leads[7].ID, baton.EventPricingPageView, at))
		var batch []baton.EventInput
		want := map[int]string{}
		for i := range 3000 {
			e := baton.EventInput{ID: fmt.Sprint("e", i), Type: baton.EventPricingPageView, OccurredAt: at}
			switch l := leads[i%50]; i % 3 {
			case 0:
				e.LeadID = l.ID
			case 1:
				e.Email = strings.ToUpper(l.Email)
			default:
				e.ExternalID = l.ExternalID
			}
			switch {
			case i == 1500:
				e.ID, e.LeadID = "old", leads[7].ID // stored before
			case i == 2999:
				e.ID = "e3" // twice in the batch
				e.LeadID, e.Email, e.ExternalID = leads[3].ID, "", ""
			case i%701 == 0:
				e.Type, want[i] = "Not A Type", "type"
			case i%997 == 0:
				e.LeadID, e.Email, e.ExternalID, want[i] = 0, "", "nobody", "external_id"
			}
			batch = append(batch, e)
		}
		res, err := db.RecordEvents(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		if res.Rejected != len(want) || res.Duplicates != 2 || res.Created != 3000-2-len(want) {
			t.Fatalf("result %+v, want %d rejected", res, len(want))
		}
		var rows []int
		for _, e := range res.Errors {
			if want[e.Row] != e.Column {
				t.Errorf("error %+v, want column %q", e, want[e.Row])
			}
			rows = append(rows, e.Row)
		}
		// Validation errors first, then unknown leads, each in row order.
		if fmt.Sprint(rows) != "[0 701 1402 2103 2804 997 1994 2991]" {
			t.Errorf("error rows %v", rows)
		}
		// Each lead got 60 events but those rejected or duplicated; under the
		// policy each new one scored 20 points (no decay at the same time).
		for i, l := range leads {
			n := 0
			for j := range batch {
				if j%50 == i && want[j] == "" && j != 1500 && j != 2999 {
					n++
				}
			}
			if i == 7 {
				n++ // the one stored before
			}
			if got := lead(t, db, l.ID).Score.Engagement; !near(got, float64(20*n)*math.Pow(0.5, 1.0/24/10)) && !near(got, float64(20*n)) {
				t.Fatalf("lead %d: engagement %v, want %d events' worth", i, got, n)
			}
		}
	})
}

// TestRecordEventsAtOnce sends batches from many callers at once, with
// events that two of them both send: on SQLite those queued behind the
// writer are stored together. Every event is stored and scored once, each
// caller's counts are its own, and a lead that qualifies is promoted once.
func TestRecordEventsAtOnce(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		ctx := storetest.System()
		publish(t, db, testPolicy)
		var leads []*baton.Lead
		for i := range 20 {
			title := ""
			if i%2 == 0 {
				title = "VP Sales" // fit 30: qualifies once engaged
			}
			leads = append(leads, storetest.MustLead(t, db, &baton.Lead{Email: fmt.Sprintf("l%d@x.com", i), Title: title}))
		}
		at := clock.Now().Add(-time.Hour)
		// Batches of 100 or more find their leads on the reader pool
		// before they queue: 16 callers at once are more than its 4
		// connections.
		const callers, batches, size = 16, 4, 120
		// Caller c's batch b holds events e<c/2>-<b>-<i>: callers 2k and
		// 2k+1 send the same ones, one of each pair being a duplicate.
		batch := func(c, b int) []baton.EventInput {
			var out []baton.EventInput
			for i := range size {
				l := leads[(c/2*7+b*3+i)%len(leads)]
				out = append(out, event(fmt.Sprintf("e%d-%d-%d", c/2, b, i), l.ID, baton.EventPricingPageView, at))
			}
			return out
		}
		results := make([][]baton.EventResult, callers)
		errs := make([]error, callers)
		var wg sync.WaitGroup
		for c := range callers {
			wg.Go(func() {
				for b := range batches {
					res, err := db.RecordEvents(ctx, batch(c, b))
					if err != nil {
						errs[c] = err
						return
					}
					results[c] = append(results[c], res)
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		want := map[int64]int{} // unique events per lead
		for c := 0; c < callers; c += 2 {
			for b := range batches {
				for _, e := range batch(c, b) {
					want[e.LeadID]++
				}
			}
		}
		created, dups := 0, 0
		for c := range callers {
			for _, res := range results[c] {
				if res.Created+res.Duplicates != size || res.Rejected != 0 {
					t.Fatalf("caller %d: result %+v", c, res)
				}
				created, dups = created+res.Created, dups+res.Duplicates
			}
		}
		if total := callers / 2 * batches * size; created != total || dups != total {
			t.Fatalf("created %d, duplicates %d: want %d each", created, dups, total)
		}
		for i, l := range leads {
			n := want[l.ID]
			got := lead(t, db, l.ID)
			if !near(got.Score.Engagement, float64(20*n)*math.Pow(0.5, 1.0/24/10)) && !near(got.Score.Engagement, float64(20*n)) {
				t.Fatalf("lead %d: engagement %v, want %d events' worth", i, got.Score.Engagement, n)
			}
			_, stored, err := db.FindEvents(ctx, baton.EventFilter{LeadID: &l.ID})
			if err != nil || stored != n {
				t.Fatalf("lead %d: %d events stored, want %d (%v)", i, stored, n, err)
			}
			items, err := db.Timeline(ctx, l.ID)
			if err != nil {
				t.Fatal(err)
			}
			mqls := 0
			for _, it := range items {
				if it.History != nil && it.History.Action == baton.ActionStage && it.History.To == string(baton.StageMQL) {
					mqls++
				}
			}
			if wantMQL := map[bool]int{true: 1, false: 0}[l.Title != ""]; mqls != wantMQL || (got.Stage == baton.StageMQL) != (wantMQL == 1) {
				t.Fatalf("lead %d (%q): stage %s after %d moves to MQL, want %d", i, l.Title, got.Stage, mqls, wantMQL)
			}
		}
	})
}
