package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"strings"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// The SQLite driver is mattn/go-sqlite3: SQLite's own C code through cgo,
// about 0.6 of the CPU time of the pure-Go translation for the same writes
// (measured here on imports and event ingest, where SQLite's B-trees are
// most of the work).
//
// Difference of syntax: the queries are written once for both backends
// with PostgreSQL's $n placeholders. SQLite reads "$1" as a parameter
// named "$1", numbered in the order names first appear, so "$2 ... $1"
// would bind the wrong values; "?1" is parameter 1 wherever it stands.
// sqliteConn rewrites the one into the other as a statement is prepared.

var sqliteDriver = &sqlite3.SQLiteDriver{}

func init() { sql.Register("sqlite", sqliteOpener{}) }

// sqliteOpener is the "sqlite" database/sql driver. Its names are SQLite
// URI filenames whose _pragma parameters (_pragma=busy_timeout(10000))
// are run on each new connection, in their order, before it serves.
type sqliteOpener struct{}

func (o sqliteOpener) Open(name string) (driver.Conn, error) {
	c, err := o.OpenConnector(name)
	if err != nil {
		return nil, err
	}
	return c.Connect(context.Background())
}

func (sqliteOpener) OpenConnector(name string) (driver.Connector, error) {
	c := &sqliteConnector{dsn: name}
	file, query, ok := strings.Cut(name, "?")
	if !ok {
		return c, nil
	}
	params, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", name, err)
	}
	c.pragmas = params["_pragma"]
	delete(params, "_pragma")
	c.dsn = file
	if len(params) > 0 {
		c.dsn += "?" + params.Encode()
	}
	return c, nil
}

// sqliteConnector opens connections to one SQLite file, each set up by
// the same pragmas.
type sqliteConnector struct {
	dsn     string
	pragmas []string
}

func (c *sqliteConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := sqliteDriver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	conn := dc.(*sqlite3.SQLiteConn)
	for _, p := range c.pragmas {
		if _, err := conn.Exec("PRAGMA "+p, nil); err != nil {
			conn.Close()
			return nil, fmt.Errorf("pragma %s: %w", p, err)
		}
	}
	return &sqliteConn{conn}, nil
}

func (c *sqliteConnector) Driver() driver.Driver { return sqliteOpener{} }

// sqliteConn is a connection whose statements are written with $n
// placeholders.
type sqliteConn struct {
	*sqlite3.SQLiteConn
}

func (c *sqliteConn) Prepare(query string) (driver.Stmt, error) {
	return c.SQLiteConn.Prepare(sqliteParams(query))
}

func (c *sqliteConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.SQLiteConn.PrepareContext(ctx, sqliteParams(query))
}

func (c *sqliteConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.SQLiteConn.ExecContext(ctx, sqliteParams(query), args)
}

func (c *sqliteConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.SQLiteConn.QueryContext(ctx, sqliteParams(query), args)
}

func (c *sqliteConn) Exec(query string, args []driver.Value) (driver.Result, error) {
	return c.SQLiteConn.Exec(sqliteParams(query), args)
}

func (c *sqliteConn) Query(query string, args []driver.Value) (driver.Rows, error) {
	return c.SQLiteConn.Query(sqliteParams(query), args)
}

// sqliteParams turns the $n placeholders of query into ?n, leaving quoted
// strings and identifiers and comments as they are.
func sqliteParams(query string) string {
	if strings.IndexByte(query, '$') < 0 {
		return query
	}
	b := []byte(query)
	for i := 0; i < len(b); i++ {
		var end string // what closes the quote or comment that starts at i
		switch {
		case b[i] == '\'' || b[i] == '"' || b[i] == '`':
			end = string(b[i])
		case b[i] == '[':
			end = "]"
		case b[i] == '-' && i+1 < len(b) && b[i+1] == '-':
			end = "\n"
		case b[i] == '/' && i+1 < len(b) && b[i+1] == '*':
			end, i = "*/", i+1
		case b[i] == '$' && i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '9':
			b[i] = '?'
		}
		if end != "" {
			// A doubled quote inside a string is two quotes in a row: the
			// string ends and another begins, which comes to the same.
			// (query is b before its $ were changed: the same indexes.)
			j := strings.Index(query[i+1:], end)
			if j < 0 {
				break
			}
			i += j + len(end)
		}
	}
	return string(b)
}

// sqliteError returns the SQLite error err is or wraps, if it is one.
func sqliteError(err error) (sqlite3.Error, bool) {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se, true
	}
	return se, false
}
