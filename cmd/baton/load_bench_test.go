package main

// Benchmarks of `baton serve` as a user meets it: the server is the real
// binary in a process of its own, with a scoring policy in force, and the
// client is this test process. They take minutes, so they are opt-in:
//
//	BATON_BENCH_LOAD=1 go test ./cmd/baton -run '^$' -bench Load -benchtime 1x
//
// Each reports its figures beside a floor measured in the same run: the
// server's memory when idle, the answer time of one batch sent alone, the
// ingest rate with the WAL bound off.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loadPolicy scores every event type the load sends, and sets an MQL rule
// no lead reaches, so that the runs measure storing and scoring, not
// routing (which needs reps).
const loadPolicy = `
name: Load
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
    - {name: Unsubscribed, event: unsubscribe, points: -20}
mql:
  fit: 30
  engagement: 1000000
`

const loadLeads = 10000

// loadBinary builds baton once per benchmark run.
var loadBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "baton-load-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "baton")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("build: %v\n%s", err, out)
	}
	return bin, nil
})

// loadServer is a `baton serve` process.
type loadServer struct {
	cmd   *exec.Cmd
	base  string
	token string
	db    string
	// started is how long the process took from start to listening.
	started time.Duration
}

func skipUnlessLoad(b *testing.B) string {
	if os.Getenv("BATON_BENCH_LOAD") == "" {
		b.Skip("set BATON_BENCH_LOAD=1 to run the out-of-process load benchmarks")
	}
	bin, err := loadBinary()
	if err != nil {
		b.Fatal(err)
	}
	return bin
}

// setupLoad makes a database with an admin, loadLeads leads and the load
// policy published, and returns its path and the admin's token.
func setupLoad(b *testing.B, bin string) (string, string) {
	dir := b.TempDir()
	db := filepath.Join(dir, "baton.db")
	runBin(b, bin, "user", "add", "--email", "ops@example.com", "--name", "Ops", "--role", "admin", "--db", db)
	token := strings.TrimSpace(runBin(b, bin, "token", "create", "--email", "ops@example.com", "--db", db))
	var csv bytes.Buffer
	csv.WriteString("email,name,title,source\n")
	for i := range loadLeads {
		title := "Analyst"
		if i%7 == 0 {
			title = "VP Sales"
		}
		fmt.Fprintf(&csv, "lead%d@load.test,Lead %d,%s,web\n", i, i, title)
	}
	leads := filepath.Join(dir, "leads.csv")
	pol := filepath.Join(dir, "policy.yaml")
	os.WriteFile(leads, csv.Bytes(), 0o644)
	os.WriteFile(pol, []byte(loadPolicy), 0o644)
	runBin(b, bin, "import", "leads", leads, "--db", db)
	runBin(b, bin, "policy", "publish", pol, "--now", "--db", db)
	return db, token
}

func runBin(b *testing.B, bin string, args ...string) string {
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		b.Fatalf("baton %s: %v %s", strings.Join(args, " "), err, msg)
	}
	return string(out)
}

// startLoad starts `baton serve` on db with more flags; it is killed when
// the benchmark ends.
func startLoad(b *testing.B, bin, db, token string, flags ...string) *loadServer {
	cmd := exec.Command(bin, append([]string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, flags...)...)
	logf, err := os.Create(db + ".log")
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	s := &loadServer{cmd: cmd, token: token, db: db}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if _, rest, ok := strings.Cut(sc.Text(), " on http://"); ok {
			s.base = "http://" + strings.Fields(rest)[0]
			break
		}
	}
	s.started = time.Since(start)
	go io.Copy(io.Discard, out)
	if s.base == "" {
		cmd.Process.Kill()
		cmd.Wait()
		log, _ := os.ReadFile(db + ".log")
		b.Fatalf("serve did not start:\n%s", log)
	}
	b.Cleanup(func() { s.stop(); logf.Close() })
	return s
}

// stop ends the server as an operator would (SIGINT) and waits for it.
func (s *loadServer) stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(os.Interrupt)
	s.cmd.Wait()
}

// rss returns the server's resident memory now and its peak so far, in
// bytes, from /proc.
func (s *loadServer) rss() (now, peak int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			now = kb << 10
		case "VmHWM:":
			peak = kb << 10
		}
	}
	return now, peak
}

// randomBatch is n events of random leads, types and times over the 90
// days before now, with ids unique to tag.
func randomBatch(r *rand.Rand, tag string, n int) []byte {
	types := []string{"page_view", "page_view", "page_view", "pricing_page_view", "email_open", "email_click", "unsubscribe"}
	now := time.Now().UTC()
	var buf bytes.Buffer
	buf.Grow(n * 180)
	buf.WriteByte('[')
	for i := range n {
		if i > 0 {
			buf.WriteByte(',')
		}
		at := now.Add(-time.Duration(r.Int64N(int64(90 * 24 * time.Hour))))
		fmt.Fprintf(&buf, `{"id":"%s-%d","email":"lead%d@load.test","type":"%s","occurred_at":"%s","properties":{"path":"/p/%d"}}`,
			tag, i, r.IntN(loadLeads), types[r.IntN(len(types))], at.Format(time.RFC3339), r.IntN(500))
	}
	buf.WriteByte(']')
	return buf.Bytes()
}

