package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/worktime"
)

// workCalendar computes SLA deadlines in working time.
type workCalendar interface {
	Add(start time.Time, d time.Duration) time.Time
	Between(a, b time.Time) time.Duration
}

// DefaultCalendar is the team name of the calendar used by teams without one
// of their own. Without it, every hour is working time.
const DefaultCalendar = "*"

// calendarFor returns a team's working calendar: its own, the default one,
// or round the clock.
func (tx *Tx) calendarFor(ctx context.Context, team string) (workCalendar, error) {
	var body string
	err := tx.QueryRowContext(ctx, `SELECT body FROM calendars WHERE team = $1 OR team = $2 ORDER BY team = $2 LIMIT 1`, team, DefaultCalendar).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return &worktime.Always, nil
	} else if err != nil {
		return nil, fmt.Errorf("calendar of %s: %w", team, err)
	}
	c, err := worktime.ParseCalendar([]byte(body))
	if err != nil {
		return nil, fmt.Errorf("calendar of %s: %w", team, err)
	}
	return c, nil
}

// SetCalendar stores a team's working calendar (team DefaultCalendar for the
// default). The calendar is checked first: an unknown time zone, overlapping
// spans or no working hours at all are refused with the field at fault.
func (db *DB) SetCalendar(ctx context.Context, team string, body []byte) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() {
		return baton.Errorf(baton.EFORBIDDEN, "only an admin may set working calendars")
	}
	if strings.TrimSpace(team) == "" {
		return baton.FieldError("team", "required (%q for the default calendar)", DefaultCalendar)
	}
	c, err := worktime.ParseCalendar(body)
	if err != nil {
		return err
	}
	canonical, err := c.MarshalJSON()
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO calendars (team, body) VALUES ($1, $2) ON CONFLICT (team) DO UPDATE SET body = excluded.body`,
		team, string(canonical)); err != nil {
		return fmt.Errorf("set calendar: %w", err)
	}
	return tx.Commit()
}

// Calendars returns every team's calendar document by team.
func (db *DB) Calendars(ctx context.Context) (map[string]string, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT team, body FROM calendars ORDER BY team`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	var teams []string
	for rows.Next() {
		var t, b string
		if err := rows.Scan(&t, &b); err != nil {
			return nil, err
		}
		out[t] = b
		teams = append(teams, t)
	}
	sort.Strings(teams)
	return out, rows.Err()
}
