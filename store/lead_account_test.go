package store_test

import (
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// TestImportLeadRows: the accounts a CRM file's rows describe are made or
// updated by domain, else by name, in the batch's transaction; empty cells
// leave an account's fields alone; each lead is linked to its row's
// account and scored with it; a row whose account is refused is refused
// whole, naming the account's field.
func TestImportLeadRows(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		ctx := storetest.System()
		publish(t, db, accountPolicy)
		// Before the import: an account of the name without a domain, one
		// with a domain and a country, and a lead at a domain no account has.
		old := &baton.Account{Name: "Brightwave Analytics", Industry: "Software"}
		globex := &baton.Account{Name: "Globex", Domain: "globex.test", Industry: "Retail", Country: "Spain"}
		for _, a := range []*baton.Account{old, globex} {
			if err := db.CreateAccount(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		early := storetest.MustLead(t, db, &baton.Lead{Email: "early@initech.test"})
		n := func(v int64) *int64 { return &v }
		f := func(v float64) *float64 { return &v }
		rows := []baton.LeadImport{
			{Lead: &baton.Lead{Email: "sarah@brightwave.test", Company: "Brightwave Analytics"},
				Account: &baton.Account{Name: "Brightwave Analytics", Domain: "brightwave.test", Employees: n(240), AnnualRevenue: f(58e6)}},
			{Lead: &baton.Lead{Email: "tom@brightwave.test", Company: "Brightwave Analytics"},
				Account: &baton.Account{Name: "Brightwave Analytics", Domain: "brightwave.test", Employees: n(250)}},
			{Lead: &baton.Lead{Email: "hank@globex.test", Company: "Globex"},
				Account: &baton.Account{Name: "Globex", Domain: "globex.test", Industry: "Software"}},
			{Lead: &baton.Lead{Email: "omar@gmail.com", Company: "Haddad Logistics"},
				Account: &baton.Account{Name: "Haddad Logistics", Industry: "Transportation"}},
			{Lead: &baton.Lead{Email: "pat@initech.test", Company: "Initech"},
				Account: &baton.Account{Name: "Initech", Domain: "initech.test", Industry: "Software"}},
			{Lead: &baton.Lead{Email: "bad@nowhere.test"}, Account: &baton.Account{Name: "Nowhere", Domain: "not a domain"}},
			{Lead: &baton.Lead{Email: "chloe@gmail.com"}},
		}
		leads, accounts, err := db.ImportLeadRows(ctx, rows)
		if err != nil {
			t.Fatal(err)
		}
		if leads.Created != 6 || leads.Rejected != 1 || len(leads.Errors) != 1 || leads.Errors[0].Row != 5 || leads.Errors[0].Column != "account.domain" {
			t.Fatalf("leads %+v", leads)
		}
		if accounts.Created != 2 || accounts.Updated != 2 {
			t.Fatalf("accounts %+v, want 2 created (Haddad, Initech), 2 updated (Brightwave, Globex)", accounts)
		}
		find := func(email string) *baton.Lead {
			t.Helper()
			ls, _, err := db.FindLeads(ctx, baton.LeadFilter{Query: email})
			if err != nil || len(ls) != 1 {
				t.Fatalf("lead %s: %v %v", email, ls, err)
			}
			return ls[0]
		}
		account := func(l *baton.Lead) *baton.Account {
			t.Helper()
			if l.AccountID == nil {
				return nil
			}
			a, err := db.FindAccountByID(ctx, *l.AccountID)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		// The account of the name took the domain; the second row's
		// employees, the first's revenue, the industry it had.
		bw := account(find("sarah@brightwave.test"))
		if bw == nil || bw.ID != old.ID || bw.Domain != "brightwave.test" || *bw.Employees != 250 || *bw.AnnualRevenue != 58e6 || bw.Industry != "Software" {
			t.Errorf("Brightwave = %+v", bw)
		}
		if a := account(find("tom@brightwave.test")); a == nil || a.ID != old.ID {
			t.Errorf("tom's account = %+v", a)
		}
		// Globex's industry changed, its country stayed; the change is in
		// its history.
		g := account(find("hank@globex.test"))
		if g == nil || g.ID != globex.ID || g.Industry != "Software" || g.Country != "Spain" {
			t.Errorf("Globex = %+v", g)
		}
		hist, err := db.AccountHistory(ctx, globex.ID)
		if err != nil || len(hist) != 1 || hist[0].Field != "industry" || hist[0].From != "Retail" || hist[0].To != "Software" {
			t.Errorf("Globex history %+v, %v", hist, err)
		}
		// By name at a mailbox provider's domain; no account for a row
		// that names none.
		if a := account(find("omar@gmail.com")); a == nil || a.Name != "Haddad Logistics" || a.Domain != "" {
			t.Errorf("Haddad = %+v", a)
		}
		if a := account(find("chloe@gmail.com")); a != nil {
			t.Errorf("chloe's account = %+v", a)
		}
		// The new Initech account took in the lead already at its domain;
		// both are scored with it (the policy's Software rule).
		pat, before := find("pat@initech.test"), find(early.Email)
		if a := account(before); a == nil || a.Name != "Initech" || pat.AccountID == nil || *pat.AccountID != a.ID {
			t.Errorf("early lead's account %+v, pat's %v", a, pat.AccountID)
		}
		if pat.Score.Fit != 25 || before.Score.Fit != 25 {
			t.Errorf("fit of pat %v, of the early lead %v; want 25 (Software)", pat.Score.Fit, before.Score.Fit)
		}
		// Again: nothing new, nothing changed.
		for i := range rows {
			rows[i].Lead.AccountID = nil
		}
		leads, accounts, err = db.ImportLeadRows(ctx, rows[:5])
		if err != nil || leads.Created != 0 || leads.Updated != 5 || accounts.Created != 0 || accounts.Updated != 0 {
			t.Errorf("re-run: leads %+v, accounts %+v, %v", leads, accounts, err)
		}
		// Only someone who may edit leads imports.
		tm := storetest.SeedTeam(t, db)
		if _, _, err := db.ImportLeadRows(storetest.As(tm.SDR1), rows[:1]); baton.ErrorCode(err) != baton.EFORBIDDEN {
			t.Errorf("a rep's import: %v, want EFORBIDDEN", err)
		}
	})
}
