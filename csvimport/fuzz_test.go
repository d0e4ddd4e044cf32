package csvimport

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

var leadSeeds = []string{
	"email,name,Score\na@x.com,Ann,1\nb@x.com,Bob,2\n",
	"\uFEFFProspect ID,Lead Source,Do Not Email,TotalVisits\r\np1,Web,No,5\r\np2,Select,Yes,\r\n",
	"email,name\nnot-an-email,A\na@x.com,\"Smith, \"\"Ann\"\"\nJr\"\na@x.com,dup\n",
	"email,name\na@x.com\nb@x.com,B,extra\nc@x.com,Jo\"hn\nd@x.com,\"unclosed\n",
	"email,stage,created_at,first_name,last_name\na@x.com,MQL,2024-01-02,Ann,Lee\nb@x.com,nope,2024-13-01,,\n",
	"external_id,Score\nx1,1\nx2,abc\nx3,1e999\nx4,NaN\n",
	"",
	"email",
	"email,email\n",
	"name\nAnn\n",
	"email,\xff\na@x.com,\xfe\n",
}

var eventSeeds = []string{
	"id,lead_id,type,occurred_at,properties,Page\ne1,7,page_view,2024-03-01 10:20:30,,/pricing\n",
	"id,email,type,occurred_at,properties\ne1,a@x.com,email_open,2024-03-01T10:00:00Z,\"{\"\"a\"\": 1}\"\ne2,a@x.com,email_open,2024-03-01,null\n",
	"id,lead_id,type,occurred_at\ne1,seven,page_view,yesterday\ne2,1,page_view\n",
	"\uFEFFid,external_id,event_type,timestamp,properties,x\r\ne1,p1,form_submit,2024-03-01,\"{\"\"x\"\":2}\",3\r\n",
	"id,lead_id,type,occurred_at,properties\ne1,1,t,2024-03-01,{\ne2,1,t,2024-03-01,[]\n",
	"",
	"id,type,occurred_at\n",
}

// checkFuzz asserts what holds for any input: a whole-file error is an
// EINVALID *baton.Error with nothing delivered; otherwise every data row is
// delivered or reported bad, on increasing lines.
func checkFuzz(t *testing.T, err error, st Stats, delivered int, rows []int) {
	t.Helper()
	if err != nil {
		var be *baton.Error
		if !errors.As(err, &be) || be.Code != baton.EINVALID {
			t.Fatalf("error %v is not an EINVALID *baton.Error", err)
		}
		return
	}
	if delivered+st.BadRows != st.Rows {
		t.Fatalf("%d delivered + %d bad != %d rows", delivered, st.BadRows, st.Rows)
	}
	for i := 1; i < len(rows); i++ {
		if rows[i] <= rows[i-1] {
			t.Fatalf("rows not increasing: %v", rows)
		}
	}
	for _, b := range st.Bad {
		if b.Row < 2 || b.Message == "" {
			t.Fatalf("bad row %+v", b)
		}
	}
}

func FuzzLeads(f *testing.F) {
	for _, s := range leadSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		delivered := 0
		var rows []int
		st, err := Leads(bytes.NewReader(data), Options{BatchSize: 3}, func(ls []*baton.Lead, rs []int) error {
			if len(ls) != len(rs) || len(ls) == 0 {
				t.Fatalf("%d leads, %d rows", len(ls), len(rs))
			}
			for i, l := range ls {
				if err := l.Validate(); err != nil {
					t.Fatalf("delivered lead of row %d does not validate: %v", rs[i], err)
				}
				if l.Email == "" && l.ExternalID == "" {
					t.Fatalf("lead of row %d has no key", rs[i])
				}
			}
			delivered += len(ls)
			rows = append(rows, rs...)
			return nil
		})
		checkFuzz(t, err, st, delivered, rows)
	})
}

func FuzzEvents(f *testing.F) {
	for _, s := range eventSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		delivered := 0
		var rows []int
		st, err := Events(bytes.NewReader(data), Options{BatchSize: 3}, func(es []baton.EventInput, rs []int) error {
			if len(es) != len(rs) || len(es) == 0 {
				t.Fatalf("%d events, %d rows", len(es), len(rs))
			}
			for i, e := range es {
				// Storage validates events; what csvimport owns is that
				// the properties are a JSON object and the lead id parsed.
				if len(e.Properties) > 0 {
					var m map[string]any
					if err := json.Unmarshal(e.Properties, &m); err != nil || m == nil {
						t.Fatalf("event of row %d has properties %q, not a JSON object", rs[i], e.Properties)
					}
				}
			}
			delivered += len(es)
			rows = append(rows, rs...)
			return nil
		})
		checkFuzz(t, err, st, delivered, rows)
	})
}

var crmSeeds = []string{
	"Lead ID,Email,Company,Industry,No. of Employees,Annual Revenue,Website,Lead Status,Created Date,Lead Owner\n" +
		"00Q1,a@acme.test,Acme,Software,120,\"58,000,000\",https://www.acme.test/,Working - Contacted,1/5/2026 9:00 AM,Priya Raman\n" +
		"00Q2,b@gmail.com,,Software,,,,Open,13/5/2026,nobody\n",
	"Record ID,Email,Company Name,Number of Employees,Annual Revenue,Lifecycle Stage,Lead Status,Create Date,Contact owner,Postal Code\n" +
		"5123,a@x.test,X,-1,1e9,Customer,Unqualified,2026-01-01T08:00:00+0000,,02134\n" +
		"5124,b@y.test,Y,12.5,$,Partner,,2026-01-01 08:00,priya@baton.test,94105\n",
}

// FuzzLeadRows: a CRM file gives leads that validate and accounts that do.
func FuzzLeadRows(f *testing.F) {
	for _, s := range append(crmSeeds, leadSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		delivered := 0
		var rows []int
		st, err := LeadRows(bytes.NewReader(data), Options{BatchSize: 3, Owner: owners}, func(ls []baton.LeadImport, rs []int) error {
			for i, l := range ls {
				if err := l.Lead.Validate(); err != nil {
					t.Fatalf("delivered lead of row %d does not validate: %v", rs[i], err)
				}
				if l.Account != nil {
					if err := l.Account.Validate(); err != nil {
						t.Fatalf("delivered account of row %d does not validate: %v", rs[i], err)
					}
				}
			}
			delivered += len(ls)
			rows = append(rows, rs...)
			return nil
		})
		checkFuzz(t, err, st, delivered, rows)
	})
}

// FuzzParseTime: a time read is read again the same from its RFC 3339 form.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-01-01", "1/1/2026 8:00 AM", "2026-01-01T08:00:00+0000", "13/01/2026", "2026-01-01 08:00", "1/15/2026, 9:12 PM"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, dayFirst bool) {
		order := MonthFirst
		if dayFirst {
			order = DayFirst
		}
		got, err := ParseTime(s, order, nil)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error")
			}
			return
		}
		again, err := ParseTime(got.Format(time.RFC3339Nano), order, nil)
		if err != nil || !again.Equal(got) {
			t.Fatalf("%q read as %v, which reads back as %v, %v", s, got, again, err)
		}
	})
}
