package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/batonhq/baton"
)

// Slack: incoming webhooks that get the notifications of a team or of one
// user (baton.SlackChannel), posted through the outbox like webhooks. The
// moments posted are a new MQL or SQL handed to a rep, a reminder, a breach
// and a rejection; each goes to the channels of the people Baton tells of it
// in the inbox, and once to the channel of each of their teams (a user's
// team is their own, else their manager's). A rejection also goes to the
// team channel of the rep who rejected it.

// CreateSlackChannel adds a channel (admins only). Its URL follows the
// operator's rule for webhooks (https to public addresses unless baton
// serve --webhook-allow-private), is stored sealed like webhook secrets and
// is not returned: c.URL is cleared and c.Hint set.
func (db *DB) CreateSlackChannel(ctx context.Context, c *baton.SlackChannel) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() {
		return baton.Errorf(baton.EFORBIDDEN, "only an admin may manage Slack channels")
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if c.UserID != nil {
		if _, err := tx.findUserByID(ctx, *c.UserID); baton.ErrorCode(err) == baton.ENOTFOUND {
			return baton.FieldError("user_id", "no user %d", *c.UserID)
		} else if err != nil {
			return err
		}
	}
	allow, err := tx.setting(ctx, settingWebhookAllowPrivate)
	if err != nil {
		return fmt.Errorf("create Slack channel: %w", err)
	}
	if err := c.CheckTarget(allow); err != nil {
		return err
	}
	sealed, err := db.seal(c.URL)
	if err != nil {
		return err
	}
	c.Hint, c.Active, c.CreatedAt = baton.SlackHint(c.URL), true, tx.now
	if err := tx.QueryRowContext(ctx, `INSERT INTO slack_channels (team, user_id, url, hint, active, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		c.Team, nullInt(c.UserID), sealed, c.Hint, true, micros(tx.now)).Scan(&c.ID); err != nil {
		return fmt.Errorf("create Slack channel: %w", err)
	}
	c.URL = ""
	// Never the URL: its hint.
	if err := tx.audit(ctx, "slack.create", "slack_channel", c.ID, nil,
		map[string]any{"team": c.Team, "user_id": c.UserID, "hint": c.Hint, "active": true}); err != nil {
		return err
	}
	return tx.Commit()
}

// FindSlackChannels lists the channels, without their URLs (admins only).
func (db *DB) FindSlackChannels(ctx context.Context) ([]*baton.SlackChannel, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() {
		return nil, baton.Errorf(baton.EFORBIDDEN, "only an admin may see Slack channels")
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, team, user_id, hint, active, created_at FROM slack_channels ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("slack channels: %w", err)
	}
	defer rows.Close()
	out := []*baton.SlackChannel{}
	for rows.Next() {
		var c baton.SlackChannel
		var user sql.NullInt64
		var created int64
		if err := rows.Scan(&c.ID, &c.Team, &user, &c.Hint, &c.Active, &created); err != nil {
			return nil, fmt.Errorf("slack channels: %w", err)
		}
		c.UserID, c.CreatedAt = ptrInt(user), fromMicros(created)
		out = append(out, &c)
	}
	return out, rows.Err()
}

// SetSlackChannelActive turns a channel on or off (admins only).
func (db *DB) SetSlackChannelActive(ctx context.Context, id int64, active bool) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() {
		return baton.Errorf(baton.EFORBIDDEN, "only an admin may manage Slack channels")
	}
	var was bool
	if err := tx.QueryRowContext(ctx, `SELECT active FROM slack_channels WHERE id = $1`, id).Scan(&was); errors.Is(err, sql.ErrNoRows) {
		return baton.Errorf(baton.ENOTFOUND, "no Slack channel %d", id)
	} else if err != nil {
		return fmt.Errorf("slack channel %d: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE slack_channels SET active = $1 WHERE id = $2`, active, id); err != nil {
		return fmt.Errorf("slack channel %d: %w", id, err)
	}
	if err := tx.audit(ctx, "slack.toggle", "slack_channel", id, map[string]any{"active": was}, map[string]any{"active": active}); err != nil {
		return err
	}
	return tx.Commit()
}

// SlackChannelURL returns a channel with its URL, for delivery.
func (db *DB) SlackChannelURL(ctx context.Context, id int64) (*baton.SlackChannel, error) {
	var c baton.SlackChannel
	var user sql.NullInt64
	var created int64
	var sealed string
	err := db.read.QueryRowContext(ctx, `SELECT id, team, user_id, url, hint, active, created_at FROM slack_channels WHERE id = $1`, id).
		Scan(&c.ID, &c.Team, &user, &sealed, &c.Hint, &c.Active, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baton.Errorf(baton.ENOTFOUND, "no Slack channel %d", id)
	} else if err != nil {
		return nil, err
	}
	if c.URL, err = db.unseal(sealed); err != nil {
		return nil, err
	}
	c.UserID, c.CreatedAt = ptrInt(user), fromMicros(created)
	return &c, nil
}

// settingLinkKey holds the key of accept links, in the stored form of a
// secret (sealed when the server has a key).
const settingLinkKey = "accept_link_key"

// AcceptLinkKey returns the key that signs accept links
// (baton.AcceptLink), made at its first use and kept in the database, so
// that every instance signs and checks with the same one.
func (db *DB) AcceptLinkKey(ctx context.Context) ([]byte, error) {
	var stored string
	err := db.read.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, settingLinkKey).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		if stored, err = db.makeLinkKey(ctx); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("accept link key: %w", err)
	}
	plain, err := db.unseal(stored)
	if err != nil {
		return nil, err
	}
	key, err := base64.StdEncoding.DecodeString(plain)
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("accept link key: malformed")
	}
	return key, nil
}

