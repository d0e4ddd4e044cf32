package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/batonhq/baton"
)

// cmdCalendar sets and shows teams' working calendars.
func cmdCalendar(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const use = `usage: baton calendar set TEAM FILE.json | baton calendar unset TEAM | baton calendar list
  TEAM "*" is the default of teams without one; TEAM user:EMAIL is a rep's
  own working hours, which count their SLA windows instead of their team's.
  FILE is like
  {"time_zone": "Europe/Berlin", "hours": {"mon-fri": ["09:00-12:30", "13:30-18:00"]}, "holidays": ["2026-12-25"]}`
	if len(args) == 0 {
		return errors.New(use)
	}
	fs, dsn := newFlags("calendar "+args[0], stderr)
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx = baton.WithActor(ctx, baton.Actor{Name: "cli", Role: baton.RoleSystem, Via: "cli"})
	switch {
	case args[0] == "set" && len(pos) == 2:
		body, err := os.ReadFile(pos[1])
		if err != nil {
			return err
		}
		if err := db.SetCalendar(ctx, pos[0], body); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "calendar of %s set\n", pos[0])
	case args[0] == "unset" && len(pos) == 1:
		if err := db.DeleteCalendar(ctx, pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "calendar of %s removed\n", pos[0])
	case args[0] == "list":
		cals, err := db.Calendars(ctx)
		if err != nil {
			return err
		}
		for _, team := range slices.Sorted(maps.Keys(cals)) {
			fmt.Fprintf(stdout, "%s\t%s\n", team, cals[team])
		}
	default:
		return errors.New(use)
	}
	return nil
}

// cmdWebhook manages webhook endpoints and shows their delivery log.
func cmdWebhook(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const use = "usage: baton webhook add --url URL [--events lead.assigned,lead.rejected] | rotate ID [--grace 24h] | list | off ID | on ID | deliveries"
	if len(args) == 0 {
		return errors.New(use)
	}
	fs, dsn := newFlags("webhook "+args[0], stderr)
	url := fs.String("url", "", "add: the receiver's URL")
	secret := fs.String("secret", "", "add: a signing secret of your own (at least 16 characters; or $BATON_WEBHOOK_SECRET); by default Baton makes one")
	grace := fs.Duration("grace", baton.DefaultSecretGrace, "rotate: how long the old secret still signs beside the new one")
	events := fs.String("events", "*", "add: the events to send, comma-separated, or * for all: "+strings.Join(baton.WebhookEvents, ","))
	limit := fs.Int("limit", 50, "deliveries: how many attempts to show")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx = baton.WithActor(ctx, baton.Actor{Name: "cli", Role: baton.RoleSystem, Via: "cli"})
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	switch args[0] {
	case "add":
		if *secret == "" {
			*secret = os.Getenv("BATON_WEBHOOK_SECRET")
		}
		w := &baton.Webhook{URL: *url, Secret: *secret, Events: strings.Split(*events, ",")}
		if err := db.CreateWebhook(ctx, w); err != nil {
			return err
		}
		if *secret != "" {
			w.Secret = "" // theirs: not shown again
		} // else Baton's, shown this once
		return enc.Encode(w)
	case "rotate":
		if len(pos) != 1 {
			return errors.New(use)
		}
		var id int64
		if _, err := fmt.Sscan(pos[0], &id); err != nil {
			return fmt.Errorf("webhook rotate: %q is not an id", pos[0])
		}
		s, err := db.RotateWebhookSecret(ctx, id, *grace)
		if err != nil {
			return err
		}
		return enc.Encode(map[string]any{"id": id, "secret": s, "old_secret_signs_for": grace.String()})
	case "list":
		ws, err := db.FindWebhooks(ctx)
		if err != nil {
			return err
		}
		return enc.Encode(ws)
	case "on", "off":
		if len(pos) != 1 {
			return errors.New(use)
		}
		var id int64
		if _, err := fmt.Sscan(pos[0], &id); err != nil {
			return fmt.Errorf("webhook %s: %q is not an id", args[0], pos[0])
		}
		return db.SetWebhookActive(ctx, id, args[0] == "on")
	case "deliveries":
		ds, err := db.Deliveries(ctx, baton.DeliveryFilter{Limit: *limit})
		if err != nil {
			return err
		}
		return enc.Encode(ds)
	}
	return errors.New(use)
}

