package api_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
)

type docRoute struct{ method, path string }

// documentedRoutes returns the method and path of every operation of the
// served OpenAPI document.
func documentedRoutes(t *testing.T, f *fixture) []docRoute {
	t.Helper()
	st, b := f.do(none, "GET", "/api/v1/openapi.json", "")
	if st != 200 {
		t.Fatalf("openapi.json: %d %s", st, b)
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	decodeJSON(t, b, &doc)
	var out []docRoute
	for path, ops := range doc.Paths {
		for method := range ops {
			out = append(out, docRoute{strings.ToUpper(method), path})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path+out[i].method < out[j].path+out[j].method })
	return out
}

var (
	idRE    = regexp.MustCompile(`/\d+(/|$)`)
	paramRE = regexp.MustCompile(`\{[a-z_]+\}`)
)

// withID puts id in place of every path parameter of a route path.
func withID(path string, id int64) string { return paramRE.ReplaceAllString(path, itoa(id)) }

// routeOf turns a request path into its route path: /api/v1/leads/7 is
// /api/v1/leads/{id}. (Every path parameter is named {id} here: see
// anyParam.)
func routeOf(path string) string {
	path, _, _ = strings.Cut(path, "?")
	return idRE.ReplaceAllString(path, "/{id}$1")
}

// anyParam names every path parameter of a route path {id}, as routeOf does:
// /api/v1/models/{version}/activate is /api/v1/models/{id}/activate.
func anyParam(path string) string { return paramRE.ReplaceAllString(path, "{id}") }

// TestOpenAPI checks the document against the mux: every documented
// operation is served (an admin gets neither 404 nor 405), and every method
// the mux serves on a documented path is documented.
func TestOpenAPI(t *testing.T) {
	f := newFixture(t)
	l := f.lead(sdrA, "mql")
	routes := documentedRoutes(t, f)
	if len(routes) < 25 {
		t.Fatalf("only %d operations documented", len(routes))
	}
	documented := map[docRoute]bool{}
	// docMux routes like the server, from the document alone.
	docMux := http.NewServeMux()
	for _, r := range routes {
		documented[r] = true
		docMux.HandleFunc(r.method+" "+r.path, func(http.ResponseWriter, *http.Request) {})
		path := withID(r.path, l.ID)
		st, b := f.do(admin, r.method, path, "{}")
		if st == http.StatusNotFound && !strings.Contains(string(b), `"code":"not_found"`) || st == http.StatusMethodNotAllowed {
			t.Errorf("%s %s is documented but answers %d: %s", r.method, r.path, st, b)
		}
		if st == http.StatusNotFound && strings.Contains(string(b), "no route") {
			t.Errorf("%s %s is documented but not routed", r.method, r.path)
		}
	}
	// The other way: try every method on every documented path; whatever
	// the mux routes must be documented.
	for _, r := range routes {
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			if documented[docRoute{m, r.path}] {
				continue
			}
			path := withID(r.path, l.ID)
			st, b := f.do(admin, m, path, "{}")
			// GET /api/v1/policies/validate is GET /api/v1/policies/{id}
			// (and answers 400: not an id), a documented route.
			if _, pattern := docMux.Handler(httptest.NewRequest(m, path, nil)); pattern != "" {
				continue
			}
			if st != http.StatusMethodNotAllowed {
				t.Errorf("%s %s is not documented but answers %d: %s", m, r.path, st, b)
			}
		}
	}
	for _, path := range []string{"/api/v1", "/api/v1/leads/x/y", "/api/v2/leads", "/"} {
		if st, b := f.do(admin, "GET", path, ""); st != http.StatusNotFound || !strings.Contains(string(b), `"not_found"`) {
			t.Errorf("GET %s: %d %s, want a JSON 404", path, st, b)
		}
	}
}
