package baton_test

import (
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// TestWebhookTarget: a webhook's URL is refused when it holds credentials,
// and, unless the operator allows private targets, when it is plain http or
// names loopback, private, link-local or other inside addresses.
func TestWebhookTarget(t *testing.T) {
	for _, c := range []struct {
		url           string
		strict, loose bool // accepted without and with allowPrivate
	}{
		{"https://hooks.example.com/baton", true, true},
		{"https://93.184.216.34:8443/in", true, true},
		{"https://[2606:4700::1111]/in", true, true},
		{"http://example.com", false, true},
		{"https://127.0.0.1/in", false, true},
		{"https://127.9.9.9/in", false, true},
		{"https://[::1]:8080/in", false, true},
		{"https://[::ffff:127.0.0.1]/in", false, true},
		{"https://10.1.2.3/in", false, true},
		{"https://172.16.0.1/in", false, true},
		{"https://192.168.1.1/in", false, true},
		{"https://[fd00::1]/in", false, true},
		{"https://169.254.169.254/latest/meta-data/", false, true},
		{"https://[fe80::1]/in", false, true},
		{"https://100.64.0.1/in", false, true},
		{"https://0.0.0.0/in", false, true},
		{"https://[::]/in", false, true},
		{"https://224.0.0.1/in", false, true},
		{"https://[64:ff9b::7f00:1]/in", false, true}, // 127.0.0.1 through NAT64
		{"https://localhost/in", false, true},
		{"https://api.localhost./in", false, true},
		{"https://user:s3cr3t@hooks.example.com/in", false, false},
		{"https://s3cr3t@hooks.example.com/in", false, false},
		{"ftp://hooks.example.com/in", false, false},
		{"https:///in", false, false},
	} {
		for _, allow := range []bool{false, true} {
			w := &baton.Webhook{URL: c.url, Secret: "0123456789abcdef"}
			err := w.Validate()
			if err == nil {
				err = w.CheckTarget(allow)
			}
			want := c.strict
			if allow {
				want = c.loose
			}
			if (err == nil) != want {
				t.Errorf("%s (allow private %v): %v, want accepted %v", c.url, allow, err, want)
			}
			if err != nil && baton.ErrorField(err) != "url" {
				t.Errorf("%s: error names %q, want url: %v", c.url, baton.ErrorField(err), err)
			}
			if err != nil && strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("%s: the error shows the password: %v", c.url, err)
			}
		}
	}
}

func TestPublicAddr(t *testing.T) {
	for _, c := range []struct {
		ip     string
		public bool
	}{
		{"8.8.8.8", true},
		{"100.63.255.255", true},
		{"100.128.0.0", true},
		{"2001:4860:4860::8888", true},
		{"64:ff9b::808:808", true}, // 8.8.8.8 through NAT64
		{"127.0.0.1", false},
		{"::1", false},
		{"10.0.0.1", false},
		{"172.31.255.255", false},
		{"192.168.0.1", false},
		{"fc00::1", false},
		{"169.254.169.254", false},
		{"fe80::1%eth0", false},
		{"100.64.0.0", false},
		{"100.127.255.255", false},
		{"0.0.0.0", false},
		{"::", false},
		{"239.255.255.250", false},
		{"ff02::1", false},
		{"255.255.255.255", false},
		{"::ffff:10.0.0.1", false},
	} {
		if got := baton.PublicAddr(netip.MustParseAddr(c.ip)); got != c.public {
			t.Errorf("PublicAddr(%s) = %v, want %v", c.ip, got, c.public)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:secret@hooks.example.com/in": "https://redacted@hooks.example.com/in",
		"https://hooks.example.com/in?x=1":         "https://hooks.example.com/in?x=1",
		"://bad":                                   "(not a URL)",
	} {
		if got := baton.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWebhookEvents: every move of the lifecycle emits at least one event,
// every event it emits is one a webhook may subscribe to, and every event
// is said in the README.
func TestWebhookEvents(t *testing.T) {
	known := map[string]bool{}
	for _, e := range baton.WebhookEvents {
		known[e] = true
	}
	emitted := map[string]bool{}
	for _, r := range baton.Rules {
		if len(r.Effects.Events) == 0 {
			t.Errorf("%s %s -> %s emits no webhook event", r.From, r.Verb, r.To)
		}
		for _, e := range r.Effects.Events {
			if !known[e] {
				t.Errorf("%s %s -> %s emits %q, not in baton.WebhookEvents", r.From, r.Verb, r.To, e)
			}
			emitted[e] = true
		}
		// A new MQL, whoever makes it, is told as such.
		if r.To == baton.StageMQL && r.From != baton.StageMQL && !slices.Contains(r.Effects.Events, "lead.mql") {
			t.Errorf("%s %s -> mql does not emit lead.mql", r.From, r.Verb)
		}
	}
	for _, e := range baton.WebhookEvents {
		notMove := e == "lead.created" || e == "lead.reminder" || e == "lead.stale_sal"
		if !emitted[e] && !notMove {
			t.Errorf("%s is in WebhookEvents but no move emits it", e)
		}
	}
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- webhook events -->\n")
	doc, _, ok2 := strings.Cut(rest, "<!-- /webhook events -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no <!-- webhook events --> section")
	}
	if want := baton.WebhookEventsMarkdown(); doc != want || strings.Contains(want, "|  |") {
		t.Fatalf("README.md's webhook events differ from baton.WebhookEvents (or one has no words); replace them with:\n%s", want)
	}
}
