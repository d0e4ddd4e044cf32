package policy

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC) // a Monday

func mustParse(t testing.TB, doc string) *Policy {
	t.Helper()
	p, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	return p
}

func ev(id, typ string, at time.Time, props string) *baton.Event {
	e := &baton.Event{ID: id, Type: typ, OccurredAt: at}
	if props != "" {
		e.Properties = json.RawMessage(props)
	}
	return e
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

const engDoc = `name: t
engagement:
  half_life: 10d
  rules:
    - {name: demo, event: demo_request, points: 40}
    - {name: unsub, event: unsubscribe, points: -30}
    - {name: once, event: webinar_attended, points: 12, once: true}
    - {name: capped, event: page_view, points: 4, cap: {points: 10, per: 7d}}
    - {name: pricing, event: page_view, where: {url: {contains: /pricing}}, points: 5}
    - {name: nested, event: form_submit, where: {utm.source: {equals: LinkedIn}, plan: {range: {min: 2}}}, points: 7}
mql:
  engagement: 30
  fast_track:
    - {event: demo_request}
`

func TestDecayOnSchedule(t *testing.T) {
	p := mustParse(t, engDoc)
	st := &Engagement{}
	if pts, rs := p.Apply(st, ev("1", "demo_request", t0, "")); pts != 40 || len(rs) != 1 || rs[0].Rule != "demo" {
		t.Fatalf("Apply = %v %v", pts, rs)
	}
	for _, tc := range []struct {
		after time.Duration
		want  float64
	}{{0, 40}, {10 * Day, 20}, {20 * Day, 10}, {5 * Day, 40 / math.Sqrt2}, {-3 * Day, 40}} {
		got, _ := p.Engagement(st, t0.Add(tc.after))
		if !near(got, tc.want) {
			t.Errorf("after %v: %v, want %v", tc.after, got, tc.want)
		}
	}
	// Negative points decay the same way.
	p.Apply(st, ev("2", "unsubscribe", t0, ""))
	if got, _ := p.Engagement(st, t0.Add(10*Day)); !near(got, 5) {
		t.Errorf("40 - 30 after one half-life: %v, want 5", got)
	}
	// An event type no rule names changes nothing.
	before, _ := json.Marshal(st)
	if pts, rs := p.Apply(st, ev("3", "email_open", t0.Add(Day), "")); pts != 0 || rs != nil {
		t.Errorf("unmatched event gave %v %v", pts, rs)
	}
	if after, _ := json.Marshal(st); string(after) != string(before) {
		t.Errorf("unmatched event changed the state:\n%s\n%s", before, after)
	}
}

func TestOutOfOrder(t *testing.T) {
	p := mustParse(t, engDoc)
	rng := rand.New(rand.NewPCG(1, 2))
	var events []*baton.Event
	for i := range 50 {
		typ := []string{"demo_request", "unsubscribe", "webinar_attended"}[rng.IntN(3)]
		events = append(events, ev(fmt.Sprint(i), typ, t0.Add(time.Duration(rng.IntN(90*24))*time.Hour), ""))
	}
	now := t0.Add(100 * Day)
	want, _ := p.Engagement(p.Replay(events), now)
	// The closed form, by hand: plain rules sum every event, once keeps the latest.
	var byHand float64
	var lastOnce time.Time
	for _, e := range events {
		f := math.Exp2(-float64(now.Sub(e.OccurredAt)) / float64(10*Day))
		switch e.Type {
		case "demo_request":
			byHand += 40 * f
		case "unsubscribe":
			byHand -= 30 * f
		default:
			if e.OccurredAt.After(lastOnce) {
				lastOnce = e.OccurredAt
			}
		}
	}
	byHand += 12 * math.Exp2(-float64(now.Sub(lastOnce))/float64(10*Day))
	if !near(want, byHand) {
		t.Errorf("Replay gives %v, closed form %v", want, byHand)
	}
	for range 5 {
		rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
		st := &Engagement{}
		for _, e := range events {
			p.Apply(st, e)
		}
		if got, _ := p.Engagement(st, now); !near(got, want) {
			t.Errorf("shuffled order gives %v, want %v", got, want)
		}
	}
}

func TestOnce(t *testing.T) {
	p := mustParse(t, engDoc)
	st := &Engagement{}
	if pts, _ := p.Apply(st, ev("a", "webinar_attended", t0, "")); pts != 12 {
		t.Errorf("first: %v", pts)
	}
	if pts, rs := p.Apply(st, ev("b", "webinar_attended", t0.Add(-Day), "")); pts != 0 || len(rs) != 1 || !strings.Contains(rs[0].Detail, "once") {
		t.Errorf("earlier repeat: %v %v", pts, rs)
	}
	if got, _ := p.Engagement(st, t0); !near(got, 12) {
		t.Errorf("after a repeat: %v, want 12", got)
	}
	// A later one replaces the counted one: still 12, now fresher.
	p.Apply(st, ev("c", "webinar_attended", t0.Add(10*Day), ""))
	if got, rs := p.Engagement(st, t0.Add(10*Day)); !near(got, 12) || rs[0].Events != 3 {
		t.Errorf("after a later repeat: %v %v, want 12", got, rs)
	}
}

func TestCapPerWindow(t *testing.T) {
	p := mustParse(t, engDoc)
	st := &Engagement{}
	var credits []float64
	// 7d windows start on Mondays 00:00 UTC; t0 is a Monday 09:00.
	for i, at := range []time.Time{t0, t0.Add(Day), t0.Add(2 * Day), t0.Add(3 * Day), t0.Add(7 * Day), t0.Add(7*Day + time.Hour)} {
		pts, _ := p.Apply(st, ev(fmt.Sprint(i), "page_view", at, ""))
		credits = append(credits, pts)
	}
	want := []float64{4, 4, 2, 0, 4, 4}
	if fmt.Sprint(credits) != fmt.Sprint(want) {
		t.Errorf("credits %v, want %v", credits, want)
	}
	// A late event for the first window finds it full; the state is as in time order.
	if pts, _ := p.Apply(st, ev("late", "page_view", t0.Add(4*Day), "")); pts != 0 {
		t.Errorf("late event in a full window got %v", pts)
	}
	rs := st.Rules["capped"]
	if len(rs.Windows) != 2 || rs.Windows[0].Points != 10 || rs.Windows[1].Points != 8 || rs.Windows[0].Start.Weekday() != time.Monday {
		t.Errorf("windows %+v", rs.Windows)
	}
	// Only the last MaxCapWindows windows are kept.
	for i := range 10 {
		p.Apply(st, ev(fmt.Sprint("w", i), "page_view", t0.Add(time.Duration(14+7*i)*Day), ""))
	}
	if len(rs.Windows) != MaxCapWindows {
		t.Errorf("%d windows kept", len(rs.Windows))
	}
	if pts, rs := p.Apply(st, ev("old", "page_view", t0, "")); pts != 0 || !strings.Contains(rs[0].Detail, "older") {
		t.Errorf("event older than the windows kept: %v %v", pts, rs)
	}
}

func TestWhere(t *testing.T) {
	p := mustParse(t, engDoc)
	for _, tc := range []struct {
		typ, props string
		rules      string
	}{
		{"page_view", `{"url":"https://x.com/PRICING/team"}`, "capped pricing"},
		{"page_view", `{"url":"https://x.com/blog"}`, "capped"},
		{"page_view", ``, "capped"},
		{"page_view", `not json`, "capped"},
		{"form_submit", `{"utm":{"source":"linkedin"},"plan":3}`, "nested"},
		{"form_submit", `{"utm.source":"LinkedIn","plan":2}`, "nested"},
		{"form_submit", `{"utm":{"source":"linkedin"},"plan":1}`, ""},
		{"form_submit", `{"utm":{"source":"google"},"plan":3}`, ""},
		{"form_submit", `{"plan":3}`, ""},
	} {
		_, rs := p.Apply(&Engagement{}, ev("1", tc.typ, t0, tc.props))
		var names []string
		for _, r := range rs {
			names = append(names, r.Rule)
		}
		if got := strings.Join(names, " "); got != tc.rules {
			t.Errorf("%s %s: rules %q, want %q", tc.typ, tc.props, got, tc.rules)
		}
	}
}

func TestStateJSON(t *testing.T) {
	p := mustParse(t, engDoc)
	st := &Engagement{}
	p.Apply(st, ev("1", "demo_request", t0, ""))
	p.Apply(st, ev("2", "page_view", t0.Add(Day), `{"url":"/pricing"}`))
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back Engagement
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	p.Apply(st, ev("3", "page_view", t0.Add(2*Day), ""))
	p.Apply(&back, ev("3", "page_view", t0.Add(2*Day), ""))
	now := t0.Add(9 * Day)
	a, _ := p.Engagement(st, now)
	c, _ := p.Engagement(&back, now)
	if a != c || a == 0 {
		t.Errorf("after a JSON round trip: %v, want %v\n%s", c, a, b)
	}
}

// fitDoc makes a one-rule policy.
func fitDoc(field, cond string) string {
	return fmt.Sprintf("name: t\nfit:\n  - name: r\n    field: %s\n    %s\n    points: 7\nmql: {fast_track: [{event: x}]}\n", field, cond)
}

func TestFitConditions(t *testing.T) {
	emp := func(n int64) *int64 { return &n }
	rev := func(f float64) *float64 { return &f }
	lead := &baton.Lead{Email: "ana@acme.io", Name: "Ana", Title: "VP of Sales", Phone: "+1 555", Company: "Acme",
		Country: "India", Source: "Reference", Campaign: "Lead Add Form",
		Attrs: baton.Attrs{"City": "Mumbai", "Visits": 5.0, "Do Not Email": false}}
	acct := &baton.Account{Name: "Acme", Domain: "acme.io", Industry: "software", Employees: emp(1000), AnnualRevenue: rev(2.5e6), Country: "US"}
	full := Subject{Lead: lead, Account: acct}
	bare := Subject{Lead: &baton.Lead{ExternalID: "x"}}
	for _, tc := range []struct {
		field, cond string
		s           Subject
		want        bool
	}{
		{"title", "equals: vp of sales", full, true},
		{"title", "equals: VP", full, false},
		{"source", "in: [Google, reference]", full, true},
		{"source", "in: [Google, Bing]", full, false},
		{"source", "in: [a, b, c, d, e, f, g, REFERENCE]", full, true}, // a set
		{"source", "in: [a, b, c, d, e, f, g, h]", full, false},
		{"title", "contains: Sales", full, true},
		{"title", "contains: SALES", full, true},
		{"title", "contains: marketing", full, false},
		{"title", `regex: '^VP\b'`, full, true},
		{"title", `regex: '^vp\b'`, full, false},
		{"title", `regex: '(?i)^vp\b'`, full, true},
		{"title", "missing: true", full, false},
		{"title", "missing: true", bare, true},
		{"title", "missing: false", full, true},
		{"title", "contains: a", bare, false},
		{"email_domain", "equals: ACME.io", full, true},
		{"email_domain", "missing: true", bare, true},
		{"email", "contains: '@acme'", full, true},
		{"name", "equals: ana", full, true},
		{"phone", "contains: '555'", full, true},
		{"company", "equals: acme", full, true},
		{"country", "equals: India", full, true},
		{"campaign", "equals: Lead Add Form", full, true},
		{"account.industry", "equals: Software", full, true},
		{"account.industry", "missing: true", bare, true}, // nil account: missing
		{"account.industry", "equals: software", bare, false},
		{"account.employees", "range: {min: 1000, max: 5000}", full, true}, // bounds included
		{"account.employees", "range: {min: 10, max: 1000}", full, true},
		{"account.employees", "range: {min: 1001}", full, false},
		{"account.employees", "range: {max: 999}", full, false},
		{"account.employees", "equals: 1000", full, true},
		{"account.employees", "range: {min: 0}", bare, false},
		{"account.employees", "missing: true", Subject{Lead: lead, Account: &baton.Account{Name: "x"}}, true},
		{"account.annual_revenue", "range: {min: 1000000}", full, true},
		{"account.domain", "equals: acme.io", full, true},
		{"account.name", "equals: ACME", full, true},
		{"account.country", "in: [US, CA]", full, true},
		{"attributes.City", "equals: mumbai", full, true},
		{"attributes.City", "contains: umb", full, true},
		{"attributes.City", "range: {min: 1}", full, false},
		{"attributes.Visits", "range: {min: 5, max: 5}", full, true},
		{"attributes.Visits", "range: {min: 5.5}", full, false},
		{"attributes.Visits", "equals: 5", full, true},
		{"attributes.Visits", "in: [4, 6]", full, false},
		{"attributes.Visits", "contains: '5'", full, false},
		{"attributes.Do Not Email", "equals: false", full, true},
		{"attributes.Do Not Email", "equals: no", full, true},
		{"attributes.Do Not Email", "equals: true", full, false},
		{"attributes.Do Not Email", "missing: false", full, true},
		{"attributes.Nope", "missing: true", full, true},
		{"attributes.Nope", "equals: x", full, false},
	} {
		p := mustParse(t, fitDoc(tc.field, tc.cond))
		got, rs := p.Fit(tc.s)
		if (got == 7) != tc.want || (len(rs) == 1) != tc.want || got != p.FitPoints(tc.s) {
			t.Errorf("%s %s: fit %v %v, want match %v", tc.field, tc.cond, got, rs, tc.want)
		}
		if tc.want && !strings.Contains(rs[0].Detail, tc.field) {
			t.Errorf("detail %q does not name %s", rs[0].Detail, tc.field)
		}
	}
}

func randomSubject(rng *rand.Rand) Subject {
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	l := &baton.Lead{ExternalID: "x", Country: pick("India", "", "Qatar"), Source: pick("Google", "Reference", "Welingak Website", ""),
		Campaign: pick("API", "Lead Add Form", ""), Title: pick("", "Head of Ops", "Engineer"), Email: pick("", "a@gmail.com", "b@acme.io"),
		Attrs: baton.Attrs{}}
	if rng.IntN(4) > 0 {
		l.Attrs["What is your current occupation"] = pick("Unemployed", "Working Professional", "Student")
	}
	if rng.IntN(2) > 0 {
		l.Attrs["Total Time Spent on Website"] = float64(rng.IntN(2000))
	}
	l.Attrs["Do Not Email"] = rng.IntN(5) == 0
	if rng.IntN(2) > 0 {
		l.Attrs["Specialization"] = "Finance Management"
	}
	s := Subject{Lead: l}
	if rng.IntN(2) > 0 {
		n := int64(rng.IntN(5000))
		s.Account = &baton.Account{Name: "A", Industry: pick("software", "retail"), Employees: &n}
	}
	return s
}

var demoEventTypes = []string{"page_view", "email_open", "email_click", "form_submit", "chat_conversation", "phone_conversation",
	"sms_sent", "demo_request", "unsubscribe", "email_bounced", "approached"}

func randomEvents(rng *rand.Rand, n int) []*baton.Event {
	var out []*baton.Event
	for i := range n {
		props := ""
		if rng.IntN(3) == 0 {
			props = `{"url":"/pricing"}`
		}
		out = append(out, ev(fmt.Sprint(i), demoEventTypes[rng.IntN(len(demoEventTypes))], t0.Add(time.Duration(rng.IntN(60*24))*time.Hour), props))
	}
	return out
}

func TestReasonsSum(t *testing.T) {
	p := Default()
	rng := rand.New(rand.NewPCG(7, 11))
	sum := func(rs []Reason, axis string) float64 {
		var s float64
		for _, r := range rs {
			if axis == "" || r.Axis == axis {
				s += r.Points
			}
		}
		return s
	}
	for i := range 500 {
		s := randomSubject(rng)
		fit, rs := p.Fit(s)
		if !near(sum(rs, ""), fit) || fit != p.FitPoints(s) {
			t.Fatalf("fit %v, reasons sum %v: %v", fit, sum(rs, ""), rs)
		}
		st := p.Replay(randomEvents(rng, rng.IntN(40)))
		now := t0.Add(time.Duration(rng.IntN(90*24)) * time.Hour)
		eng, ers := p.Engagement(st, now)
		if !near(sum(ers, ""), eng) {
			t.Fatalf("engagement %v, reasons sum %v", eng, sum(ers, ""))
		}
		sc := p.Score(s, st, now)
		if !near(sum(sc.Reasons, ""), sc.Fit+sc.Engagement) || !near(sc.Fit, fit) || !near(sc.Engagement, eng) ||
			!near(sum(sc.Reasons, AxisFit), fit) {
			t.Fatalf("score %+v does not add up", sc)
		}
		if i%100 == 0 && (sc.FitGrade == "" || sc.EngagementGrade == "" || sc.Why == "") {
			t.Errorf("score without grade or why: %+v", sc)
		}
	}
}

const mqlDoc = `name: t
fit:
  - {name: vp, field: title, contains: vp, points: 45}
  - {name: ops, field: title, contains: ops, points: 15}
  - {name: gmail, field: email_domain, equals: gmail.com, points: -20}
engagement:
  half_life: 30d
  rules:
    - {name: click, event: email_click, points: 32}
    - {name: open, event: email_open, points: 12}
mql:
  fit: 40
  engagement: 30
  fast_track:
    - {event: demo_request, min_fit: 10, within: 30d}
    - {event: contact_sales}
grades:
  fit: {A: 40, B: 10, C: -1000}
  engagement: {"1": 30, "2": 10}
`

func TestScoreWhy(t *testing.T) {
	p := mustParse(t, mqlDoc)
	who := func(title, email string) Subject {
		return Subject{Lead: &baton.Lead{Title: title, Email: email}}
	}
	state := func(events ...*baton.Event) *Engagement { return p.Replay(events) }
	for _, tc := range []struct {
		name    string
		version int
		s       Subject
		st      *Engagement
		now     time.Time
		ok      bool
		why     string
		fg, eg  string
	}{
		{"thresholds", 3, who("VP Sales", ""), state(ev("1", "email_click", t0, "")), t0, true,
			"policy v3: fit 45 >= 40, engagement 32 >= 30", "A", "1"},
		{"draft", 0, who("VP Sales", ""), state(ev("1", "email_click", t0, "")), t0, true,
			"draft policy: fit 45 >= 40, engagement 32 >= 30", "A", "1"},
		{"decayed below", 3, who("VP Sales", ""), state(ev("1", "email_click", t0, "")), t0.Add(30 * Day), false,
			"policy v3: not qualified: fit 45 >= 40, engagement 16 < 30", "A", "2"},
		{"fast track", 3, who("Ops lead", ""), state(ev("1", "demo_request", t0, "")), t0.Add(Day), true,
			"policy v3: fast track demo_request with fit 15 >= 10", "B", ""},
		{"fast track too old", 3, who("Ops lead", ""), state(ev("1", "demo_request", t0, "")), t0.Add(31 * Day), false,
			"policy v3: not qualified: fit 15 < 40, engagement 0 < 30", "B", ""},
		{"fast track low fit", 3, who("Ops lead", "a@gmail.com"), state(ev("1", "demo_request", t0, "")), t0, false,
			"policy v3: not qualified: fit -5 < 40, engagement 0 < 30; fast track demo_request needs fit -5 < 10", "C", ""},
		{"fast track any fit", 3, who("", "a@gmail.com"), state(ev("1", "contact_sales", t0, "")), t0.Add(400 * Day), true,
			"policy v3: fast track contact_sales", "C", ""},
		{"nothing", 1, who("", ""), nil, t0, false, "policy v1: not qualified: fit 0 < 40, engagement 0 < 30", "C", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.Version = tc.version
			sc := p.Score(tc.s, tc.st, tc.now)
			if sc.Qualifies != tc.ok || sc.Why != tc.why || sc.FitGrade != tc.fg || sc.EngagementGrade != tc.eg {
				t.Errorf("got %v %q grades %q %q\nwant %v %q grades %q %q", sc.Qualifies, sc.Why, sc.FitGrade, sc.EngagementGrade,
					tc.ok, tc.why, tc.fg, tc.eg)
			}
		})
	}
}

