package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/batonhq/baton"
)

// BackupInfo describes a backup written, or a database restored from one.
type BackupInfo struct {
	Path   string        `json:"path"`
	Bytes  int64         `json:"bytes"`
	Schema int           `json:"schema_version"`
	Leads  int64         `json:"leads"`
	Took   time.Duration `json:"took"`
	// Replaced is where a restore put the database it replaced, if any.
	Replaced string `json:"replaced,omitempty"`
}

// pgBackupHint is what Backup and Restore say on PostgreSQL.
const pgBackupHint = "on PostgreSQL, back up with pg_dump and restore with pg_restore (README, \"Backup and restore\")"

// Backup writes a consistent copy of the SQLite database to path while the
// database goes on serving. VACUUM INTO reads one snapshot on a reader
// connection, so writers are not held up and the copy is whole however much
// is written meanwhile (sqlite3's .backup starts over at every commit and so
// never ends under steady writes; copying the file gives a torn copy). The
// copy is written to path + ".partial", checked with PRAGMA
// integrity_check, flushed to disk and only then renamed to path, so a
// failed backup never leaves a file that looks whole. An existing path is
// never overwritten. Admins and the system only.
func (db *DB) Backup(ctx context.Context, path string) (BackupInfo, error) {
	if a, ok := baton.ActorFrom(ctx); !ok || !a.CanAdmin() {
		return BackupInfo{}, baton.Errorf(baton.EFORBIDDEN, "only an admin may back up the database")
	}
	if db.backend == Postgres {
		return BackupInfo{}, baton.Errorf(baton.EINVALID, "%s", pgBackupHint)
	}
	start := time.Now()
	if _, err := os.Stat(path); err == nil {
		return BackupInfo{}, baton.Errorf(baton.EINVALID, "%s exists: a backup never overwrites a file; choose a new name", path)
	}
	partial := path + ".partial"
	if err := os.Remove(partial); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return BackupInfo{}, fmt.Errorf("backup: %w", err)
	}
	conn, err := db.read.Conn(ctx)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("backup: %w", err)
	}
	_, err = conn.ExecContext(ctx, `VACUUM INTO $1`, partial)
	conn.Close()
	if err != nil {
		os.Remove(partial)
		if o := db.Outage(err); o != nil {
			return BackupInfo{}, fmt.Errorf("backup to %s: %w", partial, o)
		}
		return BackupInfo{}, fmt.Errorf("backup to %s: %w", partial, err)
	}
	info, err := checkCopy(ctx, partial)
	if err != nil {
		os.Remove(partial)
		return BackupInfo{}, err
	}
	if err := install(partial, path); err != nil {
		return BackupInfo{}, fmt.Errorf("backup: %w", err)
	}
	info.Path, info.Took = path, time.Since(start)
	return info, nil
}

