package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is the replay window Verify uses when given a tolerance of
// zero or less.
const DefaultTolerance = 5 * time.Minute

// Errors of Verify. Each error it returns wraps exactly one of them.
var (
	// ErrSignatureFormat means the Baton-Signature header is missing or malformed.
	ErrSignatureFormat = errors.New("notify: malformed signature header")
	// ErrSignatureTime means the signature's timestamp is outside the
	// tolerance: an old message replayed, or a clock far off.
	ErrSignatureTime = errors.New("notify: signature timestamp outside tolerance")
	// ErrSignatureMismatch means no v1 signature matches the body and secret.
	ErrSignatureMismatch = errors.New("notify: signature does not match")
)

// Sign returns the Baton-Signature header value for body sent at t:
// "t=UNIX_SECONDS,v1=HEX(HMAC-SHA256(secret, UNIX_SECONDS + "." + body))".
func Sign(secret []byte, t time.Time, body []byte) string {
	return sign(t, body, secret)
}

// sign signs with each secret, giving one v1 per secret (secret rotation).
func sign(t time.Time, body []byte, secrets ...[]byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	var b strings.Builder
	b.WriteString("t=")
	b.WriteString(ts)
	for _, s := range secrets {
		b.WriteString(",v1=")
		b.WriteString(hex.EncodeToString(mac(s, ts, body)))
	}
	return b.String()
}

func mac(secret []byte, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks a Baton-Signature header against the raw request body, as a
// receiver must before trusting a webhook. It accepts the header if its
// timestamp is within tolerance of now, in either direction
// ([DefaultTolerance] if tolerance <= 0), and one of its v1 signatures
// (there are several while the sender rotates secrets) is the HMAC of the
// body with secret; comparisons are constant-time. Unknown schemes (v0=,
// v2=) are ignored. The error wraps [ErrSignatureFormat],
// [ErrSignatureTime] or [ErrSignatureMismatch].
//
// To accept several secrets on the receiving side, call Verify once per
// secret.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || k == "" || v == "" {
			return fmt.Errorf("%w: %q is not key=value", ErrSignatureFormat, part)
		}
		switch k {
		case "t":
			if ts != "" {
				return fmt.Errorf("%w: more than one t=", ErrSignatureFormat)
			}
			ts = v
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return fmt.Errorf("%w: v1 is not a hex HMAC-SHA256", ErrSignatureFormat)
			}
			sigs = append(sigs, sig)
		}
	}
	if ts == "" {
		return fmt.Errorf("%w: no t= timestamp", ErrSignatureFormat)
	}
	if len(sigs) == 0 {
		return fmt.Errorf("%w: no v1= signature", ErrSignatureFormat)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec < 0 || strings.HasPrefix(ts, "+") {
		return fmt.Errorf("%w: t=%q is not unix seconds", ErrSignatureFormat, ts)
	}
	if skew := now.Sub(time.Unix(sec, 0)); skew > tolerance || skew < -tolerance {
		return fmt.Errorf("%w: signed at %s, now %s", ErrSignatureTime, time.Unix(sec, 0).UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	want := mac(secret, ts, body)
	match := false
	for _, sig := range sigs {
		if hmac.Equal(sig, want) { // constant time
			match = true
		}
	}
	if !match {
		return ErrSignatureMismatch
	}
	return nil
}