func TestMatchAnyAndCombined(t *testing.T) {
	doc := strings.Replace(mqlDoc, "  engagement: 30\n", "  engagement: 30\n  match: any\n", 1)
	p := mustParse(t, doc)
	p.Version = 2
	sc := p.Score(Subject{Lead: &baton.Lead{}}, p.Replay([]*baton.Event{ev("1", "email_click", t0, "")}), t0)
	if !sc.Qualifies || sc.Why != "policy v2: fit 0 < 40 or engagement 32 >= 30" {
		t.Errorf("match any: %v %q", sc.Qualifies, sc.Why)
	}
	doc = strings.Replace(mqlDoc, "  engagement: 30\n", "  engagement: 30\n  combined: 80\n", 1)
	p = mustParse(t, doc)
	st := p.Replay([]*baton.Event{ev("1", "email_click", t0, "")})
	sc = p.Score(Subject{Lead: &baton.Lead{Title: "VP"}}, st, t0)
	if sc.Qualifies || sc.Why != "draft policy: not qualified: fit 45 >= 40, engagement 32 >= 30, fit+engagement 77 < 80" {
		t.Errorf("combined: %v %q", sc.Qualifies, sc.Why)
	}
}

func TestAppendCmp(t *testing.T) {
	for _, tc := range []struct {
		v, thr float64
		want   string
	}{
		{45, 40, "x 45 >= 40"}, {31.974, 30, "x 31.97 >= 30"}, {29.9999, 30, "x 29.9999 < 30"}, {30, 30, "x 30 >= 30"},
		{-0.001, 0, "x -0.001 < 0"}, {0.001, 0, "x 0 >= 0"},
	} {
		if got := string(appendCmp(nil, "x", tc.v, tc.thr)); got != tc.want {
			t.Errorf("appendCmp(%v, %v) = %q, want %q", tc.v, tc.thr, got, tc.want)
		}
	}
}

