package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
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
)

// The queue section: the reps' queue and inbox page of `baton serve` on a
// database of b.Leads leads, one in ten of them an open handoff (a million
// leads: 100,000 handoffs over 200 development reps in four teams), while
// events arrive. The handoffs are made the way a user makes them: a policy
// in force whose MQL rule one lead in ten meets (country US, by the
// leadgen file), so that `baton import leads` promotes them and routing
// hands each to a rep of its source's team.

const (
	queueTeams    = 4
	queueRepsTeam = 50 // development reps per team
	queueClients  = 50 // reps reading their queue at once
	queuePassword = "queue bench password"
	// queueThink is the mean pause of a rep between two rounds of reads
	// (its queue, its inbox page, the floor): a rep reloading twice a
	// second, far more often than people do, so that 50 reps make some
	// 100 rounds a second. Without a pause 50 clients in a loop measure
	// how long they queue for two cores, not how long a page takes.
	queueThink      = 500 * time.Millisecond
	queueEventRate  = 5000 // events per second
	queueEventBatch = 250  // events per request: 20 requests a second
	queueWarm       = 5 * time.Second
	queueMeasure    = 20 * time.Second
)

// queuePolicy promotes leads from the US (one in ten of leadgen's) on
// import and routes them by source to a team; its answer window, two weeks,
// is long enough that no handoff breaches in the days a kept database is
// reused, short enough that the working-time walk to the deadline is not
// most of a promotion's cost (ten years was a fifth of it).
// Events score engagement but no event makes a lead an MQL.
const queuePolicy = `
name: Queue bench
owner: ops@queue.bench
fit:
  - {name: US, field: country, equals: US, points: 30}
  - {name: Senior, field: title, contains: VP, points: 10}
engagement:
  half_life: 30d
  rules:
    - {name: Visit, event: page_view, points: 1, cap: {points: 10, per: 7d}}
    - {name: Pricing, event: pricing_page_view, points: 5}
mql:
  fit: 30
handoff:
  sdr:
    within: 14d
    on_breach: notify
    routes:
      - {name: Inbound, when: [{field: source, in: [web, paid_search]}], pool: team0}
      - {name: Partners, when: [{field: source, in: [referral, partner]}], pool: team1}
      - {name: Events, when: [{field: source, equals: event}], pool: team2}
      - {name: Webinars, pool: team3}
`

var benchQueue = benchSection{
	Name:  "queue",
	About: "the reps' queue (API) and inbox page, 50 reps at once, events arriving at 5,000/s",
	Run:   runBenchQueue,
}

// queueRep is a rep of the bench: their email, API token and session cookie.
type queueRep struct {
	Email, Token string
	Session      *http.Cookie
}

