package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/batonhq/baton/storetest"
)

// TestBenchImport runs the import sections of `baton bench` on a small
// file: each row has a figure, the import created every lead (importLeads
// checks the printed count), and the floor is measured when its program is
// there. The figures themselves are for `baton bench`, not asserted here.
func TestBenchImport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds baton and imports a file (-short)")
	}
	bin, err := loadBinary()
	if err != nil {
		t.Fatal(err)
	}
	b := &bench{Dir: t.TempDir(), Exe: bin, Leads: 2000, Log: io.Discard}
	rows, err := benchImportSQLite.Run(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	_, lookErr := exec.LookPath("sqlite3")
	want := 3
	if lookErr == nil {
		want = 4 // and the ceiling
	}
	if len(rows) != want {
		t.Fatalf("%d rows, want %d: %+v", len(rows), want, rows)
	}
	for _, r := range rows {
		if r.Value <= 0 {
			t.Errorf("%s: %v %s", r.Figure, r.Value, r.Unit)
		}
	}
	rate := rows[1]
	if lookErr == nil {
		if rate.Floor <= 0 || rate.FloorName != "sqlite3 .import" {
			t.Errorf("rows/s without its floor: %+v", rate)
		}
		if c := rows[2]; c.Floor != rate.Floor || !strings.Contains(c.Note, "ceiling") {
			t.Errorf("ceiling row: %+v", c)
		}
	} else if !strings.Contains(rate.Note, "sqlite3") {
		t.Errorf("no sqlite3, and the row does not say so: %+v", rate)
	}
	if got := rows[0].Limit; got != importLimitSQLite*2000/1e6 {
		t.Errorf("limit %v s for 2,000 leads, want the million's scaled", got)
	}
	if b.PG = os.Getenv(storetest.PostgresEnv); b.PG == "" {
		t.Log("PostgreSQL section skipped: " + storetest.PostgresEnv + " is not set")
		return
	}
	rows, err = benchImportPostgres.Run(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].Value <= 0 || rows[0].Floor <= 0 || rows[0].FloorName != "COPY" || rows[1].Value <= 0 {
		t.Fatalf("PostgreSQL rows: %+v", rows)
	}
}
