package api

import (
	"cmp"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/batonhq/baton"
)

// obj is a JSON object of the OpenAPI document.
type obj = map[string]any

// openAPI builds the OpenAPI 3.1 document of the routes.
func openAPI(rs []route) obj {
	schemas := componentSchemas()
	ex := &exampler{schemas: schemas}
	paths := obj{}
	for _, rt := range rs {
		item, _ := paths[rt.path].(obj)
		if item == nil {
			item = obj{}
			paths[rt.path] = item
		}
		item[strings.ToLower(rt.method)] = operation(rt, ex)
	}
	return obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":       "Baton API",
			"version":     "1",
			"description": "Lead handoff from marketing to sales. Every error is {\"error\": {\"code\", \"message\", \"field\"}}; an invalid policy document's also lists \"problems\": [{\"line\", \"field\", \"message\"}]. Lists are {\"items\": [...], \"total\": N}; an array is never null.",
		},
		"servers":  []any{obj{"url": "/"}},
		"security": []any{obj{"bearer": []any{}}},
		"tags":     tags(rs),
		"paths":    paths,
		"webhooks": webhooks(ex),
		"components": obj{"schemas": schemas,
			"securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer", "description": "An API token: Authorization: Bearer TOKEN"},
				"writeKey":   obj{"type": "http", "scheme": "basic", "description": "An ingest write key (bw_...) as the basic-auth user with no password, as Segment sends it; from servers only"},
				"captureKey": obj{"type": "apiKey", "in": "query", "name": "key", "description": "An ingest capture key (bc_...), from a browser on one of the key's origins"}},
			"responses": errorResponses()},
	}
}

// componentSchemas returns the named schemas: those of schemaTypes, read
// from the Go types, and the few that are not one Go type.
func componentSchemas() obj {
	schemas := obj{}
	for name, t := range schemaTypes {
		s := schemaOf(t, true)
		if req, ok := inputRequired[name]; ok {
			delete(s, "required")
			if len(req) > 0 {
				s["required"] = req
			}
		}
		schemas[name] = s
	}
	schemas["EventBatch"] = obj{
		"description": "One event, or an array of up to " + strconv.Itoa(baton.MaxEventBatch) + " events.",
		"oneOf": []any{ref("EventInput"),
			obj{"type": "array", "maxItems": baton.MaxEventBatch, "items": ref("EventInput")}},
	}
	schemas["OpenAPI"] = obj{"type": "object", "description": "An OpenAPI 3.1 document."}
	for name, values := range vocabularies {
		schemas[name] = obj{"type": "string", "enum": values}
	}
	return schemas
}

// tags names the tags of the routes, in the order they first appear.
func tags(rs []route) []any {
	seen := map[string]bool{}
	var out []any
	for _, rt := range rs {
		if !seen[rt.tag] {
			seen[rt.tag] = true
			out = append(out, obj{"name": rt.tag, "description": tagDescriptions[rt.tag]})
		}
	}
	if !seen["webhooks"] {
		out = append(out, obj{"name": "webhooks", "description": tagDescriptions["webhooks"]})
	}
	return out
}

// tagDescriptions say what each tag's routes are about.
var tagDescriptions = map[string]string{
	"meta":          "Health, readiness, metrics and this document.",
	"users":         "Users, their tokens, time zones and absences, and the audit log.",
	"leads":         "Leads: create, upsert, read, change, and move along the lifecycle.",
	"accounts":      "The companies leads work for.",
	"events":        "What leads do: page views, downloads, webinars; the input of engagement scoring.",
	"opportunities": "Deals made from SQLs, and the products they sell.",
	"scoring":       "Scoring policies, lead scores, the predictive model.",
	"reports":       "Funnel, velocity, SLA, rejections and the rest, as JSON or CSV.",
	"handoff":       "The handoff from marketing to sales: accept, reject, attempts, qualify, convert, close, queues.",
	"webhooks":      "The signed POSTs Baton sends to the webhooks an admin registers.",
	"intake":        "Segment's HTTP Tracking API and the website's capture, with ingest keys (write and capture), never API tokens.",
}

