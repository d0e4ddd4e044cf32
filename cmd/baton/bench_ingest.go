package main

// The ingest section of `baton bench`: events sent over HTTP by this
// process to `baton serve` in another, with the default policy in force and
// with none, beside a bare endpoint (`baton bench-floor ingest`, a process
// of its own too) that only decodes the same JSON and inserts the rows,
// with a unique client id, into the same database.

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/store"
)

var ingestSection = benchSection{
	Name:  "ingest",
	About: "300,000 events over HTTP from another process, scored and not, beside a bare endpoint (SQLite; PostgreSQL with --pg)",
	Run:   benchIngest,
}

// The load, as the issue puts it: 300,000 events in batches of 1,000 from 4
// clients at once, to 10,000 leads, at times over the last 90 days.
const (
	ingestEvents  = 300_000
	ingestBatch   = 1000
	ingestClients = 4
	ingestLeads   = 10_000
)

func benchIngest(ctx context.Context, b *bench) ([]benchRow, error) {
	bodies := ingestBodies(rand.New(rand.NewPCG(19, 2)), time.Now())
	leads := filepath.Join(b.Dir, "ingest-leads.csv")
	if err := os.WriteFile(leads, ingestLeadsCSV(), 0o644); err != nil {
		return nil, err
	}
	pol := filepath.Join(b.Dir, "ingest-policy.yaml")
	if err := os.WriteFile(pol, policy.DefaultDocument(), 0o644); err != nil {
		return nil, err
	}
	type backend struct {
		name, floorName string
		db              func(run string) (string, error)
	}
	backends := []backend{{"SQLite", "bare endpoint", func(run string) (string, error) {
		return filepath.Join(b.Dir, "ingest-"+run+".db"), nil
	}}}
	if b.PG != "" {
		backends = append(backends, backend{"PostgreSQL", "bare endpoint, COPY", func(run string) (string, error) {
			return ingestSchema(ctx, b.PG, "bench_ingest_"+run)
		}})
	} else {
		fmt.Fprintln(b.Log, "bench: ingest on PostgreSQL skipped: it needs --pg")
	}
	var rows []benchRow
	for _, be := range backends {
		// The floor runs before and after Baton, and the faster of the two
		// counts: a machine that slowed down meanwhile does not flatter Baton.
		// Two more floors say what the targets cost whatever does the work:
		// the bare endpoint storing the events by lead as Baton's table
		// keeps them (the least an unscored Baton does), and keeping a score
		// row per lead as well (the least scoring each batch's leads in its
		// transaction adds).
		var floor, floorCPU, leadFloor, leadFloorCPU, scoredFloor, scoredFloorCPU float64
		var rates, cpus [2]float64
		for i, run := range []string{"floor1", "none", "scored", "leadfloor", "scoredfloor", "floor2"} {
			dsn, err := be.db(run)
			if err != nil {
				return nil, err
			}
			var rate, cpu float64
			switch {
			case run == "leadfloor":
				rate, cpu, err = ingestFloor(ctx, b, dsn, bodies, "--by-lead")
				leadFloor, leadFloorCPU = rate, cpu
			case run == "scoredfloor":
				rate, cpu, err = ingestFloor(ctx, b, dsn, bodies, "--scored")
				scoredFloor, scoredFloorCPU = rate, cpu
			case strings.HasPrefix(run, "floor"):
				rate, cpu, err = ingestFloor(ctx, b, dsn, bodies)
				if rate > floor {
					floor, floorCPU = rate, cpu
				}
			default:
				rate, cpu, err = ingestBaton(ctx, b, strings.ToLower(be.name)+"-"+run, dsn, leads, pol, run == "scored", bodies)
				rates[i-1], cpus[i-1] = rate, cpu
			}
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", be.name, run, err)
			}
			fmt.Fprintf(b.Log, "bench: ingest %s %s: %.0f events/s, server CPU %.1f µs/event\n", be.name, run, rate, cpu)
		}
		// The server's CPU time per event, beside the floor's, says what the
		// rate would be on an idle machine better than the rate does on a
		// busy one (it leaves out waits for the disk).
		note := func(cpu float64) string {
			return fmt.Sprintf("server CPU %.1f µs/event (floor %.1f)", cpu, floorCPU)
		}
		rows = append(rows,
			benchRow{Figure: fmt.Sprintf("ingest 300,000 events, no policy (%s)", be.name), Unit: "events/s", Value: rates[0],
				Floor: floor, FloorName: be.floorName, MinRatio: 0.8, Note: note(cpus[0])},
			benchRow{Figure: fmt.Sprintf("ingest 300,000 events, default policy (%s)", be.name), Unit: "events/s", Value: rates[1],
				Floor: floor, FloorName: be.floorName, MinRatio: 0.5, Note: note(cpus[1])},
			benchRow{Figure: fmt.Sprintf("bare endpoint storing events by lead (%s)", be.name), Unit: "events/s", Value: leadFloor,
				Floor: floor, FloorName: be.floorName, MinRatio: 0.8,
				Note: fmt.Sprintf("the storage Baton's events need (indexed by lead, unique per lead), Baton unscored at %.2f of it; ", rates[0]/leadFloor) + note(leadFloorCPU)},
			benchRow{Figure: fmt.Sprintf("bare endpoint keeping a score row per lead (%s)", be.name), Unit: "events/s", Value: scoredFloor,
				Floor: floor, FloorName: be.floorName, MinRatio: 0.5,
				Note: fmt.Sprintf("what scoring in the batch's transaction adds, Baton scored at %.2f of it; ", rates[1]/scoredFloor) + note(scoredFloorCPU)})
	}
	return rows, nil
}

