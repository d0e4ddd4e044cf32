package notify

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	secret := []byte("whsec_test")
	body := []byte(`{"lead":42}`)
	at := time.Unix(1_780_000_000, 0)
	h := Sign(secret, at, body)
	if !strings.HasPrefix(h, "t=1780000000,v1=") || len(h) != len("t=1780000000,v1=")+64 {
		t.Fatalf("Sign = %q", h)
	}
	if err := Verify(secret, h, body, at.Add(time.Minute), time.Minute*5); err != nil {
		t.Fatalf("Verify = %v", err)
	}
	// Known answer, so that receivers in other languages can check.
	// printf '1780000000.{"lead":42}' | openssl dgst -sha256 -hmac whsec_test
	if want := "t=1780000000,v1=4582cab70ea8931577564ebf3dcedd20cb11455b76943174b517a96ae942152d"; h != want {
		t.Fatalf("Sign = %q, want %q", h, want)
	}

	tests := []struct {
		name   string
		secret string
		header string
		body   string
		now    time.Time
		want   error
	}{
		{"tampered body", "whsec_test", h, `{"lead":43}`, at, ErrSignatureMismatch},
		{"wrong secret", "other", h, string(body), at, ErrSignatureMismatch},
		{"replayed an hour later", "whsec_test", h, string(body), at.Add(time.Hour), ErrSignatureTime},
		{"just outside tolerance", "whsec_test", h, string(body), at.Add(5*time.Minute + time.Second), ErrSignatureTime},
		{"from the future", "whsec_test", h, string(body), at.Add(-10 * time.Minute), ErrSignatureTime},
		{"empty", "whsec_test", "", string(body), at, ErrSignatureFormat},
		{"no t", "whsec_test", h[strings.Index(h, "v1="):], string(body), at, ErrSignatureFormat},
		{"no v1", "whsec_test", "t=1780000000", string(body), at, ErrSignatureFormat},
		{"only unknown scheme", "whsec_test", "t=1780000000,v0=abc", string(body), at, ErrSignatureFormat},
		{"bad t", "whsec_test", strings.Replace(h, "t=1780000000", "t=17800x0000", 1), string(body), at, ErrSignatureFormat},
		{"negative t", "whsec_test", strings.Replace(h, "t=1780000000", "t=-1", 1), string(body), at, ErrSignatureFormat},
		{"two t", "whsec_test", "t=1780000000," + h, string(body), at, ErrSignatureFormat},
		{"v1 not hex", "whsec_test", "t=1780000000,v1=zz", string(body), at, ErrSignatureFormat},
		{"v1 short", "whsec_test", h[:len(h)-2], string(body), at, ErrSignatureFormat},
		{"no equals", "whsec_test", "t=1780000000,v1", string(body), at, ErrSignatureFormat},
		{"empty value", "whsec_test", "t=,v1=" + h[len(h)-64:], string(body), at, ErrSignatureFormat},
		{"trailing comma", "whsec_test", h + ",", string(body), at, ErrSignatureFormat},
	}
	for _, tt := range tests {
		err := Verify([]byte(tt.secret), tt.header, []byte(tt.body), tt.now, 5*time.Minute)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: Verify(%q) = %v, want %v", tt.name, tt.header, err, tt.want)
		}
	}

	// Accepted: spaces, unknown schemes, several v1 (rotation), default tolerance.
	ok := []string{
		strings.ReplaceAll(h, ",", ", "),
		h + ",v0=deadbeef",
		"t=1780000000,v1=" + strings.Repeat("00", 32) + "," + h[strings.Index(h, "v1="):],
		sign(at, body, []byte("new"), secret),
	}
	for _, hdr := range ok {
		if err := Verify(secret, hdr, body, at.Add(4*time.Minute), 0); err != nil {
			t.Errorf("Verify(%q) = %v", hdr, err)
		}
	}
	if err := Verify([]byte("new"), sign(at, body, []byte("new"), secret), body, at, 0); err != nil {
		t.Errorf("new secret: %v", err)
	}
}

func TestBackoff(t *testing.T) {
	zero := func() float64 { return 0 }
	top := func() float64 { return 0.999999 }
	base, max := time.Second, time.Minute
	var prev time.Duration
	for n := 1; n <= 12; n++ {
		lo, hi := Backoff(n, base, max, zero), Backoff(n, base, max, top)
		ceiling := min(base<<(n-1), max)
		if lo != ceiling/2 {
			t.Errorf("attempt %d: low = %v, want %v", n, lo, ceiling/2)
		}
		if hi > ceiling || hi < ceiling-time.Millisecond {
			t.Errorf("attempt %d: high = %v, want about %v", n, hi, ceiling)
		}
		if lo < prev {
			t.Errorf("attempt %d: %v shrank from %v", n, lo, prev)
		}
		prev = lo
	}
	if got := Backoff(100, base, max, zero); got != 30*time.Second {
		t.Errorf("capped = %v", got)
	}
	if got := Backoff(1000, base, 0, zero); got <= 0 {
		t.Errorf("uncapped overflow = %v", got)
	}
	if a, b := Backoff(3, base, max, func() float64 { return 0.5 }), Backoff(3, base, max, func() float64 { return 0.5 }); a != b || a != 3*time.Second {
		t.Errorf("fixed rnd: %v %v", a, b)
	}
	if got := Backoff(0, base, max, zero); got != 500*time.Millisecond {
		t.Errorf("attempt 0 = %v", got)
	}
	for range 1000 {
		if d := Backoff(4, base, max, nil); d < 4*time.Second || d > 8*time.Second {
			t.Fatalf("random jitter out of bounds: %v", d)
		}
	}
}
