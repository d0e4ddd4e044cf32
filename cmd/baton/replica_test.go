package main

import (
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/storetest"
)

// TestServeReadReplica starts `baton serve` with two replicas, a hot
// standby and one that is down: /readyz stays 200 and lists both, the
// lead list reads the standby (the metrics count it), writes succeed
// through it all, and the one down is named with its problem.
func TestServeReadReplica(t *testing.T) {
	primary, replica := storetest.NewReplicaSchema(t)
	mustRun(t, "migrate", "--db", primary)
	token := adminToken(t, primary)
	importLeads(t, primary, 50)
	p, err := sql.Open("pgx", primary)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r, err := sql.Open("pgx", replica)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	storetest.CaughtUp(t, p, r)

	down := "postgres://baton:secret@127.0.0.1:1/baton?sslmode=disable"
	s := serve(t, primary, "--read-db", replica+","+down)
	var h baton.Health
	for {
		code, got := healthOf(t, s.base)
		if code != http.StatusOK {
			t.Fatalf("/healthz %d with a replica down: %+v", code, got)
		}
		if len(got.Replicas) != 2 {
			t.Fatalf("/healthz lists %d replicas, want 2: %+v", len(got.Replicas), got)
		}
		if got.Replicas[0].Used {
			h = got
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d := h.Replicas[1]; d.Used || d.Problem == "" || strings.Contains(d.Name, "secret") {
		t.Errorf("the replica that is down: %+v, want it unused, its problem said, no password", d)
	}

	get := func(path string) (int, string) {
		req, _ := http.NewRequest("GET", s.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	replicaReads := func() int {
		code, body := get("/metrics")
		if code != http.StatusOK {
			t.Fatalf("/metrics: %d", code)
		}
		m := regexp.MustCompile(`(?m)^baton_db_read_transactions_total\{on="replica"\} (\d+)`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("/metrics has no read count of the replica:\n%s", body)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	before := replicaReads()
	code, body := get("/api/v1/leads?limit=100")
	var leads struct{ Total int }
	json.Unmarshal([]byte(body), &leads)
	if code != http.StatusOK || leads.Total != 50 {
		t.Fatalf("lead list: %d, %d leads, want 50: %s", code, leads.Total, body)
	}
	// The list, and the read of the metrics' own gauges.
	if after := replicaReads(); after-before != 2 {
		t.Errorf("reads on the replica went from %d to %d, want 2 more", before, after)
	}
	// A write, and the writer's reads after it, never meet the standby.
	if code, body := post(t, s.base+"/api/v1/events", token, eventBatch("r", 100, 50)); code != http.StatusOK {
		t.Fatalf("events with a replica: %d %s", code, body)
	}
	if code, body := get("/api/v1/reports/funnel"); code != http.StatusOK {
		t.Fatalf("a report right after a write: %d %s", code, body)
	}
}
