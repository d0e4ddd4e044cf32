package api_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// redocly is Redocly's CLI as scripts/ensure-redocly.sh installs it.
const redocly = "testdata/redocly/node_modules/.bin/redocly"

// redoclyExpected are the only warnings the lint may give, by rule and
// place: the project has chosen no license to name, and the public meta
// routes and the capture script have no client error to answer.
var redoclyExpected = map[string]bool{
	"info-license #/info": true,
	"operation-4xx-response #/paths/~1healthz/get/responses":               true,
	"operation-4xx-response #/paths/~1readyz/get/responses":                true,
	"operation-4xx-response #/paths/~1api~1v1~1openapi.json/get/responses": true,
	"operation-4xx-response #/paths/~1capture.js/get/responses":            true,
}

// TestRedoclyLint lints the served document with Redocly's recommended
// rules: no error, and no warning but the expected ones. Without Redocly
// installed (bash scripts/ensure-redocly.sh) it is skipped, unless
// BATON_REQUIRE_REDOCLY is set, as make test and CI do.
func TestRedoclyLint(t *testing.T) {
	if _, err := os.Stat(redocly); err != nil {
		if os.Getenv("BATON_REQUIRE_REDOCLY") != "" {
			t.Fatalf("BATON_REQUIRE_REDOCLY is set but %s is missing: run bash scripts/ensure-redocly.sh", redocly)
		}
		t.Skip("Redocly is not installed: bash scripts/ensure-redocly.sh")
	}
	f := newFixture(t)
	_, b := f.do(none, "GET", "/api/v1/openapi.json", "")
	doc := filepath.Join(t.TempDir(), "openapi.json")
	if err := os.WriteFile(doc, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(redocly, "lint", doc, "--extends=recommended", "--format=json")
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true")
	out, err := cmd.Output()
	var res struct {
		Totals struct {
			Errors, Warnings int
		}
		Version  string
		Problems []struct {
			RuleID, Severity, Message string
			Location                  []struct{ Pointer string }
		}
	}
	if jerr := json.Unmarshal(out, &res); jerr != nil {
		t.Fatalf("redocly lint: %v (%v)\n%s", jerr, err, out)
	}
	for _, p := range res.Problems {
		where := ""
		if len(p.Location) > 0 {
			where = p.Location[0].Pointer
		}
		if p.Severity == "error" || !redoclyExpected[p.RuleID+" "+where] {
			t.Errorf("%s %s at %s: %s", p.Severity, p.RuleID, where, p.Message)
		}
	}
	t.Logf("@redocly/cli %s: %d errors, %d warnings", res.Version, res.Totals.Errors, res.Totals.Warnings)
	if res.Totals.Errors != 0 || err != nil {
		t.Errorf("redocly lint: %d errors (%v)", res.Totals.Errors, err)
	}
}
