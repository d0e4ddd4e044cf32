package policy

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/csvimport"
)

// markedLine returns the line of the document that ends with "#!".
func markedLine(t *testing.T, doc string) int {
	t.Helper()
	for i, l := range strings.Split(doc, "\n") {
		if strings.HasSuffix(strings.TrimSpace(l), "#!") {
			return i + 1
		}
	}
	t.Fatalf("no #! marker in\n%s", doc)
	return 0
}

// testSchema has an attribute of each type.
var testSchema = Schema{Attributes: map[string]baton.AttrType{
	"City": baton.AttrString, "Visits": baton.AttrNumber, "Do Not Email": baton.AttrBool,
}}

const okFit = `fit:
  - name: VP
    field: title
    contains: vp
    points: 50
`

func TestParseProblems(t *testing.T) {
	for _, tc := range []struct {
		name, doc, field, msg string
	}{
		{"unknown top field", "name: t\nbogus: 1 #!\n" + okFit + "mql: {fit: 0}\n", "bogus", "unknown field"},
		{"fit not a list", "name: t\nfit: {name: a} #!\nmql: {fit: 0}\n", "fit", "expected a list of rules"},
		{"engagement rules not a list", "name: t\n" + okFit + "engagement:\n  half_life: 30d\n  rules: {name: e} #!\nmql: {fit: 0}\n",
			"engagement.rules", "expected a list of rules"},
		{"fast track not a list", "name: t\n" + okFit + "mql:\n  fit: 0\n  fast_track: {event: demo_request} #!\n", "mql.fast_track", "expected a list"},
		{"fast track item unknown field", "name: t\n" + okFit + "mql:\n  fit: 0\n  fast_track:\n    - {event: demo_request, min_fitt: 3} #!\n",
			"mql.fast_track[0].min_fitt", "unknown field"},
		{"fit_half_life refused", "name: t\nfit_half_life: 30d #!\n" + okFit + "mql: {fit: 0}\n", "fit_half_life", "unknown field"},
		{"unknown rule field", "name: t\nfit:\n  - name: a\n    field: title\n    contains: x\n    pionts: 3 #!\n    points: 3\nmql: {fit: 1}\n",
			"fit[0].pionts", "unknown field"},
		{"missing name", "fit:\n  - name: a\n    field: title\n    contains: x\n    points: 3\nmql: {fit: 1}\n", "name", "required"},
		{"bad regex", "name: t\nfit:\n  - name: a\n    field: title\n    regex: '(vp' #!\n    points: 3\nmql: {fit: 1}\n",
			"fit[0].regex", "bad regular expression"},
		{"zero half-life", "name: t\n" + okFit + "engagement:\n  half_life: 0 #!\n  rules:\n    - {name: e, event: x, points: 1}\nmql: {fit: 0}\n",
			"engagement.half_life", "positive"},
		{"negative half-life", "name: t\n" + okFit + "engagement:\n  half_life: -3d #!\n  rules:\n    - {name: e, event: x, points: 1}\nmql: {fit: 0}\n",
			"engagement.half_life", "positive"},
		{"half-life without unit", "name: t\n" + okFit + "engagement:\n  half_life: 30 #!\n  rules:\n    - {name: e, event: x, points: 1}\nmql: {fit: 0}\n",
			"engagement.half_life", "unit"},
		{"half-life bad unit", "name: t\n" + okFit + "engagement:\n  half_life: 3mo #!\n  rules:\n    - {name: e, event: x, points: 1}\nmql: {fit: 0}\n",
			"engagement.half_life", "unknown unit"},
		{"half-life missing", "name: t\n" + okFit + "engagement: #!\n  rules:\n    - {name: e, event: x, points: 1}\nmql: {fit: 0}\n",
			"engagement.half_life", "required"},
		{"unknown lead field", "name: t\nfit:\n  - name: a\n    field: job_title #!\n    contains: x\n    points: 3\nmql: {fit: 1}\n",
			"fit[0].field", "unknown field"},
		{"unknown account field", "name: t\nfit:\n  - name: a\n    field: account.size #!\n    range: {min: 3}\n    points: 3\nmql: {fit: 1}\n",
			"fit[0].field", "unknown field"},
		{"range min above max", "name: t\nfit:\n  - name: a\n    field: account.employees\n    range: {min: 10, max: 5} #!\n    points: 3\nmql: {fit: 1}\n",
			"fit[0].range", "min 10 is above max 5"},
		{"range empty", "name: t\nfit:\n  - name: a\n    field: account.employees\n    range: {} #!\n    points: 3\nmql: {fit: 1}\n",
			"fit[0].range", "min, max"},
		{"range on text field", "name: t\nfit:\n  - name: a\n    field: title\n    range: {min: 1} #!\n    points: 3\nmql: {fit: 1}\n",
			"fit[0].range", "needs a number"},
		{"contains on number field", "name: t\nfit:\n  - name: a\n    field: account.employees\n    contains: '1' #!\n    points: 3\nmql: {fit: 1}\n",
			"fit[0].contains", "needs text"},
		{"equals text on number field", "name: t\nfit:\n  - name: a\n    field: account.annual_revenue\n    equals: lots #!\n    points: 3\nmql: {fit: 1}\n",
			"fit[0].equals", "is a number"},
		{"no condition", "name: t\nfit:\n  - name: a #!\n    field: title\n    points: 3\nmql: {fit: 1}\n", "fit[0]", "no condition"},
		{"two conditions", "name: t\nfit:\n  - name: a\n    field: title\n    contains: x\n    regex: y #!\n    points: 3\nmql: {fit: 1}\n",
			"fit[0].regex", "one condition"},
		{"duplicate rule name", "name: t\n" + okFit + "engagement:\n  half_life: 30d\n  rules:\n    - name: VP #!\n      event: x\n      points: 1\nmql: {fit: 0}\n",
			"engagement.rules[0].name", "used twice"},
		{"points NaN", "name: t\nfit:\n  - name: a\n    field: title\n    contains: x\n    points: .nan #!\nmql: {fit: 0}\n", "fit[0].points", "NaN"},
		{"points infinite", "name: t\nfit:\n  - name: a\n    field: title\n    contains: x\n    points: .inf #!\nmql: {fit: 0}\n", "fit[0].points", "finite"},
		{"points zero", "name: t\nfit:\n  - name: a\n    field: title\n    contains: x\n    points: 0 #!\nmql: {fit: 0}\n", "fit[0].points", "0 points"},
		{"points text", "name: t\nfit:\n  - name: a\n    field: title\n    contains: x\n    points: ten #!\nmql: {fit: 0}\n", "fit[0].points", "expected a number"},
		{"cap per zero", "name: t\n" + okFit + "engagement:\n  half_life: 30d\n  rules:\n    - name: e\n      event: x\n      points: 1\n      cap: {points: 5, per: 0} #!\nmql: {fit: 0}\n",
			"engagement.rules[0].cap.per", "positive"},
		{"cap per negative", "name: t\n" + okFit + "engagement:\n  half_life: 30d\n  rules:\n    - name: e\n      event: x\n      points: 1\n      cap: {points: 5, per: -1d} #!\nmql: {fit: 0}\n",
			"engagement.rules[0].cap.per", "positive"},
		{"cap points negative", "name: t\n" + okFit + "engagement:\n  half_life: 30d\n  rules:\n    - name: e\n      event: x\n      points: 1\n      cap: {points: -5, per: 1d} #!\nmql: {fit: 0}\n",
			"engagement.rules[0].cap.points", "positive"},
		{"once and cap", "name: t\n" + okFit + "engagement:\n  half_life: 30d\n  rules:\n    - name: e\n      event: x\n      points: 1\n      once: true\n      cap: {points: 5, per: 1d} #!\nmql: {fit: 0}\n",
			"engagement.rules[0].cap", "once"},
		{"bad event type", "name: t\n" + okFit + "engagement:\n  half_life: 30d\n  rules:\n    - name: e\n      event: Page View #!\n      points: 1\nmql: {fit: 0}\n",
			"engagement.rules[0].event", "not an event type"},
		{"bad where regex", "name: t\n" + okFit + "engagement:\n  half_life: 30d\n  rules:\n    - name: e\n      event: x\n      where: {url: {regex: '[a'}} #!\n      points: 1\nmql: {fit: 0}\n",
			"engagement.rules[0].where.url.regex", "bad regular expression"},
		{"fast track min_fit unreachable", "name: t\n" + okFit + "mql:\n  fast_track:\n    - event: demo_request #!\n      min_fit: 60\n",
			"mql.fast_track[0].min_fit", "above the highest reachable fit 50"},
		{"fit threshold unreachable", "name: t\n" + okFit + "mql: {fit: 51} #!\n", "mql.fit", "above the highest reachable fit"},
		{"engagement threshold without rules", "name: t\n" + okFit + "mql: {fit: 5, engagement: 10} #!\n", "mql.engagement", "never be met"},
		{"mql empty", "name: t\n" + okFit + "mql: {} #!\n", "mql", "no lead can ever qualify"},
		{"mql missing", "name: t\n" + okFit, "mql", "required"},
		{"match any with nothing set", "name: t\n" + okFit + "mql: #!\n  match: any\n  fast_track: [{event: demo_request}]\n", "mql.match", "at least one threshold"},
		{"match any always true", "name: t\n" + okFit + "mql: {fit: 0, match: any} #!\n", "mql.fit", "every lead"},
		{"bad match", "name: t\n" + okFit + "mql:\n  fit: 10\n  match: most #!\n", "mql.match", "all or any"},
		{"combined implied", "name: t\n" + okFit + "engagement:\n  half_life: 30d\n  rules:\n    - {name: e, event: x, points: 1}\nmql: {fit: 10, engagement: 10, combined: 15} #!\n",
			"mql.combined", "implied"},
		{"grades not ordered", "name: t\n" + okFit + "mql: {fit: 0}\ngrades:\n  fit:\n    A: 20\n    B: 30 #!\n", "grades.fit.B", "highest threshold to the lowest"},
		{"grades equal", "name: t\n" + okFit + "mql: {fit: 0}\ngrades:\n  fit:\n    A: 20\n    B: 20 #!\n", "grades.fit.B", "must be below"},
		{"grade unreachable", "name: t\n" + okFit + "mql: {fit: 0}\ngrades:\n  fit:\n    A: 80 #!\n    B: 20\n", "grades.fit.A", "no lead can get"},
		{"syntax error", "name: t\nfit: [ #!\n", "", "YAML syntax"},
		{"alias", "name: t\nfit:\n  - &r\n    name: a\n    field: title\n    contains: x\n    points: 3\n  - *r #!\nmql: {fit: 1}\n", "fit[1]", "aliases"},
		{"duplicate key", "name: t\nname: u #!\n" + okFit + "mql: {fit: 0}\n", "", "already defined"},
		{"not a mapping", "- a\n- b\n", "", "expected a mapping"},
		{"empty", "", "", "empty"},
		{"in not a list", "name: t\nfit:\n  - name: a\n    field: title\n    in: vp #!\n    points: 3\nmql: {fit: 1}\n", "fit[0].in", "a list"},
		{"missing not bool", "name: t\nfit:\n  - name: a\n    field: title\n    missing: maybe #!\n    points: 3\nmql: {fit: 1}\n", "fit[0].missing", "true or false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.doc))
			if err == nil {
				t.Fatalf("Parse accepted\n%s", tc.doc)
			}
			if p != nil {
				t.Error("Parse returned a policy with an error")
			}
			checkProblem(t, err, tc.doc, tc.field, tc.msg)
		})
	}
}

