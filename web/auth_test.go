package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/store"
)

// postFrom posts the sign-in form as a browser at addr would through a
// reverse proxy on this machine (the test server's peer is loopback, so
// the web layer reads the client's address from X-Forwarded-For).
func (c *client) postFrom(addr, email, pw string) (*http.Response, string) {
	c.t.Helper()
	form := url.Values{"email": {email}, "password": {pw}, "csrf": {c.csrf}}
	req, _ := http.NewRequest("POST", c.w.srv.URL+"/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if addr != "" {
		req.Header.Set("X-Forwarded-For", "203.0.113.250, "+addr) // the proxy's own entry is the last
	}
	return c.do(req)
}

func TestSignInThrottled(t *testing.T) {
	w := newWorld(t)
	attacker, user := w.client(t), w.client(t)
	attacker.get("/signin")
	user.get("/signin")
	const there, here = "192.0.2.66", "198.51.100.7"
	for i := range store.LoginFreeFailures + 1 {
		if resp, _ := attacker.postFrom(there, w.tm.AE.Email, "nope nope nope"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, resp.StatusCode)
		}
	}
	// From there, even the right password waits, told why and for how long.
	resp, body := attacker.postFrom(there, w.tm.AE.Email, password)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("throttled: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	mustContain(t, body, "too many failed sign-ins for this email from your address: try again in 1 second",
		`value="`+w.tm.AE.Email+`"`, `name="password"`)
	// The user elsewhere signs in all the same.
	if resp, _ := user.postFrom(here, w.tm.AE.Email, password); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the right password from another address: %d", resp.StatusCode)
	}
	// Once the wait is over, the right password works from there too.
	w.clock.Advance(time.Second)
	if resp, _ := attacker.postFrom(there, w.tm.AE.Email, password); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the wait: %d", resp.StatusCode)
	}
}

func TestSignInHashSlotsFull(t *testing.T) {
	w := newWorld(t)
	c := w.client(t)
	c.get("/signin")
	release := store.HoldHashSlots()
	defer release()
	resp, body := c.postFrom("", w.tm.SDR1.Email, password)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("every hash slot taken: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	mustContain(t, body, "too many sign-ins at once: try again in 1 second")
	release()
	if resp, _ := c.postFrom("", w.tm.SDR1.Email, password); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after release: %d", resp.StatusCode)
	}
}

// TestChangePasswordOnProfile: the profile changes the user's password
// given the current one (refused beside the field otherwise, and when the
// new one is not typed twice the same), then asks them to sign in again;
// "Sign out everywhere" ends every session of theirs.
func TestChangePasswordOnProfile(t *testing.T) {
	w := newWorld(t)
	sam := w.signedIn(t, w.tm.SDR1)
	for _, c := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"current_password": {"wrong one!"}, "password": {"a new passphrase"}, "password2": {"a new passphrase"}}, "current_password"},
		{url.Values{"current_password": {password}, "password": {"a new passphrase"}, "password2": {"another one"}}, "password2"},
	} {
		resp, body := sam.post("/profile/password", c.form)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: %d", c.field, resp.StatusCode)
		}
		mustContain(t, body, `id="err-password-0-`+c.field+`"`)
		mustNotContain(t, body, "a new passphrase")
	}
	other := w.signedIn(t, w.tm.SDR1)
	resp, _ := sam.post("/profile/password", url.Values{"current_password": {password}, "password": {"a new passphrase"}, "password2": {"a new passphrase"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/signin") {
		t.Fatalf("change: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, c := range []*client{sam, other} {
		if st, _ := c.get("/inbox"); st != http.StatusSeeOther {
			t.Fatalf("a session after the change: %d", st)
		}
	}
	if _, err := w.db.CheckPassword(context.Background(), w.tm.SDR1.Email, "a new passphrase", "192.0.2.9"); err != nil {
		t.Fatalf("the new password: %v", err)
	}
	// Sign out everywhere.
	a, b := w.signedIn(t, w.tm.SDR2), w.signedIn(t, w.tm.SDR2)
	if resp, _ := a.post("/profile/sign-out-everywhere", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out everywhere: %d", resp.StatusCode)
	}
	if st, _ := b.get("/inbox"); st != http.StatusSeeOther {
		t.Fatalf("another session after signing out everywhere: %d", st)
	}
}
