package api_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// TestWebhooksAPI: an admin adds, lists, rotates, disables and enables
// webhooks and reads their delivery log through the API, with the admin
// page's rules (where a webhook may point, the events it may name, a secret
// Baton makes and shows once) and every change audited.
func TestWebhooksAPI(t *testing.T) {
	f := newFixture(t)
	st, body := f.do(admin, "POST", "/api/v1/webhooks", `{"url":"https://hooks.example.com/baton","events":["lead.created","lead.mql"]}`)
	var hook baton.Webhook
	decodeJSON(t, body, &hook)
	if st != 201 || hook.ID == 0 || !hook.Active || len(hook.Events) != 2 {
		t.Fatalf("create: %d %s", st, body)
	}
	if key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(hook.Secret, "whsec_")); !strings.HasPrefix(hook.Secret, "whsec_") || err != nil || len(key) != 32 {
		t.Fatalf("the secret Baton made, %q, is not whsec_ and 32 bytes in base64 (%v)", hook.Secret, err)
	}
	id := itoa(hook.ID)

	// Listed and read without the secret.
	for _, path := range []string{"/api/v1/webhooks", "/api/v1/webhooks/" + id} {
		st, body := f.do(admin, "GET", path, "")
		if st != 200 || !strings.Contains(string(body), "hooks.example.com") || strings.Contains(string(body), "whsec_") || strings.Contains(string(body), "secret") {
			t.Errorf("GET %s: %d %s", path, st, body)
		}
	}

	// The page's rules, field by field.
	for _, tc := range []struct{ body, field string }{
		{`{"url":"http://hooks.example.com/baton"}`, "url"},
		{`{"url":"https://127.0.0.1/in"}`, "url"},
		{`{"url":"https://169.254.169.254/latest/meta-data/"}`, "url"},
		{`{"url":"https://user:pw@hooks.example.com/in"}`, "url"},
		{`{"url":"https://hooks.example.com/in","events":["lead.exploded"]}`, "events"},
		{`{"url":"https://hooks.example.com/in","secret":"0123456789abcdef0123"}`, "secret"},
	} {
		st, body := f.do(admin, "POST", "/api/v1/webhooks", tc.body)
		var e apiError
		decodeJSON(t, body, &e)
		if st != 400 || e.Error.Field != tc.field {
			t.Errorf("POST %s: %d %s, want 400 naming %s", tc.body, st, body, tc.field)
		}
	}

	// Rotate: a new secret, shown once; a bad grace names its field.
	st, body = f.do(admin, "POST", "/api/v1/webhooks/"+id+"/rotate", `{"grace":"2h"}`)
	var rot struct {
		ID     int64  `json:"id"`
		Secret string `json:"secret"`
		Grace  string `json:"grace"`
	}
	decodeJSON(t, body, &rot)
	if st != 200 || rot.ID != hook.ID || rot.Secret == hook.Secret || !strings.HasPrefix(rot.Secret, "whsec_") || rot.Grace != "2h0m0s" {
		t.Fatalf("rotate: %d %s", st, body)
	}
	if st, body := f.do(admin, "POST", "/api/v1/webhooks/"+id+"/rotate", ""); st != 200 || !strings.Contains(string(body), `"grace":"24h0m0s"`) {
		t.Errorf("rotate without a body: %d %s", st, body)
	}
	for _, g := range []string{`{"grace":"forever"}`, `{"grace":"-1h"}`, `{"grace":"800h"}`} {
		var e apiError
		st, body := f.do(admin, "POST", "/api/v1/webhooks/"+id+"/rotate", g)
		decodeJSON(t, body, &e)
		if st != 400 || e.Error.Field != "grace" {
			t.Errorf("rotate %s: %d %s", g, st, body)
		}
	}
	if st, body := f.do(admin, "POST", "/api/v1/webhooks/9999/rotate", ""); st != 404 {
		t.Errorf("rotate an unknown webhook: %d %s", st, body)
	}

	// Disable, enable; active is required.
	for _, active := range []bool{false, true} {
		st, body := f.do(admin, "PATCH", "/api/v1/webhooks/"+id, `{"active":`+map[bool]string{false: "false", true: "true"}[active]+`}`)
		var got baton.Webhook
		decodeJSON(t, body, &got)
		if st != 200 || got.Active != active {
			t.Errorf("PATCH active %v: %d %s", active, st, body)
		}
	}
	if st, body := f.do(admin, "PATCH", "/api/v1/webhooks/"+id, `{}`); st != 400 || !strings.Contains(string(body), `"field":"active"`) {
		t.Errorf("PATCH {}: %d %s", st, body)
	}
	if st, body := f.do(admin, "PATCH", "/api/v1/webhooks/9999", `{"active":false}`); st != 404 {
		t.Errorf("PATCH an unknown webhook: %d %s", st, body)
	}

	// The delivery log: a new lead is queued for the webhook, one attempt
	// delivers it, and the webhook's log shows that attempt.
	l := f.lead("", baton.StageNew)
	msgs, err := f.db.ClaimOutbox(sys(), "test", 10, time.Minute)
	if err != nil || len(msgs) != 1 || msgs[0].Event != "lead.created" || msgs[0].Target != id {
		t.Fatalf("the outbox after a new lead: %+v %v", msgs, err)
	}
	if err := f.db.FinishOutbox(sys(), msgs[0], baton.DeliveryResult{OK: true, Status: 204}); err != nil {
		t.Fatal(err)
	}
	st, body = f.do(admin, "GET", "/api/v1/webhooks/"+id+"/deliveries", "")
	var log struct {
		Items []baton.DeliveryAttempt `json:"items"`
	}
	decodeJSON(t, body, &log)
	if st != 200 || len(log.Items) != 1 || log.Items[0].Event != "lead.created" || log.Items[0].Channel != "webhook" ||
		log.Items[0].Result != baton.AttemptDelivered || log.Items[0].Status != 204 {
		t.Fatalf("deliveries: %d %s", st, body)
	}
	var payload map[string]any
	if err := json.Unmarshal(msgs[0].Payload, &payload); err != nil || payload["type"] != "lead.created" || payload["timestamp"] == nil {
		t.Errorf("the payload of lead %d: %s (%v)", l.ID, msgs[0].Payload, err)
	}
	// Another webhook's log is its own.
	st, body = f.do(admin, "POST", "/api/v1/webhooks", `{"url":"https://other.example.com/in"}`)
	var other baton.Webhook
	decodeJSON(t, body, &other)
	if st != 201 {
		t.Fatalf("create another: %d %s", st, body)
	}
	if st, body := f.do(admin, "GET", "/api/v1/webhooks/"+itoa(other.ID)+"/deliveries", ""); st != 200 || !strings.Contains(string(body), `"items":[]`) {
		t.Errorf("the other webhook's deliveries: %d %s", st, body)
	}

	// Audited through the API, without a secret.
	st, body = f.do(admin, "GET", "/api/v1/audit?action=webhook.&target_kind=webhook&target_id="+id+"&limit=100", "")
	var audit struct {
		Items []baton.AuditEntry `json:"items"`
	}
	decodeJSON(t, body, &audit)
	seen := map[string]int{}
	for _, e := range audit.Items {
		if e.Via != "api" {
			t.Errorf("%s via %q, want api", e.Action, e.Via)
		}
		seen[e.Action]++
	}
	if st != 200 || seen["webhook.create"] != 1 || seen["webhook.rotate"] != 2 || seen["webhook.toggle"] != 2 || strings.Contains(string(body), "whsec_") {
		t.Errorf("audit: %v; %d %s", seen, st, body)
	}
}

