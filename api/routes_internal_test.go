package api

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRouteTable checks that every route of the table is registered in the
// mux under its own pattern and is an operation of the OpenAPI document,
// and that the document has no operation the table lacks.
func TestRouteTable(t *testing.T) {
	s := New(Services{}, nil)
	doc := openAPI(s.routes)
	paths := doc["paths"].(obj)
	ops := 0
	for _, item := range paths {
		ops += len(item.(obj))
	}
	if ops != len(s.routes) {
		t.Errorf("the document has %d operations, the table %d routes", ops, len(s.routes))
	}
	seen := map[string]bool{}
	for _, rt := range s.routes {
		pattern := rt.method + " " + rt.path
		if seen[pattern] {
			t.Errorf("route %s twice", pattern)
		}
		seen[pattern] = true
		req := httptest.NewRequest(rt.method, pathParamRE.ReplaceAllString(rt.path, "1"), nil)
		if _, got := s.mux.Handler(req); got != pattern {
			t.Errorf("%s is routed to %q", pattern, got)
		}
		item, ok := paths[rt.path].(obj)
		if !ok {
			t.Errorf("%s: path not documented", pattern)
			continue
		}
		op, ok := item[strings.ToLower(rt.method)].(obj)
		if !ok {
			t.Errorf("%s: method not documented", pattern)
			continue
		}
		if op["summary"] == "" || op["responses"] == nil {
			t.Errorf("%s: no summary or responses", pattern)
		}
		if _, ok := inputRequired[rt.body]; rt.body != "" && rt.body != "EventBatch" && !ok {
			t.Errorf("%s: the body %s has no entry in inputRequired", pattern, rt.body)
		}
		if rt.resp != "" || rt.body != "" {
			schemas := doc["components"].(obj)["schemas"].(obj)
			for _, name := range []string{rt.resp, rt.body} {
				if _, ok := schemas[name]; name != "" && !ok {
					t.Errorf("%s: schema %s missing", pattern, name)
				}
			}
		}
	}
}

// TestOpenAPIRefs checks that every $ref of the document resolves.
func TestOpenAPIRefs(t *testing.T) {
	doc := openAPI(routes())
	comps := doc["components"].(obj)
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case obj:
			if r, ok := x["$ref"].(string); ok {
				parts := strings.Split(strings.TrimPrefix(r, "#/components/"), "/")
				if len(parts) != 2 || comps[parts[0]] == nil || comps[parts[0]].(obj)[parts[1]] == nil {
					t.Errorf("dangling $ref %s", r)
				}
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(doc)
}