func checkProblem(t *testing.T, err error, doc, field, msg string) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %T %v is not a *ValidationError", err, err)
	}
	if baton.ErrorCode(err) != baton.EINVALID {
		t.Errorf("ErrorCode = %q, want %q", baton.ErrorCode(err), baton.EINVALID)
	}
	wantLine := 0
	if strings.Contains(doc, "#!") {
		wantLine = markedLine(t, doc)
	}
	for _, p := range ve.Problems {
		if p.Field == field && strings.Contains(p.Message, msg) && (wantLine == 0 || p.Line == wantLine) {
			return
		}
	}
	t.Errorf("no problem %s (line %d) %q in\n%v", field, wantLine, msg, err)
}

func TestSchemaProblems(t *testing.T) {
	for _, tc := range []struct {
		name, rule, field, msg string
	}{
		{"unknown attribute", "field: attributes.Town #!\n    equals: Pune", "fit[0].field", `no lead has the attribute "Town"`},
		{"range on string attribute", "field: attributes.City\n    range: {min: 3} #!", "fit[0].range", "needs a number"},
		{"contains on number attribute", "field: attributes.Visits\n    contains: '3' #!", "fit[0].contains", "needs text"},
		{"regex on bool attribute", "field: attributes.Do Not Email\n    regex: 'y' #!", "fit[0].regex", "needs text"},
		{"text equals on number attribute", "field: attributes.Visits\n    equals: many #!", "fit[0].equals", "is a number"},
		{"number in on bool attribute", "field: attributes.Do Not Email\n    in: [1, 0] #!", "fit[0].in", "is a boolean"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := "name: t\nfit:\n  - name: a\n    " + tc.rule + "\n    points: 30\nmql: {fit: 0}\n"
			p, err := Parse([]byte(doc))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			err = p.Validate(testSchema)
			if err == nil {
				t.Fatalf("Validate accepted\n%s", doc)
			}
			checkProblem(t, err, doc, tc.field, tc.msg)
			_, err = Check([]byte(doc), testSchema)
			checkProblem(t, err, doc, tc.field, tc.msg)
		})
	}
	// The same attributes used rightly are accepted.
	doc := `name: t
fit:
  - {name: a, field: attributes.City, in: [Mumbai, 3], points: 5}
  - {name: b, field: attributes.Visits, range: {min: 3}, points: 5}
  - {name: c, field: attributes.Visits, equals: 3, points: 5}
  - {name: d, field: attributes.Do Not Email, equals: yes, points: -5}
  - {name: e, field: attributes.Do Not Email, missing: true, points: 5}
  - {name: f, field: attributes.City, regex: '^M', points: 5}
mql: {fit: 0}
`
	if _, err := Check([]byte(doc), testSchema); err != nil {
		t.Error(err)
	}
}

