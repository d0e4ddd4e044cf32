package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/batonhq/baton"
)

// Sign-in for the web UI: passwords hashed with argon2id, sessions kept in
// the database and failed sign-ins throttled. Every time comes from db.Now.

// Password limits. The upper one keeps a request from making argon2 hash
// megabytes.
const (
	MinPasswordLen = 10   // characters
	MaxPasswordLen = 1024 // bytes
)

// The argon2id parameters of new hashes: OWASP's recommended minimum (19 MiB,
// two passes, one lane), memory-hard yet about 30 ms on one core, which keeps
// sign-in and tests quick. Each hash records its own parameters, so they can
// be raised later without invalidating stored passwords.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// SessionTTL is how long a web session lasts from sign-in (a working day and
// then some); after it the user signs in again.
const SessionTTL = 12 * time.Hour

// DefaultSessionIdle is how long a web session may go without serving a
// page before it ends, unless the server is told otherwise (baton serve
// --session-idle).
const DefaultSessionIdle = time.Hour

// sessionIdle is the DB's idle time of sessions.
func (db *DB) sessionIdle() time.Duration {
	if db.SessionIdle > 0 {
		return db.SessionIdle
	}
	return DefaultSessionIdle
}

// Throttling of failed sign-ins is by the client's address and by the
// (address, email) pair, never by the email alone, so that an attacker
// elsewhere cannot lock a user out. The first LoginFreeFailures failures of
// a pair within LoginMemory, and the first LoginFreeAddrFailures of an
// address (any emails) within LoginAddrMemory, cost nothing; each failure
// after them doubles the wait before the next try from there
// (LoginFirstDelay, twice that, ...), up to LoginMaxDelay. A try during the
// wait is refused with ETOOMANY, without checking the password, and is not
// counted. A success clears its pair's failures, not its address's: one
// known password must not buy fresh tries at other emails.
//
// The address memory is short because many people may share an address (an
// office behind NAT): an hour of their typos, not a day, is what they pay
// for. Every recorded failure deletes, in its transaction, the failures
// older than LoginMemory (an index on at makes that cheap), so the table
// holds at most a day of failures, and those are bounded per address by the
// waits.
const (
	LoginFreeFailures     = 5
	LoginFreeAddrFailures = 20
	LoginFirstDelay       = time.Second
	LoginMaxDelay         = 15 * time.Minute
	LoginMemory           = 24 * time.Hour
	LoginAddrMemory       = time.Hour
)

// hashSlots bounds the argon2id hashes computed at once in the process:
// each holds argonMemory (19 MiB) while it runs, and 40 parallel sign-ins
// once took the server from 55 MB to 633 MB. Half the cores, between 2 and
// 4 slots: at about 30 ms a hash they pass 60 to 130 sign-ins a second and
// hold at most 76 MiB. A sign-in that finds them full is refused at once
// (ETOOMANY, retry in a second) rather than queued: an unauthenticated
// queue would be the next thing to bound. SetPassword, which only a
// signed-in user reaches, waits for a slot.
var hashSlots = make(chan struct{}, max(2, min(4, runtime.GOMAXPROCS(0)/2)))

// HashSlots is how many password hashes may run at once.
func HashSlots() int { return cap(hashSlots) }

// HoldHashSlots takes every password-hashing slot until release is called,
// so that sign-ins are refused as in a storm. It is for tests of what a
// client sees then.
func HoldHashSlots() (release func()) {
	for range cap(hashSlots) {
		hashSlots <- struct{}{}
	}
	return sync.OnceFunc(func() {
		for range cap(hashSlots) {
			<-hashSlots
		}
	})
}

// RetryError is a refusal the client may try again after Wait: a throttled
// sign-in, or one that found every hashing slot taken. It wraps the
// ETOOMANY *baton.Error that says so, for the code and message.
type RetryError struct {
	Err  *baton.Error
	Wait time.Duration
}

// Error implements the error interface.
func (e *RetryError) Error() string { return e.Err.Error() }

// Unwrap returns the *baton.Error.
func (e *RetryError) Unwrap() error { return e.Err }

// RetryAfter is how long the client should wait before trying again.
func (e *RetryError) RetryAfter() time.Duration { return e.Wait }

// retryError returns a RetryError saying why and how long to wait.
func retryError(wait time.Duration, why string) *RetryError {
	return &RetryError{Wait: wait, Err: baton.Errorf(baton.ETOOMANY, "%s: try again in %s", why, waitText(wait))}
}

// errHashBusy is the answer to a sign-in that finds every hashing slot taken.
var errHashBusy = retryError(time.Second, "too many sign-ins at once")