func runBenchQueue(ctx context.Context, b *bench) ([]benchRow, error) {
	db, err := b.queueDB(ctx)
	if err != nil {
		return nil, err
	}
	var flags []string
	if dir := os.Getenv("BATON_BENCH_PROFILE"); dir != "" {
		// A CPU profile of the server under the load, as the ingest
		// section writes one, to see where the time goes.
		flags = append(flags, "--cpu-profile", filepath.Join(dir, fmt.Sprintf("queue-%d.pprof", b.Leads)))
	}
	srv, err := b.Serve(ctx, db, flags...)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	tokens, err := queueTokens(db)
	if err != nil {
		return nil, err
	}
	client := &http.Client{
		Transport:     &http.Transport{MaxIdleConnsPerHost: 4 * queueClients},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	reps := make([]queueRep, queueClients)
	for i := range reps {
		// Every rep from a team of their own order: the first reps of each team.
		r := &reps[i]
		r.Email = queueRepEmail(i%queueTeams, i/queueTeams)
		r.Token = tokens[r.Email]
		if r.Session, err = queueSignIn(ctx, client, srv.URL, r.Email); err != nil {
			return nil, err
		}
	}
	// Each rep must have a queue: the check that the state is what it says.
	for _, r := range reps[:1] {
		body, err := queueGet(ctx, client, srv.URL+"/api/v1/queue", r)
		if err != nil {
			return nil, err
		}
		if !bytes.Contains(body, []byte(`"handoff"`)) {
			return nil, fmt.Errorf("%s has an empty queue: %.200s", r.Email, body)
		}
	}
	fmt.Fprintf(b.Log, "bench: queue: %d reps reading, events at %d/s, %s\n", queueClients, queueEventRate, queueMeasure)

	// The floor is /healthz, which asks the database SELECT 1: /readyz
	// answers 503 while the writes (the events) take every place.
	paths := []string{"/api/v1/queue", "/inbox", "/healthz"}
	lat := make([][]time.Duration, len(paths))
	var mu sync.Mutex
	var failed atomic.Value
	fail := func(err error) { failed.CompareAndSwap(nil, err) }
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	measureFrom, measureTo := start.Add(queueWarm), start.Add(queueWarm+queueMeasure)
	var wg sync.WaitGroup
	for i, r := range reps {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(i), 7))
			for ctx.Err() == nil && time.Now().Before(measureTo) {
				for k, p := range paths {
					t0 := time.Now()
					if _, err := queueGet(ctx, client, srv.URL+p, r); err != nil {
						if ctx.Err() == nil {
							fail(err)
						}
						return
					}
					if t0.After(measureFrom) {
						d := time.Since(t0)
						mu.Lock()
						lat[k] = append(lat[k], d)
						mu.Unlock()
					}
				}
				think := time.Duration(rnd.ExpFloat64() * float64(queueThink))
				select {
				case <-ctx.Done():
				case <-time.After(think):
				}
			}
		})
	}
	// The server's CPU time over the measured window, and the machine's
	// load at its end: on a shared machine, the timings mean little
	// without them.
	var cpu time.Duration
	var load string
	wg.Go(func() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(measureFrom)):
		}
		c0 := srv.CPUTime()
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(measureTo)):
		}
		cpu, load = srv.CPUTime()-c0, loadAverage()
	})
	var sent, refused atomic.Int64
	wg.Go(func() {
		n, busy, err := queueEvents(ctx, client, srv.URL, tokens["ops@queue.bench"], b.Leads, measureFrom, measureTo)
		sent.Store(n)
		refused.Store(busy)
		if err != nil && ctx.Err() == nil {
			fail(err)
		}
	})
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return nil, err
	}
	rate := float64(sent.Load()) / queueMeasure.Seconds()
	floor := lat[2]
	slices.Sort(floor)
	var rows []benchRow
	names := []string{"GET /api/v1/queue", "GET /inbox (page)"}
	for k, name := range names {
		l := lat[k]
		slices.Sort(l)
		for _, q := range []struct {
			name string
			q    float64
			lim  float64
		}{{"p50", 0.5, 0}, {"p99", 0.99, 10}} {
			rows = append(rows, benchRow{
				Figure: fmt.Sprintf("%s, %d reps, %s leads, events %s/s", name, queueClients, benchNum(float64(b.Leads)), benchNum(rate)),
				Unit:   "ms " + q.name, Value: queueMS(l, q.q), Floor: queueMS(floor, q.q), FloorName: "GET /healthz " + q.name, Lower: true, Limit: q.lim,
				Note: fmt.Sprintf("%d requests", len(l)),
			})
		}
	}
	rows = append(rows, benchRow{Figure: "events recorded while the reps read", Unit: "events/s", Value: rate, Limit: queueEventRate * 0.95,
		Note: fmt.Sprintf("batches of %d; %d batches answered 429 (busy); server CPU %.2f cores; load %s", queueEventBatch, refused.Load(),
			cpu.Seconds()/queueMeasure.Seconds(), load)})
	return rows, nil
}

// queueMS is the q quantile of sorted durations, in milliseconds.
func queueMS(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return float64(sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]) / float64(time.Millisecond)
}

