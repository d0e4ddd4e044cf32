package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/storetest"
)

// TestAuditLogPage: an admin reads the audit log, filtered, and exports it
// as CSV; anyone else is refused.
func TestAuditLogPage(t *testing.T) {
	w := newWorld(t)
	admin := w.signedIn(t, w.tm.Admin)
	st, body := admin.get("/admin/audit")
	if st != http.StatusOK {
		t.Fatalf("the page: %d %s", st, excerpt(body))
	}
	mustContain(t, body, "<h1>Audit log</h1>", `aria-label="Audit entries, a table that scrolls"`, `<th scope="col">Action</th>`,
		"<code>signin.success</code>", "<code>user.create</code>", `href="/admin/audit"`)
	if st, body = admin.get("/admin/audit?action=signin."); st != http.StatusOK {
		t.Fatalf("filtered: %d", st)
	}
	mustContain(t, body, "<code>signin.success</code>")
	mustNotContain(t, body, "<code>user.create</code>")
	if st, body := admin.get("/admin/audit?target_id=x"); st != http.StatusBadRequest {
		t.Fatalf("a bad target id: %d %s", st, excerpt(body))
	}
	st, body = admin.get("/admin/audit?format=csv&action=user.create")
	if st != http.StatusOK || !strings.HasPrefix(body, "id,at,actor_id") || !strings.Contains(body, "user.create") || strings.Contains(body, "signin.") {
		t.Fatalf("the CSV: %d %s", st, excerpt(body))
	}
	for _, u := range w.tm.Users()[1:] {
		if st, _ := w.signedIn(t, u).get("/admin/audit"); st != http.StatusForbidden {
			t.Fatalf("%s: %d", u.Name, st)
		}
	}
}

// TestAuditKeepsTheClientAddress: an act made on a page is logged with the
// address it came from.
func TestAuditKeepsTheClientAddress(t *testing.T) {
	w := newWorld(t)
	admin := w.signedIn(t, w.tm.Admin)
	form := url.Values{"user_id": {fmt.Sprint(w.tm.SDR1.ID)}, "name": {"dialer"}}
	if resp, body := admin.post("/admin/tokens", form); resp.StatusCode != http.StatusOK {
		t.Fatalf("make a token: %d %s", resp.StatusCode, excerpt(body))
	}
	es, _, err := w.db.FindAudit(storetest.System(), baton.AuditFilter{Action: new("token.create")})
	if err != nil || len(es) != 1 {
		t.Fatalf("token.create entries: %v %v", es, err)
	}
	if e := es[0]; e.Addr != "127.0.0.1" || e.Via != "ui" || e.ActorID == nil || *e.ActorID != w.tm.Admin.ID {
		t.Fatalf("the entry: %+v", e)
	}
}

// TestExportIsAudited: a CSV export of the lead list is in the audit log,
// with who made it and its filter.
func TestExportIsAudited(t *testing.T) {
	w := newWorld(t)
	max := w.signedIn(t, w.tm.Manager1)
	if st, body := max.get("/leads/export?stage=mql"); st != http.StatusOK {
		t.Fatalf("export: %d %s", st, excerpt(body))
	}
	es, _, err := w.db.FindAudit(storetest.System(), baton.AuditFilter{Action: new("lead.export")})
	if err != nil || len(es) != 1 {
		t.Fatalf("lead.export entries: %v %v", es, err)
	}
	if e := es[0]; e.ActorID == nil || *e.ActorID != w.tm.Manager1.ID || e.Via != "ui" || !strings.Contains(e.After, `stage=mql`) {
		t.Fatalf("the entry: %+v", e)
	}
}