// errBadLogin is the one answer to an unknown email, a wrong password, an
// inactive user and a user without a password: nothing tells them apart.
var errBadLogin = &baton.Error{Code: baton.EUNAUTHORIZED, Message: "wrong email or password"}

// dummyHash is verified against when there is no real hash to check, so
// that an unknown email takes as long as a wrong password.
// It is made on first use, not when the package loads.
var dummyHash = sync.OnceValue(func() string {
	return hashPassword("not a password: only here to spend time", make([]byte, argonSaltLen))
})

// hashWithSlot hashes password with a new random salt once a hashing slot
// is free (or ctx ends).
func hashWithSlot(ctx context.Context, password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	select {
	case hashSlots <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("hash password: %w", ctx.Err())
	}
	defer func() { <-hashSlots }()
	return hashPassword(password, salt), nil
}

// verifyWithSlot is verifyPassword in a hashing slot, or errHashBusy when
// none is free.
func verifyWithSlot(phc, password string) (bool, error) {
	select {
	case hashSlots <- struct{}{}:
	default:
		return false, errHashBusy
	}
	defer func() { <-hashSlots }()
	return verifyPassword(phc, password), nil
}

// hashPassword returns the PHC string of password with salt:
// $argon2id$v=19$m=19456,t=2,p=1$SALT$HASH (unpadded standard base64).
func hashPassword(password string, salt []byte) string {
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// verifyPassword reports whether password matches the PHC string, comparing
// in constant time. A malformed hash matches nothing.
func verifyPassword(phc, password string) bool {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 ||
		m > 1<<21 || t > 100 { // refuse parameters that would make a stored hash a denial of service
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 128 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// checkPasswordRules checks a new password.
func checkPasswordRules(password string) error {
	switch {
	case !utf8.ValidString(password):
		return baton.FieldError("password", "is not valid UTF-8")
	case utf8.RuneCountInString(password) < MinPasswordLen:
		return baton.FieldError("password", "must be at least %d characters long", MinPasswordLen)
	case len(password) > MaxPasswordLen:
		return baton.FieldError("password", "must be at most %d bytes long", MaxPasswordLen)
	}
	return nil
}

// SetPassword sets a user's password (at least MinPasswordLen characters),
// ends all their sessions and revokes their live API tokens: whoever knew
// the old password may have made one. Users set their own; an admin (or the
// system) sets anyone's. SetPasswordKeepTokens leaves the tokens working.
func (db *DB) SetPassword(ctx context.Context, userID int64, password string) error {
	return db.setPassword(ctx, userID, password, false)
}

// SetPasswordKeepTokens is SetPassword for a change that is not a reset:
// the user's API tokens keep working.
func (db *DB) SetPasswordKeepTokens(ctx context.Context, userID int64, password string) error {
	return db.setPassword(ctx, userID, password, true)
}

// setPassword is SetPassword; keepTokens leaves the user's API tokens
// alone. The hash is made before the transaction begins, in a hashing slot
// (waiting for one), so that it holds no lock while it runs.
func (db *DB) setPassword(ctx context.Context, userID int64, password string, keepTokens bool) error {
	if err := mayChangePassword(ctx, userID); err != nil {
		return err
	}
	p, err := HashPassword(ctx, password)
	if err != nil {
		return err
	}
	return db.setHashed(ctx, userID, p, keepTokens)
}

// Password is a new password checked against the rules and hashed, for
// SetHashedPassword: hashing is the slow part of setting one, and may be
// done ahead, outside any transaction (the demo hashes its users' while it
// plays their history).
type Password struct{ phc string }

// HashPassword checks a new password against the rules and hashes it with
// a new salt once a hashing slot is free (or ctx ends).
func HashPassword(ctx context.Context, password string) (Password, error) {
	if err := checkPasswordRules(password); err != nil {
		return Password{}, err
	}
	phc, err := hashWithSlot(ctx, password)
	return Password{phc}, err
}

// SetHashedPassword is SetPassword with the password hashed beforehand by
// HashPassword.
func (db *DB) SetHashedPassword(ctx context.Context, userID int64, p Password) error {
	if p.phc == "" {
		return baton.FieldError("password", "not hashed: use HashPassword")
	}
	return db.setHashed(ctx, userID, p, false)
}

// mayChangePassword says whether the actor may set userID's password: their
// own, or anyone's for an admin or the system.
func mayChangePassword(ctx context.Context, userID int64) error {
	a, ok := baton.ActorFrom(ctx)
	if !ok {
		return baton.Errorf(baton.EUNAUTHORIZED, "no actor: sign in first")
	}
	if !a.CanAdmin() && a.UserID != userID {
		return baton.Errorf(baton.EFORBIDDEN, "you may only change your own password")
	}
	return nil
}

// setHashed stores a hashed password as setPassword says.
func (db *DB) setHashed(ctx context.Context, userID int64, p Password, keepTokens bool) error {
	if err := mayChangePassword(ctx, userID); err != nil {
		return err
	}
	hash := p.phc
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.findUserByID(ctx, userID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3`,
		hash, micros(tx.now), userID); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if !keepTokens {
		if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1, revoked_by = $2 WHERE user_id = $3 AND revoked_at IS NULL`,
			micros(tx.now), tx.actorID(), userID); err != nil {
			return fmt.Errorf("set password: revoke tokens: %w", err)
		}
	}
	// Never the password nor its hash: only that it changed, and whether
	// the tokens were revoked with it.
	if err := tx.audit(ctx, "user.password", "user", userID, nil, map[string]any{"tokens_revoked": !keepTokens}); err != nil {
		return err
	}
	return tx.Commit()
}

// CheckPassword returns the active user with this email and password,
// signing in from the client address addr (an IP address; see addrKey). It
// needs no actor: it is how one is found. Every failure is EUNAUTHORIZED
// with the same message and about the same time, whether the email is
// unknown or the password wrong. A try that the failures from addr make
// wait (see LoginFreeFailures), or that finds every hashing slot taken, is
// refused with a *RetryError (ETOOMANY, saying why and when to try again)
// without checking the password. A success clears the failures of (addr,
// email). The audit log records each try (signin.success, signin.failure,
// signin.throttled) with the email and the address, never the password,
// in the transaction that records or clears the failures.
func (db *DB) CheckPassword(ctx context.Context, email, password, addr string) (*baton.User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if len(email) > baton.MaxFieldLen {
		email = email[:baton.MaxFieldLen]
	}
	try := signIn{email: email, addr: addr[:min(len(addr), 100)], via: "ui"}
	if a, ok := baton.ActorFrom(ctx); ok && a.Via != "" {
		try.via = a.Via
	}
	addr = addrKey(addr)
	now := db.Now().UTC()
	try.at = now
	if err := db.throttled(ctx, addr, email, now); err != nil {
		var retry *RetryError
		if errors.As(err, &retry) {
			if err := db.auditSignIn(ctx, "signin.throttled", try, nil); err != nil {
				return nil, err
			}
		}
		return nil, err
	}
	var (
		u    *baton.User
		hash string
	)
	row := db.read.QueryRowContext(ctx, `SELECT `+userColumns+`, password_hash FROM users WHERE email = $1`, email)
	u, err := scanUser(scanFunc(func(dest ...any) error { return row.Scan(append(dest, &hash)...) }))
	if errors.Is(err, sql.ErrNoRows) {
		u = nil
	} else if err != nil {
		return nil, fmt.Errorf("check password: %w", err)
	}
	var ok bool
	if u == nil || hash == "" || len(password) > MaxPasswordLen {
		_, err = verifyWithSlot(dummyHash(), password[:min(len(password), MaxPasswordLen)])
	} else {
		ok, err = verifyWithSlot(hash, password)
	}
	if err != nil {
		return nil, err
	}
	if !ok || !u.Active {
		if err := db.recordFailure(ctx, addr, email, now, try, u); err != nil {
			return nil, err
		}
		return nil, errBadLogin
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("check password: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE addr = $1 AND email = $2`, addr, email); err != nil {
		return nil, fmt.Errorf("check password: %w", err)
	}
	if err := insertAudit(ctx, tx, try.entry("signin.success", u, true)); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("check password: %w", err)
	}
	return u, nil
}

// signIn is a sign-in try as the audit log records it.
type signIn struct {
	email, addr, via string
	at               time.Time
}

// entry is the audit entry of the try: by the user when it succeeded,
// about the user of the email when there is one (target 0 when not).
func (s signIn) entry(action string, u *baton.User, succeeded bool) *baton.AuditEntry {
	e := &baton.AuditEntry{At: s.at, Via: s.via, Action: action, TargetKind: "user", Addr: s.addr}
	b, _ := json.Marshal(map[string]string{"email": s.email}) // a map of strings always marshals
	e.After = string(b)
	if u != nil {
		e.TargetID = u.ID
		if succeeded {
			id := u.ID
			e.ActorID, e.ActorName = &id, u.Name
		}
	}
	return e
}

// auditSignIn records a sign-in try in a transaction of its own, for a try
// that writes nothing else (one refused as throttled).
func (db *DB) auditSignIn(ctx context.Context, action string, try signIn, u *baton.User) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	defer tx.Rollback()
	if err := insertAudit(ctx, tx, try.entry(action, u, false)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// recordFailure records a failed sign-in, with its audit entry, and, in the
// same transaction, forgets the failures older than LoginMemory. u is the
// user of the email, nil for none.
func (db *DB) recordFailure(ctx context.Context, addr, email string, now time.Time, try signIn, u *baton.User) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record sign-in failure: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE at < $1`, micros(now.Add(-LoginMemory))); err != nil {
		return fmt.Errorf("record sign-in failure: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO login_failures (addr, email, at) VALUES ($1, $2, $3)`,
		addr, email, micros(now)); err != nil {
		return fmt.Errorf("record sign-in failure: %w", err)
	}
	if err := insertAudit(ctx, tx, try.entry("signin.failure", u, false)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record sign-in failure: %w", err)
	}
	return nil
}

// throttled returns a *RetryError when the failures from addr, or from
// addr with email, make a sign-in wait at now; nil when it may go on.
func (db *DB) throttled(ctx context.Context, addr, email string, now time.Time) error {
	// One pass over the address's rows of the last LoginMemory: its count
	// within LoginAddrMemory and its latest failure, the pair's count and
	// latest failure.
	var addrN, pairN int
	var addrLast, pairLast int64
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(CASE WHEN at > $1 THEN 1 END), COALESCE(MAX(at), 0),
		COUNT(CASE WHEN email = $2 THEN 1 END), COALESCE(MAX(CASE WHEN email = $2 THEN at END), 0)
		FROM login_failures WHERE addr = $3 AND at > $4`,
		micros(now.Add(-LoginAddrMemory)), email, addr, micros(now.Add(-LoginMemory))).Scan(&addrN, &addrLast, &pairN, &pairLast); err != nil {
		return fmt.Errorf("check password: %w", err)
	}
	pairWait := fromMicros(pairLast).Add(backoff(pairN, LoginFreeFailures)).Sub(now)
	addrWait := fromMicros(addrLast).Add(backoff(addrN, LoginFreeAddrFailures)).Sub(now)
	switch {
	case pairWait > 0 && pairWait >= addrWait:
		return retryError(pairWait, "too many failed sign-ins for this email from your address")
	case addrWait > 0:
		return retryError(addrWait, "too many failed sign-ins from your address")
	}
	return nil
}

// backoff is the wait after the last of failures failed sign-ins, of which
// the first free cost nothing: LoginFirstDelay after the first one past
// them, doubling with each, at most LoginMaxDelay.
func backoff(failures, free int) time.Duration {
	past := failures - free
	switch {
	case past <= 0:
		return 0
	case past > 20: // 2^20 s is beyond any sane cap; and no shift overflows
		return LoginMaxDelay
	}
	return min(LoginFirstDelay<<(past-1), LoginMaxDelay)
}

// addrKey is the throttling key of a client address ("192.0.2.7",
// "2001:db8::1" or either with a port): the IP address, an IPv6 one cut to
// its /64 (what one subscriber commonly gets, so that hopping within it
// earns no fresh tries). Anything else (empty, a Unix socket) is kept as it
// is, capped in length.
func addrKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		ap, perr := netip.ParseAddrPort(addr)
		if perr != nil {
			return addr[:min(len(addr), 100)]
		}
		a = ap.Addr()
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// waitText says a wait in whole seconds (rounded up) under a minute, in
// whole minutes (rounded up) from one.
func waitText(d time.Duration) string {
	if d < time.Minute {
		n := max(1, int((d+time.Second-1)/time.Second))
		return fmt.Sprintf("%d second%s", n, plural(n))
	}
	n := int((d + time.Minute - 1) / time.Minute)
	return fmt.Sprintf("%d minute%s", n, plural(n))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// randomToken returns 32 random bytes in unpadded base64url.
func randomToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// sessionID is the stored form of a session token.
func sessionID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateSession starts a web session of SessionTTL for the user (found by
// CheckPassword) and returns its token, for the cookie, and its CSRF token,
// for every form. Only the token's SHA-256 is stored. Expired sessions are
// deleted on the way.
func (db *DB) CreateSession(ctx context.Context, userID int64) (token, csrf string, err error) {
	if token, err = randomToken(); err != nil {
		return "", "", err
	}
	if csrf, err = randomToken(); err != nil {
		return "", "", err
	}
	now := db.Now().UTC()
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return "", "", fmt.Errorf("create session: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, micros(now)); err != nil {
		return "", "", fmt.Errorf("create session: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, csrf, created_at, expires_at, seen_at) VALUES ($1, $2, $3, $4, $5, $4)`,
		sessionID(token), userID, csrf, micros(now), micros(now.Add(SessionTTL))); err != nil {
		if isForeignKeyViolation(err) {
			return "", "", baton.Errorf(baton.ENOTFOUND, "no user %d", userID)
		}
		return "", "", fmt.Errorf("create session: %w", err)
	}
	return token, csrf, tx.Commit()
}