// queueGet reads path as the rep: the API with their token, pages with
// their session. An answer other than 200 is an error.
func queueGet(ctx context.Context, c *http.Client, u string, r queueRep) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return nil, err
	}
	if strings.Contains(u, "/api/") {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	} else {
		req.AddCookie(r.Session)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s as %s: %s: %.300s", u, r.Email, resp.Status, body)
	}
	return body, nil
}

// queueEvents posts page views of random leads at queueEventRate from now
// until to, a batch at a time on a fixed schedule (a batch late does not
// delay the next: up to four are in flight), and returns how many events
// were recorded between from and to, and how many batches the server
// refused as busy (429: every place for writes taken past --write-wait).
func queueEvents(ctx context.Context, c *http.Client, base, token string, leads int, from, to time.Time) (int64, int64, error) {
	every := time.Second * queueEventBatch / queueEventRate
	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	slots := make(chan struct{}, 4)
	var counted, busy atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	next := time.Now()
	for seq := 0; time.Now().Before(to) && ctx.Err() == nil; seq++ {
		var body bytes.Buffer
		body.WriteByte('[')
		now := time.Now().UTC().Format(time.RFC3339Nano)
		for i := range queueEventBatch {
			if i > 0 {
				body.WriteByte(',')
			}
			kind := "page_view"
			if rnd.IntN(10) == 0 {
				kind = "pricing_page_view"
			}
			fmt.Fprintf(&body, `{"id":"q%s-%d-%d","lead_id":%d,"type":"%s","occurred_at":"%s"}`, run, seq, i, 1+rnd.IntN(leads), kind, now)
		}
		body.WriteByte(']')
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		wg.Go(func() {
			defer func() { <-slots }()
			sentAt := time.Now()
			req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/events", &body)
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := c.Do(req)
			if err != nil {
				failed.CompareAndSwap(nil, err)
				return
			}
			out, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusTooManyRequests {
				busy.Add(1)
				return
			}
			if resp.StatusCode != http.StatusOK {
				failed.CompareAndSwap(nil, fmt.Errorf("POST /api/v1/events: %s: %.300s", resp.Status, out))
				return
			}
			if !bytes.Contains(out, []byte(`"created":`+strconv.Itoa(queueEventBatch))) {
				failed.CompareAndSwap(nil, fmt.Errorf("POST /api/v1/events: not all recorded: %.300s", out))
				return
			}
			if done := time.Now(); sentAt.After(from) && done.Before(to) {
				counted.Add(queueEventBatch)
			}
		})
		next = next.Add(every)
		select {
		case <-ctx.Done():
		case <-time.After(time.Until(next)):
		}
	}
	wg.Wait()
	err, _ := failed.Load().(error)
	return counted.Load(), busy.Load(), err
}

// queueSignIn signs the rep in through the web form and returns their
// session cookie.
func queueSignIn(ctx context.Context, c *http.Client, base, email string) (*http.Cookie, error) {
	form := url.Values{"email": {email}, "password": {queuePassword}, "csrf": {"bench"}, "next": {"/inbox"}}
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/signin", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "baton_signin", Value: "bench"})
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("sign in %s: %s: %.300s", email, resp.Status, body)
	}
	for _, ck := range resp.Cookies() {
		if strings.HasSuffix(ck.Name, "baton_session") && ck.Value != "" {
			return ck, nil
		}
	}
	return nil, fmt.Errorf("sign in %s: no session cookie", email)
}

func queueRepEmail(team, n int) string {
	return fmt.Sprintf("rep%d.%d@queue.bench", team, n)
}