// ingestLeadsCSV is the leads the events go to. One in five is a head of
// sales referred from India, whom the default policy's fit rules give 30
// points (10 + 20 + 10, less 10 for no occupation): those become MQLs once
// engaged, as in a real account, and are routed.
func ingestLeadsCSV() []byte {
	var buf bytes.Buffer
	buf.WriteString("email,name,title,country,source\n")
	titles := []string{"Analyst", "Engineer", "Product Manager", "VP Marketing", "Head of Sales"}
	sources := []string{"Google", "Direct Traffic", "Organic Search", "Olark Chat", "Reference"}
	countries := []string{"India", "United States", "Singapore", "", "India"}
	for i := range ingestLeads {
		fmt.Fprintf(&buf, "lead%d@ingest.test,Lead %d,%s,%s,%s\n", i, i, titles[i%len(titles)], countries[i%len(countries)], sources[i%len(sources)])
	}
	return buf.Bytes()
}

// ingestBodies makes the batches, the same for every run: events of random
// leads, types and times over the 90 days before now, their ids unique.
func ingestBodies(r *rand.Rand, now time.Time) [][]byte {
	types := []string{"page_view", "page_view", "page_view", "page_view", "email_open", "email_open", "email_click",
		"form_submit", "chat_conversation", "unsubscribe", "email_bounced", "demo_request"}
	paths := []string{"/courses", "/blog/how-to", "/pricing", "/about", "/courses/data-science"}
	bodies := make([][]byte, ingestEvents/ingestBatch)
	for n := range bodies {
		var buf bytes.Buffer
		buf.Grow(ingestBatch * 200)
		buf.WriteByte('[')
		for i := range ingestBatch {
			if i > 0 {
				buf.WriteByte(',')
			}
			at := now.Add(-time.Duration(r.Int64N(int64(90 * 24 * time.Hour)))).UTC()
			fmt.Fprintf(&buf, `{"id":"ev-%d-%d","email":"lead%d@ingest.test","type":"%s","occurred_at":"%s","properties":{"url":"https://example.com%s"}}`,
				n, i, r.IntN(ingestLeads), types[r.IntN(len(types))], at.Format(time.RFC3339Nano), paths[r.IntN(len(paths))])
		}
		buf.WriteByte(']')
		bodies[n] = buf.Bytes()
	}
	return bodies
}