// SessionUser returns the active user of an unexpired session and the
// session's CSRF token, or EUNAUTHORIZED.
func (db *DB) SessionUser(ctx context.Context, token string) (*baton.User, string, error) {
	if token == "" || len(token) > 200 {
		return nil, "", baton.Errorf(baton.EUNAUTHORIZED, "not signed in")
	}
	var (
		csrf string
		seen int64
	)
	now := db.Now().UTC()
	id := sessionID(token)
	row := db.read.QueryRowContext(ctx, `SELECT `+prefix("u.", userColumns)+`, s.csrf, s.seen_at FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id = $1 AND s.expires_at > $2`, id, micros(now))
	u, err := scanUser(scanFunc(func(dest ...any) error { return row.Scan(append(dest, &csrf, &seen)...) }))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", baton.Errorf(baton.EUNAUTHORIZED, "your session has ended: sign in again")
	} else if err != nil {
		return nil, "", fmt.Errorf("session: %w", err)
	}
	idle := db.sessionIdle()
	switch {
	case !u.Active:
		return nil, "", baton.Errorf(baton.EUNAUTHORIZED, "your account is inactive")
	case micros(now)-seen >= idle.Microseconds():
		return nil, "", baton.Errorf(baton.EUNAUTHORIZED, "you were signed out after %s without a page: sign in again", idle)
	}
	if cutoff := micros(now.Add(-sessionSeenResolution)); seen <= cutoff {
		db.touchSession(ctx, id, micros(now), cutoff)
	}
	return u, csrf, nil
}

