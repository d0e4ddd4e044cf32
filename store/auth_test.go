package store_test

import (
	"context"
	"errors"
	"fmt"
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
		// Hashed ahead: the same rules, then stored like SetPassword.
		if _, err := store.HashPassword(t.Context(), "short"); baton.ErrorField(err) != "password" {
			t.Fatalf("short password hashed ahead: %v", err)
		}
		if err := db.SetHashedPassword(storetest.As(tm.Admin), tm.SDR2.ID, store.Password{}); baton.ErrorField(err) != "password" {
			t.Fatalf("a password never hashed: %v", err)
		}
		ahead, err := store.HashPassword(t.Context(), "hashed ahead of time")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SetHashedPassword(storetest.As(tm.SDR1), tm.SDR2.ID, ahead); baton.ErrorCode(err) != baton.EFORBIDDEN {
			t.Fatalf("a rep setting another's password hashed ahead: %v", err)
		}
		if err := db.SetHashedPassword(storetest.As(tm.Admin), tm.SDR2.ID, ahead); err != nil {
			t.Fatal(err)
		}
		if u, err := db.CheckPassword(t.Context(), tm.SDR2.Email, "hashed ahead of time", "192.0.2.9"); err != nil || u.ID != tm.SDR2.ID {
			t.Fatalf("sign in with the password hashed ahead: %v %v", u, err)
		}

		// Stored as an argon2id PHC string, never in clear.
		var hash string
		if err := db.SQL().QueryRow(`SELECT password_hash FROM users WHERE id = $1`, tm.SDR1.ID).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(hash, "$argon2id$v=19$m=") || strings.Contains(hash, pw) || strings.Count(hash, "$") != 5 {
			t.Fatalf("stored hash %q", hash)
		}

		u, err := db.CheckPassword(t.Context(), "  Sam.SDR@example.com ", pw, "192.0.2.1")
		if err != nil || u.ID != tm.SDR1.ID {
			t.Fatalf("sign in: %v %v", u, err)
		}
		// The same answer for a wrong password, an unknown email and a user without a password.
		_, e1 := db.CheckPassword(t.Context(), tm.SDR1.Email, pw+"!", "192.0.2.1")
		_, e2 := db.CheckPassword(t.Context(), "nobody@example.com", pw, "192.0.2.1")
		_, e3 := db.CheckPassword(t.Context(), tm.Manager1.Email, "", "192.0.2.1")
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
		if _, err := db.CheckPassword(t.Context(), tm.SDR2.Email, "another long one", "192.0.2.1"); baton.ErrorMessage(err) != baton.ErrorMessage(e1) {
			t.Fatalf("inactive user: %v", err)
		}
	})
}

// signInTry is one sign-in of a throttling scenario: the clock moves by
// advance first, then the try is made times times (at least once).
type signInTry struct {
	advance     time.Duration
	addr, email string
	right       bool // the right password (every seeded user has pw)
	times       int
	// want is "ok", "bad" (wrong email or password) or "wait": refused
	// with ETOOMANY, a RetryAfter of wait and a message containing why.
	want string
	wait time.Duration
	why  string
}

const (
	whyPair = "too many failed sign-ins for this email from your address: try again in"
	whyAddr = "too many failed sign-ins from your address: try again in"
)

