package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/worktime"
)

// DefaultCalendar is the team name of the calendar used by teams without one
// of their own. Without it, every hour is working time.
const DefaultCalendar = "*"

// calendarOf returns the working calendar of the SLA windows of handoffs to
// u: their own, or else their team's (calendarFor).
func (tx *Tx) calendarOf(ctx context.Context, u *baton.User) (*worktime.Calendar, error) {
	var body string
	err := tx.QueryRowContext(ctx, `SELECT body FROM user_calendars WHERE user_id = $1`, u.ID).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return tx.calendarFor(ctx, u.Team)
	} else if err != nil {
		return nil, fmt.Errorf("calendar of %s: %w", u.Email, err)
	}
	c, err := parsedCalendar(body)
	if err != nil {
		return nil, fmt.Errorf("calendar of %s: %w", u.Email, err)
	}
	return c, nil
}

// calendarFor returns a team's working calendar: its own, the default one,
// or round the clock.
func (tx *Tx) calendarFor(ctx context.Context, team string) (*worktime.Calendar, error) {
	var body string
	err := tx.QueryRowContext(ctx, `SELECT body FROM calendars WHERE team = $1 OR team = $2 ORDER BY team = $2 LIMIT 1`, team, DefaultCalendar).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return &worktime.Always, nil
	} else if err != nil {
		return nil, fmt.Errorf("calendar of %s: %w", team, err)
	}
	c, err := parsedCalendar(body)
	if err != nil {
		return nil, fmt.Errorf("calendar of %s: %w", team, err)
	}
	return c, nil
}

// SetCalendar stores a team's working calendar (team DefaultCalendar for the
// default), or a rep's own (baton.UserCalendarPrefix and their email), which
// then counts the SLA windows of the handoffs opened to them and the working
// time they take to answer. The calendar is checked first: an unknown time
// zone, overlapping spans or no working hours at all are refused with the
// field at fault.
func (db *DB) SetCalendar(ctx context.Context, team string, body []byte) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() {
		return baton.Errorf(baton.EFORBIDDEN, "only an admin may set working calendars")
	}
	team = strings.TrimSpace(team)
	if team == "" {
		return baton.FieldError("team", "required (%q for the default calendar, %sEMAIL for a rep's own)", DefaultCalendar, baton.UserCalendarPrefix)
	}
	c, err := worktime.ParseCalendar(body)
	if err != nil {
		return err
	}
	canonical, err := c.MarshalJSON()
	if err != nil {
		return err
	}
	if email, ok := strings.CutPrefix(team, baton.UserCalendarPrefix); ok {
		u, err := tx.calendarUser(ctx, email)
		if err != nil {
			return err
		}
		before, err := tx.storedCalendar(ctx, `SELECT body FROM user_calendars WHERE user_id = $1`, u.ID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_calendars (user_id, body) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET body = excluded.body`,
			u.ID, string(canonical)); err != nil {
			return fmt.Errorf("set calendar of %s: %w", u.Email, err)
		}
		if err := tx.auditCalendar(ctx, team, u.ID, before, canonical); err != nil {
			return err
		}
		return tx.Commit()
	}
	before, err := tx.storedCalendar(ctx, `SELECT body FROM calendars WHERE team = $1`, team)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO calendars (team, body) VALUES ($1, $2) ON CONFLICT (team) DO UPDATE SET body = excluded.body`,
		team, string(canonical)); err != nil {
		return fmt.Errorf("set calendar: %w", err)
	}
	if err := tx.auditCalendar(ctx, team, 0, before, canonical); err != nil {
		return err
	}
	return tx.Commit()
}

// storedCalendar returns the calendar document the query finds by arg, or
// nil for none.
func (tx *Tx) storedCalendar(ctx context.Context, query string, arg any) ([]byte, error) {
	var body string
	err := tx.QueryRowContext(ctx, query, arg).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("calendar %v: %w", arg, err)
	}
	return []byte(body), nil
}

