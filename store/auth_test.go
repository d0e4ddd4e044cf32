package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

func TestAuthPasswords(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		tm := storetest.SeedTeam(t, db)
		const pw = "correct horse battery"

		// Who may set whose password, and the length rule.
		if err := db.SetPassword(storetest.As(tm.SDR1), tm.SDR2.ID, pw); baton.ErrorCode(err) != baton.EFORBIDDEN {
			t.Fatalf("a rep set another's password: %v", err)
		}
		if err := db.SetPassword(storetest.As(tm.SDR1), tm.SDR1.ID, "short"); baton.ErrorField(err) != "password" {
			t.Fatalf("short password: %v", err)
		}
		if err := db.SetPassword(storetest.As(tm.SDR1), tm.SDR1.ID, strings.Repeat("x", store.MaxPasswordLen+1)); baton.ErrorField(err) != "password" {
			t.Fatalf("long password: %v", err)
		}
		if err := db.SetPassword(storetest.As(tm.Admin), 9999, pw); baton.ErrorCode(err) != baton.ENOTFOUND {
			t.Fatalf("unknown user: %v", err)
		}
		if err := db.SetPassword(storetest.As(tm.SDR1), tm.SDR1.ID, pw); err != nil {
			t.Fatal(err)
		}
		if err := db.SetPassword(storetest.As(tm.Admin), tm.SDR2.ID, "another long one"); err != nil {
			t.Fatal(err)
		}

		// Stored as an argon2id PHC string, never in clear.
		var hash string
		if err := db.SQL().QueryRow(`SELECT password_hash FROM users WHERE id = $1`, tm.SDR1.ID).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(hash, "$argon2id$v=19$m=") || strings.Contains(hash, pw) || strings.Count(hash, "$") != 5 {
			t.Fatalf("stored hash %q", hash)
		}

		u, err := db.CheckPassword(t.Context(), "  Sam.SDR@example.com ", pw)
		if err != nil || u.ID != tm.SDR1.ID {
			t.Fatalf("sign in: %v %v", u, err)
		}
		// The same answer for a wrong password, an unknown email and a user without a password.
		_, e1 := db.CheckPassword(t.Context(), tm.SDR1.Email, pw+"!")
		_, e2 := db.CheckPassword(t.Context(), "nobody@example.com", pw)
		_, e3 := db.CheckPassword(t.Context(), tm.Manager1.Email, "")
		for _, e := range []error{e1, e2, e3} {
			if baton.ErrorCode(e) != baton.EUNAUTHORIZED || baton.ErrorMessage(e) != baton.ErrorMessage(e1) {
				t.Fatalf("failures differ: %v / %v / %v", e1, e2, e3)
			}
		}
		// An inactive user cannot sign in.
		off := false
		if _, err := db.UpdateUser(storetest.As(tm.Admin), tm.SDR2.ID, baton.UserUpdate{Active: &off}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CheckPassword(t.Context(), tm.SDR2.Email, "another long one"); baton.ErrorMessage(err) != baton.ErrorMessage(e1) {
			t.Fatalf("inactive user: %v", err)
		}
	})
}

