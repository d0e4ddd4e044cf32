package baton_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// eventTypeRE is the rule ValidEventType checks by hand.
var eventTypeRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

func TestValidEventType(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"page_view", true},
		{"a", true},
		{"demo_request2", true},
		{"x" + strings.Repeat("_", 63), true},
		{"x" + strings.Repeat("_", 64), false},
		{"", false},
		{"Page_view", false},
		{"2fa_enabled", false},
		{"_view", false},
		{"page-view", false},
		{"page view", false},
		{"pagé", false},
		{"page_view\n", false},
	} {
		if got := baton.ValidEventType(c.in); got != c.want {
			t.Errorf("ValidEventType(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

// FuzzValidEventType checks the hand-written test against the rule's
// regular expression.
func FuzzValidEventType(f *testing.F) {
	for _, s := range []string{"page_view", "", "A", "a-b", "a" + strings.Repeat("b", 63), "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := baton.ValidEventType(s), eventTypeRE.MatchString(s); got != want {
			t.Errorf("ValidEventType(%q) = %v, the rule says %v", s, got, want)
		}
	})
}
