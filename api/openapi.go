package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/batonhq/baton"
)

// obj is a JSON object of the OpenAPI document.
type obj = map[string]any

// openAPI builds the OpenAPI 3.1 document of the routes.
func openAPI(rs []route) obj {
	paths := obj{}
	for _, rt := range rs {
		item, _ := paths[rt.path].(obj)
		if item == nil {
			item = obj{}
			paths[rt.path] = item
		}
		item[strings.ToLower(rt.method)] = operation(rt)
	}
	schemas := obj{}
	names := make([]string, 0, len(schemaTypes))
	for name := range schemaTypes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		s := schemaOf(schemaTypes[name], true)
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
	return obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":       "Baton API",
			"version":     "1",
			"description": "Lead handoff from marketing to sales. Every error is {\"error\": {\"code\", \"message\", \"field\"}}; an invalid policy document's also lists \"problems\": [{\"line\", \"field\", \"message\"}].",
		},
		"servers":    []any{obj{"url": "/"}},
		"security":   []any{obj{"bearer": []any{}}},
		"paths":      paths,
		"components": obj{"schemas": schemas, "securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer", "description": "An API token: Authorization: Bearer TOKEN"}}, "responses": errorResponses()},
	}
}

var errorStatuses = []struct {
	status int
	desc   string
}{
	{400, "Bad input (code invalid); field names the input at fault."},
	{401, "Missing or unknown API token (code unauthorized)."},
	{403, "The caller may not do this (code forbidden)."},
	{404, "No such thing, or no such route (code not_found)."},
	{409, "Conflict: taken, changed by someone else first, or an illegal lifecycle move (code conflict)."},
	{413, "The body is over its size limit (code invalid)."},
	{500, "Internal error (code internal); details are logged, never shown."},
}

func errorResponses() obj {
	out := obj{}
	for _, e := range errorStatuses {
		out[strconv.Itoa(e.status)] = obj{"description": e.desc, "content": obj{"application/json": obj{"schema": ref("Error")}}}
	}
	return out
}

// inputRequired lists the required fields of the request bodies. (A
// response's required fields are those always present: without omitempty.)
var inputRequired = map[string][]string{
	"LeadInput":     nil, // an email or an external_id
	"LeadUpdate":    nil,
	"StageChange":   {"to"},
	"AccountInput":  {"name"},
	"AccountUpdate": nil,
	"UserInput":     {"email", "name", "role"},
	"UserUpdate":    nil,
	"TokenInput":    nil,
	"EventInput":    {"id", "type", "occurred_at"},
	"PolicyInput":   {"body"},
	"TrainInput":    nil,
	"Rejection":     {"reason"},
	"AttemptInput":  {"channel", "outcome"},
	"BANT":          nil, // the policy says which parts an SQL needs
	"SendBack":      {"reason"},
	"ConvertInput":  {"name"},
	"CloseInput":    {"won"},
	"AssignInput":   {"user_id"},
}

var pathParamRE = regexp.MustCompile(`\{([a-z_]+)\}`)

