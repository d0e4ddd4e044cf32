package client_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/batonhq/baton/client"
	"github.com/batonhq/baton/storetest"
)

// handoffPolicy is the tests' policy with a handoff that routes every MQL
// to the development reps and every SQL to the account executives.
var handoffPolicy = storetest.Policy + `
handoff:
  sdr:
    within: 4h
    on_breach: notify
    routes:
      - name: Everyone
  ae:
    within: 8h
    on_breach: notify
    routes:
      - name: Closers
  rejection:
    cool_down: 10d
    track: "nurture: {reason}"
  bant: [budget, authority, need]
`

func itoa(n int) string { return strconv.Itoa(n) }

func ptr[T any](v T) *T { return &v }

// TestScenario drives the handoff through the generated client against a
// real server: an admin makes the team and publishes the policy; marketing
// creates leads, records their events and makes them MQLs; the development
// rep accepts one and rejects the other with an agreed reason, qualifies the
// accepted one with its BANT; the account executive accepts the SQL and
// converts it, once however often the conversion is retried. The answers
// are read as the client's types: enums, int64 ids, float64 amounts, typed
// errors.
func TestScenario(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	admin := s.as(t, s.admin)

	// The team, each with a token of their own.
	member := func(email, name string, role client.Role) *client.ClientWithResponses {
		t.Helper()
		u, err := admin.PostUsersWithResponse(ctx, client.UserInput{Email: email, Name: name, Role: role})
		if err != nil || u.JSON201 == nil {
			t.Fatalf("create %s: %v %d %s", email, err, u.StatusCode(), u.Body)
		}
		tok, err := admin.PostUsersIdTokensWithResponse(ctx, u.JSON201.Id, client.TokenInput{Name: ptr("scenario")})
		if err != nil || tok.JSON201 == nil {
			t.Fatalf("token of %s: %v %s", email, err, tok.Body)
		}
		return s.as(t, tok.JSON201.Token)
	}
	marketing := member("mia@baton.test", "Mia", client.RoleMarketing)
	sdr := member("sam@baton.test", "Sam", client.RoleSdr)
	ae := member("alex@baton.test", "Alex", client.RoleAe)

	draft, err := marketing.PostPoliciesWithResponse(ctx, client.PolicyInput{Body: handoffPolicy})
	if err != nil || draft.JSON201 == nil {
		t.Fatalf("draft: %v %s", err, draft.Body)
	}
	pub, err := marketing.PostPoliciesIdPublishWithResponse(ctx, draft.JSON201.Id, client.PublishInput{ChangeNote: "the handoff"})
	if err != nil || pub.JSON200 == nil {
		t.Fatalf("publish: %v %s", err, pub.Body)
	}

	// An account keeps its revenue to the unit (a float64, not a float32).
	acct, err := marketing.PostAccountsWithResponse(ctx, client.AccountInput{Name: "Acme", Domain: ptr("acme.test"), AnnualRevenue: ptr(1100040000.0)})
	if err != nil || acct.JSON201 == nil {
		t.Fatalf("account: %v %s", err, acct.Body)
	}
	if got, err := admin.GetAccountsIdWithResponse(ctx, acct.JSON201.Id); err != nil || got.JSON200 == nil ||
		got.JSON200.AnnualRevenue == nil || *got.JSON200.AnnualRevenue != 1100040000 {
		t.Fatalf("account read back: %v %s", err, got.Body)
	}

	// Marketing creates two leads and records what they did.
	lead := func(email string) client.Lead {
		t.Helper()
		r, err := marketing.PostLeadsWithResponse(ctx, client.LeadInput{Email: ptr(email), Name: ptr("Lead " + email), Source: ptr("webinar"),
			AccountId: ptr(acct.JSON201.Id), Attributes: &map[string]interface{}{"seats": 50, "plan": "pro", "trial": true}})
		if err != nil || r.JSON201 == nil {
			t.Fatalf("create lead: %v %s", err, r.Body)
		}
		if r.JSON201.Stage != client.StageNew || r.JSON201.Id <= 0 {
			t.Fatalf("new lead: %s", r.Body)
		}
		return *r.JSON201
	}
	keen, cold := lead("keen@acme.test"), lead("cold@acme.test")
	var batch client.EventBatch
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	if err := batch.FromEventBatch1([]client.EventInput{
		{Id: "e1", Type: "page_view", LeadId: ptr(keen.Id), OccurredAt: at, Properties: &map[string]interface{}{"url": "/pricing"}},
		{Id: "e2", Type: "webinar_registered", Email: ptr("cold@acme.test"), OccurredAt: at.Add(time.Hour)},
	}); err != nil {
		t.Fatal(err)
	}
	ev, err := marketing.PostEventsWithResponse(ctx, batch)
	if err != nil || ev.JSON200 == nil || ev.JSON200.Created != 2 || ev.JSON200.Errors == nil || len(ev.JSON200.Errors) != 0 {
		t.Fatalf("events: %v %s", err, ev.Body)
	}
	if again, err := marketing.PostEventsWithResponse(ctx, batch); err != nil || again.JSON200 == nil || again.JSON200.Duplicates != 2 {
		t.Fatalf("events again: %v %s", err, again.Body)
	}

	// Both become MQLs, routed to the development rep's queue.
	for _, l := range []client.Lead{keen, cold} {
		r, err := marketing.PostLeadsIdTransitionsWithResponse(ctx, l.Id, client.StageChange{To: client.StageMql, Reason: ptr("webinar")})
		if err != nil || r.JSON200 == nil || r.JSON200.Stage != client.StageMql || r.JSON200.OwnerId == nil {
			t.Fatalf("mql: %v %s", err, r.Body)
		}
	}
	q, err := sdr.GetQueueWithResponse(ctx, nil)
	if err != nil || q.JSON200 == nil || len(q.JSON200.Items) != 2 {
		t.Fatalf("queue: %v %s", err, q.Body)
	}
	for _, it := range q.JSON200.Items {
		if it.Handoff.Kind != client.HandoffKindSdr || it.Handoff.State != client.HandoffStateOpen || !it.Handoff.DueAt.After(it.Handoff.AssignedAt) {
			t.Fatalf("queue item: %s", q.Body)
		}
	}

	// Marketing may not accept for the rep: a typed 403.
	if r, err := marketing.PostLeadsIdAcceptWithResponse(ctx, keen.Id); err != nil || r.JSON403 == nil || r.JSON403.Error.Code != client.ErrorCodeForbidden {
		t.Fatalf("accept by marketing: %v %d %s", err, r.StatusCode(), r.Body)
	}
	acc, err := sdr.PostLeadsIdAcceptWithResponse(ctx, keen.Id)
	if err != nil || acc.JSON200 == nil || acc.JSON200.Stage != client.StageSal {
		t.Fatalf("accept: %v %s", err, acc.Body)
	}
	// A reason outside the vocabulary is a 400 naming the field.
	if r, err := sdr.PostLeadsIdRejectWithResponse(ctx, cold.Id, client.Rejection{Reason: "meh"}); err != nil || r.JSON400 == nil ||
		r.JSON400.Error.Code != client.ErrorCodeInvalid || r.JSON400.Error.Field == nil || *r.JSON400.Error.Field != "reason" {
		t.Fatalf("reject meh: %v %d %s", err, r.StatusCode(), r.Body)
	}
	rej, err := sdr.PostLeadsIdRejectWithResponse(ctx, cold.Id, client.Rejection{Reason: client.RejectReasonNoNeed, Note: ptr("students")})
	if err != nil || rej.JSON200 == nil || rej.JSON200.Stage != client.StageRecycled || rej.JSON200.OwnerId != nil {
		t.Fatalf("reject: %v %s", err, rej.Body)
	}

	// Qualified with BANT, the lead becomes an SQL routed to the AE.
	qual, err := sdr.PostLeadsIdQualifyWithResponse(ctx, keen.Id, client.BANT{BudgetAmount: ptr(25000.0), BudgetCurrency: ptr("EUR"),
		BudgetConfirmed: ptr(true), Authority: ptr(client.BANTAuthorityDecisionMaker), DecisionMaker: ptr("CFO"), Need: ptr("onboarding"),
		Timing: ptr(client.BANTTimingThisQuarter)})
	if err != nil || qual.JSON200 == nil || qual.JSON200.Stage != client.StageSql {
		t.Fatalf("qualify: %v %s", err, qual.Body)
	}
	if r, err := ae.PostLeadsIdAcceptWithResponse(ctx, keen.Id); err != nil || r.JSON200 == nil || r.JSON200.Stage != client.StageSql {
		t.Fatalf("AE accept: %v %s", err, r.Body)
	}

	// Converted once, whatever the retries with the same key.
	key := &client.PostLeadsIdConvertParams{IdempotencyKey: ptr("convert-" + itoa(int(keen.Id)))}
	conv, err := ae.PostLeadsIdConvertWithResponse(ctx, keen.Id, key, client.ConvertInput{Name: "Acme: 50 seats", Amount: ptr(24000.5)})
	if err != nil || conv.JSON201 == nil || conv.JSON201.Stage != client.OpportunityStageProspecting || conv.JSON201.Amount != 24000.5 {
		t.Fatalf("convert: %v %s", err, conv.Body)
	}
	retry, err := ae.PostLeadsIdConvertWithResponse(ctx, keen.Id, key, client.ConvertInput{Name: "Acme: 50 seats", Amount: ptr(24000.5)})
	if err != nil || retry.JSON200 == nil || retry.JSON200.Id != conv.JSON201.Id {
		t.Fatalf("convert retry: %v %d %s", err, retry.StatusCode(), retry.Body)
	}
	if r, err := ae.PostLeadsIdConvertWithResponse(ctx, keen.Id, key, client.ConvertInput{Name: "Another"}); err != nil || r.JSON422 == nil ||
		r.JSON422.Error.Code != client.ErrorCodeUnprocessable {
		t.Fatalf("convert with the key and another body: %v %d %s", err, r.StatusCode(), r.Body)
	}
	got, err := admin.GetLeadsIdWithResponse(ctx, keen.Id)
	if err != nil || got.JSON200 == nil || got.JSON200.Stage != client.StageOpportunity || (*got.JSON200.Attributes)["seats"] != 50.0 {
		t.Fatalf("the lead: %v %s", err, got.Body)
	}
	if r, err := admin.GetLeadsIdWithResponse(ctx, 999999); err != nil || r.JSON404 == nil || r.JSON404.Error.Code != client.ErrorCodeNotFound {
		t.Fatalf("no such lead: %v %d %s", err, r.StatusCode(), r.Body)
	}

	// The funnel counts them, and its arrays are arrays.
	rep, err := marketing.GetReportsNameWithResponse(ctx, client.ReportNameFunnel, nil)
	if err != nil || rep.JSON200 == nil || rep.JSON200.Name != client.ReportNameFunnel || rep.JSON200.Labels == nil || len(rep.JSON200.Series) == 0 {
		t.Fatalf("funnel: %v %s", err, rep.Body)
	}
	tl, err := admin.GetLeadsIdTimelineWithResponse(ctx, keen.Id)
	if err != nil || tl.JSON200 == nil || len(tl.JSON200.Items) < 5 {
		t.Fatalf("timeline: %v %s", err, tl.Body)
	}
	kinds := map[client.TimelineKind]int{}
	for _, it := range tl.JSON200.Items {
		kinds[it.Kind]++
	}
	if kinds[client.TimelineKindEvent] != 1 || kinds[client.TimelineKindHistory] < 4 {
		t.Fatalf("timeline kinds %v: %s", kinds, tl.Body)
	}
}