// TestWebhooksAPIRoles: only an admin manages webhooks; anyone else is
// refused on every route, and no webhook is made or changed.
func TestWebhooksAPIRoles(t *testing.T) {
	f := newFixture(t)
	st, body := f.do(admin, "POST", "/api/v1/webhooks", `{"url":"https://hooks.example.com/baton"}`)
	if st != 201 {
		t.Fatalf("create: %d %s", st, body)
	}
	var hook baton.Webhook
	decodeJSON(t, body, &hook)
	id := itoa(hook.ID)
	routes := []struct{ method, path, body string }{
		{"GET", "/api/v1/webhooks", ""},
		{"POST", "/api/v1/webhooks", `{"url":"https://evil.example.com/in"}`},
		{"GET", "/api/v1/webhooks/" + id, ""},
		{"PATCH", "/api/v1/webhooks/" + id, `{"active":false}`},
		{"POST", "/api/v1/webhooks/" + id + "/rotate", ""},
		{"GET", "/api/v1/webhooks/" + id + "/deliveries", ""},
	}
	for _, caller := range callers {
		if caller == admin {
			continue
		}
		want := 403
		if caller == none || caller == bad {
			want = 401
		}
		for _, rt := range routes {
			if st, body := f.do(caller, rt.method, rt.path, rt.body); st != want {
				t.Errorf("%s %s as %s: %d %s, want %d", rt.method, rt.path, caller, st, body, want)
			}
		}
	}
	hooks, err := f.db.FindWebhooks(sys())
	if err != nil || len(hooks) != 1 || !hooks[0].Active {
		t.Fatalf("after the refused calls: %+v %v", hooks, err)
	}
}

