package csvimport

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// readAll runs the reader for kind over in and collects what it delivers.
func readAll(kind, in string, opt Options) (items []any, rows []int, st Stats, err error) {
	r := strings.NewReader(in)
	switch kind {
	case "leads":
		st, err = Leads(r, opt, func(ls []*baton.Lead, rs []int) error {
			for _, l := range ls {
				items = append(items, l)
			}
			rows = append(rows, rs...)
			return nil
		})
	case "accounts":
		st, err = Accounts(r, opt, func(as []*baton.Account, rs []int) error {
			for _, a := range as {
				items = append(items, a)
			}
			rows = append(rows, rs...)
			return nil
		})
	case "users":
		st, err = Users(r, opt, func(us []baton.UserImport, rs []int) error {
			for _, u := range us {
				items = append(items, u)
			}
			rows = append(rows, rs...)
			return nil
		})
	case "events":
		st, err = Events(r, opt, func(es []baton.EventInput, rs []int) error {
			for _, e := range es {
				items = append(items, e)
			}
			rows = append(rows, rs...)
			return nil
		})
	default:
		panic(kind)
	}
	return items, rows, st, err
}

// bad is an expected bad row; msg is a substring of the message.
type bad struct {
	row      int
	col, msg string
}

// numbers makes a leads file whose Score column holds n numbers and then v.
func numbers(n int, v string) string {
	var b strings.Builder
	b.WriteString("email,Score,Opt In\n")
	for i := range n {
		fmt.Fprintf(&b, "u%d@x.com,%d,yes\n", i, i)
	}
	fmt.Fprintf(&b, "last@x.com,%s,no\n", v)
	return b.String()
}

