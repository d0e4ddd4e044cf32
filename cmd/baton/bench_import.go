package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/store"
)

// The import sections of `baton bench`: `baton import leads` of the bench's
// lead file as a user runs it (another process, the default policy
// published, the accounts a quarter of the leads belong to imported first),
// beside the plainest load of the same file in the same run: sqlite3's own
// .import into a table of the file's seven columns with a unique email
// index, and on PostgreSQL COPY into such a table.
var (
	benchImportSQLite = benchSection{
		Name:  "import",
		About: "baton import leads of the lead file into SQLite, beside sqlite3's .import of it",
		Run:   runBenchImportSQLite,
	}
	benchImportPostgres = benchSection{
		Name:     "import-pg",
		About:    "baton import leads of the lead file into PostgreSQL, beside COPY of it",
		Postgres: true,
		Run:      runBenchImportPostgres,
	}
)

// The targets of issue 19 for a million leads; smaller files get them
// scaled by their size.
const (
	importLimitSQLite   = 20.0 // seconds per million leads
	importLimitPostgres = 15.0 // seconds per million leads
	importMinRatio      = 0.3  // of sqlite3 .import's rows/s
	importLimitRSS      = 300  // MB, whatever the size
)

// benchAccounts are the accounts leadgen's account domains name.
const benchAccounts = 1000

