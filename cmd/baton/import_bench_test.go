package main

// BenchmarkImportLeads times `baton import leads` as a user runs it, a
// process of its own, on a file from cmd/leadgen, beside a floor measured in
// the same run: sqlite3's own .import of the same file into a table of its
// seven columns with a unique email index (and, with a PostgreSQL server,
// COPY of the file into such a table there). It takes minutes, so it is
// opt-in:
//
//	BATON_BENCH_IMPORT=1 go test ./cmd/baton -run '^$' -bench ImportLeads -benchtime 1x
//	BATON_BENCH_IMPORT_ROWS=100000 ...                  # a smaller file
//	bash scripts/with-postgres.sh env BATON_BENCH_IMPORT=1 go test ...  # PostgreSQL too
//
// It reports rows/s, the floor's rows/s and their ratio, and the import's
// peak RSS.

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/storetest"
)

func BenchmarkImportLeads(b *testing.B) {
	if os.Getenv("BATON_BENCH_IMPORT") == "" {
		b.Skip("set BATON_BENCH_IMPORT=1 to run the out-of-process import benchmark")
	}
	rows := 1000000
	if s := os.Getenv("BATON_BENCH_IMPORT_ROWS"); s != "" {
		var err error
		if rows, err = strconv.Atoi(s); err != nil {
			b.Fatalf("BATON_BENCH_IMPORT_ROWS: %v", err)
		}
	}
	bin, err := loadBinary()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	gen := filepath.Join(dir, "leadgen")
	if out, err := exec.Command("go", "build", "-o", gen, "../leadgen").CombinedOutput(); err != nil {
		b.Fatalf("build leadgen: %v\n%s", err, out)
	}
	file := filepath.Join(dir, "leads.csv")
	f, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(gen, "-n", strconv.Itoa(rows))
	cmd.Stdout = f
	if err := cmd.Run(); err != nil {
		b.Fatalf("leadgen: %v", err)
	}
	f.Close()
	// The accounts the file's account domains name, so that a quarter of
	// the leads link to one.
	accounts := filepath.Join(dir, "accounts.csv")
	var body strings.Builder
	body.WriteString("name,domain,industry,employees\n")
	for i := range 1000 {
		body.WriteString("Account " + strconv.Itoa(i) + ",acct" + strconv.Itoa(i) + ".example,software," + strconv.Itoa(10+i) + "\n")
	}
	os.WriteFile(accounts, []byte(body.String()), 0o644)

	floor := sqliteFloor(b, dir, file)
	b.ResetTimer()
	var took time.Duration
	var rss int64
	for i := range b.N {
		db := filepath.Join(dir, "baton"+strconv.Itoa(i)+".db")
		runBin(b, bin, "import", "accounts", accounts, "--db", db)
		took, rss = timeImport(b, bin, file, db)
	}
	b.StopTimer()
	rate := float64(rows) / took.Seconds()
	b.ReportMetric(rate, "rows/s")
	b.ReportMetric(took.Seconds(), "s")
	b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
	if floor > 0 {
		b.ReportMetric(float64(rows)/floor.Seconds(), "floor-rows/s")
		b.ReportMetric(floor.Seconds()/took.Seconds(), "ratio-to-floor")
	}
	if os.Getenv(storetest.PostgresEnv) == "" {
		b.Log("PostgreSQL skipped: BATON_TEST_POSTGRES_URL is not set (run under scripts/with-postgres.sh)")
		return
	}
	dsn := storetest.NewPostgresDatabase(b)
	runBin(b, bin, "import", "accounts", accounts, "--db", dsn)
	pgTook, _ := timeImport(b, bin, file, dsn)
	pgFloor := postgresFloor(b, storetest.NewPostgresDatabase(b), file)
	b.ReportMetric(float64(rows)/pgTook.Seconds(), "pg-rows/s")
	b.ReportMetric(pgTook.Seconds(), "pg-s")
	b.ReportMetric(float64(rows)/pgFloor.Seconds(), "pg-floor-rows/s")
	b.ReportMetric(pgFloor.Seconds()/pgTook.Seconds(), "pg-ratio-to-floor")
}

// timeImport runs `baton import leads` and returns how long it took and
// its peak resident memory.
func timeImport(b *testing.B, bin, file, db string) (time.Duration, int64) {
	cmd := exec.Command(bin, "import", "leads", file, "--db", db)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("import: %v\n%s", err, out.String())
	}
	took := time.Since(start)
	if !strings.Contains(out.String(), " created, ") || !strings.Contains(out.String(), " 0 rejected") {
		b.Fatalf("import: %s", out.String())
	}
	b.Logf("import into %s: %s in %v", filepath.Base(db), strings.TrimSpace(out.String()), took.Round(time.Millisecond))
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss << 10
	}
	return took, rss
}

// sqliteFloor times sqlite3's .import of the file into a table of its
// columns with a unique index on email, in WAL mode as Baton runs; zero
// (with a message) when the sqlite3 program is not installed.
func sqliteFloor(b *testing.B, dir, file string) time.Duration {
	sqlite3, err := exec.LookPath("sqlite3")
	if err != nil {
		b.Log("floor skipped: no sqlite3 program (apt-get install sqlite3)")
		return 0
	}
	script := "PRAGMA journal_mode=WAL;\nPRAGMA synchronous=NORMAL;\n" +
		"CREATE TABLE leads (email TEXT, name TEXT, title TEXT, company TEXT, country TEXT, source TEXT, created_at TEXT);\n" +
		"CREATE UNIQUE INDEX leads_email ON leads(email);\n.mode csv\n.import --skip 1 " + file + " leads\n"
	cmd := exec.Command(sqlite3, filepath.Join(dir, "floor.db"))
	cmd.Stdin = strings.NewReader(script)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("sqlite3 .import: %v\n%s", err, out)
	}
	took := time.Since(start)
	b.Logf("floor: sqlite3 .import in %v", took.Round(time.Millisecond))
	return took
}

// postgresFloor times COPY of the file into a table of its columns with a
// unique index on email, in the database dsn.
func postgresFloor(b *testing.B, dsn, file string) time.Duration {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE floor (email TEXT, name TEXT, title TEXT, company TEXT, country TEXT, source TEXT, created_at TEXT);
		CREATE UNIQUE INDEX floor_email ON floor(email)`); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	if _, err := conn.PgConn().CopyFrom(ctx, f, `COPY floor FROM STDIN WITH (FORMAT csv, HEADER true)`); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	b.Logf("floor: PostgreSQL COPY in %v", took.Round(time.Millisecond))
	return took
}