// queueDB returns the database of the section, made once: it is kept in
// b.Dir under a name that says what it holds, so that a run with --dir
// reuses it (the runs add events, which change no queue). Its API tokens
// are beside it, one "email token" a line.
func (b *bench) queueDB(ctx context.Context) (string, error) {
	// v3: the rescore that publishing queues is run before the database
	// is kept (v2 kept it queued, so the first runs on it measured the
	// reps beside a rescore of every lead, not beside the events alone).
	db := filepath.Join(b.Dir, fmt.Sprintf("queue-v3-%d.db", b.Leads))
	if _, err := os.Stat(db + ".tokens"); err == nil {
		fmt.Fprintf(b.Log, "bench: queue: reusing %s\n", db)
		return db, nil
	}
	for _, suffix := range []string{"", "-wal", "-shm", ".tokens"} {
		if err := os.Remove(db + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
	}
	leads, err := b.LeadsCSV(b.Leads)
	if err != nil {
		return "", err
	}
	var users strings.Builder
	users.WriteString("name,email,role,team,manager\n")
	users.WriteString("Queue Ops,ops@queue.bench,admin,,\n")
	for t := range queueTeams {
		fmt.Fprintf(&users, "Manager %d,manager%d@queue.bench,manager,team%d,\n", t, t, t)
		for n := range queueRepsTeam {
			fmt.Fprintf(&users, "Rep %d.%d,%s,sdr,team%d,manager%d@queue.bench\n", t, n, queueRepEmail(t, n), t, t)
		}
	}
	usersCSV, policyFile := filepath.Join(b.Dir, "queue-users.csv"), filepath.Join(b.Dir, "queue-policy.yaml")
	if err := os.WriteFile(usersCSV, []byte(users.String()), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(policyFile, []byte(queuePolicy), 0o644); err != nil {
		return "", err
	}
	fmt.Fprintf(b.Log, "bench: queue: making %s (users, policy, %s leads)\n", db, benchNum(float64(b.Leads)))
	for _, args := range [][]string{
		{"import", "users", usersCSV},
		{"policy", "publish", policyFile},
	} {
		if _, err := b.Run(ctx, append(args, "--db", db)...); err != nil {
			return "", err
		}
	}
	r, err := b.Run(ctx, "import", "leads", leads, "--db", db)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(b.Log, "bench: queue: leads imported in %s: %s", r.Wall.Round(time.Second), r.Output[bytes.LastIndexByte(bytes.TrimRight(r.Output, "\n"), '\n')+1:])
	// The reps who read sign in with a password and use a token; so does
	// the admin who posts events.
	var tokens strings.Builder
	emails := []string{"ops@queue.bench"}
	for i := range queueClients {
		emails = append(emails, queueRepEmail(i%queueTeams, i/queueTeams))
	}
	for _, e := range emails {
		if _, err := b.Run(ctx, "user", "passwd", "--email", e, "--password", queuePassword, "--db", db); err != nil {
			return "", err
		}
		r, err := b.Run(ctx, "token", "create", "--email", e, "--days", "0", "--db", db)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&tokens, "%s %s\n", e, strings.TrimSpace(string(r.Output)))
	}
	if err := b.queueRescore(ctx, db); err != nil {
		return "", err
	}
	return db, os.WriteFile(db+".tokens", []byte(tokens.String()), 0o600)
}

// queueRescore runs the rescore that publishing the policy queued, in a
// `baton serve` of its own, and returns once no job is due. The import
// scored every lead by the policy already, but the job, queued before the
// leads came, goes over them all again: a million leads take the writer
// for minutes, in chunks that the events and the session touches of the
// measured run would have waited behind.
func (b *bench) queueRescore(ctx context.Context, db string) error {
	srv, err := b.Serve(ctx, db)
	if err != nil {
		return err
	}
	defer srv.Stop()
	start := time.Now()
	for {
		r, err := b.Run(ctx, "jobs", "status", "--db", db)
		if err != nil {
			return err
		}
		// "due 0, waiting N, ...": the SLA jobs wait for days; the
		// rescore's chunks are due at once.
		if bytes.HasPrefix(r.Output, []byte("due 0,")) {
			fmt.Fprintf(b.Log, "bench: queue: rescored in %s\n", time.Since(start).Round(time.Second))
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// queueTokens reads the tokens queueDB wrote beside db.
func queueTokens(db string) (map[string]string, error) {
	data, err := os.ReadFile(db + ".tokens")
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for line := range strings.Lines(string(data)) {
		if e, t, ok := strings.Cut(strings.TrimSpace(line), " "); ok {
			m[e] = t
		}
	}
	return m, nil
}
