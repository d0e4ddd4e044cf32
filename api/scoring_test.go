package api_test

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/storetest"
)

// testPolicy is the test policy shared by every package.
var testPolicy = storetest.Policy

// policyJSON is the request body that carries a policy document.
func policyJSON(doc string) string {
	b, err := json.Marshal(map[string]string{"body": doc})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// badPolicy has three problems: a bad regular expression, a negative half
// life and an unknown field.
var badPolicy = strings.NewReplacer(
	"contains: VP", "regex: '('",
	"half_life: 10d", "half_life: -1d",
	"match: all", "match: all\n  bogus: 1",
).Replace(testPolicy)

// problemsError is an error response with the problems of a policy.
type problemsError struct {
	Error struct {
		Code     string `json:"code"`
		Message  string `json:"message"`
		Field    string `json:"field"`
		Problems []struct {
			Line    int    `json:"line"`
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"problems"`
	} `json:"error"`
}

// wantProblems checks a 400 that lists n problems of the document, each with
// its line, field and message.
func wantProblems(t *testing.T, st int, b []byte, n int) {
	t.Helper()
	if st != 400 {
		t.Fatalf("status %d, want 400: %s", st, b)
	}
	var e problemsError
	decodeJSON(t, b, &e)
	if e.Error.Code != "invalid" || !strings.Contains(e.Error.Message, fmt.Sprintf("%d problems", n)) {
		t.Errorf("error %+v, want %d problems in the message", e.Error, n)
	}
	if len(e.Error.Problems) != n {
		t.Fatalf("%d problems listed, want %d: %s", len(e.Error.Problems), n, b)
	}
	for _, p := range e.Error.Problems {
		if p.Line <= 0 || p.Field == "" || p.Message == "" || strings.Contains(p.Message, "\n") {
			t.Errorf("problem %+v lacks a line, a field or a message", p)
		}
		if !strings.Contains(e.Error.Message, p.Message) {
			t.Errorf("problem %+v is not in the message %q", p, e.Error.Message)
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// TestPolicyFlow drafts, validates, backtests and publishes a policy through
// the API, then scores a lead from events sent through the API.
func TestPolicyFlow(t *testing.T) {
	f := newFixture(t)
	old := f.lead(sdrA, baton.StageNew) // stored before any policy: unscored

	// Before the first publish there is no current policy.
	if st, b := f.do(sdrA, "GET", "/api/v1/policies/current", ""); st != 404 {
		t.Fatalf("current before publish: %d %s", st, b)
	}
	var policies struct {
		Items []baton.PolicyDoc `json:"items"`
		Total int               `json:"total"`
	}
	st, b := f.do(sdrA, "GET", "/api/v1/policies", "")
	decodeJSON(t, b, &policies)
	if st != 200 || policies.Total != 0 || policies.Items == nil {
		t.Fatalf("policies before any: %d %s", st, b)
	}

	// A bad document: every problem, in the message and listed apart.
	st, b = f.do(marketing, "POST", "/api/v1/policies/validate", policyJSON(badPolicy))
	wantProblems(t, st, b, 3)
	st, b = f.do(marketing, "POST", "/api/v1/policies", policyJSON(badPolicy))
	wantProblems(t, st, b, 3)
	st, b = f.do(marketing, "POST", "/api/v1/policies/backtest", policyJSON(badPolicy))
	wantProblems(t, st, b, 3)
	// Bodies that are not documents.
	for _, body := range []string{`{}`, `{"body":"   "}`, `{"body":1}`, `{"yaml":"x"}`} {
		st, b := f.do(marketing, "POST", "/api/v1/policies", body)
		var e apiError
		decodeJSON(t, b, &e)
		if st != 400 || e.Error.Field == "" {
			t.Errorf("POST %s: %d %s, want 400 naming a field", body, st, b)
		}
	}

	// A good one validates, drafts and backtests.
	st, b = f.do(marketing, "POST", "/api/v1/policies/validate", policyJSON(testPolicy))
	if st != 200 || strings.TrimSpace(string(b)) != `{"valid":true}` {
		t.Fatalf("validate: %d %s", st, b)
	}
	st, b = f.do(marketing, "POST", "/api/v1/policies", policyJSON(testPolicy))
	var draft baton.PolicyDoc
	decodeJSON(t, b, &draft)
	if st != 201 || draft.ID == 0 || draft.Version != 0 || draft.Name != "Test policy" || draft.Body != testPolicy || draft.CreatedBy != marketing {
		t.Fatalf("draft: %d %s", st, b)
	}
	st, b = f.do(marketing, "POST", "/api/v1/policies/backtest", policyJSON(testPolicy))
	var bt baton.Backtest
	decodeJSON(t, b, &bt)
	if st != 200 || bt.Leads != 1 || bt.Current.Version != 0 || bt.Sources == nil || bt.Changes == nil {
		t.Fatalf("backtest: %d %s", st, b)
	}

	// Publish: version 1, once.
	path := "/api/v1/policies/" + itoa(draft.ID) + "/publish"
	st, b = f.do(admin, "POST", path, `{"change_note":"first version"}`)
	var pub baton.PolicyDoc
	decodeJSON(t, b, &pub)
	if st != 200 || pub.Version != 1 || !pub.Current || pub.PublishedBy != admin || pub.PublishedAt == nil {
		t.Fatalf("publish: %d %s", st, b)
	}
	if st, b := f.do(admin, "POST", path, `{"change_note":"again"}`); st != 409 {
		t.Fatalf("publish again: %d %s", st, b)
	}
	if st, b := f.do(admin, "POST", "/api/v1/policies/999999/publish", ""); st != 404 {
		t.Fatalf("publish a missing draft: %d %s", st, b)
	}
	st, b = f.do(sdrB, "GET", "/api/v1/policies/current", "")
	var cur baton.PolicyDoc
	decodeJSON(t, b, &cur)
	if st != 200 || cur.ID != draft.ID || cur.Version != 1 || !cur.Current {
		t.Fatalf("current: %d %s", st, b)
	}
	st, b = f.do(sdrB, "GET", "/api/v1/policies/"+itoa(draft.ID), "")
	if decodeJSON(t, b, &cur); st != 200 || cur.Version != 1 || cur.Body != testPolicy {
		t.Fatalf("get policy: %d %s", st, b)
	}
	if st, b := f.do(sdrB, "GET", "/api/v1/policies/999999", ""); st != 404 {
		t.Fatalf("get a missing policy: %d %s", st, b)
	}
	// Another draft lists after the published version.
	if st, b := f.do(marketing, "POST", "/api/v1/policies", policyJSON(strings.Replace(testPolicy, "points: 30", "points: 40", 1))); st != 201 {
		t.Fatalf("second draft: %d %s", st, b)
	}
	st, b = f.do(sdrA, "GET", "/api/v1/policies", "")
	decodeJSON(t, b, &policies)
	if st != 200 || policies.Total != 2 || policies.Items[0].Version != 1 || policies.Items[1].Version != 0 {
		t.Fatalf("policies: %d %s", st, b)
	}

	// Publishing rescores through a job; the status counts the lead stored
	// before as stale until the rescore has run.
	var status baton.RescoreStatus
	st, b = f.do(sdrA, "GET", "/api/v1/scoring/status", "")
	if decodeJSON(t, b, &status); st != 200 || status.PolicyVersion != 1 || status.Stale != 1 {
		t.Fatalf("status before rescore: %d %s", st, b)
	}
	if _, err := f.db.RescoreAll(sys()); err != nil {
		t.Fatal(err)
	}

	// A VP lead, and a plain one, with events through the API.
	owner := f.users[sdrA].ID
	st, b = f.do(admin, "POST", "/api/v1/leads", fmt.Sprintf(`{"email":"vp@bigco.test","title":"VP Sales","source":"web","owner_id":%d}`, owner))
	var vp baton.Lead
	if decodeJSON(t, b, &vp); st != 201 || vp.Score.PolicyVersion != 1 || vp.Score.Fit != 30 {
		t.Fatalf("create lead: %d %s", st, b)
	}
	st, b = f.do(admin, "POST", "/api/v1/leads", fmt.Sprintf(`{"email":"dev@bigco.test","title":"Engineer","source":"web","owner_id":%d}`, owner))
	var dev baton.Lead
	if decodeJSON(t, b, &dev); st != 201 {
		t.Fatalf("create lead: %d %s", st, b)
	}
	at := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	events := fmt.Sprintf(`[
		{"id":"p1","lead_id":%[1]d,"type":"pricing_page_view","occurred_at":%[3]q},
		{"id":"p2","lead_id":%[1]d,"type":"pricing_page_view","occurred_at":%[3]q},
		{"id":"w1","lead_id":%[1]d,"type":"webinar_attended","occurred_at":%[3]q},
		{"id":"w2","lead_id":%[2]d,"type":"webinar_attended","occurred_at":%[3]q}]`, vp.ID, dev.ID, at)
	if st, b := f.do(marketing, "POST", "/api/v1/events", events); st != 200 || !strings.Contains(string(b), `"created":4`) {
		t.Fatalf("events: %d %s", st, b)
	}

	// The score's reasons add up to fit + engagement; the owner reads it, another rep may not.
	st, b = f.do(sdrA, "GET", "/api/v1/leads/"+itoa(vp.ID)+"/score", "")
	var ex baton.ScoreExplanation
	decodeJSON(t, b, &ex)
	if st != 200 || ex.LeadID != vp.ID || ex.Score.PolicyVersion != 1 || ex.Score.Fit != 30 {
		t.Fatalf("score: %d %s", st, b)
	}
	sum := 0.0
	for _, r := range ex.Reasons {
		sum += r.Points
	}
	if !near(sum, ex.Score.Fit+ex.Score.Engagement) || len(ex.Reasons) != 3 {
		t.Fatalf("reasons %+v add up to %v, score %+v", ex.Reasons, sum, ex.Score)
	}
	// 55 points an hour ago, with a 10-day half life.
	if want := 55 * math.Exp2(-1.0/240); math.Abs(ex.Score.Engagement-want) > 0.01 || !ex.Qualifies || ex.Why == "" {
		t.Fatalf("engagement %v (want about %.2f), qualifies %v %q", ex.Score.Engagement, want, ex.Qualifies, ex.Why)
	}
	if ex.Factors != nil || ex.Score.Probability != nil {
		t.Fatalf("factors without a model: %s", b)
	}
	if st, b := f.do(sdrB, "GET", "/api/v1/leads/"+itoa(vp.ID)+"/score", ""); st != 404 {
		t.Fatalf("another rep's lead score: %d %s", st, b)
	}
	if st, b := f.do(admin, "GET", "/api/v1/leads/999999/score", ""); st != 404 {
		t.Fatalf("score of a missing lead: %d %s", st, b)
	}
	st, b = f.do(sdrA, "GET", "/api/v1/leads/"+itoa(old.ID)+"/score", "")
	if decodeJSON(t, b, &ex); st != 200 || ex.Score.PolicyVersion != 1 || ex.Score.Fit != 0 || ex.Reasons == nil {
		t.Fatalf("score of the rescored lead: %d %s", st, b)
	}

	// Sorted lists: the most engaged lead first; fit too.
	for _, c := range []struct {
		sort  string
		first int64
	}{{"engagement", vp.ID}, {"fit", vp.ID}, {"created", dev.ID}, {"probability", dev.ID}} {
		var leads struct {
			Items []baton.Lead `json:"items"`
		}
		st, b := f.do(sdrA, "GET", "/api/v1/leads?sort="+c.sort, "")
		if decodeJSON(t, b, &leads); st != 200 || len(leads.Items) != 3 || leads.Items[0].ID != c.first {
			t.Errorf("sort=%s: %d %s, want lead %d first", c.sort, st, b, c.first)
		}
	}
	st, b = f.do(sdrA, "GET", "/api/v1/leads?sort=name", "")
	var e apiError
	if decodeJSON(t, b, &e); st != 400 || e.Error.Field != "sort" || e.Error.Code != "invalid" {
		t.Fatalf("sort=name: %d %s", st, b)
	}

	st, b = f.do(manager, "GET", "/api/v1/scoring/status", "")
	if decodeJSON(t, b, &status); st != 200 || status.PolicyVersion != 1 || status.Leads != 3 || status.Current != 3 || status.Stale != 0 {
		t.Fatalf("status: %d %s", st, b)
	}
}

// TestModelFlow trains a model through the API: refused with too few known
// outcomes, then trained on 60 leads whose "Converted" attribute follows a
// signal attribute; the lead scores then carry a probability and its factors.
func TestModelFlow(t *testing.T) {
	f := newFixture(t)
	st, b := f.do(marketing, "POST", "/api/v1/models/train", "")
	var e apiError
	if decodeJSON(t, b, &e); st != 400 || e.Error.Code != "invalid" || !strings.Contains(e.Error.Message, "at least 20 are needed") {
		t.Fatalf("train with no outcomes: %d %s", st, b)
	}
	for _, c := range []struct{ body, field string }{
		{`{"holdout":2}`, "holdout"},
		{`{"holdout":0}`, "holdout"},
		{`{"seed":-1}`, "seed"},
		{`{"force":"yes"}`, "force"},
		{`{"epochs":3}`, "epochs"},
	} {
		st, b := f.do(admin, "POST", "/api/v1/models/train", c.body)
		if decodeJSON(t, b, &e); st != 400 || e.Error.Field != c.field {
			t.Errorf("train %s: %d %s, want 400 on field %s", c.body, st, b, c.field)
		}
	}
	if st, b := f.do(marketing, "POST", "/api/v1/models/1/activate", ""); st != 404 {
		t.Fatalf("activate a missing model: %d %s", st, b)
	}
	if st, b := f.do(marketing, "POST", "/api/v1/models/x/activate", ""); st != 400 || !strings.Contains(string(b), `"field":"version"`) {
		t.Fatalf("activate model x: %d %s", st, b)
	}
	if _, err := f.db.PublishDocument(sys(), testPolicy); err != nil {
		t.Fatal(err)
	}

	// One lead in three converted, and those have a high intent.
	var ids []int64
	for i := range 60 {
		converted, intent := 0.0, float64(10+i%7)
		if i%3 == 0 {
			converted, intent = 1, float64(60+i%7)
		}
		// A few exceptions, so that the classes overlap.
		if i%10 == 1 {
			intent = 65
		}
		l := &baton.Lead{Email: fmt.Sprintf("m%d@co%d.test", i, i), Source: "web",
			Attrs: baton.Attrs{"Converted": converted, "Intent": intent}}
		if err := f.db.CreateLead(sys(), l); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, l.ID)
	}
	st, b = f.do(marketing, "POST", "/api/v1/models/train", `{"holdout":0.25,"seed":7}`)
	var rep baton.TrainReport
	if decodeJSON(t, b, &rep); st != 200 || rep.Version != 1 || !rep.Activated || rep.Rows+rep.Holdout != 60 || rep.New.N != rep.Holdout || rep.Why == "" {
		t.Fatalf("train: %d %s", st, b)
	}
	var models struct {
		Items []baton.ModelInfo `json:"items"`
		Total int               `json:"total"`
	}
	st, b = f.do(sdrA, "GET", "/api/v1/models", "")
	if decodeJSON(t, b, &models); st != 200 || models.Total != 1 || !models.Items[0].Active || len(models.Items[0].Metrics) < 2 {
		t.Fatalf("models: %d %s", st, b)
	}
	// Activation rescores through a job; run it all now.
	if _, err := f.db.RescoreAll(sys()); err != nil {
		t.Fatal(err)
	}
	st, b = f.do(admin, "GET", "/api/v1/scoring/status", "")
	var status baton.RescoreStatus
	if decodeJSON(t, b, &status); st != 200 || status.ModelVersion != 1 || status.PolicyVersion != 1 || status.Stale != 0 || status.Leads != 60 {
		t.Fatalf("status: %d %s", st, b)
	}

	// A lead's score carries the probability and factors that add up to its log-odds.
	st, b = f.do(marketing, "GET", "/api/v1/leads/"+itoa(ids[0])+"/score", "")
	var ex baton.ScoreExplanation
	decodeJSON(t, b, &ex)
	if st != 200 || ex.Score.Probability == nil || ex.Score.ModelVersion != 1 || len(ex.Factors) == 0 {
		t.Fatalf("score with a model: %d %s", st, b)
	}
	p := *ex.Score.Probability
	sum := ex.BaseLogOdds
	for _, fa := range ex.Factors {
		sum += fa.Contribution
	}
	if p <= 0 || p >= 1 || math.Abs(sum-math.Log(p/(1-p))) > 1e-6 {
		t.Fatalf("probability %v, log-odds %v, factors add up to %v: %s", p, math.Log(p/(1-p)), sum, b)
	}
	// In percentage points they add up to the probability less the base.
	if points := explainedPoints(ex); math.Abs(points-100*p) > 1e-6 || ex.BaseProbability <= 0 || ex.HiddenFactors != 0 {
		t.Fatalf("base %v%% and factors add up to %v%%, probability %v%%: %s", 100*ex.BaseProbability, points, 100*p, b)
	}
	signal := false
	for _, fa := range ex.Factors {
		if fa.Text == "" || fa.Text != fa.Words() {
			t.Fatalf("factor %+v: text %q, want %q", fa, fa.Text, fa.Words())
		}
		signal = signal || fa.Feature == "Intent" && strings.HasPrefix(fa.Text, "Intent ")
	}
	if !signal {
		t.Fatalf("no factor on Intent, the signal: %s", b)
	}

	// The list sorted by probability is highest first.
	var leads struct {
		Items []baton.Lead `json:"items"`
	}
	st, b = f.do(marketing, "GET", "/api/v1/leads?sort=probability&limit=100", "")
	if decodeJSON(t, b, &leads); st != 200 || len(leads.Items) != 60 {
		t.Fatalf("sort=probability: %d %s", st, b)
	}
	for i, l := range leads.Items {
		if l.Score.Probability == nil {
			t.Fatalf("lead %d has no probability", l.ID)
		}
		if i > 0 && *l.Score.Probability > *leads.Items[i-1].Score.Probability {
			t.Fatalf("not sorted by probability at %d", i)
		}
	}

	// Activating the active model again is allowed; reps may not.
	st, b = f.do(admin, "POST", "/api/v1/models/1/activate", "")
	var info baton.ModelInfo
	if decodeJSON(t, b, &info); st != 200 || info.Version != 1 || !info.Active {
		t.Fatalf("activate: %d %s", st, b)
	}
	if st, b := f.do(sdrA, "POST", "/api/v1/models/1/activate", ""); st != 403 {
		t.Fatalf("a rep activates: %d %s", st, b)
	}

	// Hidden from sales, Intent is in no rep's explanation of their lead:
	// not as a factor, nor in the condition of the rule that reads it; its
	// points are summed apart, so that the rest still adds up. Marketing
	// still reads it.
	hidden := testPolicy + "hidden_from_reps: [attributes.Intent]\n"
	hidden = strings.Replace(hidden, "fit:\n", "fit:\n  - {name: Keen, field: attributes.Intent, range: {min: 50}, points: 5}\n", 1)
	if _, err := f.db.PublishDocument(sys(), hidden); err != nil {
		t.Fatal(err)
	}
	mine := f.lead(sdrA, baton.StageNew)
	if _, err := f.db.UpdateLead(sys(), mine.ID, baton.LeadUpdate{Attrs: baton.Attrs{"Intent": 63.0}}); err != nil {
		t.Fatal(err)
	}
	lead := "/api/v1/leads/" + itoa(mine.ID) + "/score"
	st, b = f.do(marketing, "GET", lead, "")
	var full baton.ScoreExplanation
	intent := -1
	if decodeJSON(t, b, &full); st == 200 {
		for i, fa := range full.Factors {
			if fa.Feature == "Intent" {
				intent = i
			}
		}
	}
	if intent < 0 || !strings.Contains(string(b), "attributes.Intent") || full.Score.Probability == nil {
		t.Fatalf("marketing's explanation lacks Intent: %d %s", st, b)
	}
	p = *full.Score.Probability
	st, b = f.do(sdrA, "GET", lead, "")
	var sales baton.ScoreExplanation
	if decodeJSON(t, b, &sales); st != 200 || sales.Score.Probability == nil || *sales.Score.Probability != p {
		t.Fatalf("a rep's explanation: %d %s", st, b)
	}
	if strings.Contains(string(b), "Intent") || strings.Contains(string(b), "attributes.") || sales.HiddenFactors != 1 ||
		math.Abs(sales.HiddenPercentPoints-full.Factors[intent].PercentPoints) > 1e-9 || len(sales.Factors) != len(full.Factors)-1 {
		t.Fatalf("a rep reads the hidden Intent: %s", b)
	}
	if points := explainedPoints(sales) + sales.HiddenPercentPoints; math.Abs(points-100*p) > 1e-6 {
		t.Fatalf("a rep's factors and the hidden ones add up to %v%%, probability %v%%: %s", points, 100*p, b)
	}
	keen := false
	for _, r := range sales.Reasons {
		keen = keen || r.Rule == "Keen" && r.Detail == baton.HiddenDetail && r.Points == 5
	}
	if !keen {
		t.Fatalf("the rule on Intent, for a rep: %s", b)
	}
}

// TestPolicySize: a policy document of up to policy.MaxSize bytes is
// accepted, even when its JSON form is larger; a larger one is 413.
func TestPolicySize(t *testing.T) {
	f := newFixture(t)
	pad := func(size int) string {
		var sb strings.Builder
		sb.WriteString(testPolicy)
		line := "# \"quoted\" padding, escaped in JSON\n"
		for sb.Len()+len(line) <= size {
			sb.WriteString(line)
		}
		for sb.Len() < size {
			sb.WriteString("\n")
		}
		return sb.String()
	}
	doc := pad(policy.MaxSize)
	body := policyJSON(doc)
	if len(doc) != policy.MaxSize || len(body) <= policy.MaxSize {
		t.Fatalf("document %d bytes, body %d", len(doc), len(body))
	}
	if st, b := f.do(marketing, "POST", "/api/v1/policies/validate", body); st != 200 {
		t.Fatalf("validate %d bytes: %d %.300s", len(doc), st, b)
	}
	st, b := f.do(marketing, "POST", "/api/v1/policies", body)
	var d baton.PolicyDoc
	if decodeJSON(t, b, &d); st != 201 || len(d.Body) != policy.MaxSize {
		t.Fatalf("draft %d bytes: %d %.300s", len(doc), st, b)
	}
	st, b = f.do(marketing, "POST", "/api/v1/policies/validate", policyJSON(pad(policy.MaxSize+1)))
	var e apiError
	if decodeJSON(t, b, &e); st != 413 || e.Error.Field != "body" {
		t.Fatalf("validate %d bytes: %d %s", policy.MaxSize+1, st, b)
	}
	if st, b := f.do(marketing, "POST", "/api/v1/policies/validate", `{"body":"`+strings.Repeat("#", 5<<20)+`"}`); st != 413 {
		t.Fatalf("a 5 MiB body: %d %.300s", st, b)
	}
}

// explainedPoints is where an explanation's factors take the probability,
// in percent: the base plus every factor's points.
func explainedPoints(ex baton.ScoreExplanation) float64 {
	points := 100 * ex.BaseProbability
	for _, f := range ex.Factors {
		points += f.PercentPoints
	}
	return points
}
