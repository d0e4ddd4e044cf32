package baton_test

import (
	"os"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// TestREADMEHasTheRules: the README's copy of the lifecycle table is the
// code's, so that the contract people read is the one Baton enforces.
func TestREADMEHasTheRules(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- rules -->\n")
	doc, _, ok2 := strings.Cut(rest, "<!-- /rules -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no <!-- rules --> section")
	}
	if doc != baton.RulesMarkdown() {
		t.Fatalf("README.md's lifecycle table differs from baton.Rules; replace it with:\n%s", baton.RulesMarkdown())
	}
}
