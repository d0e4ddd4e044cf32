package api

import (
	"net/http"
	"reflect"
	"slices"

	"github.com/batonhq/baton"
)

// route is one row of the route table: the mux and the OpenAPI document are
// both built from it.
type route struct {
	method string
	// path is the ServeMux pattern's path, which is also the OpenAPI path:
	// "/api/v1/leads/{id}".
	path    string
	handle  func(s *Server, w http.ResponseWriter, r *http.Request) error
	summary string
	tag     string
	// public routes need no token.
	public bool
	// ingest routes take an ingest key instead of a token (intake.go):
	// ingestAny, ingestWrite or ingestCapture.
	ingest string
	// params are the query parameters; path parameters come from the path.
	params []param
	// body is the request body's schema name, "" for none; optional bodies
	// may be empty.
	body         string
	bodyOptional bool
	// status is the status of success; resp the schema name of its body.
	status int
	resp   string
	// also is another status of success with the same body, and why (200
	// for a retried conversion); 0 for none.
	also     int
	alsoDesc string
	// raw, when set, is the response's media type and schema instead of
	// JSON of resp (for /metrics).
	raw string
	// errors are the error statuses of this route beyond those every route
	// of its kind has (see errorsOf), such as 422.
	errors []int
}

// param is a query parameter, a header when in is "header", or the type of
// a path parameter when in is "path" (a path parameter not declared is an
// id). Its typ is a JSON type, one of paramSchema's (id, int32, date,
// time) or the name of one of the vocabularies.
type param struct {
	name, typ, desc string
	enum            []string
	in              string
}

func p(name, typ, desc string) param { return param{name: name, typ: typ, desc: desc} }

