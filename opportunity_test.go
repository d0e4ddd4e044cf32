package baton_test

import (
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// TestLostReason: a reason of the list, other with its note, a note kept
// with any reason; each refusal names its field.
func TestLostReason(t *testing.T) {
	for _, c := range []struct{ reason, note, want, field string }{
		{"price", "", "price", ""},
		{" competitor ", " went with Contoso ", "competitor: went with Contoso", ""},
		{"no_decision", "", "no_decision", ""},
		{"other", "  ", "", "note"},
		{"other", "in-house build", "other: in-house build", ""},
		{"", "", "", "reason"},
		{"bad_luck", "", "", "reason"},
		{"timing", strings.Repeat("x", 500), "", "note"},
	} {
		got, err := baton.LostReason(c.reason, c.note)
		if got != c.want || baton.ErrorField(err) != c.field || (err == nil) != (c.field == "") {
			t.Errorf("LostReason(%q, %q) = %q, %v; want %q, field %q", c.reason, c.note, got, err, c.want, c.field)
		}
	}
}

// TestOpportunityUpdate: a name is required when given, an amount is not
// negative, an expected close is a day from today on (UTC).
func TestOpportunityUpdate(t *testing.T) {
	now := time.Date(2026, 3, 2, 23, 30, 0, 0, time.UTC)
	s := func(v string) *string { return &v }
	f := func(v float64) *float64 { return &v }
	day := func(y int, m time.Month, d, h int) *time.Time {
		t := time.Date(y, m, d, h, 0, 0, 0, time.UTC)
		return &t
	}
	for _, c := range []struct {
		name  string
		u     baton.OpportunityUpdate
		field string
	}{
		{"nothing", baton.OpportunityUpdate{}, ""},
		{"all", baton.OpportunityUpdate{Name: s(" Deal "), Amount: f(0), Product: s(" GTX Pro "), ExpectedClose: day(2026, 3, 2, 9)}, ""},
		{"empty name", baton.OpportunityUpdate{Name: s("  ")}, "name"},
		{"negative amount", baton.OpportunityUpdate{Amount: f(-1)}, "amount"},
		{"yesterday", baton.OpportunityUpdate{ExpectedClose: day(2026, 3, 1, 23)}, "expected_close"},
	} {
		err := c.u.Validate(now)
		if baton.ErrorField(err) != c.field || (err == nil) != (c.field == "") {
			t.Errorf("%s: %v", c.name, err)
		}
		if c.name == "all" && (*c.u.Name != "Deal" || *c.u.Product != "GTX Pro" || !c.u.ExpectedClose.Equal(*day(2026, 3, 2, 0))) {
			t.Errorf("not normalised: %q %q %v", *c.u.Name, *c.u.Product, c.u.ExpectedClose)
		}
	}
}
