package main

import (
	"bufio"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// writeLeadsCSV writes n leads in the columns of cmd/leadgen, one in four
// at an account domain.
func writeLeadsCSV(t testing.TB, path string, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("email,name,title,company,country,source,created_at\n")
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		domain := fmt.Sprintf("c%d.example", i)
		if i%4 == 0 {
			domain = fmt.Sprintf("acct%d.example", i%100)
		}
		fmt.Fprintf(w, "lead.%d@%s,Lead %d,VP Sales,Company %d,DE,web,%s\n", i, domain, i, i%500, at.Add(time.Duration(i)*time.Minute).Format(time.RFC3339))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// TestImportSurvivesKill kills `baton import leads` half-way (kill -9),
// then runs it again: the first run left whole batches, each lead with its
// created entry and its report row; the second adds the rest, each once.
func TestImportSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and imports 60,000 leads")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "baton")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	const n, batch = 60000, 2000
	file, dbPath := filepath.Join(dir, "leads.csv"), filepath.Join(dir, "b.db")
	writeLeadsCSV(t, file, n)
	accounts := filepath.Join(dir, "accounts.csv")
	body := "name,domain,industry\n"
	for i := range 100 {
		body += fmt.Sprintf("Account %d,acct%d.example,software\n", i, i)
	}
	os.WriteFile(accounts, []byte(body), 0o644)
	mustRun(t, "import", "accounts", accounts, "--db", dbPath)

	cmd := exec.Command(bin, "import", "leads", file, "--db", dbPath, "--batch", strconv.Itoa(batch))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// A reader of its own, beside the importer (WAL): the readiness signal
	// is the leads committed.
	raw, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	count := func(q string) int {
		t.Helper()
		var c int
		if err := raw.QueryRow(q).Scan(&c); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return c
	}
	// Bounded by go test's -timeout only: a busy machine takes longer.
	for count(`SELECT COUNT(*) FROM leads`) < 5*batch {
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("the import ended before the kill: %v", err)
	}
	left := count(`SELECT COUNT(*) FROM leads`)
	if left == 0 || left == n || left%batch != 0 {
		t.Fatalf("the killed import left %d leads: want whole batches of %d, fewer than %d", left, batch, n)
	}
	consistent := func(want int) {
		t.Helper()
		for _, q := range []string{`SELECT COUNT(*) FROM leads`, `SELECT COUNT(*) FROM lead_history WHERE action = 'created'`,
			`SELECT COUNT(*) FROM report_leads`, `SELECT COUNT(*) FROM report_steps WHERE step = 'lead'`,
			`SELECT COALESCE(SUM(n), 0) FROM report_daily WHERE kind = 'p' AND dim = 'source' AND grain = 'd' AND stage = 'lead'`} {
			if got := count(q); got != want {
				t.Errorf("%s = %d, want %d", q, got, want)
			}
		}
		if got := count(`SELECT COUNT(*) FROM leads WHERE email LIKE '%@acct%'`); got != count(`SELECT COUNT(*) FROM leads WHERE email LIKE '%@acct%' AND account_id IS NOT NULL`) || got == 0 {
			t.Errorf("leads at account domains not all linked (%d)", got)
		}
	}
	consistent(left)

	out := mustRun(t, "import", "leads", file, "--db", dbPath)
	m := regexp.MustCompile(`^(\d+) created, (\d+) updated, 0 rejected\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("re-run: %q", out)
	}
	if created, updated := atoi(m[1]), atoi(m[2]); created != n-left || updated != left {
		t.Fatalf("re-run: %q, want %d created, %d updated", out, n-left, left)
	}
	consistent(n)
	// Once more: nothing changes.
	if out := mustRun(t, "import", "leads", file, "--db", dbPath); out != fmt.Sprintf("0 created, %d updated, 0 rejected\n", n) {
		t.Fatalf("third run: %q", out)
	}
	consistent(n)
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
