package csvimport

import (
	"os"
	"testing"

	"github.com/batonhq/baton"
)

func openSample(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestSampleLeads(t *testing.T) {
	var leads []*baton.Lead
	var rows []int
	batches := 0
	st, err := Leads(openSample(t, "../demo/data/xeducation/leads-train.csv"), Options{BatchSize: 500},
		func(ls []*baton.Lead, rs []int) error {
			if len(ls) != len(rs) || len(ls) > 500 {
				t.Fatalf("batch of %d leads with %d rows", len(ls), len(rs))
			}
			batches++
			leads = append(leads, ls...)
			rows = append(rows, rs...)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if st.BadRows != 0 || len(st.Bad) != 0 {
		t.Fatalf("%d bad rows, first: %v", st.BadRows, st.Bad)
	}
	if len(leads) != 6421 || st.Rows != 6421 || batches != 13 {
		t.Fatalf("got %d leads, %d rows, %d batches; want 6421, 6421, 13", len(leads), st.Rows, batches)
	}
	if fi, _ := os.Stat("../demo/data/xeducation/leads-train.csv"); st.Bytes != fi.Size() {
		t.Errorf("Bytes = %d, want %d", st.Bytes, fi.Size())
	}
	for i, l := range leads {
		if l.ExternalID == "" || l.Email != "" {
			t.Fatalf("lead %d: external id %q, email %q", i, l.ExternalID, l.Email)
		}
		if err := l.Validate(); err != nil {
			t.Fatalf("lead %d: %v", i, err)
		}
	}
	l := leads[0]
	for _, c := range []struct{ name, got, want string }{
		{"external_id", l.ExternalID, "2a272436-5132-4136-86fa-dcc88c88f482"},
		{"source", l.Source, "Organic Search"},
		{"campaign", l.Campaign, "API"},
		{"country", l.Country, "India"},
		{"stage", string(l.Stage), "new"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	for _, c := range []struct {
		attr string
		want any // nil: missing
	}{
		{"TotalVisits", 5.0},
		{"Lead Number", 660728.0},
		{"Do Not Email", false},
		{"Last Activity", "Email Opened"},
		{"Specialization", nil},                     // "Select"
		{"How did you hear about X Education", nil}, // "Select"
		{"Lead Quality", nil},                       // empty
		{"Asymmetrique Activity Index", "02.Medium"},
	} {
		got, ok := l.Attrs[c.attr]
		if c.want == nil {
			if ok {
				t.Errorf("attribute %q = %v, want it missing", c.attr, got)
			}
		} else if got != c.want {
			t.Errorf("attribute %q = %#v, want %#v", c.attr, got, c.want)
		}
	}
	for _, f := range []string{"Prospect ID", "Lead Source", "Lead Origin", "Country"} {
		if _, ok := l.Attrs[f]; ok {
			t.Errorf("field column %q also became an attribute", f)
		}
	}
	if rows[0] != 2 || rows[len(rows)-1] != 6422 {
		t.Errorf("rows run %d..%d, want 2..6422", rows[0], rows[len(rows)-1])
	}
}

func TestSampleAccounts(t *testing.T) {
	var accounts []*baton.Account
	st, err := Accounts(openSample(t, "../demo/data/crm/accounts.csv"), Options{},
		func(as []*baton.Account, rs []int) error { accounts = append(accounts, as...); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(accounts) != 85 || st.Rows != 85 || st.BadRows != 0 {
		t.Fatalf("got %d accounts of %d rows, bad %v", len(accounts), st.Rows, st.Bad)
	}
	if want := []string{"year_established", "subsidiary_of"}; len(st.Ignored) != 2 || st.Ignored[0] != want[0] || st.Ignored[1] != want[1] {
		t.Errorf("Ignored = %q, want %q", st.Ignored, want)
	}
	a := accounts[0]
	if a.Name != "Acme Corporation" || a.Industry != "technolgy" || a.Country != "United States" ||
		a.Employees == nil || *a.Employees != 2822 || a.AnnualRevenue == nil || *a.AnnualRevenue != 1100.04e6 {
		t.Errorf("first account = %+v (employees %v, revenue %v)", a, deref(a.Employees), deref(a.AnnualRevenue))
	}
}

func TestSampleUsers(t *testing.T) {
	var users []baton.UserImport
	st, err := Users(openSample(t, "../demo/data/crm/sales_teams.csv"), Options{},
		func(us []baton.UserImport, rs []int) error { users = append(users, us...); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 35 || st.BadRows != 0 {
		t.Fatalf("got %d users, bad %v", len(users), st.Bad)
	}
	for _, u := range users {
		if u.Manager == "" || u.User.Role != baton.RoleSDR || u.User.Team == "" || u.User.Territory != u.User.Team {
			t.Errorf("user %+v", u)
		}
	}
	u := users[0]
	if u.User.Email != "anna.snelling@example.com" || u.User.Name != "Anna Snelling" || u.Manager != "Dustin Brinkmann" || u.User.Team != "Central" {
		t.Errorf("first user = %+v", u)
	}
	// Mei-Mei Johns keeps her hyphen; the domain is configurable.
	users = nil
	Users(openSample(t, "../demo/data/crm/sales_teams.csv"), Options{EmailDomain: "crm.test"},
		func(us []baton.UserImport, rs []int) error { users = append(users, us...); return nil })
	if users[10].User.Email != "mei-mei.johns@crm.test" {
		t.Errorf("email = %q", users[10].User.Email)
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
