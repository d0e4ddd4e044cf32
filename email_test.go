package baton

import (
	"math/rand/v2"
	"testing"
)

// An address plainEmail lets NormalizeEmail return unchanged is one
// parseEmail accepts unchanged.
func TestPlainEmailAgreesWithParse(t *testing.T) {
	slow := func(s string) (string, bool) {
		got, err := parseEmail(s)
		return got, err == nil
	}
	plain := 0
	check := func(s string) {
		t.Helper()
		if !plainEmail(s) {
			return
		}
		plain++
		if got, ok := slow(s); !ok || got != s {
			t.Errorf("%q: plain, but the full check gives %q, %v", s, got, ok)
		}
	}
	for _, s := range []string{"a@b.c", "jonas.larsen.0@c0.example", "a+b@x-y.example.com", "a_b@c.d", "a@b", "a@.b", "a@b.",
		".a@b.c", "a.@b.c", "a..b@c.d", "a@b..c", "@b.c", "a@", "a@b@c.d", "a-@-b.c", "0@0.0"} {
		check(s)
	}
	for _, s := range []string{"a@b", "a@.b", "a@b.", ".a@b.c", "a.@b.c", "a..b@c.d", "a@b..c", "@b.c", "a@", "a@b@c.d", "a@b_c.d", "A@b.c"} {
		if plainEmail(s) {
			t.Errorf("%q: plain, want not", s)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	word := func(alphabet string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	for range 100000 {
		check(word("ab0.-_+@", 1+r.IntN(9)))
		check(word("ab0.-_+", 1+r.IntN(5)) + "@" + word("ab0.-_", 1+r.IntN(6)))
	}
	if plain < 1000 {
		t.Errorf("%d plain addresses tried, want more", plain)
	}
}
