package csvimport

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

func TestParseTime(t *testing.T) {
	utc := func(y int, m time.Month, d, h, min, s int) time.Time {
		return time.Date(y, m, d, h, min, s, 0, time.UTC)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for _, c := range []struct {
		in    string
		order DateOrder
		loc   *time.Location
		want  time.Time
		err   string // a substring of the error; "" if none
	}{
		{in: "2026-01-01", want: utc(2026, 1, 1, 0, 0, 0)},
		{in: "2026/01/31", want: utc(2026, 1, 31, 0, 0, 0)},
		{in: "2026-01-01 08:00", want: utc(2026, 1, 1, 8, 0, 0)},
		{in: "2026-01-01 08:00:30", want: utc(2026, 1, 1, 8, 0, 30)},
		{in: "2026-01-01T08:00", want: utc(2026, 1, 1, 8, 0, 0)},
		{in: "2026-01-01T08:00:00+0000", want: utc(2026, 1, 1, 8, 0, 0)},
		{in: "2026-01-01T08:00:00-0500", want: utc(2026, 1, 1, 13, 0, 0)},
		{in: "2026-01-01T08:00:00+01:00", want: utc(2026, 1, 1, 7, 0, 0)},
		{in: "2026-01-01T08:00:00.000Z", want: utc(2026, 1, 1, 8, 0, 0)},
		{in: "2026-01-01t08:00:00z", want: utc(2026, 1, 1, 8, 0, 0)},
		{in: "2026-01-01 08:00:00 +0000", want: utc(2026, 1, 1, 8, 0, 0)},
		{in: "1/1/2026", want: utc(2026, 1, 1, 0, 0, 0)},
		{in: "01/01/2026", want: utc(2026, 1, 1, 0, 0, 0)},
		{in: "3/4/2026", want: utc(2026, 3, 4, 0, 0, 0)},
		{in: "3/4/2026", order: DayFirst, want: utc(2026, 4, 3, 0, 0, 0)},
		{in: "01/01/2026 8:00 AM", want: utc(2026, 1, 1, 8, 0, 0)},
		{in: "1/15/2026, 9:12 PM", want: utc(2026, 1, 15, 21, 12, 0)},
		{in: "1/15/2026 9:12 pm", want: utc(2026, 1, 15, 21, 12, 0)},
		{in: "1/15/2026 21:12", want: utc(2026, 1, 15, 21, 12, 0)},
		{in: "12/31/2026 23:59:59", want: utc(2026, 12, 31, 23, 59, 59)},
		{in: "31/12/2026 23:59", order: DayFirst, want: utc(2026, 12, 31, 23, 59, 0)},
		// A time without an offset is in the file's zone.
		{in: "2026-07-01 08:00", loc: berlin, want: utc(2026, 7, 1, 6, 0, 0)},
		{in: "2026-07-01T08:00:00Z", loc: berlin, want: utc(2026, 7, 1, 8, 0, 0)},
		// Refused, with what was expected.
		{in: "13/01/2026", err: "--date-order dmy"},
		{in: "1/13/2026", order: DayFirst, err: "--date-order mdy"},
		{in: "2/30/2026", err: "expected a date"},
		{in: "2026-02-30", err: "expected a date"},
		{in: "1/1/26", err: "expected a date"},
		{in: "yesterday", err: `got "yesterday"`},
		{in: "2026-01-01 08:00 PST", err: "expected a date"},
	} {
		got, err := ParseTime(c.in, c.order, c.loc)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseTime(%q, %q) = %v, %v; want an error with %q", c.in, c.order, got, err, c.err)
			}
		case err != nil || !got.Equal(c.want):
			t.Errorf("ParseTime(%q, %q) = %v, %v; want %v", c.in, c.order, got, err, c.want)
		}
	}
}

