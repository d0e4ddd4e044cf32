package deliver_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/batonhq/baton/api"
	"github.com/batonhq/baton/store"
)

// RequirePromtoolEnv, set (as make test does), makes checkMetrics fail
// instead of skipping the check when no promtool is found.
// BATON_PROMTOOL names the promtool to use (scripts/ensure-promtool.sh
// prints one); else promtool on the PATH.
const RequirePromtoolEnv = "BATON_REQUIRE_PROMTOOL"

// checkMetrics reads /metrics as a scraper would, has `promtool check
// metrics` lint it, logs Baton's business series and checks the values
// want gives (a name with its labels, as exposed, and its value).
func checkMetrics(t *testing.T, db *store.DB, want map[string]float64) {
	t.Helper()
	a := api.New(api.Services{Users: db, Leads: db, Stats: db, Outbox: db}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	rec := httptest.NewRecorder()
	a.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	body := rec.Body.String()
	got := map[string]float64{}
	var series []string
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics: %q: %v", line, err)
		}
		got[line[:i]] = v
		if strings.HasPrefix(line, "baton_") && !strings.HasPrefix(line, "baton_http_") {
			series = append(series, line)
		}
	}
	t.Logf("the business series after the handoff:\n%s", strings.Join(series, "\n"))
	for name, v := range want {
		if g, ok := got[name]; !ok || g != v {
			t.Errorf("%s = %v (exposed %v), want %v", name, g, ok, v)
		}
	}
	tool := os.Getenv("BATON_PROMTOOL")
	if tool == "" {
		tool, _ = exec.LookPath("promtool")
	}
	if tool == "" {
		if os.Getenv(RequirePromtoolEnv) != "" {
			t.Fatalf("no promtool, and %s is set: run scripts/ensure-promtool.sh", RequirePromtoolEnv)
		}
		t.Log("no promtool (scripts/ensure-promtool.sh gets one): /metrics not linted")
		return
	}
	cmd := exec.Command(tool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out.String())
	}
	t.Logf("promtool check metrics: no problems%s", strings.TrimSpace("\n"+out.String()))
}
