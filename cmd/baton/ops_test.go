package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// lockedBuffer is a buffer that a server's logger and a test may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// served is a `baton serve` running in this process.
type served struct {
	base string
	log  *lockedBuffer
	stop func() int
}

// serve starts `baton serve` on the database with more flags and returns
// once it listens: its first line of output, which names its address, is
// the readiness signal. The server is stopped when the test ends, if the
// test has not stopped it.
func serve(t *testing.T, db string, args ...string) *served {
	t.Helper()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	s := &served{log: &lockedBuffer{}}
	go func() {
		code := run(ctx, append([]string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, args...), nil, pw, s.log)
		pw.Close()
		done <- code
	}()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if _, rest, ok := strings.Cut(sc.Text(), " on http://"); ok {
			s.base = "http://" + strings.Fields(rest)[0]
			break
		}
		if _, rest, ok := strings.Cut(sc.Text(), " on https://"); ok {
			s.base = "https://" + strings.Fields(rest)[0]
			break
		}
	}
	go io.Copy(io.Discard, pr)
	var once sync.Once
	code := 0
	s.stop = func() int {
		once.Do(func() { cancel(); code = <-done })
		return code
	}
	if s.base == "" {
		s.stop()
		t.Fatalf("serve ended before it listened:\n%s", s.log)
	}
	t.Cleanup(func() {
		if code := s.stop(); code != 0 {
			t.Errorf("serve exited %d:\n%s", code, s.log)
		}
	})
	return s
}

// adminToken adds an admin to the database and returns a token of theirs.
func adminToken(t *testing.T, db string) string {
	t.Helper()
	mustRun(t, "user", "add", "--email", "ops@example.com", "--name", "Ops", "--role", "admin", "--db", db)
	return strings.TrimSpace(mustRun(t, "token", "create", "--email", "ops@example.com", "--db", db))
}

// importLeads imports n leads lead0..lead(n-1)@ingest.test into db.
func importLeads(t *testing.T, db string, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("email,name\n")
	for i := range n {
		fmt.Fprintf(&b, "lead%d@ingest.test,Lead %d\n", i, i)
	}
	csv := filepath.Join(t.TempDir(), "leads.csv")
	if err := os.WriteFile(csv, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "import", "leads", csv, "--db", db)
}

