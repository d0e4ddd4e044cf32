package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/api"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

const benchLeads = 10000

// benchDB is a fresh database in dir with benchLeads leads whose external
// ids are ext-0 ... ext-9999, and an admin's token.
func benchDB(b *testing.B, dir string) (*store.DB, string) {
	b.Helper()
	return benchSeed(b, openDB(b, dir))
}

// benchSeed gives a fresh database the benchmark's admin and leads.
func benchSeed(b *testing.B, db *store.DB) (*store.DB, string) {
	b.Helper()
	u := &baton.User{Email: "admin@baton.test", Name: "Admin", Role: baton.RoleAdmin}
	if err := db.CreateUser(sys(), u); err != nil {
		b.Fatal(err)
	}
	tok, err := db.CreateToken(sys(), u.ID, "bench")
	if err != nil {
		b.Fatal(err)
	}
	leads := make([]*baton.Lead, benchLeads)
	for i := range leads {
		leads[i] = &baton.Lead{ExternalID: "ext-" + strconv.Itoa(i), Name: "Lead " + strconv.Itoa(i), Source: "web"}
	}
	if res, err := db.ImportLeads(sys(), leads); err != nil || res.Created != benchLeads {
		b.Fatalf("import leads: %+v %v", res, err)
	}
	return db, tok
}

// eventBatch is the JSON array of baton.MaxEventBatch events of batch n,
// one per lead, with ids unique across batches.
func eventBatch(n int) []byte {
	var buf bytes.Buffer
	buf.Grow(baton.MaxEventBatch * 190)
	buf.WriteByte('[')
	at := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range baton.MaxEventBatch {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `{"id":"b%d-e%d","external_id":"ext-%d","type":"pricing_page_view","occurred_at":%q,"properties":{"path":"/pricing","seconds":%d}}`,
			n, i, i%benchLeads, at.Add(time.Duration(i)*time.Second).Format(time.RFC3339), i%300)
	}
	buf.WriteByte(']')
	return buf.Bytes()
}

// floorRows are the rows the floor inserts for batch n: what RecordEvents
// stores for eventBatch(n) (lead ids are 1..benchLeads by import order).
func floorRows(n int) [][6]any {
	at := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	received := time.Now().UnixMicro()
	rows := make([][6]any, baton.MaxEventBatch)
	for i := range rows {
		rows[i] = [6]any{int64(i%benchLeads + 1), fmt.Sprintf("b%d-e%d", n, i), "pricing_page_view",
			at.Add(time.Duration(i) * time.Second).UnixMicro(), fmt.Sprintf(`{"path":"/pricing","seconds":%d}`, i%300), received}
	}
	return rows
}

