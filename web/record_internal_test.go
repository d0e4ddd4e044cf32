package web

import (
	"math"
	"slices"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
)

// TestTopFactors: the model's log-odds become percentage points of
// probability, the largest first, at most n, in plain words; hidden
// inputs count in the probability but are not named.
func TestTopFactors(t *testing.T) {
	ex := &baton.ScoreExplanation{BaseLogOdds: -1, Factors: []baton.ProbabilityFactor{
		{Feature: "source", Value: "Google", Contribution: 0.9},
		{Feature: "events.page_view", Value: "3", Contribution: 0.4},
		{Feature: "Specialization", Value: "(missing)", Contribution: -0.8},
		{Feature: "Tags", Value: "Will revert", Contribution: 2.5},
		{Feature: "account.industry", Value: "software", Contribution: 0.2},
		{Feature: "Do Not Email", Value: "false", Contribution: 0.0001},
	}}
	// The probability: sigmoid(-1 + 3.2001) = 0.9003; without source,
	// sigmoid(1.3001) = 0.7858: +11.4 points.
	rows, hidden := topFactors(ex, hiding{}, 3)
	want := []string{"Tags is Will revert", "source is Google", "Specialization not given"}
	var got []string
	for _, r := range rows {
		got = append(got, r.Words)
	}
	if !slices.Equal(got, want) || hidden != 0 {
		t.Fatalf("factors %v (hidden %d), want %v", got, hidden, want)
	}
	p := sigmoid(2.2001)
	if d := rows[1].Points - 100*(p-sigmoid(2.2001-0.9)); math.Abs(d) > 1e-9 || rows[1].Signed() != "+11.4" {
		t.Fatalf("source: %v points (%s)", rows[1].Points, rows[1].Signed())
	}
	if rows[2].Points >= 0 || rows[2].Raises() || rows[2].Signed()[:len("−")] != "−" {
		t.Fatalf("a factor that lowers the probability: %+v %s", rows[2], rows[2].Signed())
	}
	// Hidden from sales: Tags is left out, and counted.
	pol, err := policy.Parse([]byte("name: t\nfit:\n  - {name: VP, field: title, contains: vp, points: 50}\nmql: {fit: 10}\nhidden_from_reps: [attributes.Tags, account.industry]\n"))
	if err != nil {
		t.Fatal(err)
	}
	rows, hidden = topFactors(ex, hiding{p: pol}, 5)
	got = nil
	for _, r := range rows {
		got = append(got, r.Words)
	}
	if want := []string{"source is Google", "Specialization not given", "3 page view events"}; !slices.Equal(got, want) || hidden != 2 {
		t.Fatalf("factors for sales %v (hidden %d), want %v", got, hidden, want)
	}
	if rows, _ := topFactors(&baton.ScoreExplanation{}, hiding{}, 5); rows != nil {
		t.Fatalf("no model: %v", rows)
	}
}

func TestFactorWords(t *testing.T) {
	for _, c := range []struct{ feature, value, want string }{
		{"events.pricing_page_view", "1", "1 pricing page view event"},
		{"events.email_open", "0", "no email open events"},
		{"events.email_open", "(missing)", "no email open events"},
		{"email_domain", "gmail.com", "email domain is gmail.com"},
		{"account.annual_revenue", "(missing)", "account annual revenue not given"},
		{"What is your current occupation", "Unemployed", "What is your current occupation is Unemployed"},
	} {
		if got := factorWords(c.feature, c.value); got != c.want {
			t.Errorf("factorWords(%q, %q) = %q, want %q", c.feature, c.value, got, c.want)
		}
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
