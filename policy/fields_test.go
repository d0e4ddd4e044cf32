package policy

import (
	"slices"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// TestFieldsByAudience: post-contact fields and the outcome are hidden from
// sales like hidden_from_reps, and are never features; a field hidden for
// privacy only may be one.
func TestFieldsByAudience(t *testing.T) {
	doc := "name: t\n" + okFit + "mql: {fit: 10}\n" +
		"hidden_from_reps: [phone]\npost_contact: [attributes.City]\noutcome: attributes.Visits\n"
	p, err := Check([]byte(doc), testSchema)
	if err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]bool{"phone": true, "attributes.City": true, "attributes.Visits": true, "attributes.Do Not Email": false, "email": false} {
		if got := p.HidesFromReps(f); got != want {
			t.Errorf("HidesFromReps(%q) = %v, want %v", f, got, want)
		}
	}
	if got, want := p.NotFeatures(), []string{"City", "Visits"}; !slices.Equal(got, want) {
		t.Errorf("NotFeatures() = %v, want %v", got, want)
	}
	if got := p.OutcomeAttribute(); got != "Visits" {
		t.Errorf("OutcomeAttribute() = %q", got)
	}
	l := p.VisibleLead(&baton.Lead{Phone: "555", Attrs: baton.Attrs{"City": "Pune", "Visits": 1.0, "Do Not Email": true}})
	if l.Phone != "" || len(l.Attrs) != 1 || l.Attrs["Do Not Email"] != true {
		t.Errorf("visible lead %+v", l)
	}
}

func TestFieldsByAudienceProblems(t *testing.T) {
	base := "name: t\nmql: {fit: 10}\n"
	for _, tc := range []struct {
		name, doc, field, msg string
	}{
		{"outcome not an attribute", okFit + "outcome: title\n", "outcome", "expected the custom attribute"},
		{"post_contact not a list", okFit + "post_contact: attributes.City\n", "post_contact", "expected a list"},
		{"post_contact misspelt", okFit + "post_contact: [attributes.Cty]\n", "post_contact[0]", "does not declare it"},
		{"rule on a post-contact field", "fit:\n  - {name: From Pune, field: attributes.City, equals: Pune, points: 5}\npost_contact: [attributes.City]\n", "fit[0].field", "known only after contact"},
		{"rule on the outcome", "fit:\n  - {name: Won, field: attributes.Visits, range: {min: 1}, points: 5}\noutcome: attributes.Visits\n", "fit[0].field", "known only after contact"},
		{"declared type contradicts", okFit + "attributes: {City: number}\n", "attributes.City", "already have"},
		{"declared type unknown", okFit + "attributes: {Budget: money}\n", "attributes.Budget", "unknown type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Check([]byte(base+tc.doc), testSchema)
			ve, ok := err.(*ValidationError)
			if !ok {
				t.Fatalf("err = %v, want a ValidationError", err)
			}
			for _, pr := range ve.Problems {
				if pr.Field == tc.field && strings.Contains(pr.Message, tc.msg) {
					return
				}
			}
			t.Errorf("problems %v, want %s: ...%s...", ve.Problems, tc.field, tc.msg)
		})
	}
}

// TestDeclaredAttributes: a policy that declares the attributes it expects
// validates on a schema that has none of them, and says which it would
// define; the default policy does so on an empty schema.
func TestDeclaredAttributes(t *testing.T) {
	doc := "name: t\nmql: {fit: 10}\nattributes: {Budget: number, City: string}\n" +
		"fit:\n  - {name: Big budget, field: attributes.Budget, range: {min: 1000}, points: 15}\n"
	p, err := Check([]byte(doc), testSchema)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Undeclared(testSchema); len(got) != 1 || got[0] != (baton.AttributeDef{Name: "Budget", Type: baton.AttrNumber}) {
		t.Errorf("Undeclared = %v", got)
	}
	empty := Schema{}
	p, err = Check(DefaultDocument(), empty)
	if err != nil {
		t.Fatalf("the default policy on an empty database: %v", err)
	}
	if len(p.Undeclared(empty)) == 0 || p.OutcomeAttribute() != "Converted" || !slices.Contains(p.NotFeatures(), "Tags") {
		t.Errorf("default policy: undeclared %v, outcome %q, not features %v", p.Undeclared(empty), p.OutcomeAttribute(), p.NotFeatures())
	}
}
