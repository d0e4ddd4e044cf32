package web

import (
	"net/http"
	"testing"
)

func TestClientAddr(t *testing.T) {
	cases := []struct {
		name, peer string
		fwd        []string
		want       string
	}{
		{"a direct client", "192.0.2.7:51000", nil, "192.0.2.7"},
		{"a direct client's header is not believed", "192.0.2.7:51000", []string{"198.51.100.1"}, "192.0.2.7"},
		{"a private peer's header is not believed either", "10.0.0.5:51000", []string{"198.51.100.1"}, "10.0.0.5"},
		{"a proxy on this machine: the address it saw", "127.0.0.1:40000", []string{"198.51.100.1, 203.0.113.9"}, "203.0.113.9"},
		{"the last header of several", "[::1]:40000", []string{"198.51.100.1", "2001:db8::5"}, "2001:db8::5"},
		{"a proxy without the header is the address", "127.0.0.1:40000", nil, "127.0.0.1"},
		{"a garbled header is ignored", "127.0.0.1:40000", []string{"198.51.100.1, not-an-ip"}, "127.0.0.1"},
		{"an IPv6 peer", "[2001:db8::1]:443", nil, "2001:db8::1"},
		{"a peer without a port", "192.0.2.8", nil, "192.0.2.8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, _ := http.NewRequest("POST", "/signin", nil)
			r.RemoteAddr = c.peer
			for _, f := range c.fwd {
				r.Header.Add("X-Forwarded-For", f)
			}
			if got := clientAddr(r); got != c.want {
				t.Fatalf("clientAddr = %q, want %q", got, c.want)
			}
		})
	}
}

// TestSafeNext: only a path of this site survives as the place to go after
// signing in; anything a browser could take to another site becomes "/".
func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/inbox":                    "/inbox",
		"/leads?stage=mql&sort=fit": "/leads?stage=mql&sort=fit",
		"/leads/7#timeline":         "/leads/7#timeline",
		"":                          "/",
		"inbox":                     "/",
		"//evil.example":            "/",
		"/\t/evil.example":          "/",
		"/\n/evil.example":          "/",
		"/\r/evil.example":          "/",
		"/\x00/evil.example":        "/",
		"/\\evil.example":           "/",
		"/\\/evil.example":          "/",
		"https://evil.example/":     "/",
		"/%2F/evil.example":         "/",
		"javascript:alert(1)":       "/",
		"/ok\x7f":                   "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