// TestSlackChannelsAPI: an admin adds a team's and a user's Slack channel,
// whose URLs are never shown again, and turns one off; bad input names its
// field.
func TestSlackChannelsAPI(t *testing.T) {
	f := newFixture(t)
	const url = "https://hooks.slack.com/services/T0123/B0456/s3cr3t-token"
	st, body := f.do(admin, "POST", "/api/v1/slack-channels", `{"team":"East","url":"`+url+`"}`)
	var c baton.SlackChannel
	decodeJSON(t, body, &c)
	if st != 201 || c.ID == 0 || c.Team != "East" || !c.Active || c.Hint != "hooks.slack.com/services/T0123/B0456/…" || strings.Contains(string(body), "s3cr3t") {
		t.Fatalf("add: %d %s", st, body)
	}
	st, body = f.do(admin, "POST", "/api/v1/slack-channels", `{"user_id":`+itoa(f.users[sdrA].ID)+`,"url":"https://hooks.slack.com/services/T0123/B0789/other"}`)
	if st != 201 {
		t.Fatalf("add a user's: %d %s", st, body)
	}
	st, body = f.do(admin, "GET", "/api/v1/slack-channels", "")
	if st != 200 || strings.Contains(string(body), "s3cr3t") || strings.Count(string(body), `"hint"`) != 2 {
		t.Fatalf("list: %d %s", st, body)
	}
	for _, tc := range []struct{ body, field string }{
		{`{"url":"` + url + `"}`, "team"},
		{`{"team":"East","user_id":1,"url":"` + url + `"}`, "team"},
		{`{"user_id":9999,"url":"` + url + `"}`, "user_id"},
		{`{"team":"East","url":"http://hooks.slack.com/services/x"}`, "url"},
		{`{"team":"East","url":"https://10.0.0.1/services/x"}`, "url"},
		{`{"team":"East"}`, "url"},
	} {
		st, body := f.do(admin, "POST", "/api/v1/slack-channels", tc.body)
		var e apiError
		decodeJSON(t, body, &e)
		if st != 400 || e.Error.Field != tc.field {
			t.Errorf("POST %s: %d %s, want 400 naming %s", tc.body, st, body, tc.field)
		}
	}
	st, body = f.do(admin, "PATCH", "/api/v1/slack-channels/"+itoa(c.ID), `{"active":false}`)
	if st != 200 || !strings.Contains(string(body), `"active":false`) {
		t.Fatalf("turn off: %d %s", st, body)
	}
	if st, body := f.do(admin, "PATCH", "/api/v1/slack-channels/9999", `{"active":false}`); st != 404 {
		t.Errorf("turn off an unknown channel: %d %s", st, body)
	}
	st, body = f.do(admin, "GET", "/api/v1/audit?action=slack.&limit=100", "")
	if st != 200 || strings.Count(string(body), `"slack.create"`) != 2 || strings.Count(string(body), `"slack.toggle"`) != 1 || strings.Contains(string(body), "s3cr3t") {
		t.Errorf("audit: %d %s", st, body)
	}
	// The URL is sealed at rest when the server has a key; without one it
	// is kept as given (as webhook secrets are) and read back for delivery.
	got, err := f.db.SlackChannelURL(sys(), c.ID)
	if err != nil || got.URL != url {
		t.Fatalf("for delivery: %+v %v", got, err)
	}
}

// TestREADMEListsTheMetrics: every business series the API exports is in
// the README's table of metrics.
func TestREADMEListsTheMetrics(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	st, body := f.do(admin, "GET", "/metrics", "")
	if st != 200 {
		t.Fatalf("/metrics: %d", st)
	}
	n := 0
	for _, line := range strings.Split(string(body), "\n") {
		name, ok := strings.CutPrefix(line, "# TYPE ")
		if !ok || !strings.HasPrefix(name, "baton_") || strings.HasPrefix(name, "baton_http_") {
			continue
		}
		name, _, _ = strings.Cut(name, " ")
		n++
		if !strings.Contains(string(b), "`"+name) {
			t.Errorf("%s is not in the README's table of metrics", name)
		}
	}
	// baton_jobs_due and baton_jobs_oldest_due_seconds have a series per
	// kind of job due, none on a database with nothing due.
	if n < 15 {
		t.Fatalf("only %d business series on /metrics:\n%s", n, body)
	}
}
