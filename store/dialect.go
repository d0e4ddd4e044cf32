package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	sqlite3 "github.com/mattn/go-sqlite3"

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
// write back (SELECT ... FOR NO KEY UPDATE): on PostgreSQL, where
// transactions run side by side, so that two of them never both read a
// lead's state and write it back, the second over the first. SQLite needs
// none: a write transaction holds the database's one write lock.
//
// NO KEY: the lock an UPDATE that keeps the row's keys takes. FOR UPDATE
// would also wait for the FOR KEY SHARE locks that inserting rows which
// refer to the lead take (an event, a handoff): two event batches that
// inserted events of the same leads in different orders, then locked the
// leads in id order, deadlocked, and one of them failed with ECONFLICT.
//
// Difference of meaning: without it PostgreSQL loses updates.
func (tx *Tx) lockRows() string {
	if tx.db.backend == Postgres && !tx.readOnly {
		return lockForWrite
	}
	return ""
}

// lockForWrite is lockRows's clause on PostgreSQL.
const lockForWrite = ` FOR NO KEY UPDATE`

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
	if se, ok := sqliteError(err); ok {
		return se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
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
	if se, ok := sqliteError(err); ok {
		return se.ExtendedCode == sqlite3.ErrConstraintForeignKey
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

// insertRows inserts many new rows into a table: the rows' values are in
// the order of cols. On PostgreSQL they go through COPY, in the
// transaction's connection; on SQLite through INSERTs of up to insertChunk
// rows, the statement prepared once, with the columns that every row shares
// written as literals (constantColumns).
//
// Difference of speed: to PostgreSQL a statement is a round trip, and COPY
// streams rows at several times the rate of the largest INSERT. In-process
// SQLite has no round trips, but a statement of many rows keeps its cursors
// open from one row to the next, so that an index whose keys come in
// ascending order (ids, times, most of the leads' indexes on an import) is
// appended to without a search from its root: 100 leads per statement
// insert in half the time of one lead per statement (measured here, with
// every index of the leads table).
func (tx *Tx) insertRows(ctx context.Context, table string, cols []string, rows [][]any) error {
	b := tx.bulkInsert(table, cols)
	defer b.close()
	return b.insert(ctx, rows)
}

// bulkInserter inserts rows into one table as insertRows does, one chunk
// of rows at a time: its prepared INSERT serves the next chunk too while
// the columns that chunk shares are the same (the statement is parsed
// once, not once a chunk).
type bulkInserter struct {
	tx    *Tx
	table string
	cols  []string
	// lits are the literals of full, the prepared INSERT of a whole
	// statement's rows.
	lits []string
	full *sql.Stmt
}

func (tx *Tx) bulkInsert(table string, cols []string) *bulkInserter {
	return &bulkInserter{tx: tx, table: table, cols: cols}
}

// close closes the prepared statement.
func (b *bulkInserter) close() {
	if b.full != nil {
		b.full.Close()
		b.full = nil
	}
}

func (b *bulkInserter) insert(ctx context.Context, rows [][]any) error {
	tx, table, cols := b.tx, b.table, b.cols
	if len(rows) == 0 {
		return nil
	}
	if tx.db.backend == Postgres && tx.conn != nil {
		return tx.conn.Raw(func(dc any) error {
			c, ok := dc.(*stdlib.Conn)
			if !ok {
				return fmt.Errorf("copy into %s: the connection is a %T, not pgx's", table, dc)
			}
			n, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
			if err != nil {
				return fmt.Errorf("copy into %s: %w", table, err)
			}
			if n != int64(len(rows)) {
				return fmt.Errorf("copy into %s: %d rows of %d", table, n, len(rows))
			}
			return nil
		})
	}
	// A column whose value every row shares (the empty fields, the
	// batch's time, the NULLs of the report rows) is written into the
	// statement as a literal rather than bound for each row: a bound text
	// is copied into memory of SQLite's for each row, and on an import
	// more than half the values are such constants.
	// (On PostgreSQL this INSERT serves only a transaction without a
	// connection of its own, and binds every value.)
	lits := make([]string, len(cols))
	if tx.db.backend == SQLite {
		lits = constantColumns(cols, rows)
	}
	if b.full != nil && !slices.Equal(lits, b.lits) {
		b.close()
	}
	bound := 0
	for _, l := range lits {
		if l == "" {
			bound++
		}
	}
	per := insertChunk
	if bound > 0 {
		per = min(per, sqliteMaxParams/bound)
	}
	insert := func(n int) string {
		var b strings.Builder
		b.WriteString(`INSERT INTO ` + table + ` (` + strings.Join(cols, ", ") + `) VALUES `)
		p := 1
		for r := range n {
			if r > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			for c, l := range lits {
				if c > 0 {
					b.WriteByte(',')
				}
				if l == "" {
					tx.db.param(&b, p)
					p++
				} else {
					b.WriteString(l)
				}
			}
			b.WriteByte(')')
		}
		return b.String()
	}
	// As in storeScores: a statement takes microseconds, less than the
	// goroutine the driver starts to watch a cancellable context.
	ctx = context.WithoutCancel(ctx)
	args := make([]any, 0, min(per, len(rows))*bound)
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		args = args[:0]
		for _, r := range chunk {
			for c, v := range r {
				if lits[c] == "" {
					args = append(args, v)
				}
			}
		}
		var err error
		// Through the transaction itself, not the statement cache
		// (stmtcache.go): an INSERT with a batch's literals is one of a
		// kind, and the cache would keep each one prepared, a program of
		// hundreds of rows, until it is full (an import of a million
		// leads: a hundred megabytes of them, parsed once more each).
		if len(chunk) < per {
			_, err = tx.Tx.ExecContext(ctx, insert(len(chunk)), args...)
		} else {
			if b.full == nil {
				if b.full, err = tx.Tx.PrepareContext(ctx, insert(per)); err != nil {
					return fmt.Errorf("insert into %s: %w", table, err)
				}
				b.lits = lits
			}
			_, err = b.full.ExecContext(ctx, args...)
		}
		if err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
	}
	return nil
}

// insertChunk is how many rows one of insertRows' INSERTs carries at most
// on SQLite, and sqliteMaxParams how many values it may bind (SQLite's
// SQLITE_MAX_VARIABLE_NUMBER). A longer statement keeps its cursors open
// over more rows and journals a page it changes once for more rows, but is
// parsed again by each transaction (its literals differ): on an import of
// 100,000 leads, statements of 250 rows took half the CPU to parse that
// statements of 1,000 did, and no more to run.
const (
	insertChunk     = 250
	sqliteMaxParams = 32766
)

// constantColumns returns, for each column, the SQL literal of the value
// every row has in it, or "" where the rows differ or the value has no
// literal that SQLite reads back as the same value.
func constantColumns(cols []string, rows [][]any) []string {
	lits := make([]string, len(cols))
	for c := range cols {
		lit, ok := sqlLiteral(rows[0][c])
		if !ok {
			continue
		}
		for _, r := range rows[1:] {
			if !sameValue(r[c], rows[0][c]) {
				ok = false
				break
			}
		}
		if ok {
			lits[c] = lit
		}
	}
	return lits
}

// sqlLiteral returns the SQLite literal of a value of insertRows: NULL, an
// integer, a finite real (always with a point or an exponent, so that it
// stays a real), a text without NUL or a blob.
func sqlLiteral(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "NULL", true
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) || x == 0 && math.Signbit(x) {
			return "", false
		}
		f := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(f, ".e") {
			f += ".0"
		}
		return f, true
	case string:
		if strings.IndexByte(x, 0) >= 0 || !utf8.ValidString(x) {
			return "", false
		}
		return "'" + strings.ReplaceAll(x, "'", "''") + "'", true
	case []byte:
		return "X'" + hex.EncodeToString(x) + "'", true
	}
	return "", false
}

