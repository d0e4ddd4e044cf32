package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
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

// Throttling: after LoginMaxFailures failed sign-ins for one email within
// LoginWindow, sign-in with that email is refused until the oldest of them
// leaves the window, even with the right password.
const (
	LoginMaxFailures = 5
	LoginWindow      = 15 * time.Minute
)

// errBadLogin is the one answer to an unknown email, a wrong password, an
// inactive user and a user without a password: nothing tells them apart.
var errBadLogin = &baton.Error{Code: baton.EUNAUTHORIZED, Message: "wrong email or password"}

// dummyHash is verified against when there is no real hash to check, so
// that an unknown email takes as long as a wrong password.
// It is made on first use, not when the package loads.
var dummyHash = sync.OnceValue(func() string {
	return hashPassword("not a password: only here to spend time", make([]byte, argonSaltLen))
})

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

// SetPassword sets a user's password (at least MinPasswordLen characters)
// and ends all their sessions. Users set their own; an admin (or the system)
// sets anyone's.
func (db *DB) SetPassword(ctx context.Context, userID int64, password string) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() && tx.actor.UserID != userID {
		return baton.Errorf(baton.EFORBIDDEN, "you may only change your own password")
	}
	if err := checkPasswordRules(password); err != nil {
		return err
	}
	if _, err := tx.findUserByID(ctx, userID); err != nil {
		return err
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3`,
		hashPassword(password, salt), micros(tx.now), userID); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	return tx.Commit()
}

// CheckPassword returns the active user with this email and password. It
// needs no actor: it is how one is found. Every failure is EUNAUTHORIZED
// with the same message and about the same time, whether the email is
// unknown or the password wrong; after LoginMaxFailures failures for the
// email within LoginWindow it refuses (with a message saying when to try
// again) without checking the password. A success clears the failures.
func (db *DB) CheckPassword(ctx context.Context, email, password string) (*baton.User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if len(email) > baton.MaxFieldLen {
		email = email[:baton.MaxFieldLen]
	}
	now := db.Now().UTC()
	if wait, err := db.throttled(ctx, email, now); err != nil {
		return nil, err
	} else if wait > 0 {
		mins := int((wait + time.Minute - 1) / time.Minute)
		return nil, baton.Errorf(baton.EUNAUTHORIZED,
			"too many failed sign-ins for this email: try again in %d minute%s", mins, plural(mins))
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
	ok := false
	if u == nil || hash == "" || len(password) > MaxPasswordLen {
		verifyPassword(dummyHash(), password[:min(len(password), MaxPasswordLen)])
	} else {
		ok = verifyPassword(hash, password)
	}
	if !ok || !u.Active {
		if _, err := db.write.ExecContext(ctx, `INSERT INTO login_failures (email, at) VALUES ($1, $2)`, email, micros(now)); err != nil {
			return nil, fmt.Errorf("check password: %w", err)
		}
		return nil, errBadLogin
	}
	if _, err := db.write.ExecContext(ctx, `DELETE FROM login_failures WHERE email = $1 OR at < $2`,
		email, micros(now.Add(-24*time.Hour))); err != nil {
		return nil, fmt.Errorf("check password: %w", err)
	}
	return u, nil
}

// throttled returns how long sign-in for email must wait (0: it may go on).
func (db *DB) throttled(ctx context.Context, email string, now time.Time) (time.Duration, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT at FROM login_failures WHERE email = $1 AND at > $2 ORDER BY at DESC LIMIT $3`,
		email, micros(now.Add(-LoginWindow)), LoginMaxFailures)
	if err != nil {
		return 0, fmt.Errorf("check password: %w", err)
	}
	defer rows.Close()
	var n int
	var oldest int64
	for rows.Next() {
		if err := rows.Scan(&oldest); err != nil {
			return 0, fmt.Errorf("check password: %w", err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("check password: %w", err)
	}
	if n < LoginMaxFailures {
		return 0, nil
	}
	// The LoginMaxFailures-th most recent failure leaves the window at oldest+LoginWindow.
	return fromMicros(oldest).Add(LoginWindow).Sub(now), nil
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
	if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
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
	var csrf string
	row := db.read.QueryRowContext(ctx, `SELECT `+prefix("u.", userColumns)+`, s.csrf FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id = $1 AND s.expires_at > $2`, sessionID(token), micros(db.Now().UTC()))
	u, err := scanUser(scanFunc(func(dest ...any) error { return row.Scan(append(dest, &csrf)...) }))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", baton.Errorf(baton.EUNAUTHORIZED, "your session has ended: sign in again")
	} else if err != nil {
		return nil, "", fmt.Errorf("session: %w", err)
	}
	if !u.Active {
		return nil, "", baton.Errorf(baton.EUNAUTHORIZED, "your account is inactive")
	}
	return u, csrf, nil
}

// DeleteSession ends a session (signing out). An unknown token is not an error.
func (db *DB) DeleteSession(ctx context.Context, token string) error {
	if _, err := db.write.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1`, sessionID(token)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