// cmdSlack manages the Slack incoming webhooks of teams and users.
func cmdSlack(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const use = "usage: baton slack add --team TEAM --url URL | add --user EMAIL --url URL | list | on ID | off ID"
	if len(args) == 0 {
		return errors.New(use)
	}
	fs, dsn := newFlags("slack "+args[0], stderr)
	url := fs.String("url", "", "add: the incoming webhook's URL (or $BATON_SLACK_URL)")
	team := fs.String("team", "", "add: the team whose notifications the channel gets")
	user := fs.String("user", "", "add: the email of the user whose notifications the channel gets")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx = baton.WithActor(ctx, baton.Actor{Name: "cli", Role: baton.RoleSystem, Via: "cli"})
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	switch args[0] {
	case "add":
		if len(pos) != 0 {
			return errors.New(use)
		}
		if *url == "" {
			*url = os.Getenv("BATON_SLACK_URL")
		}
		c := &baton.SlackChannel{URL: *url, Team: *team}
		if *user != "" {
			u, err := db.FindUserByEmail(ctx, *user)
			if err != nil {
				return fmt.Errorf("slack add --user: %w", err)
			}
			c.UserID = &u.ID
		}
		if err := db.CreateSlackChannel(ctx, c); err != nil {
			return err
		}
		return enc.Encode(c)
	case "list":
		cs, err := db.FindSlackChannels(ctx)
		if err != nil {
			return err
		}
		return enc.Encode(cs)
	case "on", "off":
		if len(pos) != 1 {
			return errors.New(use)
		}
		var id int64
		if _, err := fmt.Sscan(pos[0], &id); err != nil {
			return fmt.Errorf("slack %s: %q is not an id", args[0], pos[0])
		}
		return db.SetSlackChannelActive(ctx, id, args[0] == "on")
	}
	return errors.New(use)
}

// cmdTokenList lists API tokens (every user's, or one user's with
// --email), one a line, never the tokens themselves.
func cmdTokenList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dsn := newFlags("token list", stderr)
	email := fs.String("email", "", "only this user's tokens")
	live := fs.Bool("live", false, "only the tokens not revoked")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return errors.New("usage: baton token list [--email EMAIL] [--live]")
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx = baton.WithActor(ctx, baton.Actor{Name: "cli", Role: baton.RoleSystem, Via: "cli"})
	users, _, err := db.FindUsers(ctx, baton.UserFilter{Limit: 1000})
	if err != nil {
		return err
	}
	emails := map[int64]string{}
	for _, u := range users {
		emails[u.ID] = u.Email
	}
	f := baton.TokenFilter{Limit: 1000}
	if *email != "" {
		u, err := db.FindUserByEmail(ctx, *email)
		if err != nil {
			return err
		}
		f.UserID = &u.ID
	}
	if *live {
		f.Revoked = new(bool)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tOWNER\tNAME\tMADE BY\tCREATED\tLAST USED\tEXPIRES\tREVOKED")
	stamp := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for {
		tokens, total, err := db.FindTokens(ctx, f)
		if err != nil {
			return err
		}
		for _, t := range tokens {
			by := t.CreatedVia
			if t.CreatedBy != nil {
				by = emails[*t.CreatedBy] + " via " + t.CreatedVia
			} else if by == "" {
				by = "-"
			}
			expires := "never"
			if t.ExpiresAt != nil {
				expires = stamp(t.ExpiresAt)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, emails[t.UserID], t.Name, by, stamp(&t.CreatedAt), stamp(t.LastUsedAt), expires, stamp(t.RevokedAt))
		}
		if f.Offset += len(tokens); len(tokens) == 0 || f.Offset >= total {
			break
		}
	}
	return tw.Flush()
}

// cmdTokenRevoke revokes API tokens by id: each answers 401 from then on.
func cmdTokenRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const use = "usage: baton token revoke ID [ID...]"
	fs, dsn := newFlags("token revoke", stderr)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	} else if len(pos) == 0 {
		return errors.New(use)
	}
	var ids []int64
	for _, p := range pos {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil || id <= 0 {
			return fmt.Errorf("token revoke: %q is not a token id (see baton token list)", p)
		}
		ids = append(ids, id)
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx = baton.WithActor(ctx, baton.Actor{Name: "cli", Role: baton.RoleSystem, Via: "cli"})
	for _, id := range ids {
		t, err := db.RevokeToken(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token %d (%q) revoked at %s\n", t.ID, t.Name, t.RevokedAt.UTC().Format(time.RFC3339))
	}
	return nil
}