// makeLinkKey stores a new key unless another instance did first, and
// returns the one stored.
func (db *DB) makeLinkKey(ctx context.Context) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	sealed, err := db.seal(base64.StdEncoding.EncodeToString(b[:]))
	if err != nil {
		return "", err
	}
	tx, err := db.begin(baton.WithActor(ctx, baton.SystemActor))
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, settingLinkKey, sealed); err != nil {
		return "", fmt.Errorf("accept link key: %w", err)
	}
	var stored string
	if err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, settingLinkKey).Scan(&stored); err != nil {
		return "", fmt.Errorf("accept link key: %w", err)
	}
	return stored, tx.Commit()
}

// slackCache holds a transaction's active Slack channels once read.
type slackCache struct {
	loaded bool
	list   []slackSub
}

type slackSub struct {
	id   int64
	team string
	user int64 // 0: a team's
}

func (tx *Tx) slackChannels(ctx context.Context) ([]slackSub, error) {
	c := tx.slackSubs
	if c == nil {
		c = &slackCache{}
	}
	if c.loaded {
		return c.list, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, team, user_id FROM slack_channels WHERE active = $1 ORDER BY id`, true)
	if err != nil {
		return nil, fmt.Errorf("slack channels: %w", err)
	}
	defer rows.Close()
	c.list = nil
	for rows.Next() {
		var s slackSub
		var user sql.NullInt64
		if err := rows.Scan(&s.id, &s.team, &user); err != nil {
			return nil, fmt.Errorf("slack channels: %w", err)
		}
		s.user = user.Int64
		c.list = append(c.list, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("slack channels: %w", err)
	}
	c.loaded = true
	return c.list, nil
}

// slack queues n for the channels of people and for the team channels of
// the teams of people and of also, each channel once.
func (tx *Tx) slack(ctx context.Context, n baton.SlackNote, people []int64, also ...int64) error {
	subs, err := tx.slackChannels(ctx)
	if err != nil || len(subs) == 0 {
		return err
	}
	teams := map[string]bool{}
	if hasTeamChannel(subs) {
		for _, id := range append(append([]int64{}, people...), also...) {
			var own, mgr string
			err := tx.QueryRowContext(ctx, `SELECT u.team, COALESCE(m.team, '') FROM users u LEFT JOIN users m ON m.id = u.manager_id WHERE u.id = $1`, id).Scan(&own, &mgr)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			} else if err != nil {
				return fmt.Errorf("slack: the team of user %d: %w", id, err)
			}
			if own == "" {
				own = mgr
			}
			if own != "" {
				teams[own] = true
			}
		}
	}
	person := map[int64]bool{}
	for _, id := range people {
		person[id] = true
	}
	var payload []byte
	for _, s := range subs {
		if (s.user != 0 && person[s.user]) || (s.user == 0 && teams[s.team]) {
			if payload == nil {
				if payload, err = json.Marshal(n); err != nil {
					return err
				}
			}
			if err := tx.outbox(ctx, "slack", strconv.FormatInt(s.id, 10), n.Kind, n.Title, payload); err != nil {
				return err
			}
		}
	}
	return nil
}

func hasTeamChannel(subs []slackSub) bool {
	for _, s := range subs {
		if s.user == 0 {
			return true
		}
	}
	return false
}

// slackAbout queues a note of kind about l for people (and the teams of
// also); an open handoff h asks for an accept button for its owner. It
// reads nothing when no channel is active.
func (tx *Tx) slackAbout(ctx context.Context, kind string, l *baton.Lead, title, text string, h *baton.Handoff, people []int64, also ...int64) error {
	subs, err := tx.slackChannels(ctx)
	if err != nil || len(subs) == 0 {
		return err
	}
	n := baton.SlackNote{Kind: kind, Title: title, Text: text, LeadID: l.ID, Name: leadName(l)}
	if l.OwnerID != nil {
		u, err := tx.findUserByID(ctx, *l.OwnerID)
		if err != nil {
			return err
		}
		n.Owner = u.Name
	}
	if h != nil && h.State == baton.HandoffOpen {
		due := h.DueAt
		n.DueAt, n.AcceptFor, n.HandoffID = &due, h.OwnerID, h.ID
	}
	return tx.slack(ctx, n, people, also...)
}

// slackRejection tells marketing's channels of a rejection, and the team
// channel of the rep who rejected it (previous, the owner before).
func (tx *Tx) slackRejection(ctx context.Context, l *baton.Lead, title, text string, previous *int64) error {
	subs, err := tx.slackChannels(ctx)
	if err != nil || len(subs) == 0 {
		return err
	}
	people, err := tx.activeMarketers(ctx)
	if err != nil {
		return err
	}
	var also []int64
	if previous != nil {
		also = append(also, *previous)
	}
	return tx.slackAbout(ctx, baton.SlackRejection, l, title, text, nil, people, also...)
}

// activeMarketers are the ids of the active marketing users, whom a
// rejection is told to.
func (tx *Tx) activeMarketers(ctx context.Context) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM users WHERE role = $1 AND active = $2 ORDER BY id`, string(baton.RoleMarketing), true)
	if err != nil {
		return nil, err
	}
	return scanIDs(rows)
}
