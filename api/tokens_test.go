package api_test

import (
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// TestTokensAPI: GET /api/v1/tokens lists every token to an admin and a
// caller's own to anyone else, never the tokens themselves; DELETE revokes
// one, which answers 401 from the next request on.
func TestTokensAPI(t *testing.T) {
	f := newFixture(t)
	type tokenList struct {
		Items []baton.Token `json:"items"`
		Total int           `json:"total"`
	}
	list := func(caller, query string) tokenList {
		t.Helper()
		st, b := f.do(caller, "GET", "/api/v1/tokens"+query, "")
		if st != 200 {
			t.Fatalf("list as %s: %d %s", caller, st, b)
		}
		if strings.Contains(string(b), "bt_") {
			t.Fatalf("the list shows a token: %s", b)
		}
		var l tokenList
		decodeJSON(t, b, &l)
		return l
	}
	if l := list(admin, ""); l.Total != len(f.users) || len(l.Items) != len(f.users) {
		t.Fatalf("the admin's list: %+v", l)
	}
	if l := list(admin, "?user_id="+itoa(f.users[sdrB].ID)); l.Total != 1 || l.Items[0].UserID != f.users[sdrB].ID {
		t.Fatalf("sdrB's tokens: %+v", l)
	}
	if st, _ := f.do(sdrA, "GET", "/api/v1/tokens?user_id="+itoa(f.users[sdrB].ID), ""); st != 403 {
		t.Fatalf("sdrA listed sdrB's tokens: %d", st)
	}
	if st, _ := f.do(admin, "GET", "/api/v1/tokens?revoked=maybe", ""); st != 400 {
		t.Fatalf("revoked=maybe: %d", st)
	}

	// sdrA makes a second token through the API: it is listed first, made
	// by sdrA via the API; the one used for these calls has a last use.
	st, b := f.do(sdrA, "POST", "/api/v1/users/"+itoa(f.users[sdrA].ID)+"/tokens", `{"name":"laptop"}`)
	if st != 201 {
		t.Fatalf("create: %d %s", st, b)
	}
	var made struct{ Token string }
	decodeJSON(t, b, &made)
	mine := list(sdrA, "")
	if mine.Total != 2 || mine.Items[0].Name != "laptop" || mine.Items[0].CreatedVia != "api" ||
		mine.Items[0].CreatedBy == nil || *mine.Items[0].CreatedBy != f.users[sdrA].ID || mine.Items[1].LastUsedAt == nil {
		t.Fatalf("sdrA's tokens: %+v", mine)
	}
	laptop := mine.Items[0].ID
	f.tokens["laptop"] = made.Token
	if st, _ := f.do("laptop", "GET", "/api/v1/me", ""); st != 200 {
		t.Fatalf("the new token: %d", st)
	}

	// Another caller's token does not exist for them; its owner revokes it.
	path := "/api/v1/tokens/" + itoa(laptop)
	for _, who := range []string{sdrB, manager, marketing} {
		if st, b := f.do(who, "DELETE", path, ""); st != 404 {
			t.Fatalf("%s revoked sdrA's token: %d %s", who, st, b)
		}
	}
	st, b = f.do(sdrA, "DELETE", path, "")
	var revoked baton.Token
	decodeJSON(t, b, &revoked)
	if st != 200 || revoked.RevokedAt == nil || revoked.RevokedBy == nil || *revoked.RevokedBy != f.users[sdrA].ID {
		t.Fatalf("revoke: %d %s", st, b)
	}
	st, b = f.do("laptop", "GET", "/api/v1/me", "")
	var e apiError
	decodeJSON(t, b, &e)
	if st != 401 || !strings.Contains(e.Error.Message, "revoked") {
		t.Fatalf("a revoked token: %d %s", st, b)
	}
	if st, b := f.do(admin, "DELETE", path, ""); st != 200 || !strings.Contains(string(b), revoked.RevokedAt.Format("2006-01-02T15:04:05")) {
		t.Fatalf("revoked again: %d %s", st, b)
	}
	if l := list(admin, "?revoked=true"); l.Total != 1 || l.Items[0].ID != laptop {
		t.Fatalf("the revoked ones: %+v", l)
	}
	if l := list(sdrA, "?revoked=false"); l.Total != 1 || l.Items[0].Revoked() {
		t.Fatalf("sdrA's live ones: %+v", l)
	}
	if st, _ := f.do(admin, "DELETE", "/api/v1/tokens/999999", ""); st != 404 {
		t.Fatalf("no such token: %d", st)
	}
}
