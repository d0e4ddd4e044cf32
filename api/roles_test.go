package api_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// TestRoles tries every endpoint as every caller and checks the status.
func TestRoles(t *testing.T) {
	f := newFixture(t)
	leadA := f.lead(sdrA, baton.StageMQL) // owned by sdrA, in manager's team
	acct := &baton.Account{Name: "Acme", Domain: "acme.test"}
	if err := f.db.CreateAccount(sys(), acct); err != nil {
		t.Fatal(err)
	}
	fixed := func(p string) func(string) string { return func(string) string { return p } }
	id := func(n int64) string { return fmt.Sprint(n) }
	// freshLead makes a new MQL owned by sdrA for each call, so that moves
	// and edits do not depend on the order of the callers.
	freshLead := func(suffix string) func(string) string {
		return func(string) string { return "/api/v1/leads/" + id(f.lead(sdrA, baton.StageMQL).ID) + suffix }
	}
	uniq := func(format string) func() string {
		return func() string { n := f.n(); return fmt.Sprintf(format, n, n) }
	}
	// A published policy (so that there is a current one) and a draft.
	if _, err := f.db.PublishDocument(sys(), testPolicy); err != nil {
		t.Fatal(err)
	}
	draft, err := f.db.SaveDraft(sys(), testPolicy)
	if err != nil {
		t.Fatal(err)
	}
	policyBody := func() string { return policyJSON(testPolicy) }
	// freshDraft makes a new draft for each call, so that every caller
	// allowed to publish publishes a draft of its own.
	freshDraft := func(string) string {
		d, err := f.db.SaveDraft(sys(), testPolicy)
		if err != nil {
			t.Fatal(err)
		}
		return "/api/v1/policies/" + id(d.ID) + "/publish"
	}
	// routed makes a new lead owned by owner that marketing moves to mql,
	// which opens a handoff to the owner, for each call.
	routed := func(owner, suffix string) func(string) string {
		return func(string) string { return "/api/v1/leads/" + id(f.routedMQL(owner).ID) + suffix }
	}
	// inStage makes a new lead in the stage owned by owner ("" for none)
	// for each call.
	inStage := func(owner string, stage baton.Stage, suffix string) func(string) string {
		return func(string) string { return "/api/v1/leads/" + id(f.lead(owner, stage).ID) + suffix }
	}
	// sdrANote is a new unread notification of sdrA's for each call (an
	// assignment).
	sdrANote := func(string) string {
		f.routedMQL(sdrA)
		ns, err := f.db.Notifications(f.as(sdrA), true, 1)
		if err != nil || len(ns) != 1 {
			t.Fatalf("sdrA's notifications: %v %v", ns, err)
		}
		return "/api/v1/notifications/" + id(ns[0].ID) + "/read"
	}
	hook := &baton.Webhook{URL: "https://hooks.example.com/baton"}
	if err := f.db.CreateWebhook(sys(), hook); err != nil {
		t.Fatal(err)
	}
	channel := &baton.SlackChannel{Team: "East", URL: "https://hooks.slack.com/services/T0/B0/secret"}
	if err := f.db.CreateSlackChannel(sys(), channel); err != nil {
		t.Fatal(err)
	}
	_, ingestKey, err := f.db.CreateIngestKey(sys(), baton.IngestKeyInput{Kind: baton.KeyWrite, Name: "segment"})
	if err != nil {
		t.Fatal(err)
	}
	const (
		u = 401 // no or bad token
		F = 403
		N = 404
	)
	cases := []struct {
		name   string
		method string
		path   func(caller string) string
		body   func() string
		// want is the status for each of: none, bad, admin, marketing,
		// sdrA, sdrB, ae, manager, managerN.
		want [9]int
	}{
		{"health", "GET", fixed("/healthz"), nil, [9]int{200, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"ready", "GET", fixed("/readyz"), nil, [9]int{200, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"metrics", "GET", fixed("/metrics"), nil, [9]int{u, u, 200, F, F, F, F, F, F}},
		{"openapi", "GET", fixed("/api/v1/openapi.json"), nil, [9]int{200, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"me", "GET", fixed("/api/v1/me"), nil, [9]int{u, u, 200, 200, 200, 200, 200, 200, 200}},

		{"list leads", "GET", fixed("/api/v1/leads?stage=mql&limit=10"), nil, [9]int{u, u, 200, 200, 200, 200, 200, 200, 200}},
		{"create lead", "POST", fixed("/api/v1/leads"), uniq(`{"email":"new%d@x%d.test","source":"web"}`), [9]int{u, u, 201, 201, F, F, F, F, F}},
		{"upsert lead", "PUT", fixed("/api/v1/leads"), uniq(`{"external_id":"ext-%d-%d","name":"Up"}`), [9]int{u, u, 200, 200, F, F, F, F, F}},
		// A rep reads only their own leads; a manager their team's.
		{"get lead", "GET", fixed("/api/v1/leads/" + id(leadA.ID)), nil, [9]int{u, u, 200, 200, 200, N, N, 200, N}},
		{"patch lead", "PATCH", freshLead(""), func() string { return `{"title":"CTO"}` }, [9]int{u, u, 200, 200, F, N, N, 200, N}},
		{"timeline", "GET", fixed("/api/v1/leads/" + id(leadA.ID) + "/timeline"), nil, [9]int{u, u, 200, 200, 200, N, N, 200, N}},
		{"history", "GET", fixed("/api/v1/leads/" + id(leadA.ID) + "/history"), nil, [9]int{u, u, 200, 200, 200, N, N, 200, N}},
		// mql -> sal: the owner, their manager or an admin; never marketing.
		{"accept mql", "POST", freshLead("/transitions"), func() string { return `{"to":"sal"}` }, [9]int{u, u, 200, F, 200, N, N, 200, N}},

		{"list accounts", "GET", fixed("/api/v1/accounts"), nil, [9]int{u, u, 200, 200, 200, 200, 200, 200, 200}},
		{"create account", "POST", fixed("/api/v1/accounts"), uniq(`{"name":"Co %d","domain":"co%d.test"}`), [9]int{u, u, 201, 201, F, F, F, F, F}},
		{"get account", "GET", fixed("/api/v1/accounts/" + id(acct.ID)), nil, [9]int{u, u, 200, 200, 200, 200, 200, 200, 200}},
		{"patch account", "PATCH", fixed("/api/v1/accounts/" + id(acct.ID)), func() string { return `{"industry":"Software"}` }, [9]int{u, u, 200, 200, F, F, F, F, F}},

		{"list users", "GET", fixed("/api/v1/users"), nil, [9]int{u, u, 200, 200, 200, 200, 200, 200, 200}},
		{"create user", "POST", fixed("/api/v1/users"), uniq(`{"email":"rep%d@baton%d.test","name":"Rep","role":"sdr"}`), [9]int{u, u, 201, F, F, F, F, F, F}},
		{"get user", "GET", fixed("/api/v1/users/" + id(f.users[sdrB].ID)), nil, [9]int{u, u, 200, 200, 200, 200, 200, 200, 200}},
		{"patch user", "PATCH", fixed("/api/v1/users/" + id(f.users[sdrB].ID)), func() string { return `{"territory":"EMEA"}` }, [9]int{u, u, 200, F, F, F, F, F, F}},
		// A user sets their own out of office, their manager theirs, an
		// admin anyone's; the end of it right after, so that routing to
		// sdrB is as before for the rows below.
		{"out of office", "PUT", fixed("/api/v1/users/" + id(f.users[sdrB].ID) + "/out-of-office"), returnIn(48 * time.Hour), [9]int{u, u, 200, F, F, 200, F, F, 200}},
		{"back in office", "DELETE", fixed("/api/v1/users/" + id(f.users[sdrB].ID) + "/out-of-office"), nil, [9]int{u, u, 200, F, F, 200, F, F, 200}},
		{"out of office nobody", "PUT", fixed("/api/v1/users/999999/out-of-office"), returnIn(48 * time.Hour), [9]int{u, u, N, N, N, N, N, N, N}},
		// A user makes their own tokens; an admin anyone's.
		{"token", "POST", fixed("/api/v1/users/" + id(f.users[sdrA].ID) + "/tokens"), func() string { return `{"name":"cli"}` }, [9]int{u, u, 201, F, 201, F, F, F, F}},
		{"token no body", "POST", fixed("/api/v1/users/" + id(f.users[sdrA].ID) + "/tokens"), nil, [9]int{u, u, 201, F, 201, F, F, F, F}},
		// A user sets their own time zone; an admin anyone's.
		{"time zone", "PUT", fixed("/api/v1/users/" + id(f.users[sdrA].ID) + "/time-zone"), func() string { return `{"time_zone":"Europe/Berlin"}` }, [9]int{u, u, 200, F, 200, F, F, F, F}},
		// Everyone lists their own tokens, an admin anyone's; a token is
		// revoked by its owner or an admin (a new one of sdrA's each call).
		// Only an admin reads the audit log, as JSON or CSV.
		{"audit", "GET", fixed("/api/v1/audit?action=user.&limit=5"), nil, [9]int{u, u, 200, F, F, F, F, F, F}},
		{"audit csv", "GET", fixed("/api/v1/audit?format=csv"), nil, [9]int{u, u, 200, F, F, F, F, F, F}},
		{"list tokens", "GET", fixed("/api/v1/tokens"), nil, [9]int{u, u, 200, 200, 200, 200, 200, 200, 200}},
		{"list another's tokens", "GET", fixed("/api/v1/tokens?user_id=" + id(f.users[sdrB].ID)), nil, [9]int{u, u, 200, F, F, 200, F, F, F}},
		{"revoke token", "DELETE", func(string) string {
			if _, err := f.db.CreateToken(sys(), f.users[sdrA].ID, "roles"); err != nil {
				t.Fatal(err)
			}
			ts, _, err := f.db.FindTokens(sys(), baton.TokenFilter{UserID: &f.users[sdrA].ID, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			return "/api/v1/tokens/" + id(ts[0].ID)
		}, nil, [9]int{u, u, 200, N, 200, N, N, N, N}},

		{"record events", "POST", fixed("/api/v1/events"), uniq(`[{"id":"e%d-%d","lead_id":` + id(leadA.ID) + `,"type":"page_view","occurred_at":"2025-01-01T10:00:00Z"}]`), [9]int{u, u, 200, 200, F, F, F, F, F}},
		{"list events", "GET", fixed("/api/v1/events"), nil, [9]int{u, u, 200, 200, 200, 200, 200, 200, 200}},
		{"list lead events", "GET", fixed("/api/v1/events?lead_id=" + id(leadA.ID)), nil, [9]int{u, u, 200, 200, 200, N, N, 200, N}},
		{"list opportunities", "GET", fixed("/api/v1/opportunities"), nil, [9]int{u, u, 200, 200, 200, 200, 200, 200, 200}},
		// An open opportunity is changed as its lead is moved: by the lead's
		// owner, their manager or an admin; marketing reads it, no more.
		{"patch opportunity", "PATCH", func(string) string {
			l := f.lead(sdrA, baton.StageOpportunity)
			o := &baton.Opportunity{LeadID: &l.ID, OwnerID: l.OwnerID, Name: "Deal", Stage: baton.OppProspecting}
			if err := f.db.CreateOpportunity(sys(), o); err != nil {
				t.Fatal(err)
			}
			return "/api/v1/opportunities/" + id(o.ID)
		}, func() string { return `{"name":"Bigger deal","amount":1500}` }, [9]int{u, u, 200, F, 200, N, N, 200, N}},
		{"list products", "GET", fixed("/api/v1/products"), nil, [9]int{u, u, 200, 200, 200, 200, 200, 200, 200}},

		// Everyone signed in reads the policies; marketing and admins write them.
		{"list policies", "GET", fixed("/api/v1/policies"), nil, [9]int{u, u, 200, 200, 200, 200, 200, 200, 200}},
		{"current policy", "GET", fixed("/api/v1/policies/current"), nil, [9]int{u, u, 200, 200, 200, 200, 200, 200, 200}},
		{"get policy", "GET", fixed("/api/v1/policies/" + id(draft.ID)), nil, [9]int{u, u, 200, 200, 200, 200, 200, 200, 200}},
		{"draft policy", "POST", fixed("/api/v1/policies"), policyBody, [9]int{u, u, 201, 201, F, F, F, F, F}},
		{"validate policy", "POST", fixed("/api/v1/policies/validate"), policyBody, [9]int{u, u, 200, 200, F, F, F, F, F}},
		{"backtest policy", "POST", fixed("/api/v1/policies/backtest"), policyBody, [9]int{u, u, 200, 200, F, F, F, F, F}},
		{"edit draft", "PUT", fixed("/api/v1/policies/" + id(draft.ID)), policyBody, [9]int{u, u, 200, 200, F, F, F, F, F}},
		{"diff policy", "GET", fixed("/api/v1/policies/" + id(draft.ID) + "/diff"), nil, [9]int{u, u, 200, 200, 200, 200, 200, 200, 200}},
		{"publish policy", "POST", freshDraft, uniq(`{"change_note":"roles %d (%d)"}`), [9]int{u, u, 200, 200, F, F, F, F, F}},
		// A lead's score follows the lead's visibility.
		{"lead score", "GET", fixed("/api/v1/leads/" + id(leadA.ID) + "/score"), nil, [9]int{u, u, 200, 200, 200, N, N, 200, N}},
		{"scoring status", "GET", fixed("/api/v1/scoring/status"), nil, [9]int{u, u, 200, 200, 200, 200, 200, 200, 200}},
		// The aggregate reports are for marketing, managers and admins; reps
		// get the stale and stalled lists of their own leads.
		{"funnel report", "GET", fixed("/api/v1/reports/funnel?by=source"), nil, [9]int{u, u, 200, 200, F, F, F, 200, 200}},
		{"funnel csv", "GET", fixed("/api/v1/reports/funnel?format=csv"), nil, [9]int{u, u, 200, 200, F, F, F, 200, 200}},
		{"stale report", "GET", fixed("/api/v1/reports/stale"), nil, [9]int{u, u, 200, 200, 200, 200, 200, 200, 200}},
		{"list models", "GET", fixed("/api/v1/models"), nil, [9]int{u, u, 200, 200, 200, 200, 200, 200, 200}},
		// The fixture has no lead with a known outcome: 400 for those who may train.
		{"train model", "POST", fixed("/api/v1/models/train"), func() string { return `{"holdout":0.25}` }, [9]int{u, u, 400, 400, F, F, F, F, F}},
		{"train model no body", "POST", fixed("/api/v1/models/train"), nil, [9]int{u, u, 400, 400, F, F, F, F, F}},
		// No model v999: 404 for those who may activate one.
		{"activate model", "POST", fixed("/api/v1/models/999/activate"), nil, [9]int{u, u, 404, 404, F, F, F, F, F}},

		// The handoff. Answering an MQL: its owner, their manager or an
		// admin; never marketing, another rep or another team's manager.
		{"accept", "POST", routed(sdrA, "/accept"), nil, [9]int{u, u, 200, F, 200, N, N, 200, N}},
		{"reject", "POST", routed(sdrA, "/reject"), func() string { return `{"reason":"no_budget","note":"no money this year"}` }, [9]int{u, u, 200, F, 200, N, F, 200, N}},
		// Sales log attempts on the leads they may see; everyone who sees the lead reads them.
		{"log attempt", "POST", fixed("/api/v1/leads/" + id(leadA.ID) + "/attempts"), func() string { return `{"channel":"call","outcome":"no_answer"}` }, [9]int{u, u, 201, F, 201, N, N, 201, N}},
		{"attempts", "GET", fixed("/api/v1/leads/" + id(leadA.ID) + "/attempts"), nil, [9]int{u, u, 200, 200, 200, N, N, 200, N}},
		{"qualify", "POST", inStage(sdrA, baton.StageSAL, "/qualify"), func() string { return fullBANT }, [9]int{u, u, 200, F, 200, N, F, 200, N}},
		// An SQL is the account executive's (who has no manager here).
		{"send back", "POST", inStage(ae, baton.StageSQL, "/send-back"), func() string { return `{"reason":"no budget yet"}` }, [9]int{u, u, 200, F, F, F, 200, N, N}},
		{"convert", "POST", inStage(ae, baton.StageSQL, "/convert"), func() string { return `{"name":"Acme deal","amount":1000}` }, [9]int{u, u, 201, F, F, F, 201, N, N}},
		{"recycle", "POST", inStage(ae, baton.StageSQL, "/recycle"), func() string { return `{"reason":"no project this year"}` }, [9]int{u, u, 200, F, F, F, 200, N, N}},
		{"close", "POST", inStage(sdrA, baton.StageOpportunity, "/close"), func() string { return `{"won":true,"value":900}` }, [9]int{u, u, 200, F, 200, N, N, 200, N}},
		// Managers assign unowned MQLs of their team's pool to their reps
		// (here every route takes everyone: any manager's pool); the rep
		// must be of the manager's team.
		{"assign", "POST", inStage("", baton.StageMQL, "/assign"), func() string { return `{"user_id":` + id(f.users[sdrA].ID) + `,"note":"yours"}` }, [9]int{u, u, 200, F, F, F, F, 200, 400}},
		// Only development reps pull an unassigned MQL.
		{"claim", "POST", inStage("", baton.StageMQL, "/claim"), nil, [9]int{u, u, F, F, 200, 200, F, F, F}},
		{"handoffs", "GET", fixed("/api/v1/leads/" + id(leadA.ID) + "/handoffs"), nil, [9]int{u, u, 200, 200, 200, N, N, 200, N}},
		// The queue, the inbox and the stale SALs are the caller's own.
		{"queue", "GET", fixed("/api/v1/queue?sort=fit"), nil, [9]int{u, u, 200, 200, 200, 200, 200, 200, 200}},
		{"notifications", "GET", fixed("/api/v1/notifications?unread=true&limit=10"), nil, [9]int{u, u, 200, 200, 200, 200, 200, 200, 200}},
		{"mark read", "POST", sdrANote, nil, [9]int{u, u, N, N, 204, N, N, N, N}},
		{"stale SALs", "GET", fixed("/api/v1/stale-sals"), nil, [9]int{u, u, 200, 200, 200, 200, 200, 200, 200}},

		{"list webhooks", "GET", fixed("/api/v1/webhooks"), nil, [9]int{u, u, 200, F, F, F, F, F, F}},
		{"create webhook", "POST", fixed("/api/v1/webhooks"), func() string { return `{"url":"https://hooks.example.com/in"}` }, [9]int{u, u, 201, F, F, F, F, F, F}},
		{"get webhook", "GET", fixed("/api/v1/webhooks/" + id(hook.ID)), nil, [9]int{u, u, 200, F, F, F, F, F, F}},
		{"disable webhook", "PATCH", fixed("/api/v1/webhooks/" + id(hook.ID)), func() string { return `{"active":true}` }, [9]int{u, u, 200, F, F, F, F, F, F}},
		{"rotate webhook", "POST", fixed("/api/v1/webhooks/" + id(hook.ID) + "/rotate"), nil, [9]int{u, u, 200, F, F, F, F, F, F}},
		{"list Slack channels", "GET", fixed("/api/v1/slack-channels"), nil, [9]int{u, u, 200, F, F, F, F, F, F}},
		{"add Slack channel", "POST", fixed("/api/v1/slack-channels"), func() string { return `{"team":"East","url":"https://hooks.slack.com/services/T1/B2/x"}` }, [9]int{u, u, 201, F, F, F, F, F, F}},
		{"turn Slack channel off", "PATCH", fixed("/api/v1/slack-channels/" + id(channel.ID)), func() string { return `{"active":true}` }, [9]int{u, u, 200, F, F, F, F, F, F}},
		// The intake takes ingest keys, never API tokens: 401 for every
		// token; its keys are an admin's.
		{"segment batch", "POST", fixed("/v1/batch"), func() string { return `{"batch":[]}` }, [9]int{u, u, u, u, u, u, u, u, u}},
		{"segment identify", "POST", fixed("/v1/identify"), func() string { return `{}` }, [9]int{u, u, u, u, u, u, u, u, u}},
		{"segment track", "POST", fixed("/v1/track"), func() string { return `{}` }, [9]int{u, u, u, u, u, u, u, u, u}},
		{"segment page", "POST", fixed("/v1/page"), func() string { return `{}` }, [9]int{u, u, u, u, u, u, u, u, u}},
		{"capture form", "POST", fixed("/capture/v1/form"), func() string { return `{}` }, [9]int{u, u, u, u, u, u, u, u, u}},
		{"capture script", "GET", fixed("/capture.js"), nil, [9]int{200, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"list ingest keys", "GET", fixed("/api/v1/ingest-keys"), nil, [9]int{u, u, 200, F, F, F, F, F, F}},
		{"create ingest key", "POST", fixed("/api/v1/ingest-keys"), func() string { return `{"kind":"capture","name":"site","origins":["https://www.example.com"]}` }, [9]int{u, u, 201, F, F, F, F, F, F}},
		{"revoke ingest key", "DELETE", fixed("/api/v1/ingest-keys/" + id(ingestKey.ID)), nil, [9]int{u, u, 200, F, F, F, F, F, F}},
		{"webhook deliveries", "GET", fixed("/api/v1/webhooks/" + id(hook.ID) + "/deliveries"), nil, [9]int{u, u, 200, F, F, F, F, F, F}},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		for i, caller := range callers {
			t.Run(c.name+"/"+caller, func(t *testing.T) {
				body := ""
				if c.body != nil {
					body = c.body()
				}
				path := c.path(caller)
				st, b := f.send(t, caller, c.method, path, body)
				if st != c.want[i] {
					t.Errorf("%s %s as %s: status %d, want %d: %s", c.method, path, caller, st, c.want[i], b)
				}
				if st >= 400 {
					var e apiError
					decodeJSON(t, b, &e)
					if wantCode := map[int]string{401: "unauthorized", 403: "forbidden", 404: "not_found"}[st]; wantCode != "" && e.Error.Code != wantCode {
						t.Errorf("code %q, want %q", e.Error.Code, wantCode)
					}
				}
			})
		}
		covered[c.method+" "+routeOf(c.path(admin))] = true
	}
	// Report names are words, not ids.
	covered["GET /api/v1/reports/{id}"] = covered["GET /api/v1/reports/funnel"]
	// Every route of the OpenAPI document is in the matrix.
	for _, r := range documentedRoutes(t, f) {
		if !covered[r.method+" "+anyParam(r.path)] {
			t.Errorf("route %s %s is not in the role matrix", r.method, r.path)
		}
	}
}
