package api_test

import (
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// TestReportCSVSafeToOpen: a campaign named like a formula is text in a
// report's CSV.
func TestReportCSVSafeToOpen(t *testing.T) {
	f := newFixture(t)
	if err := f.db.CreateLead(sys(), &baton.Lead{Email: "mallory@example.com", Campaign: "@SUM(A1:A9)", Source: "=1+1"}); err != nil {
		t.Fatal(err)
	}
	for _, by := range []string{"campaign", "source"} {
		st, body := f.do(admin, "GET", "/api/v1/reports/funnel?format=csv&by="+by, "")
		if st != 200 {
			t.Fatalf("%s: %d %s", by, st, body)
		}
		if s := string(body); strings.Contains(s, "\n@SUM") || strings.Contains(s, "\n=1+1") || !strings.Contains(s, "\n'") {
			t.Errorf("by %s, a formula in the CSV:\n%s", by, s)
		}
	}
}
