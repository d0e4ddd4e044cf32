package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/batonhq/baton"
)

// API tokens: made for a user (by themselves or an admin), listed without
// their secret, revoked at once. Only a token's SHA-256 is stored.

// hashToken returns the stored form of an API token.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

const tokenColumns = `id, user_id, name, created_by, created_via, created_at, last_used_at, revoked_at, revoked_by, expires_at`

func scanToken(s interface{ Scan(...any) error }) (*baton.Token, error) {
	var t baton.Token
	var by, revokedBy, used, revoked, expires sql.NullInt64
	var created int64
	if err := s.Scan(&t.ID, &t.UserID, &t.Name, &by, &t.CreatedVia, &created, &used, &revoked, &revokedBy, &expires); err != nil {
		return nil, err
	}
	t.CreatedBy, t.RevokedBy = ptrInt(by), ptrInt(revokedBy)
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = fromMicros(created), fromNullMicros(used), fromNullMicros(revoked)
	t.ExpiresAt = fromNullMicros(expires)
	return &t, nil
}

// tokenExpiry is when a token made at now stops working: after the DB's
// TokenLifetime (baton.DefaultTokenLifetime when 0); never (NULL) when it
// is negative.
func (db *DB) tokenExpiry(now time.Time) sql.NullInt64 {
	life := db.TokenLifetime
	if life == 0 {
		life = baton.DefaultTokenLifetime
	}
	if life < 0 {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: micros(now.Add(life)), Valid: true}
}

// actorID is the user id of the actor, or NULL for the system.
func (tx *Tx) actorID() sql.NullInt64 {
	return sql.NullInt64{Int64: tx.actor.UserID, Valid: tx.actor.UserID != 0}
}

// CreateToken makes a new API token for a user. A user may make their own;
// an admin may make anyone's. The name says what uses it (at most
// baton.MaxTokenName characters); who made it, and through what, is
// recorded. It stops working after the DB's TokenLifetime.
func (db *DB) CreateToken(ctx context.Context, userID int64, name string) (string, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() && tx.actor.UserID != userID {
		return "", baton.Errorf(baton.EFORBIDDEN, "you may only create your own tokens")
	}
	name = strings.TrimSpace(name)
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > baton.MaxTokenName {
		return "", baton.FieldError("name", "at most %d characters: say what uses the token", baton.MaxTokenName)
	}
	if _, err := tx.findUserByID(ctx, userID); err != nil {
		return "", err
	}
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	token := "bt_" + base64.RawURLEncoding.EncodeToString(raw[:])
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO api_tokens (user_id, name, hash, created_at, created_by, created_via, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		userID, name, hashToken(token), micros(tx.now), tx.actorID(), tx.actor.Via, db.tokenExpiry(tx.now)).Scan(&id); err != nil {
		return "", fmt.Errorf("create token: %w", err)
	}
	if err := tx.audit(ctx, "token.create", "token", id, nil, auditToken(name, userID)); err != nil {
		return "", err
	}
	return token, tx.Commit()
}

// Authenticate returns the active user who owns the token, or EUNAUTHORIZED
// for a token that is unknown, revoked or expired, or whose user is
// inactive. It
// needs no actor: it is how one is found.
//
// It records the token's last use when the one recorded is older than
// baton.TokenUseResolution: one write a minute per token however busy it
// is. That write is best effort: it never fails nor holds up the request
// (on SQLite it is skipped while another writer has its turn, and made by
// a later request).
func (db *DB) Authenticate(ctx context.Context, token string) (*baton.User, error) {
	var (
		id                     int64
		used, revoked, expires sql.NullInt64
	)
	row := db.read.QueryRowContext(ctx, `SELECT `+prefix("u.", userColumns)+`, t.id, t.last_used_at, t.revoked_at, t.expires_at
		FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = $1`, hashToken(token))
	u, err := scanUser(scanFunc(func(dest ...any) error { return row.Scan(append(dest, &id, &used, &revoked, &expires)...) }))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baton.Errorf(baton.EUNAUTHORIZED, "unknown API token")
	} else if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	now := db.Now().UTC()
	switch {
	case revoked.Valid:
		return nil, baton.Errorf(baton.EUNAUTHORIZED, "this API token was revoked")
	case expires.Valid && micros(now) >= expires.Int64:
		return nil, baton.Errorf(baton.EUNAUTHORIZED, "this API token expired on %s: make a new one", fromMicros(expires.Int64).Format(time.DateOnly))
	case !u.Active:
		return nil, baton.Errorf(baton.EUNAUTHORIZED, "the user of this token is inactive")
	}
	if cutoff := micros(now.Add(-baton.TokenUseResolution)); !used.Valid || used.Int64 <= cutoff {
		db.touchToken(ctx, id, micros(now), cutoff)
	}
	return u, nil
}

