package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// intakePolicy is the test policy with an intake section: Demo Requested
// is a demo_request.
var intakePolicy = testPolicy + `
intake:
  track:
    Demo Requested: demo_request
  pages:
    - {path: "*/pricing", event: pricing_page_view}
`

// post sends body to path with the headers and returns the status, the
// answer's headers and body.
func (f *fixture) post(t testing.TB, path, contentType, body string, header map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := *f.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// intakeAnswer is the answer of a Segment route.
type intakeAnswer struct {
	Success bool `json:"success"`
	baton.IntakeResult
}

// TestSegmentBatch sends what Segment sends (testdata: analytics.js's
// page of an anonymous visitor, then a batch of page, identify, track,
// a server-side track, a retried page and a group call) with a write key
// as the basic-auth user. The visitor's earlier page view is stitched to
// the lead the identify makes; the retried messageId is stored once; a
// retry of the whole batch stores nothing again.
func TestSegmentBatch(t *testing.T) {
	f := newFixture(t)
	if _, err := f.db.PublishDocument(sys(), intakePolicy); err != nil {
		t.Fatal(err)
	}
	write, _, err := f.db.CreateIngestKey(sys(), baton.IngestKeyInput{Kind: baton.KeyWrite, Name: "Segment: website source"})
	if err != nil {
		t.Fatal(err)
	}
	segment := func(path, file string) (int, intakeAnswer, []byte) {
		t.Helper()
		body, err := os.ReadFile("testdata/" + file)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("POST", f.srv.URL+path, strings.NewReader(string(body)))
		req.SetBasicAuth(write, "")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "Segment.io/1.0")
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var a intakeAnswer
		if resp.StatusCode == 200 {
			decodeJSON(t, b, &a)
		}
		return resp.StatusCode, a, b
	}
	st, a, b := segment("/v1/page", "segment_page.json")
	if st != 200 || !a.Success || a.Pending != 1 || a.Events != 0 {
		t.Fatalf("the anonymous page: %d %s", st, b)
	}
	st, a, b = segment("/v1/batch", "segment_batch.json")
	if st != 200 || !a.Success || a.LeadsCreated != 1 || a.Events != 3 || a.Stitched != 1 || a.Duplicates != 1 || a.Rejected != 1 ||
		len(a.Errors) != 1 || a.Errors[0].Row != 5 || a.Errors[0].Column != "type" {
		t.Fatalf("the batch: %d %s", st, b)
	}
	leads, _, err := f.db.FindLeads(sys(), baton.LeadFilter{Query: "northwind"})
	if err != nil || len(leads) != 1 {
		t.Fatalf("the lead: %v %v", leads, err)
	}
	l := leads[0]
	if l.Email != "maria.lopez@northwind.example" || l.ExternalID != "usr_8Hq2kX" || l.Name != "Maria Lopez" || l.Title != "VP Operations" ||
		l.Company != "Northwind Traders" || l.Country != "US" || l.Source != "segment" || l.Campaign != "q4-ops-webinar" {
		t.Fatalf("the lead: %+v", l)
	}
	events, _, err := f.db.FindEvents(sys(), baton.EventFilter{LeadID: &l.ID})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range events {
		got[e.Type] = e.OccurredAt.Format("15:04:05.000")
	}
	want := map[string]string{"page_view": "09:15:01.381", "pricing_page_view": "09:19:02.862", "demo_request": "09:20:55.702", "trial_started": "09:21:03.000"}
	if len(events) != 4 || len(got) != 4 {
		t.Fatalf("events: %v", got)
	}
	for typ, at := range want {
		// Demo Requested has no timestamp: its originalTimestamp, as old on
		// arrival as when it was sent (11 ms), from the time of receipt.
		if typ == "demo_request" {
			continue
		}
		if got[typ] != at {
			t.Errorf("%s at %s, want %s", typ, got[typ], at)
		}
	}
	// Segment retries the whole batch: nothing is stored twice.
	st, a, b = segment("/v1/batch", "segment_batch.json")
	if st != 200 || a.LeadsCreated != 0 || a.LeadsUpdated != 0 || a.Events != 0 || a.Duplicates != 4 || a.Rejected != 1 {
		t.Fatalf("the retried batch: %d %s", st, b)
	}
	if _, n, _ := f.db.FindEvents(sys(), baton.EventFilter{LeadID: &l.ID}); n != 4 {
		t.Fatalf("%d events after the retry, want 4", n)
	}
	// The lead scored on what the visitor did before they identified.
	if l, err = f.db.FindLeadByID(sys(), l.ID); err != nil || l.Score.Engagement <= 0 {
		t.Fatalf("the lead's engagement: %+v %v", l.Score, err)
	}
}

