package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// TestAudit: an admin lists the audit log through filters, as JSON and as
// CSV; a bad filter names its field.
func TestAudit(t *testing.T) {
	f := newFixture(t)
	st, body := f.do(admin, "POST", "/api/v1/users", `{"email":"audited@example.com","name":"Audited Rep","role":"sdr"}`)
	if st != 201 {
		t.Fatalf("create user: %d %s", st, body)
	}
	st, body = f.do(admin, "GET", "/api/v1/audit?action=user.create&target_kind=user&limit=1", "")
	var got struct {
		Items []baton.AuditEntry `json:"items"`
		Total int                `json:"total"`
	}
	if err := json.Unmarshal(body, &got); st != 200 || err != nil || len(got.Items) != 1 {
		t.Fatalf("list: %d %s %v", st, body, err)
	}
	e := got.Items[0]
	if e.Action != "user.create" || e.Via != "api" || e.ActorID == nil || *e.ActorID != f.users[admin].ID || !strings.Contains(e.After, "audited@example.com") {
		t.Fatalf("the entry: %+v", e)
	}
	st, body = f.do(admin, "GET", "/api/v1/audit?format=csv&action=user.create", "")
	if lines := strings.Split(strings.TrimSpace(string(body)), "\n"); st != 200 || !strings.HasPrefix(lines[0], "id,at,actor_id") || len(lines) != got.Total+1 ||
		!strings.Contains(string(body), "audited@example.com") {
		t.Fatalf("csv: %d %s", st, body)
	}
	for _, q := range []string{"actor_id=x", "from=yesterday", "format=xml", "limit=0"} {
		if st, body := f.do(admin, "GET", "/api/v1/audit?"+q, ""); st != 400 {
			t.Errorf("%s: %d %s", q, st, body)
		}
	}
}
