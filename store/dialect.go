package store

import (
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/batonhq/baton"
)

// Where SQLite and PostgreSQL differ. The same SQL serves both ($1
// placeholders, ON CONFLICT, RETURNING, window functions); each function
// here is one place where they do not, and its comment says which of two
// kinds of difference it is:
//   - a difference of meaning: written once for both, a statement would do
//     something else on one of them, or fail (locks, error codes, types);
//   - a difference of speed: the same SQL would be right on both but slow
//     on one (placeholders, statements per row).
//
// Opening, migrating, backing up and checking the health of a database
// differ by backend too (db.go, backup.go, health.go): those are what the
// backends are, not how one statement is written for both.

// param writes the n-th parameter: "?" on SQLite (where every parameter of
// the statement must then be "?"), "$n" on PostgreSQL.
//
// Difference of speed: SQLite accepts $n too, but treats it as a named
// parameter and looks each one up in a list, which makes a statement with
// thousands of them quadratic; PostgreSQL takes only $n.
func (db *DB) param(b *strings.Builder, n int) {
	if db.backend == SQLite {
		b.WriteByte('?')
		return
	}
	b.WriteByte('$')
	b.WriteString(strconv.Itoa(n))
}

// placeholders writes "($n, $n+1, ...)" groups for multi-row statements
// (rows groups of cols parameters, numbered from start). On SQLite it writes
// "?" instead.
//
// Difference of speed, through param: SQLite treats $n as a named parameter
// and looks each one up in a list, which makes a statement with thousands of
// them quadratic.
func (db *DB) placeholders(b *strings.Builder, rows, cols, start int) {
	n := start
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := 0; c < cols; c++ {
			if c > 0 {
				b.WriteByte(',')
			}
			db.param(b, n)
			n++
		}
		b.WriteByte(')')
	}
}

// inList writes "(p1, p2, ...)" for n parameters numbered from 1.
//
// Difference of speed, through param: "?" on SQLite, "$n" on PostgreSQL.
func (db *DB) inList(b *strings.Builder, n int) {
	b.WriteByte('(')
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteByte(',')
		}
		db.param(b, i)
	}
	b.WriteByte(')')
}

// idChunk is how many ids idLists puts in one list.
const idChunk = 500

// idLists calls fn with the ids a chunk at a time: a parameter list for an
// IN clause, "(?,?,...)" or "($1,$2,...)", and its arguments.
//
// Difference of speed, through inList; the chunks of idChunk ids are the
// same on both.
func (db *DB) idLists(ids []int64, fn func(list string, args []any) error) error {
	for start := 0; start < len(ids); start += idChunk {
		chunk := ids[start:min(start+idChunk, len(ids))]
		var b strings.Builder
		db.inList(&b, len(chunk))
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		if err := fn(b.String(), args); err != nil {
			return err
		}
	}
	return nil
}

// lockRows is the clause that locks the rows a write transaction reads to
// write back (SELECT ... FOR UPDATE): on PostgreSQL, where transactions run
// side by side, so that two of them never both read a lead's state and write
// it back, the second over the first. SQLite needs none: a write transaction
// holds the database's one write lock.
//
// Difference of meaning: without it PostgreSQL loses updates.
func (tx *Tx) lockRows() string {
	if tx.db.backend == Postgres && !tx.readOnly {
		return ` FOR UPDATE`
	}
	return ""
}

// updateRowByRow reports whether many rows' new values are written with one
// prepared UPDATE by primary key per row rather than one UPDATE joined with
// a VALUES list per chunk of rows: true on SQLite only, so the statements it
// chooses may be written with "?".
//
// Difference of speed: in-process SQLite has no round trips to save, and a
// prepared UPDATE per row beats the join; to PostgreSQL every statement is a
// round trip.
func (db *DB) updateRowByRow() bool { return db.backend == SQLite }

// typedValues reports whether the parameters of a VALUES list must be cast
// to their types ($1::bigint, ...).
//
// Difference of meaning: PostgreSQL cannot infer the types of parameters in
// VALUES; it takes them for text and then refuses the statement where one is
// compared with or stored as a number ("operator does not exist: bigint =
// text"). SQLite takes them as they come.
func (db *DB) typedValues() bool { return db.backend == Postgres }

// isUniqueViolation reports whether err is a unique-constraint violation, by
// the driver's typed code, never its message.
//
// Difference of meaning: each driver says so with its own code (SQLite's
// extended result codes of a unique or primary key constraint, PostgreSQL's
// SQLSTATE 23505).
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return false
}

// isForeignKeyViolation reports whether err is a foreign-key violation.
//
// Difference of meaning: each driver says so with its own code
// (SQLITE_CONSTRAINT_FOREIGNKEY, PostgreSQL's SQLSTATE 23503).
func isForeignKeyViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23503"
	}
	return false
}

// raceConflict turns a PostgreSQL deadlock or serialization failure, which
// two transactions racing for the same rows can meet, into ECONFLICT: the
// loser is told to try again, as it is when it loses a compare-and-set.
//
// Difference of meaning: only PostgreSQL runs write transactions side by
// side, so only it aborts one of two racing for the same rows; SQLite's one
// writer never meets either failure.
func raceConflict(err *error) {
	var pe *pgconn.PgError
	if *err != nil && errors.As(*err, &pe) && (pe.Code == "40P01" || pe.Code == "40001") {
		*err = &baton.Error{Code: baton.ECONFLICT, Message: "someone else changed this at the same moment: try again"}
	}
}
