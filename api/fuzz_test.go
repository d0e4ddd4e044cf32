package api_test

import (
	"encoding/json"
	"testing"
)

// fuzzCheck sends body and fails on a 5xx or a response that is not JSON.
func fuzzCheck(t *testing.T, f *fixture, method, path string, body []byte) {
	t.Helper()
	st, b := f.send(t, marketing, method, path, string(body))
	if st >= 500 {
		t.Fatalf("%s %s with %q: status %d: %s", method, path, body, st, b)
	}
	if !json.Valid(b) {
		t.Fatalf("%s %s with %q: response is not JSON: %q", method, path, body, b)
	}
}

// FuzzDecodeLead feeds arbitrary bodies to POST /api/v1/leads and PATCH
// /api/v1/leads/{id}: never a 5xx, always a JSON answer.
func FuzzDecodeLead(f *testing.F) {
	for _, s := range []string{
		`{"email":"a@b.test"}`, `{"external_id":"x","attributes":{"n":1,"b":true,"s":"x"}}`, `{"email":"a@b.test",`,
		`{"email":1}`, `[]`, `null`, `{"stage":"foo","email":"z@z.test"}`, `{"created_at":"2025-01-01T00:00:00Z","external_id":"y"}`,
		`{"attributes":{"x":null}}`, `{"account_id":-1,"external_id":"q"}`, `{"owner_id":99999,"external_id":"o"}`,
		`{"attributes":{"":1},"external_id":"e"}`, "{\"name\":\"\xff\",\"external_id\":\"u\"}", `{"if_version":1,"title":"t"}`,
		`{"email":"a@b.test"} x`, `{"attributes":{"n":1e400},"external_id":"big"}`, `""`, ``,
	} {
		f.Add([]byte(s))
	}
	fx := newFixture(f)
	lead := fx.lead(sdrA, "mql")
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzCheck(t, fx, "POST", "/api/v1/leads", body)
		fuzzCheck(t, fx, "PATCH", "/api/v1/leads/"+itoa(lead.ID), body)
		fuzzCheck(t, fx, "PUT", "/api/v1/leads", body)
	})
}

// FuzzEvents feeds arbitrary bodies to POST /api/v1/events.
func FuzzEvents(f *testing.F) {
	for _, s := range []string{
		`{"id":"1","lead_id":1,"type":"page_view","occurred_at":"2025-01-01T00:00:00Z"}`,
		`[{"id":"1","email":"lead1@acme1.test","type":"page_view","occurred_at":"2025-01-01T00:00:00Z","properties":{"a":[1,{"b":null}]}}]`,
		`[{"id":"2","external_id":"nope","type":"x","occurred_at":"2025-01-01T00:00:00Z"},{"foo":1}]`,
		`[{"id":"3","lead_id":1,"type":"page_view","occurred_at":"2999-01-01T00:00:00Z","properties":[]}]`,
		`[null]`, `[1,"x",true]`, `[`, `]`, `[]`, `{}`, `[{}]`, `[{"lead_id":-5}]`, `[{"occurred_at":5}]`,
		`[{"id":"4","lead_id":1,"type":"a","occurred_at":"2025-01-01T00:00:00Z","properties":"x"}]`,
		"[{\"id\":\"\xff\",\"lead_id\":1,\"type\":\"a\",\"occurred_at\":\"2025-01-01T00:00:00Z\"}]",
		`[{"id":"5","lead_id":9223372036854775807,"type":"a","occurred_at":"2025-01-01T00:00:00Z"}]`,
		`[{"id":"6","lead_id":1,"type":"a","occurred_at":"0001-01-01T00:00:00Z"}]`,
	} {
		f.Add([]byte(s))
	}
	fx := newFixture(f)
	fx.lead(sdrA, "mql")
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzCheck(t, fx, "POST", "/api/v1/events", body)
	})
}
