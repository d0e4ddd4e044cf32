package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/batonhq/baton"
)

// keyUsage is the usage of baton key.
const keyUsage = "usage: baton key create --kind write|capture --name NAME [--origin https://www.example.com,...] | key list | key revoke ID [ID...]"

// cmdKey makes, lists and revokes ingest keys: write keys for Segment,
// capture keys for a website's origins. Each act is audited, as the CLI.
func cmdKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(keyUsage)
	}
	cli := func(ctx context.Context) context.Context {
		return baton.WithActor(ctx, baton.Actor{Name: "cli", Role: baton.RoleSystem, Via: "cli"})
	}
	switch args[0] {
	case "create":
		fs, dsn := newFlags("key create", stderr)
		kind := fs.String("kind", "", "write (Segment's HTTP API destination) or capture (a website)")
		name := fs.String("name", "", "what sends with the key: a Segment source, a website")
		origins := fs.String("origin", "", "a capture key's allowed origins, comma-separated")
		if pos, err := parse(fs, args[1:]); err != nil {
			return err
		} else if len(pos) > 0 {
			return errors.New(keyUsage)
		}
		in := baton.IngestKeyInput{Kind: baton.IngestKeyKind(*kind), Name: *name}
		for _, o := range strings.Split(*origins, ",") {
			if o = strings.TrimSpace(o); o != "" {
				in.Origins = append(in.Origins, o)
			}
		}
		db, err := openDB(ctx, *dsn)
		if err != nil {
			return err
		}
		defer db.Close()
		key, _, err := db.CreateIngestKey(cli(ctx), in)
		if err != nil {
			return fmt.Errorf("key create: %w", err)
		}
		fmt.Fprintln(stdout, key)
		return nil
	case "list":
		fs, dsn := newFlags("key list", stderr)
		if pos, err := parse(fs, args[1:]); err != nil {
			return err
		} else if len(pos) > 0 {
			return errors.New(keyUsage)
		}
		db, err := openDB(ctx, *dsn)
		if err != nil {
			return err
		}
		defer db.Close()
		keys, err := db.FindIngestKeys(cli(ctx))
		if err != nil {
			return err
		}
		stamp := func(t *time.Time) string {
			if t == nil {
				return "-"
			}
			return t.UTC().Format(time.RFC3339)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tKIND\tNAME\tORIGINS\tCREATED\tLAST USED\tREVOKED")
		for _, k := range keys {
			origins := strings.Join(k.Origins, ",")
			if origins == "" {
				origins = "-"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Kind, k.Name, origins, stamp(&k.CreatedAt), stamp(k.LastUsedAt), stamp(k.RevokedAt))
		}
		return tw.Flush()
	case "revoke":
		fs, dsn := newFlags("key revoke", stderr)
		pos, err := parse(fs, args[1:])
		if err != nil {
			return err
		} else if len(pos) == 0 {
			return errors.New(keyUsage)
		}
		var ids []int64
		for _, p := range pos {
			id, err := strconv.ParseInt(p, 10, 64)
			if err != nil || id <= 0 {
				return fmt.Errorf("key revoke: %q is not a key id (see baton key list)", p)
			}
			ids = append(ids, id)
		}
		db, err := openDB(ctx, *dsn)
		if err != nil {
			return err
		}
		defer db.Close()
		for _, id := range ids {
			k, err := db.RevokeIngestKey(cli(ctx), id)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s key %d (%q) revoked at %s\n", k.Kind, k.ID, k.Name, k.RevokedAt.UTC().Format(time.RFC3339))
		}
		return nil
	}
	return errors.New(keyUsage)
}