// ingestBaton makes a database with an admin, the leads and (scored) the
// default policy, starts `baton serve` on it and sends the events.
// name names the run in the CPU profile's file when $BATON_BENCH_PROFILE
// names a directory for them.
func ingestBaton(ctx context.Context, b *bench, name, dsn, leads, pol string, scored bool, bodies [][]byte) (rate, cpu float64, err error) {
	if _, err := b.Run(ctx, "user", "add", "--email", "ops@ingest.test", "--name", "Ops", "--role", "admin", "--db", dsn); err != nil {
		return 0, 0, err
	}
	out, err := b.Run(ctx, "token", "create", "--email", "ops@ingest.test", "--db", dsn)
	if err != nil {
		return 0, 0, err
	}
	token := strings.TrimSpace(string(out.Output))
	if _, err := b.Run(ctx, "import", "leads", leads, "--db", dsn); err != nil {
		return 0, 0, err
	}
	if scored {
		if _, err := b.Run(ctx, "policy", "publish", pol, "--now", "--db", dsn); err != nil {
			return 0, 0, err
		}
	}
	var flags []string
	if dir := os.Getenv("BATON_BENCH_PROFILE"); dir != "" {
		// A CPU profile of the server under the load, to see where it goes.
		flags = append(flags, "--cpu-profile", filepath.Join(dir, "ingest-"+name+".pprof"))
	}
	s, err := b.Serve(ctx, dsn, flags...)
	if err != nil {
		return 0, 0, err
	}
	return ingestMeasure(ctx, s, s.URL+"/api/v1/events", token, bodies)
}

// ingestMeasure sends the bodies to a server, stops it, and returns the
// rate and the server's CPU time (from its start to its end) per event in
// microseconds.
func ingestMeasure(ctx context.Context, s *benchServer, url, token string, bodies [][]byte) (float64, float64, error) {
	rate, err := ingestSend(ctx, url, token, bodies)
	s.Stop()
	if err != nil {
		return 0, 0, err
	}
	var cpu float64
	if ps := s.cmd.ProcessState; ps != nil {
		cpu = float64((ps.UserTime() + ps.SystemTime()).Microseconds()) / float64(len(bodies)*ingestBatch)
	}
	return rate, cpu, nil
}

// ingestFloor starts the bare endpoint on dsn, with its flags, and sends
// it the events.
func ingestFloor(ctx context.Context, b *bench, dsn string, bodies [][]byte, flags ...string) (float64, float64, error) {
	s, err := b.Listen(ctx, append([]string{"bench-floor", "ingest", "--db", dsn}, flags...)...)
	if err != nil {
		return 0, 0, err
	}
	return ingestMeasure(ctx, s, s.URL+"/events", "", bodies)
}

