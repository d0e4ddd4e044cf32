package main

// BenchmarkSignInStorm fires signInStorm sign-ins at once at `baton serve`
// (the real binary in its own process, as in load_bench_test.go) and
// reports the server's peak memory and how the attempts were answered:
//
//	BATON_BENCH_LOAD=1 go test ./cmd/baton -run '^$' -bench SignInStorm -benchtime 1x
//
// Each argon2id hash holds 19 MiB, so without a bound on the hashes run at
// once the peak grows with the storm; with it, sign-ins past the bound are
// answered 429 with a Retry-After.

import (
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const (
	signInStorm = 200
	signInUsers = 10
	signInPass  = "storm password 2026"
)

func BenchmarkSignInStorm(b *testing.B) {
	bin := skipUnlessLoad(b)
	db := filepath.Join(b.TempDir(), "baton.db")
	for i := range signInUsers {
		email := fmt.Sprintf("rep%d@storm.test", i)
		runBin(b, bin, "user", "add", "--email", email, "--name", fmt.Sprintf("Rep %d", i), "--role", "sdr", "--db", db)
		runBin(b, bin, "user", "passwd", "--email", email, "--password", signInPass, "--db", db)
	}
	srv := startLoad(b, bin, db, "")
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: signInStorm},
		// A sign-in answers 303 to the page asked for: count it, do not follow it.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	// One sign-in warms the server (templates, the database) for the idle floor.
	if st := signIn(client, srv.base, 0, "rep0@storm.test", signInPass); st != http.StatusSeeOther {
		b.Fatalf("warm-up sign-in: %d", st)
	}
	idle, _ := srv.rss()
	b.ResetTimer()
	for range b.N {
		// Every client from its own address (through a proxy on this
		// machine); three in four know their password.
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			counts = map[int]int{}
			start  = make(chan struct{})
		)
		for i := range signInStorm {
			wg.Go(func() {
				pw := signInPass
				if i%4 == 3 {
					pw = "not the password"
				}
				<-start
				st := signIn(client, srv.base, i+1, fmt.Sprintf("rep%d@storm.test", i%signInUsers), pw)
				mu.Lock()
				counts[st]++
				mu.Unlock()
			})
		}
		close(start)
		wg.Wait()
		_, peak := srv.rss()
		b.ReportMetric(float64(idle)/(1<<20), "idle-MB")
		b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
		b.ReportMetric(float64(counts[http.StatusSeeOther]), "signed-in")
		b.ReportMetric(float64(counts[http.StatusUnauthorized]), "401s")
		b.ReportMetric(float64(counts[http.StatusTooManyRequests]), "429s")
		other := signInStorm - counts[http.StatusSeeOther] - counts[http.StatusUnauthorized] - counts[http.StatusTooManyRequests]
		b.ReportMetric(float64(other), "other")
		if other > 0 {
			b.Errorf("unexpected answers: %v", counts)
		}
	}
}

// signIn posts the sign-in form as a browser at 10.0.x.y (client n) would
// and returns the status (0 when the request failed). The form's token is
// a double-submit cookie, so the client picks it.
func signIn(c *http.Client, base string, n int, email, pw string) int {
	form := url.Values{"email": {email}, "password": {pw}, "csrf": {"storm-token"}}
	req, _ := http.NewRequest("POST", base+"/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.0.%d.%d", n/250, n%250+1))
	req.AddCookie(&http.Cookie{Name: "baton_signin", Value: "storm-token"})
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
