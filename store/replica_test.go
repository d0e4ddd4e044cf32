package store_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// replicaUsed waits until the store's check of the replica says used, as
// Health reports it, and returns that report.
func replicaUsed(t *testing.T, db *store.DB, used bool) baton.ReplicaHealth {
	t.Helper()
	for {
		h := db.Health(context.Background())
		if len(h.Replicas) != 1 {
			t.Fatalf("health lists %d replicas, want 1: %+v", len(h.Replicas), h)
		}
		if h.Replicas[0].Used == used {
			return h.Replicas[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// reads returns the read transactions so far, on the primary and on
// replicas, as the metrics count them; the reading of them counts one.
func reads(t *testing.T, db *store.DB) (primary, replica int64) {
	t.Helper()
	s, err := db.Stats(storetest.System())
	if err != nil {
		t.Fatal(err)
	}
	return s.Counts.Reads["primary"], s.Counts.Reads["replica"]
}

// leadsMatching counts the leads the user's list shows for a query.
func leadsMatching(t *testing.T, db *store.DB, u *baton.User, q string) int {
	t.Helper()
	_, total, err := db.FindLeads(storetest.As(u), baton.LeadFilter{Query: q})
	if err != nil {
		t.Fatalf("list leads as %s: %v", u.Email, err)
	}
	return total
}

// TestReadReplica runs a store on a primary with a hot standby as its read
// replica: lists and reports read the standby, writes and the writer's own
// reads the primary, and a standby that falls behind or is down leaves
// its reads to the primary.
func TestReadReplica(t *testing.T) {
	primaryDSN, replicaDSN := storetest.NewReplicaSchema(t)
	ctx := context.Background()
	db, err := store.OpenWith(ctx, primaryDSN, store.Options{ReadDSNs: []string{replicaDSN}, MaxLag: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	tm := storetest.SeedTeam(t, db)
	standby, err := sql.Open("pgx", replicaDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer standby.Close()

	// The standby is one, and refuses writes.
	var recovering bool
	if err := standby.QueryRow(`SELECT pg_is_in_recovery()`).Scan(&recovering); err != nil || !recovering {
		t.Fatalf("pg_is_in_recovery() on the replica: %v, %v; want true", recovering, err)
	}
	_, err = standby.Exec(`CREATE TABLE refused (id INTEGER)`)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "25006" {
		t.Fatalf("a write on the standby: %v, want SQLSTATE 25006 (read-only)", err)
	}

	storetest.CaughtUp(t, db.SQL(), standby)
	replicaUsed(t, db, true)

	t.Run("lists and reports read the standby", func(t *testing.T) {
		p0, r0 := reads(t, db)
		leadsMatching(t, db, tm.Marketing, "")
		if _, err := db.Funnel(storetest.As(tm.Manager1), baton.ReportFilter{}); err != nil {
			t.Fatal(err)
		}
		p1, r1 := reads(t, db)
		// Two reads of the counts and the two reads in between.
		if p1 != p0 || r1-r0 != 3 {
			t.Errorf("reads on primary, replica went from %d, %d to %d, %d; want the 3 after the first on the replica", p0, r0, p1, r1)
		}
		// A lead's page is read from the primary.
		l := storetest.MustLead(t, db, &baton.Lead{Email: "page@example.com"})
		p0, r0 = reads(t, db)
		if _, err := db.FindLeadByID(storetest.As(tm.Marketing), l.ID); err != nil {
			t.Fatal(err)
		}
		p1, r1 = reads(t, db)
		if p1-p0 != 1 || r1-r0 != 1 {
			t.Errorf("reads on primary, replica went from %d, %d to %d, %d; want one on each", p0, r0, p1, r1)
		}
	})

	t.Run("the lag window, and read-your-writes", func(t *testing.T) {
		// With replay paused the standby keeps what it had: a write on
		// the primary shows there once replay resumes, not before.
		if _, err := standby.Exec(`SELECT pg_wal_replay_pause()`); err != nil {
			t.Fatal(err)
		}
		resumed := false
		resume := func() {
			if !resumed {
				resumed = true
				if _, err := standby.Exec(`SELECT pg_wal_replay_resume()`); err != nil {
					t.Fatal(err)
				}
			}
		}
		defer resume()
		if err := db.CreateLead(storetest.As(tm.Admin), &baton.Lead{Email: "lagging@example.com", Source: "web"}); err != nil {
			t.Fatalf("a write while the standby lags: %v", err)
		}
		if n := leadsMatching(t, db, tm.Marketing, "lagging@"); n != 0 {
			t.Fatalf("marketing's list shows %d new leads while the standby's replay is paused: it did not read the standby", n)
		}
		// The writer reads the primary for a while after its write.
		if n := leadsMatching(t, db, tm.Admin, "lagging@"); n != 1 {
			t.Fatalf("the writer's own list shows %d of the lead it just made, want 1", n)
		}
		// Writes go on while the standby lags, and never to it.
		for i := range 3 {
			if _, err := db.RecordEvents(storetest.As(tm.Admin), []baton.EventInput{{ID: "e" + string(rune('0'+i)), Email: "lagging@example.com", Type: "page_view", OccurredAt: time.Now()}}); err != nil {
				t.Fatalf("events while the standby lags: %v", err)
			}
		}
		resume()
		storetest.CaughtUp(t, db.SQL(), standby)
		if n := leadsMatching(t, db, tm.Marketing, "lagging@"); n != 1 {
			t.Fatalf("marketing's list shows %d of the lead once the standby caught up, want 1", n)
		}
	})

	t.Run("a standby past the bound is left out", func(t *testing.T) {
		tight, err := store.OpenWith(ctx, primaryDSN, store.Options{ReadDSNs: []string{replicaDSN}, MaxLag: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer tight.Close()
		replicaUsed(t, tight, true)
		if _, err := standby.Exec(`SELECT pg_wal_replay_pause()`); err != nil {
			t.Fatal(err)
		}
		defer standby.Exec(`SELECT pg_wal_replay_resume()`)
		storetest.MustLead(t, tight, &baton.Lead{Email: "behind@example.com"})
		h := replicaUsed(t, tight, false)
		if h.Problem == "" || h.LagSeconds < 0.3 {
			t.Errorf("health of a lagging replica: %+v, want its lag and the problem", h)
		}
		p0, r0 := reads(t, tight)
		if n := leadsMatching(t, tight, tm.Marketing, "behind@"); n != 1 {
			t.Errorf("marketing's list shows %d of the lead while the standby is past the bound, want 1 (from the primary)", n)
		}
		p1, r1 := reads(t, tight)
		if p1-p0 != 2 || r1 != r0 {
			t.Errorf("reads on primary, replica went from %d, %d to %d, %d; want both on the primary", p0, r0, p1, r1)
		}
	})
}

// TestReadReplicaDown: a replica that does not answer leaves its reads to
// the primary, and says so.
func TestReadReplicaDown(t *testing.T) {
	primaryDSN := storetest.NewPostgresSchema(t)
	ctx := context.Background()
	// Port 1 on this machine answers nothing.
	db, err := store.OpenWith(ctx, primaryDSN, store.Options{ReadDSNs: []string{"postgres://baton:secret@127.0.0.1:1/baton?sslmode=disable&connect_timeout=2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	tm := storetest.SeedTeam(t, db)
	storetest.MustLead(t, db, &baton.Lead{Email: "down@example.com"})
	if n := leadsMatching(t, db, tm.Marketing, "down@"); n != 1 {
		t.Errorf("the list shows %d leads with the replica down, want 1", n)
	}
	h := db.Health(ctx)
	if !h.Reachable || !h.Writable || len(h.Replicas) != 1 || h.Replicas[0].Used || h.Replicas[0].Problem == "" {
		t.Fatalf("health with the replica down: %+v", h)
	}
	if r := h.Replicas[0]; r.Name != "127.0.0.1:1/baton" {
		t.Errorf("the replica is named %q, want its host and database without credentials", r.Name)
	}
	// A replica must be PostgreSQL too.
	if db, err := store.OpenWith(ctx, primaryDSN, store.Options{ReadDSNs: []string{"replica.db"}}); err == nil {
		db.Close()
		t.Error("opened with an SQLite file as a replica")
	} else if f := baton.ErrorField(err); f != "read-db" {
		t.Errorf("error %v names the field %q, want read-db", err, f)
	}
}

// TestReadDBNeedsPostgres: replicas of an SQLite file are refused, naming
// the flag.
func TestReadDBNeedsPostgres(t *testing.T) {
	db, err := store.OpenWith(context.Background(), t.TempDir()+"/baton.db", store.Options{ReadDSNs: []string{"postgres://127.0.0.1:1/x"}})
	if err == nil {
		db.Close()
		t.Fatal("an SQLite database opened with a replica")
	}
	if f := baton.ErrorField(err); f != "read-db" {
		t.Errorf("error %v names the field %q, want read-db", err, f)
	}
}
