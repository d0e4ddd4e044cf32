package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// awayWorld is a UI server on a seeded SQLite database, with the
// out-of-office routes mounted beside the pages (as Server.routes mounts
// them once it calls awayRoutes; until then this test is what reaches
// them), and a session per user.
type awayWorld struct {
	t     *testing.T
	db    *store.DB
	clock *storetest.Clock
	tm    *storetest.Team
	srv   *httptest.Server
}

func newAwayWorld(t *testing.T) *awayWorld {
	db := storetest.SQLite(t)
	clock := storetest.NewClock()
	db.Now = clock.Now
	w := &awayWorld{t: t, db: db, clock: clock, tm: storetest.SeedTeam(t, db)}
	ui := New(Services{Users: db, Leads: db, Accounts: db, Events: db, Handoffs: db, Scoring: db, Calendars: db}, db,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	ui.Now = clock.Now
	mux := http.NewServeMux()
	ui.awayRoutes(mux)
	mux.Handle("/", ui.Handler())
	w.srv = httptest.NewServer(securityHeaders(http.NewCrossOriginProtection().Handler(mux)))
	t.Cleanup(w.srv.Close)
	return w
}

// awayClient is a signed-in browser stand-in: its session cookie and CSRF
// token.
type awayClient struct {
	w           *awayWorld
	token, csrf string
}

func (w *awayWorld) as(u *baton.User) *awayClient {
	token, csrf, err := w.db.CreateSession(context.Background(), u.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return &awayClient{w: w, token: token, csrf: csrf}
}

func (c *awayClient) do(method, path string, form url.Values) (int, string) {
	c.w.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.w.srv.URL+path, body)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: c.token})
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		c.w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// post sends the form with the session's CSRF token.
func (c *awayClient) post(path string, form url.Values) (int, string) {
	c.w.t.Helper()
	form.Set("csrf", c.csrf)
	return c.do("POST", path, form)
}

