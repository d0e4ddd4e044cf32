package web

import (
	"slices"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
)

// TestScoreOfFactors: the page shows the three factors that move the
// probability most, in the words and percentage points of the explanation;
// those on fields hidden from sales count in the probability but are not
// named, and the rules that read one keep their points but not their
// condition.
func TestScoreOfFactors(t *testing.T) {
	explanation := func() *baton.ScoreExplanation {
		return &baton.ScoreExplanation{BaseProbability: 0.2,
			Reasons: []baton.ScoreReason{{Rule: "Will revert", Axis: policy.AxisFit, Points: 30, Detail: "attributes.Tags contains revert"}},
			Factors: []baton.ProbabilityFactor{
				{Feature: "Tags", Text: "Tags is Will revert", PercentPoints: 30.04},
				{Feature: "source", Text: "source is Google", PercentPoints: 11.44},
				{Feature: "Specialization", Text: "Specialization not given", PercentPoints: -8},
				{Feature: "events.page_view", Text: "3 website page views", PercentPoints: 4.2},
				{Feature: "account.industry", Text: "company industry is software", PercentPoints: 2},
				{Feature: "Do Not Email", Text: "Do Not Email: no", PercentPoints: 0.04},
			}}
	}
	words := func(v *scoreView) []string {
		var out []string
		for _, r := range v.Factors {
			out = append(out, r.Signed()+" "+r.Words)
		}
		return out
	}
	v := scoreOf(explanation(), hiding{}, 0)
	if want := []string{"+30% Tags is Will revert", "+11.4% source is Google", "−8% Specialization not given"}; !slices.Equal(words(v), want) ||
		v.Unnamed != 0 {
		t.Fatalf("factors %v (hidden %d), want %v", words(v), v.Unnamed, want)
	}
	if !v.Factors[0].Raises() || v.Factors[2].Raises() {
		t.Fatalf("signs: %v", words(v))
	}
	pol, err := policy.Parse([]byte("name: t\nfit:\n  - {name: Will revert, field: attributes.Tags, contains: revert, points: 30}\nmql: {fit: 10}\nhidden_from_reps: [attributes.Tags, account.industry]\n"))
	if err != nil {
		t.Fatal(err)
	}
	v = scoreOf(explanation(), hiding{p: pol, ruleField: map[string]string{"Will revert": "attributes.Tags"}}, 0)
	if want := []string{"+11.4% source is Google", "−8% Specialization not given", "+4.2% 3 website page views"}; !slices.Equal(words(v), want) || v.Unnamed != 2 {
		t.Fatalf("factors for sales %v (hidden %d), want %v", words(v), v.Unnamed, want)
	}
	if len(v.Fit) != 1 || v.Fit[0].Detail != baton.HiddenDetail || v.Fit[0].Points != 30 {
		t.Fatalf("a rule on a hidden field: %+v", v.Fit)
	}
	if v := scoreOf(&baton.ScoreExplanation{}, hiding{}, 0); v.Factors != nil {
		t.Fatalf("no model: %v", v.Factors)
	}
}

func TestContactLinks(t *testing.T) {
	for _, c := range []struct {
		email, phone string
		mail, tel    string
	}{
		{"ann@example.com", "+1 (555) 010-2000", "mailto:ann@example.com", "tel:+15550102000"},
		{"a+b@example.com", "ext. 12", "mailto:a+b@example.com", ""},
		{"", "javascript:alert(1)", "", ""},
		{"x?cc=evil@example.com", "0800 123", "", "tel:0800123"},
	} {
		got := contactOf(&baton.Lead{Email: c.email, Phone: c.phone})
		if string(got.Mail) != c.mail || string(got.Tel) != c.tel {
			t.Errorf("contactOf(%q, %q) = %q, %q; want %q, %q", c.email, c.phone, got.Mail, got.Tel, c.mail, c.tel)
		}
	}
}

// TestStageBar: a won lead has every step done to won; a disqualified one
// that never got past mql shows mql done and its exit current.
func TestStageBar(t *testing.T) {
	states := func(b stageBar) []string {
		var out []string
		for _, s := range b.Steps {
			out = append(out, s.Label+":"+s.State)
		}
		for _, s := range b.Exits {
			out = append(out, s.Label+":"+s.State)
		}
		return out
	}
	won := stageBarOf(&baton.Lead{Stage: baton.StageWon}, nil)
	if want := []string{"new:done", "mql:done", "sal:done", "sql:done", "opportunity:done", "won:current", "recycled:todo", "disqualified:todo"}; !slices.Equal(states(won), want) {
		t.Errorf("won: %v", states(won))
	}
	lost := stageBarOf(&baton.Lead{Stage: baton.StageLost}, nil)
	if got := states(lost); got[5] != "lost:current" {
		t.Errorf("lost: %v", got)
	}
	hist := []baton.HistoryEntry{{Action: baton.ActionStage, From: "new", To: "mql"}, {Action: baton.ActionNote}, {Action: baton.ActionStage, From: "mql", To: "disqualified"}}
	dq := stageBarOf(&baton.Lead{Stage: baton.StageDisqualified}, hist)
	if want := []string{"new:done", "mql:done", "sal:todo", "sql:todo", "opportunity:todo", "won / lost:todo", "recycled:todo", "disqualified:current"}; !slices.Equal(states(dq), want) || dq.From != baton.StageMQL {
		t.Errorf("disqualified: %v from %s", states(dq), dq.From)
	}
}