// post sends a JSON body as the token's user and returns the status and
// the body of the answer.
func post(t testing.TB, url, token, body string) (int, string) {
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// eventBatch is a JSON batch of n page views by the leads lead0..leadN-1
// of ingest.test, with ids unique to tag.
func eventBatch(tag string, n, leads int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"%s-%d","email":"lead%d@ingest.test","type":"page_view","occurred_at":"2026-03-01T%02d:%02d:00Z","properties":{"url":"/docs/page-%d"}}`,
			tag, i, (i*7919)%leads, i%24, i%60, i)
	}
	b.WriteByte(']')
	return b.String()
}

// TestWALStaysBoundedUnderIngest drives sustained event writes through the
// real server from four clients at once and watches the SQLite WAL: with a
// limit of 4 MB it never passes twice that (the limit and one transaction:
// 500 events of random leads write 1-2 MB), although the writes add up to
// many times the limit (the database file ends far larger). Before the
// writer truncated the WAL, it grew with every write under such a load.
func TestWALStaysBoundedUnderIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("writes some 100 MB")
	}
	const limit = 4 << 20
	dir := t.TempDir()
	db := filepath.Join(dir, "baton.db")
	token := adminToken(t, db)
	s := serve(t, db, "--sqlite-wal-limit", "4MB")
	const leads = 200
	importLeads(t, db, leads)

	var peak atomic.Int64
	stop, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if fi, err := os.Stat(db + "-wal"); err == nil && fi.Size() > peak.Load() {
				peak.Store(fi.Size())
			}
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 80 {
				if st, body := post(t, s.base+"/api/v1/events", token, eventBatch(fmt.Sprintf("c%d-%d", c, n), 500, leads)); st != 200 {
					t.Errorf("batch: %d %s", st, body)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled
	fi, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("160,000 events: WAL peak %.1f MB (limit 4 MB), database %.1f MB", float64(peak.Load())/(1<<20), float64(fi.Size())/(1<<20))
	if peak.Load() > 2*limit {
		t.Fatalf("the WAL reached %d bytes, over twice its limit of %d\n%s", peak.Load(), limit, s.log)
	}
	if fi.Size() < 4*limit {
		t.Fatalf("the database is only %d bytes: the load did not write several times the limit", fi.Size())
	}
	var h struct {
		Status   string `json:"status"`
		Database struct {
			WALBytes *int64 `json:"wal_bytes"`
		} `json:"database"`
	}
	res, err := http.Get(s.base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(res.Body).Decode(&h)
	res.Body.Close()
	if h.Status != "ok" || h.Database.WALBytes == nil {
		t.Fatalf("/healthz: %+v", h)
	}
}

// tmpfs mounts a file system of the size in a new directory and returns
// it; it is unmounted when the test ends (after any server on it stops,
// since cleanups run last first). It needs root; without it the test is
// skipped with why.
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small file system needs root (CI runs as root)")
	}
	dir := filepath.Join(t.TempDir(), "fs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

func remount(t *testing.T, dir, opts string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,"+opts, dir).CombinedOutput(); err != nil {
		t.Fatalf("remount %s: %v %s", opts, err, out)
	}
}

// healthOf reads /healthz.
func healthOf(t *testing.T, base string) (int, baton.Health) {
	t.Helper()
	res, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var h struct {
		Database baton.Health `json:"database"`
	}
	json.NewDecoder(res.Body).Decode(&h)
	return res.StatusCode, h.Database
}

// TestDiskFull fills the small file system that holds the database through
// the real server: the batch that does not fit is answered 503 with a
// Retry-After and a message that says the disk is full, /healthz says the
// database cannot take writes and why; once the file system has room
// again, /healthz is green, the same batch is stored whole and a second
// send of it is counted as duplicates: nothing was lost or stored twice.
func TestDiskFull(t *testing.T) {
	dir := tmpfs(t, "3m")
	db := filepath.Join(dir, "baton.db")
	token := adminToken(t, db)
	importLeads(t, db, 50)
	s := serve(t, db, "--sqlite-wal-limit", "256KB")

	stored, failed := 0, ""
	for n := 0; failed == ""; n++ {
		batch := eventBatch(fmt.Sprintf("b%d", n), 500, 50)
		req, _ := http.NewRequest("POST", s.base+"/api/v1/events", strings.NewReader(batch))
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		switch res.StatusCode {
		case http.StatusOK:
			stored += 500
		case http.StatusServiceUnavailable:
			if !strings.Contains(string(body), "is full") || !strings.Contains(string(body), `"code":"unavailable"`) || res.Header.Get("Retry-After") == "" {
				t.Fatalf("disk full: %s (Retry-After %q)", body, res.Header.Get("Retry-After"))
			}
			failed = batch
		default:
			t.Fatalf("batch %d: %d %s", n, res.StatusCode, body)
		}
		if n > 1000 {
			t.Fatal("3 MB never filled")
		}
	}
	if st, h := healthOf(t, s.base); st != http.StatusServiceUnavailable || h.Writable || !strings.Contains(h.Problem, "is full") || h.Since == nil {
		t.Fatalf("/healthz with the disk full: %d %+v", st, h)
	}
	remount(t, dir, "size=64m")
	if st, h := healthOf(t, s.base); st != http.StatusOK || !h.Writable {
		t.Fatalf("/healthz with room again: %d %+v", st, h)
	}
	var res baton.EventResult
	if st, body := post(t, s.base+"/api/v1/events", token, failed); st != 200 || json.Unmarshal([]byte(body), &res) != nil || res.Created != 500 {
		t.Fatalf("the refused batch, sent again: %d %s", st, body)
	}
	if st, body := post(t, s.base+"/api/v1/events", token, failed); st != 200 || json.Unmarshal([]byte(body), &res) != nil || res.Duplicates != 500 {
		t.Fatalf("the batch a third time: %d %s", st, body)
	}
	var list struct {
		Total int `json:"total"`
	}
	getJSON(t, s.base+"/api/v1/events?limit=1", token, &list)
	if list.Total != stored+500 {
		t.Fatalf("%d events stored, want the %d acknowledged", list.Total, stored+500)
	}
}

// TestReadOnlyFileSystem: a database on a file system mounted read-only is
// refused at start with a message that says so, not "unable to open
// database file (14)".
func TestReadOnlyFileSystem(t *testing.T) {
	dir := tmpfs(t, "16m")
	db := filepath.Join(dir, "baton.db")
	adminToken(t, db)
	remount(t, dir, "ro")
	defer remount(t, dir, "rw")
	_, errs, code := baton_(t, "serve", "--db", db, "--addr", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errs, "is on a read-only file system") {
		t.Fatalf("serve on a read-only file system: exit %d, %s", code, errs)
	}
	_, errs, code = baton_(t, "migrate", "--db", filepath.Join(dir, "new.db"))
	if code != 1 || !strings.Contains(errs, "cannot create the database") || !strings.Contains(errs, "read-only file system") {
		t.Fatalf("a new database on a read-only file system: exit %d, %s", code, errs)
	}
}

// TestBackupCommandDuringIngest: `baton backup` while clients send events
// through the real server completes with a copy that passes PRAGMA
// integrity_check; `baton restore` refuses while the server has the
// database open, and restores it once the server stopped. Commands refuse
// a file that is not a Baton database instead of migrating it.
func TestBackupCommandDuringIngest(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "baton.db")
	token := adminToken(t, db)
	importLeads(t, db, 100)
	s := serve(t, db)
	stop, started := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	var sent atomic.Int64
	for c := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				if st, body := post(t, s.base+"/api/v1/events", token, eventBatch(fmt.Sprintf("c%d-%d", c, n), 500, 100)); st != 200 {
					t.Errorf("batch: %d %s", st, body)
					return
				}
				if sent.Add(1) == 4 {
					close(started)
				}
			}
		}()
	}
	<-started
	backup := filepath.Join(dir, "backup.db")
	out := mustRun(t, "backup", backup, "--db", db)
	during := sent.Load()
	close(stop)
	wg.Wait()
	if !strings.Contains(out, "integrity ok") || !strings.Contains(out, "100 leads") {
		t.Fatalf("backup: %s", out)
	}
	raw, err := sql.Open("sqlite", backup+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	var check string
	var events int64
	raw.QueryRow(`PRAGMA integrity_check`).Scan(&check)
	raw.QueryRow(`SELECT COUNT(*) FROM events`).Scan(&events)
	raw.Close()
	if check != "ok" || events < 4*500 {
		t.Fatalf("backup: integrity %q, %d events", check, events)
	}
	t.Logf("backup under ingest: %d events in the copy; %d batches were sent by the time it finished", events, during)

	if _, errs, code := baton_(t, "restore", backup, "--db", db, "--force"); code != 1 || !strings.Contains(errs, "open in a running Baton") {
		t.Fatalf("restore while serving: exit %d %s", code, errs)
	}
	s.stop()
	out = mustRun(t, "restore", backup, "--db", db, "--force")
	if !strings.Contains(out, "restored") || !strings.Contains(out, "kept as") {
		t.Fatalf("restore: %s", out)
	}
	s = serve(t, db)
	var list struct {
		Total int64 `json:"total"`
	}
	getJSON(t, s.base+"/api/v1/events?limit=1", token, &list)
	if list.Total != events {
		t.Fatalf("the restored server has %d events, the backup %d", list.Total, events)
	}

	foreign := filepath.Join(dir, "other.db")
	raw, _ = sql.Open("sqlite", foreign)
	raw.Exec(`CREATE TABLE notes (body TEXT)`)
	raw.Close()
	for _, args := range [][]string{{"serve", "--addr", "127.0.0.1:0"}, {"migrate"}, {"backup", filepath.Join(dir, "b2.db")}, {"report", "funnel"}} {
		_, errs, code := baton_(t, append(args, "--db", foreign)...)
		if code != 1 || !strings.Contains(errs, "is not a Baton database") {
			t.Fatalf("baton %s on a foreign database: exit %d %s", args[0], code, errs)
		}
	}
}

// TestMetricsAddr: beside the API /metrics wants an admin's token; with
// --metrics-addr a scraper reads them without one on that address, and
// only them there.
func TestMetricsAddr(t *testing.T) {
	db := filepath.Join(t.TempDir(), "b.db")
	token := adminToken(t, db)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	maddr := ln.Addr().String()
	ln.Close()
	s := serve(t, db, "--metrics-addr", maddr)
	get := func(url, token string) (int, string) {
		req, _ := http.NewRequest("GET", url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, c := range []struct {
		url, token string
		want       int
	}{
		{s.base + "/metrics", "", http.StatusUnauthorized},
		{s.base + "/metrics", token, http.StatusOK},
		{"http://" + maddr + "/metrics", "", http.StatusOK},
		{"http://" + maddr + "/api/v1/leads", token, http.StatusNotFound},
	} {
		st, body := get(c.url, c.token)
		if st != c.want {
			t.Errorf("%s (token %v): %d, want %d\n%s", c.url, c.token != "", st, c.want, body)
		}
		if st == http.StatusOK && !strings.Contains(body, "baton_http_requests_total") {
			t.Errorf("%s: no metrics:\n%s", c.url, body)
		}
	}
}

// TestServeTLS: with --tls-cert and --tls-key Baton answers over HTTPS
// only, with HSTS, and its cookies are Secure with the __Host- prefix;
// half a pair, or a pair that does not load, is refused naming the flags.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	db := filepath.Join(dir, "b.db")
	if _, errs, code := baton_(t, "serve", "--db", db, "--addr", "127.0.0.1:0", "--tls-cert", certFile); code != 1 || !strings.Contains(errs, "--tls-key") {
		t.Fatalf("a cert without its key: %d %s", code, errs)
	}
	if _, errs, code := baton_(t, "serve", "--db", db, "--addr", "127.0.0.1:0", "--tls-cert", keyFile, "--tls-key", keyFile); code != 1 || !strings.Contains(errs, "--tls-cert") {
		t.Fatalf("a key given as the cert: %d %s", code, errs)
	}
	s := serve(t, db, "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(s.base, "https://") {
		t.Fatalf("serving %s", s.base)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(s.base + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Fatalf("/signin over TLS: %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	var ck *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-baton_signin" {
			ck = c
		}
	}
	if ck == nil || !ck.Secure || ck.Path != "/" {
		t.Fatalf("the sign-in cookie over TLS: %+v in %v", ck, resp.Cookies())
	}
	resp, err = client.Get(s.base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Fatal("the API's answers over TLS carry no HSTS")
	}
	if resp, err := http.Get("http://" + strings.TrimPrefix(s.base, "https://") + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP answered on the TLS port")
		}
	}
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key in
// dir and returns their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "baton test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
