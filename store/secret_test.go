package store_test

import (
	"database/sql"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// TestWebhookSecrets: Baton makes a webhook's secret and returns it once;
// with a key it is sealed at rest (the database holds no trace of it) and
// opens only with that key; a rotation makes a new secret while the old one
// still signs for its grace period, and then no more.
func TestWebhookSecrets(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		key, err := store.ParseSecretKey("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
		if err != nil {
			t.Fatal(err)
		}
		db.SecretKey = key
		sys := storetest.System()
		w := &baton.Webhook{URL: "https://hooks.example.com/baton"}
		if err := db.CreateWebhook(sys, w); err != nil {
			t.Fatal(err)
		}
		first := w.Secret
		if !strings.HasPrefix(first, "whsec_") || len(first) < 40 {
			t.Fatalf("the secret Baton made: %q", first)
		}
		// As Standard Webhooks libraries take it: whsec_ and standard base64.
		if key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(first, "whsec_")); err != nil || len(key) != 32 {
			t.Fatalf("the secret %q is not whsec_ and 32 bytes in standard base64: %v", first, err)
		}
		raw := func() string {
			var s, old string
			if err := db.SQL().QueryRow(`SELECT secret, old_secret FROM webhooks WHERE id = $1`, w.ID).Scan(&s, &old); err != nil && err != sql.ErrNoRows {
				t.Fatal(err)
			}
			return s + " " + old
		}
		if r := raw(); strings.Contains(r, first) || strings.Contains(r, strings.TrimPrefix(first, "whsec_")) {
			t.Fatalf("the secret is stored in clear: %s", r)
		}
		got, err := db.WebhookSecret(sys, w.ID)
		if err != nil || got.Secret != first || len(got.OldSecrets) != 0 {
			t.Fatalf("for delivery: %+v %v", got, err)
		}
		// Another key does not open it; no key says what to set.
		other, _ := store.ParseSecretKey("ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=")
		for _, k := range [][]byte{other, nil} {
			db.SecretKey = k
			if _, err := db.WebhookSecret(sys, w.ID); baton.ErrorCode(err) != baton.EUNAVAILABLE || !strings.Contains(baton.ErrorMessage(err), "BATON_SECRET_KEY") {
				t.Errorf("key %x: %v", k, err)
			}
		}
		db.SecretKey = key
		// Rotate: both sign for the grace period, then only the new one.
		second, err := db.RotateWebhookSecret(sys, w.ID, time.Hour)
		if err != nil || second == first || !strings.HasPrefix(second, "whsec_") {
			t.Fatalf("rotate: %q %v", second, err)
		}
		if r := raw(); strings.Contains(r, second) || strings.Contains(r, first) {
			t.Fatalf("a rotated secret is stored in clear: %s", r)
		}
		got, err = db.WebhookSecret(sys, w.ID)
		if err != nil || got.Secret != second || len(got.OldSecrets) != 1 || got.OldSecrets[0] != first {
			t.Fatalf("in the grace period: %+v %v", got, err)
		}
		clock.Advance(time.Hour)
		if got, err = db.WebhookSecret(sys, w.ID); err != nil || got.Secret != second || len(got.OldSecrets) != 0 {
			t.Fatalf("after the grace period: %+v %v", got, err)
		}
		if _, err := db.RotateWebhookSecret(storetest.As(storetest.SeedTeam(t, db).Marketing), w.ID, 0); baton.ErrorCode(err) != baton.EFORBIDDEN {
			t.Fatalf("a rotation by marketing: %v", err)
		}
		if _, err := db.RotateWebhookSecret(sys, 999999, 0); baton.ErrorCode(err) != baton.ENOTFOUND {
			t.Fatalf("rotating no webhook: %v", err)
		}
		// No secret is in the audit log.
		es, _, err := db.FindAudit(sys, baton.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if strings.Contains(e.Before+e.After, "whsec_") {
				t.Fatalf("a secret in the audit log: %+v", e)
			}
		}
	})
}