// TestIntakeKeys: which key reaches which intake route, from where.
func TestIntakeKeys(t *testing.T) {
	f := newFixture(t)
	write, wk, err := f.db.CreateIngestKey(sys(), baton.IngestKeyInput{Kind: baton.KeyWrite, Name: "segment"})
	if err != nil {
		t.Fatal(err)
	}
	capture, _, err := f.db.CreateIngestKey(sys(), baton.IngestKeyInput{Kind: baton.KeyCapture, Name: "site", Origins: []string{"https://www.example.test"}})
	if err != nil {
		t.Fatal(err)
	}
	page := `{"type":"page","messageId":"p1","anonymousId":"a1","properties":{"url":"https://www.example.test/"}}`
	identify := `{"messageId":"i1","userId":"u1","traits":{"email":"u1@example.test"}}`
	basic := func(key string) map[string]string {
		req, _ := http.NewRequest("GET", "/", nil)
		req.SetBasicAuth(key, "")
		return map[string]string{"Authorization": req.Header.Get("Authorization")}
	}
	with := func(h map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range h {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	site := map[string]string{"Origin": "https://www.example.test"}
	for _, tc := range []struct {
		name, path, body string
		header           map[string]string
		status           int
		field            string
	}{
		{"write key", "/v1/page", page, basic(write), 200, ""},
		{"write key identify", "/v1/identify", identify, basic(write), 200, ""},
		{"write key as bearer", "/v1/track", `{"messageId":"t1","userId":"u1","event":"Signed Up"}`, map[string]string{"Authorization": "Bearer " + write}, 200, ""},
		{"no key", "/v1/page", page, nil, 401, ""},
		{"unknown key", "/v1/page", page, basic("bw_nobody"), 401, ""},
		{"write key from a browser", "/v1/page", page, with(basic(write), "Origin", "https://www.example.test"), 403, ""},
		{"capture key from its origin", "/v1/page?key=" + capture, page, site, 200, ""},
		{"capture key from elsewhere", "/v1/page?key=" + capture, page, map[string]string{"Origin": "https://evil.test"}, 403, ""},
		{"capture key without origin", "/v1/page?key=" + capture, page, nil, 403, ""},
		{"capture key may not identify", "/v1/identify?key=" + capture, identify, site, 403, ""},
		{"write key on the form", "/capture/v1/form", `{"email":"x@example.test"}`, basic(write), 403, ""},
		{"wrong type for the route", "/v1/track", page, basic(write), 400, "type"},
		{"bad timestamp", "/v1/page", `{"messageId":"p2","anonymousId":"a","timestamp":"yesterday"}`, basic(write), 400, "timestamp"},
		{"future", "/v1/page", `{"messageId":"p3","anonymousId":"a","timestamp":"2999-01-01T00:00:00Z"}`, basic(write), 400, "timestamp"},
		{"no messageId", "/v1/page", `{"anonymousId":"a"}`, basic(write), 400, "messageId"},
		{"properties not an object", "/v1/page", `{"messageId":"p4","anonymousId":"a","properties":[1]}`, basic(write), 400, "properties"},
		{"not JSON", "/v1/batch", `batch`, basic(write), 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, h, b := f.post(t, tc.path, "application/json", tc.body, tc.header)
			if st != tc.status {
				t.Fatalf("status %d, want %d: %s", st, tc.status, b)
			}
			if st >= 400 {
				var e apiError
				decodeJSON(t, b, &e)
				if e.Error.Field != tc.field || e.Error.Message == "" {
					t.Fatalf("error %+v, want the field %q", e.Error, tc.field)
				}
			}
			if allow := h.Get("Access-Control-Allow-Origin"); (allow != "") != (tc.header["Origin"] == "https://www.example.test" && strings.Contains(tc.path, capture)) {
				t.Fatalf("Access-Control-Allow-Origin %q", allow)
			}
		})
	}
	// A capture key's batch keeps its page views and refuses its identify.
	st, _, b := f.post(t, "/v1/batch?key="+capture, "text/plain", `{"batch":[`+identify+`,`+strings.Replace(page, "p1", "p9", 1)+`]}`, site)
	var a intakeAnswer
	if decodeJSON(t, b, &a); st != 200 || a.Rejected != 1 || a.Errors[0].Row != 0 || a.Errors[0].Column != "type" || a.Pending+a.Events != 1 {
		t.Fatalf("a capture key's batch: %d %s", st, b)
	}
	// /v1/batch also takes a bare array and a lone message, as Segment's
	// Webhooks destination sends them.
	for _, body := range []string{`[` + strings.Replace(page, "p1", "p10", 1) + `]`, strings.Replace(page, "p1", "p11", 1)} {
		st, _, b := f.post(t, "/v1/batch", "application/json", body, basic(write))
		if decodeJSON(t, b, &a); st != 200 || a.Pending != 1 || a.Rejected != 0 {
			t.Fatalf("%s: %d %s", body, st, b)
		}
	}
	// A revoked key is refused from the next message on.
	if _, err := f.db.RevokeIngestKey(sys(), wk.ID); err != nil {
		t.Fatal(err)
	}
	if st, _, b := f.post(t, "/v1/page", "application/json", page, basic(write)); st != 401 {
		t.Fatalf("a revoked key: %d %s", st, b)
	}
	// An admin makes and lists keys through the API; the list never shows
	// a key.
	st, b = f.send(t, admin, "POST", "/api/v1/ingest-keys", `{"kind":"capture","name":"docs site","origins":["https://docs.example.test"]}`)
	var made struct {
		Key string `json:"key"`
		ID  int64  `json:"id"`
	}
	if decodeJSON(t, b, &made); st != 201 || !strings.HasPrefix(made.Key, "bc_") {
		t.Fatalf("create: %d %s", st, b)
	}
	st, b = f.send(t, admin, "GET", "/api/v1/ingest-keys", "")
	if st != 200 || strings.Contains(string(b), made.Key) || strings.Contains(string(b), write) || !strings.Contains(string(b), "docs site") {
		t.Fatalf("list: %d %s", st, b)
	}
	if st, b = f.send(t, admin, "POST", "/api/v1/ingest-keys", `{"kind":"capture","name":"x"}`); st != 400 || !strings.Contains(string(b), `"field":"origins"`) {
		t.Fatalf("a capture key without origins: %d %s", st, b)
	}
}

// TestCaptureForm: the form endpoint as a plain HTML form and as fetch
// use it: CORS for the key's origins only, the honeypot, clear errors, an
// answer without lead data, a limit per address.
func TestCaptureForm(t *testing.T) {
	f := newFixture(t)
	capture, _, err := f.db.CreateIngestKey(sys(), baton.IngestKeyInput{Kind: baton.KeyCapture, Name: "site", Origins: []string{"https://www.example.test"}})
	if err != nil {
		t.Fatal(err)
	}
	path := "/capture/v1/form?key=" + url.QueryEscape(capture)
	n := 0
	from := func(origin string) map[string]string {
		n++ // a new address each time: the limit is tested below
		return map[string]string{"Origin": origin, "X-Forwarded-For": fmt.Sprintf("198.51.100.%d", n)}
	}
	site := "https://www.example.test"
	form := url.Values{"email": {"Grace@Example.test"}, "name": {"Grace Hopper"}, "company": {"Navy"}, "message": {"call me"},
		"anonymous_id": {"anon-g"}, "form": {"contact"}, "_hp": {""}}

	// A plain form: a page saying thanks, or a redirect to _next on the site.
	st, h, b := f.post(t, path, "application/x-www-form-urlencoded", form.Encode(), from(site))
	if st != 200 || !strings.Contains(string(b), "Thank you") || strings.Contains(strings.ToLower(string(b)), "grace") || h.Get("Access-Control-Allow-Origin") != site {
		t.Fatalf("a plain form: %d %v %s", st, h, b)
	}
	leads, _, _ := f.db.FindLeads(sys(), baton.LeadFilter{Query: "grace@example.test"})
	if len(leads) != 1 || leads[0].Name != "Grace Hopper" || leads[0].Company != "Navy" || leads[0].Source != "website" {
		t.Fatalf("the lead: %+v", leads)
	}
	events, _, _ := f.db.FindEvents(sys(), baton.EventFilter{LeadID: &leads[0].ID})
	if len(events) != 1 || events[0].Type != baton.EventFormSubmit || !strings.Contains(string(events[0].Properties), `"message":"call me"`) {
		t.Fatalf("the form's event: %+v", events)
	}
	next := url.Values{"email": {"g2@example.test"}, "_next": {site + "/thanks"}}
	if st, h, b := f.post(t, path, "application/x-www-form-urlencoded", next.Encode(), from(site)); st != 303 || h.Get("Location") != site+"/thanks" {
		t.Fatalf("_next on the site: %d %v %s", st, h, b)
	}
	next.Set("_next", "https://evil.test/")
	if st, h, _ := f.post(t, path, "application/x-www-form-urlencoded", next.Encode(), from(site)); st != 200 || h.Get("Location") != "" {
		t.Fatalf("_next elsewhere: %d %v", st, h)
	}
	// fetch with JSON: {"ok": true}, however known the sender was.
	st, _, b = f.post(t, path, "application/json", `{"email":"grace@example.test","title":"Rear Admiral"}`, from(site))
	if st != 200 || strings.TrimSpace(string(b)) != `{"ok":true}` {
		t.Fatalf("fetch: %d %s", st, b)
	}
	// The honeypot: the same answer, nothing stored.
	st, _, b = f.post(t, path, "application/json", `{"email":"bot@spam.test","_hp":"http://spam.test"}`, from(site))
	if leads, _, _ := f.db.FindLeads(sys(), baton.LeadFilter{Query: "spam.test"}); st != 200 || strings.TrimSpace(string(b)) != `{"ok":true}` || len(leads) != 0 {
		t.Fatalf("the honeypot: %d %s %v", st, b, leads)
	}
	// Clear errors that name the field and echo nothing.
	for _, tc := range []struct{ ct, body, field string }{
		{"application/json", `{"name":"No Email"}`, "email"},
		{"application/json", `{"email":"not an email"}`, "email"},
		{"application/json", `{"email":"a@example.test","name":7}`, "name"},
		{"application/json", `[1]`, ""},
	} {
		st, h, b := f.post(t, path, tc.ct, tc.body, from(site))
		var e apiError
		if decodeJSON(t, b, &e); st != 400 || e.Error.Field != tc.field || strings.Contains(e.Error.Message, "not an email") || h.Get("Access-Control-Allow-Origin") != site {
			t.Errorf("%s: %d %s", tc.body, st, b)
		}
	}
	if st, _, b := f.post(t, path, "application/x-www-form-urlencoded", "name=x", from(site)); st != 400 || !strings.Contains(string(b), "Enter your email address") {
		t.Errorf("a plain form without email: %d %s", st, b)
	}
	// Another origin: 403, and no CORS header, so its page reads nothing.
	st, h, _ = f.post(t, path, "application/json", `{"email":"eve@example.test"}`, from("https://evil.test"))
	if leads, _, _ := f.db.FindLeads(sys(), baton.LeadFilter{Query: "eve@"}); st != 403 || h.Get("Access-Control-Allow-Origin") != "" || len(leads) != 0 {
		t.Fatalf("another origin: %d %v %v", st, h, leads)
	}
	// Preflights: the key's origin may post JSON; another may not.
	for _, tc := range []struct {
		origin string
		status int
	}{{site, 204}, {"https://evil.test", 403}} {
		req, _ := http.NewRequest("OPTIONS", f.srv.URL+path, nil)
		req.Header.Set("Origin", tc.origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status || (tc.status == 204) != (resp.Header.Get("Access-Control-Allow-Origin") == tc.origin) {
			t.Errorf("preflight from %s: %d %v", tc.origin, resp.StatusCode, resp.Header)
		}
	}
	// One address gets api.DefaultLimits().FormBurst forms at once, then 429.
	same := map[string]string{"Origin": site, "X-Forwarded-For": "192.0.2.7"}
	for i := range 6 {
		st, h, b := f.post(t, path, "application/json", `{"email":"burst@example.test"}`, same)
		if want := map[bool]int{true: 429, false: 200}[i == 5]; st != want || (st == 429 && h.Get("Retry-After") == "") {
			t.Fatalf("form %d from one address: %d %v %s", i+1, st, h, b)
		}
	}
	// The script is served, first-party, to any page.
	resp, err := f.srv.Client().Get(f.srv.URL + "/capture.js")
	if err != nil {
		t.Fatal(err)
	}
	js, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") || !strings.Contains(string(js), "/capture/v1/form") {
		t.Fatalf("the script: %d %v", resp.StatusCode, resp.Header)
	}
}

// FuzzIntake feeds arbitrary bodies to the Segment routes with a write key
// and to the form endpoint with a capture key: never a 5xx, always JSON.
func FuzzIntake(f *testing.F) {
	for _, file := range []string{"testdata/segment_batch.json", "testdata/segment_page.json"} {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"batch":[{"type":"track","messageId":"m","userId":"u","event":"E","timestamp":"x"}]}`, `[{"type":"page"}]`, `{"batch":null}`,
		`{"type":"identify","messageId":"i","traits":{"email":["x"],"company":{"name":7}}}`, `{"email":"a@b.test","_hp":""}`,
		`{"type":"page","messageId":"p","anonymousId":"a","properties":"no"}`, `{"email":{"x":1}}`, `[]`, `null`, ``,
		"{\"type\":\"track\",\"messageId\":\"\xff\",\"event\":\"x\",\"anonymousId\":\"a\"}",
	} {
		f.Add([]byte(s))
	}
	fx := newFixture(f)
	write, _, err := fx.db.CreateIngestKey(sys(), baton.IngestKeyInput{Kind: baton.KeyWrite, Name: "segment"})
	if err != nil {
		f.Fatal(err)
	}
	capture, _, err := fx.db.CreateIngestKey(sys(), baton.IngestKeyInput{Kind: baton.KeyCapture, Name: "site", Origins: []string{"https://www.example.test"}})
	if err != nil {
		f.Fatal(err)
	}
	n := 0
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, path := range []string{"/v1/batch", "/v1/identify", "/v1/track", "/v1/page"} {
			req, _ := http.NewRequest("POST", fx.srv.URL+path, strings.NewReader(string(body)))
			req.SetBasicAuth(write, "")
			resp, err := fx.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode >= 500 || !json.Valid(b) {
				t.Fatalf("%s with %q: %d %s", path, body, resp.StatusCode, b)
			}
		}
		n++
		st, _, b := fx.post(t, "/capture/v1/form?key="+capture, "application/json", string(body),
			map[string]string{"Origin": "https://www.example.test", "X-Forwarded-For": fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255)})
		if st >= 500 || !json.Valid(b) {
			t.Fatalf("the form with %q: %d %s", body, st, b)
		}
	})
}
