package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// TestForeignDatabaseRefused: Baton migrates an empty database, and refuses
// one that holds other tables (instead of migrating it into what looks like
// an empty Baton database) and a file that is not a database at all,
// leaving both as they were.
func TestForeignDatabaseRefused(t *testing.T) {
	ctx := context.Background()
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		empty := filepath.Join(dir, "empty.db")
		os.WriteFile(empty, nil, 0o644)
		db, err := store.Open(ctx, empty)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("an empty file: %v", err)
		}
		db.Close()

		foreign := filepath.Join(dir, "crm.db")
		raw, err := sql.Open("sqlite", foreign)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{`CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)`, `CREATE TABLE orders (id INTEGER PRIMARY KEY)`, `INSERT INTO customers (name) VALUES ('Acme')`} {
			if _, err := raw.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		raw.Close()
		db, err = store.Open(ctx, foreign)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for name, call := range map[string]func() error{
			"Migrate":       func() error { return db.Migrate(ctx) },
			"CheckSchema":   func() error { return db.CheckSchema(ctx) },
			"SchemaVersion": func() error { _, _, err := db.SchemaVersion(ctx); return err },
		} {
			err := call()
			if baton.ErrorCode(err) != baton.EINVALID || !strings.Contains(err.Error(), "is not a Baton database: it holds the tables customers, orders and no schema_migrations") {
				t.Fatalf("%s of a foreign database: %v", name, err)
			}
		}
		var tables int
		db.SQL().QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'`).Scan(&tables)
		if tables != 2 {
			t.Fatalf("the foreign database has %d tables after the refusals, want its 2", tables)
		}

		text := filepath.Join(dir, "notes.txt")
		os.WriteFile(text, []byte(strings.Repeat("not a database\n", 300)), 0o644)
		if _, err := store.Open(ctx, text); baton.ErrorCode(err) != baton.EINVALID || !strings.Contains(err.Error(), "is not an SQLite database") {
			t.Fatalf("a text file: %v", err)
		}
		if b, _ := os.ReadFile(text); !strings.HasPrefix(string(b), "not a database") {
			t.Fatal("the text file was changed")
		}
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := storetest.NewPostgresSchema(t)
		raw, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		if _, err := raw.Exec(`CREATE TABLE invoices (id BIGINT PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Migrate(ctx); baton.ErrorCode(err) != baton.EINVALID || !strings.Contains(err.Error(), "holds the tables invoices and no schema_migrations") {
			t.Fatalf("Migrate of a foreign schema: %v", err)
		}
	})
}

// TestBackupWhileWriting: a backup taken while events keep arriving
// completes, is whole (PRAGMA integrity_check) and holds at least what was
// stored before it began; it never overwrites a file. A restore refuses
// while the database is open and refuses to replace a database without
// being told to; then it replaces it, keeping the old one beside it.
func TestBackupWhileWriting(t *testing.T) {
	ctx := storetest.System()
	dir := t.TempDir()
	path := filepath.Join(dir, "baton.db")
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	l := storetest.MustLead(t, db, &baton.Lead{Email: "writer@x.com"})
	send := func(n int64) {
		batch := make([]baton.EventInput, 200)
		for i := range batch {
			batch[i] = baton.EventInput{ID: fmt.Sprintf("e%d-%d", n, i), LeadID: l.ID, Type: baton.EventPageView, OccurredAt: storetest.Epoch}
		}
		if _, err := db.RecordEvents(ctx, batch); err != nil {
			t.Error(err)
		}
	}
	for n := range int64(20) {
		send(n)
	}
	before := int64(20 * 200)
	stop, started, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var batches atomic.Int64
	go func() {
		defer close(done)
		for n := int64(100); ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			send(n)
			if batches.Add(1) == 3 {
				close(started)
			}
		}
	}()
	<-started // the backup starts once writes are under way
	backup := filepath.Join(dir, "backup.db")
	info, err := db.Backup(ctx, backup)
	if err != nil {
		t.Fatal(err)
	}
	written := batches.Load()
	close(stop)
	<-done
	if written < 4 {
		t.Logf("only %d batches were written during the backup", written-3)
	}
	if info.Leads != 1 || info.Schema == 0 || info.Bytes == 0 {
		t.Fatalf("backup info %+v", info)
	}
	copyDB, err := sql.Open("sqlite", backup+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	var check string
	var events int64
	copyDB.QueryRow(`PRAGMA integrity_check`).Scan(&check)
	copyDB.QueryRow(`SELECT COUNT(*) FROM events`).Scan(&events)
	copyDB.Close()
	if check != "ok" || events < before {
		t.Fatalf("backup: integrity %q, %d events (want at least %d)", check, events, before)
	}
	if _, err := os.Stat(backup + ".partial"); err == nil {
		t.Fatal("the partial file was left behind")
	}
	if _, err := db.Backup(ctx, backup); baton.ErrorCode(err) != baton.EINVALID || !strings.Contains(err.Error(), "never overwrites") {
		t.Fatalf("a second backup to the same file: %v", err)
	}
	tm := storetest.SeedTeam(t, db)
	if _, err := db.Backup(storetest.As(tm.Manager1), filepath.Join(dir, "b2.db")); baton.ErrorCode(err) != baton.EFORBIDDEN {
		t.Fatalf("a manager's backup: %v", err)
	}

	// Restore.
	if _, err := store.Restore(context.Background(), backup, path, true); baton.ErrorCode(err) != baton.ECONFLICT || !strings.Contains(err.Error(), "open in a running Baton") {
		t.Fatalf("restore over an open database: %v", err)
	}
	db.Close()
	if _, err := store.Restore(context.Background(), backup, path, false); baton.ErrorCode(err) != baton.ECONFLICT || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("restore over a database without --force: %v", err)
	}
	got, err := store.Restore(context.Background(), backup, path, true)
	if err != nil {
		t.Fatal(err)
	}
	if got.Replaced == "" || got.Leads != 1 {
		t.Fatalf("restore info %+v", got)
	}
	if _, err := os.Stat(got.Replaced); err != nil {
		t.Fatalf("the replaced database was not kept: %v", err)
	}
	for _, f := range []string{path + "-wal", path + "-shm"} {
		if fi, err := os.Stat(f); err == nil && fi.Size() > 0 {
			t.Fatalf("%s of the replaced database is still beside the restored one", f)
		}
	}
	db, err = store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CheckSchema(ctx); err != nil {
		t.Fatal(err)
	}
	var n int64
	db.SQL().QueryRow(`SELECT COUNT(*) FROM events`).Scan(&n)
	if n != events {
		t.Fatalf("restored %d events, the backup has %d", n, events)
	}
	// What a restore refuses to read.
	bad := filepath.Join(dir, "bad.db")
	os.WriteFile(bad, []byte(strings.Repeat("x", 4096)), 0o644)
	if _, err := store.Restore(context.Background(), bad, filepath.Join(dir, "new.db"), false); baton.ErrorCode(err) != baton.EINVALID {
		t.Fatalf("restore of a file that is no database: %v", err)
	}
	empty := filepath.Join(dir, "empty.db")
	os.WriteFile(empty, nil, 0o644)
	if _, err := store.Restore(context.Background(), empty, filepath.Join(dir, "new.db"), false); baton.ErrorCode(err) != baton.EINVALID || !strings.Contains(err.Error(), "no Baton backup") {
		t.Fatalf("restore of an empty file: %v", err)
	}
}

// TestPostgresDumpAndRestore: on PostgreSQL, pg_dump and pg_restore (as the
// README says) copy a Baton database whole: the copy passes CheckSchema and
// holds the same leads and events.
func TestPostgresDumpAndRestore(t *testing.T) {
	dump, restore := pgTool(t, "pg_dump"), pgTool(t, "pg_restore")
	src, dst := storetest.NewPostgresDatabase(t), storetest.NewPostgresDatabase(t)
	ctx := storetest.System()
	db, err := store.Open(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	l := storetest.MustLead(t, db, &baton.Lead{Email: "dumped@x.com", Name: "Dumped"})
	if _, err := db.RecordEvents(ctx, []baton.EventInput{{ID: "d1", LeadID: l.ID, Type: baton.EventDemoRequest, OccurredAt: storetest.Epoch}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	file := filepath.Join(t.TempDir(), "baton.dump")
	if out, err := exec.Command(dump, "--format=custom", "--file", file, "--dbname", src).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	if out, err := exec.Command(restore, "--no-owner", "--dbname", dst, file).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
	copyDB, err := store.Open(context.Background(), dst)
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	if err := copyDB.CheckSchema(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := copyDB.FindLeadByID(ctx, l.ID)
	if err != nil || got.Name != "Dumped" {
		t.Fatalf("restored lead %+v %v", got, err)
	}
	_, n, err := copyDB.FindEvents(ctx, baton.EventFilter{LeadID: &l.ID})
	if err != nil || n != 1 {
		t.Fatalf("restored events: %d %v", n, err)
	}
	// The restored database takes writes: its sequences came along.
	storetest.MustLead(t, copyDB, &baton.Lead{Email: "after@x.com"})
}

// pgTool finds a PostgreSQL client program beside Debian's newest server
// (a pg_dump must be as new as the server), else on PATH.
func pgTool(t *testing.T, name string) string {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(matches) > 0 {
		return matches[len(matches)-1]
	}
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed (Debian's postgresql-client has it)", name)
	}
	return p
}
