package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// importPolicy is the test policy with an MQL rule that fit alone meets,
// so that some leads are promoted (and routed) as they arrive.
var importPolicy = strings.Replace(storetest.Policy, "mql:\n  fit: 20\n  engagement: 30", "mql:\n  fit: 20\n  engagement: 0", 1)

// importActor is who stores the leads in both worlds of a comparison: one
// actor, so that history entries name the same door.
func importActor() context.Context {
	return baton.WithActor(context.Background(), baton.Actor{Name: "importer", Role: baton.RoleSystem, Via: "import leads.csv"})
}

// importWorld is a database with a team, the import policy in force and
// two accounts, its clock stopped.
func importWorld(t *testing.T, open func(testing.TB) *store.DB) (*store.DB, []*baton.Account) {
	t.Helper()
	db := open(t)
	clock := storetest.NewClock()
	db.Now = clock.Now
	storetest.SeedTeam(t, db)
	if !strings.Contains(importPolicy, "engagement: 0") {
		t.Fatal("the import policy did not take")
	}
	publish(t, db, importPolicy)
	emp := int64(800)
	accounts := []*baton.Account{{Name: "Acme", Domain: "acme.com", Industry: "software", Employees: &emp}, {Name: "Globex", Domain: "globex.com", Industry: "energy"}}
	for _, a := range accounts {
		if err := db.CreateAccount(storetest.System(), a); err != nil {
			t.Fatal(err)
		}
	}
	// A webhook for every event: the outbox shows what receivers are told.
	if err := db.CreateWebhook(storetest.System(), &baton.Webhook{URL: "https://hooks.example.com/baton", Events: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	return db, accounts
}

// toldOf returns the webhook events queued in db, a line per event with
// the lead it is about, sorted: bulk writes tell them in another order.
func toldOf(t *testing.T, db *store.DB) []string {
	t.Helper()
	msgs, err := db.ClaimOutbox(storetest.System(), "test", 10000, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var told []string
	for _, m := range msgs {
		var p struct {
			Lead struct {
				Email string `json:"email"`
				Name  string `json:"name"`
			} `json:"lead"`
		}
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			t.Fatal(err)
		}
		told = append(told, m.Channel+" "+m.Event+" "+p.Lead.Name+" "+p.Lead.Email)
	}
	sort.Strings(told)
	return told
}

// importLeads is a batch that takes each way a new lead can: linked to an
// account by its email's domain or named one, promoted by the policy,
// owned, at a later stage, an external id alone, custom attributes, a time
// in the past and one in the future.
func importLeads(accounts []*baton.Account) []*baton.Lead {
	past := storetest.Epoch.Add(-72 * time.Hour)
	later := storetest.Epoch.Add(1000 * time.Hour)
	globex := accounts[1].ID
	return []*baton.Lead{
		{Email: "Ann@Acme.com", Name: "Ann Able", Title: "VP Sales", Company: "Acme", Country: "DE", Source: "web", Campaign: "spring"},
		{Email: "bob@acme.com", Name: "Bob Baker", Title: "Engineer", Source: "web", CreatedAt: past},
		{Email: "cy@gmail.com", Name: "Cy Cole", Title: "VP Marketing", Source: "event", Attrs: baton.Attrs{"seats": 12.0, "trial": true}},
		{ExternalID: "crm-4", Name: "Dee Dunn", Source: "partner", AccountID: &globex},
		{Email: "eve@globex.com", Name: "Eve Ernst", Stage: baton.StageSQL, CreatedAt: later},
		{Email: "fay@initech.com", Name: "Fay Fox", Title: "VP Ops", Attrs: baton.Attrs{"seats": 3.0}},
	}
}

// leadsOf returns every lead of db with its history (entry ids left out:
// they count entries of all leads in the order they were written).
func leadsOf(t *testing.T, db *store.DB) (leads []*baton.Lead, history map[int64][]baton.HistoryEntry) {
	t.Helper()
	history = map[int64][]baton.HistoryEntry{}
	ctx := storetest.System()
	if err := db.EachLead(ctx, baton.LeadFilter{}, func(l *baton.Lead) error {
		leads = append(leads, l)
		h, err := db.History(ctx, l.ID)
		for i := range h {
			h[i].ID = 0
		}
		history[l.ID] = h
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return leads, history
}

// sameWorlds fails unless two databases hold the same leads, histories and
// reports.
func sameWorlds(t *testing.T, want, got *store.DB) {
	t.Helper()
	wl, wh := leadsOf(t, want)
	gl, gh := leadsOf(t, got)
	if len(wl) != len(gl) {
		t.Fatalf("%d leads, want %d", len(gl), len(wl))
	}
	for i := range wl {
		if !reflect.DeepEqual(gl[i], wl[i]) {
			t.Errorf("lead %d:\n got %+v\nwant %+v", wl[i].ID, *gl[i], *wl[i])
		}
		if !reflect.DeepEqual(gh[wl[i].ID], wh[wl[i].ID]) {
			t.Errorf("history of lead %d:\n got %+v\nwant %+v", wl[i].ID, gh[wl[i].ID], wh[wl[i].ID])
		}
	}
	wr, gr := allReports(t, want), allReports(t, got)
	for k, v := range wr {
		if gr[k] != v {
			t.Errorf("%s =\n%s\nwant\n%s", k, gr[k], v)
		}
	}
}

// TestImportedLeadIsLikeCreated imports a batch of new leads in one world
// and creates the same leads through CreateLead, the API's way, in another:
// each lead, its history (the created entry, and for the leads the policy
// promotes the move to MQL and the routing), its account link, its scores
// and every report agree.
func TestImportedLeadIsLikeCreated(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		api, accounts := importWorld(t, open)
		for _, l := range importLeads(accounts) {
			if err := api.CreateLead(importActor(), l); err != nil {
				t.Fatalf("create %s: %v", l.Email, err)
			}
		}
		bulk, accounts := importWorld(t, open)
		batch := importLeads(accounts)
		res, err := bulk.ImportLeads(importActor(), batch)
		if err != nil || res.Created != len(batch) || res.Rejected != 0 {
			t.Fatalf("import: %+v %v", res, err)
		}
		// The batch's leads come back as stored, as CreateLead's do.
		for _, l := range batch {
			if l.ID == 0 || l.Version == 0 {
				t.Fatalf("imported lead not filled in: %+v", l)
			}
		}
		sameWorlds(t, api, bulk)
		// Receivers are told the same: lead.created for each new lead, and
		// what its promotion and routing cause.
		want, got := toldOf(t, api), toldOf(t, bulk)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("webhook events of the import:\n%s\nwant (as created):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if created := strings.Count(strings.Join(got, "\n"), "lead.created"); created != len(batch) {
			t.Errorf("%d lead.created events, want %d", created, len(batch))
		}
		// The checks mean something: the batch took the ways it claims.
		leads, history := leadsOf(t, bulk)
		var linked, promoted int
		for _, l := range leads {
			if l.AccountID != nil {
				linked++
			}
			for _, h := range history[l.ID] {
				if h.Action == baton.ActionStage && h.To == string(baton.StageMQL) {
					promoted++
				}
			}
		}
		if linked != 4 || promoted < 2 {
			t.Fatalf("%d leads linked to an account, %d promoted: want 4 and at least 2", linked, promoted)
		}
		// The aggregates written in bulk are those the history gives.
		before := allReports(t, bulk)
		if _, err := bulk.RebuildReports(storetest.System()); err != nil {
			t.Fatal(err)
		}
		for k, v := range allReports(t, bulk) {
			if before[k] != v {
				t.Errorf("after rebuild, %s =\n%s\nwas\n%s", k, v, before[k])
			}
		}
		es, _, err := bulk.FindAudit(storetest.System(), baton.AuditFilter{Action: new("lead.import")})
		if err != nil || len(es) != 1 || !strings.Contains(es[0].After, `"created":6`) {
			t.Fatalf("audit of the import: %+v %v", es, err)
		}
	})
}

// TestImportLeadsIsUpsertInTurn imports a batch that mixes new leads,
// existing ones, rows that name the same lead and bad rows, and upserts the
// same rows one by one in another world: the same leads, histories and
// reports, and the same rows refused.
func TestImportLeadsIsUpsertInTurn(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		existing := func(db *store.DB) {
			for _, l := range []*baton.Lead{{Email: "old@acme.com", Name: "Old One", Source: "web"}, {ExternalID: "crm-9", Name: "Old Two"},
				{Email: "nomail@x.com", ExternalID: "crm-10"}} {
				if err := db.CreateLead(importActor(), l); err != nil {
					t.Fatal(err)
				}
			}
		}
		var sam int64 // a user of the team, found below
		rows := func() []*baton.Lead {
			return []*baton.Lead{
				{Email: "new1@acme.com", Name: "New One", Title: "VP Sales"},
				{Email: "old@acme.com", Title: "CTO", Source: "event"},                   // existing: updated
				{Email: "new2@acme.com", Name: "New Two"},                                // created
				{Email: "new2@acme.com", Title: "VP Finance"},                            // the row before's lead: updated
				{ExternalID: "crm-9", Email: "old2@globex.com"},                          // existing by external id, gets an email
				{Email: "old2@globex.com", Country: "FR"},                                // that email's lead, by the row before
				{Email: "bad", Name: "Not an email"},                                     // refused
				{Email: "other@x.com", ExternalID: "crm-10"},                             // external id of a lead with another email
				{Email: "owned@acme.com", Name: "Owned", OwnerID: new(int64(999999))},    // no such user
				{Email: "acct@acme.com", Name: "Account", AccountID: new(int64(999999))}, // no such account
				{Email: "new3@initech.com", Attrs: baton.Attrs{"seats": "many"}},         // new attribute: a string
				{Email: "new4@initech.com", Attrs: baton.Attrs{"seats": 4.0}},            // then not a string
				{Email: "owned2@acme.com", OwnerID: new(int64(999999))},                  // no such user, again
				{Email: "sams1@acme.com", OwnerID: new(sam)},                             // a user's
				{Email: "sams2@acme.com", OwnerID: new(sam)},                             // the same user's
			}
		}
		one, _ := importWorld(t, open)
		if u, err := one.FindUserByEmail(storetest.System(), "sam.sdr@example.com"); err != nil {
			t.Fatal(err)
		} else {
			sam = u.ID
		}
		existing(one)
		var wantErrs []int
		for i, l := range rows() {
			if _, err := one.UpsertLead(importActor(), l); err != nil {
				if code := baton.ErrorCode(err); code != baton.EINVALID && code != baton.ECONFLICT {
					t.Fatalf("upsert row %d: %v", i, err)
				}
				wantErrs = append(wantErrs, i)
			}
		}
		bulk, _ := importWorld(t, open)
		existing(bulk)
		res, err := bulk.ImportLeads(importActor(), rows())
		if err != nil {
			t.Fatal(err)
		}
		var gotErrs []int
		for _, e := range res.Errors {
			gotErrs = append(gotErrs, e.Row)
		}
		if fmt.Sprint(gotErrs) != fmt.Sprint(wantErrs) || res.Rejected != len(wantErrs) {
			t.Fatalf("rows refused %v (%+v), want %v", gotErrs, res.Errors, wantErrs)
		}
		if want := []int{6, 7, 8, 9, 11, 12}; fmt.Sprint(wantErrs) != fmt.Sprint(want) {
			t.Fatalf("upsert refused rows %v, want %v", wantErrs, want)
		}
		if res.Created != 5 || res.Updated != 4 {
			t.Fatalf("import: %+v", res)
		}
		sameWorlds(t, one, bulk)
	})
}

