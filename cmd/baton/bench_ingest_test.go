package main

import (
	"context"
	"database/sql"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/storetest"
)

// TestBenchFloorIngest sends events to each floor of the ingest section, as
// another process, and checks what each stored: every event once, by lead
// where it stores them by lead, and a point per event in the leads' score
// rows where it scores. A floor that lost or skipped work would flatter
// Baton's ratio to it.
func TestBenchFloorIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds baton and starts its floors (-short)")
	}
	bin, err := loadBinary()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b := &bench{Dir: t.TempDir(), Exe: bin, Log: io.Discard}
	bodies := ingestBodies(rand.New(rand.NewPCG(1, 2)), time.Now())[:4]
	const events = 4 * ingestBatch
	type backend struct {
		name  string
		dsn   func(run string) string
		count func(t *testing.T, dsn, query string) float64
	}
	backends := []backend{{"sqlite", func(run string) string { return filepath.Join(b.Dir, run+".db") },
		func(t *testing.T, dsn, query string) float64 {
			db, err := sql.Open("sqlite", dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var n float64
			if err := db.QueryRow(query).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}}}
	if pg := os.Getenv(storetest.PostgresEnv); pg != "" {
		backends = append(backends, backend{"postgres", func(run string) string {
			dsn, err := ingestSchema(ctx, pg, "bench_floor_test_"+run)
			if err != nil {
				t.Fatal(err)
			}
			return dsn
		}, func(t *testing.T, dsn, query string) float64 {
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			var n float64
			if err := conn.QueryRow(ctx, query).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}})
	} else {
		t.Log("PostgreSQL skipped: " + storetest.PostgresEnv + " is not set")
	}
	for _, be := range backends {
		for _, c := range []struct {
			run    string
			flags  []string
			checks map[string]float64 // query: want
		}{
			{"bare", nil, map[string]float64{`SELECT COUNT(*) FROM events`: events}},
			{"bylead", []string{"--by-lead"}, map[string]float64{
				`SELECT COUNT(*) FROM lead_events`:                                          events,
				`SELECT COUNT(*) FROM lead_events e JOIN floor_leads l ON l.id = e.lead_id`: events,
				`SELECT COUNT(*) FROM floor_leads`:                                          ingestLeads,
			}},
			{"scored", []string{"--scored"}, map[string]float64{
				`SELECT COUNT(*) FROM events`:        events,
				`SELECT SUM(engagement) FROM scores`: events,
			}},
		} {
			t.Run(be.name+"/"+c.run, func(t *testing.T) {
				dsn := be.dsn(c.run)
				rate, _, err := ingestFloor(ctx, b, dsn, bodies, c.flags...)
				if err != nil {
					t.Fatal(err)
				}
				if rate <= 0 {
					t.Errorf("rate %v", rate)
				}
				for q, want := range c.checks {
					if got := be.count(t, dsn, q); got != want {
						t.Errorf("%s: %v, want %v", q, got, want)
					}
				}
			})
		}
	}
}