// ingestSend posts the bodies from ingestClients clients at once and
// returns the events stored per second. Every answer must be 200 and
// every event created: a lost event would flatter the rate.
func ingestSend(ctx context.Context, url, token string, bodies [][]byte) (float64, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: ingestClients, MaxConnsPerHost: ingestClients}}
	defer client.CloseIdleConnections()
	var next, created atomic.Int64
	errs := make([]error, ingestClients)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range ingestClients {
		wg.Go(func() {
			for {
				n := int(next.Add(1)) - 1
				if n >= len(bodies) || ctx.Err() != nil {
					return
				}
				got, err := ingestPost(ctx, client, url, token, bodies[n])
				if err != nil {
					errs[w] = fmt.Errorf("batch %d: %w", n, err)
					return
				}
				created.Add(int64(got))
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if err := errors.Join(append(errs, ctx.Err())...); err != nil {
		return 0, err
	}
	if want := int64(len(bodies) * ingestBatch); created.Load() != want {
		return 0, fmt.Errorf("%d events created of %d sent", created.Load(), want)
	}
	return float64(created.Load()) / took.Seconds(), nil
}

// ingestPost sends one batch, retrying after a 429 or 503 as a client
// should, and returns how many events the answer says were created.
func ingestPost(ctx context.Context, client *http.Client, url, token string, body []byte) (int, error) {
	for {
		req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		answer, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return 0, err
		}
		switch res.StatusCode {
		case http.StatusOK:
			var got struct {
				Created int `json:"created"`
			}
			if err := json.Unmarshal(answer, &got); err != nil {
				return 0, fmt.Errorf("answer: %w", err)
			}
			return got.Created, nil
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			wait, _ := strconv.Atoi(res.Header.Get("Retry-After"))
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-time.After(time.Duration(max(wait, 1)) * time.Second):
			}
		default:
			return 0, fmt.Errorf("%s: %s", res.Status, bytes.TrimSpace(answer))
		}
	}
}

// ingestSchema creates (anew) a schema on the PostgreSQL server of base and
// returns a URL whose connections use it.
func ingestSchema(ctx context.Context, base, name string) (string, error) {
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", fmt.Errorf("--pg: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+name+` CASCADE; CREATE SCHEMA `+name); err != nil {
		return "", fmt.Errorf("--pg: %w", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("--pg: %w", err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// cmdBenchFloor runs a floor of `baton bench` as a process of its own:
// `baton bench-floor ingest --db DSN --addr ADDR` is the bare events
// endpoint. It is not in the usage: only the bench starts it.
func cmdBenchFloor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "ingest" {
		return errors.New("usage: baton bench-floor ingest --db DSN --addr ADDR")
	}
	fs := flag.NewFlagSet("bench-floor ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("db", "", "an SQLite file or a postgres:// URL")
	scored := fs.Bool("scored", false, "also keep a score row per lead, updated in the batch's transaction")
	byLead := fs.Bool("by-lead", false, "store the events by lead, as Baton's table has them")
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	var insert func(ctx context.Context, events []floorEvent) (int64, error)
	if store.IsPostgres(*dsn) {
		pool, err := pgxpool.New(ctx, *dsn)
		if err != nil {
			return err
		}
		defer pool.Close()
		if _, err := pool.Exec(ctx, floorTable("BIGSERIAL")+`; `+floorScores("BYTEA")+`; `+floorLeadTables("BIGINT", "BIGSERIAL")); err != nil {
			return err
		}
		if _, err := pool.Exec(ctx, `INSERT INTO floor_leads (id, email) SELECT i + 1, 'lead' || i || '@ingest.test'
			FROM generate_series(0, $1::int - 1) i ON CONFLICT DO NOTHING`, ingestLeads); err != nil {
			return err
		}
		insert = func(ctx context.Context, events []floorEvent) (int64, error) {
			if *byLead {
				return floorCopyByLead(ctx, pool, events)
			}
			return floorCopy(ctx, pool, events, *scored)
		}
	} else {
		db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: *dsn}).EscapedPath()+"?_txlock=immediate&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)")
		if err != nil {
			return err
		}
		defer db.Close()
		db.SetMaxOpenConns(1)
		if _, err := db.ExecContext(ctx, floorTable("INTEGER")+`; `+floorScores("BLOB")+`; `+floorLeadTables("INTEGER", "INTEGER")); err != nil {
			return err
		}
		if _, err := db.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
			INSERT INTO floor_leads (id, email) SELECT i + 1, 'lead' || i || '@ingest.test' FROM n WHERE 1 ON CONFLICT DO NOTHING`, ingestLeads); err != nil {
			return err
		}
		insert = func(ctx context.Context, events []floorEvent) (int64, error) {
			if *byLead {
				return floorInsertByLead(ctx, db, events)
			}
			return floorInsert(ctx, db, events, *scored)
		}
	}
	if *byLead || *scored {
		// These floors stand for what Baton's work costs, so they may do
		// what Baton does to spend less: batches that arrive while one is
		// stored are stored together, in one transaction.
		insert = floorGroup(ctx, insert)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST /events", func(w http.ResponseWriter, r *http.Request) {
		var events []floorEvent
		if err := json.NewDecoder(r.Body).Decode(&events); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		n, err := insert(r.Context(), events)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, `{"created":%d}`, n)
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	fmt.Fprintf(stdout, "floor on http://%s\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// floorGroup returns an insert that hands its events to one writer, which
// stores the batches waiting when it is free (up to groupEvents events)
// with one call of insert. Every event of the bench is new, so each batch
// counts its own events as created when the group's count is theirs all.
func floorGroup(ctx context.Context, insert func(context.Context, []floorEvent) (int64, error)) func(context.Context, []floorEvent) (int64, error) {
	type job struct {
		events []floorEvent
		done   chan error
	}
	const groupEvents = 20000
	jobs := make(chan job)
	go func() {
		for {
			var group []job
			select {
			case j := <-jobs:
				group = append(group, j)
			case <-ctx.Done():
				return
			}
			n := len(group[0].events)
		more:
			for n < groupEvents {
				select {
				case j := <-jobs:
					group = append(group, j)
					n += len(j.events)
				default:
					break more
				}
			}
			all := make([]floorEvent, 0, n)
			for _, j := range group {
				all = append(all, j.events...)
			}
			created, err := insert(ctx, all)
			if err == nil && created != int64(n) {
				err = fmt.Errorf("%d of %d events created", created, n)
			}
			for _, j := range group {
				j.done <- err
			}
		}
	}()
	return func(ctx context.Context, events []floorEvent) (int64, error) {
		j := job{events: events, done: make(chan error, 1)}
		select {
		case jobs <- j:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		if err := <-j.done; err != nil {
			return 0, err
		}
		return int64(len(events)), nil
	}
}

// floorEvent is an event as the API takes it.
type floorEvent struct {
	ID         string          `json:"id"`
	Email      string          `json:"email"`
	Type       string          `json:"type"`
	OccurredAt time.Time       `json:"occurred_at"`
	Properties json.RawMessage `json:"properties"`
}

// floorTable is the floor's table: the events' columns, the client id
// unique; ID is the key's type.
func floorTable(id string) string {
	return `CREATE TABLE IF NOT EXISTS events (id ` + id + ` PRIMARY KEY, client_id TEXT NOT NULL UNIQUE,
		email TEXT NOT NULL, type TEXT NOT NULL, occurred_at BIGINT NOT NULL, properties TEXT, received_at BIGINT NOT NULL)`
}

// floorLeadTables are the tables of the by-lead floor: the leads, by
// email, and their events as Baton keeps them: the lead a foreign key,
// unique by client id and lead, indexed by lead and time (a lead's
// timeline, its score's replay). key is the ids' type, serial an event
// id's.
func floorLeadTables(key, serial string) string {
	return `CREATE TABLE IF NOT EXISTS floor_leads (id ` + key + ` PRIMARY KEY, email TEXT NOT NULL UNIQUE);
		CREATE TABLE IF NOT EXISTS lead_events (id ` + serial + ` PRIMARY KEY,
			lead_id ` + key + ` NOT NULL REFERENCES floor_leads(id), client_id TEXT NOT NULL, type TEXT NOT NULL,
			occurred_at BIGINT NOT NULL, properties TEXT, received_at BIGINT NOT NULL, UNIQUE (client_id, lead_id));
		CREATE INDEX IF NOT EXISTS lead_events_time ON lead_events(lead_id, occurred_at)`
}

// floorByLead returns the events of a batch whose email names a lead, in
// the order of their leads (as Baton inserts them), with each one's lead
// id: found finds the ids of a list of emails.
func floorByLead(events []floorEvent, found func(emails []string) (map[string]int64, error)) ([]floorEvent, []int64, error) {
	seen := map[string]bool{}
	var emails []string
	for _, e := range events {
		if !seen[e.Email] {
			seen[e.Email] = true
			emails = append(emails, e.Email)
		}
	}
	ids, err := found(emails)
	if err != nil {
		return nil, nil, err
	}
	var rows []floorEvent
	for _, e := range events {
		if ids[e.Email] != 0 {
			rows = append(rows, e)
		}
	}
	slices.SortStableFunc(rows, func(a, b floorEvent) int { return cmp.Compare(ids[a.Email], ids[b.Email]) })
	lead := make([]int64, len(rows))
	for i, e := range rows {
		lead[i] = ids[e.Email]
	}
	return rows, lead, nil
}

// floorInsertByLead stores events by lead in one SQLite transaction: their
// leads found by email, 500 to a query, then 500 rows per INSERT; an event
// stored before for its lead is skipped.
func floorInsertByLead(ctx context.Context, db *sql.DB, events []floorEvent) (int64, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	const chunk = 500
	rows, lead, err := floorByLead(events, func(emails []string) (map[string]int64, error) {
		ids := map[string]int64{}
		for start := 0; start < len(emails); start += chunk {
			part := emails[start:min(start+chunk, len(emails))]
			args := make([]any, len(part))
			for i, e := range part {
				args[i] = e
			}
			r, err := tx.QueryContext(ctx, `SELECT id, email FROM floor_leads WHERE email IN (`+strings.TrimSuffix(strings.Repeat("?,", len(part)), ",")+`)`, args...)
			if err != nil {
				return nil, err
			}
			for r.Next() {
				var id int64
				var email string
				if err := r.Scan(&id, &email); err != nil {
					r.Close()
					return nil, err
				}
				ids[email] = id
			}
			r.Close()
			if err := r.Err(); err != nil {
				return nil, err
			}
		}
		return ids, nil
	})
	if err != nil {
		return 0, err
	}
	now := time.Now().UnixMicro()
	var created int64
	args := make([]any, 0, chunk*6)
	for start := 0; start < len(rows); start += chunk {
		end := min(start+chunk, len(rows))
		args = args[:0]
		for i := start; i < end; i++ {
			e := &rows[i]
			args = append(args, lead[i], e.ID, e.Type, e.OccurredAt.UnixMicro(), string(e.Properties), now)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO lead_events (lead_id, client_id, type, occurred_at, properties, received_at) VALUES `+
			strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?),", end-start), ",")+` ON CONFLICT (client_id, lead_id) DO NOTHING`, args...)
		if err != nil {
			return 0, err
		}
		n, _ := res.RowsAffected()
		created += n
	}
	return created, tx.Commit()
}

