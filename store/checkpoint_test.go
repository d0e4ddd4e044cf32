package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// TestCheckpointsInBackground: on SQLite a commit only appends to the WAL
// (the writer does not checkpoint); the pages reach the database file by the
// background checkpoint soon after.
func TestCheckpointsInBackground(t *testing.T) {
	path := filepath.Join(t.TempDir(), "baton.db")
	ctx := context.Background()
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	// The writer never checkpoints at a commit...
	var auto int
	if err := db.SQL().QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("the writer's wal_autocheckpoint is %d (%v), want 0", auto, err)
	}
	// ... yet 8 MB written at once reach the database file without a close.
	before := size()
	if _, err := db.SQL().Exec(`CREATE TABLE blob_test (b TEXT)`); err != nil {
		t.Fatal(err)
	}
	tx, err := db.SQL().Begin()
	if err != nil {
		t.Fatal(err)
	}
	for range 64 {
		if _, err := tx.Exec(`INSERT INTO blob_test VALUES ($1)`, strings.Repeat("x", 128<<10)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// The readiness signal is the file's size; go test's -timeout bounds
	// the wait.
	for size() < before+8<<20 {
		time.Sleep(10 * time.Millisecond)
	}
}

// TestWALTruncatedPastLimit: a commit that leaves the WAL past the limit
// has the next write truncate it first, so the WAL passes the limit by one
// transaction at most; with the limit off, the WAL keeps its size.
func TestWALTruncatedPastLimit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit int64
		// want is whether the WAL is empty after the next write began.
		truncated bool
	}{{"limit 1 MB", 1 << 20, true}, {"no limit", -1, false}} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "baton.db")
			ctx := storetest.System()
			db, err := store.OpenWith(ctx, path, store.Options{WALLimit: tc.limit})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			wal := func() int64 {
				fi, err := os.Stat(path + "-wal")
				if err != nil {
					return 0
				}
				return fi.Size()
			}
			// Some 3 MB of leads in one transaction leave the WAL past 1 MB.
			err = db.InTx(ctx, func(ctx context.Context) error {
				for i := range 5000 {
					if err := db.CreateLead(ctx, &baton.Lead{Email: fmt.Sprintf("l%d@x.com", i), Name: strings.Repeat("n", 450)}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if w := wal(); w < 2<<20 {
				t.Fatalf("the WAL after some 3 MB of writes: %d bytes", w)
			}
			storetest.MustLead(t, db, &baton.Lead{Email: "next@x.com"})
			// The next write's own frames are all the WAL holds.
			if got := wal() < 1<<20; got != tc.truncated {
				t.Fatalf("WAL after the next write: %d bytes (truncated: %v, want %v)", wal(), got, tc.truncated)
			}
		})
	}
}