// apiIngest posts one batch and checks that every event landed.
func apiIngest(b *testing.B, client *http.Client, url, tok string, body []byte) {
	req, _ := http.NewRequest("POST", url+"/api/v1/events", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.HasPrefix(out, []byte(`{"created":10000,"duplicates":0,"rejected":0,`)) {
		b.Fatalf("ingest: %d %.300s", resp.StatusCode, out)
	}
}

// floorInsert inserts the rows with plain multi-row INSERTs of 500 rows in
// one transaction, as directly as the driver allows. The placeholders are
// "?": SQLite binds them by position, while "$n" placeholders are names it
// looks up in a list, which makes a 3,000-parameter statement quadratic
// (about 15,000 rows/s instead of 150,000 on the 2-core machine).
func floorInsert(b *testing.B, db *store.DB, rows [][6]any) {
	ctx := context.Background()
	tx, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	const chunk = 500
	var q strings.Builder
	args := make([]any, 0, chunk*6)
	for start := 0; start < len(rows); start += chunk {
		part := rows[start:min(start+chunk, len(rows))]
		q.Reset()
		q.WriteString(`INSERT INTO events (lead_id, client_id, type, occurred_at, properties, received_at) VALUES `)
		args = args[:0]
		for j, r := range part {
			if j > 0 {
				q.WriteByte(',')
			}
			if db.Backend() == store.Postgres {
				n := j*6 + 1
				fmt.Fprintf(&q, "($%d,$%d,$%d,$%d,$%d,$%d)", n, n+1, n+2, n+3, n+4, n+5)
			} else {
				q.WriteString("(?,?,?,?,?,?)")
			}
			args = append(args, r[:]...)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

func benchServer(b *testing.B, db *store.DB) *httptest.Server {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(api.New(api.Services{Users: db, Leads: db, Accounts: db, Events: db, Opportunities: db, Scoring: db, Handoffs: db}, logger).Handler())
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkEventIngest posts 10,000-event arrays to POST /api/v1/events
// over HTTP, into SQLite.
func BenchmarkEventIngest(b *testing.B) {
	db, tok := benchDB(b, b.TempDir())
	srv := benchServer(b, db)
	var elapsed time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		body := eventBatch(i)
		b.StartTimer()
		start := time.Now()
		apiIngest(b, srv.Client(), srv.URL, tok, body)
		elapsed += time.Since(start)
	}
	b.ReportMetric(float64(b.N*baton.MaxEventBatch)/elapsed.Seconds(), "events/s")
}

// BenchmarkEventInsertFloor inserts the same rows into the events table of a
// fresh database with plain multi-row INSERTs in one transaction: the
// fastest the driver stores them, with no HTTP, JSON, checks or lookups.
func BenchmarkEventInsertFloor(b *testing.B) {
	db, _ := benchDB(b, b.TempDir())
	var elapsed time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		rows := floorRows(i)
		b.StartTimer()
		start := time.Now()
		floorInsert(b, db, rows)
		elapsed += time.Since(start)
	}
	b.ReportMetric(float64(b.N*baton.MaxEventBatch)/elapsed.Seconds(), "events/s")
}

// benchPolicy makes every event score: one engagement rule for the
// benchmark's event type, and an MQL rule no lead reaches (so that the run
// measures scoring, not routing).
const benchPolicy = `
name: Benchmark
fit:
  - {name: Web, field: source, equals: web, points: 10}
engagement:
  half_life: 30d
  rules:
    - {name: Pricing, event: pricing_page_view, points: 1}
mql:
  fit: 10
  engagement: 1000000
`

// BenchmarkIngestVsFloorBackends measures ingest through the API against
// the plain INSERT floor of the same run, on SQLite and on PostgreSQL
// (BATON_TEST_POSTGRES_URL), without a policy and with one that scores
// every event in the ingest transaction.
func BenchmarkIngestVsFloorBackends(b *testing.B) {
	for _, backend := range storetest.Backends {
		for _, scored := range []bool{false, true} {
			name := backend.Name + "/bare"
			if scored {
				name = backend.Name + "/scored"
			}
			b.Run(name, func(b *testing.B) {
				apiDB, tok := benchSeed(b, backend.Open(b))
				floorDB, _ := benchSeed(b, backend.Open(b))
				if scored {
					if _, err := apiDB.PublishDocument(sys(), benchPolicy); err != nil {
						b.Fatal(err)
					}
					if _, err := apiDB.RescoreAll(sys()); err != nil {
						b.Fatal(err)
					}
				}
				srv := benchServer(b, apiDB)
				var apiTime, floorTime time.Duration
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					body, rows := eventBatch(i), floorRows(i)
					b.StartTimer()
					start := time.Now()
					apiIngest(b, srv.Client(), srv.URL, tok, body)
					mid := time.Now()
					floorInsert(b, floorDB, rows)
					apiTime, floorTime = apiTime+mid.Sub(start), floorTime+time.Since(mid)
				}
				events := float64(b.N * baton.MaxEventBatch)
				b.ReportMetric(events/apiTime.Seconds(), "api-events/s")
				b.ReportMetric(events/floorTime.Seconds(), "floor-events/s")
				b.ReportMetric(floorTime.Seconds()/apiTime.Seconds(), "ratio")
			})
		}
	}
}
