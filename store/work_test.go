package store_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// TestLeadSorts checks every order of the lead list each way: the pages of
// FindLeads and the stream of EachLead (which starts each page of 1,000
// after the last row's key) give every lead once, in the same order, and
// the order is the column's.
func TestLeadSorts(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := storetest.System()
		start := storetest.Epoch.Add(-30 * 24 * time.Hour)
		var leads []*baton.Lead
		for i := range 2300 {
			l := &baton.Lead{ExternalID: fmt.Sprintf("x%04d", i), CreatedAt: start.Add(time.Duration(i%700) * time.Minute)}
			switch i % 3 {
			case 0:
				l.Name = fmt.Sprintf("Name%03d", (i*7919)%500) // ties on purpose
			case 1:
				l.Email = fmt.Sprintf("mail%04d@example.com", i)
			}
			leads = append(leads, l)
		}
		if res, err := db.ImportLeads(ctx, leads); err != nil || res.Created != len(leads) {
			t.Fatalf("import: %+v %v", res, err)
		}
		for _, sort := range baton.LeadSorts {
			for _, reverse := range []bool{false, true} {
				f := baton.LeadFilter{Sort: sort, Reverse: reverse}
				var paged []*baton.Lead
				for off := 0; ; off += 1000 {
					f.Offset, f.Limit = off, 1000
					page, total, err := db.FindLeads(ctx, f)
					if err != nil {
						t.Fatalf("%s: %v", sort, err)
					}
					if total != len(leads) {
						t.Fatalf("%s: total %d", sort, total)
					}
					paged = append(paged, page...)
					if len(page) < 1000 {
						break
					}
				}
				var streamed []*baton.Lead
				if err := db.EachLead(ctx, f, func(l *baton.Lead) error { streamed = append(streamed, l); return nil }); err != nil {
					t.Fatalf("each %s: %v", sort, err)
				}
				ids := func(ls []*baton.Lead) []int64 {
					out := make([]int64, len(ls))
					for i, l := range ls {
						out[i] = l.ID
					}
					return out
				}
				p, s := ids(paged), ids(streamed)
				if !slices.Equal(p, s) {
					t.Fatalf("sort %s reverse %v: the stream differs from the pages", sort, reverse)
				}
				if u := slices.Compact(slices.Sorted(slices.Values(s))); len(u) != len(leads) {
					t.Fatalf("sort %s reverse %v: %d distinct leads of %d", sort, reverse, len(u), len(leads))
				}
				if sort == "created" {
					for i := 1; i < len(streamed); i++ {
						a, b := streamed[i-1], streamed[i]
						before := a.CreatedAt.Before(b.CreatedAt) || a.CreatedAt.Equal(b.CreatedAt) && a.ID < b.ID
						if before != reverse {
							t.Fatalf("created reverse %v: lead %d (%s) before lead %d (%s)", reverse, a.ID, a.CreatedAt, b.ID, b.CreatedAt)
						}
					}
				}
			}
		}
		// Names sort by what the list shows (the name, else the email):
		// an unnamed lead with an email is among the m's.
		f := baton.LeadFilter{Sort: "name", Limit: 1000}
		first, _, err := db.FindLeads(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if first[0].Email != "mail0001@example.com" {
			t.Fatalf("by name, first %+v", first[0])
		}
		if _, _, err := db.FindLeads(ctx, baton.LeadFilter{Sort: "shoe_size"}); baton.ErrorField(err) != "sort" {
			t.Fatalf("unknown sort: %v", err)
		}
	})
}

