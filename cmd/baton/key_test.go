package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
)

// TestKeyCommands: `baton key create` prints a write or capture key,
// refusing a capture key without origins with the flag's words; `key list`
// shows the keys but never a key; `key revoke` ends one; each act is
// audited as the CLI's.
func TestKeyCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "b.db")
	mustRun(t, "migrate", "--db", db)
	write := strings.TrimSpace(mustRun(t, "key", "create", "--kind", "write", "--name", "Segment prod", "--db", db))
	capture := strings.TrimSpace(mustRun(t, "key", "create", "--kind", "capture", "--name", "site", "--origin", "https://www.example.com, http://localhost:8080", "--db", db))
	if !strings.HasPrefix(write, "bw_") || !strings.HasPrefix(capture, "bc_") {
		t.Fatalf("keys %q %q", write, capture)
	}
	if _, errs, code := baton_(t, "key", "create", "--kind", "capture", "--name", "x", "--db", db); code != 1 || !strings.Contains(errs, "origins") {
		t.Fatalf("a capture key without origins: %d %s", code, errs)
	}
	out := mustRun(t, "key", "list", "--db", db)
	if strings.Contains(out, write) || strings.Contains(out, capture) ||
		!regexp.MustCompile(`(?m)^2 +capture +site +https://www.example.com,http://localhost:8080 `).MatchString(out) ||
		!regexp.MustCompile(`(?m)^1 +write +Segment prod +- `).MatchString(out) {
		t.Fatalf("key list:\n%s", out)
	}
	if out := mustRun(t, "key", "revoke", "1", "--db", db); !strings.Contains(out, `write key 1 ("Segment prod") revoked`) {
		t.Fatalf("key revoke: %s", out)
	}
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.AuthenticateIngestKey(context.Background(), write); baton.ErrorCode(err) != baton.EUNAUTHORIZED {
		t.Fatalf("a revoked key: %v", err)
	}
	es, _, err := st.FindAudit(baton.WithActor(context.Background(), baton.SystemActor), baton.AuditFilter{Action: new("ingest_key.")})
	if err != nil || len(es) != 3 || es[0].Via != "cli" || es[0].Action != "ingest_key.revoke" {
		t.Fatalf("audit: %+v %v", es, err)
	}
}
