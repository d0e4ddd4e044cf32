package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/batonhq/baton"
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

// TestOpenAPIResponses sends every GET of the document, on an empty server
// and on one with a lead in every part of the handoff, as an admin and as a
// development rep, and checks each answer against the document: its status
// is documented, and its body matches the schema of that status (so no
// array is null, no enum value is unknown, no field is undocumented).
func TestOpenAPIResponses(t *testing.T) {
	for _, populated := range []bool{false, true} {
		t.Run(map[bool]string{false: "empty", true: "populated"}[populated], func(t *testing.T) {
			f := newFixture(t)
			d := servedDoc(t, f)
			ids := map[string]int64{"users": f.users[sdrA].ID}
			if populated {
				ids = populate(t, f, d)
			}
			// A backtest is a POST whose arrays are empty on an empty server.
			st, b := f.do(marketing, "POST", "/api/v1/policies/backtest", policyJSON(handoffPolicy))
			d.checkAnswer(t, "POST", "/api/v1/policies/backtest", st, b)
			checked := 0
			for _, r := range documentedRoutes(t, f) {
				if r.method != "GET" {
					continue
				}
				op := d.operation(r.method, r.path)
				for _, path := range d.instances(r.path, ids) {
					for _, caller := range []string{admin, sdrA} {
						st, b := f.do(caller, "GET", path, "")
						schema, documented := d.responseSchema(op, st)
						if !documented {
							t.Errorf("GET %s as %s: status %d is not documented: %s", path, caller, st, b)
							continue
						}
						if schema == nil {
							continue // not JSON: /metrics
						}
						var v any
						if err := json.Unmarshal(b, &v); err != nil {
							t.Errorf("GET %s as %s: not JSON: %v", path, caller, err)
							continue
						}
						for _, p := range d.check(v, schema) {
							t.Errorf("GET %s as %s (%d): %s", path, caller, st, p)
						}
						if st == 200 {
							checked++
						}
					}
				}
			}
			t.Logf("%d answers of 200 checked", checked)
			if checked < 40 {
				t.Errorf("only %d answers of 200 checked", checked)
			}
		})
	}
}

// instances returns the request paths of a route path: each {id} the id of
// its collection in ids (1 when none), each path parameter with an enum
// every value of it.
func (d *apiDoc) instances(path string, ids map[string]int64) []string {
	out := []string{path}
	op := d.operation("GET", path)
	params, _ := op["parameters"].([]any)
	for _, p := range params {
		p := p.(map[string]any)
		if p["in"] != "path" {
			continue
		}
		name := p["name"].(string)
		schema := p["schema"].(map[string]any)
		if ref, ok := schema["$ref"].(string); ok {
			schema = d.resolve(ref)
		}
		var values []string
		if enum, ok := schema["enum"].([]any); ok {
			for _, e := range enum {
				values = append(values, e.(string))
			}
		} else {
			// The collection is the segment before the parameter:
			// /api/v1/leads/{id} is a lead.
			before, _, _ := strings.Cut(path, "{"+name+"}")
			segs := strings.Split(strings.Trim(before, "/"), "/")
			id := ids[segs[len(segs)-1]]
			if id == 0 {
				id = 1
			}
			values = []string{itoa(id)}
		}
		var next []string
		for _, o := range out {
			for _, v := range values {
				next = append(next, strings.ReplaceAll(o, "{"+name+"}", v))
			}
		}
		out = next
	}
	return out
}

