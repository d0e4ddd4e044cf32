package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/batonhq/baton"
)

var _ baton.HealthService = (*DB)(nil)

// outage is why writes fail because of the storage, since when.
type outage struct {
	problem string
	since   time.Time
}

// wrote records how a write transaction's commit went: a success ends an
// outage and tells the WAL keeper the log grew; a failure that the storage
// caused (a full disk, a read-only file) starts one.
func (db *DB) wrote(err error) {
	if err != nil {
		db.Outage(err)
		return
	}
	if db.wal != nil {
		db.wal.committed()
	}
	if o := db.outage.Load(); o != nil && db.outage.CompareAndSwap(o, nil) {
		db.logger.Info("the database takes writes again", slog.String("after", o.problem))
	}
}

// Outage returns an EUNAVAILABLE error naming the cause when err comes from
// the storage being unable to serve (its disk is full, its file or file
// system is read-only, it is locked or unreachable), and nil otherwise. An
// outage of writes is remembered until a write succeeds, for Health.
func (db *DB) Outage(err error) error {
	if err == nil {
		return nil
	}
	var be *baton.Error
	if errors.As(err, &be) {
		if be.Code == baton.EUNAVAILABLE {
			return be
		}
		return nil
	}
	problem, writes := db.explain(err)
	if problem == "" {
		return nil
	}
	if writes && db.outage.Load() == nil {
		if db.outage.CompareAndSwap(nil, &outage{problem: problem, since: db.Now().UTC()}) {
			db.logger.Error("the database refuses writes", slog.String("problem", problem), slog.Any("err", err))
		}
	}
	return &baton.Error{Code: baton.EUNAVAILABLE, Message: problem + ": nothing was saved; retry when it is fixed"}
}

// explain says, for a person, why the storage failed, if err is a failure of
// the storage rather than of the request; writes reports whether writes as
// a whole are refused (rather than this one being unlucky).
func (db *DB) explain(err error) (problem string, writes bool) {
	if se, ok := sqliteError(err); ok {
		switch se.Code {
		case sqlite3.ErrFull:
			return fmt.Sprintf("the disk that holds the database %s is full", db.dsn), true
		case sqlite3.ErrReadonly, sqlite3.ErrCantOpen, sqlite3.ErrPerm:
			if p := fileProblem(db.dsn); p != "" {
				return p, true
			}
			return fmt.Sprintf("the database %s cannot be written", db.dsn), true
		case sqlite3.ErrIoErr:
			if p := fileProblem(db.dsn); p != "" {
				return p, true
			}
			return fmt.Sprintf("the database %s could not read or write its files (%s)", db.dsn, se.ExtendedCode), true
		case sqlite3.ErrBusy, sqlite3.ErrLocked:
			return "the database stayed locked by another writer", false
		}
		return "", false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "53100":
			return "the PostgreSQL server's disk is full", true
		case pe.Code == "25006":
			return "the PostgreSQL database is read-only (a standby, or default_transaction_read_only)", true
		case strings.HasPrefix(pe.Code, "53"):
			return "the PostgreSQL server is out of resources (" + pe.Message + ")", false
		case strings.HasPrefix(pe.Code, "57P"), strings.HasPrefix(pe.Code, "08"):
			return "the PostgreSQL server is shutting down or refused the connection", false
		}
		return "", false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || errors.Is(err, driver.ErrBadConn) {
		return "the PostgreSQL server cannot be reached", false
	}
	return "", false
}

// minFree is the free space below which SQLite's disk counts as full: a
// write of one event batch needs a few hundred KB for its WAL frames.
const minFree = 1 << 20

// Health checks the database now: whether it answers a query, and whether
// it can take writes. While a write outage is remembered, a small write
// probes whether it is over, so that a server nobody writes to (because its
// health check failed) still notices that space came back.
func (db *DB) Health(ctx context.Context) baton.Health {
	h := baton.Health{Backend: string(db.backend), Reachable: true, Writable: true}
	if db.replicas != nil {
		h.Replicas = db.replicas.health()
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var one int
	if err := db.read.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		h.Reachable, h.Writable = false, false
		h.Problem = "the database does not answer"
		if p, _ := db.explain(err); p != "" {
			h.Problem = p
		}
		return h
	}
	switch db.backend {
	case SQLite:
		if p := fileProblem(db.dsn); p != "" {
			h.Writable, h.Problem = false, p
		}
		if free, ok := freeBytes(filepath.Dir(db.dsn)); ok {
			h.FreeBytes = &free
			if free < minFree && h.Writable {
				h.Writable, h.Problem = false, fmt.Sprintf("the disk that holds the database %s is full (%d KB left)", db.dsn, free>>10)
			}
		}
		if db.wal != nil {
			w := db.wal.stat()
			h.WALBytes = &w
		}
	case Postgres:
		var standby bool
		var readOnly string
		if err := db.read.QueryRowContext(ctx, `SELECT pg_is_in_recovery(), current_setting('default_transaction_read_only')`).Scan(&standby, &readOnly); err == nil {
			if standby {
				h.Writable, h.Problem = false, "the PostgreSQL database is a read-only standby"
			} else if readOnly == "on" {
				h.Writable, h.Problem = false, "the PostgreSQL database is read-only (default_transaction_read_only)"
			}
		}
	}
	o := db.outage.Load()
	if o == nil {
		return h
	}
	since := o.since
	if !h.Writable {
		h.Since = &since
		return h
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('health_probe', $1)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, db.Now().UTC().Format(time.RFC3339Nano))
	db.wrote(err)
	if err != nil {
		h.Writable, h.Problem, h.Since = false, o.problem, &since
	}
	return h
}

// sqliteOpenError explains why an SQLite file could not be opened.
func sqliteOpenError(path string, err error) error {
	if se, ok := sqliteError(err); ok && se.Code == sqlite3.ErrNotADB {
		return baton.Errorf(baton.EINVALID, "%s is not an SQLite database, so not a Baton one: point --db at a Baton database or at a new file", path)
	}
	if p := fileProblem(path); p != "" {
		return baton.Errorf(baton.EUNAVAILABLE, "cannot open the database: %s", p)
	}
	return fmt.Errorf("open sqlite database %s: %w", path, err)
}
