package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/batonhq/baton"
)

const awayUsage = `usage: baton user away --email EMAIL --until 2026-12-24 [--note N] [--as EMAIL]
       baton user back --email EMAIL [--as EMAIL]
  --until is the day the user is back (the start of that day in their working
  calendar's time zone) or an RFC 3339 time, within 365 days. Without --as
  the operator acts, with every right; with it, the rules of the API apply
  (a user sets their own, their manager theirs, an admin anyone's)`

// cmdUserAway sets (away) or ends (back) a user's out of office: while it
// lasts, routing gives them no leads.
func cmdUserAway(ctx context.Context, action string, args []string, stdout, stderr io.Writer) error {
	fs, dsn := newFlags("user "+action, stderr)
	email := fs.String("email", "", "the user who is away")
	until := fs.String("until", "", "away: the day they are back, YYYY-MM-DD, or an RFC 3339 time")
	note := fs.String("note", "", "away: why, or who covers")
	as := fs.String("as", "", "the email of the user who acts (default: the operator)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *email == "" {
		return errors.New(awayUsage)
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	sys := baton.WithActor(ctx, baton.Actor{Name: "cli", Role: baton.RoleSystem, Via: "cli"})
	ctx = sys
	if *as != "" {
		actor, err := db.FindUserByEmail(sys, *as)
		if err != nil {
			return err
		}
		ctx = baton.WithActor(ctx, baton.ActorOf(actor, "cli"))
	}
	u, err := db.FindUserByEmail(sys, *email)
	if err != nil {
		return err
	}
	if action == "back" {
		if u, err = db.EndOutOfOffice(ctx, u.ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s is back in office\n", u.Email)
		return nil
	}
	if u, err = db.SetOutOfOffice(ctx, u.ID, baton.OutOfOffice{Until: *until, Note: *note}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s is out of office until %s\n", u.Email, u.OutOfOfficeUntil.Format(time.RFC3339))
	return nil
}