// sameValue reports whether two values of insertRows of sqlLiteral's
// types are the same value.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case int64:
		y, ok := b.(int64)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	}
	return false
}

// newLeadIDs reserves the ids of n new leads, in increasing order.
//
// Difference of meaning: PostgreSQL's writers run side by side, and each
// takes its ids from the identity column's sequence; SQLite has one writer,
// which holds the write lock, so the ids after the largest are free (the
// ids SQLite would give the rows itself).
func (tx *Tx) newLeadIDs(ctx context.Context, n int) ([]int64, error) {
	ids := make([]int64, 0, n)
	if tx.db.backend == SQLite {
		var max int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM leads`).Scan(&max); err != nil {
			return nil, fmt.Errorf("new lead ids: %w", err)
		}
		for i := range n {
			ids = append(ids, max+1+int64(i))
		}
		return ids, nil
	}
	var seq string
	if err := tx.QueryRowContext(ctx, `SELECT pg_get_serial_sequence('leads', 'id')`).Scan(&seq); err != nil {
		return nil, fmt.Errorf("new lead ids: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT nextval($1::regclass) FROM generate_series(1, $2)`, seq, n)
	if err != nil {
		return nil, fmt.Errorf("new lead ids: %w", err)
	}
	if ids, err = scanIDs(rows); err != nil {
		return nil, fmt.Errorf("new lead ids: %w", err)
	}
	slices.Sort(ids)
	return ids, nil
}

// sideBySide reports whether other transactions may write while this one
// does, so that a key checked free may be taken before this one writes it.
//
// Difference of meaning: PostgreSQL runs write transactions side by side;
// SQLite's writer holds the database's one write lock.
func (db *DB) sideBySide() bool { return db.backend == Postgres }

// keyLists calls fn with conditions that col is one of keys, a chunk of
// keys at a time, and their arguments: "col IN (?,?,...)" on SQLite,
// "col = ANY($1)" with an array of text on PostgreSQL.
//
// Difference of speed: PostgreSQL plans a list of hundreds of values
// against the table's statistics, which a table filled since its last
// ANALYZE (a first import) does not have: it takes the table for a few
// pages and scans it whole for every list, which makes an import
// quadratic; an array parameter is planned as a handful of keys, by the
// index. SQLite plans an IN list by the index, and takes no arrays.
func (db *DB) keyLists(col string, keys map[string]int, fn func(cond string, args []any) error) error {
	if db.backend == Postgres {
		all := make([]string, 0, len(keys))
		for k := range keys {
			all = append(all, k)
		}
		for start := 0; start < len(all); start += 10 * idChunk {
			if err := fn(col+` = ANY($1)`, []any{all[start:min(start+10*idChunk, len(all))]}); err != nil {
				return err
			}
		}
		return nil
	}
	args := make([]any, 0, min(len(keys), idChunk))
	list := func() error {
		var b strings.Builder
		b.WriteString(col + ` IN `)
		db.inList(&b, len(args))
		return fn(b.String(), args)
	}
	for k := range keys {
		if args = append(args, k); len(args) == idChunk {
			if err := list(); err != nil {
				return err
			}
			args = args[:0]
		}
	}
	if len(args) > 0 {
		return list()
	}
	return nil
}

// scanIDs reads a column of ids and closes the rows.
func scanIDs(rows *sql.Rows) ([]int64, error) {
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
