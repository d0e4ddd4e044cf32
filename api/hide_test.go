package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// TestHiddenFromSales: the fields the policy in force hides from sales
// (here a post-contact field and the outcome; hidden_from_reps works the
// same) are in no answer of the API to a development rep or
// their manager, whether they read the lead, list leads, their queue, the
// timeline or the history, or make a move; marketing and admins read
// them.
func TestHiddenFromSales(t *testing.T) {
	f := newFixture(t)
	l := f.routedMQL(sdrA)
	tags, industry := "Will revert after reading the email", "Software"
	if _, err := f.db.UpdateLead(sys(), l.ID, baton.LeadUpdate{Attrs: baton.Attrs{"Tags": tags, "Converted": true, "Industry": industry}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.PublishDocument(sys(), testPolicy+"post_contact: [attributes.Tags]\noutcome: attributes.Converted\n"); err != nil {
		t.Fatal(err)
	}
	lead := fmt.Sprintf("/api/v1/leads/%d", l.ID)
	for _, c := range []struct {
		caller, method, path string
		hides                bool
	}{
		{sdrA, "GET", lead, true},
		{sdrA, "GET", "/api/v1/leads?limit=100", true},
		{sdrA, "GET", "/api/v1/queue", true},
		{sdrA, "GET", lead + "/timeline", true},
		{sdrA, "GET", lead + "/history", true},
		{manager, "GET", lead, true},
		{manager, "GET", lead + "/history", true},
		{marketing, "GET", lead, false},
		{marketing, "GET", lead + "/history", false},
		{admin, "GET", lead + "/timeline", false},
		// A move answers the lead, as the caller may see it.
		{sdrA, "POST", lead + "/accept", true},
	} {
		st, body := f.do(c.caller, c.method, c.path, "")
		if st != 200 {
			t.Fatalf("%s %s %s: %d %s", c.caller, c.method, c.path, st, body)
		}
		if !json.Valid(body) {
			t.Fatalf("%s %s: not JSON: %s", c.caller, c.path, body)
		}
		text := string(body)
		if !strings.Contains(text, industry) {
			t.Errorf("%s %s %s: the visible attribute Industry is missing: %s", c.caller, c.method, c.path, text)
		}
		if !c.hides {
			if !strings.Contains(text, tags) {
				t.Errorf("%s %s %s: Tags is missing: %s", c.caller, c.method, c.path, text)
			}
			continue
		}
		for _, hidden := range []string{tags, `"Converted"`, "attributes.Tags"} {
			if strings.Contains(text, hidden) {
				t.Errorf("%s %s %s: shows %s: %s", c.caller, c.method, c.path, hidden, text)
			}
		}
	}
}
