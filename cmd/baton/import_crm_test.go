package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/storetest"
)

const crmSamples = "../../csvimport/testdata/"

// crmUsers are the owners the sample files name, by name and by email.
const crmUsers = "name,email,role,team\nPriya Raman,priya.raman@baton.test,sdr,East\nMarcus Lee,marcus.lee@baton.test,sdr,East\nDana Whitfield,dana.whitfield@baton.test,ae,East\n"

// crmDB is where a CRM test imports: a SQLite file, or a PostgreSQL schema.
type crmDB struct {
	name string
	dsn  func(t *testing.T) string
}

var crmDBs = []crmDB{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "b.db") }},
	{"postgres", func(t *testing.T) string { return storetest.NewPostgresSchema(t) }},
}

// crmState is what a database holds after an import, keyed so that two
// databases compare: each lead by email with its account and owner by
// their keys, and each account by domain or name.
type crmState struct {
	leads    map[string]string
	accounts map[string]string
}

func readCRMState(t *testing.T, dsn string) crmState {
	t.Helper()
	ctx := baton.WithActor(context.Background(), baton.SystemActor)
	db, err := openDB(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := crmState{leads: map[string]string{}, accounts: map[string]string{}}
	accounts, _, err := db.FindAccounts(ctx, baton.AccountFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]string{}
	for _, a := range accounts {
		key := a.Domain
		if key == "" {
			key = "name:" + a.Name
		}
		byID[a.ID] = key
		st.accounts[key] = fmt.Sprintf("%s|%s|%v|%v", a.Name, a.Industry, deref(a.Employees), deref(a.AnnualRevenue))
	}
	users, _, err := db.FindUsers(ctx, baton.UserFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	emails := map[int64]string{}
	for _, u := range users {
		emails[u.ID] = u.Email
	}
	err = db.EachLead(ctx, baton.LeadFilter{Limit: 1000}, func(l *baton.Lead) error {
		acc, owner := "", ""
		if l.AccountID != nil {
			acc = byID[*l.AccountID]
		}
		if l.OwnerID != nil {
			owner = emails[*l.OwnerID]
		}
		var attrs []string
		for k, v := range l.Attrs {
			attrs = append(attrs, fmt.Sprintf("%s=%#v", k, v))
		}
		sort.Strings(attrs)
		st.leads[l.Email] = fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s", l.ExternalID, l.Name, l.Title, l.Phone, l.Company,
			l.Country, l.Source, l.Stage, l.CreatedAt.UTC().Format(time.RFC3339), acc, owner, strings.Join(attrs, ","))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestImportCRMFiles imports a Salesforce lead export and a HubSpot
// contact export as they are, on SQLite and PostgreSQL: every row lands,
// with its account (by email domain, else company name), its date, its
// stage by the table and its owner; zip codes and long ids stay text.
// Then each is exported in its CRM's layout and imported into a fresh
// database, which holds the same leads and accounts.
func TestImportCRMFiles(t *testing.T) {
	for _, b := range crmDBs {
		t.Run(b.name, func(t *testing.T) {
			users := filepath.Join(t.TempDir(), "users.csv")
			os.WriteFile(users, []byte(crmUsers), 0o644)
			for _, c := range []struct {
				file, layout string
				accounts     int
				check        func(t *testing.T, st crmState)
			}{
				{"salesforce-leads.csv", "salesforce", 16, checkSalesforce},
				{"hubspot-contacts.csv", "hubspot", 16, checkHubSpot},
			} {
				t.Run(c.layout, func(t *testing.T) {
					dsn := b.dsn(t)
					mustRun(t, "import", "users", users, "--db", dsn)
					out := mustRun(t, "import", "leads", crmSamples+c.file, "--db", dsn)
					if want := fmt.Sprintf("20 created, 0 updated, 0 rejected\naccounts: %d created, 0 updated\n", c.accounts); out != want {
						t.Fatalf("import: %q, want %q", out, want)
					}
					st := readCRMState(t, dsn)
					if len(st.leads) != 20 || len(st.accounts) != c.accounts {
						t.Fatalf("%d leads, %d accounts", len(st.leads), len(st.accounts))
					}
					c.check(t, st)

					exported := filepath.Join(t.TempDir(), "export.csv")
					os.WriteFile(exported, []byte(mustRun(t, "export", "leads", "--layout", c.layout, "--db", dsn)), 0o644)
					checkPlainNumbers(t, exported)
					fresh := b.dsn(t)
					mustRun(t, "import", "users", users, "--db", fresh)
					out = mustRun(t, "import", "leads", exported, "--db", fresh)
					if want := fmt.Sprintf("20 created, 0 updated, 0 rejected\naccounts: %d created, 0 updated\n", c.accounts); out != want {
						t.Fatalf("re-import: %q, want %q", out, want)
					}
					again := readCRMState(t, fresh)
					for k, v := range st.leads {
						if again.leads[k] != v {
							t.Errorf("lead %s after the trip:\n got %s\nwant %s", k, again.leads[k], v)
						}
					}
					for k, v := range st.accounts {
						if again.accounts[k] != v {
							t.Errorf("account %s after the trip:\n got %s\nwant %s", k, again.accounts[k], v)
						}
					}
					// A re-run of the exported file changes nothing.
					if out := mustRun(t, "import", "leads", exported, "--db", fresh); out != "20 created, 0 updated, 0 rejected\n" &&
						!strings.HasPrefix(out, "0 created, 20 updated, 0 rejected\n") {
						t.Errorf("second re-import: %q", out)
					}
				})
			}
		})
	}
}

func checkSalesforce(t *testing.T, st crmState) {
	t.Helper()
	for email, want := range map[string]string{
		// A US date; the zip code with its zero; the 20-digit id as text;
		// Open - Not Contacted is new; the owner by name.
		"sarah.oconnell@brightwave.io": `00Q5e00000Lm3QpEAJ|Sarah O'Connell|VP Marketing|(617) 555-0142|Brightwave Analytics|United States|Web|new|2026-01-05T00:00:00Z|brightwave.io|priya.raman@baton.test|City="Boston",Email Opt Out=0,Legacy Ref="10000000000000000001",Rating="Hot",State/Province="MA",Street="1 Federal St",Zip/Postal Code="02110"`,
		// A US date with a time; the owner by email; Working - Contacted is sal.
		"ana.lima@northfieldhealth.org": `00Q5e00000Lm3QrEAJ|Ana Lima|Head of IT|+1 413 555 0101|Northfield Health|United States|Trade Show|sal|2026-01-07T09:30:00Z|northfieldhealth.org|marcus.lee@baton.test|City="Amherst",Email Opt Out=0,Legacy Ref="10000000000000000003",Rating="Hot",State/Province="MA",Street="200 Main St",Zip/Postal Code="01002"`,
		// A gmail address: the account is the company's, by name; no owner.
		"omar.haddad@gmail.com":    `00Q5e00000Lm3QuEAJ|Omar Haddad|Founder||Haddad Logistics|United States|Web|new|2026-01-12T14:05:00Z|name:Haddad Logistics||City="Newark",Email Opt Out=0,Legacy Ref="10000000000000000006",State/Province="NJ",Zip/Postal Code="07102"`,
		"kenji@kumorobotics.jp":    `00Q5e00000Lm3QsEAJ|Kenji Sato|CTO||Kumo Robotics|Japan|Partner Referral|opportunity|2026-01-08T00:00:00Z|kumorobotics.jp|marcus.lee@baton.test|City="Osaka",Email Opt Out=0,Legacy Ref="10000000000000000004",Rating="Hot",Zip/Postal Code="530-0001"`,
		"linda.park@cedarpine.com": `00Q5e00000Lm3QtEAJ|Linda Park|Procurement Manager|(212) 555-0199|Cedar & Pine Retail|United States|Purchased List|disqualified|2026-01-09T00:00:00Z|cedarpine.com|dana.whitfield@baton.test|City="New York",Email Opt Out=1,Legacy Ref="10000000000000000005",Rating="Cold",State/Province="NY",Street="55 Water St",Zip/Postal Code="10041"`,
		"fatima@atlasfreight.ma":   `00Q5e00000Lm3QxEAJ|Fatima Zahra|Operations Lead|+212 522 555 010|Atlas Freight|Morocco|Partner Referral|recycled|2026-01-15T00:00:00Z|atlasfreight.ma|dana.whitfield@baton.test|City="Casablanca",Email Opt Out=0,Legacy Ref="10000000000000000009",Rating="Cold",Zip/Postal Code="20250"`,
	} {
		if got := st.leads[email]; got != want {
			t.Errorf("lead %s:\n got %s\nwant %s", email, got, want)
		}
	}
	for key, want := range map[string]string{
		// Two leads of one company: the later row's employees, the
		// earlier's revenue (the later row has none).
		"brightwave.io":            "Brightwave Analytics|Technology|250|5.8e+07",
		"lumenfinance.com":         "Lumen Finance|Finance|560|1.25e+09", // "$1,250,000,000"
		"name:Haddad Logistics":    "Haddad Logistics|Transportation|12|900000",
		"name:Brown Family Dental": "Brown Family Dental|Healthcare|9|<nil>",
		"verdefoods.mx":            "Verde Foods||<nil>|<nil>", // no firmographics but the company
	} {
		if got := st.accounts[key]; got != want {
			t.Errorf("account %s = %s, want %s", key, got, want)
		}
	}
}

func checkHubSpot(t *testing.T, st crmState) {
	t.Helper()
	for email, want := range map[string]string{
		// Marketing Qualified Lead with Lead Status New is mql; a HubSpot
		// date with a time; the 20-digit id with its zeros stays text.
		"maya.patel@brightwave.io": `51234567801|Maya Patel|Product Marketing Manager|+1 617 555 0150|Brightwave Analytics|United States||mql|2026-01-05T08:00:00Z|brightwave.io|priya.raman@baton.test|City="Boston",Legacy CRM ID="00012345678901234567",Marketing contact status="Marketing contact",Postal Code="02110",State/Region="Massachusetts"`,
		// ISO with an offset: 14:00+0100 is 13:00 UTC; Opportunity / Open Deal.
		"elena.popescu@blau-energie.de": `51234567805|Elena Popescu|Energy Analyst|+49 30 5550 2222|Blau Energie|Germany||opportunity|2026-01-08T13:00:00Z|blau-energie.de|marcus.lee@baton.test|City="Berlin",Legacy CRM ID="00012345678901234571",Marketing contact status="Marketing contact",Postal Code="01067"`,
		// -0500: five hours later in UTC; Sales Qualified Lead is sql.
		"mei.wong@atlasfreight.ma": `51234567813|Mei Wong|Finance Manager|+212 522 555 020|Atlas Freight|Morocco||sql|2026-01-20T17:00:00Z|atlasfreight.ma|dana.whitfield@baton.test|City="Casablanca",Legacy CRM ID="00012345678901234579",Marketing contact status="Marketing contact",Postal Code="20250"`,
		// No company, a gmail address: no account; Subscriber is new.
		"chloe.martin@gmail.com": `51234567803|Chloe Martin|Freelance Designer|||France||new|2026-01-06T17:42:00Z|||City="Lyon",Legacy CRM ID="00012345678901234569",Marketing contact status="Non-marketing contact",Postal Code="69001"`,
		// Lead / Attempted to Contact is sal; Other / Unqualified disqualified;
		// Customer won; MQL / Bad Timing recycled.
		"ben.carter@northfieldhealth.org":  `51234567802|Ben Carter|Nurse Manager|+1 413 555 0122|Northfield Health|United States||sal|2026-01-06T09:15:00Z|northfieldhealth.org|marcus.lee@baton.test|City="Amherst",Legacy CRM ID="00012345678901234568",Marketing contact status="Marketing contact",Postal Code="01002",State/Region="Massachusetts"`,
		"isla.murray@cedarpine.com":        `51234567809|Isla Murray|Store Manager|+1 212 555 0177|Cedar & Pine Retail|United States||disqualified|2026-01-14T13:00:00Z|cedarpine.com|dana.whitfield@baton.test|City="New York",Legacy CRM ID="00012345678901234575",Marketing contact status="Non-marketing contact",Postal Code="10041",State/Region="New York"`,
		"frank.mueller@ferrocomponents.it": `51234567806|Frank Müller|Quality Engineer||Ferro Components|Italy||won|2026-01-09T08:00:00Z|ferrocomponents.it|marcus.lee@baton.test|City="Milano",Legacy CRM ID="00012345678901234572",Marketing contact status="Marketing contact",Postal Code="00187"`,
		"jamal.reed@lumenfinance.com":      `51234567810|Jamal Reed|Risk Manager|+1 415 555 0133|Lumen Finance|United States||recycled|2026-01-15T15:45:00Z|lumenfinance.com|priya.raman@baton.test|City="San Francisco",Legacy CRM ID="00012345678901234576",Marketing contact status="Marketing contact",Postal Code="94105",State/Region="California"`,
	} {
		if got := st.leads[email]; got != want {
			t.Errorf("lead %s:\n got %s\nwant %s", email, got, want)
		}
	}
	for key, want := range map[string]string{
		"brightwave.io":        "Brightwave Analytics|Computer Software|250|6e+07",
		"name:Santos Bakery":   "Santos Bakery|Food Production|6|350000", // an outlook.com address
		"northfieldhealth.org": "Northfield Health|Hospital & Health Care|1200|<nil>",
	} {
		if got := st.accounts[key]; got != want {
			t.Errorf("account %s = %s, want %s", key, got, want)
		}
	}
}

// checkPlainNumbers fails if a cell of the file is a number written with
// an exponent, or a phone number behind an apostrophe.
func checkPlainNumbers(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		for j, c := range r {
			if strings.HasPrefix(c, "'+") {
				t.Errorf("row %d, column %s: %q: the CRM would keep the apostrophe", i+1, recs[0][j], c)
			}
			if strings.ContainsAny(c, "eE") && strings.ContainsAny(c, "+") && strings.IndexFunc(c, func(r rune) bool {
				return r != 'e' && r != 'E' && r != '+' && r != '-' && r != '.' && (r < '0' || r > '9')
			}) < 0 {
				t.Errorf("row %d, column %s: %q has an exponent", i+1, recs[0][j], c)
			}
		}
	}
	if !strings.Contains(strings.Join(recs[1], ","), "58000000") && !strings.Contains(strings.Join(recs[1], ","), "60000000") {
		t.Errorf("first row has no plain revenue: %q", recs[1])
	}
}

// TestImportCRMBadRows: through the CLI, each bad row of a CRM file is
// named by its line and its column, and the good rows land.
func TestImportCRMBadRows(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "b.db")
	users := filepath.Join(dir, "users.csv")
	os.WriteFile(users, []byte(crmUsers), 0o644)
	mustRun(t, "import", "users", users, "--db", db)
	file := filepath.Join(dir, "leads.csv")
	os.WriteFile(file, []byte(`"Lead ID","Email","Company","Industry","Lead Status","Created Date","Lead Owner"
"00Q1","a@acme.test","Acme","Software","Open - Not Contacted","31/1/2026","Priya Raman"
"00Q2","b@acme.test","Acme","Software","Open - Not Contacted","1/31/2026","Nobody Here"
"00Q3","c@acme.test","Acme","Software","Prospecting","1/31/2026",""
"00Q4","d@acme.test","Acme","Software","Working - Contacted","1/31/2026 4:30 PM","dana.whitfield@baton.test"
`), 0o644)
	out, errs, code := baton_(t, "import", "leads", file, "--db", db)
	if code != 0 || out != "1 created, 0 updated, 3 rejected\naccounts: 1 created, 0 updated\n" {
		t.Fatalf("exit %d: %q %q", code, out, errs)
	}
	for _, want := range []string{
		"row 2, column Created Date: expected a date",
		"--date-order dmy",
		`row 3, column Lead Owner: no Baton user has the email or the name "Nobody Here"`,
		`row 4, column Lead Status: unknown lead status "Prospecting"`,
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("errors lack %q:\n%s", want, errs)
		}
	}
	// The same file read day first: the first row's date reads, the
	// fourth's does not.
	out, errs, _ = baton_(t, "import", "leads", file, "--db", db, "--date-order", "dmy")
	if !strings.Contains(errs, "row 5, column Created Date") || !strings.HasPrefix(out, "1 created, 0 updated, 3 rejected") {
		t.Errorf("day first: %q %q", out, errs)
	}
}