// errorStatuses are the error responses of the document, with the code
// and message of their examples. Which operation has which is up to
// errorsOf.
var errorStatuses = []errorStatus{
	{400, "BadRequest", "Bad input (code invalid); field names the input at fault.", baton.EINVALID, "\"x\" is not an id (a positive integer)", "id"},
	{401, "Unauthorized", "Missing or unknown API token (code unauthorized).", baton.EUNAUTHORIZED, "missing API token: send Authorization: Bearer TOKEN", ""},
	{403, "Forbidden", "The caller may not do this (code forbidden).", baton.EFORBIDDEN, "only an admin may do this", ""},
	{404, "NotFound", "No such thing, or one the caller may not see (code not_found).", baton.ENOTFOUND, "no lead 42", ""},
	{409, "Conflict", "Conflict: taken, changed by someone else first, or an illegal lifecycle move (code conflict).", baton.ECONFLICT, "the lead was answered meanwhile", ""},
	{413, "TooLarge", "The body is over its size limit (code invalid).", baton.EINVALID, "the body is over its limit of 1 MiB", ""},
	{422, "Unprocessable", "Well formed, but it contradicts an earlier request: an Idempotency-Key reused with another body (code unprocessable).", baton.EUNPROCESSABLE, "this Idempotency-Key was used with another body", "Idempotency-Key"},
	{429, "TooManyRequests", "Too many write requests at once: retry after the Retry-After header's seconds (code unavailable).", baton.EUNAVAILABLE, "too many write requests at once: retry after 1 s", ""},
	{500, "InternalError", "Internal error (code internal); details are logged, never shown.", baton.EINTERNAL, "internal error", ""},
	{503, "Unavailable", "The database cannot take the request now (its disk is full, it is read-only): retry after the Retry-After header's seconds (code unavailable).", baton.EUNAVAILABLE, "the disk is full: nothing was saved; retry when it is fixed", ""},
}

// errorResponses are the error responses every operation refers to, by
// name, each with an example of its code.
func errorResponses() obj {
	out := obj{}
	for _, e := range errorStatuses {
		detail := map[string]any{"code": e.code, "message": e.message}
		if e.field != "" {
			detail["field"] = e.field
		}
		r := obj{"description": e.desc, "content": obj{"application/json": obj{"schema": ref("Error"), "example": map[string]any{"error": detail}}}}
		if e.status == 429 || e.status == 503 {
			r["headers"] = obj{"Retry-After": obj{"description": "Seconds to wait before a retry.", "schema": obj{"type": "integer", "format": "int32", "minimum": 0}}}
		}
		out[e.name] = r
	}
	return out
}

// errorStatus is an error response of the document: its status, name and
// description, and the code, message and field of its example.
type errorStatus struct {
	status        int
	name, desc    string
	code, message string
	field         string
}

// errorsOf returns the error responses of a route: what any request may get
// (an internal error), what authentication, input and storage add, and the
// route's own (route.errors).
func errorsOf(rt route) []errorStatus {
	write := rt.method != "GET"
	var out []errorStatus
	for _, e := range errorStatuses {
		var has bool
		switch e.status {
		case 400, 401, 403, 404, 503:
			has = !rt.public
		case 409:
			has = write && !rt.public
		case 413:
			has = rt.body != ""
		case 429:
			has = write
		case 500:
			has = true
		default:
			has = slices.Contains(rt.errors, e.status)
		}
		if has {
			out = append(out, e)
		}
	}
	return out
}

// inputRequired lists the required fields of every request body (a test
// holds every route's body to it). A response's required fields are those
// always present: without omitempty.
var inputRequired = map[string][]string{
	"TimeZoneInput":     nil, // empty follows the working calendar
	"OutOfOffice":       {"until"},
	"OpportunityUpdate": nil,
	"WebhookInput":      {"url"},
	"WebhookUpdate":     {"active"},
	"RotateInput":       nil, // empty for the default grace
	"SlackChannelInput": {"url"},
	"DraftInput":        {"body"},
	"PublishInput":      {"change_note"},
	"LeadInput":         nil, // an email or an external_id
	"LeadUpdate":        nil,
	"StageChange":       {"to"},
	"AccountInput":      {"name"},
	"AccountUpdate":     nil,
	"UserInput":         {"email", "name", "role"},
	"UserUpdate":        nil,
	"TokenInput":        nil,
	"EventInput":        {"id", "type", "occurred_at"},
	"PolicyInput":       {"body"},
	"TrainInput":        nil,
	"Rejection":         {"reason"},
	"AttemptInput":      {"channel", "outcome"},
	"BANT":              nil, // the policy says which parts an SQL needs
	"SendBack":          {"reason"},
	"ConvertInput":      {"name"},
	"CloseInput":        {"won"},
	"AssignInput":       {"user_id"},
	"SegmentMessage":    {"messageId"},
	"SegmentBatch":      {"batch"},
	"FormInput":         {"email"},
	"IngestKeyInput":    {"kind", "name"},
}

var pathParamRE = regexp.MustCompile(`\{([a-z_]+)\}`)