// loadClient sends event batches, retrying a 429 or 503 after its
// Retry-After as a client should, and records every answer.
type loadClient struct {
	http  *http.Client
	s     *loadServer
	mu    sync.Mutex
	took  []time.Duration // of every answer, 200 or 429
	ok    []time.Duration // of the accepted batches, from the first try
	shed  atomic.Int64
	other atomic.Int64
}

func newLoadClient(s *loadServer, conns int) *loadClient {
	return &loadClient{s: s, http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}}
}

func (c *loadClient) send(b *testing.B, body []byte) {
	first := time.Now()
	for {
		req, _ := http.NewRequest("POST", c.s.base+"/api/v1/events", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+c.s.token)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		res, err := c.http.Do(req)
		if err != nil {
			b.Error(err)
			return
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		took := time.Since(start)
		c.mu.Lock()
		c.took = append(c.took, took)
		c.mu.Unlock()
		switch res.StatusCode {
		case http.StatusOK:
			c.mu.Lock()
			c.ok = append(c.ok, time.Since(first))
			c.mu.Unlock()
			return
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			c.shed.Add(1)
			wait, _ := strconv.Atoi(res.Header.Get("Retry-After"))
			time.Sleep(time.Duration(max(wait, 1)) * time.Second)
		default:
			c.other.Add(1)
			b.Errorf("batch: %d", res.StatusCode)
			return
		}
	}
}

func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// drive sends batches of size events from clients concurrent clients until
// total events were sent, and returns the wall time.
func (c *loadClient) drive(b *testing.B, clients, size, total int, tag string) time.Duration {
	var next atomic.Int64
	batches := int64(total / size)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for {
				n := next.Add(1)
				if n > batches {
					return
				}
				c.send(b, randomBatch(r, fmt.Sprintf("%s-%d", tag, n), size))
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

// sample records the server's peak RSS while fn runs, and the WAL's peak
// size when wal is set.
func sample(s *loadServer, wal bool, fn func()) (rssPeak, walPeak int64) {
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if _, p := s.rss(); p > rssPeak {
				rssPeak = p
			}
			if wal {
				if fi, err := os.Stat(s.db + "-wal"); err == nil && fi.Size() > walPeak {
					walPeak = fi.Size()
				}
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(stop)
	<-done
	return rssPeak, walPeak
}

const mib = 1 << 20

// BenchmarkLoadWAL sends 2,000,000 events (4 clients, batches of 1,000,
// random leads and times, a policy in force) with the WAL bound at its
// default and off (as before it existed), and reports for each the
// largest WAL seen, the ingest rate, the database's size and how long the
// server then takes to start again. The ratio is the rate with the bound
// over the rate without.
func BenchmarkLoadWAL(b *testing.B) {
	bin := skipUnlessLoad(b)
	total := 2_000_000
	if v, err := strconv.Atoi(os.Getenv("BATON_BENCH_EVENTS")); err == nil && v > 0 {
		total = v
	}
	var rates [2]float64
	for i, limit := range []string{"64MB", "0"} {
		b.Run("wal-limit="+limit, func(b *testing.B) {
			for range b.N {
				db, token := setupLoad(b, bin)
				s := startLoad(b, bin, db, token, "--sqlite-wal-limit", limit)
				c := newLoadClient(s, 4)
				var took time.Duration
				_, walPeak := sample(s, true, func() { took = c.drive(b, 4, 1000, total, "w") })
				s.stop()
				fi, _ := os.Stat(db)
				walAfter := int64(0)
				if wi, err := os.Stat(db + "-wal"); err == nil {
					walAfter = wi.Size()
				}
				again := startLoad(b, bin, db, token, "--sqlite-wal-limit", limit)
				rates[i] = float64(total) / took.Seconds()
				b.ReportMetric(rates[i], "events/s")
				b.ReportMetric(float64(walPeak)/mib, "wal-peak-MB")
				b.ReportMetric(float64(walAfter)/mib, "wal-at-stop-MB")
				b.ReportMetric(float64(fi.Size())/mib, "db-MB")
				b.ReportMetric(again.started.Seconds(), "restart-s")
				b.ReportMetric(float64(c.shed.Load()), "shed")
				again.stop()
			}
		})
	}
	if rates[1] > 0 {
		b.Logf("ingest with the WAL bound at 64 MB: %.0f events/s; without it: %.0f (ratio %.2f)", rates[0], rates[1], rates[0]/rates[1])
	}
}

// BenchmarkLoadSlowClients: 200 clients announce event batches of 32 MiB
// (the limit) and trickle their bodies, while one client sends ordinary
// 1,000-event batches. Reports the server's peak memory beside its idle
// memory (the floor) and the ordinary batches' answer times beside one
// batch sent to the idle server.
func BenchmarkLoadSlowClients(b *testing.B) {
	bin := skipUnlessLoad(b)
	for range b.N {
		db, token := setupLoad(b, bin)
		s := startLoad(b, bin, db, token)
		c := newLoadClient(s, 1)
		c.drive(b, 1, 1000, 5000, "warm")
		alone := quantile(c.ok, 0.5)
		idle, _ := s.rss()
		c = newLoadClient(s, 1)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var sent atomic.Int64
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
				if err != nil {
					b.Error(err)
					return
				}
				defer conn.Close()
				fmt.Fprintf(conn, "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n[", token, 32<<20)
				chunk := bytes.Repeat([]byte(" "), 4096)
				for j := 0; ; j++ {
					select {
					case <-stop:
						return
					case <-time.After(time.Duration(50+i%50) * time.Millisecond):
					}
					if _, err := conn.Write(chunk); err != nil {
						return // refused: the server closed it
					}
					sent.Add(int64(len(chunk)))
				}
			}()
		}
		peak, _ := sample(s, false, func() {
			time.Sleep(2 * time.Second) // let the slow clients connect and send
			c.drive(b, 1, 1000, 50_000, "slow")
		})
		close(stop)
		wg.Wait()
		b.ReportMetric(float64(idle)/mib, "idle-MB")
		b.ReportMetric(float64(peak)/mib, "peak-MB")
		b.ReportMetric(float64(peak)/float64(idle), "peak/idle")
		b.ReportMetric(float64(sent.Load())/mib, "slow-sent-MB")
		b.ReportMetric(quantile(c.ok, 0.99).Seconds(), "p99-s")
		b.ReportMetric(quantile(c.ok, 0.99).Seconds()/alone.Seconds(), "p99/alone")
	}
}

// BenchmarkLoadBatches: 50 clients send event batches at once, of 1,000
// and of 10,000 events, retrying a 429 after its Retry-After. Reports the
// peak memory beside the idle server's, the ingest rate, the answer times
// (p99 of every answer, 200 or 429, and of the accepted batches counted
// from their first try) beside one batch sent alone, and how many answers
// were 429.
func BenchmarkLoadBatches(b *testing.B) {
	bin := skipUnlessLoad(b)
	for _, size := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			for range b.N {
				db, token := setupLoad(b, bin)
				s := startLoad(b, bin, db, token)
				c := newLoadClient(s, 1)
				c.drive(b, 1, size, 5*size, "warm")
				alone := quantile(c.ok, 0.5)
				idle, _ := s.rss()
				c = newLoadClient(s, 50)
				total := 1_000_000
				var took time.Duration
				peak, _ := sample(s, false, func() { took = c.drive(b, 50, size, total, "b") })
				b.ReportMetric(float64(idle)/mib, "idle-MB")
				b.ReportMetric(float64(peak)/mib, "peak-MB")
				b.ReportMetric(float64(total)/took.Seconds(), "events/s")
				b.ReportMetric(alone.Seconds(), "alone-s")
				b.ReportMetric(quantile(c.took, 0.99).Seconds(), "answer-p99-s")
				b.ReportMetric(quantile(c.ok, 0.5).Seconds(), "accepted-p50-s")
				b.ReportMetric(quantile(c.ok, 0.99).Seconds(), "accepted-p99-s")
				b.ReportMetric(float64(c.shed.Load()), "429s")
				b.ReportMetric(float64(len(c.took)), "answers")
			}
		})
	}
}

// BenchmarkLoadSync measures what --sqlite-sync full costs beside normal:
// event batches (4 clients, 1,000 events) and leads created one request at
// a time (one commit each), on the same machine in the same run.
func BenchmarkLoadSync(b *testing.B) {
	bin := skipUnlessLoad(b)
	for _, mode := range []string{"normal", "full"} {
		b.Run("sync="+mode, func(b *testing.B) {
			for range b.N {
				db, token := setupLoad(b, bin)
				s := startLoad(b, bin, db, token, "--sqlite-sync", mode)
				c := newLoadClient(s, 4)
				took := c.drive(b, 4, 1000, 200_000, "s")
				b.ReportMetric(200_000/took.Seconds(), "events/s")
				const leads = 1000
				start := time.Now()
				for i := range leads {
					req, _ := http.NewRequest("POST", s.base+"/api/v1/leads", strings.NewReader(fmt.Sprintf(`{"email":"one%d@sync.test","source":"web"}`, i)))
					req.Header.Set("Authorization", "Bearer "+token)
					res, err := c.http.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusCreated {
						b.Fatalf("create lead: %d", res.StatusCode)
					}
				}
				b.ReportMetric(leads/time.Since(start).Seconds(), "leads/s")
			}
		})
	}
}