// TestEngagementKey: the key changes with what builds engagement state and
// with nothing else, so that a rescore replays events only when it must.
func TestEngagementKey(t *testing.T) {
	base := mustParse(t, engDoc).EngagementKey()
	for _, tc := range []struct {
		name, old, new string
		same           bool
	}{
		{"MQL threshold", "engagement: 30\n", "engagement: 50\n", true},
		{"document name", "name: t\n", "name: another\n", true},
		{"a fit rule", "engagement:\n  half_life", "fit:\n  - {name: vp, field: title, contains: VP, points: 10}\nengagement:\n  half_life", true},
		{"blank lines move the rules", "engagement:\n", "\n\nengagement:\n", true},
		{"points", "points: 40}", "points: 41}", false},
		{"half-life", "half_life: 10d", "half_life: 11d", false},
		{"once", "points: 12, once: true", "points: 12", false},
		{"cap", "per: 7d", "per: 8d", false},
		{"condition", "contains: /pricing", "contains: /plans", false},
		{"rule name", "name: demo,", "name: demos,", false},
		{"fast track", "    - {event: demo_request}", "    - {event: demo_request, within: 2d}", false},
	} {
		doc := strings.Replace(engDoc, tc.old, tc.new, 1)
		if doc == engDoc {
			t.Fatalf("%s: %q not in the document", tc.name, tc.old)
		}
		if got := mustParse(t, doc).EngagementKey() == base; got != tc.same {
			t.Errorf("%s: same key %v, want %v", tc.name, got, tc.same)
		}
	}
}