// TestWorklists follows leads through the handoff and reads each worklist
// as the people who should, and should not, see them.
func TestWorklists(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		w := newHandoffWorld(t, open)
		db, tm := w.db, w.tm
		a := w.mql(t, "ana@northwind.com", "United States")
		if a.OwnerID == nil {
			t.Fatal("not routed")
		}
		rep := tm.SDR1
		other := tm.SDR2
		mgr := tm.Manager1
		if *a.OwnerID == tm.SDR2.ID {
			rep, other, mgr = tm.SDR2, tm.SDR1, tm.Manager2
		}
		as := storetest.As
		// The handoff awaits the rep's answer: theirs and their manager's to see.
		for _, c := range []struct {
			who  *baton.User
			want int
		}{{rep, 1}, {mgr, 1}, {other, 0}, {tm.AE, 0}, {tm.Admin, 1}} {
			items, total, err := db.AwaitingAnswer(as(c.who), baton.HandoffSDR, 10)
			if err != nil || total != c.want || len(items) != c.want || (c.want == 1 && items[0].Lead.ID != a.ID) {
				t.Fatalf("awaiting as %s: %d %+v %v", c.who.Name, total, items, err)
			}
		}
		if _, err := db.Accept(as(rep), a.ID); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(50 * time.Hour)
		for _, c := range []struct {
			who  *baton.User
			want int
		}{{rep, 1}, {mgr, 1}, {other, 0}, {tm.Marketing, 1}} {
			sals, err := db.SALs(as(c.who), 10)
			if err != nil || sals.Total != c.want || len(sals.Leads) != c.want {
				t.Fatalf("SALs as %s: %+v %v", c.who.Name, sals, err)
			}
			if sals.Within != 7*24*time.Hour {
				t.Fatalf("within %s", sals.Within)
			}
		}
		// Qualified, the lead goes to the account executive: the rep sees
		// it handed over, with its owner and stage now.
		budget := 20000.0
		if _, err := db.Qualify(as(rep), a.ID, baton.BANT{BudgetAmount: &budget, BudgetCurrency: "USD", Authority: baton.AuthorityDecisionMaker, Need: "forecasting"}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			who  *baton.User
			want int
		}{{rep, 1}, {mgr, 1}, {other, 0}, {tm.AE, 0}} {
			hs, total, err := db.HandedOver(as(c.who), 10)
			if err != nil || total != c.want || len(hs) != c.want {
				t.Fatalf("handed over as %s: %d %+v %v", c.who.Name, total, hs, err)
			}
			if c.want == 1 && (hs[0].LeadID != a.ID || hs[0].Stage != baton.StageSQL || hs[0].OwnerID == nil || *hs[0].OwnerID != tm.AE.ID || hs[0].QualifiedBy != rep.ID) {
				t.Fatalf("handed over: %+v", hs[0])
			}
		}
		items, _, err := db.AwaitingAnswer(as(tm.AE), baton.HandoffAE, 10)
		if err != nil || len(items) != 1 || items[0].Lead.ID != a.ID {
			t.Fatalf("SQLs to accept: %+v %v", items, err)
		}
		// Converted, the deal is the AE's to close, with its expected close.
		if _, err := db.Accept(as(tm.AE), a.ID); err != nil {
			t.Fatal(err)
		}
		closeBy := time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC)
		if _, _, err := db.Convert(as(tm.AE), a.ID, baton.ConvertInput{Name: "Northwind", Amount: 18000, ExpectedClose: &closeBy}); err != nil {
			t.Fatal(err)
		}
		deals, total, err := db.OpenDeals(as(tm.AE), 10)
		if err != nil || total != 1 || deals[0].Lead.ID != a.ID || deals[0].Opportunity.Amount != 18000 ||
			deals[0].Opportunity.ExpectedClose == nil || !deals[0].Opportunity.ExpectedClose.Equal(closeBy) {
			t.Fatalf("open deals: %d %+v %v", total, deals, err)
		}
		if _, total, _ := db.OpenDeals(as(rep), 10); total != 0 {
			t.Fatalf("the rep sees %d deals", total)
		}
		hs, _, _ := db.HandedOver(as(rep), 10)
		if len(hs) != 1 || hs[0].Stage != baton.StageOpportunity {
			t.Fatalf("handed over after conversion: %+v", hs)
		}
		// A rejected lead comes back when its cool-down (10 days) ends.
		b := w.mql(t, "bo@fabrikam.com", "United States")
		if _, err := db.Reject(storetest.As(tm.Admin), b.ID, baton.Rejection{Reason: baton.ReasonNoBudget}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			within time.Duration
			want   int
		}{{24 * time.Hour, 0}, {14 * 24 * time.Hour, 1}} {
			back, total, err := db.ComingBack(as(tm.Marketing), w.clock.Now().Add(c.within), 10)
			if err != nil || total != c.want || len(back) != c.want {
				t.Fatalf("coming back within %s: %d %v", c.within, total, err)
			}
		}
		sources, _, err := db.LeadChoices(as(tm.Marketing))
		if err != nil || sources == nil {
			t.Fatalf("choices: %v %v", sources, err)
		}
		// Filters of the list: nobody's leads, a creation range.
		unowned, n, err := db.FindLeads(as(tm.Marketing), baton.LeadFilter{Unowned: true})
		if err != nil || n != 1 || unowned[0].ID != b.ID {
			t.Fatalf("unowned: %d %v", n, err)
		}
	})
}

// TestSavedViews: each user's own, replaced by name, deleted only by them.
func TestSavedViews(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		tm := storetest.SeedTeam(t, db)
		sam, sue := storetest.As(tm.SDR1), storetest.As(tm.SDR2)
		v := &baton.SavedView{Name: "  My SQLs ", Query: "stage=sql"}
		if err := db.SaveView(sam, v); err != nil || v.ID == 0 || v.Name != "My SQLs" || v.UserID != tm.SDR1.ID {
			t.Fatalf("save: %+v %v", v, err)
		}
		again := &baton.SavedView{Name: "My SQLs", Query: "stage=sql&sort=fit"}
		if err := db.SaveView(sam, again); err != nil || again.ID != v.ID {
			t.Fatalf("save again: %+v %v", again, err)
		}
		if err := db.SaveView(sam, &baton.SavedView{Name: "Fresh", Query: "sort=created&dir=asc"}); err != nil {
			t.Fatal(err)
		}
		views, err := db.FindViews(sam)
		if err != nil || len(views) != 2 || views[0].Name != "Fresh" || views[1].Query != "stage=sql&sort=fit" {
			t.Fatalf("views: %+v %v", views, err)
		}
		if views, err := db.FindViews(sue); err != nil || len(views) != 0 {
			t.Fatalf("another's views: %+v %v", views, err)
		}
		if err := db.DeleteView(sue, v.ID); baton.ErrorCode(err) != baton.ENOTFOUND {
			t.Fatalf("delete another's: %v", err)
		}
		if err := db.DeleteView(storetest.As(tm.Admin), v.ID); baton.ErrorCode(err) != baton.ENOTFOUND {
			t.Fatalf("an admin deletes another's: %v", err)
		}
		if err := db.SaveView(storetest.System(), &baton.SavedView{Name: "x"}); baton.ErrorCode(err) != baton.EFORBIDDEN {
			t.Fatalf("the system saves: %v", err)
		}
		if err := db.SaveView(sam, &baton.SavedView{Name: " "}); baton.ErrorField(err) != "name" {
			t.Fatalf("no name: %v", err)
		}
		if err := db.DeleteView(sam, v.ID); err != nil {
			t.Fatal(err)
		}
		if views, _ := db.FindViews(sam); len(views) != 1 {
			t.Fatalf("after delete: %+v", views)
		}
	})
}
