package api_test

import (
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// TestBadInput checks status, error code and field of bad requests.
func TestBadInput(t *testing.T) {
	f := newFixture(t)
	l := f.lead(sdrA, baton.StageMQL)
	lid := itoa(l.ID)
	big := `{"email":"big@x.test","name":"` + strings.Repeat("x", 1<<20) + `"}`
	cases := []struct {
		name, caller, method, path, body string
		status                           int
		code, field                      string
		msg                              string // a substring of the message, if set
	}{
		{"malformed", admin, "POST", "/api/v1/leads", `{"email": "a@b.test",`, 400, "invalid", "", "malformed JSON"},
		{"syntax at byte", admin, "POST", "/api/v1/leads", `{"email" "a@b.test"}`, 400, "invalid", "", "malformed JSON at byte 10: invalid character"},
		{"empty body", admin, "POST", "/api/v1/leads", ``, 400, "invalid", "", "empty"},
		{"trailing data", admin, "POST", "/api/v1/leads", `{"email":"a@b.test"} {}`, 400, "invalid", "", "only one JSON value"},
		{"not an object", admin, "POST", "/api/v1/leads", `[1,2]`, 400, "invalid", "", "expected an object, got array"},
		{"unknown field", admin, "POST", "/api/v1/leads", `{"email":"a@b.test","fax":"1"}`, 400, "invalid", "fax", "unknown field"},
		{"wrong type", admin, "POST", "/api/v1/accounts", `{"name":"Co","employees":"many"}`, 400, "invalid", "employees", "expected a number, got string"},
		{"fraction for id", admin, "PATCH", "/api/v1/leads/" + lid, `{"owner_id":1.5}`, 400, "invalid", "owner_id", "expected an integer"},
		{"nested wrong type", admin, "PATCH", "/api/v1/leads/" + lid, `{"attributes":{"score":[1]}}`, 400, "invalid", "attributes.score", ""},
		{"bad time", admin, "POST", "/api/v1/leads", `{"email":"t@b.test","created_at":"yesterday"}`, 400, "invalid", "created_at", "RFC 3339"},
		{"oversized", admin, "POST", "/api/v1/leads", big, 413, "invalid", "", "1 MiB"},
		{"unknown stage on create", admin, "POST", "/api/v1/leads", `{"email":"s@b.test","stage":"foo"}`, 400, "invalid", "stage", `unknown stage "foo"`},
		{"unknown stage in move", admin, "POST", "/api/v1/leads/" + lid + "/transitions", `{"to":"foo"}`, 400, "invalid", "to", `unknown stage "foo"`},
		{"unknown stage filter", admin, "GET", "/api/v1/leads?stage=foo", ``, 400, "invalid", "stage", `unknown stage "foo"`},
		{"unknown role", admin, "POST", "/api/v1/users", `{"email":"b@baton.test","name":"B","role":"boss"}`, 400, "invalid", "role", `unknown role "boss"`},
		{"unknown role update", admin, "PATCH", "/api/v1/users/" + itoa(f.users[sdrA].ID), `{"role":"boss"}`, 400, "invalid", "role", `unknown role "boss"`},
		{"unknown role filter", admin, "GET", "/api/v1/users?role=boss", ``, 400, "invalid", "role", ""},
		{"unknown lead", admin, "GET", "/api/v1/leads/999999", ``, 404, "not_found", "", "no lead 999999"},
		{"unknown account", admin, "GET", "/api/v1/accounts/999999", ``, 404, "not_found", "", ""},
		{"unknown user", admin, "GET", "/api/v1/users/999999", ``, 404, "not_found", "", ""},
		{"unknown lead move", admin, "POST", "/api/v1/leads/999999/transitions", `{"to":"sal"}`, 404, "not_found", "", ""},
		{"bad id", admin, "GET", "/api/v1/leads/abc", ``, 400, "invalid", "id", ""},
		{"illegal transition", admin, "POST", "/api/v1/leads/" + lid + "/transitions", `{"to":"won"}`, 409, "conflict", "stage", "from mql to won"},
		{"stale from", admin, "POST", "/api/v1/leads/" + lid + "/transitions", `{"to":"sal","from":"new"}`, 409, "conflict", "from", ""},
		{"missing reason", admin, "POST", "/api/v1/leads/" + lid + "/transitions", `{"to":"recycled"}`, 400, "invalid", "reason", ""},
		{"stale version", admin, "PATCH", "/api/v1/leads/" + lid, `{"title":"CEO","if_version":99}`, 409, "conflict", "if_version", ""},
		{"duplicate email", admin, "POST", "/api/v1/leads", `{"email":"` + l.Email + `"}`, 409, "conflict", "email", ""},
		{"no key", admin, "POST", "/api/v1/leads", `{"name":"Nobody"}`, 400, "invalid", "email", ""},
		{"bad limit", admin, "GET", "/api/v1/leads?limit=abc", ``, 400, "invalid", "limit", ""},
		{"zero limit", admin, "GET", "/api/v1/leads?limit=0", ``, 400, "invalid", "limit", ""},
		{"huge limit", admin, "GET", "/api/v1/accounts?limit=100000", ``, 400, "invalid", "limit", ""},
		{"negative offset", admin, "GET", "/api/v1/users?offset=-1", ``, 400, "invalid", "offset", ""},
		{"bad date", admin, "GET", "/api/v1/leads?created_after=last-week", ``, 400, "invalid", "created_after", ""},
		{"bad owner param", admin, "GET", "/api/v1/leads?owner_id=x", ``, 400, "invalid", "owner_id", ""},
		{"bad opp stage", admin, "GET", "/api/v1/opportunities?stage=maybe", ``, 400, "invalid", "stage", ""},
		{"no route", admin, "GET", "/api/v1/nothing", ``, 404, "not_found", "", "no route"},
		{"wrong method", admin, "DELETE", "/api/v1/leads/" + lid, ``, 405, "invalid", "", "not allowed"},
		{"no token", none, "GET", "/api/v1/leads", ``, 401, "unauthorized", "", "missing API token"},
		{"unknown token", bad, "GET", "/api/v1/leads", ``, 401, "unauthorized", "", "unknown API token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, b := f.do(c.caller, c.method, c.path, c.body)
			if st != c.status {
				t.Fatalf("status %d, want %d: %.300s", st, c.status, b)
			}
			if c.code == "" {
				return
			}
			var e apiError
			decodeJSON(t, b, &e)
			if e.Error.Code != c.code || e.Error.Field != c.field || !strings.Contains(e.Error.Message, c.msg) {
				t.Errorf("got code %q field %q message %q; want code %q field %q message containing %q",
					e.Error.Code, e.Error.Field, e.Error.Message, c.code, c.field, c.msg)
			}
		})
	}
}

// TestInternalErrorHidden checks that a storage failure is a 500 that shows
// nothing of the driver's error.
func TestInternalErrorHidden(t *testing.T) {
	f := newFixture(t)
	if _, err := f.db.SQL().Exec(`DROP TABLE products`); err != nil {
		t.Fatal(err)
	}
	st, b := f.do(admin, "GET", "/api/v1/products", "")
	if st != 500 {
		t.Fatalf("status %d: %s", st, b)
	}
	var e apiError
	decodeJSON(t, b, &e)
	if e.Error.Code != "internal" || e.Error.Message != "internal error" || strings.Contains(string(b), "products") {
		t.Errorf("internal error leaks or is wrong: %s", b)
	}
}
