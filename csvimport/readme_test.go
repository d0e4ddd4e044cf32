package csvimport

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEHasTheStageTables: the README's stage tables are the code's.
func TestREADMEHasTheStageTables(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- crm-stages -->\n")
	doc, _, ok2 := strings.Cut(rest, "<!-- /crm-stages -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no <!-- crm-stages --> section")
	}
	if doc != StageTablesMarkdown() {
		t.Fatalf("README.md's CRM stage tables differ from the code's; replace them with:\n%s", StageTablesMarkdown())
	}
}
