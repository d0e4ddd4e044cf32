package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// TestReportWithinATeam: ?manager= scopes the funnel to a manager's team,
// so that two managers' funnels count their own reps' leads; a bad value
// names the parameter.
func TestReportWithinATeam(t *testing.T) {
	f := newFixture(t)
	for range 2 {
		f.lead(sdrA, baton.StageNew)
	}
	f.lead(sdrB, baton.StageNew)
	leads := func(mgr string) string {
		t.Helper()
		st, body := f.do(admin, "GET", "/api/v1/reports/funnel?format=csv&manager="+itoa(f.users[mgr].ID), "")
		if st != http.StatusOK {
			t.Fatalf("funnel of %s's team: %d %s", mgr, st, body)
		}
		lines := strings.Split(strings.TrimSpace(string(body)), "\n")
		return strings.Split(lines[len(lines)-1], ",")[1]
	}
	if a, b := leads(manager), leads(managerN); a != "2" || b != "1" {
		t.Errorf("leads created in the teams: %s and %s, want 2 and 1", a, b)
	}
	for _, q := range []string{"manager=x", "manager=-1"} {
		st, body := f.do(admin, "GET", "/api/v1/reports/funnel?"+q, "")
		if st != http.StatusBadRequest || !strings.Contains(string(body), "manager") {
			t.Errorf("%s: %d %s", q, st, body)
		}
	}
	if st, body := f.do(admin, "GET", "/api/v1/reports/quality?manager="+itoa(f.users[manager].ID), ""); st != http.StatusBadRequest {
		t.Errorf("quality within a team: %d %s", st, body)
	}
}