// DeleteSession ends a session (signing out), recorded in the audit log
// as the user's signout. An unknown token is not an error, and leaves no
// entry.
func (db *DB) DeleteSession(ctx context.Context, token string) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	defer tx.Rollback()
	var (
		id   int64
		name string
	)
	err = tx.QueryRowContext(ctx, `DELETE FROM sessions WHERE id = $1 RETURNING user_id`, sessionID(token)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT name FROM users WHERE id = $1`, id).Scan(&name); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	e := &baton.AuditEntry{At: db.Now().UTC(), ActorID: &id, ActorName: name, Via: "ui", Action: "signout",
		TargetKind: "user", TargetID: id, Addr: baton.ClientAddrFrom(ctx)}
	if err := insertAudit(ctx, tx, e); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// sessionSeenResolution is how precisely a session's last page is
// recorded: a session serving many pages a minute is written once a minute.
const sessionSeenResolution = time.Minute

// touchSession records that a session served a page at now, unless a later
// page than cutoff is recorded already, best effort (touch).
func (db *DB) touchSession(ctx context.Context, id string, now, cutoff int64) {
	db.touch(ctx, `UPDATE sessions SET seen_at = $1 WHERE id = $2 AND seen_at <= $3`, now, id, cutoff)
}

// ChangePassword changes the actor's own password, given their current one
// (EINVALID on current_password otherwise), and ends all their sessions;
// their API tokens are revoked unless keepTokens.
func (db *DB) ChangePassword(ctx context.Context, current, next string, keepTokens bool) error {
	a, ok := baton.ActorFrom(ctx)
	if !ok || a.UserID == 0 {
		return baton.Errorf(baton.EUNAUTHORIZED, "sign in first")
	}
	var hash string
	if err := db.read.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = $1`, a.UserID).Scan(&hash); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	okay, err := verifyWithSlot(cmp.Or(hash, dummyHash()), current)
	if err != nil {
		return err
	}
	if !okay || hash == "" {
		return baton.FieldError("current_password", "is not your password")
	}
	if current == next {
		return baton.FieldError("password", "is your password already: choose a new one")
	}
	return db.setPassword(ctx, a.UserID, next, keepTokens)
}

// EndSessions ends every web session of the actor, on every device ("sign
// out everywhere").
func (db *DB) EndSessions(ctx context.Context) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if tx.actor.UserID == 0 {
		return baton.Errorf(baton.EUNAUTHORIZED, "sign in first")
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, tx.actor.UserID)
	if err != nil {
		return fmt.Errorf("end sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	if err := tx.audit(ctx, "signout.everywhere", "user", tx.actor.UserID, nil, map[string]any{"sessions": n}); err != nil {
		return err
	}
	return tx.Commit()
}
