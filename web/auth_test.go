package web_test

import (
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