// auditCalendar records a calendar set in the audit log: its name (a team,
// or the prefix and a rep's email) and its documents before (nil: none)
// and after. userID is the rep of a rep's own calendar, 0 for a team's.
func (tx *Tx) auditCalendar(ctx context.Context, team string, userID int64, before, after []byte) error {
	var was any
	if before != nil {
		was = map[string]any{"team": team, "calendar": json.RawMessage(before)}
	}
	return tx.audit(ctx, "calendar.set", "calendar", userID, was, map[string]any{"team": team, "calendar": json.RawMessage(after)})
}

// DeleteCalendar removes a team's calendar (its handoffs then count in the
// default one) or a rep's own (theirs then count in their team's). Only an
// admin may; ENOTFOUND if there is none.
func (db *DB) DeleteCalendar(ctx context.Context, team string) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() {
		return baton.Errorf(baton.EFORBIDDEN, "only an admin may remove working calendars")
	}
	team = strings.TrimSpace(team)
	q, arg := `DELETE FROM calendars WHERE team = $1`, any(team)
	var target int64 // a team's calendar; a rep's own is theirs
	if email, ok := strings.CutPrefix(team, baton.UserCalendarPrefix); ok {
		u, err := tx.calendarUser(ctx, email)
		if err != nil {
			return err
		}
		q, arg, target = `DELETE FROM user_calendars WHERE user_id = $1`, u.ID, u.ID
	}
	res, err := tx.ExecContext(ctx, q, arg)
	if err != nil {
		return fmt.Errorf("remove calendar of %s: %w", team, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return baton.Errorf(baton.ENOTFOUND, "%s has no calendar of its own", team)
	}
	if err := tx.audit(ctx, "calendar.delete", "calendar", target, map[string]any{"team": team}, nil); err != nil {
		return err
	}
	return tx.Commit()
}

// calendarUser returns the user a rep's calendar is named after, or an
// EINVALID error naming team.
func (tx *Tx) calendarUser(ctx context.Context, email string) (*baton.User, error) {
	u, err := tx.findUserByEmail(ctx, email)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return nil, baton.FieldError("team", "no user with email %s (a rep's calendar is %sEMAIL)", strings.TrimSpace(email), baton.UserCalendarPrefix)
	}
	return u, err
}

// Calendars returns every calendar document by name: the teams' by team,
// the reps' own by baton.UserCalendarPrefix and email.
func (db *DB) Calendars(ctx context.Context) (map[string]string, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT team, body, FALSE FROM calendars
		UNION ALL SELECT u.email, c.body, TRUE FROM user_calendars c JOIN users u ON u.id = c.user_id`)
	if err != nil {
		return nil, fmt.Errorf("calendars: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, body string
		var rep bool
		if err := rows.Scan(&name, &body, &rep); err != nil {
			return nil, fmt.Errorf("calendars: %w", err)
		}
		if rep {
			name = baton.UserCalendarPrefix + name
		}
		out[name] = body
	}
	return out, rows.Err()
}

// parsedCalendar parses a stored calendar, once per text: each handoff
// opened and answered reads its owner's, and parsing (the time zone's
// rules, the holidays) costs more than the read. The calendars are shared
// and never changed after parsing.
func parsedCalendar(body string) (*worktime.Calendar, error) {
	calendarCache.Lock()
	defer calendarCache.Unlock()
	if c, ok := calendarCache.parsed[body]; ok {
		return c, nil
	}
	c, err := worktime.ParseCalendar([]byte(body))
	if err != nil {
		return nil, err
	}
	if len(calendarCache.parsed) >= 256 {
		clear(calendarCache.parsed) // calendars are few: this is a bound, not a policy
	}
	calendarCache.parsed[body] = c
	return c, nil
}

var calendarCache = struct {
	sync.Mutex
	parsed map[string]*worktime.Calendar
}{parsed: map[string]*worktime.Calendar{}}