// Restore replaces the SQLite database at target with a copy of the backup
// at from, after checking that the backup is a whole Baton database that
// this Baton can read (PRAGMA integrity_check, its schema version). It
// refuses while anything has target open (a server, a command), and
// refuses to replace a database unless replace is set; the database
// replaced is kept beside it, with its WAL, as target + ".replaced-TIME".
// The next `baton serve` migrates a backup of an older schema.
func Restore(ctx context.Context, from, target string, replace bool) (BackupInfo, error) {
	start := time.Now()
	if IsPostgres(from) || IsPostgres(target) {
		return BackupInfo{}, baton.Errorf(baton.EINVALID, "%s", pgBackupHint)
	}
	if _, err := os.Stat(from); err != nil {
		return BackupInfo{}, baton.Errorf(baton.EINVALID, "the backup %s: %v", from, errors.Unwrap(err))
	}
	info, err := checkCopy(ctx, from)
	if err != nil {
		return BackupInfo{}, err
	}
	lock, err := lockExclusive(target)
	if err != nil {
		return BackupInfo{}, err
	}
	defer lock.Close()
	// A database's data may be in its WAL only (never checkpointed).
	exists := false
	for _, p := range []string{target, target + "-wal"} {
		if fi, err := os.Stat(p); err == nil && fi.Size() > 0 {
			exists = true
		}
	}
	if exists && !replace {
		return BackupInfo{}, baton.Errorf(baton.ECONFLICT, "%s holds a database: add --force to replace it (it is kept as %s.replaced-TIME)", target, target)
	}
	// Whatever is at target goes aside with its WAL and shared memory: a
	// WAL left beside the new file would be applied to it.
	stamp := time.Now().UTC().Format("20060102T150405Z")
	aside := target + ".replaced-" + stamp
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if _, err := os.Stat(target + suffix); err != nil {
			continue
		}
		if !exists && suffix != "" {
			os.Remove(target + suffix) // an empty or missing database's leftovers
			continue
		}
		if err := os.Rename(target+suffix, aside+suffix); err != nil {
			return BackupInfo{}, fmt.Errorf("restore: put the old database aside: %w", err)
		}
	}
	if exists {
		info.Replaced = aside
	}
	partial := target + ".partial"
	os.Remove(partial)
	src, err := sql.Open("sqlite", "file:"+(&url.URL{Path: from}).EscapedPath()+"?mode=ro")
	if err != nil {
		return BackupInfo{}, fmt.Errorf("restore: %w", err)
	}
	_, err = src.ExecContext(ctx, `VACUUM INTO $1`, partial)
	src.Close()
	if err != nil {
		os.Remove(partial)
		return BackupInfo{}, fmt.Errorf("restore: copy %s: %w", from, err)
	}
	if err := install(partial, target); err != nil {
		return BackupInfo{}, fmt.Errorf("restore: %w", err)
	}
	if fi, err := os.Stat(target); err == nil {
		info.Bytes = fi.Size()
	}
	info.Path, info.Took = target, time.Since(start)
	return info, nil
}

// checkCopy opens the SQLite file at path read-only and checks that it is a
// whole Baton database this binary can read.
func checkCopy(ctx context.Context, path string) (BackupInfo, error) {
	db := &DB{backend: SQLite, dsn: path}
	var err error
	if db.read, err = sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro"); err != nil {
		return BackupInfo{}, fmt.Errorf("check %s: %w", path, err)
	}
	defer db.read.Close()
	db.write = db.read
	conn, err := db.read.Conn(ctx)
	if err != nil {
		return BackupInfo{}, sqliteOpenError(path, err)
	}
	defer conn.Close()
	have, err := db.appliedVersion(ctx, conn)
	if err != nil {
		return BackupInfo{}, sqliteOpenError(path, err)
	}
	names, err := db.migrations()
	if err != nil {
		return BackupInfo{}, err
	}
	known, _ := migrationVersion(names[len(names)-1])
	switch {
	case have == 0:
		return BackupInfo{}, baton.Errorf(baton.EINVALID, "%s is empty: it is no Baton backup", path)
	case have > known:
		return BackupInfo{}, fmt.Errorf("%s is at schema version %d, this Baton knows %d: %w", path, have, known, ErrSchemaTooNew)
	}
	rows, err := conn.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("check %s: %w", path, err)
	}
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return BackupInfo{}, fmt.Errorf("check %s: %w", path, err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return BackupInfo{}, fmt.Errorf("check %s: %w", path, err)
	}
	if len(problems) > 0 {
		return BackupInfo{}, baton.Errorf(baton.EINVALID, "%s is damaged: PRAGMA integrity_check found %d problems, the first: %s", path, len(problems), problems[0])
	}
	info := BackupInfo{Path: path, Schema: have}
	if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM leads`).Scan(&info.Leads); err != nil {
		return BackupInfo{}, fmt.Errorf("check %s: %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil {
		info.Bytes = fi.Size()
	}
	return info, nil
}

// install flushes a copy that no SQLite connection has open to disk and
// renames it into place, so that path holds either nothing or the whole
// copy, also after a power loss; the copy is removed if that fails.
func install(partial, path string) error {
	err := syncFile(partial)
	if err == nil {
		err = os.Rename(partial, path)
	}
	if err != nil {
		os.Remove(partial)
		return err
	}
	// The rename is in the directory: flush it too, where the system allows.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("flush %s: %w", path, err)
	}
	return nil
}