func TestAuthThrottle(t *testing.T) {
	sam, sue := "sam.sdr@example.com", "sue.sdr@example.com"
	// failEmails is a try that fails with n different unknown emails.
	failEmails := func(addr string, n int) []signInTry {
		var tries []signInTry
		for i := range n {
			tries = append(tries, signInTry{addr: addr, email: fmt.Sprintf("guess%d@example.com", i), want: "bad"})
		}
		return tries
	}
	cases := []struct {
		name  string
		tries []signInTry
	}{
		{"free failures, then the wait doubles with each", []signInTry{
			{addr: "192.0.2.1", email: sam, times: store.LoginFreeFailures, want: "bad"},
			{addr: "192.0.2.1", email: sam, right: true, want: "ok"}, // a success clears them
			{addr: "192.0.2.1", email: sam, times: store.LoginFreeFailures + 1, want: "bad"},
			{addr: "192.0.2.1", email: sam, right: true, want: "wait", wait: time.Second, why: whyPair + " 1 second"},
			{advance: time.Second, addr: "192.0.2.1", email: sam, want: "bad"},
			{addr: "192.0.2.1", email: sam, right: true, want: "wait", wait: 2 * time.Second, why: whyPair + " 2 seconds"},
			{advance: time.Second, addr: "192.0.2.1", email: sam, want: "wait", wait: time.Second},
			{advance: time.Second, addr: "192.0.2.1", email: sam, want: "bad"},
			{addr: "192.0.2.1", email: sam, want: "wait", wait: 4 * time.Second},
			{advance: 4 * time.Second, addr: "192.0.2.1", email: sam, right: true, want: "ok"},
			{addr: "192.0.2.1", email: sam, times: store.LoginFreeFailures, want: "bad"},
		}},
		{"the right password from another address while one is throttled", []signInTry{
			{addr: "192.0.2.2", email: sue, times: store.LoginFreeFailures + 1, want: "bad"},
			{addr: "192.0.2.2", email: sue, right: true, want: "wait", wait: time.Second, why: whyPair},
			{addr: "198.51.100.7", email: sue, right: true, want: "ok"},
			{addr: "192.0.2.2", email: sue, right: true, want: "wait", wait: time.Second}, // still waits there
			{addr: "192.0.2.2", email: sam, right: true, want: "ok"},                      // other emails from there do not
		}},
		{"an address failing with many emails waits for all of them", append(failEmails("192.0.2.3", store.LoginFreeAddrFailures+1), []signInTry{
			{addr: "192.0.2.3", email: sam, right: true, want: "wait", wait: time.Second, why: whyAddr + " 1 second"},
			{addr: "192.0.2.33", email: sam, right: true, want: "ok"},
			{advance: time.Second, addr: "192.0.2.3", email: "more@example.com", want: "bad"},
			{addr: "192.0.2.3", email: sue, right: true, want: "wait", wait: 2 * time.Second, why: whyAddr},
			// The address forgets after LoginAddrMemory.
			{advance: store.LoginAddrMemory, addr: "192.0.2.3", email: sam, right: true, want: "ok"},
		}...)},
		{"the longer wait of the two is the one told", append(failEmails("192.0.2.4", store.LoginFreeAddrFailures-store.LoginFreeFailures-2), []signInTry{
			{addr: "192.0.2.4", email: sam, times: store.LoginFreeFailures + 1, want: "bad"},
			{advance: time.Second, addr: "192.0.2.4", email: sam, want: "bad"},
			{advance: 2 * time.Second, addr: "192.0.2.4", email: sam, want: "bad"}, // pair: 3 past its free failures; address: 1
			{addr: "192.0.2.4", email: sam, right: true, want: "wait", wait: 4 * time.Second, why: whyPair},
			{addr: "192.0.2.4", email: sue, right: true, want: "wait", wait: time.Second, why: whyAddr},
		}...)},
		{"an IPv6 /64 is one address", []signInTry{
			{addr: "2001:db8:1:2::1", email: sam, times: 3, want: "bad"},
			{addr: "[2001:db8:1:2::ff]:4431", email: sam, times: 3, want: "bad"},
			{addr: "2001:db8:1:2:abcd::9", email: sam, right: true, want: "wait", wait: time.Second, why: whyPair},
			{addr: "2001:db8:1:3::1", email: sam, right: true, want: "ok"},
			{addr: "::ffff:192.0.2.5", email: sue, times: 6, want: "bad"}, // IPv4-mapped is IPv4
			{addr: "192.0.2.5", email: sue, right: true, want: "wait", wait: time.Second},
		}},
		{"the wait stops growing at LoginMaxDelay", []signInTry{
			{addr: "192.0.2.6", email: "ghost@example.com", times: store.LoginFreeFailures + 1, want: "bad"},
			{advance: 1 * time.Second, addr: "192.0.2.6", email: "ghost@example.com", want: "bad"},
			{advance: 2 * time.Second, addr: "192.0.2.6", email: "ghost@example.com", want: "bad"},
			{advance: 4 * time.Second, addr: "192.0.2.6", email: "ghost@example.com", want: "bad"},
			{advance: 8 * time.Second, addr: "192.0.2.6", email: "ghost@example.com", want: "bad"},
			{advance: 16 * time.Second, addr: "192.0.2.6", email: "ghost@example.com", want: "bad"},
			{advance: 32 * time.Second, addr: "192.0.2.6", email: "ghost@example.com", want: "bad"},
			{advance: 64 * time.Second, addr: "192.0.2.6", email: "ghost@example.com", want: "bad"},
			{advance: 128 * time.Second, addr: "192.0.2.6", email: "ghost@example.com", want: "bad"},
			{advance: 256 * time.Second, addr: "192.0.2.6", email: "ghost@example.com", want: "bad"},
			{addr: "192.0.2.6", email: "ghost@example.com", want: "wait", wait: 512 * time.Second, why: whyPair + " 9 minutes"},
			{advance: 512 * time.Second, addr: "192.0.2.6", email: "ghost@example.com", want: "bad"},
			{addr: "192.0.2.6", email: "ghost@example.com", want: "wait", wait: store.LoginMaxDelay, why: whyPair + " 15 minutes"},
			{advance: store.LoginMaxDelay, addr: "192.0.2.6", email: "ghost@example.com", want: "bad"},
			{addr: "192.0.2.6", email: "ghost@example.com", want: "wait", wait: store.LoginMaxDelay},
			// A pair's failures are forgotten after LoginMemory.
			{advance: store.LoginMemory, addr: "192.0.2.6", email: "ghost@example.com", times: store.LoginFreeFailures, want: "bad"},
		}},
	}
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		tm := storetest.SeedTeam(t, db)
		const pw = "correct horse battery"
		for _, u := range []*baton.User{tm.SDR1, tm.SDR2} {
			if u.Email != sam && u.Email != sue {
				t.Fatalf("seeded email %s", u.Email)
			}
			if err := db.SetPassword(storetest.System(), u.ID, pw); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				// Each case's addresses are its own, so the cases share the database.
				for i, try := range c.tries {
					clock.Advance(try.advance)
					password := "wrong password"
					if try.right {
						password = pw
					}
					for range max(1, try.times) {
						u, err := db.CheckPassword(t.Context(), try.email, password, try.addr)
						checkTry(t, i, try, u, err)
					}
				}
			})
		}
	})
}

