package api_test

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// apiDoc is the served OpenAPI document, decoded, with what the tests
// need to check values against its schemas.
type apiDoc struct {
	raw map[string]any
}

// servedDoc gets the document from the fixture's server.
func servedDoc(t testing.TB, f *fixture) *apiDoc {
	t.Helper()
	st, b := f.do(none, "GET", "/api/v1/openapi.json", "")
	if st != 200 {
		t.Fatalf("openapi.json: %d %s", st, b)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	return &apiDoc{raw: raw}
}

// resolve follows a $ref of the document.
func (d *apiDoc) resolve(ref string) map[string]any {
	var cur any = d.raw
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, _ := cur.(map[string]any)
		cur = m[strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")]
	}
	m, _ := cur.(map[string]any)
	return m
}

// operation returns the operation of a method and route path, nil if none.
func (d *apiDoc) operation(method, path string) map[string]any {
	paths, _ := d.raw["paths"].(map[string]any)
	item, _ := paths[path].(map[string]any)
	op, _ := item[strings.ToLower(method)].(map[string]any)
	return op
}

// responseSchema returns the JSON schema of an operation's response of the
// status, and whether the status is documented at all.
func (d *apiDoc) responseSchema(op map[string]any, status int) (schema map[string]any, documented bool) {
	responses, _ := op["responses"].(map[string]any)
	r, ok := responses[fmt.Sprint(status)].(map[string]any)
	if !ok {
		return nil, false
	}
	if ref, ok := r["$ref"].(string); ok {
		r = d.resolve(ref)
	}
	content, _ := r["content"].(map[string]any)
	media, _ := content["application/json"].(map[string]any)
	schema, _ = media["schema"].(map[string]any)
	return schema, true
}

// check returns what is wrong with the JSON value v against the schema s,
// one line each, naming the place in v ("$.items[0].stage"). It knows the
// parts of JSON Schema 2020-12 the document uses.
func (d *apiDoc) check(v any, s map[string]any) []string {
	var problems []string
	d.checkAt("$", v, s, &problems)
	return problems
}

func (d *apiDoc) checkAt(at string, v any, s map[string]any, problems *[]string) {
	fail := func(format string, args ...any) { *problems = append(*problems, at+": "+fmt.Sprintf(format, args...)) }
	if s == nil {
		return
	}
	if ref, ok := s["$ref"].(string); ok {
		target := d.resolve(ref)
		if target == nil {
			fail("dangling $ref %s", ref)
			return
		}
		d.checkAt(at, v, target, problems)
		return
	}
	if branches, ok := s["oneOf"].([]any); ok {
		n := 0
		for _, b := range branches {
			if len(d.check(v, b.(map[string]any))) == 0 {
				n++
			}
		}
		if n != 1 {
			fail("matches %d branches of oneOf, not 1", n)
		}
	}
	if branches, ok := s["anyOf"].([]any); ok {
		if !slices.ContainsFunc(branches, func(b any) bool { return len(d.check(v, b.(map[string]any))) == 0 }) {
			fail("matches no branch of anyOf: %s", short(v))
		}
	}
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, v) {
		fail("%s is not one of %v", short(v), enum)
	}
	if typ, ok := s["type"]; ok {
		var types []string
		switch t := typ.(type) {
		case string:
			types = []string{t}
		case []any:
			for _, x := range t {
				types = append(types, x.(string))
			}
		}
		if !slices.Contains(types, jsonType(v)) && !(jsonType(v) == "integer" && slices.Contains(types, "number")) {
			fail("%s is a JSON %s, the schema says %v", short(v), jsonType(v), types)
			return
		}
	}
	switch x := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for _, name := range asStrings(s["required"]) {
			if _, ok := x[name]; !ok {
				fail("required property %s is missing", name)
			}
		}
		for _, k := range sortedKeys(x) {
			if p, ok := props[k].(map[string]any); ok {
				d.checkAt(at+"."+k, x[k], p, problems)
			} else if ap, ok := s["additionalProperties"].(map[string]any); ok {
				d.checkAt(at+"."+k, x[k], ap, problems)
			} else if props != nil && s["additionalProperties"] == nil {
				fail("property %s is not in the schema", k)
			}
		}
	case []any:
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range x {
				d.checkAt(fmt.Sprintf("%s[%d]", at, i), e, items, problems)
			}
		}
		if m, ok := s["maxItems"].(float64); ok && float64(len(x)) > m {
			fail("%d items, at most %v", len(x), m)
		}
	case float64:
		if m, ok := s["minimum"].(float64); ok && x < m {
			fail("%v is below the minimum %v", x, m)
		}
		switch s["format"] {
		case "int32":
			if x < math.MinInt32 || x > math.MaxInt32 {
				fail("%v is not an int32", x)
			}
		case "float":
			if math.Abs(x) > math.MaxFloat32 {
				fail("%v is not a float", x)
			}
		}
	case string:
		switch s["format"] {
		case "date-time":
			if _, err := time.Parse(time.RFC3339Nano, x); err != nil {
				fail("%q is not a date-time", x)
			}
		case "date":
			if _, err := time.Parse(time.DateOnly, x); err != nil {
				fail("%q is not a date", x)
			}
		}
	}
}

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func asStrings(v any) []string {
	var out []string
	xs, _ := v.([]any)
	for _, x := range xs {
		out = append(out, x.(string))
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}

// TestSchemaCheck checks the checker itself: a test of responses against a
// checker that finds nothing would pass whatever the server sends.
func TestSchemaCheck(t *testing.T) {
	d := &apiDoc{raw: map[string]any{"components": map[string]any{"schemas": map[string]any{
		"Stage": map[string]any{"type": "string", "enum": []any{"new", "mql"}},
		"Item": map[string]any{"type": "object", "required": []any{"id", "tags"}, "properties": map[string]any{
			"id":    map[string]any{"type": "integer", "format": "int64", "minimum": 1.0},
			"tags":  map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
			"stage": map[string]any{"$ref": "#/components/schemas/Stage"},
			"at":    map[string]any{"type": "string", "format": "date-time"},
			"owner": map[string]any{"type": []any{"integer", "null"}},
		}},
	}}}}
	item := map[string]any{"$ref": "#/components/schemas/Item"}
	for _, c := range []struct {
		body string
		want string // a problem's text, "" for none
	}{
		{`{"id": 1, "tags": [], "stage": "mql", "at": "2026-03-02T09:30:00Z", "owner": null}`, ""},
		{`{"id": 1, "tags": null}`, "$.tags: null is a JSON null, the schema says [array]"},
		{`{"id": 1}`, "required property tags is missing"},
		{`{"id": 0, "tags": []}`, "below the minimum"},
		{`{"id": 1.5, "tags": []}`, "the schema says [integer]"},
		{`{"id": 1, "tags": [], "stage": "won"}`, `"won" is not one of`},
		{`{"id": 1, "tags": [], "at": "yesterday"}`, "is not a date-time"},
		{`{"id": 1, "tags": [], "extra": 1}`, "property extra is not in the schema"},
		{`{"id": 1, "tags": [3]}`, "$.tags[0]: 3 is a JSON integer"},
	} {
		var v any
		if err := json.Unmarshal([]byte(c.body), &v); err != nil {
			t.Fatal(err)
		}
		problems := d.check(v, item)
		got := strings.Join(problems, "; ")
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%s: problems %q, want %q", c.body, got, c.want)
		}
	}
}