func TestSeveralProblemsListed(t *testing.T) {
	doc := `name: t
color: blue #!
fit:
  - name: a
    field: title
    regex: '(('
    points: 3
  - name: a
    field: nowhere
    contains: x
    points: 3
engagement:
  half_life: -1d
  rules:
    - {name: e, event: x, points: 1, cap: {points: 2, per: 0s}}
mql: {}
`
	_, err := Parse([]byte(doc))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v", err)
	}
	want := map[string]int{"color": 2, "fit[0].regex": 6, "fit[1].name": 8, "fit[1].field": 9,
		"engagement.half_life": 13, "engagement.rules[0].cap.per": 15, "mql": 16}
	got := map[string]int{}
	for _, p := range ve.Problems {
		got[p.Field] = p.Line
	}
	for f, l := range want {
		if got[f] != l {
			t.Errorf("problem on %s: line %d, want %d", f, got[f], l)
		}
	}
	if len(ve.Problems) != len(want) {
		t.Errorf("%d problems, want %d:\n%v", len(ve.Problems), len(want), err)
	}
	for i := 1; i < len(ve.Problems); i++ {
		if ve.Problems[i].Line < ve.Problems[i-1].Line {
			t.Errorf("problems not in line order: %v", err)
		}
	}
	for f := range want {
		if !strings.Contains(err.Error(), f+":") || !strings.Contains(baton.ErrorMessage(err), f+":") {
			t.Errorf("message does not name %s: %v", f, err)
		}
	}
}