func enumOf[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

// leadSorts are the orders of the lead list.
var leadSorts = []string{"created", "probability", "fit", "engagement"}

// format is the parameter of the routes that also answer CSV.
var format = param{name: "format", typ: "string", desc: "json (the default) or csv", enum: []string{"json", "csv"}}

var paging = []param{
	{name: "limit", typ: "int32", desc: "page size, 1 to 1000 (default 50)"},
	p("offset", "integer", "how many items to skip (default 0)"),
}

func withPaging(ps ...param) []param { return append(ps, paging...) }

// routes is the route table: every route the API serves.
func routes() []route {
	stage := p("stage", "Stage", "lifecycle stage")
	role := p("role", "Role", "user role")
	oppStage := p("stage", "OpportunityStage", "opportunity stage")
	return []route{
		{method: "GET", path: "/healthz", handle: (*Server).health, summary: "Health: 200 while the database answers and takes writes, 503 saying why not (disk full, read-only)", tag: "meta", public: true, status: 200, resp: "Health",
			also: http.StatusServiceUnavailable, alsoDesc: "The database does not answer or cannot take writes: status unavailable, and database says why."},
		{method: "GET", path: "/readyz", handle: (*Server).ready, summary: "Readiness for load balancers: as /healthz, and 503 while every place for write requests is taken", tag: "meta", public: true, status: 200, resp: "Health",
			also: http.StatusServiceUnavailable, alsoDesc: "Not ready: status unavailable (the database, as /healthz) or busy (every place for write requests is taken)."},
		{method: "GET", path: "/metrics", handle: (*Server).serveMetrics, summary: "Prometheus metrics, for an admin's token (or without one on baton serve --metrics-addr, a listener of its own)", tag: "meta", status: 200, raw: "text/plain"},
		{method: "GET", path: "/api/v1/openapi.json", handle: (*Server).serveOpenAPI, summary: "This OpenAPI document", tag: "meta", public: true, status: 200, resp: "OpenAPI"},
		{method: "GET", path: "/api/v1/me", handle: (*Server).me, summary: "The signed-in user", tag: "users", status: 200, resp: "User"},

		{method: "GET", path: "/api/v1/leads", handle: (*Server).listLeads, summary: "List the leads the caller may see, newest first or in the order of sort", tag: "leads",
			params: withPaging(stage, p("owner_id", "id", "owner's user id"), p("source", "string", "lead source"),
				p("campaign", "string", "campaign"), p("account_id", "id", "account id"),
				p("created_after", "time", "created at or after: RFC 3339 time or YYYY-MM-DD"),
				p("created_before", "time", "created before: RFC 3339 time or YYYY-MM-DD"),
				p("q", "string", "text in the email, name, company or external id"),
				param{name: "sort", typ: "string", desc: "order: created (newest first, the default), or probability, fit or engagement (highest first)", enum: leadSorts}),
			status: 200, resp: "LeadList"},
		{method: "POST", path: "/api/v1/leads", handle: (*Server).createLead, summary: "Create a lead", tag: "leads", body: "LeadInput", status: 201, resp: "Lead"},
		{method: "PUT", path: "/api/v1/leads", handle: (*Server).upsertLead, summary: "Create a lead or update the one with the same email or external id", tag: "leads", body: "LeadInput", status: 200, resp: "UpsertResult"},
		{method: "GET", path: "/api/v1/leads/{id}", handle: (*Server).getLead, summary: "Get a lead", tag: "leads", status: 200, resp: "Lead"},
		{method: "PATCH", path: "/api/v1/leads/{id}", handle: (*Server).updateLead, summary: "Change some fields of a lead (if_version for optimistic concurrency)", tag: "leads", body: "LeadUpdate", status: 200, resp: "Lead"},
		{method: "GET", path: "/api/v1/leads/{id}/score", handle: (*Server).leadScore, summary: "A lead's score now, with the rules and model factors that make it", tag: "scoring", status: 200, resp: "ScoreExplanation"},
		{method: "GET", path: "/api/v1/leads/{id}/timeline", handle: (*Server).leadTimeline, summary: "A lead's history and events in time order", tag: "leads", status: 200, resp: "Timeline"},
		{method: "GET", path: "/api/v1/leads/{id}/history", handle: (*Server).leadHistory, summary: "A lead's audited changes in time order", tag: "leads", status: 200, resp: "HistoryList"},
		{method: "POST", path: "/api/v1/leads/{id}/transitions", handle: (*Server).changeStage, summary: "Move a lead along its lifecycle", tag: "leads", body: "StageChange", status: 200, resp: "Lead"},

		{method: "GET", path: "/api/v1/accounts", handle: (*Server).listAccounts, summary: "List accounts by name", tag: "accounts",
			params: withPaging(p("domain", "string", "exact domain"), p("name", "string", "exact name (any case)"), p("q", "string", "text in the name or domain")),
			status: 200, resp: "AccountList"},
		{method: "POST", path: "/api/v1/accounts", handle: (*Server).createAccount, summary: "Create an account", tag: "accounts", body: "AccountInput", status: 201, resp: "Account"},
		{method: "GET", path: "/api/v1/accounts/{id}", handle: (*Server).getAccount, summary: "Get an account", tag: "accounts", status: 200, resp: "Account"},
		{method: "PATCH", path: "/api/v1/accounts/{id}", handle: (*Server).updateAccount, summary: "Change some fields of an account", tag: "accounts", body: "AccountUpdate", status: 200, resp: "Account"},

		{method: "GET", path: "/api/v1/users", handle: (*Server).listUsers, summary: "List users", tag: "users",
			params: withPaging(role, p("team", "string", "team"), p("manager_id", "id", "manager's user id"), p("email", "string", "exact email")),
			status: 200, resp: "UserList"},
		{method: "POST", path: "/api/v1/users", handle: (*Server).createUser, summary: "Create a user (admin)", tag: "users", body: "UserInput", status: 201, resp: "User"},
		{method: "GET", path: "/api/v1/users/{id}", handle: (*Server).getUser, summary: "Get a user", tag: "users", status: 200, resp: "User"},
		{method: "PATCH", path: "/api/v1/users/{id}", handle: (*Server).updateUser, summary: "Change some fields of a user (admin)", tag: "users", body: "UserUpdate", status: 200, resp: "User"},
		{method: "PUT", path: "/api/v1/users/{id}/time-zone", handle: (*Server).setTimeZone, summary: "Set the zone a user reads dates in: an IANA name, or empty to follow their working calendar (the user, an admin)", tag: "users", body: "TimeZoneInput", status: 200, resp: "User"},
		{method: "PUT", path: "/api/v1/users/{id}/out-of-office", handle: (*Server).setOutOfOffice, summary: "Mark a user out of office until a return date: routing gives them no leads until then (the user, their manager, admin); 400 for a return that is past or more than 365 days away", tag: "users", body: "OutOfOffice", status: 200, resp: "User"},
		{method: "DELETE", path: "/api/v1/users/{id}/out-of-office", handle: (*Server).endOutOfOffice, summary: "End a user's absence now (the user, their manager, admin)", tag: "users", status: 200, resp: "User"},
		{method: "POST", path: "/api/v1/users/{id}/tokens", handle: (*Server).createToken, summary: "Make an API token for a user; it is shown only once", tag: "users", body: "TokenInput", bodyOptional: true, status: 201, resp: "Token"},
		{method: "GET", path: "/api/v1/tokens", handle: (*Server).listTokens, summary: "List API tokens, live ones first, newest first, never the tokens themselves: every user's for an admin, the caller's own for anyone else (403 for a user_id not theirs)", tag: "users",
			params: withPaging(p("user_id", "id", "the owner's user id"), p("revoked", "boolean", "true: only revoked tokens; false: only live ones")),
			status: 200, resp: "TokenInfoList"},
		{method: "GET", path: "/api/v1/audit", handle: (*Server).listAudit, summary: "The audit log, newest first (admin): who did what to which target, when and from where, with the changed fields; ?format=csv for CSV (1000 entries unless limit says)", tag: "users",
			params: withPaging(p("action", "string", "entries whose action begins with this: user. or user.update"), p("actor_id", "id", "the acting user's id"),
				p("target_kind", "string", "the kind of target: user, token, webhook, calendar, policy, model"), p("target_id", "id", "the target's id"),
				p("from", "time", "entries at or after this time (RFC 3339 or YYYY-MM-DD)"), p("to", "time", "entries before this time (RFC 3339 or YYYY-MM-DD)"),
				format),
			status: 200, resp: "AuditList"},
		{method: "DELETE", path: "/api/v1/tokens/{id}", handle: (*Server).revokeToken, summary: "Revoke an API token: from the next request on it answers 401 (its owner, admin; 404 for anyone else's); a revoked token is returned as it is", tag: "users", status: 200, resp: "TokenInfo"},

		{method: "POST", path: "/api/v1/events", handle: (*Server).recordEvents, summary: "Record one event or an array of up to 10,000", tag: "events", body: "EventBatch", status: 200, resp: "EventResult"},
		{method: "GET", path: "/api/v1/events", handle: (*Server).listEvents, summary: "List events of the leads the caller may see, latest first", tag: "events",
			params: withPaging(p("lead_id", "id", "lead id"), p("type", "string", "event type"), p("after", "time", "occurred after: RFC 3339 time or YYYY-MM-DD")),
			status: 200, resp: "EventList"},

		{method: "GET", path: "/api/v1/opportunities", handle: (*Server).listOpportunities, summary: "List the opportunities the caller may see, newest first", tag: "opportunities",
			params: withPaging(p("owner_id", "id", "owner's user id"), p("account_id", "id", "account id"), p("lead_id", "id", "lead id"), oppStage),
			status: 200, resp: "OpportunityList"},
		{method: "PATCH", path: "/api/v1/opportunities/{id}", handle: (*Server).updateOpportunity, summary: "Change the name, amount, product or expected close of an open opportunity (the owner of its lead, their manager, admin); each change is written to the lead's history; 409 once it is closed", tag: "opportunities",
			body: "OpportunityUpdate", status: 200, resp: "Opportunity"},

		{method: "GET", path: "/api/v1/policies", handle: (*Server).listPolicies, summary: "List the scoring policies: published versions (newest first), then drafts", tag: "scoring", status: 200, resp: "PolicyList"},
		{method: "POST", path: "/api/v1/policies", handle: (*Server).createPolicy, summary: "Save a policy document as a draft (marketing, admin); 400 lists every problem", tag: "scoring", body: "PolicyInput", status: 201, resp: "PolicyDoc"},
		{method: "GET", path: "/api/v1/policies/current", handle: (*Server).currentPolicy, summary: "The published policy in force (404 before the first publish)", tag: "scoring", status: 200, resp: "PolicyDoc"},
		{method: "POST", path: "/api/v1/policies/validate", handle: (*Server).validatePolicy, summary: "Check a policy document without saving it (marketing, admin); 400 lists every problem", tag: "scoring", body: "PolicyInput", status: 200, resp: "Validation"},
		{method: "POST", path: "/api/v1/policies/backtest", handle: (*Server).backtestPolicy, summary: "Compare a policy document with the current policy on the stored leads and events (marketing, admin)", tag: "scoring", body: "PolicyInput", status: 200, resp: "Backtest"},
		{method: "GET", path: "/api/v1/policies/{id}", handle: (*Server).getPolicy, summary: "Get a policy draft or version, with its last backtest (backtest_stale says why it is out of date)", tag: "scoring", status: 200, resp: "PolicyDoc"},
		{method: "PUT", path: "/api/v1/policies/{id}", handle: (*Server).updatePolicy, summary: "Replace a draft's document (marketing, admin); 400 lists every problem; 409 if published, or if base is not the draft's sha256", tag: "scoring", body: "DraftInput", status: 200, resp: "PolicyDoc"},
		{method: "GET", path: "/api/v1/policies/{id}/diff", handle: (*Server).diffPolicy, summary: "A draft line by line against the version in force (a version against the one before it), unchanged runs folded", tag: "scoring", status: 200, resp: "PolicyDiff"},
		{method: "POST", path: "/api/v1/policies/{id}/publish", handle: (*Server).publishPolicy, summary: "Publish a draft as the next version with a change note and rescore every lead (marketing, admin); 400 naming change_note without one; 409 if already published or edited since sha256", tag: "scoring", body: "PublishInput", status: 200, resp: "PolicyDoc"},
		{method: "GET", path: "/api/v1/scoring/status", handle: (*Server).scoringStatus, summary: "How many leads are scored by the current policy and model", tag: "scoring", status: 200, resp: "RescoreStatus"},
		{method: "GET", path: "/api/v1/reports/{name}", handle: (*Server).report, summary: "Run a report: funnel, velocity, sla, rejections, recycled, quality, quality_rules, stale or stalled (reps: stale and stalled, their own); ?format=csv for CSV", tag: "reports",
			params: []param{p("from", "date", "first day, YYYY-MM-DD"), p("to", "date", "day after the last, YYYY-MM-DD"), param{name: "by", typ: "string", desc: "breakdown: source, campaign, industry, size, country, team, owner (or week for rejections)", enum: append(slices.Clone(baton.ReportDimensions), "week")},
				p("cohort", "boolean", "funnel: by creation cohort instead of by period"), p("days", "integer", "stale, stalled: days without progress"),
				p("active_days", "integer", "stalled: days with events"), p("limit", "integer", "rows at most"),
				p("manager", "id", "funnel, velocity, rejections: within the team of this manager (user id): the manager and who reports to them"), format,
				{name: "name", in: "path", typ: "ReportName", desc: "the report"}},
			status: 200, resp: "Report"},
		{method: "GET", path: "/api/v1/models", handle: (*Server).listModels, summary: "List the trained models, newest first", tag: "scoring", status: 200, resp: "ModelList"},
		{method: "POST", path: "/api/v1/models/train", handle: (*Server).trainModel, summary: "Train a model on the leads with known outcomes; activate it unless worse than the active one (marketing, admin)", tag: "scoring", body: "TrainInput", bodyOptional: true, status: 200, resp: "TrainReport"},
		{method: "POST", path: "/api/v1/models/{version}/activate", handle: (*Server).activateModel, summary: "Make a model the active one and rescore every lead (marketing, admin)", tag: "scoring",
			params: []param{{name: "version", in: "path", typ: "int32", desc: "the model's version"}}, status: 200, resp: "ModelInfo"},

		// The handoff: storage decides who may answer for a lead (its owner,
		// the owner's manager, an admin).
		{method: "POST", path: "/api/v1/leads/{id}/accept", handle: handoff((*Server).acceptLead), summary: "Accept the lead's open handoff: an MQL becomes a SAL owned by the rep; an AE accepting an SQL keeps it an SQL (owner, their manager, admin); 409 if someone answered first", tag: "handoff", status: 200, resp: "Lead"},
		{method: "POST", path: "/api/v1/leads/{id}/reject", handle: handoff((*Server).rejectLead), summary: "Reject an MQL or a SAL with an agreed reason: recycled, disqualified or merged as the policy says (unable_to_reach needs the policy's logged attempts, other a note, duplicate duplicate_of)", tag: "handoff", body: "Rejection", status: 200, resp: "Lead"},
		{method: "POST", path: "/api/v1/leads/{id}/attempts", handle: handoff((*Server).logAttempt), summary: "Log a contact attempt on the lead (sales)", tag: "handoff", body: "AttemptInput", status: 201, resp: "Attempt"},
		{method: "GET", path: "/api/v1/leads/{id}/attempts", handle: handoff((*Server).listAttempts), summary: "A lead's contact attempts, oldest first", tag: "handoff", status: 200, resp: "AttemptList"},
		{method: "POST", path: "/api/v1/leads/{id}/qualify", handle: handoff((*Server).qualifyLead), summary: "Qualify a SAL with its BANT record: it becomes an SQL routed to an account executive; 400 lists the parts the policy needs that are missing", tag: "handoff", body: "BANT", status: 200, resp: "Lead"},
		{method: "POST", path: "/api/v1/leads/{id}/send-back", handle: handoff((*Server).sendBackLead), summary: "Send an SQL back to the development rep who qualified it, with a reason (the AE, their manager, admin)", tag: "handoff", body: "SendBack", status: 200, resp: "Lead"},
		{method: "POST", path: "/api/v1/leads/{id}/recycle", handle: handoff((*Server).recycleLead), summary: "Return an SQL to marketing's nurture, with a reason: the track and cool-down are set (the AE, their manager, admin)", tag: "handoff", body: "SendBack", status: 200, resp: "Lead"},
		{method: "POST", path: "/api/v1/leads/{id}/convert", handle: handoff((*Server).convertLead), summary: "Convert an SQL into an opportunity: 201 the first time; a retry with the same Idempotency-Key answers 200 with the same opportunity", tag: "handoff",
			params: []param{{name: idempotencyHeader, typ: "string", in: "header", desc: "a key of your choice (at most 255 bytes) that makes a retry return the first conversion's opportunity"}},
			body:   "ConvertInput", status: 201, resp: "Opportunity", also: 200, alsoDesc: "A retry with the same Idempotency-Key: the opportunity of the first conversion.",
			errors: []int{http.StatusUnprocessableEntity}},
		{method: "POST", path: "/api/v1/leads/{id}/close", handle: handoff((*Server).closeLead), summary: "Close the lead's opportunity won or lost (lost needs a reason)", tag: "handoff", body: "CloseInput", status: 200, resp: "Lead"},
		{method: "POST", path: "/api/v1/leads/{id}/assign", handle: handoff((*Server).assignLead), summary: "Give a lead to another rep, with a new SLA clock for an MQL or an SQL (managers within their team, admins)", tag: "handoff", body: "AssignInput", status: 200, resp: "Lead"},
		{method: "POST", path: "/api/v1/leads/{id}/claim", handle: handoff((*Server).claimLead), summary: "Pull an unassigned MQL, or a nurtured lead that keeps engaging, when the policy allows it (development reps)", tag: "handoff", status: 200, resp: "Lead"},
		{method: "GET", path: "/api/v1/leads/{id}/handoffs", handle: handoff((*Server).leadHandoffs), summary: "A lead's handoffs, oldest first: its SLA records", tag: "handoff", status: 200, resp: "HandoffList"},
		{method: "GET", path: "/api/v1/queue", handle: handoff((*Server).queue), summary: "The caller's leads awaiting their answer, each with its handoff and deadline (handoff.due_at); a page of them, total counts all", tag: "handoff",
			params: withPaging(param{name: "sort", typ: "string", desc: "order: deadline (soonest first, the default), probability or fit (highest first)", enum: queueSorts}),
			status: 200, resp: "Queue"},
		{method: "GET", path: "/api/v1/notifications", handle: handoff((*Server).listNotifications), summary: "The caller's in-app notifications, newest first", tag: "handoff",
			params: []param{p("unread", "boolean", "only the unread ones"), paging[0]}, status: 200, resp: "NotificationList"},
		{method: "POST", path: "/api/v1/notifications/{id}/read", handle: handoff((*Server).markRead), summary: "Mark one of the caller's notifications read; 404 if it is not theirs or already read", tag: "handoff", status: 204},
		{method: "GET", path: "/api/v1/stale-sals", handle: handoff((*Server).staleSALs), summary: "The accepted leads the caller may see that have had no opportunity for longer than the policy allows", tag: "handoff", status: 200, resp: "LeadList"},

		// Webhooks: the admin's webhooks page as JSON, with its rules (admins only, audited).
		{method: "GET", path: "/api/v1/webhooks", handle: (*Server).listWebhooks, summary: "List the webhooks, never their secrets (admin)", tag: "webhooks", status: 200, resp: "WebhookList"},
		{method: "POST", path: "/api/v1/webhooks", handle: (*Server).createWebhook, summary: "Add a webhook (admin): https to a public address unless the server allows private ones; Baton makes its signing secret (whsec_ and base64), returned in this answer only", tag: "webhooks", body: "WebhookInput", status: 201, resp: "Webhook"},
		{method: "GET", path: "/api/v1/webhooks/{id}", handle: (*Server).getWebhook, summary: "Get a webhook, without its secret (admin)", tag: "webhooks", status: 200, resp: "Webhook"},
		{method: "PATCH", path: "/api/v1/webhooks/{id}", handle: (*Server).updateWebhook, summary: "Disable a webhook (active false) or enable it again (admin)", tag: "webhooks", body: "WebhookUpdate", status: 200, resp: "Webhook"},
		{method: "POST", path: "/api/v1/webhooks/{id}/rotate", handle: (*Server).rotateWebhook, summary: "Give a webhook a new secret, returned in this answer only; the old one still signs beside it for grace (default 24h, at most 30 days) (admin)", tag: "webhooks", body: "RotateInput", bodyOptional: true, status: 200, resp: "RotateResult"},
		{method: "GET", path: "/api/v1/webhooks/{id}/deliveries", handle: (*Server).webhookDeliveries, summary: "A webhook's delivery log, newest first: every attempt, in flight, interrupted, delivered or failed (admin)", tag: "webhooks",
			params: []param{paging[0]}, status: 200, resp: "DeliveryList"},

		{method: "GET", path: "/api/v1/slack-channels", handle: (*Server).listSlackChannels, summary: "List the Slack incoming webhooks of teams and users, never their URLs (admin)", tag: "webhooks", status: 200, resp: "SlackChannelList"},
		{method: "POST", path: "/api/v1/slack-channels", handle: (*Server).createSlackChannel, summary: "Add a Slack incoming webhook that gets the notifications of a team or of a user (admin): new MQL, SQL handed over, reminder, breach, rejection; its URL is stored sealed and never shown again", tag: "webhooks", body: "SlackChannelInput", status: 201, resp: "SlackChannel"},
		{method: "PATCH", path: "/api/v1/slack-channels/{id}", handle: (*Server).updateSlackChannel, summary: "Turn a Slack channel off (active false) or on again (admin)", tag: "webhooks", body: "WebhookUpdate", status: 200, resp: "SlackChannel"},

		// The intake: Segment's HTTP Tracking API with a write key (or a
		// capture key from its origins), the website's capture, and the
		// admin's keys.
		{method: "POST", path: "/v1/batch", handle: segment("batch"), summary: "Segment's batch: identify, track and page messages in one request, each stored once per messageId (a write key as the basic-auth user, or a capture key for track and page)", tag: "intake", ingest: ingestAny, body: "SegmentBatch", status: 200, resp: "IntakeResult"},
		{method: "POST", path: "/v1/identify", handle: segment("identify"), summary: "Segment's identify: upsert the lead by traits.email or userId and link the anonymousId to it, with its pending events (write key)", tag: "intake", ingest: ingestWrite, body: "SegmentMessage", status: 200, resp: "IntakeResult"},
		{method: "POST", path: "/v1/track", handle: segment("track"), summary: "Segment's track: an event of the lead or the visitor, its type from the policy's intake.track", tag: "intake", ingest: ingestAny, body: "SegmentMessage", status: 200, resp: "IntakeResult"},
		{method: "POST", path: "/v1/page", handle: segment("page"), summary: "Segment's page: a page view, its type from the policy's intake.pages (a pricing page: pricing_page_view)", tag: "intake", ingest: ingestAny, body: "SegmentMessage", status: 200, resp: "IntakeResult"},
		{method: "POST", path: "/capture/v1/form", handle: (*Server).captureForm, summary: "A website's form, from a plain HTML form or fetch (capture key as ?key=, from an allowed origin): the lead upserted by email, a form_submit event; the answer says only that it was received; a plain form's browser gets a page or goes to _next", tag: "intake", ingest: ingestCapture, body: "FormInput", status: 200, resp: "FormResult", errors: []int{http.StatusTooManyRequests}},
		{method: "GET", path: "/capture.js", handle: (*Server).captureScript, summary: "The first-party capture script: page views and forms with an anonymous id (see the README for the snippet)", tag: "intake", public: true, status: 200, raw: "text/javascript"},
		{method: "GET", path: "/api/v1/ingest-keys", handle: (*Server).listIngestKeys, summary: "List the ingest keys, never the keys themselves (admin)", tag: "intake", status: 200, resp: "IngestKeyList"},
		{method: "POST", path: "/api/v1/ingest-keys", handle: (*Server).createIngestKey, summary: "Make an ingest key (admin): write, for Segment, or capture, for a website's origins; it is shown only once", tag: "intake", body: "IngestKeyInput", status: 201, resp: "IngestKeyResult"},
		{method: "DELETE", path: "/api/v1/ingest-keys/{id}", handle: (*Server).revokeIngestKey, summary: "Revoke an ingest key: from the next message on it answers 401 (admin)", tag: "intake", status: 200, resp: "IngestKey"},

		{method: "GET", path: "/api/v1/products", handle: (*Server).listProducts, summary: "List products by name", tag: "opportunities", status: 200, resp: "ProductList"},
	}
}

// schemaTypes are the Go types of the named schemas of the OpenAPI
// document; their JSON shape is read from their struct tags.
var schemaTypes = map[string]reflect.Type{
	"Lead":            reflect.TypeFor[baton.Lead](),
	"LeadInput":       reflect.TypeFor[leadInput](),
	"LeadUpdate":      reflect.TypeFor[baton.LeadUpdate](),
	"LeadList":        reflect.TypeFor[list[baton.Lead]](),
	"UpsertResult":    reflect.TypeFor[upsertResult](),
	"StageChange":     reflect.TypeFor[baton.StageChange](),
	"HistoryEntry":    reflect.TypeFor[baton.HistoryEntry](),
	"HistoryList":     reflect.TypeFor[list[baton.HistoryEntry]](),
	"TimelineItem":    reflect.TypeFor[baton.TimelineItem](),
	"Timeline":        reflect.TypeFor[list[baton.TimelineItem]](),
	"Account":         reflect.TypeFor[baton.Account](),
	"AccountInput":    reflect.TypeFor[accountInput](),
	"AccountUpdate":   reflect.TypeFor[baton.AccountUpdate](),
	"AccountList":     reflect.TypeFor[list[baton.Account]](),
	"User":            reflect.TypeFor[baton.User](),
	"UserInput":       reflect.TypeFor[userInput](),
	"UserUpdate":      reflect.TypeFor[baton.UserUpdate](),
	"UserList":        reflect.TypeFor[list[baton.User]](),
	"OutOfOffice":     reflect.TypeFor[baton.OutOfOffice](),
	"TokenInput":      reflect.TypeFor[tokenInput](),
	"Token":           reflect.TypeFor[tokenResult](),
	"TokenInfo":       reflect.TypeFor[baton.Token](),
	"TokenInfoList":   reflect.TypeFor[list[baton.Token]](),
	"AuditEntry":      reflect.TypeFor[baton.AuditEntry](),
	"AuditList":       reflect.TypeFor[list[baton.AuditEntry]](),
	"EventInput":      reflect.TypeFor[baton.EventInput](),
	"EventResult":     reflect.TypeFor[eventResult](),
	"RowError":        reflect.TypeFor[baton.RowError](),
	"Event":           reflect.TypeFor[baton.Event](),
	"EventList":       reflect.TypeFor[list[baton.Event]](),
	"Opportunity":     reflect.TypeFor[baton.Opportunity](),
	"OpportunityList": reflect.TypeFor[list[baton.Opportunity]](),
	"Product":         reflect.TypeFor[baton.Product](),
	"ProductList":     reflect.TypeFor[list[baton.Product]](),
	"Health":          reflect.TypeFor[health](),
	"ReplicaHealth":   reflect.TypeFor[baton.ReplicaHealth](),

	"OpportunityUpdate": reflect.TypeFor[baton.OpportunityUpdate](),
	"PolicyDoc":         reflect.TypeFor[baton.PolicyDoc](),
	"PolicyList":        reflect.TypeFor[list[baton.PolicyDoc]](),
	"PolicyInput":       reflect.TypeFor[policyInput](),
	"DraftInput":        reflect.TypeFor[draftInput](),
	"PublishInput":      reflect.TypeFor[publishInput](),
	"PolicyDiff":        reflect.TypeFor[baton.PolicyDiff](),
	"DiffLine":          reflect.TypeFor[baton.DiffLine](),
	"Validation":        reflect.TypeFor[validation](),
	"Problem":           reflect.TypeFor[Problem](),
	"Backtest":          reflect.TypeFor[baton.Backtest](),
	"BacktestSide":      reflect.TypeFor[baton.BacktestSide](),
	"BacktestRow":       reflect.TypeFor[baton.BacktestRow](),
	"BacktestLead":      reflect.TypeFor[baton.BacktestLead](),
	"LeadScore":         reflect.TypeFor[baton.LeadScore](),
	"ScoreExplanation":  reflect.TypeFor[baton.ScoreExplanation](),
	"ScoreReason":       reflect.TypeFor[baton.ScoreReason](),
	"ProbabilityFactor": reflect.TypeFor[baton.ProbabilityFactor](),
	"RescoreStatus":     reflect.TypeFor[baton.RescoreStatus](),
	"ModelInfo":         reflect.TypeFor[baton.ModelInfo](),
	"ModelList":         reflect.TypeFor[list[baton.ModelInfo]](),
	"ModelMetrics":      reflect.TypeFor[baton.ModelMetrics](),
	"TrainInput":        reflect.TypeFor[trainInput](),
	"TrainReport":       reflect.TypeFor[baton.TrainReport](),
	"Error":             reflect.TypeFor[ErrorBody](),
	"Report":            reflect.TypeFor[baton.Report](),
	"Series":            reflect.TypeFor[baton.Series](),

	"Rejection":        reflect.TypeFor[baton.Rejection](),
	"AttemptInput":     reflect.TypeFor[attemptInput](),
	"Attempt":          reflect.TypeFor[baton.Attempt](),
	"AttemptList":      reflect.TypeFor[list[baton.Attempt]](),
	"BANT":             reflect.TypeFor[baton.BANT](),
	"SendBack":         reflect.TypeFor[sendBackInput](),
	"TimeZoneInput":    reflect.TypeFor[timeZoneInput](),
	"ConvertInput":     reflect.TypeFor[baton.ConvertInput](),
	"CloseInput":       reflect.TypeFor[baton.CloseInput](),
	"AssignInput":      reflect.TypeFor[assignInput](),
	"Handoff":          reflect.TypeFor[baton.Handoff](),
	"HandoffList":      reflect.TypeFor[list[baton.Handoff]](),
	"QueueItem":        reflect.TypeFor[baton.QueueItem](),
	"Queue":            reflect.TypeFor[list[baton.QueueItem]](),
	"Notification":     reflect.TypeFor[baton.Notification](),
	"NotificationList": reflect.TypeFor[list[baton.Notification]](),

	"WebhookPayload": reflect.TypeFor[webhookPayload](),

	"Webhook":       reflect.TypeFor[baton.Webhook](),
	"WebhookList":   reflect.TypeFor[list[baton.Webhook]](),
	"WebhookInput":  reflect.TypeFor[webhookInput](),
	"WebhookUpdate": reflect.TypeFor[webhookUpdate](),
	"RotateInput":   reflect.TypeFor[rotateInput](),
	"RotateResult":  reflect.TypeFor[rotateResult](),
	"Delivery":      reflect.TypeFor[baton.DeliveryAttempt](),
	"DeliveryList":  reflect.TypeFor[list[baton.DeliveryAttempt]](),

	"SlackChannel":      reflect.TypeFor[baton.SlackChannel](),
	"SlackChannelList":  reflect.TypeFor[list[baton.SlackChannel]](),
	"SlackChannelInput": reflect.TypeFor[slackInput](),

	"SegmentMessage":  reflect.TypeFor[segmentMessage](),
	"SegmentBatch":    reflect.TypeFor[segmentBatchDoc](),
	"IntakeResult":    reflect.TypeFor[intakeResult](),
	"FormInput":       reflect.TypeFor[formInput](),
	"FormResult":      reflect.TypeFor[formResult](),
	"IngestKey":       reflect.TypeFor[baton.IngestKey](),
	"IngestKeyList":   reflect.TypeFor[list[baton.IngestKey]](),
	"IngestKeyInput":  reflect.TypeFor[baton.IngestKeyInput](),
	"IngestKeyResult": reflect.TypeFor[ingestKeyResult](),
}
