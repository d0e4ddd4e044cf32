package store

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
)

// memoryDB is an SQLite database in memory, closed when the test ends. It
// has one connection: each connection to ":memory:" is a database of its
// own.
func memoryDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// The queries are written with PostgreSQL's $n placeholders; on SQLite each
// must bind the argument of its number wherever it stands, and a $ inside
// a quoted string or identifier stays as it is.
func TestSQLitePlaceholders(t *testing.T) {
	db := memoryDB(t)
	tests := []struct {
		query string
		args  []any
		want  string
	}{
		{`SELECT $1 || $2`, []any{"a", "b"}, "ab"},
		{`SELECT $2 || $1`, []any{"a", "b"}, "ba"},
		{`SELECT $1 || $2 || $1`, []any{"a", "b"}, "aba"},
		{`SELECT $3 || $1 || $2`, []any{"a", "b", "c"}, "cab"},
		{`SELECT '$1' || $1`, []any{"a"}, "$1a"},
		{`SELECT 'it''s $2 ' || $2 || $1`, []any{"a", "b"}, "it's $2 ba"},
		{`SELECT "$1" FROM (SELECT $1 AS "$1")`, []any{"a"}, "a"},
		{"SELECT $2 || $1 -- the lead's $1\n|| $1", []any{"a", "b"}, "baa"},
		{"SELECT /* it's $2 */ $2 || $1", []any{"a", "b"}, "ba"},
		{"SELECT `$1` || $2 || $1 FROM (SELECT 'x' AS `$1`)", []any{"a", "b"}, "xba"},
		{`SELECT $10 || $1`, []any{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}, "101"},
	}
	for _, tt := range tests {
		var got string
		if err := db.QueryRow(tt.query, tt.args...).Scan(&got); err != nil {
			t.Errorf("%s: %v", tt.query, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s with %v = %q, want %q", tt.query, tt.args, got, tt.want)
		}
	}
}

// A _pragma parameter of the name is run on every connection the pool
// opens, in order.
func TestSQLitePragmas(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+t.TempDir()+"/p.db?_pragma=busy_timeout(4321)&_pragma=journal_mode(WAL)&_pragma=cache_size(-1234)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(2)
	c1, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	c2, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	for i, c := range []*sql.Conn{c1, c2} {
		for pragma, want := range map[string]string{"busy_timeout": "4321", "journal_mode": "wal", "cache_size": "-1234"} {
			var got string
			if err := c.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("connection %d: %s = %s, want %s", i+1, pragma, got, want)
			}
		}
	}
}

// sqliteParams changes nothing but $ into ?, and only before a digit.
func FuzzSQLiteParams(f *testing.F) {
	for _, q := range []string{`SELECT $1`, `SELECT '$1' -- $2`, "/* $1 */ $2", "[$1] `$2` \"$3\"", "'", "/*", "--", "$"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		got := sqliteParams(q)
		if len(got) != len(q) {
			t.Fatalf("%q became %q", q, got)
		}
		for i := range len(q) {
			if got[i] != q[i] && (q[i] != '$' || got[i] != '?' || i+1 == len(q) || q[i+1] < '0' || q[i+1] > '9') {
				t.Fatalf("%q became %q at %d", q, got, i)
			}
		}
	})
}

// BenchmarkSQLiteParams rewrites a multi-row INSERT as an import sends
// them: 250 rows, each with literals in quotes beside its placeholders.
func BenchmarkSQLiteParams(b *testing.B) {
	var q strings.Builder
	q.WriteString("INSERT INTO leads (id, email, name, stage, fit, title, company, attrs, created_at) VALUES ")
	for i := range 250 {
		if i > 0 {
			q.WriteString(", ")
		}
		fmt.Fprintf(&q, "($%d, $%d, '', 'new', $%d, '', '', '{}', 1735689600000000)", 3*i+1, 3*i+2, 3*i+3)
	}
	query := q.String()
	b.ReportAllocs()
	for b.Loop() {
		sqliteParams(query)
	}
}