// demoSchema is the schema of the X Education leads, as the CSV import types
// them.
func demoSchema(t testing.TB) Schema {
	f, err := os.Open("../demo/data/xeducation/leads-train.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := Schema{Attributes: map[string]baton.AttrType{}}
	_, err = csvimport.Leads(f, csvimport.Options{}, func(leads []*baton.Lead, _ []int) error {
		for _, l := range leads {
			for k, v := range l.Attrs {
				s.Attributes[k] = baton.TypeOf(v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDefaultPolicy(t *testing.T) {
	p := Default()
	s := demoSchema(t)
	if err := p.Validate(s); err != nil {
		t.Fatal(err)
	}
	if _, err := Check(DefaultDocument(), s); err != nil {
		t.Fatal(err)
	}
	// Columns filled in after contact (or the outcome) must not be used.
	for _, r := range p.FitRules {
		a, ok := strings.CutPrefix(r.Condition.Field, attrPrefix)
		if !ok {
			continue
		}
		for _, banned := range []string{"Tags", "Lead Quality", "Lead Profile", "Last Notable Activity", "Asymmetrique", "Converted"} {
			if strings.HasPrefix(a, banned) {
				t.Errorf("rule %q uses %q", r.Name, a)
			}
		}
	}
	if len(p.FitRules) < 8 || len(p.EngagementRules) < 8 || p.HalfLife != 30*Day || len(p.MQL.FastTrack) == 0 {
		t.Errorf("default policy is thinner than described: %d fit, %d engagement rules", len(p.FitRules), len(p.EngagementRules))
	}
	if Default() == p {
		t.Error("Default returns a shared policy")
	}
}

func TestExampleFiles(t *testing.T) {
	for _, name := range []string{"testdata/example.yaml"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Check(b, testSchema); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		err  bool
	}{
		{"30d", "720h0m0s", false}, {"2w", "336h0m0s", false}, {"1d12h", "36h0m0s", false}, {"90m", "1h30m0s", false},
		{"1.5d", "36h0m0s", false}, {"0", "0s", false}, {"-1d", "-24h0m0s", false},
		{"30", "", true}, {"d", "", true}, {"3mo", "", true}, {"", "", true}, {"1e9w", "", true},
	} {
		d, err := ParseDuration(tc.in)
		if (err != nil) != tc.err || err == nil && d.String() != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %s, error %v", tc.in, d, err, tc.want, tc.err)
		}
	}
	for d, want := range map[string]string{"30d": "30d", "2w": "2w", "36h": "36h", "90m": "1h30m0s"} {
		x, _ := ParseDuration(d)
		if got := FormatDuration(x); got != want {
			t.Errorf("FormatDuration(%s) = %s, want %s", d, got, want)
		}
	}
}

// TestFitReads: a policy says which parts of a lead its fit rules read, so
// that storage reads only those when it rescores many leads.
func TestFitReads(t *testing.T) {
	rule := func(field, cond string) string {
		return "  - name: r " + field + "\n    field: " + field + "\n    " + cond + "\n    points: 5\n"
	}
	for _, c := range []struct {
		rules string
		want  FitReads
	}{
		{"", FitReads{}},
		{rule("title", "contains: vp"), FitReads{Fields: []string{"title"}}},
		{rule("email_domain", "in: [gmail.com]") + rule("campaign", "missing: true") + rule("email", "regex: '^a'"),
			FitReads{Fields: []string{"email", "campaign"}}},
		{rule("account.employees", "range: {min: 10}") + rule("source", "equals: web"), FitReads{Fields: []string{"source"}, Account: true}},
		{rule("attributes.City", "equals: Mumbai") + rule("country", "equals: India"), FitReads{Fields: []string{"country"}, Attributes: true}},
	} {
		doc := "name: t\nmql: {fit: 0}\n"
		if c.rules != "" {
			doc += "fit:\n" + c.rules
		}
		p, err := Check([]byte(doc), testSchema)
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		got := p.FitReads()
		if strings.Join(got.Fields, ",") != strings.Join(c.want.Fields, ",") || got.Account != c.want.Account || got.Attributes != c.want.Attributes {
			t.Errorf("%s: reads %+v, want %+v", doc, got, c.want)
		}
	}
}