func runBenchImportSQLite(ctx context.Context, b *bench) ([]benchRow, error) {
	file, err := b.LeadsCSV(b.Leads)
	if err != nil {
		return nil, err
	}
	db := filepath.Join(b.Dir, "import.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(db + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	run, err := b.importLeads(ctx, file, db)
	if err != nil {
		return nil, err
	}
	n := float64(b.Leads)
	scale := n / 1e6
	took := run.Wall.Seconds()
	note := fmt.Sprintf("CPU %.1f s", run.CPU.Seconds())
	rows := []benchRow{
		{Figure: fmt.Sprintf("import %s leads (SQLite)", benchNum(n)), Unit: "s", Value: took, Lower: true,
			Limit: importLimitSQLite * scale, Note: note},
	}
	rate := benchRow{Figure: fmt.Sprintf("import %s leads (SQLite)", benchNum(n)), Unit: "rows/s", Value: n / took, MinRatio: importMinRatio}
	floor, err := b.sqliteImportFloor(ctx, file)
	switch {
	case errors.Is(err, exec.ErrNotFound):
		rate.Note = "no floor: the sqlite3 program is not installed (apt-get install sqlite3)"
	case err != nil:
		return nil, err
	default:
		rate.Floor, rate.FloorName = n/floor.Seconds(), "sqlite3 .import"
	}
	rows = append(rows, rate)
	// The ceiling: sqlite3 itself writing the rows Baton's import left
	// into an empty database of the same schema. No import of these rows,
	// however it is written, can be faster than that.
	if ceiling, err := b.sqliteWriteCeiling(ctx, db); err == nil {
		row := benchRow{Figure: "sqlite3 alone writing those rows (SQLite)", Unit: "rows/s", Value: n / ceiling.Seconds(),
			MinRatio: importMinRatio, Note: fmt.Sprintf("%.1f s: the ceiling of any import of them (limit %s s)", ceiling.Seconds(), benchNum(importLimitSQLite*scale))}
		row.Floor, row.FloorName = rate.Floor, rate.FloorName
		rows = append(rows, row)
	} else if !errors.Is(err, exec.ErrNotFound) {
		return nil, err
	}
	rows = append(rows, benchRow{Figure: "import peak RSS (SQLite)", Unit: "MB", Value: float64(run.PeakRSS) / (1 << 20),
		Lower: true, Limit: importLimitRSS})
	return rows, nil
}

func runBenchImportPostgres(ctx context.Context, b *bench) ([]benchRow, error) {
	file, err := b.LeadsCSV(b.Leads)
	if err != nil {
		return nil, err
	}
	// A database of its own, dropped at the end, so that a second run
	// creates the leads again rather than finding them.
	dsn, drop, err := benchPostgresDatabase(ctx, b.PG)
	if err != nil {
		return nil, err
	}
	defer drop()
	run, err := b.importLeads(ctx, file, dsn)
	if err != nil {
		return nil, err
	}
	floor, err := postgresCopyFloor(ctx, dsn, file)
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(b.Log, "bench: PostgreSQL writing the imported rows into an empty copy of the schema...")
	ceiling, err := postgresWriteCeiling(ctx, dsn)
	if err != nil {
		return nil, err
	}
	n := float64(b.Leads)
	limit := importLimitPostgres * n / 1e6
	return []benchRow{
		{Figure: fmt.Sprintf("import %s leads (PostgreSQL)", benchNum(n)), Unit: "s", Value: run.Wall.Seconds(),
			Floor: floor.Seconds(), FloorName: "COPY", Lower: true, Limit: limit,
			Note: fmt.Sprintf("CPU %.1f s", run.CPU.Seconds())},
		{Figure: "PostgreSQL alone writing those rows", Unit: "s", Value: ceiling.Seconds(),
			Floor: floor.Seconds(), FloorName: "COPY", Lower: true, Limit: limit,
			Note: "the ceiling of any import of them"},
		{Figure: "import peak RSS (PostgreSQL)", Unit: "MB", Value: float64(run.PeakRSS) / (1 << 20), Lower: true, Limit: importLimitRSS},
	}, nil
}

// postgresWriteCeiling times PostgreSQL copying, inside the server, every
// row Baton's import left in the database dsn into an empty copy of
// Baton's schema (made by its migrations in a schema of its own, so with
// every index, constraint and foreign key), in one transaction: the
// storage's own cost of those rows, with no CSV, network, Go or scoring.
func postgresWriteCeiling(ctx context.Context, dsn string) (time.Duration, error) {
	const schema = "bench_ceiling"
	copyDSN, err := ingestSchema(ctx, dsn, schema)
	if err != nil {
		return 0, err
	}
	empty, err := store.Open(ctx, copyDSN)
	if err != nil {
		return 0, fmt.Errorf("ceiling: %w", err)
	}
	err = empty.Migrate(ctx)
	empty.Close()
	if err != nil {
		return 0, fmt.Errorf("ceiling: %w", err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	// The tables in the order the migrations made them, so that a row's
	// references are there before it; those the migrations filled
	// (schema_migrations) keep their rows.
	rows, err := conn.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY c.oid`, schema)
	if err != nil {
		return 0, err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, err
	}
	start := time.Now()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	var copied int64
	for _, t := range tables {
		dst := pgx.Identifier{schema, t}.Sanitize()
		var filled bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+dst+`)`).Scan(&filled); err != nil {
			return 0, fmt.Errorf("ceiling: %s: %w", t, err)
		}
		if filled {
			continue
		}
		tag, err := tx.Exec(ctx, `INSERT INTO `+dst+` SELECT * FROM `+pgx.Identifier{"public", t}.Sanitize())
		if err != nil {
			return 0, fmt.Errorf("ceiling: %s: %w", t, err)
		}
		copied += tag.RowsAffected()
	}
	if copied == 0 {
		return 0, errors.New("ceiling: no rows to copy: the import left none in the public schema")
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// importLeads publishes the default policy in the database dsn, imports
// the accounts of the lead file's account domains, and then measures
// `baton import leads` of the file, which must create every lead.
func (b *bench) importLeads(ctx context.Context, file, dsn string) (benchRun, error) {
	doc, err := exec.CommandContext(ctx, b.Exe, "policy", "default").Output()
	if err != nil {
		return benchRun{}, fmt.Errorf("baton policy default: %w", err)
	}
	policyFile := filepath.Join(b.Dir, "policy.yaml")
	if err := os.WriteFile(policyFile, doc, 0o644); err != nil {
		return benchRun{}, err
	}
	if _, err := b.Run(ctx, "policy", "publish", policyFile, "--db", dsn); err != nil {
		return benchRun{}, err
	}
	var accounts strings.Builder
	accounts.WriteString("name,domain,industry,employees\n")
	for i := range benchAccounts {
		fmt.Fprintf(&accounts, "Account %d,acct%d.example,software,%d\n", i, i, 10+i)
	}
	accountsFile := filepath.Join(b.Dir, "accounts.csv")
	if err := os.WriteFile(accountsFile, []byte(accounts.String()), 0o644); err != nil {
		return benchRun{}, err
	}
	if _, err := b.Run(ctx, "import", "accounts", accountsFile, "--db", dsn); err != nil {
		return benchRun{}, err
	}
	fmt.Fprintf(b.Log, "bench: baton import leads of %s leads...\n", benchNum(float64(b.Leads)))
	run, err := b.Run(ctx, "import", "leads", file, "--db", dsn)
	if err != nil {
		return run, err
	}
	want := strconv.Itoa(b.Leads) + " created, 0 updated, 0 rejected"
	if !strings.Contains(string(run.Output), want) {
		return run, fmt.Errorf("baton import leads: want %q, got:\n%s", want, run.Output)
	}
	return run, nil
}

// sqliteImportFloor times sqlite3's .import of the file into a new
// database with a table of its seven columns and a unique index on email,
// in WAL mode with synchronous=NORMAL as Baton runs. Without the sqlite3
// program it returns an error that is exec.ErrNotFound.
func (b *bench) sqliteImportFloor(ctx context.Context, file string) (time.Duration, error) {
	sqlite3, err := exec.LookPath("sqlite3")
	if err != nil {
		return 0, err
	}
	db := filepath.Join(b.Dir, "floor.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(db + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return 0, err
		}
	}
	cmd := exec.CommandContext(ctx, sqlite3, db)
	cmd.Stdin = strings.NewReader("PRAGMA journal_mode=WAL;\nPRAGMA synchronous=NORMAL;\n" +
		"CREATE TABLE leads (email TEXT, name TEXT, title TEXT, company TEXT, country TEXT, source TEXT, created_at TEXT);\n" +
		"CREATE UNIQUE INDEX leads_email ON leads(email);\n.mode csv\n.bail on\n.import --skip 1 " + file + " leads\n")
	fmt.Fprintln(b.Log, "bench: sqlite3 .import of the same file...")
	run, err := b.RunCommand(ctx, cmd)
	if err != nil {
		return 0, err
	}
	return run.Wall, nil
}

// sqliteWriteCeiling times sqlite3 copying every row of the SQLite
// database db into a new database of the same schema (tables, indexes and
// triggers made first, in the order db made them), in one transaction,
// with the pragmas Baton runs with: foreign keys checked, WAL, a 64 MB
// cache. The WHERE keeps SQLite from copying b-tree pages wholesale (its
// transfer optimization), which no import could do: every row goes through
// every index as an import's does. What it measures is the storage's own
// cost of the rows, with no CSV, Go or scoring. Without the sqlite3
// program it returns an error that is exec.ErrNotFound.
func (b *bench) sqliteWriteCeiling(ctx context.Context, db string) (time.Duration, error) {
	sqlite3, err := exec.LookPath("sqlite3")
	if err != nil {
		return 0, err
	}
	src, err := sql.Open("sqlite", "file:"+(&url.URL{Path: db}).EscapedPath()+"?mode=ro")
	if err != nil {
		return 0, err
	}
	defer src.Close()
	rows, err := src.QueryContext(ctx, `SELECT type, name, sql FROM sqlite_master
		WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid`)
	if err != nil {
		return 0, fmt.Errorf("ceiling: %w", err)
	}
	var script, copies strings.Builder
	script.WriteString("PRAGMA journal_mode=WAL;\nPRAGMA synchronous=NORMAL;\nPRAGMA foreign_keys=ON;\nPRAGMA cache_size=-65536;\n.bail on\n")
	for rows.Next() {
		var kind, name, stmt string
		if err := rows.Scan(&kind, &name, &stmt); err != nil {
			rows.Close()
			return 0, err
		}
		script.WriteString(stmt + ";\n")
		if kind == "table" {
			q := `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
			fmt.Fprintf(&copies, "INSERT INTO main.%s SELECT * FROM src.%s WHERE 1;\n", q, q)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	fmt.Fprintf(&script, "ATTACH '%s' AS src;\nBEGIN;\n%sCOMMIT;\n", strings.ReplaceAll(db, "'", "''"), copies.String())
	dst := filepath.Join(b.Dir, "ceiling.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(dst + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return 0, err
		}
	}
	cmd := exec.CommandContext(ctx, sqlite3, dst)
	cmd.Stdin = strings.NewReader(script.String())
	fmt.Fprintln(b.Log, "bench: sqlite3 writing the imported rows into an empty copy of the schema...")
	run, err := b.RunCommand(ctx, cmd)
	if err != nil {
		return 0, err
	}
	if said := string(bytes.TrimSpace(run.Output)); said != "wal" { // journal_mode answers
		return 0, fmt.Errorf("ceiling: sqlite3 said:\n%s", run.Output)
	}
	return run.Wall, nil
}

// postgresCopyFloor times COPY of the file into a new table of its seven
// columns with a unique index on email, in the database dsn.
func postgresCopyFloor(ctx context.Context, dsn, file string) (time.Duration, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE bench_floor (email TEXT, name TEXT, title TEXT, company TEXT, country TEXT, source TEXT, created_at TEXT);
		CREATE UNIQUE INDEX bench_floor_email ON bench_floor(email)`); err != nil {
		return 0, fmt.Errorf("COPY floor: %w", err)
	}
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	start := time.Now()
	if _, err := conn.PgConn().CopyFrom(ctx, f, `COPY bench_floor FROM STDIN WITH (FORMAT csv, HEADER true)`); err != nil {
		return 0, fmt.Errorf("COPY floor: %w", err)
	}
	return time.Since(start), nil
}

// benchPostgresDatabase creates a database of a random name on the server
// of the URL base and returns its URL and a function that drops it.
func benchPostgresDatabase(ctx context.Context, base string) (string, func(), error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, fmt.Errorf("--pg: %w", err)
	}
	var r [4]byte
	rand.Read(r[:])
	name := "baton_bench_" + hex.EncodeToString(r[:])
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, fmt.Errorf("--pg: %w", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		return "", nil, fmt.Errorf("--pg: create a database to import into: %w", err)
	}
	drop := func() {
		ctx := context.WithoutCancel(ctx)
		if c, err := pgx.Connect(ctx, base); err == nil {
			c.Exec(ctx, `DROP DATABASE `+name+` WITH (FORCE)`)
			c.Close(ctx)
		}
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}
