package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks (standardwebhooks.com) is the convention that receivers'
// off-the-shelf libraries verify: every delivery carries, beside
// Baton-Signature, the headers
//
//	webhook-id: <the delivery id, the same on every retry>
//	webhook-timestamp: <unix seconds of this attempt>
//	webhook-signature: v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>
//
// where key is the secret's bytes after its "whsec_" prefix, decoded from
// base64 ([StandardKey]). While a secret is rotated the header lists one
// "v1,..." per secret, separated by spaces.

// The header names of Standard Webhooks.
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// secretPrefix starts a Standard Webhooks secret.
const secretPrefix = "whsec_"

// StandardKey returns the HMAC key of a secret under Standard Webhooks: a
// secret "whsec_" + base64 (standard, as Baton makes them; or URL-safe
// without padding, as Baton made them before) is the bytes it encodes. Any
// other secret (one an operator chose) is its own bytes; receivers' libraries
// take such a key "raw" (NewWebhookRaw and the like), not as a secret string.
func StandardKey(secret []byte) []byte {
	s, ok := strings.CutPrefix(string(secret), secretPrefix)
	if !ok {
		return secret
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.RawURLEncoding, base64.URLEncoding} {
		if key, err := enc.DecodeString(s); err == nil && len(key) > 0 {
			return key
		}
	}
	return secret
}

// SignStandard returns the webhook-signature header value of a delivery:
// "v1,<base64 HMAC-SHA256(key, msgID.unix.body)>" for each key, separated by
// spaces. The keys are HMAC keys, as StandardKey gives them.
func SignStandard(msgID string, t time.Time, body []byte, keys ...[]byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		h := hmac.New(sha256.New, k)
		h.Write([]byte(msgID))
		h.Write([]byte{'.'})
		h.Write([]byte(ts))
		h.Write([]byte{'.'})
		h.Write(body)
		b.WriteString("v1,")
		b.WriteString(base64.StdEncoding.EncodeToString(h.Sum(nil)))
	}
	return b.String()
}
