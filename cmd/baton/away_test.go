package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// TestAwayAndRepCalendarCommands sets and ends an absence from the command
// line, under the acting user's rights, and sets and removes a rep's own
// calendar. The CLI runs on the wall clock: the dates are days ahead of it.
func TestAwayAndRepCalendarCommands(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "b.db")
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	tm := storetest.SeedTeam(t, db)
	db.Close()
	day := time.Now().UTC().AddDate(0, 0, 3).Format(time.DateOnly)

	// Another team's manager may not; the rep's own manager may.
	if _, errs, code := baton_(t, "user", "away", "--email", tm.SDR1.Email, "--until", day, "--as", tm.Manager2.Email, "--db", path); code != 1 || !strings.Contains(errs, "does not report to you") {
		t.Fatalf("away set by another team's manager: %d %s", code, errs)
	}
	out := mustRun(t, "user", "away", "--email", tm.SDR1.Email, "--until", day, "--note", "training", "--as", tm.Manager1.Email, "--db", path)
	if want := tm.SDR1.Email + " is out of office until " + day + "T00:00:00Z"; strings.TrimSpace(out) != want {
		t.Fatalf("away: %q, want %q", out, want)
	}
	if _, errs, code := baton_(t, "user", "away", "--email", tm.SDR1.Email, "--until", "2020-01-01", "--db", path); code != 1 || !strings.HasPrefix(errs, "baton: until: 2020-01-01 is in the past") {
		t.Fatalf("a day past: %d %s", code, errs)
	}
	if _, errs, code := baton_(t, "user", "away", "--until", day, "--db", path); code != 1 || !strings.Contains(errs, "usage: baton user away") {
		t.Fatalf("no --email: %d %s", code, errs)
	}
	if u := findUser(t, path, tm.SDR1.Email); u.OutOfOfficeUntil == nil || u.OutOfOfficeNote != "training" {
		t.Fatalf("after away: %+v", u)
	}
	if _, errs, code := baton_(t, "user", "back", "--email", tm.SDR1.Email, "--as", tm.SDR2.Email, "--db", path); code != 1 || !strings.Contains(errs, "only your own") {
		t.Fatalf("back by another rep: %d %s", code, errs)
	}
	if out := mustRun(t, "user", "back", "--email", tm.SDR1.Email, "--as", tm.SDR1.Email, "--db", path); !strings.Contains(out, "is back in office") {
		t.Fatalf("back: %s", out)
	}
	if u := findUser(t, path, tm.SDR1.Email); u.OutOfOfficeUntil != nil {
		t.Fatalf("after back: %+v", u)
	}

	// A rep's own calendar.
	file := filepath.Join(dir, "mornings.json")
	if err := os.WriteFile(file, []byte(`{"time_zone": "UTC", "hours": {"mon-fri": ["09:00-13:00"]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "calendar", "set", "user:"+tm.SDR1.Email, file, "--db", path)
	if _, errs, code := baton_(t, "calendar", "set", "user:nobody@example.com", file, "--db", path); code != 1 || !strings.Contains(errs, "team: no user with email nobody@example.com") {
		t.Fatalf("calendar of nobody: %d %s", code, errs)
	}
	if out := mustRun(t, "calendar", "list", "--db", path); !strings.Contains(out, "user:"+tm.SDR1.Email+"\t") || !strings.Contains(out, "09:00-13:00") {
		t.Fatalf("calendar list: %s", out)
	}
	mustRun(t, "calendar", "unset", "user:"+tm.SDR1.Email, "--db", path)
	if _, errs, code := baton_(t, "calendar", "unset", "user:"+tm.SDR1.Email, "--db", path); code != 1 || !strings.Contains(errs, "has no calendar") {
		t.Fatalf("unset twice: %d %s", code, errs)
	}
}

// findUser reads a user from the database at path, as the system.
func findUser(t *testing.T, path, email string) *baton.User {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.FindUserByEmail(storetest.System(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