// floorCopyByLead stores events by lead in PostgreSQL: their leads found
// by email with one query, then one COPY, in one transaction.
func floorCopyByLead(ctx context.Context, pool *pgxpool.Pool, events []floorEvent) (int64, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	rows, lead, err := floorByLead(events, func(emails []string) (map[string]int64, error) {
		r, err := tx.Query(ctx, `SELECT id, email FROM floor_leads WHERE email = ANY($1)`, emails)
		if err != nil {
			return nil, err
		}
		ids := map[string]int64{}
		var id int64
		var email string
		_, err = pgx.ForEachRow(r, []any{&id, &email}, func() error {
			ids[email] = id
			return nil
		})
		return ids, err
	})
	if err != nil {
		return 0, err
	}
	now := time.Now().UnixMicro()
	values := make([][]any, len(rows))
	for i, e := range rows {
		values[i] = []any{lead[i], e.ID, e.Type, e.OccurredAt.UnixMicro(), string(e.Properties), now}
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"lead_events"}, []string{"lead_id", "client_id", "type", "occurred_at", "properties", "received_at"}, pgx.CopyFromRows(values))
	if err != nil {
		return 0, err
	}
	return n, tx.Commit(ctx)
}

// floorScores is the table of the scored floor: a row per lead (by email)
// holding its engagement, indexed as a lead list sorts on it, and a state
// of floorStateSize bytes; blob is the bytes' type.
func floorScores(blob string) string {
	return `CREATE TABLE IF NOT EXISTS scores (email TEXT PRIMARY KEY, engagement DOUBLE PRECISION NOT NULL, state ` + blob + ` NOT NULL);
		CREATE INDEX IF NOT EXISTS scores_engagement ON scores(engagement)`
}

