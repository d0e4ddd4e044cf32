package api_test

import (
	"net/http"
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

// TestNoStore: no answer of the API may be kept by a cache: a lead, a
// list, an error, a CSV, the OpenAPI document.
func TestNoStore(t *testing.T) {
	f := newFixture(t)
	l := f.lead(sdrA, baton.StageNew)
	for _, path := range []string{"/api/v1/leads/" + itoa(l.ID), "/api/v1/leads", "/api/v1/leads/999999", "/api/v1/reports/funnel?format=csv", "/api/v1/openapi.json", "/api/v1/nowhere"} {
		req, err := http.NewRequest("GET", f.srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+f.tokens[admin])
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s (%d): Cache-Control %q, want no-store", path, resp.StatusCode, got)
		}
	}
}