// populate puts a lead in every part of the handoff, through the API: one
// converted and won (with its attempts, BANT, events, opportunity), one
// rejected, one awaiting its answer; a published policy and a draft, an
// account. It returns the ids to read them by, by collection.
func populate(t *testing.T, f *fixture, d *apiDoc) map[string]int64 {
	t.Helper()
	if _, err := f.db.PublishDocument(sys(), handoffPolicy); err != nil {
		t.Fatal(err)
	}
	draft, err := f.db.SaveDraft(sys(), handoffPolicy+"\n# a draft\n")
	if err != nil {
		t.Fatal(err)
	}
	acct := &baton.Account{Name: "Acme", Domain: "acme.test", Industry: "Software"}
	if err := f.db.CreateAccount(sys(), acct); err != nil {
		t.Fatal(err)
	}
	path := func(l *baton.Lead, suffix string) string { return "/api/v1/leads/" + itoa(l.ID) + suffix }
	step := func(caller, method, p, body string, status int) []byte {
		t.Helper()
		st, b := f.do(caller, method, p, body)
		if st != status {
			t.Fatalf("%s %s as %s: %d %s", method, p, caller, st, b)
		}
		d.checkAnswer(t, method, routeOf(p), st, b)
		return b
	}
	won := f.routedMQL("")
	rep := f.keyOf(t, f.leadOwner(t, won.ID))
	step(marketing, "PATCH", path(won, ""), `{"account_id":`+itoa(acct.ID)+`,"attributes":{"plan":"pro","seats":50,"trial":true}}`, 200)
	step(rep, "POST", path(won, "/accept"), "", 200)
	step(rep, "POST", path(won, "/attempts"), `{"channel":"call","outcome":"connected","note":"keen"}`, 201)
	step(rep, "POST", path(won, "/qualify"), fullBANT, 200)
	step(ae, "POST", path(won, "/accept"), "", 200)
	step(ae, "POST", path(won, "/convert"), `{"name":"Acme: 50 seats","amount":24000}`, 201)
	step(ae, "POST", path(won, "/close"), `{"won":true,"value":24000}`, 200)
	step(marketing, "POST", "/api/v1/events", `[{"id":"e1","type":"page_view","lead_id":`+itoa(won.ID)+`,"occurred_at":"2026-01-05T10:00:00Z","properties":{"url":"/pricing"}}]`, 200)

	rejected := f.routedMQL("")
	step(f.keyOf(t, f.leadOwner(t, rejected.ID)), "POST", path(rejected, "/reject"), `{"reason":"no_need","note":"students"}`, 200)
	waiting := f.routedMQL(sdrA)
	return map[string]int64{"leads": waiting.ID, "accounts": acct.ID, "users": f.users[sdrA].ID, "policies": draft.ID}
}

// checkAnswer checks an answer of the route against the document.
func (d *apiDoc) checkAnswer(t *testing.T, method, route string, status int, body []byte) {
	t.Helper()
	op := d.operation(method, route)
	if op == nil {
		t.Errorf("%s %s is not documented", method, route)
		return
	}
	schema, documented := d.responseSchema(op, status)
	if !documented {
		t.Errorf("%s %s: status %d is not documented: %s", method, route, status, body)
		return
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Errorf("%s %s: not JSON: %v", method, route, err)
		return
	}
	for _, p := range d.check(v, schema) {
		t.Errorf("%s %s (%d): %s", method, route, status, p)
	}
}

// leadOwner returns the owner id of a lead, as stored.
func (f *fixture) leadOwner(t *testing.T, id int64) *int64 {
	t.Helper()
	l, err := f.db.FindLeadByID(sys(), id)
	if err != nil {
		t.Fatal(err)
	}
	return l.OwnerID
}

// TestOpenAPIExamples checks every example of the served document against
// the schema beside it: request and response bodies, error responses,
// webhook payloads and parameters.
func TestOpenAPIExamples(t *testing.T) {
	f := newFixture(t)
	d := servedDoc(t, f)
	n := 0
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if ex, ok := x["example"]; ok {
				if schema, ok := x["schema"].(map[string]any); ok {
					n++
					for _, p := range d.check(ex, schema) {
						t.Errorf("%s: example %s", at, p)
					}
				}
			}
			for _, k := range sortedKeys(x) {
				if k != "example" {
					walk(at+"/"+k, x[k])
				}
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s/%d", at, i), e)
			}
		}
	}
	walk("#", d.raw)
	if n < 100 {
		t.Errorf("only %d examples checked", n)
	}
	t.Logf("%d examples checked", n)
}