// TestImportAccountsLinksLikeCreate imports accounts into a database of
// leads, enough of them to be linked in one read of the leads, and creates
// the same accounts one by one in another: the same leads end up linked,
// with the same versions, histories and reports.
func TestImportAccountsLinksLikeCreate(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		const domains = 6
		world := func() *store.DB {
			db, _ := importWorld(t, open)
			var leads []*baton.Lead
			for i := range 3 * domains {
				leads = append(leads, &baton.Lead{Email: fmt.Sprintf("p%d@d%d.example", i, i%(domains+1)), Name: fmt.Sprint("P", i), Title: "VP Sales"})
			}
			leads = append(leads, &baton.Lead{ExternalID: "no-email"}, &baton.Lead{Email: "x@d0.example.org"})
			if res, err := db.ImportLeads(importActor(), leads); err != nil || res.Created != len(leads) {
				t.Fatalf("leads: %+v %v", res, err)
			}
			return db
		}
		accounts := func() []*baton.Account {
			var out []*baton.Account
			for i := range domains {
				out = append(out, &baton.Account{Name: fmt.Sprint("D", i), Domain: fmt.Sprintf("d%d.example", i), Industry: "retail"})
			}
			return out
		}
		one := world()
		for _, a := range accounts() {
			if err := one.CreateAccount(importActor(), a); err != nil {
				t.Fatal(err)
			}
		}
		bulk := world()
		if res, err := bulk.ImportAccounts(importActor(), accounts()); err != nil || res.Created != domains {
			t.Fatalf("import accounts: %+v %v", res, err)
		}
		sameWorlds(t, one, bulk)
		leads, _ := leadsOf(t, bulk)
		linked := 0
		for _, l := range leads {
			if l.AccountID != nil {
				linked++
			}
		}
		// 18 leads over seven domains (3, 3, 3, 3, 2, 2, 2): those at the
		// first six, not the seventh's nor the lead at d0.example.org.
		if linked != 16 {
			t.Fatalf("%d leads linked, want 16", linked)
		}
	})
}