// checkTry fails the test unless the answer to try is what it wants.
func checkTry(t *testing.T, i int, try signInTry, u *baton.User, err error) {
	t.Helper()
	var re *store.RetryError
	switch try.want {
	case "ok":
		if err != nil || u == nil || u.Email != try.email {
			t.Fatalf("try %d (%s from %s): want a sign-in, got %v %v", i, try.email, try.addr, u, err)
		}
	case "bad":
		if baton.ErrorCode(err) != baton.EUNAUTHORIZED || baton.ErrorMessage(err) != "wrong email or password" {
			t.Fatalf("try %d (%s from %s): want wrong email or password, got %v", i, try.email, try.addr, err)
		}
	case "wait":
		if !errors.As(err, &re) || baton.ErrorCode(err) != baton.ETOOMANY || re.RetryAfter() != try.wait ||
			!strings.Contains(baton.ErrorMessage(err), try.why) {
			t.Fatalf("try %d (%s from %s): want to wait %v (%q), got %v", i, try.email, try.addr, try.wait, try.why, err)
		}
	default:
		t.Fatalf("try %d: want %q?", i, try.want)
	}
}

func TestAuthFailuresPruned(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		count := func() int {
			t.Helper()
			var n int
			if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM login_failures`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		for i := range 30 {
			db.CheckPassword(t.Context(), fmt.Sprintf("guess%d@example.com", i), "wrong password", fmt.Sprintf("192.0.2.%d", i))
		}
		if n := count(); n != 30 {
			t.Fatalf("%d failures recorded, want 30", n)
		}
		// A failure within LoginMemory of the others keeps them; one after it forgets them.
		clock.Advance(store.LoginMemory - time.Second)
		db.CheckPassword(t.Context(), "late@example.com", "wrong password", "198.51.100.1")
		if n := count(); n != 31 {
			t.Fatalf("%d failures kept, want 31", n)
		}
		clock.Advance(2 * time.Second)
		db.CheckPassword(t.Context(), "later@example.com", "wrong password", "198.51.100.2")
		if n := count(); n != 2 {
			t.Fatalf("%d failures after pruning, want 2 (the last two)", n)
		}
	})
}

func TestAuthHashSlots(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		db.Now = storetest.NewClock().Now
		tm := storetest.SeedTeam(t, db)
		const pw = "correct horse battery"
		if err := db.SetPassword(storetest.System(), tm.SDR1.ID, pw); err != nil {
			t.Fatal(err)
		}
		if n := store.HashSlots(); n < 2 || n > 4 {
			t.Fatalf("%d hash slots", n)
		}
		release := store.HoldHashSlots()
		defer release()
		// Every slot taken: refused at once, right password or wrong, and not counted as a failure.
		for range store.LoginFreeFailures + 1 {
			_, err := db.CheckPassword(t.Context(), tm.SDR1.Email, "wrong password", "192.0.2.1")
			checkTry(t, 0, signInTry{want: "wait", wait: time.Second, why: "too many sign-ins at once: try again in 1 second"}, nil, err)
		}
		_, err := db.CheckPassword(t.Context(), tm.SDR1.Email, pw, "192.0.2.1")
		checkTry(t, 1, signInTry{want: "wait", wait: time.Second, why: "too many sign-ins at once"}, nil, err)
		// SetPassword waits for a slot, as long as its context lasts.
		ctx, cancel := context.WithCancel(storetest.System())
		cancel()
		if err := db.SetPassword(ctx, tm.SDR1.ID, "another long password"); !errors.Is(err, context.Canceled) {
			t.Fatalf("set password with every slot taken: %v", err)
		}
		release()
		u, err := db.CheckPassword(t.Context(), tm.SDR1.Email, pw, "192.0.2.1")
		if err != nil || u.ID != tm.SDR1.ID {
			t.Fatalf("after release: %v %v", u, err)
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
		// A session expires after SessionTTL, however busy (a page every
		// half hour keeps it from its idle end, TestSessionIdle).
		for end := clock.Now().Add(store.SessionTTL - time.Second); clock.Now().Before(end); {
			clock.Advance(min(30*time.Minute, end.Sub(clock.Now())))
			if _, _, err := db.SessionUser(ctx, other); err != nil {
				t.Fatalf("before expiry: %v", err)
			}
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

// TestSessionIdle: a session ends after the idle time without a page, and
// each page (recorded at most once a minute) moves the end on; a server
// told a shorter idle time ends sessions sooner.
func TestSessionIdle(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		tm := storetest.SeedTeam(t, db)
		token, _, err := db.CreateSession(storetest.System(), tm.SDR1.ID)
		if err != nil {
			t.Fatal(err)
		}
		// A page every 50 minutes keeps it for 5 hours.
		for range 6 {
			clock.Advance(50 * time.Minute)
			if _, _, err := db.SessionUser(storetest.System(), token); err != nil {
				t.Fatalf("after %v: %v", clock.Now().Sub(storetest.Epoch), err)
			}
		}
		clock.Advance(store.DefaultSessionIdle)
		if _, _, err := db.SessionUser(storetest.System(), token); baton.ErrorCode(err) != baton.EUNAUTHORIZED || !strings.Contains(baton.ErrorMessage(err), "without a page") {
			t.Fatalf("after an hour without a page: %v", err)
		}
		db.SessionIdle = 10 * time.Minute
		token, _, err = db.CreateSession(storetest.System(), tm.SDR1.ID)
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(10 * time.Minute)
		if _, _, err := db.SessionUser(storetest.System(), token); baton.ErrorCode(err) != baton.EUNAUTHORIZED {
			t.Fatalf("after 10 minutes with a 10-minute idle time: %v", err)
		}
	})
}

// TestChangePasswordAndSignOutEverywhere: users change their own password
// given the current one, which ends their sessions; signing out everywhere
// ends every session of theirs and nobody else's.
func TestChangePasswordAndSignOutEverywhere(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		tm := storetest.SeedTeam(t, db)
		sam, sys := storetest.As(tm.SDR1), storetest.System()
		if err := db.SetPassword(sys, tm.SDR1.ID, "the first passphrase"); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ current, next, field string }{
			{"not it at all", "a second passphrase", "current_password"},
			{"the first passphrase", "short", "password"},
			{"the first passphrase", "the first passphrase", "password"},
		} {
			if err := db.ChangePassword(sam, c.current, c.next, false); baton.ErrorField(err) != c.field {
				t.Errorf("%q -> %q: %v, want an error on %s", c.current, c.next, err, c.field)
			}
		}
		one, _, _ := db.CreateSession(sys, tm.SDR1.ID)
		tok, err := db.CreateToken(sam, tm.SDR1.ID, "laptop")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.ChangePassword(sam, "the first passphrase", "a second passphrase", true); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.SessionUser(sys, one); baton.ErrorCode(err) != baton.EUNAUTHORIZED {
			t.Fatalf("a session after the change: %v", err)
		}
		if _, err := db.Authenticate(sys, tok); err != nil {
			t.Fatalf("a kept token after the change: %v", err)
		}
		if _, err := db.CheckPassword(sys, tm.SDR1.Email, "a second passphrase", "192.0.2.1"); err != nil {
			t.Fatalf("sign in with the new password: %v", err)
		}
		a, _, _ := db.CreateSession(sys, tm.SDR1.ID)
		b, _, _ := db.CreateSession(sys, tm.SDR1.ID)
		sue, _, _ := db.CreateSession(sys, tm.SDR2.ID)
		if err := db.EndSessions(sam); err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{a, b} {
			if _, _, err := db.SessionUser(sys, s); baton.ErrorCode(err) != baton.EUNAUTHORIZED {
				t.Errorf("Sam's session after signing out everywhere: %v", err)
			}
		}
		if _, _, err := db.SessionUser(sys, sue); err != nil {
			t.Errorf("Sue's session after Sam signed out everywhere: %v", err)
		}
	})
}