func TestPlainNumber(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"0", 0, true}, {"12", 12, true}, {"-3", -3, true}, {"0.5", 0.5, true}, {"-0.25", -0.25, true},
		{"12.50", 12.5, true}, {"58000000", 58e6, true}, {"9007199254740992", 1 << 53, true},
		{"02134", 0, false},                // a zip code
		{"00012345678901234567", 0, false}, // an id with zeros
		{"9007199254740993", 0, false},     // past 2^53: would lose a digit
		{"12345678901234567890", 0, false}, // a 20-digit id
		{"0.1000000000000000055511151231257827", 0, false},
		{"1e5", 0, false}, {"+5", 0, false}, {".5", 0, false}, {"5.", 0, false}, {"1,000", 0, false},
		{"0x1F", 0, false}, {"Inf", 0, false}, {"NaN", 0, false}, {"", 0, false}, {"-", 0, false}, {"00", 0, false},
	} {
		got, ok := plainNumber(c.in)
		if ok != c.ok || ok && got != c.want {
			t.Errorf("plainNumber(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	for _, c := range []struct {
		in   float64
		want string
	}{{58e6, "58000000"}, {1.25e9, "1250000000"}, {0.5, "0.5"}, {1e21, "1000000000000000000000"}, {-12.75, "-12.75"}} {
		if got := FormatNumber(c.in); got != c.want {
			t.Errorf("FormatNumber(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestInferTypes: a column is a number only when every value of the
// sample is a plain number; zip codes and long ids stay text.
func TestInferTypes(t *testing.T) {
	in := "email,zip,visits,ref,score,opt_out\n" +
		"a@x.test,02134,3,10000000000000000001,0.5,yes\n" +
		"b@x.test,94105,12,10000000000000000002,12,no\n" +
		"c@x.test,,0,,1e3,\n"
	items, _, st, err := readAll("leads", in, Options{})
	if err != nil || st.BadRows != 0 {
		t.Fatalf("%v %v", err, st.Bad)
	}
	a := items[0].(*baton.Lead).Attrs
	for k, want := range map[string]any{"zip": "02134", "visits": 3.0, "ref": "10000000000000000001", "score": "0.5", "opt_out": true} {
		if a[k] != want {
			t.Errorf("%s = %#v, want %#v", k, a[k], want)
		}
	}
	// A column storage knows as a number refuses a value that would lose
	// digits, naming the row and the column.
	_, _, st, err = readAll("leads", "email,zip\na@x.test,94105\nb@x.test,02134\n", Options{AttrTypes: map[string]baton.AttrType{"zip": baton.AttrNumber}})
	if err != nil || st.BadRows != 1 || st.Bad[0].Row != 3 || st.Bad[0].Column != "zip" || !strings.Contains(st.Bad[0].Message, "lose digits") {
		t.Errorf("typed zip: %v %+v", err, st.Bad)
	}
}

func TestCRMStage(t *testing.T) {
	for _, c := range []struct {
		lifecycle, status string
		want              baton.Stage
		field             string // the column at fault, if any
	}{
		{"", "Open - Not Contacted", baton.StageNew, ""},
		{"", "Working - Contacted", baton.StageSAL, ""},
		{"", "Closed - Converted", baton.StageOpportunity, ""},
		{"", "Closed - Not Converted", baton.StageDisqualified, ""},
		{"", "open - not contacted", baton.StageNew, ""},
		{"", "Nurturing", baton.StageRecycled, ""},
		{"", "Qualified", baton.StageSQL, ""},
		{"subscriber", "", baton.StageNew, ""},
		{"lead", "", baton.StageNew, ""},
		{"marketingqualifiedlead", "", baton.StageMQL, ""},
		{"Marketing Qualified Lead", "", baton.StageMQL, ""},
		{"salesqualifiedlead", "", baton.StageSQL, ""},
		{"opportunity", "", baton.StageOpportunity, ""},
		{"customer", "", baton.StageWon, ""},
		{"evangelist", "", baton.StageWon, ""},
		{"other", "", baton.StageNew, ""},
		// The further of the two along the funnel.
		{"Lead", "Attempted to Contact", baton.StageSAL, ""},
		{"Marketing Qualified Lead", "IN_PROGRESS", baton.StageSAL, ""},
		{"Sales Qualified Lead", "In Progress", baton.StageSQL, ""},
		{"Lead", "Open Deal", baton.StageOpportunity, ""},
		{"Marketing Qualified Lead", "New", baton.StageMQL, ""},
		// A status that leaves the funnel wins, unless a customer.
		{"Other", "Unqualified", baton.StageDisqualified, ""},
		{"Marketing Qualified Lead", "BAD_TIMING", baton.StageRecycled, ""},
		{"Opportunity", "CLOSED_LOST", baton.StageLost, ""},
		{"Customer", "Unqualified", baton.StageWon, ""},
		{"", "Prospecting", "", "lead_status"},
		{"Partner", "New", "", "lifecycle_stage"},
	} {
		got, field, err := crmStage(c.lifecycle, c.status)
		if got != c.want || field != c.field || (err != nil) != (c.field != "") {
			t.Errorf("crmStage(%q, %q) = %q, %q, %v; want %q, %q", c.lifecycle, c.status, got, field, err, c.want, c.field)
		}
	}
	// What the exports write reads back to the same stage.
	for _, s := range baton.Stages {
		if got, _, err := crmStage("", SalesforceStatus(s)); got != s || err != nil {
			t.Errorf("Salesforce %s: %q reads as %q, %v", s, SalesforceStatus(s), got, err)
		}
		lc, st := HubSpotStage(s)
		if got, _, err := crmStage(lc, st); got != s || err != nil {
			t.Errorf("HubSpot %s: %q/%q reads as %q, %v", s, lc, st, got, err)
		}
	}
}

// readRows runs LeadRows over in.
func readRows(t *testing.T, in string, opt Options) ([]baton.LeadImport, Stats, error) {
	t.Helper()
	var out []baton.LeadImport
	st, err := LeadRows(strings.NewReader(in), opt, func(rs []baton.LeadImport, _ []int) error { out = append(out, rs...); return nil })
	return out, st, err
}

var owners = func(s string) (int64, error) {
	switch strings.ToLower(s) {
	case "priya raman", "priya@baton.test":
		return 7, nil
	}
	return 0, errors.New("no Baton user has the email or the name " + quote(s))
}

// TestCRMRows: each bad cell of a CRM file is a bad row naming its line
// and its column; the rows around it land.
func TestCRMRows(t *testing.T) {
	head := "Lead ID,Email,Company,Industry,No. of Employees,Annual Revenue,Website,Lead Status,Created Date,Lead Owner\n"
	in := head +
		"00Q1,a@acme.test,Acme,Software,120,\"58,000,000\",https://www.acme.test/about,Working - Contacted,1/5/2026 9:00 AM,Priya Raman\n" + // 2: good
		"00Q2,b@gmail.com,,Software,,,,Open - Not Contacted,1/5/2026,\n" + // 3: firmographics of no company
		"00Q3,c@acme.test,Acme,,12.5,,,Open,1/5/2026,\n" + // 4: half an employee
		"00Q4,d@acme.test,Acme,,,lots,,Open,1/5/2026,\n" + // 5: revenue
		"00Q5,e@acme.test,Acme,,,,,Prospecting,1/5/2026,\n" + // 6: status
		"00Q6,f@acme.test,Acme,,,,,Open,13/5/2026,\n" + // 7: date
		"00Q7,g@acme.test,Acme,,,,,Open,1/5/2026,Nobody Known\n" + // 8: owner
		"00Q8,h@gmail.com,Solo Bakery,Food,3,,,New,2026-01-05,priya@baton.test\n" // 9: good, account by name
	rows, st, err := readRows(t, in, Options{Owner: owners})
	if err != nil {
		t.Fatal(err)
	}
	want := []bad{{3, "Industry", "no company"}, {4, "No. of Employees", "whole number"}, {5, "Annual Revenue", "amount"},
		{6, "Lead Status", `unknown lead status "Prospecting"`}, {7, "Created Date", "--date-order dmy"}, {8, "Lead Owner", `"Nobody Known"`}}
	if len(st.Bad) != len(want) {
		t.Fatalf("bad rows %+v, want %v", st.Bad, want)
	}
	for i, w := range want {
		if b := st.Bad[i]; b.Row != w.row || b.Column != w.col || !strings.Contains(b.Message, w.msg) {
			t.Errorf("bad %d = %+v, want %+v", i, b, w)
		}
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	l, a := rows[0].Lead, rows[0].Account
	if l.Stage != baton.StageSAL || l.OwnerID == nil || *l.OwnerID != 7 || !l.CreatedAt.Equal(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("lead = %+v", l)
	}
	if a == nil || a.Name != "Acme" || a.Domain != "acme.test" || a.Industry != "Software" || *a.Employees != 120 || *a.AnnualRevenue != 58e6 {
		t.Errorf("account = %+v", a)
	}
	if a := rows[1].Account; a == nil || a.Name != "Solo Bakery" || a.Domain != "" || rows[1].Lead.Stage != baton.StageNew {
		t.Errorf("gmail row's account = %+v", a)
	}
	for _, h := range []string{"Industry", "Lead Owner", "Website", "Lead Status"} {
		for _, r := range rows {
			if _, ok := r.Lead.Attrs[h]; ok {
				t.Errorf("column %q also became an attribute", h)
			}
		}
	}
}

// TestCRMWholeFile: what refuses a CRM file before any row.
func TestCRMWholeFile(t *testing.T) {
	for _, c := range []struct {
		name, in string
		opt      Options
		leads    bool // read with Leads, not LeadRows
		field    string
	}{
		{"owner without a finder", "Email,Lead Owner\na@x.test,Priya Raman\n", Options{}, false, "Lead Owner"},
		{"stage twice", "email,stage,Lead Status\na@x.test,new,Open\n", Options{Owner: owners}, false, "Lead Status"},
		{"accounts through Leads", "Email,Industry\na@x.test,Software\n", Options{}, true, "Industry"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.leads {
				_, _, _, err = readAll("leads", c.in, c.opt)
			} else {
				_, _, err = readRows(t, c.in, c.opt)
			}
			if baton.ErrorCode(err) != baton.EINVALID || baton.ErrorField(err) != c.field {
				t.Errorf("err = %v (field %q), want EINVALID on %q", err, baton.ErrorField(err), c.field)
			}
		})
	}
}

// TestSampleCRMFiles reads the two sample exports: every row, with its
// account where the row names a company.
func TestSampleCRMFiles(t *testing.T) {
	for _, c := range []struct {
		file     string
		accounts int // rows with an account
		stages   map[baton.Stage]int
	}{
		{"testdata/salesforce-leads.csv", 20, map[baton.Stage]int{"new": 7, "sal": 7, "opportunity": 3, "disqualified": 2, "recycled": 1}},
		{"testdata/hubspot-contacts.csv", 19, map[baton.Stage]int{"new": 4, "mql": 1, "sal": 5, "sql": 3, "opportunity": 2, "won": 3, "disqualified": 1, "recycled": 1}},
	} {
		t.Run(c.file, func(t *testing.T) {
			var rows []baton.LeadImport
			st, err := LeadRows(openSample(t, c.file), Options{Owner: func(string) (int64, error) { return 1, nil }},
				func(rs []baton.LeadImport, _ []int) error { rows = append(rows, rs...); return nil })
			if err != nil || st.BadRows != 0 || len(rows) != 20 {
				t.Fatalf("%d rows, err %v, bad %+v", len(rows), err, st.Bad)
			}
			n := 0
			stages := map[baton.Stage]int{}
			for _, r := range rows {
				if r.Account != nil {
					n++
				}
				stages[r.Lead.Stage]++
				if r.Lead.CreatedAt.IsZero() || r.Lead.ExternalID == "" || r.Lead.Email == "" {
					t.Errorf("lead %+v", r.Lead)
				}
			}
			if n != c.accounts {
				t.Errorf("%d rows with an account, want %d", n, c.accounts)
			}
			for s, k := range c.stages {
				if stages[s] != k {
					t.Errorf("stages %v, want %v", stages, c.stages)
					break
				}
			}
		})
	}
}
