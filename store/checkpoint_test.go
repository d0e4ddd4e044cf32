package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/store"
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
	for deadline := time.Now().Add(10 * time.Second); size() < before+8<<20; {
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint within 10 s: the database file has %d bytes", size())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