func operation(rt route, ex *exampler) obj {
	op := obj{
		"summary":     rt.summary,
		"operationId": operationID(rt),
		"tags":        []any{rt.tag},
	}
	switch {
	case rt.public:
		op["security"] = []any{}
	case rt.ingest == ingestAny:
		op["security"] = []any{obj{"writeKey": []any{}}, obj{"captureKey": []any{}}}
	case rt.ingest == ingestWrite:
		op["security"] = []any{obj{"writeKey": []any{}}}
	case rt.ingest == ingestCapture:
		op["security"] = []any{obj{"captureKey": []any{}}}
	}
	var params []any
	for _, p := range pathParams(rt) {
		params = append(params, parameter(p, "path"))
	}
	for _, q := range rt.params {
		if q.in == "path" {
			continue
		}
		params = append(params, parameter(q, cmp.Or(q.in, "query")))
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if rt.body != "" {
		content := obj{"application/json": obj{"schema": ref(rt.body), "example": ex.example(ref(rt.body), rt.body)}}
		if rt.ingest == ingestCapture {
			content["application/x-www-form-urlencoded"] = obj{"schema": ref(rt.body), "example": ex.example(ref(rt.body), rt.body)}
		}
		op["requestBody"] = obj{"required": !rt.bodyOptional, "content": content}
	}
	ok := obj{"description": http.StatusText(rt.status)}
	switch {
	case rt.raw != "":
		ok["content"] = obj{rt.raw: obj{"schema": obj{"type": "string"}, "example": rawExamples[rt.raw]}}
	case rt.resp != "":
		ok["content"] = obj{"application/json": obj{"schema": ref(rt.resp), "example": ex.example(ref(rt.resp), rt.resp)}}
	}
	responses := obj{strconv.Itoa(rt.status): ok}
	if rt.also != 0 {
		also := obj{"description": rt.alsoDesc}
		if c, has := ok["content"]; has {
			also["content"] = c
		}
		responses[strconv.Itoa(rt.also)] = also
	}
	for _, e := range errorsOf(rt) {
		if _, has := responses[strconv.Itoa(e.status)]; !has {
			responses[strconv.Itoa(e.status)] = obj{"$ref": "#/components/responses/" + e.name}
		}
	}
	op["responses"] = responses
	return op
}

// rawExamples are the examples of the responses that are not JSON.
var rawExamples = map[string]string{
	"text/javascript": "(function () { \"use strict\"; /* ... */ })();\n",
	"text/plain":      "# HELP baton_http_requests_total HTTP requests by route and status.\n# TYPE baton_http_requests_total counter\nbaton_http_requests_total{route=\"GET /api/v1/leads\",status=\"200\"} 42\n",
}

// pathParams returns the path parameters of a route: each {name} of its
// path, declared in route.params with in "path", or else an id.
func pathParams(rt route) []param {
	var out []param
	for _, m := range pathParamRE.FindAllStringSubmatch(rt.path, -1) {
		p := param{name: m[1], typ: "id", desc: "the id"}
		for _, q := range rt.params {
			if q.in == "path" && q.name == m[1] {
				p = q
			}
		}
		out = append(out, p)
	}
	return out
}

// parameter is the OpenAPI parameter of p.
func parameter(p param, in string) obj {
	s := paramSchema(p.typ)
	if len(p.enum) > 0 {
		s["enum"] = p.enum
	}
	o := obj{"name": p.name, "in": in, "required": in == "path", "description": p.desc, "schema": s}
	return o
}

// paramSchema is the schema of a parameter of the type: a JSON type, or
// id (a positive int64), int32, date (YYYY-MM-DD), or time (an RFC 3339
// time or a YYYY-MM-DD date, which no format says).
func paramSchema(typ string) obj {
	switch typ {
	case "id":
		return obj{"type": "integer", "format": "int64", "minimum": 1}
	case "integer":
		return obj{"type": "integer", "format": "int64", "minimum": 0}
	case "int32":
		return obj{"type": "integer", "format": "int32", "minimum": 1}
	case "date":
		return obj{"type": "string", "format": "date"}
	case "time":
		return obj{"type": "string", "description": "RFC 3339 time or YYYY-MM-DD"}
	}
	if _, ok := vocabularies[typ]; ok {
		return ref(typ)
	}
	return obj{"type": typ}
}

// operationID makes a unique identifier from the method and path: GET
// /api/v1/leads/{id}/timeline is getLeadsIdTimeline, POST
// /api/v1/leads/{id}/send-back postLeadsIdSendBack.
func operationID(rt route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.method))
	for _, part := range strings.FieldsFunc(strings.TrimPrefix(rt.path, "/api/v1"), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }
