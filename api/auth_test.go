package api_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestAuth checks the Authorization header's forms and that an inactive
// user's token stops working.
func TestAuth(t *testing.T) {
	f := newFixture(t)
	get := func(auth string) (int, string) {
		req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/me", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == 401 && resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("401 without WWW-Authenticate")
		}
		return resp.StatusCode, string(b)
	}
	tok := f.tokens[ae]
	for _, c := range []struct {
		auth string
		want int
	}{
		{"Bearer " + tok, 200},
		{"bearer " + tok, 200},
		{"Bearer  " + tok + " ", 200},
		{"", 401},
		{"Bearer", 401},
		{"Bearer ", 401},
		{"Basic " + tok, 401},
		{tok, 401},
		{"Bearer " + tok + "x", 401},
	} {
		if st, b := get(c.auth); st != c.want || st == 401 && !strings.Contains(b, `"code":"unauthorized"`) {
			t.Errorf("Authorization %q: %d %s, want %d", c.auth, st, b, c.want)
		}
	}
	if st, b := f.do(admin, "PATCH", "/api/v1/users/"+itoa(f.users[ae].ID), `{"active":false}`); st != 200 {
		t.Fatalf("deactivate: %d %s", st, b)
	}
	if st, b := get("Bearer " + tok); st != 401 || !strings.Contains(b, "inactive") {
		t.Errorf("inactive user's token: %d %s", st, b)
	}
}
