// Package api serves Baton's JSON API under /api/v1, plus /healthz and
// /metrics, on the standard library's http.ServeMux.
//
// # Routes
//
// Every route is one row of a single table (see routes.go): method, pattern,
// handler, summary, parameters and schemas. The mux is built from the table
// and so is the OpenAPI 3.1 document served at /api/v1/openapi.json, so the
// two cannot drift apart.
//
// # The OpenAPI document
//
// The schemas are read from the Go types by reflection (openapi_schema.go):
// JSON Schema 2020-12 types only, a format on every integer and number
// (int64, int32, double...), null only where a nil pointer is sent as null,
// and every closed vocabulary (stages, roles, reject reasons, BANT authority
// and timing, attempt channels, handoff kinds and states, error codes...) a
// named enum schema built from the root package's lists, which validation
// uses too. A path parameter is an id unless the route declares it (the
// report name is an enum of the reports). Each operation gets an identifier
// for its operationId, an example of its request and response built from
// its schemas (openapi_example.go), and the error responses its kind of
// route may give (errorsOf). The webhook payloads are the document's
// webhooks (openapi_webhooks.go). A new route gets all of it from its row.
//
// Tests hold the document to this: every GET answers, on an empty and a
// populated server, match the documented schema of their status (no array
// is ever null); every example matches its schema; real webhook deliveries
// match theirs; Redocly's recommended rules find no error; and the Go client
// in package client is generated from the served document and used.
//
// # The intake
//
// Segment's HTTP Tracking API (/v1/batch, /v1/identify, /v1/track,
// /v1/page; segment.go) and the website's capture (/capture/v1/form and
// /capture.js; capture.go) take ingest keys, not tokens (intake.go): a
// write key as the basic-auth user from servers, a capture key as ?key=
// from browsers on its origins, with CORS answers for those origins only
// and a token bucket per address. A route of the table says which kind it
// takes (route.ingest), so no token reaches these routes and no ingest key
// any other. What the messages do is storage's: [baton.IntakeService].
//
// # Authentication and roles
//
// A request names its user with "Authorization: Bearer TOKEN". The token is
// checked by [baton.UserService.Authenticate] and the user is put in the
// request's context as a [baton.Actor]. The API does not decide what a user
// may do: storage does, from that actor, and the API maps its errors. Two
// exceptions, until storage checks them first: validating a policy and
// training a model are refused here to all but marketing and admins.
//
// # The handoff
//
// The routes under /api/v1/leads/{id}/ that accept, reject, qualify, send
// back, convert, close, assign and claim a lead, with /api/v1/queue,
// /api/v1/notifications and /api/v1/stale-sals, serve a
// [baton.HandoffService]. Storage enforces who may answer for a lead; a
// request that loses a race for it (someone answered first) gets 409.
// POST .../convert takes an Idempotency-Key header: the first conversion
// answers 201 with the opportunity, a retry with the same key 200 with the
// same one.
//
// # Errors
//
// Every error is a JSON object {"error": {"code", "message", "field"}}. The
// code is a baton error code; one table maps it to an HTTP status (invalid
// 400, unauthorized 401, forbidden 403, not_found 404, conflict 409,
// internal 500). Internal errors are logged once and shown only as "internal
// error". A body over its size limit is answered 413 with the code invalid.
//
// # Input
//
// Request bodies are decoded by one helper: a size limit, no unknown
// fields, exactly one JSON value, and JSON errors turned into field errors
// ("expected a number, got string" for field "employees"). POST
// /api/v1/events takes one event or an array of up to [baton.MaxEventBatch]
// events. A plain array (no escapes in its strings, only known keys) is
// decoded in one pass without reflection; anything else falls back to
// encoding/json element by element, so that an error names its index
// ("[3].foo"). The fast path only ever accepts what encoding/json accepts,
// with the same result (FuzzFastEvents).
//
// # Metrics
//
// /metrics has the HTTP series (metrics.go) and, when Services.Stats is
// set, the business series read from storage at each scrape (stats.go,
// [baton.Stats]); the README lists them.
//
// # Benchmarks
//
// bench_test.go posts 10,000-event arrays over HTTP into SQLite
// (BenchmarkEventIngest), inserts the same rows with plain multi-row INSERTs
// in one transaction (BenchmarkEventInsertFloor), and measures both in turn
// with their ratio (BenchmarkEventIngestVsFloor):
//
//	go test ./api/ -run '^$' -bench Event -benchtime 8x
package api
