package web_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/api"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
	"github.com/batonhq/baton/web"
)

// testPolicy is the test policy shared by every package, with a handoff
// section: MQLs to the East pool, SQLs to every account executive.
var testPolicy = storetest.Policy + `
handoff:
  sdr:
    within: 4h
    remind_at: 0.75
    on_breach: notify
    routes:
      - name: Rest of world
        pool: East
  ae:
    within: 8h
    on_breach: notify
    routes:
      - name: Closers
  rejection:
    unable_to_reach: {attempts: 2, days: 5}
    cool_down: 10d
    track: "nurture: {reason}"
  bant: [budget, authority, need]
  opportunity_within: 7d
`

// looserPolicy lowers the MQL thresholds: the backtest shows the leads it gains.
var looserPolicy = strings.Replace(testPolicy, "mql:\n  fit: 20\n  engagement: 30", "mql:\n  fit: 0\n  engagement: 10", 1)

// password is every test user's password.
const password = "baton-test-2026"

// world is a seeded store behind the real server: the web UI at / and the
// JSON API at /api/, as cmd/baton mounts them.
type world struct {
	db    *store.DB
	clock *storetest.Clock
	tm    *storetest.Team
	srv   *httptest.Server
	// leads routed to each SDR, in creation order.
	sam, sue []*baton.Lead
}

var people = []struct{ name, title, company, source string }{
	{"Olivia Chen", "VP Marketing", "Northwind Analytics", "webinar"},
	{"Liam Novak", "VP Operations", "Fabrikam Logistics", "paid_search"},
	{"Amara Okafor", "VP Engineering", "Contoso Health", "content"},
	{"Mateo García", "VP Sales", "Tailspin Travel", "webinar"},
	{"Hannah Weber", "VP Finance", "Litware Energy", "paid_search"},
	{"Kenji Sato", "VP Product", "Adventure Works", "referral"},
	{"Sofia Rossi", "VP IT", "Wide World Importers", "content"},
	{"Noah Kim", "VP Strategy", "Proseware Labs", "referral"},
}

func newWorld(t testing.TB) *world {
	t.Helper()
	db := storetest.SQLite(t)
	clock := storetest.NewClock()
	db.Now = clock.Now
	w := &world{db: db, clock: clock, tm: storetest.SeedTeam(t, db)}
	for _, u := range w.tm.Users() {
		if err := db.SetPassword(storetest.System(), u.ID, password); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.PublishDocument(storetest.System(), testPolicy); err != nil {
		t.Fatal(err)
	}
	// A few leads that stay new, for the backtest and the lists.
	for i := range 6 {
		domain := []string{"gmail.com", "initech.com", "globex.com"}[i%3]
		l := storetest.MustLead(t, db, &baton.Lead{Email: fmt.Sprintf("quiet%d@%s", i, domain), Name: fmt.Sprintf("Quiet Lead %d", i),
			Title: "Analyst", Source: []string{"content", "events"}[i%2]})
		if _, err := db.RecordEvents(storetest.System(), []baton.EventInput{{ID: fmt.Sprintf("q%d", i), LeadID: l.ID,
			Type: baton.EventWebinarAttended, OccurredAt: clock.Now().Add(-time.Hour)}}); err != nil {
			t.Fatal(err)
		}
	}
	// Senior people who looked at pricing twice become MQLs by the policy and
	// are routed round robin to the East team's SDRs.
	for i, p := range people {
		clock.Advance(7 * time.Minute)
		email := strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(p.name, " ", "."), "í", "i")) + "@" +
			strings.ToLower(strings.ReplaceAll(p.company, " ", "")) + ".com"
		l := storetest.MustLead(t, db, &baton.Lead{Email: email, Name: p.name, Title: p.title, Company: p.company,
			Source: p.source, Country: "United States"})
		var evs []baton.EventInput
		for j := range 2 + i%2 {
			evs = append(evs, baton.EventInput{ID: fmt.Sprintf("e%d-%d", i, j), LeadID: l.ID, Type: baton.EventPricingPageView,
				OccurredAt: clock.Now().Add(-time.Duration(j+1) * time.Hour)})
		}
		if res, err := db.RecordEvents(storetest.System(), evs); err != nil || res.Rejected > 0 {
			t.Fatalf("events: %+v %v", res, err)
		}
		l, err := db.FindLeadByID(storetest.System(), l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if l.Stage != baton.StageMQL || l.OwnerID == nil {
			t.Fatalf("lead %s is %s, owner %v: not routed", l.Email, l.Stage, l.OwnerID)
		}
		switch *l.OwnerID {
		case w.tm.SDR1.ID:
			w.sam = append(w.sam, l)
		case w.tm.SDR2.ID:
			w.sue = append(w.sue, l)
		}
	}
	if len(w.sam) < 3 || len(w.sue) < 1 {
		t.Fatalf("routing: sam %d, sue %d", len(w.sam), len(w.sue))
	}
	clock.Advance(30 * time.Minute)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ui := web.New(web.Services{Users: db, Leads: db, Accounts: db, Events: db, Handoffs: db, Scoring: db, Reports: db, Outbox: db, Calendars: db, Audit: db}, db, logger)
	ui.Now = clock.Now
	mux := http.NewServeMux()
	mux.Handle("/api/", api.New(api.Services{Users: db, Leads: db, Accounts: db, Events: db, Opportunities: db, Scoring: db}, logger).Handler())
	mux.Handle("/", ui.Handler())
	w.srv = httptest.NewServer(mux)
	t.Cleanup(w.srv.Close)
	return w
}

// client is a browser stand-in: a cookie jar, and the CSRF token of the
// last page it read.
type client struct {
	t    testing.TB
	w    *world
	http *http.Client
	csrf string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (w *world) client(t testing.TB) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, w: w, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// signedIn returns a client signed in as u.
func (w *world) signedIn(t testing.TB, u *baton.User) *client {
	t.Helper()
	c := w.client(t)
	c.get("/signin")
	resp, _ := c.postRaw("/signin", url.Values{"email": {u.Email}, "password": {password}, "csrf": {c.csrf}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d", u.Email, resp.StatusCode)
	}
	if st, _ := c.get("/"); st != http.StatusSeeOther {
		t.Fatalf("home after sign-in: %d", st)
	}
	c.get("/leads") // for the session's CSRF token
	return c
}

func (c *client) do(req *http.Request) (*http.Response, string) {
	c.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	body := string(b)
	if m := csrfRE.FindStringSubmatch(body); m != nil {
		c.csrf = m[1]
	}
	return resp, body
}

func (c *client) get(path string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.w.srv.URL+path, nil)
	resp, body := c.do(req)
	return resp.StatusCode, body
}

// postRaw posts the form as it is.
func (c *client) postRaw(path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.w.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// post posts the form with the session's CSRF token.
func (c *client) post(path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", c.csrf)
	return c.postRaw(path, form)
}

func leadPath(l *baton.Lead) string { return fmt.Sprintf("/leads/%d", l.ID) }

func mustContain(t testing.TB, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Fatalf("page lacks %q:\n%s", w, excerpt(body))
		}
	}
}

func mustNotContain(t testing.TB, body string, bads ...string) {
	t.Helper()
	for _, b := range bads {
		if strings.Contains(body, b) {
			t.Fatalf("page has %q:\n%s", b, excerpt(body))
		}
	}
}

// excerpt is the main part of a page, for failure messages.
func excerpt(body string) string {
	if i := strings.Index(body, `<main`); i >= 0 {
		body = body[i:]
	}
	if len(body) > 4000 {
		body = body[:4000] + "…"
	}
	return body
}
