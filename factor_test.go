package baton_test

import (
	"math"
	"slices"
	"testing"

	"github.com/batonhq/baton"
)

// TestFactorWords: a factor says its input and the lead's value in plain
// words, from the input's name and value, with the model's split point
// when it has one.
func TestFactorWords(t *testing.T) {
	at := func(x float64) *float64 { return &x }
	for _, c := range []struct {
		feature, value string
		threshold      *float64
		over           bool
		want           string
	}{
		{"events.page_view", "7", nil, false, "7 website page views"},
		{"events.page_view", "1", nil, false, "1 website page view"},
		{"events.email_open", "0", nil, false, "no email opens"},
		{"events.email_open", "(missing)", nil, false, "no email opens"},
		{"events.webinar_attended", "2", nil, false, "2 webinars attended"},
		{"events.form_submit", "1", nil, false, "1 form submitted"},
		{"events.chat_conversation", "1", nil, false, "1 chat conversation event"},
		{"events.chat_conversation", "1200", at(3), true, "1,200 chat conversation events"},
		{"account.employees", "2822", nil, false, "company of 2,822 employees"},
		{"account.employees", "2822", at(1000), true, "company of over 1,000 employees"},
		{"account.employees", "12", at(50), false, "company of at most 50 employees"},
		{"account.employees", "50", at(50), false, "company of 50 employees"},
		{"account.employees", "(missing)", nil, false, "company size not given"},
		{"account.annual_revenue", "2.5e+06", nil, false, "company revenue of 2,500,000"},
		{"account.annual_revenue", "2.5e+06", at(1e6), true, "company revenue over 1,000,000"},
		{"account.annual_revenue", "(missing)", nil, false, "company revenue not given"},
		{"account.industry", "Software", nil, false, "company industry is Software"},
		{"account.industry", "", nil, false, "company industry not given"},
		{"account.country", "France", nil, false, "company based in France"},
		{"email_domain", "gmail.com", nil, false, "email at gmail.com"},
		{"email_domain", "(missing)", nil, false, "no email given"},
		{"source", "webinar", nil, false, "source is webinar"},
		{"title", "(missing)", nil, false, "title not given"},
		{"Lead Source", "Google", nil, false, "Lead Source is Google"},
		{"Total Time Spent on Website", "1532", nil, false, "Total Time Spent on Website: 1,532"},
		{"Total Time Spent on Website", "1532", at(587), true, "Total Time Spent on Website over 587"},
		{"Total Time Spent on Website", "12", at(587), false, "Total Time Spent on Website at most 587"},
		{"Page Views Per Visit", "2.3333333", nil, false, "Page Views Per Visit: 2.33"},
		{"Page Views Per Visit", "2.5", at(2.25), true, "Page Views Per Visit over 2.25"},
		{"Balance", "-1234.5", nil, false, "Balance: -1,234.5"},
		{"Do Not Email", "false", nil, false, "Do Not Email: no"},
		{"Opted In", "true", nil, false, "Opted In: yes"},
		{"Specialization", "(missing)", nil, false, "Specialization not given"},
		{"What is your current occupation", "Unemployed", nil, false, "What is your current occupation is Unemployed"},
	} {
		f := baton.ProbabilityFactor{Feature: c.feature, Value: c.value, Threshold: c.threshold, Over: c.over}
		if got := f.Words(); got != c.want {
			t.Errorf("%s = %s (threshold %v, over %v): %q, want %q", c.feature, c.value, c.threshold, c.over, got, c.want)
		}
	}
}

// TestFeatureFields: a model input tells the fields it reads, and the email
// behind a domain.
func TestFeatureFields(t *testing.T) {
	for _, c := range []struct {
		feature string
		want    []string
	}{
		{"events.page_view", []string{"attributes.events.page_view"}},
		{"account.industry", []string{"attributes.account.industry", "account.industry"}},
		{"source", []string{"attributes.source", "source"}},
		{"email_domain", []string{"attributes.email_domain", "email_domain", "email"}},
		{"Tags", []string{"attributes.Tags"}},
	} {
		if got := baton.FeatureFields(c.feature); !slices.Equal(got, c.want) {
			t.Errorf("FeatureFields(%q) = %v, want %v", c.feature, got, c.want)
		}
	}
}

// TestHideExplanation: the factors and rules on hidden fields are taken
// out of what the viewer reads, and the hidden factors' points are kept in
// a sum, so that what is left still adds up.
func TestHideExplanation(t *testing.T) {
	ex := &baton.ScoreExplanation{
		Reasons: []baton.ScoreReason{{Rule: "Will revert", Axis: "fit", Points: 30, Detail: "attributes.Tags contains revert"},
			{Rule: "VP", Axis: "fit", Points: 20, Detail: "title contains vp"}},
		Factors: []baton.ProbabilityFactor{{Feature: "Tags", Value: "Will revert", PercentPoints: 20},
			{Feature: "source", Value: "web", PercentPoints: 5}, {Feature: "email_domain", Value: "acme.com", PercentPoints: -3},
			{Feature: "events.page_view", Value: "4", PercentPoints: 2}},
	}
	hidden := map[string]bool{"attributes.Tags": true, "email": true}
	ex.Hide(func(f string) bool { return hidden[f] }, map[string]string{"Will revert": "attributes.Tags", "VP": "title"})
	var kept []string
	for _, f := range ex.Factors {
		kept = append(kept, f.Feature)
	}
	if !slices.Equal(kept, []string{"source", "events.page_view"}) || ex.HiddenFactors != 2 || math.Abs(ex.HiddenPercentPoints-17) > 1e-12 {
		t.Errorf("kept %v, hidden %d with %v points; want source and events.page_view, 2 hidden with 17", kept, ex.HiddenFactors, ex.HiddenPercentPoints)
	}
	if ex.Reasons[0].Detail != baton.HiddenDetail || ex.Reasons[0].Points != 30 || ex.Reasons[1].Detail != "title contains vp" {
		t.Errorf("rules %+v", ex.Reasons)
	}
	// Hiding nothing changes nothing.
	ex2 := &baton.ScoreExplanation{Factors: []baton.ProbabilityFactor{{Feature: "Tags", PercentPoints: 1}}}
	ex2.Hide(func(string) bool { return false }, nil)
	if len(ex2.Factors) != 1 || ex2.HiddenFactors != 0 {
		t.Errorf("nothing hidden: %+v", ex2)
	}
}
