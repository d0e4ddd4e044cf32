package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/storetest"
)

// apiStatus calls the JSON API with a bearer token and returns the status.
func (w *world) apiStatus(t *testing.T, method, path, token string) int {
	t.Helper()
	req, _ := http.NewRequest(method, w.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// canSignIn reports whether u signs in with the test password.
func (w *world) canSignIn(t *testing.T, u *baton.User) bool {
	t.Helper()
	c := w.client(t)
	c.get("/signin")
	resp, _ := c.postRaw("/signin", url.Values{"email": {u.Email}, "password": {password}, "csrf": {c.csrf}})
	return resp.StatusCode == http.StatusSeeOther
}

// TestAdminAddsAndDeactivatesUsers: an admin adds a user, with refusals
// next to the fields, and deactivates one, whose session and token stop
// working at once; reactivated, they sign in again.
func TestAdminAddsAndDeactivatesUsers(t *testing.T) {
	w := newWorld(t)
	admin := w.signedIn(t, w.tm.Admin)
	_, body := admin.get("/admin/users")
	mustContain(t, body, "Add a user", `action="/admin/users"`)

	// Refusals name the field and keep what was typed.
	form := func(email, name, role string) url.Values {
		return url.Values{"email": {email}, "name": {name}, "role": {role}, "team": {"East"}, "manager_id": {fmt.Sprint(w.tm.Manager1.ID)}}
	}
	for _, c := range []struct {
		name   string
		form   url.Values
		status int
		field  string
		want   string
	}{
		{"bad email", form("nina@", "Nina New", "sdr"), 400, "email", "is not an email address"},
		{"no name", form("nina.new@example.com", " ", "sdr"), 400, "name", "required"},
		{"no role", form("nina.new@example.com", "Nina New", ""), 400, "role", "unknown role"},
		{"taken email", form(w.tm.SDR1.Email, "Nina New", "sdr"), 409, "email", "exists"},
		{"no such manager", url.Values{"email": {"nina.new@example.com"}, "name": {"Nina New"}, "role": {"sdr"}, "manager_id": {"999999"}}, 400, "manager_id", "no user 999999"},
	} {
		resp, body := admin.post("/admin/users", c.form)
		if resp.StatusCode != c.status {
			t.Fatalf("%s: %d, want %d", c.name, resp.StatusCode, c.status)
		}
		mustContain(t, body, `id="err-newuser-0-`+c.field+`"`, c.want, `aria-describedby="err-newuser-0-`+c.field+`"`)
		if c.field != "email" {
			mustContain(t, body, `value="`+c.form.Get("email")+`"`)
		}
	}

	resp, _ := admin.post("/admin/users", form("Nina.New@example.com", "Nina New", "sdr"))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add a user: %d", resp.StatusCode)
	}
	nina, err := w.db.FindUserByEmail(storetest.System(), "nina.new@example.com")
	if err != nil || nina.Role != baton.RoleSDR || nina.Team != "East" || nina.ManagerID == nil || *nina.ManagerID != w.tm.Manager1.ID || !nina.Active {
		t.Fatalf("added %+v %v", nina, err)
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "/admin/users?page=1&msg=useradded") || !strings.HasSuffix(loc, fmt.Sprintf("#user-%d", nina.ID)) {
		t.Fatalf("after adding: %s", loc)
	}
	_, body = admin.get(strings.Split(loc, "#")[0])
	mustContain(t, body, "User added", fmt.Sprintf(`id="user-%d"`, nina.ID), "Nina New", "nina.new@example.com")

	// Sue is signed in and has a token; deactivated, both stop working.
	sue := w.signedIn(t, w.tm.SDR2)
	token, err := w.db.CreateToken(storetest.As(w.tm.SDR2), w.tm.SDR2.ID, "sync")
	if err != nil {
		t.Fatal(err)
	}
	if st := w.apiStatus(t, "GET", "/api/v1/me", token); st != 200 {
		t.Fatalf("Sue's token: %d", st)
	}
	active := fmt.Sprintf("/admin/users/%d/active", w.tm.SDR2.ID)
	resp, _ = admin.post(active, url.Values{"active": {"false"}, "page": {"1"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/users?msg=deactivated" {
		t.Fatalf("deactivate: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if st, _ := sue.get("/inbox"); st != http.StatusSeeOther {
		t.Fatalf("Sue's session after deactivation: %d", st)
	}
	if st := w.apiStatus(t, "GET", "/api/v1/me", token); st != http.StatusUnauthorized {
		t.Fatalf("Sue's token after deactivation: %d", st)
	}
	if w.canSignIn(t, w.tm.SDR2) {
		t.Fatal("a deactivated user signed in")
	}
	_, body = admin.get("/admin/users?msg=deactivated")
	row := between(body, fmt.Sprintf(`id="user-%d"`, w.tm.SDR2.ID), "</tr>")
	mustContain(t, row, "inactive", "Reactivate")
	mustContain(t, body, "User deactivated")
	// The admin is offered no way to deactivate themselves, and is refused one.
	mustNotContain(t, between(body, fmt.Sprintf(`id="user-%d"`, w.tm.Admin.ID), "</tr>"), "Deactivate")
	resp, body = admin.post(fmt.Sprintf("/admin/users/%d/active", w.tm.Admin.ID), url.Values{"active": {"false"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("self-deactivation: %d", resp.StatusCode)
	}
	mustContain(t, body, "you cannot deactivate yourself")

	resp, _ = admin.post(active, url.Values{"active": {"true"}})
	if resp.StatusCode != http.StatusSeeOther || !w.canSignIn(t, w.tm.SDR2) {
		t.Fatalf("reactivate: %d", resp.StatusCode)
	}
	// Only admins add or deactivate.
	mgr := w.signedIn(t, w.tm.Manager1)
	if resp, _ := mgr.post(active, url.Values{"active": {"false"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a manager deactivated a user: %d", resp.StatusCode)
	}
	if resp, _ := mgr.post("/admin/users", form("x.y@example.com", "X Y", "sdr")); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a manager added a user: %d", resp.StatusCode)
	}
}

var tokenRowRE = regexp.MustCompile(`id="token-(\d+)"`)

// TestTokenPages: an admin lists every token with its owner, maker and
// last use and revokes one; a user lists and revokes their own, and a
// revoked token answers 401 at once.
func TestTokenPages(t *testing.T) {
	w := newWorld(t)
	admin := w.signedIn(t, w.tm.Admin)
	resp, body := admin.post("/admin/tokens", url.Values{"user_id": {fmt.Sprint(w.tm.Marketing.ID)}, "name": {"forms"}})
	if resp.StatusCode != 200 {
		t.Fatalf("token: %d", resp.StatusCode)
	}
	forms := between(body, `readonly value="`, `"`)
	mustContain(t, body, "shown only this once")
	row := between(body, `id="token-`, "</tr>")
	mustContain(t, row, "forms", "Mia Marketing", "Ada Admin", "via ui", "never", "active", "Revoke")
	if resp, body := admin.post("/admin/tokens", url.Values{"user_id": {fmt.Sprint(w.tm.Marketing.ID)}, "name": {strings.Repeat("x", 101)}}); resp.StatusCode != 400 ||
		!strings.Contains(body, `id="err-token-0-name"`) {
		t.Fatalf("a long name: %d", resp.StatusCode)
	}

	// Used, the token shows when, in the viewer's format.
	w.clock.Advance(5 * time.Minute)
	if st := w.apiStatus(t, "GET", "/api/v1/leads?limit=1", forms); st != 200 {
		t.Fatalf("the token on the API: %d", st)
	}
	used := w.clock.Now().UTC().Format("Mon 2 Jan 2006, 15:04")
	_, body = admin.get("/admin/tokens")
	mustContain(t, between(body, `id="token-`, "</tr>"), used)
	mustNotContain(t, body, forms)

	// Mia sees the token made for her, with who made it, makes one of her
	// own and revokes the first; it is refused at once.
	mia := w.signedIn(t, w.tm.Marketing)
	if st, _ := mia.get("/admin/tokens"); st != http.StatusForbidden {
		t.Fatalf("marketing opened the admin's tokens: %d", st)
	}
	st, body := mia.get("/tokens")
	if st != 200 {
		t.Fatalf("own tokens: %d", st)
	}
	mustContain(t, body, "Your API tokens", "forms", "Ada Admin")
	mustNotContain(t, body, "Choose a user")
	resp, body = mia.post("/tokens", url.Values{"name": {"laptop"}})
	if resp.StatusCode != 200 {
		t.Fatalf("own token: %d", resp.StatusCode)
	}
	laptop := between(body, `readonly value="`, `"`)
	ids := tokenRowRE.FindAllStringSubmatch(body, -1)
	if len(ids) != 2 || w.apiStatus(t, "GET", "/api/v1/me", laptop) != 200 {
		t.Fatalf("Mia's tokens: %v", ids)
	}
	laptopID, formsID := ids[0][1], ids[1][1]
	resp, _ = mia.post("/tokens/"+formsID+"/revoke", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/tokens?msg=revoked" {
		t.Fatalf("revoke: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if st := w.apiStatus(t, "GET", "/api/v1/leads?limit=1", forms); st != http.StatusUnauthorized {
		t.Fatalf("a revoked token: %d", st)
	}
	_, body = mia.get("/tokens?msg=revoked")
	mustContain(t, body, "Token revoked")
	mustContain(t, between(body, `id="token-`+formsID+`"`, "</tr>"), "revoked", "by Mia Marketing")

	// Another user's token does not exist for Sam; the admin revokes any.
	sam := w.signedIn(t, w.tm.SDR1)
	if resp, _ := sam.post("/tokens/"+laptopID+"/revoke", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("Sam revoked Mia's token: %d", resp.StatusCode)
	}
	_, body = sam.get("/tokens")
	mustContain(t, body, "No tokens yet")
	resp, _ = admin.post("/tokens/"+laptopID+"/revoke", url.Values{"back": {"admin"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/tokens?msg=revoked" {
		t.Fatalf("the admin's revoke: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if st := w.apiStatus(t, "GET", "/api/v1/me", laptop); st != http.StatusUnauthorized {
		t.Fatalf("revoked by the admin: %d", st)
	}
}

// TestCalendarErrors: a truncated or mistyped calendar is refused with
// 400 and the problem named where it is, the form keeps the team it was
// sent for, and the default is replaced only with its box ticked.
func TestCalendarErrors(t *testing.T) {
	w := newWorld(t)
	admin := w.signedIn(t, w.tm.Admin)
	truncated := `{"time_zone": "Europe/Berlin", "hours": {"mon-fri": ["09:00-17:00"]`
	resp, body := admin.post("/admin/calendars", url.Values{"team": {"East"}, "body": {truncated}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a truncated calendar: %d", resp.StatusCode)
	}
	mustContain(t, body, "line 1, column 68: the JSON ends before it is complete", `<option value="East" selected>`, `id="err-calendar-0-body"`)
	mustNotContain(t, body, `<option value="*" selected>`)
	if !strings.Contains(body, strings.ReplaceAll(truncated, `"`, "&#34;")) {
		t.Fatalf("the document sent is not shown again:\n%s", excerpt(body))
	}
	resp, body = admin.post("/admin/calendars", url.Values{"team": {"East"}, "body": {`{"time_zone": 1, "hours": {"mon": ["09:00-17:00"]}}`}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a wrong type: %d", resp.StatusCode)
	}
	mustContain(t, body, "time_zone: line 1, column 15: must be a string", `<option value="East" selected>`)

	// The default needs its box ticked; the refusal keeps the team.
	good := `{"time_zone": "Europe/Berlin", "hours": {"mon-fri": ["09:00-17:00"]}}`
	resp, body = admin.post("/admin/calendars", url.Values{"team": {"*"}, "body": {good}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("the default without its box: %d", resp.StatusCode)
	}
	mustContain(t, body, "tick the box to replace it", `<option value="*" selected>`)
	if cals, _ := w.db.Calendars(storetest.As(w.tm.Admin)); len(cals) != 0 {
		t.Fatalf("saved without the box: %v", cals)
	}
	if resp, _ := admin.post("/admin/calendars", url.Values{"team": {"*"}, "body": {good}, "confirm_default": {"yes"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the default with its box: %d", resp.StatusCode)
	}
	if resp, _ := admin.post("/admin/calendars", url.Values{"team": {"East"}, "body": {strings.Replace(good, "Berlin", "London", 1)}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("East: %d", resp.StatusCode)
	}
	cals, _ := w.db.Calendars(storetest.As(w.tm.Admin))
	if !strings.Contains(cals["*"], "Berlin") || !strings.Contains(cals["East"], "London") {
		t.Fatalf("calendars %v", cals)
	}
	// Edit fills the form with the team's calendar.
	_, body = admin.get("/admin/calendars?team=East")
	mustContain(t, body, `<option value="East" selected>`, "Europe/London")
}

// TestWebhookLogShowsAttempts: the delivery log shows an attempt in flight
// and one interrupted by its instance stopping, with its result.
func TestWebhookLogShowsAttempts(t *testing.T) {
	w := newWorld(t)
	sys := storetest.System()
	if err := w.db.CreateWebhook(sys, &baton.Webhook{URL: "https://hooks.example.com/in", Secret: "a-long-enough-secret", Events: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Accept(storetest.As(w.tm.SDR1), w.sam[0].ID); err != nil {
		t.Fatal(err)
	}
	if ms, err := w.db.ClaimOutbox(context.Background(), "w1", 10, time.Minute); err != nil || len(ms) == 0 {
		t.Fatalf("claim: %v %v", ms, err)
	}
	if n, err := w.db.ReleaseLeases(context.Background(), "w1"); err != nil || n == 0 {
		t.Fatalf("release: %d %v", n, err)
	}
	if ms, err := w.db.ClaimOutbox(context.Background(), "w2", 10, time.Minute); err != nil || len(ms) == 0 {
		t.Fatalf("claim again: %v %v", ms, err)
	}
	admin := w.signedIn(t, w.tm.Admin)
	_, body := admin.get("/admin/webhooks")
	log := between(body, `id="log-h"`, "</table>")
	mustContain(t, log, "lead.accepted", "in flight", "interrupted", "instance w2", "(by w1)", w.clock.Now().UTC().Format("Mon 2 Jan 2006, 15:04"))
	mustNotContain(t, body, `<th scope="col"></th>`)
}

// TestNotFoundSignedIn: the page that does not exist keeps a signed-in
// user's header, with their name and menu.
func TestNotFoundSignedIn(t *testing.T) {
	w := newWorld(t)
	sam := w.signedIn(t, w.tm.SDR1)
	st, body := sam.get("/no/such/page")
	if st != http.StatusNotFound {
		t.Fatalf("no page: %d", st)
	}
	mustContain(t, body, "there is no page /no/such/page", w.tm.SDR1.Name, "Sign out", `href="/inbox"`, "Back to your start page")
	st, body = w.client(t).get("/no/such/page")
	if st != http.StatusNotFound {
		t.Fatalf("no page, signed out: %d", st)
	}
	mustContain(t, body, `<a href="/signin">Sign in</a>`)
	mustNotContain(t, body, "Sign out", w.tm.SDR1.Name)
}

// TestPasswordResetOnThePage: the admin's Set password revokes the user's
// API tokens unless "Keep their API tokens working" is ticked.
func TestPasswordResetOnThePage(t *testing.T) {
	w := newWorld(t)
	admin := w.signedIn(t, w.tm.Admin)
	_, body := admin.get("/admin/users")
	mustContain(t, body, `name="keep_tokens"`, "Keep their API tokens working")
	for _, c := range []struct {
		keep  bool
		works bool
	}{{true, true}, {false, false}} {
		tok, err := w.db.CreateToken(storetest.System(), w.tm.SDR1.ID, "dialer")
		if err != nil {
			t.Fatal(err)
		}
		form := url.Values{"password": {"another long passphrase"}}
		if c.keep {
			form.Set("keep_tokens", "1")
		}
		if resp, body := admin.post(fmt.Sprintf("/admin/users/%d/password", w.tm.SDR1.ID), form); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("set password: %d\n%s", resp.StatusCode, excerpt(body))
		}
		_, err = w.db.Authenticate(context.Background(), tok)
		if works := err == nil; works != c.works {
			t.Errorf("keep_tokens %v: the token works %v (%v), want %v", c.keep, works, err, c.works)
		}
	}
}