func TestAuthThrottle(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		tm := storetest.SeedTeam(t, db)
		const pw = "correct horse battery"
		if err := db.SetPassword(storetest.System(), tm.SDR1.ID, pw); err != nil {
			t.Fatal(err)
		}
		// Four failures, then a success, clear the count.
		for range store.LoginMaxFailures - 1 {
			db.CheckPassword(t.Context(), tm.SDR1.Email, "wrong password")
		}
		if _, err := db.CheckPassword(t.Context(), tm.SDR1.Email, pw); err != nil {
			t.Fatalf("after 4 failures: %v", err)
		}
		// Five failures within the window lock the email, even with the right password.
		for i := range store.LoginMaxFailures {
			clock.Advance(time.Minute)
			if _, err := db.CheckPassword(t.Context(), tm.SDR1.Email, "wrong password"); baton.ErrorMessage(err) != "wrong email or password" {
				t.Fatalf("failure %d: %v", i, err)
			}
		}
		_, err := db.CheckPassword(t.Context(), tm.SDR1.Email, pw)
		if baton.ErrorCode(err) != baton.EUNAUTHORIZED || !strings.Contains(baton.ErrorMessage(err), "too many failed sign-ins") ||
			!strings.Contains(baton.ErrorMessage(err), "try again in 11 minutes") {
			t.Fatalf("locked: %v", err)
		}
		// Another email is not locked; unknown emails are throttled too.
		if err := db.SetPassword(storetest.System(), tm.SDR2.ID, pw); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CheckPassword(t.Context(), tm.SDR2.Email, pw); err != nil {
			t.Fatalf("other email: %v", err)
		}
		for range store.LoginMaxFailures {
			db.CheckPassword(t.Context(), "ghost@example.com", "x")
		}
		if _, err := db.CheckPassword(t.Context(), "ghost@example.com", "x"); !strings.Contains(baton.ErrorMessage(err), "too many") {
			t.Fatalf("unknown email not throttled: %v", err)
		}
		// When the oldest failure leaves the window, sign-in works again.
		clock.Advance(store.LoginWindow - 4*time.Minute)
		if _, err := db.CheckPassword(t.Context(), tm.SDR1.Email, pw); err != nil {
			t.Fatalf("after the window: %v", err)
		}
	})
}

func TestAuthSessions(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		tm := storetest.SeedTeam(t, db)
		ctx := t.Context()
		token, csrf, err := db.CreateSession(ctx, tm.SDR1.ID)
		if err != nil || len(token) < 40 || len(csrf) < 40 || token == csrf {
			t.Fatalf("create: %q %q %v", token, csrf, err)
		}
		u, c, err := db.SessionUser(ctx, token)
		if err != nil || u.ID != tm.SDR1.ID || c != csrf {
			t.Fatalf("session user: %v %q %v", u, c, err)
		}
		// Only the token's hash is stored.
		var n int
		if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM sessions WHERE id = $1`, token).Scan(&n); err != nil || n != 0 {
			t.Fatalf("token stored in clear: %d %v", n, err)
		}
		for _, bad := range []string{"", "nope", token + "x", strings.Repeat("a", 500)} {
			if _, _, err := db.SessionUser(ctx, bad); baton.ErrorCode(err) != baton.EUNAUTHORIZED {
				t.Fatalf("token %q: %v", bad, err)
			}
		}
		if _, _, err := db.CreateSession(ctx, 9999); err == nil {
			t.Fatal("session for an unknown user")
		}
		// Sign-out ends the session; another one lives on.
		other, _, err := db.CreateSession(ctx, tm.SDR1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteSession(ctx, token); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.SessionUser(ctx, token); baton.ErrorCode(err) != baton.EUNAUTHORIZED {
			t.Fatalf("after sign-out: %v", err)
		}
		if _, _, err := db.SessionUser(ctx, other); err != nil {
			t.Fatalf("other session: %v", err)
		}
		// A session expires after SessionTTL.
		clock.Advance(store.SessionTTL - time.Second)
		if _, _, err := db.SessionUser(ctx, other); err != nil {
			t.Fatalf("before expiry: %v", err)
		}
		clock.Advance(time.Second)
		if _, _, err := db.SessionUser(ctx, other); baton.ErrorCode(err) != baton.EUNAUTHORIZED {
			t.Fatalf("after expiry: %v", err)
		}
		// Changing the password ends the user's sessions; deactivation refuses them.
		s1, _, _ := db.CreateSession(ctx, tm.SDR1.ID)
		if err := db.SetPassword(storetest.As(tm.SDR1), tm.SDR1.ID, "a brand new password"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.SessionUser(ctx, s1); baton.ErrorCode(err) != baton.EUNAUTHORIZED {
			t.Fatalf("session after password change: %v", err)
		}
		s2, _, _ := db.CreateSession(ctx, tm.SDR2.ID)
		off := false
		if _, err := db.UpdateUser(storetest.As(tm.Admin), tm.SDR2.ID, baton.UserUpdate{Active: &off}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.SessionUser(ctx, s2); baton.ErrorCode(err) != baton.EUNAUTHORIZED {
			t.Fatalf("inactive user's session: %v", err)
		}
	})
}
