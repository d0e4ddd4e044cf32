package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The pg-instances section: several `baton serve` on one PostgreSQL take
// more events per second than one. The floor is one instance, measured in
// the same run with the same clients; then three instances share them.
var benchPGInstances = benchSection{
	Name:     "pg-instances",
	About:    "events/s of 3 baton serve on one PostgreSQL against 1 (--pg)",
	Postgres: true,
	Run:      runBenchPGInstances,
}

// benchPGPolicy scores every event type the clients send, with an MQL rule
// no lead reaches: the figure is storing and scoring events, not routing.
const benchPGPolicy = `
name: Bench
owner: ops@example.com
fit:
  - {name: Web, field: source, equals: web, points: 10}
  - {name: Senior, field: title, contains: VP, points: 20}
engagement:
  half_life: 30d
  rules:
    - {name: Visit, event: page_view, points: 1, cap: {points: 10, per: 7d}}
    - {name: Pricing, event: pricing_page_view, points: 5}
    - {name: Opened, event: email_open, points: 1}
    - {name: Clicked, event: email_click, points: 2}
mql:
  fit: 30
  engagement: 1000000
`

const (
	// benchPGClients send batches at once, spread over the instances.
	benchPGClients = 6
	// benchPGBatch is the events of one request.
	benchPGBatch = 1000
)

func runBenchPGInstances(ctx context.Context, b *bench) ([]benchRow, error) {
	dsn, drop, err := b.freshPGDatabase(ctx, "instances")
	if err != nil {
		return nil, err
	}
	defer drop()
	leads := min(b.Leads, 100000)
	csv, err := b.LeadsCSV(leads)
	if err != nil {
		return nil, err
	}
	pol := filepath.Join(b.Dir, "pg-instances-policy.yaml")
	if err := os.WriteFile(pol, []byte(benchPGPolicy), 0o644); err != nil {
		return nil, err
	}
	for _, args := range [][]string{
		{"migrate", "--db", dsn},
		{"user", "add", "--email", "ops@example.com", "--name", "Ops", "--role", "admin", "--db", dsn},
		{"import", "leads", csv, "--db", dsn},
		{"policy", "publish", pol, "--now", "--db", dsn},
	} {
		if _, err := b.Run(ctx, args...); err != nil {
			return nil, err
		}
	}
	out, err := b.Run(ctx, "token", "create", "--email", "ops@example.com", "--db", dsn)
	if err != nil {
		return nil, err
	}
	token := strings.TrimSpace(string(out.Output))
	// Enough batches that a run lasts long enough to be steady: 100 at
	// the full size, fewer on a small --leads.
	batches := max(10, min(100, leads/1000))
	load := &pgLoad{token: token, leads: leads}
	// A warm-up, then the statistics of the filled tables: the first
	// touches of freshly imported rows (hint bits, autovacuum's analyse)
	// would otherwise be paid by the first phase only.
	if _, err := load.phase(ctx, b, dsn, 1, max(5, batches/10), "warm"); err != nil {
		return nil, err
	}
	if err := pgExec(ctx, dsn, `VACUUM ANALYZE`); err != nil {
		return nil, err
	}
	// One instance before and after three, so that a database growing (or
	// a machine getting busier) does not favour either; the floor is the
	// mean of the two.
	var got []pgPhase
	for i, n := range []int{1, 3, 1} {
		p, err := load.phase(ctx, b, dsn, n, batches, fmt.Sprintf("p%d", i))
		if err != nil {
			return nil, err
		}
		got = append(got, p)
	}
	one, three := (got[0].rate+got[2].rate)/2, got[1].rate
	perK := func(p pgPhase) float64 { return p.cpu.Seconds() * 1e6 / float64(batches*benchPGBatch) }
	return []benchRow{{
		Figure: fmt.Sprintf("events/s, 3 baton serve on one PostgreSQL (%d clients, batches of %d, %d leads)", benchPGClients, benchPGBatch, leads),
		Unit:   "events/s", Value: three, Floor: one, FloorName: "1 instance",
		MinRatio: 1.0001,
		Note: fmt.Sprintf("1 instance %s then %s events/s; 429s %d/%d/%d; baton CPU per 1,000 events %.0f/%.0f/%.0f ms",
			benchNum(got[0].rate), benchNum(got[2].rate), got[0].shed, got[1].shed, got[2].shed, perK(got[0]), perK(got[1]), perK(got[2])),
	}}, nil
}

// pgPhase is how one phase of pg-instances went.
type pgPhase struct {
	rate float64       // events/s
	shed int64         // requests answered 429 or 503, retried
	cpu  time.Duration // of the baton serve processes
}