// floorStateSize is the size of the scored floor's state: the least a
// lead's decaying score can be kept in (a time and a few sums), far less
// than a policy's rules, caps and fast tracks take.
const floorStateSize = 64

// floorLeadScores sums the events of a batch by lead: a point each, one
// row per lead, in the order of their emails (so that concurrent batches
// lock rows in one order), with the lead's new state.
func floorLeadScores(events []floorEvent) (emails []string, points []float64, states [][]byte) {
	sum := map[string]float64{}
	for _, e := range events {
		sum[e.Email]++
	}
	emails = slices.Sorted(maps.Keys(sum))
	for _, e := range emails {
		points = append(points, sum[e])
		state := make([]byte, floorStateSize)
		copy(state, e)
		states = append(states, state)
	}
	return emails, points, states
}

// floorInsert stores events in one SQLite transaction, 500 rows per INSERT,
// the statement prepared once; a client id stored before is skipped.
// Scored, it also adds each lead's points to its score row in the same
// transaction, 500 leads per statement.
func floorInsert(ctx context.Context, db *sql.DB, events []floorEvent, scored bool) (int64, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	const chunk = 500
	stmts := map[int]*sql.Stmt{}
	now := time.Now().UnixMicro()
	var created int64
	args := make([]any, 0, chunk*6)
	for start := 0; start < len(events); start += chunk {
		part := events[start:min(start+chunk, len(events))]
		stmt := stmts[len(part)]
		if stmt == nil {
			q := `INSERT INTO events (client_id, email, type, occurred_at, properties, received_at) VALUES ` +
				strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?),", len(part)), ",") + ` ON CONFLICT (client_id) DO NOTHING`
			if stmt, err = tx.PrepareContext(ctx, q); err != nil {
				return 0, err
			}
			defer stmt.Close()
			stmts[len(part)] = stmt
		}
		args = args[:0]
		for _, e := range part {
			args = append(args, e.ID, e.Email, e.Type, e.OccurredAt.UnixMicro(), string(e.Properties), now)
		}
		res, err := stmt.ExecContext(ctx, args...)
		if err != nil {
			return 0, err
		}
		n, _ := res.RowsAffected()
		created += n
	}
	if scored {
		emails, points, states := floorLeadScores(events)
		for start := 0; start < len(emails); start += chunk {
			end := min(start+chunk, len(emails))
			q := `INSERT INTO scores (email, engagement, state) VALUES ` + strings.TrimSuffix(strings.Repeat("(?,?,?),", end-start), ",") +
				` ON CONFLICT (email) DO UPDATE SET engagement = scores.engagement + excluded.engagement, state = excluded.state`
			args = args[:0]
			for i := start; i < end; i++ {
				args = append(args, emails[i], points[i], states[i])
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return 0, err
			}
		}
	}
	return created, tx.Commit()
}

