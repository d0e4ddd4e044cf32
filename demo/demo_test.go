package demo_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/demo"
	"github.com/batonhq/baton/storetest"
)

var update = flag.Bool("update", false, "rewrite the golden report files")

// TestDemoIsALivingState loads the whole demo and checks that it leaves what
// the queue, the reports and the UI need to show: every development rep has
// leads awaiting an answer, some breached; there are SALs, SQLs,
// opportunities, and months of accepted, rejected, recycled and won leads.
func TestDemoIsALivingState(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the whole demo")
	}
	db := storetest.SQLite(t)
	db.Now = func() time.Time { return time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC) }
	start := time.Now()
	loaded, err := demo.Load(context.Background(), db, nil)
	if err != nil || !loaded {
		t.Fatal(loaded, err)
	}
	t.Logf("demo loaded in %s", time.Since(start).Round(time.Millisecond))
	count := func(q string, args ...any) int {
		var n int
		if err := db.SQL().QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, st := range []baton.Stage{baton.StageMQL, baton.StageSAL, baton.StageSQL, baton.StageOpportunity, baton.StageWon, baton.StageLost, baton.StageRecycled, baton.StageDisqualified} {
		n := count(`SELECT COUNT(*) FROM leads WHERE stage = $1`, string(st))
		t.Logf("%-12s %5d", st, n)
		if n == 0 {
			t.Errorf("no %s leads", st)
		}
	}
	sdrs := count(`SELECT COUNT(*) FROM users WHERE role = 'sdr'`)
	withOpen := count(`SELECT COUNT(DISTINCT owner_id) FROM handoffs WHERE state = 'open' AND kind = 'sdr'`)
	t.Logf("%d of %d SDRs have open handoffs", withOpen, sdrs)
	if withOpen < sdrs*3/4 {
		t.Errorf("only %d of %d SDRs have leads awaiting an answer", withOpen, sdrs)
	}
	for what, q := range map[string]string{
		"breached handoffs":        `SELECT COUNT(*) FROM handoffs WHERE breached_at IS NOT NULL`,
		"handoffs met in time":     `SELECT COUNT(*) FROM handoffs WHERE met = 1`,
		"rejections with reasons":  `SELECT COUNT(*) FROM lead_history WHERE action = 'stage' AND to_value IN ('recycled', 'disqualified') AND reason <> ''`,
		"contact attempts":         `SELECT COUNT(*) FROM attempts`,
		"BANT records":             `SELECT COUNT(*) FROM bant`,
		"opportunities from SQLs":  `SELECT COUNT(*) FROM opportunities WHERE lead_id IS NOT NULL`,
		"lost with a reason":       `SELECT COUNT(*) FROM lead_history WHERE action = 'stage' AND to_value = 'lost' AND reason <> ''`,
		"escalations":              `SELECT COUNT(*) FROM notifications WHERE kind = 'escalated'`,
		"policy promotions":        `SELECT COUNT(*) FROM lead_history WHERE to_value = 'mql' AND reason LIKE 'policy v1:%'`,
		"on a nurture track":       `SELECT COUNT(*) FROM leads WHERE nurture_track <> ''`,
		"back from nurture as MQL": `SELECT COUNT(*) FROM lead_history WHERE action = 'stage' AND from_value = 'recycled' AND to_value = 'mql'`,
		"back from nurture and won": `SELECT COUNT(DISTINCT h.lead_id) FROM lead_history h JOIN leads l ON l.id = h.lead_id
			WHERE h.action = 'stage' AND h.from_value = 'recycled' AND h.to_value = 'mql' AND l.stage = 'won'`,
	} {
		n := count(q)
		t.Logf("%-26s %6d", what, n)
		if n == 0 {
			t.Errorf("no %s", what)
		}
	}
	checkFunnel(t, db, count)
	checkPeople(t, count)
	checkBreachesCluster(t, db)
	checkModel(t, db)
	checkDeliveries(t, db)
	// Each report on the demo data matches its golden file (the demo is the
	// same every time for the same "now").
	sys := storetest.System()
	for _, name := range baton.ReportNames {
		rep, err := db.RunReport(sys, name, baton.ReportFilter{})
		if err != nil {
			t.Fatalf("report %s: %v", name, err)
		}
		var buf bytes.Buffer
		if err := rep.WriteCSV(&buf); err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "report_"+name+".golden")
		if *update {
			os.MkdirAll("testdata", 0o755)
			if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./demo -update to write it)", err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("report %s differs from %s:\n%s", name, golden, buf.String())
		}
	}
}
