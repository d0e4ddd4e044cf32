package policy

import (
	"slices"
	"strings"
	"testing"
)

// hiddenDoc is a small valid policy with a hidden_from_reps list.
func hiddenDoc(list string) string {
	return "name: t\n" + okFit + "mql: {fit: 10}\nhidden_from_reps: " + list + "\n"
}

func TestHiddenFromReps(t *testing.T) {
	p, err := Check([]byte(hiddenDoc("[attributes.City, phone, account.industry]")), testSchema)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"attributes.City", "phone", "account.industry"}; !slices.Equal(p.HiddenFromReps, want) {
		t.Fatalf("hidden %v, want %v", p.HiddenFromReps, want)
	}
	for f, want := range map[string]bool{"attributes.City": true, "phone": true, "account.industry": true,
		"attributes.Visits": false, "email": false, "attributes.city": false} {
		if got := p.HidesFromReps(f); got != want {
			t.Errorf("HidesFromReps(%q) = %v", f, got)
		}
	}
	// No list: nothing is hidden.
	p, err = Parse([]byte("name: t\n" + okFit + "mql: {fit: 10}\n"))
	if err != nil || len(p.HiddenFromReps) != 0 || p.HidesFromReps("attributes.City") {
		t.Fatalf("without a list: %v %v", p.HiddenFromReps, err)
	}
}

func TestHiddenFromRepsProblems(t *testing.T) {
	for _, tc := range []struct {
		name, list, field, msg string
		line                   int
	}{
		{"not a list", "attributes.City", "hidden_from_reps", "expected a list", 8},
		{"unknown field", "[job_title]", "hidden_from_reps[0]", `unknown field "job_title"`, 8},
		{"attributes without a name", "[attributes.]", "hidden_from_reps[0]", "unknown field", 8},
		{"empty entry", "['']", "hidden_from_reps[0]", "the name of a field", 8},
		{"a mapping, not a name", "[{field: phone}]", "hidden_from_reps[0]", "the name of a field", 8},
		{"twice", "\n  - phone\n  - attributes.City\n  - phone", "hidden_from_reps[2]", "phone is listed twice (first on line 9)", 11},
		{"no such attribute", "[attributes.Lead Quality]", "hidden_from_reps[0]", `no lead has the attribute "Lead Quality"`, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Check([]byte(hiddenDoc(tc.list)), testSchema)
			ve, ok := err.(*ValidationError)
			if !ok {
				t.Fatalf("got %v, want a ValidationError", err)
			}
			for _, pr := range ve.Problems {
				if pr.Field == tc.field && strings.Contains(pr.Message, tc.msg) {
					if pr.Line != tc.line {
						t.Errorf("line %d, want %d", pr.Line, tc.line)
					}
					return
				}
			}
			t.Fatalf("no problem at %s saying %q: %v", tc.field, tc.msg, ve.Problems)
		})
	}
	// An attribute the schema lacks is a problem of Validate only: Parse
	// alone cannot tell.
	if _, err := Parse([]byte(hiddenDoc("[attributes.Lead Quality]"))); err != nil {
		t.Fatalf("parse: %v", err)
	}
}

// TestDefaultHidesOutcomes: the shipped policy hides from sales the X
// Education columns filled in after contact, and the outcome.
func TestDefaultHidesOutcomes(t *testing.T) {
	p := Default()
	for _, a := range []string{"Tags", "Lead Quality", "Lead Profile", "Last Notable Activity", "Asymmetrique Activity Index",
		"Asymmetrique Profile Index", "Asymmetrique Activity Score", "Asymmetrique Profile Score", "Converted"} {
		if !p.HidesFromReps("attributes." + a) {
			t.Errorf("the default policy shows %s to reps", a)
		}
	}
	if p.HidesFromReps("attributes.What is your current occupation") {
		t.Error("the default policy hides a field known before contact")
	}
	// Every hidden column is one the demo leads have (TestDefaultPolicy
	// checks the whole document against their schema).
	s := demoSchema(t)
	for _, f := range p.HiddenFromReps {
		if _, ok := s.Attributes[strings.TrimPrefix(f, attrPrefix)]; !ok {
			t.Errorf("%s: no demo lead has it", f)
		}
	}
}