// touchToken records a token's use at now unless a use after cutoff is
// recorded already (by a request racing this one), best effort (touch).
func (db *DB) touchToken(ctx context.Context, id, now, cutoff int64) {
	db.touch(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)`,
		now, id, cutoff)
}

// touch runs a write that records a use (a token's, a session's) as best
// effort. It waits at most touchWait for the writer: on SQLite it does not
// wait for another writer's turn at all, and a writer holding the database
// longer makes it give up, for a later request to do. Errors are dropped: a
// full disk must not turn readers away.
func (db *DB) touch(ctx context.Context, query string, args ...any) {
	if db.gate != nil {
		select {
		case db.gate <- struct{}{}:
			defer func() { <-db.gate }()
		default:
			return
		}
	}
	ctx, cancel := context.WithTimeout(ctx, touchWait)
	defer cancel()
	db.write.ExecContext(ctx, query, args...)
}

// touchWait bounds how long recording a token's use may hold up the
// request it authenticates.
const touchWait = 100 * time.Millisecond

// FindTokens lists API tokens, live ones first and newest first: an
// admin's filter may name anyone (or no one: every token); anyone else sees
// only their own, and a filter naming another user is EFORBIDDEN.
func (db *DB) FindTokens(ctx context.Context, f baton.TokenFilter) ([]*baton.Token, int, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() {
		if f.UserID != nil && *f.UserID != tx.actor.UserID {
			return nil, 0, baton.Errorf(baton.EFORBIDDEN, "you may list only your own tokens")
		}
		f.UserID = &tx.actor.UserID
	}
	var w where
	if f.UserID != nil {
		w.add("user_id = ?", *f.UserID)
	}
	if f.Revoked != nil {
		if *f.Revoked {
			w.add("revoked_at IS NOT NULL")
		} else {
			w.add("revoked_at IS NULL")
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+tokenColumns+`, COUNT(*) OVER () FROM api_tokens WHERE `+w.String()+
		` ORDER BY revoked_at IS NOT NULL, id DESC`+limitClause(f.Offset, f.Limit), w.args...)
	if err != nil {
		return nil, 0, fmt.Errorf("find tokens: %w", err)
	}
	defer rows.Close()
	var out []*baton.Token
	var total int
	for rows.Next() {
		t, err := scanToken(scanFunc(func(dest ...any) error { return rows.Scan(append(dest, &total)...) }))
		if err != nil {
			return nil, 0, fmt.Errorf("find tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, total, rows.Err()
}

// RevokeToken revokes an API token now: Authenticate refuses it from the
// next request on. Its owner or an admin may; to anyone else another's
// token is ENOTFOUND, with the words of one that does not exist. A token
// revoked already is returned as it is.
func (db *DB) RevokeToken(ctx context.Context, id int64) (*baton.Token, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	t, err := scanToken(tx.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = $1`, id))
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("revoke token %d: %w", id, err)
	}
	if err != nil || !tx.actor.CanAdmin() && t.UserID != tx.actor.UserID {
		return nil, baton.Errorf(baton.ENOTFOUND, "no API token %d", id)
	}
	if t.Revoked() {
		return t, nil
	}
	by := tx.actorID()
	// The condition keeps the first revocation's time and author if two race.
	if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL`,
		micros(tx.now), by, id); err != nil {
		return nil, fmt.Errorf("revoke token %d: %w", id, err)
	}
	now := tx.now
	t.RevokedAt, t.RevokedBy = &now, ptrInt(by)
	if err := tx.audit(ctx, "token.revoke", "token", id, nil, auditToken(t.Name, t.UserID)); err != nil {
		return nil, err
	}
	return t, tx.Commit()
}

// auditToken is a token as the audit log records it: its name and user,
// never the token or its hash.
func auditToken(name string, userID int64) map[string]any {
	return map[string]any{"name": name, "user_id": userID}
}
