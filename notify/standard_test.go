package notify_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/batonhq/baton/notify"
)

// The example of the Standard Webhooks libraries' own tests, so that the
// signature is the one every language's library computes.
func TestSignStandardKnownAnswer(t *testing.T) {
	key := notify.StandardKey([]byte("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
	got := notify.SignStandard("msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`), key)
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("SignStandard = %q, want %q", got, want)
	}
}

func TestStandardKey(t *testing.T) {
	raw := []byte{0xfb, 0xff, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e}
	tests := []struct {
		name, secret string
		want         []byte
	}{
		{"standard base64", "whsec_" + base64.StdEncoding.EncodeToString(raw), raw},
		{"URL-safe base64 without padding (Baton's secrets before)", "whsec_" + base64.RawURLEncoding.EncodeToString(raw), raw},
		{"an operator's own secret", "correct horse battery staple", []byte("correct horse battery staple")},
		{"whsec_ but not base64", "whsec_not base64!", []byte("whsec_not base64!")},
	}
	for _, tt := range tests {
		if got := notify.StandardKey([]byte(tt.secret)); !bytes.Equal(got, tt.want) {
			t.Errorf("%s: StandardKey(%q) = %x, want %x", tt.name, tt.secret, got, tt.want)
		}
	}
}

// referenceVerify is the Standard Webhooks algorithm written out from its
// description, independently of notify: the signed content is
// id.timestamp.body, the key the base64 after whsec_, the header a
// space-separated list of "v1,<base64>".
func referenceVerify(secret string, h http.Header, body []byte) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return fmt.Errorf("secret: %v", err)
	}
	id, ts := h.Get("webhook-id"), h.Get("webhook-timestamp")
	if id == "" || ts == "" {
		return fmt.Errorf("missing webhook-id or webhook-timestamp")
	}
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
		return fmt.Errorf("webhook-timestamp %q: %v", ts, err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("no signature of %q matches", h.Get("webhook-signature"))
}

// TestSendStandardWebhooks checks that a delivery verifies with the Standard
// Webhooks library and with the reference algorithm, under the new secret
// and, during a rotation, under the old one; and that its headers agree with
// Baton's own.
func TestSendStandardWebhooks(t *testing.T) {
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	old := "whsec_" + base64.StdEncoding.EncodeToString([]byte("the secret of yesterday, 32 byte"))
	var got []*http.Request
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got, bodies = append(got, r), append(bodies, body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	at := time.Now().Truncate(time.Second)
	s := &notify.Sender{Now: func() time.Time { return at }}
	d := notify.Delivery{ID: "4711", Event: "lead.mql", Body: []byte(`{"event":"lead.mql","lead":{"id":7}}`)}
	for _, hook := range []notify.Webhook{
		{URL: srv.URL, Secret: []byte(secret)},
		{URL: srv.URL, Secret: []byte(secret), OldSecrets: [][]byte{[]byte(old)}},
	} {
		if a := s.Send(context.Background(), hook, d); !a.OK() {
			t.Fatalf("Send = %+v", a)
		}
	}
	if len(got) != 2 {
		t.Fatalf("%d requests, want 2", len(got))
	}
	for i, r := range got {
		h, body := r.Header, bodies[i]
		if h.Get("webhook-id") != "4711" || h.Get("webhook-id") != h.Get("Baton-Delivery") {
			t.Errorf("webhook-id %q, Baton-Delivery %q: want both 4711", h.Get("webhook-id"), h.Get("Baton-Delivery"))
		}
		if ts := strconv.FormatInt(at.Unix(), 10); h.Get("webhook-timestamp") != ts || !strings.HasPrefix(h.Get("Baton-Signature"), "t="+ts+",") {
			t.Errorf("webhook-timestamp %q, Baton-Signature %q: want both at %s", h.Get("webhook-timestamp"), h.Get("Baton-Signature"), ts)
		}
		secrets := []string{secret}
		if i == 1 {
			secrets = append(secrets, old)
			if n := len(strings.Fields(h.Get("webhook-signature"))); n != 2 {
				t.Errorf("rotation: webhook-signature %q has %d signatures, want 2", h.Get("webhook-signature"), n)
			}
		}
		for _, sec := range secrets {
			wh, err := standardwebhooks.NewWebhook(sec)
			if err != nil {
				t.Fatal(err)
			}
			if err := wh.Verify(body, h); err != nil {
				t.Errorf("request %d, secret %.12s...: the Standard Webhooks library refuses it: %v", i, sec, err)
			}
			if err := referenceVerify(sec, h, body); err != nil {
				t.Errorf("request %d, secret %.12s...: the reference algorithm refuses it: %v", i, sec, err)
			}
			if err := notify.Verify([]byte(sec), h.Get("Baton-Signature"), body, at, 0); err != nil {
				t.Errorf("request %d: Baton-Signature: %v", i, err)
			}
		}
		t.Logf("request %d verified with the Standard Webhooks library and the reference algorithm under %d secret(s): webhook-id %s, webhook-timestamp %s, webhook-signature %s",
			i, len(secrets), h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature"))
		// A tampered body, or another secret, fails: the checks can fail.
		wh, _ := standardwebhooks.NewWebhook("whsec_" + base64.StdEncoding.EncodeToString([]byte("not the secret at all, 32 bytes!")))
		if err := wh.Verify(body, h); err == nil {
			t.Errorf("request %d verifies under another secret", i)
		}
		if err := referenceVerify(secret, h, append([]byte(" "), body...)); err == nil {
			t.Errorf("request %d verifies with a tampered body", i)
		}
	}
}