func operation(rt route) obj {
	op := obj{
		"summary":     rt.summary,
		"operationId": operationID(rt),
		"tags":        []any{rt.tag},
	}
	if rt.public {
		op["security"] = []any{}
	}
	var params []any
	for _, m := range pathParamRE.FindAllStringSubmatch(rt.path, -1) {
		params = append(params, obj{"name": m[1], "in": "path", "required": true, "schema": obj{"type": "integer", "format": "int64", "minimum": 1}})
	}
	for _, q := range rt.params {
		s := obj{"type": q.typ}
		switch q.typ {
		case "integer":
			s["format"] = "int64"
		case "date-time":
			s = obj{"type": "string", "description": "RFC 3339 time or YYYY-MM-DD"}
		}
		if len(q.enum) > 0 {
			s["enum"] = q.enum
		}
		in := q.in
		if in == "" {
			in = "query"
		}
		params = append(params, obj{"name": q.name, "in": in, "required": false, "description": q.desc, "schema": s})
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if rt.body != "" {
		op["requestBody"] = obj{"required": !rt.bodyOptional, "content": obj{"application/json": obj{"schema": ref(rt.body)}}}
	}
	ok := obj{"description": http.StatusText(rt.status)}
	switch {
	case rt.raw != "":
		ok["content"] = obj{rt.raw: obj{"schema": obj{"type": "string"}}}
	case rt.resp != "":
		ok["content"] = obj{"application/json": obj{"schema": ref(rt.resp)}}
	}
	responses := obj{strconv.Itoa(rt.status): ok}
	if rt.also != 0 {
		also := obj{"description": rt.alsoDesc}
		if c, has := ok["content"]; has {
			also["content"] = c
		}
		responses[strconv.Itoa(rt.also)] = also
	}
	for _, e := range errorStatuses {
		switch {
		case e.status == 401 && rt.public,
			e.status == 413 && rt.body == "",
			e.status == 409 && (rt.method == "GET" || rt.public),
			e.status == 400 && rt.public,
			e.status == 403 && rt.public,
			e.status == 404 && rt.public:
			continue
		}
		responses[strconv.Itoa(e.status)] = obj{"$ref": "#/components/responses/" + strconv.Itoa(e.status)}
	}
	op["responses"] = responses
	return op
}

// operationID makes a unique id from the method and path: GET
// /api/v1/leads/{id}/timeline is getLeadsIdTimeline.
func operationID(rt route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.method))
	for _, part := range strings.FieldsFunc(strings.TrimPrefix(rt.path, "/api/v1"), func(r rune) bool { return r == '/' || r == '{' || r == '}' || r == '.' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

var (
	rawType   = reflect.TypeFor[json.RawMessage]()
	attrsType = reflect.TypeFor[baton.Attrs]()
	stageType = reflect.TypeFor[baton.Stage]()
	roleType  = reflect.TypeFor[baton.Role]()
	oppType   = reflect.TypeFor[baton.OpportunityStage]()
)

// schemaOf returns the JSON schema of a Go type, from its json tags. Named
// struct types of schemaTypes become references, except at the top.
func schemaOf(t reflect.Type, top bool) obj {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if !top {
		for name, st := range schemaTypes {
			if st == t && t.Kind() == reflect.Struct && !strings.HasPrefix(name, "list") && t.Name() != "" && !strings.Contains(t.Name(), "[") {
				return ref(name)
			}
		}
	}
	switch t {
	case timeType:
		return obj{"type": "string", "format": "date-time"}
	case rawType:
		return obj{"type": "object", "description": "any JSON object"}
	case attrsType:
		return obj{"type": "object", "description": "custom attributes: each value a string, a number or a boolean",
			"additionalProperties": obj{"type": []any{"string", "number", "boolean"}}}
	case stageType:
		return obj{"type": "string", "enum": enumOf(baton.Stages)}
	case roleType:
		return obj{"type": "string", "enum": enumOf(baton.Roles)}
	case oppType:
		return obj{"type": "string", "enum": []string{string(baton.OppProspecting), string(baton.OppEngaging), string(baton.OppWon), string(baton.OppLost)}}
	}
	switch t.Kind() {
	case reflect.Bool:
		return obj{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return obj{"type": "integer", "format": "int64"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return obj{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return obj{"type": "number"}
	case reflect.String:
		return obj{"type": "string"}
	case reflect.Slice, reflect.Array:
		return obj{"type": "array", "items": schemaOf(t.Elem(), false)}
	case reflect.Map:
		return obj{"type": "object", "additionalProperties": schemaOf(t.Elem(), false)}
	case reflect.Struct:
		props := obj{}
		var required []string
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			s := schemaOf(f.Type, false)
			if f.Type.Kind() == reflect.Pointer && s["$ref"] == nil {
				s["type"] = []any{s["type"], "null"}
			}
			props[name] = s
			if !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer {
				required = append(required, name)
			}
		}
		s := obj{"type": "object", "properties": props}
		if len(required) > 0 {
			s["required"] = required
		}
		return s
	}
	return obj{}
}