// floorCopy stores events in PostgreSQL with one COPY: the plainest fast
// way there is (a client id sent twice fails the batch rather than be
// skipped, which the bench never does). Scored, it also adds each lead's
// points to its score row, from arrays, in the same transaction.
func floorCopy(ctx context.Context, pool *pgxpool.Pool, events []floorEvent, scored bool) (int64, error) {
	now := time.Now().UnixMicro()
	rows := make([][]any, len(events))
	for i, e := range events {
		rows[i] = []any{e.ID, e.Email, e.Type, e.OccurredAt.UnixMicro(), string(e.Properties), now}
	}
	columns := []string{"client_id", "email", "type", "occurred_at", "properties", "received_at"}
	if !scored {
		// A COPY is a transaction of its own: no BEGIN and COMMIT to wait for.
		return pool.CopyFrom(ctx, pgx.Identifier{"events"}, columns, pgx.CopyFromRows(rows))
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, columns, pgx.CopyFromRows(rows))
	if err != nil {
		return 0, err
	}
	emails, points, states := floorLeadScores(events)
	if _, err := tx.Exec(ctx, `INSERT INTO scores (email, engagement, state) SELECT * FROM unnest($1::text[], $2::float8[], $3::bytea[])
		ON CONFLICT (email) DO UPDATE SET engagement = scores.engagement + excluded.engagement, state = excluded.state`,
		emails, points, states); err != nil {
		return 0, err
	}
	return n, tx.Commit(ctx)
}