func (w *awayWorld) user(id int64) *baton.User {
	u, err := w.db.FindUserByID(storetest.System(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return u
}

func awayWants(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, s := range wants {
		if !strings.Contains(body, s) {
			t.Fatalf("%s lacks %q:\n%s", what, s, body)
		}
	}
}

// TestAwayForms: a rep sets and ends their own absence on the out-of-office
// page, a past day and a day over a year away are refused next to the
// field, and a form without its CSRF token is refused; their manager sees
// and ends it (and the team page shows it), another team's manager and
// another rep may not, and an admin sets anyone's.
func TestAwayForms(t *testing.T) {
	w := newAwayWorld(t)
	sam, sue := w.tm.SDR1, w.tm.SDR2
	id := func(u *baton.User) string { return strconv.FormatInt(u.ID, 10) }
	day := func(days int) string { return w.clock.Now().AddDate(0, 0, days).Format(time.DateOnly) }

	rep := w.as(sam)
	st, body := rep.do("GET", "/away", nil)
	if st != 200 {
		t.Fatalf("away page: %d", st)
	}
	awayWants(t, "the rep's page", body, `<h2 id="away-h">You</h2>`, `id="away-`+id(sam)+`"`, "in office", `<label for="away-until-`+id(sam)+`">Back on`)
	if strings.Contains(body, sue.Name) || strings.Contains(body, "Set anyone") {
		t.Fatalf("the rep's page offers others:\n%s", body)
	}
	for _, c := range []struct{ until, msg string }{
		{day(-1), "is in the past"},
		{day(366), "more than 365 days away"},
		{"", "required"},
	} {
		st, body := rep.post("/away", url.Values{"user_id": {id(sam)}, "row": {id(sam)}, "until": {c.until}, "note": {"kept"}})
		if st != http.StatusBadRequest {
			t.Fatalf("until %q: %d", c.until, st)
		}
		awayWants(t, "the refusal of "+c.until, body, `id="err-away-`+id(sam)+`-until" role="alert">`, c.msg, `aria-invalid="true"`, `value="kept"`)
	}
	if st, _ := rep.do("POST", "/away", url.Values{"user_id": {id(sam)}, "until": {day(3)}}); st != http.StatusForbidden {
		t.Fatalf("a form without its CSRF token: %d", st)
	}
	if u := w.user(sam.ID); u.OutOfOfficeUntil != nil {
		t.Fatalf("refused forms set an absence: %+v", u)
	}
	if st, _ := rep.post("/away", url.Values{"user_id": {id(sam)}, "until": {day(3)}, "note": {"Training in Lyon"}}); st != http.StatusSeeOther {
		t.Fatalf("set: %d", st)
	}
	if u := w.user(sam.ID); u.OutOfOfficeUntil == nil || u.OutOfOfficeNote != "Training in Lyon" || !u.Away(w.clock.Now()) {
		t.Fatalf("after the form: %+v", u)
	}
	_, body = rep.do("GET", "/away?msg=user", nil)
	awayWants(t, "the rep's page while away", body, "away until Thu 5 Mar 2026, 00:00", "Training in Lyon", `action="/away/end"`)
	// Not another rep's.
	if st, _ := rep.post("/away", url.Values{"user_id": {id(sue)}, "until": {day(3)}}); st != http.StatusForbidden {
		t.Fatalf("a rep set another's: %d", st)
	}
	if st, _ := w.as(sue).post("/away/end", url.Values{"user_id": {id(sam)}}); st != http.StatusForbidden {
		t.Fatalf("a rep ended another's: %d", st)
	}

	// Sam's manager sees it on the team page and on the away page, and
	// ends it; Sue's manager may not.
	mgr := w.as(w.tm.Manager1)
	_, body = mgr.do("GET", "/team", nil)
	awayWants(t, "the team page", body, "until Thu 5 Mar 2026, 00:00", "Training in Lyon", `href="/away"`)
	_, body = mgr.do("GET", "/away", nil)
	awayWants(t, "the manager's page", body, "You and your team", sam.Name, w.tm.AE.Name, "away until Thu 5 Mar 2026")
	if strings.Contains(body, sue.Name) {
		t.Fatal("the manager's page offers another team's rep")
	}
	if st, _ := w.as(w.tm.Manager2).post("/away/end", url.Values{"user_id": {id(sam)}}); st != http.StatusForbidden {
		t.Fatalf("another team's manager ended it: %d", st)
	}
	if st, _ := mgr.post("/away/end", url.Values{"user_id": {id(sam)}}); st != http.StatusSeeOther {
		t.Fatalf("the manager ended it: %d", st)
	}
	if u := w.user(sam.ID); u.OutOfOfficeUntil != nil {
		t.Fatalf("after the end: %+v", u)
	}
	if st, _ := mgr.post("/away", url.Values{"user_id": {id(sam)}, "until": {day(1)}}); st != http.StatusSeeOther {
		t.Fatalf("the manager set it: %d", st)
	}

	// An admin chooses anyone; Sue is then listed among those away.
	admin := w.as(w.tm.Admin)
	_, body = admin.do("GET", "/away", nil)
	awayWants(t, "the admin's page", body, "Set anyone", `<option value="`+id(sue)+`"`, sam.Name)
	if st, body := admin.post("/away", url.Values{"row": {"0"}, "until": {day(2)}}); st != http.StatusBadRequest || !strings.Contains(body, "choose a user") {
		t.Fatalf("no user chosen: %d", st)
	}
	if st, _ := admin.post("/away", url.Values{"row": {"0"}, "user_id": {id(sue)}, "until": {day(2)}, "note": {"parental leave"}}); st != http.StatusSeeOther {
		t.Fatalf("the admin set Sue's: %d", st)
	}
	_, body = admin.do("GET", "/away", nil)
	awayWants(t, "the admin's page", body, `id="away-`+id(sue)+`"`, "parental leave")
}