// phase starts n instances on dsn, sends them batches and stops them.
func (l *pgLoad) phase(ctx context.Context, b *bench, dsn string, n, batches int, tag string) (pgPhase, error) {
	var servers []*benchServer
	stop := func() (cpu time.Duration) {
		for _, s := range servers {
			s.Stop()
			if ps := s.cmd.ProcessState; ps != nil {
				cpu += ps.UserTime() + ps.SystemTime()
			}
		}
		return cpu
	}
	for range n {
		// Room for every client at once, so that one instance is not
		// measured waiting out the Retry-After of requests it shed.
		s, err := b.Serve(ctx, dsn, "--max-writes", strconv.Itoa(benchPGClients))
		if err != nil {
			stop()
			return pgPhase{}, err
		}
		servers = append(servers, s)
	}
	fmt.Fprintf(b.Log, "bench: pg-instances: %d instance(s), %d clients, %d batches of %d events\n", n, benchPGClients, batches, benchPGBatch)
	took, err := l.drive(ctx, servers, batches, tag)
	cpu := stop()
	if err != nil {
		return pgPhase{}, err
	}
	return pgPhase{rate: float64(batches*benchPGBatch) / took.Seconds(), shed: l.shed.Swap(0), cpu: cpu}, nil
}

// pgExec runs one statement on dsn.
func pgExec(ctx context.Context, dsn, q string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	return nil
}

// freshPGDatabase makes an empty database beside the one of --pg, for a
// section that needs a schema of its own, and returns its URL and a
// function that drops it.
func (b *bench) freshPGDatabase(ctx context.Context, suffix string) (string, func(), error) {
	u, err := url.Parse(b.PG)
	if err != nil {
		return "", nil, fmt.Errorf("--pg: %w", err)
	}
	admin, err := sql.Open("pgx", b.PG)
	if err != nil {
		return "", nil, fmt.Errorf("--pg: %w", err)
	}
	name := "baton_bench_" + suffix
	if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("--pg: drop %s: %w", name, err)
	}
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("--pg: create a database of its own (%s): %w", name, err)
	}
	u.Path = "/" + name
	drop := func() {
		admin.ExecContext(context.WithoutCancel(ctx), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
		admin.Close()
	}
	return u.String(), drop, nil
}

// pgLoad sends event batches of random leads to a set of servers.
type pgLoad struct {
	token string
	leads int
	shed  atomic.Int64
}

// drive sends batches from benchPGClients concurrent clients, client
// i to server i mod len(servers), and returns the wall time. A 429 or 503
// is retried after its Retry-After, as a client should.
func (l *pgLoad) drive(ctx context.Context, servers []*benchServer, batches int, tag string) (time.Duration, error) {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchPGClients}}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, benchPGClients)
	start := time.Now()
	for c := range benchPGClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := servers[c%len(servers)]
			r := rand.New(rand.NewPCG(uint64(c), 19))
			for {
				n := next.Add(1)
				if n > int64(batches) || ctx.Err() != nil {
					return
				}
				body := benchEvents(r, fmt.Sprintf("%s-%d", tag, n), benchPGBatch, l.leads)
				if err := l.send(ctx, hc, s.URL, body); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return took, ctx.Err()
}

func (l *pgLoad) send(ctx context.Context, hc *http.Client, base string, body []byte) error {
	for {
		req, err := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/events", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+l.token)
		req.Header.Set("Content-Type", "application/json")
		res, err := hc.Do(req)
		if err != nil {
			return err
		}
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		res.Body.Close()
		switch res.StatusCode {
		case http.StatusOK:
			return nil
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			l.shed.Add(1)
			wait, _ := strconv.Atoi(res.Header.Get("Retry-After"))
			select {
			case <-time.After(time.Duration(max(wait, 1)) * time.Second):
			case <-ctx.Done():
				return ctx.Err()
			}
		default:
			return fmt.Errorf("POST /api/v1/events: %d %s", res.StatusCode, msg)
		}
	}
}

// benchEvents is a JSON batch of n events of random leads (by id, 1 to
// leads), types and times over the last 90 days, with ids unique to tag.
func benchEvents(r *rand.Rand, tag string, n, leads int) []byte {
	types := []string{"page_view", "page_view", "page_view", "pricing_page_view", "email_open", "email_click"}
	now := time.Now().UTC()
	var buf bytes.Buffer
	buf.Grow(n * 160)
	buf.WriteByte('[')
	for i := range n {
		if i > 0 {
			buf.WriteByte(',')
		}
		at := now.Add(-time.Duration(r.Int64N(int64(90 * 24 * time.Hour))))
		fmt.Fprintf(&buf, `{"id":"%s-%d","lead_id":%d,"type":"%s","occurred_at":"%s","properties":{"path":"/p/%d"}}`,
			tag, i, 1+r.IntN(leads), types[r.IntN(len(types))], at.Format(time.RFC3339), r.IntN(500))
	}
	buf.WriteByte(']')
	return buf.Bytes()
}