func TestInputs(t *testing.T) {
	tests := []struct {
		name, kind, in string
		opt            Options
		errField       string // whole-file error: the field, or "*" for none
		errMsg         string // whole-file error: a substring of the message
		rows           []int  // lines delivered
		bad            []bad
		ignored        []string // Stats.Ignored, when set
		check          func(t *testing.T, items []any)
	}{
		{name: "empty file", kind: "leads", in: "", errField: "*", errMsg: "empty file: no header row"},
		{name: "empty events file", kind: "events", in: "", errField: "*", errMsg: "empty file"},
		{name: "header only", kind: "leads", in: "email,name\n"},
		{name: "header only, no newline", kind: "users", in: "name,email"},
		{name: "missing required column", kind: "leads", in: "name,company\nAnn,Acme\n", errField: "email", errMsg: "external_id"},
		{name: "missing account name", kind: "accounts", in: "domain\nacme.com\n", errField: "name"},
		{name: "missing user name", kind: "users", in: "email\na@x.com\n", errField: "name"},
		{name: "missing event time", kind: "events", in: "id,lead_id,type\n1,2,page_view\n", errField: "occurred_at"},
		{name: "missing event lead", kind: "events", in: "id,type,occurred_at\n1,page_view,2024-01-01\n", errField: "lead_id"},
		{name: "header twice", kind: "leads", in: "email,Name,name \na@x.com,A,B\n", errField: "name", errMsg: "twice"},
		{name: "two aliases of one field", kind: "leads", in: "Email,E-mail\na@x.com,b@x.com\n", errField: "E-mail", errMsg: "both"},
		{name: "map names a missing column", kind: "leads", in: "email\na@x.com\n",
			opt: Options{Map: map[string]string{"Prospect ID": "external_id"}}, errField: "Prospect ID", errMsg: "not in the file"},
		{name: "map target of another kind", kind: "leads", in: "email,web\na@x.com,x.com\n",
			opt: Options{Map: map[string]string{"web": "domain"}}, errField: "web", errMsg: "not a lead field"},
		{name: "bad header quote", kind: "leads", in: "email,\"na\"me\na@x.com,A\n", errField: "*", errMsg: "line 1"},
		{name: "too many attribute columns", kind: "leads", in: "email," + attrHeader(baton.MaxAttrs+1) + "\n", errField: "c200", errMsg: "at most 200"},
		{name: "attribute name too long", kind: "leads", in: "email," + strings.Repeat("x", 101) + "\n", errField: strings.Repeat("x", 101)},

		{name: "bad email", kind: "leads", in: "email,name\nnot-an-email,A\nb@x.com,B\n",
			rows: []int{3}, bad: []bad{{2, "email", `expected an email address, got "not-an-email"`}}},
		{name: "bad email names the header", kind: "leads", in: "Email Address,name\nb@x.com,B\na@@x,A\n",
			rows: []int{2}, bad: []bad{{3, "Email Address", "expected an email address"}}},
		{name: "neither email nor external id", kind: "leads", in: "email,external_id,name\n,,A\n,x1,B\nSelect,,C\n",
			rows: []int{3}, bad: []bad{{2, "email", "needs an email or an external_id"}, {4, "email", "needs an email"}}},
		{name: "bad number by known type", kind: "leads", in: "email,Score\na@x.com,1.5\nb@x.com,abc\nc@x.com,\n",
			opt:  Options{AttrTypes: map[string]baton.AttrType{"Score": baton.AttrNumber}},
			rows: []int{2, 4}, bad: []bad{{3, "Score", `expected a number, got "abc"`}},
			check: func(t *testing.T, items []any) {
				if v := items[0].(*baton.Lead).Attrs["Score"]; v != 1.5 {
					t.Errorf("Score = %#v", v)
				}
				if _, ok := items[1].(*baton.Lead).Attrs["Score"]; ok {
					t.Errorf("empty Score was kept")
				}
			}},
		{name: "bad number after the sample", kind: "leads", in: numbers(SampleRows, "abc"),
			rows: lines(2, SampleRows+1), bad: []bad{{SampleRows + 2, "Score", "expected a number"}},
			check: func(t *testing.T, items []any) {
				if l := items[7].(*baton.Lead); l.Attrs["Score"] != 7.0 || l.Attrs["Opt In"] != true {
					t.Errorf("attrs = %v", l.Attrs)
				}
			}},
		{name: "string in the sample makes a string column", kind: "leads", in: numbers(SampleRows-1, "abc"),
			rows: lines(2, SampleRows+1), check: func(t *testing.T, items []any) {
				if v := items[3].(*baton.Lead).Attrs["Score"]; v != "3" {
					t.Errorf("Score = %#v", v)
				}
			}},
		{name: "bad bool", kind: "leads", in: "email,Opt In\na@x.com,Yes\nb@x.com,maybe\n",
			opt:  Options{AttrTypes: map[string]baton.AttrType{"Opt In": baton.AttrBool}},
			rows: []int{2}, bad: []bad{{3, "Opt In", "expected yes/no/true/false"}}},
		{name: "attribute too long", kind: "leads", in: "email,Notes\na@x.com," + strings.Repeat("n", baton.MaxAttrLen+1) + "\n",
			bad: []bad{{2, "Notes", "at most 2000"}}},
		{name: "duplicate email", kind: "leads", in: "email,name\na@x.com,A\nb@x.com,B\n A@X.com ,C\n",
			rows: []int{2, 3}, bad: []bad{{4, "email", "first seen on row 2"}}},
		{name: "duplicate external id", kind: "leads", in: "Prospect ID,email\np1,\np2,\np1,c@x.com\n",
			rows: []int{2, 3}, bad: []bad{{4, "Prospect ID", "duplicate external_id \"p1\": first seen on row 2"}}},
		{name: "bad row does not count as first", kind: "leads", in: "email,stage\na@x.com,nope\na@x.com,mql\n",
			rows: []int{3}, bad: []bad{{2, "stage", "unknown stage"}}},
		{name: "bad created_at", kind: "leads", in: "email,created_at\na@x.com,2024-02-30\nb@x.com,2024-02-03\nc@x.com,2024-02-03T10:00:00Z\n",
			rows: []int{3, 4}, bad: []bad{{2, "created_at", "expected a date"}}},
		{name: "BOM", kind: "leads", in: "\uFEFFemail,name\na@x.com,A\n", rows: []int{2},
			check: func(t *testing.T, items []any) {
				if l := items[0].(*baton.Lead); l.Email != "a@x.com" || len(l.Attrs) != 0 {
					t.Errorf("lead = %+v", l)
				}
			}},
		{name: "CRLF", kind: "leads", in: "email,name,Score\r\na@x.com,Ann,1\r\nb@x.com,Bob,2\r\n", rows: []int{2, 3},
			check: func(t *testing.T, items []any) {
				if l := items[1].(*baton.Lead); l.Name != "Bob" || l.Attrs["Score"] != 2.0 {
					t.Errorf("lead = %+v", l)
				}
			}},
		{name: "quoted commas and newlines", kind: "leads", in: "email,name,Notes\na@x.com,\"Smith, Ann\",\"line 1\nline 2\"\nb@x.com,B,\n",
			rows: []int{2, 4}, check: func(t *testing.T, items []any) {
				if l := items[0].(*baton.Lead); l.Name != "Smith, Ann" || l.Attrs["Notes"] != "line 1\nline 2" {
					t.Errorf("lead = %+v", l)
				}
			}},
		{name: "ragged rows", kind: "leads", in: "email,name\na@x.com\nb@x.com,B,extra\nc@x.com,C\n",
			rows: []int{4}, bad: []bad{{2, "", "has 1 fields, header has 2"}, {3, "", "has 3 fields, header has 2"}}},
		{name: "malformed quote", kind: "leads", in: "email,name\na@x.com,Jo\"hn\nb@x.com,\"B\"x\nc@x.com,C\n",
			rows: []int{4}, bad: []bad{{2, "", "bare \" in non-quoted-field"}, {3, "", "extraneous or missing \" in quoted-field"}}},
		{name: "unclosed quote at the end", kind: "leads", in: "email,name\na@x.com,A\nb@x.com,\"B\nc@x.com,C\n",
			rows: []int{2}, bad: []bad{{3, "", "extraneous or missing \" in quoted-field"}}},
		{name: "column without a header", kind: "leads", in: ",email,name\n0,a@x.com,A\n",
			rows: []int{2}, ignored: []string{"(column 1, no header)"}, check: func(t *testing.T, items []any) {
				if l := items[0].(*baton.Lead); len(l.Attrs) != 0 || l.Name != "A" {
					t.Errorf("lead = %+v", l)
				}
			}},
		{name: "select and names", kind: "leads", in: "Email,First Name,Last Name,Job Title,Specialization\na@x.com,Ann,Lee,select,Select\n",
			rows: []int{2}, check: func(t *testing.T, items []any) {
				if l := items[0].(*baton.Lead); l.Name != "Ann Lee" || l.Title != "" || len(l.Attrs) != 0 {
					t.Errorf("lead = %+v", l)
				}
			}},
		{name: "map overrides aliases, skips and renames", kind: "leads",
			in:   "Prospect ID,Lead Source,Lead Number,Junk\np1,Web,42,zz\n",
			opt:  Options{Map: map[string]string{"lead source": "campaign", "Lead Number": "attributes.lead_number", "JUNK": "-"}},
			rows: []int{2}, check: func(t *testing.T, items []any) {
				l := items[0].(*baton.Lead)
				if l.ExternalID != "p1" || l.Campaign != "Web" || l.Source != "" || l.Attrs["lead_number"] != 42.0 || len(l.Attrs) != 1 {
					t.Errorf("lead = %+v", l)
				}
			}},

		{name: "accounts: bad numbers and duplicates", kind: "accounts",
			in:   "name,website,employees,annual_revenue\nAcme,https://www.acme.com/,10,5.5\nBeta,,ten,\nGamma,,,lots\nAcme Two,acme.com,,\nDelta,,,\n delta ,,,\n",
			rows: []int{2, 6}, bad: []bad{{3, "employees", `expected a whole number, got "ten"`}, {4, "annual_revenue", "expected a number"},
				{5, "website", `duplicate domain "acme.com": first seen on row 2`}, {7, "name", "first seen on row 6"}},
			check: func(t *testing.T, items []any) {
				if a := items[0].(*baton.Account); a.Domain != "acme.com" || *a.Employees != 10 || *a.AnnualRevenue != 5.5 {
					t.Errorf("account = %+v", a)
				}
			}},
		{name: "accounts: bad domain", kind: "accounts", in: "account,website\nAcme,not a domain\n", bad: []bad{{2, "website", "is not a domain name"}}},
		{name: "accounts: revenue outside the CRM file is in USD", kind: "accounts", in: "company,revenue,Color\nAcme,1000,red\n",
			rows: []int{2}, ignored: []string{"Color"}, check: func(t *testing.T, items []any) {
				if a := items[0].(*baton.Account); a.Name != "Acme" || *a.AnnualRevenue != 1000 {
					t.Errorf("account = %+v", a)
				}
			}},
		{name: "users: role, email and duplicates", kind: "users",
			in:   "full name,email,role,office,territory\nAnn,ann@x.com,AE,East,\nBob,bob@x.com,boss,,\nCy,,,,\nAnn Again,ANN@x.com,,,\nDee,dee@x.com,,West,Coast\n",
			rows: []int{2, 6}, bad: []bad{{3, "role", "unknown role"}, {4, "email", "expected the user's email"}, {5, "email", "first seen on row 2"}},
			check: func(t *testing.T, items []any) {
				u, d := items[0].(baton.UserImport), items[1].(baton.UserImport)
				if u.User.Role != baton.RoleAE || u.User.Territory != "East" || d.User.Role != baton.RoleSDR || d.User.Territory != "Coast" {
					t.Errorf("users = %+v, %+v", u, d)
				}
			}},
		{name: "users: name with no letters", kind: "users", in: "sales_agent,manager\n!!!,Boss\n",
			bad: []bad{{2, "sales_agent", "expected an email address"}}},

		{name: "events: bad time, JSON and lead id", kind: "events",
			in: "id,lead_id,type,occurred_at,properties,Page\n" +
				"e1,7,page_view,2024-03-01 10:20:30,,/pricing\n" +
				"e2,7,page_view,yesterday,,\n" +
				"e3,7,page_view,2024-03-01,{bad json},\n" +
				"e4,seven,page_view,2024-03-01,,\n" +
				"e5,8,form_submit,2024-03-01T10:00:00+02:00,\"{\"\"form\"\": \"\"demo\"\", \"\"Page\"\": \"\"/x\"\"}\",/pricing\n" +
				"e6,8,page_view,2024-03-01,[1],\n",
			rows: []int{2, 6}, bad: []bad{{3, "occurred_at", `expected a time (RFC 3339, "YYYY-MM-DD HH:MM:SS" UTC or YYYY-MM-DD), got "yesterday"`},
				{4, "properties", "expected a JSON object"}, {5, "lead_id", "expected a lead id"}, {7, "properties", "expected a JSON object"}},
			check: func(t *testing.T, items []any) {
				e1, e5 := items[0].(baton.EventInput), items[1].(baton.EventInput)
				if e1.LeadID != 7 || e1.OccurredAt.Format("2006-01-02T15:04:05Z07:00") != "2024-03-01T10:20:30Z" || string(e1.Properties) != `{"Page":"/pricing"}` {
					t.Errorf("e1 = %+v %s", e1, e1.Properties)
				}
				if string(e5.Properties) != `{"form":"demo","Page":"/x"}` || e5.OccurredAt.UTC().Hour() != 8 {
					t.Errorf("e5 = %+v %s", e5, e5.Properties)
				}
			}},
		{name: "events: properties kept as given", kind: "events", in: "id,email,type,occurred_at,properties\ne1,A@x.com,email_open,2024-03-01,\"{ \"\"b\"\": 1, \"\"a\"\": [2] }\"\n",
			rows: []int{2}, check: func(t *testing.T, items []any) {
				if e := items[0].(baton.EventInput); string(e.Properties) != `{"b":1,"a":[2]}` || e.Email != "A@x.com" {
					t.Errorf("event = %+v %s", e, e.Properties)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items, rows, st, err := readAll(tc.kind, tc.in, tc.opt)
			if tc.errField != "" {
				var be *baton.Error
				if !errors.As(err, &be) || be.Code != baton.EINVALID {
					t.Fatalf("error = %v, want an EINVALID *baton.Error", err)
				}
				if tc.errField != "*" && be.Field != tc.errField || !strings.Contains(be.Message, tc.errMsg) {
					t.Fatalf("error = %+v, want field %q and message with %q", be, tc.errField, tc.errMsg)
				}
				if len(items) != 0 {
					t.Fatalf("fn was called before the whole-file error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rows, tc.rows) {
				t.Errorf("delivered rows %v, want %v", rows, tc.rows)
			}
			if len(st.Bad) != len(tc.bad) || st.BadRows != len(tc.bad) {
				t.Fatalf("bad rows %v (%d), want %v", st.Bad, st.BadRows, tc.bad)
			}
			for i, b := range tc.bad {
				got := st.Bad[i]
				if got.Row != b.row || got.Column != b.col || !strings.Contains(got.Message, b.msg) {
					t.Errorf("bad row %d = %+v, want row %d column %q message with %q", i, got, b.row, b.col, b.msg)
				}
			}
			if st.Rows != len(rows)+st.BadRows {
				t.Errorf("Rows = %d, want %d delivered + %d bad", st.Rows, len(rows), st.BadRows)
			}
			if tc.ignored != nil && !slices.Equal(st.Ignored, tc.ignored) {
				t.Errorf("Ignored = %q, want %q", st.Ignored, tc.ignored)
			}
			if tc.check != nil {
				tc.check(t, items)
			}
		})
	}
}

func lines(from, to int) []int {
	var ls []int
	for i := from; i <= to; i++ {
		ls = append(ls, i)
	}
	return ls
}

func attrHeader(n int) string {
	var hs []string
	for i := range n {
		hs = append(hs, fmt.Sprintf("c%d", i))
	}
	return strings.Join(hs, ",")
}