// TestImportManyChunks imports one batch of more new leads than the bulk
// path builds at a time, with a column the first chunk's rows all share
// (so written as a literal) that later rows change, and every seventh lead
// of an account's domain: every lead lands once with its created entry and
// account link, and the report counts written in bulk are those a rebuild
// from the history gives.
func TestImportManyChunks(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db, accounts := importWorld(t, open)
		const n = 4500 // over two chunks of 2,000 and a short one
		batch := make([]*baton.Lead, n)
		for i := range batch {
			domain, source := fmt.Sprintf("c%d.example", i), "web"
			if i%7 == 0 {
				domain = accounts[i%2].Domain
			}
			if i >= 2000 {
				source = []string{"event", "partner"}[i%2]
			}
			batch[i] = &baton.Lead{Email: fmt.Sprintf("lead%d@%s", i, domain), Name: fmt.Sprintf("Lead %d", i),
				Source: source, CreatedAt: storetest.Epoch.Add(time.Duration(i-n) * time.Minute)}
		}
		res, err := db.ImportLeads(importActor(), batch)
		if err != nil || res.Created != n || res.Rejected != 0 {
			t.Fatalf("import: %+v %v", res, err)
		}
		leads, history := leadsOf(t, db)
		if len(leads) != n {
			t.Fatalf("%d leads, want %d", len(leads), n)
		}
		for i, l := range leads {
			want := batch[i]
			if l.ID != want.ID || l.Email != want.Email || l.Source != want.Source {
				t.Fatalf("lead %d: %+v, want %+v", i, l, want)
			}
			var acc *int64
			if i%7 == 0 {
				acc = &accounts[i%2].ID
			}
			if fmt.Sprint(deref(l.AccountID)) != fmt.Sprint(deref(acc)) {
				t.Errorf("lead %d (%s): account %v, want %v", i, l.Email, deref(l.AccountID), deref(acc))
			}
			if h := history[l.ID]; len(h) == 0 || h[0].Action != baton.ActionCreated || !h[0].At.Equal(want.CreatedAt) {
				t.Fatalf("history of lead %d: %+v", i, h)
			}
		}
		before := allReports(t, db)
		if _, err := db.RebuildReports(storetest.System()); err != nil {
			t.Fatal(err)
		}
		for k, v := range allReports(t, db) {
			if before[k] != v {
				t.Errorf("after rebuild, %s =\n%s\nwas\n%s", k, v, before[k])
			}
		}
	})
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}
