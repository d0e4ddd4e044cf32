package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
)

// cmdBackup writes a consistent copy of the SQLite database while it serves.
func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dsn := newFlags("backup", stderr)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: baton backup FILE [--db baton.db]")
	}
	db, err := store.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	// A backup reads the database as it is: it does not migrate, but it
	// refuses a file that is not a Baton database.
	if _, _, err := db.SchemaVersion(ctx); err != nil {
		return err
	}
	sys := baton.WithActor(ctx, baton.Actor{Name: "cli", Role: baton.RoleSystem, Via: "cli"})
	info, err := db.Backup(sys, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup %s: %s, schema version %d, %d leads, integrity ok, in %s\n",
		info.Path, sizeString(info.Bytes), info.Schema, info.Leads, info.Took.Round(time.Millisecond))
	return nil
}

// cmdRestore replaces the SQLite database with a backup.
func cmdRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dsn := newFlags("restore", stderr)
	force := fs.Bool("force", false, "replace the database at --db (it is kept beside it as FILE.replaced-TIME)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("usage: baton restore BACKUP [--db baton.db] [--force]")
	}
	info, err := store.Restore(ctx, pos[0], *dsn, *force)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s from %s: schema version %d, %d leads, in %s\n",
		info.Path, pos[0], info.Schema, info.Leads, info.Took.Round(time.Millisecond))
	if info.Replaced != "" {
		fmt.Fprintf(stdout, "the database it replaced is kept as %s\n", info.Replaced)
	}
	return nil
}

// size is a flag.Value of a byte size: 64MB, 512KiB, 1GB or a number of
// bytes.
type size struct{ n int64 }

func sizeFlag(fs *flag.FlagSet, name string, def int64, usage string) *size {
	s := &size{n: def}
	fs.Var(s, name, usage)
	return s
}

func (s *size) String() string { return sizeString(s.n) }

func (s *size) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	s.n = n
	return nil
}

// parseSize reads a byte size; KB, MB and GB are powers of 1024, as KiB,
// MiB and GiB are.
func parseSize(v string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(v))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size: want a number of bytes, or one with KB, MB or GB", v)
	}
	return n * mult, nil
}

// sizeString shows a byte size to a person.
func sizeString(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fKB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}
