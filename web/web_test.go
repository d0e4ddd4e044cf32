package web_test

import (
	"fmt"
	"html"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/storetest"
)

func TestSignIn(t *testing.T) {
	w := newWorld(t)
	c := w.client(t)
	// A page without a session goes to the sign-in form, and back after it.
	st, _ := c.get("/inbox?sort=probability")
	if st != http.StatusSeeOther {
		t.Fatalf("inbox without a session: %d", st)
	}
	st, body := c.get("/signin?next=%2Finbox%3Fsort%3Dprobability")
	if st != 200 {
		t.Fatalf("sign-in form: %d", st)
	}
	mustContain(t, body, `<label for="email">Email</label>`, `<label for="password">Password</label>`, `value="/inbox?sort=probability"`)
	// Wrong password and unknown email: the same message.
	resp, body := c.postRaw("/signin", url.Values{"email": {w.tm.SDR1.Email}, "password": {"wrong password"}, "csrf": {c.csrf}, "next": {"/inbox"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	mustContain(t, body, "wrong email or password", `value="sam.sdr@example.com"`)
	resp, body = c.postRaw("/signin", url.Values{"email": {"nobody@example.com"}, "password": {password}, "csrf": {c.csrf}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unknown email: %d", resp.StatusCode)
	}
	mustContain(t, body, "wrong email or password")
	// Without the form's token: refused.
	resp, _ = c.postRaw("/signin", url.Values{"email": {w.tm.SDR1.Email}, "password": {password}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-in without token: %d", resp.StatusCode)
	}
	// Signed in, the browser goes where it was going; the cookie is HttpOnly and Lax.
	resp, _ = c.postRaw("/signin", url.Values{"email": {"  SAM.sdr@example.com"}, "password": {password}, "csrf": {c.csrf}, "next": {"/inbox?sort=probability"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/inbox?sort=probability" {
		t.Fatalf("sign in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var ck *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == "baton_session" {
			ck = k
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure {
		t.Fatalf("session cookie %+v", ck)
	}
	st, body = c.get("/inbox")
	if st != 200 {
		t.Fatalf("inbox: %d", st)
	}
	mustContain(t, body, "Sam Sdr", "Sign out")
	// Sign out ends the session.
	resp, _ = c.post("/signout", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %d", resp.StatusCode)
	}
	if st, _ := c.get("/inbox"); st != http.StatusSeeOther {
		t.Fatalf("inbox after sign-out: %d", st)
	}
	// next cannot send anyone to another site.
	c2 := w.client(t)
	c2.get("/signin")
	resp, _ = c2.postRaw("/signin", url.Values{"email": {w.tm.SDR1.Email}, "password": {password}, "csrf": {c2.csrf}, "next": {"//evil.example/x"}})
	if resp.Header.Get("Location") != "/" {
		t.Fatalf("open redirect: %s", resp.Header.Get("Location"))
	}
	// Throttling of failed sign-ins is in TestSignInThrottled.
}

func TestSecureCookieBehindTLSProxy(t *testing.T) {
	w := newWorld(t)
	c := w.client(t)
	req, _ := http.NewRequest("GET", w.srv.URL+"/signin", nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, _ := c.do(req)
	// Behind TLS the cookie has the __Host- prefix, which browsers keep only
	// Secure, for this host and every path.
	var ck *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == "__Host-baton_signin" {
			ck = k
		}
	}
	if ck == nil || !ck.Secure || ck.Path != "/" || ck.Domain != "" {
		t.Fatalf("the sign-in cookie behind an HTTPS proxy: %+v in %v", ck, resp.Cookies())
	}
}

func TestRepInbox(t *testing.T) {
	w := newWorld(t)
	sam := w.signedIn(t, w.tm.SDR1)
	st, body := sam.get("/inbox")
	if st != 200 {
		t.Fatalf("inbox: %d", st)
	}
	for _, l := range w.sam {
		mustContain(t, body, leadPath(l), l.Name)
	}
	for _, l := range w.sue {
		mustNotContain(t, body, l.Name)
	}
	// The countdown, the scores and the reasons.
	mustContain(t, body, "left</span>", "Senior title", "Pricing page", "&#43;30", `<option value="unable_to_reach">unable to reach</option>`)
	if st, body = sam.get("/inbox?sort=probability"); st != 200 {
		t.Fatalf("by probability: %d", st)
	}
	mustContain(t, body, `href="/inbox?sort=probability" aria-current="page"`)

	// Accept in one click.
	a, b, c := w.sam[0], w.sam[1], w.sam[2]
	resp, _ := sam.post(leadPath(a)+"/accept", url.Values{"back": {"inbox"}, "sort": {"deadline"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/inbox?") {
		t.Fatalf("accept: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body = sam.get(resp.Header.Get("Location"))
	mustContain(t, body, "Lead accepted")
	mustNotContain(t, body, `id="lead-`+fmt.Sprint(a.ID)+`"`)

	// unable_to_reach needs attempts: the error is shown next to the reason.
	resp, body = sam.post(leadPath(b)+"/reject", url.Values{"back": {"inbox"}, "reason": {"unable_to_reach"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("reject without attempts: %d", resp.StatusCode)
	}
	mustContain(t, body, fmt.Sprintf(`id="err-reject-%d-reason" role="alert">unable_to_reach needs 2 logged contact attempts`, b.ID),
		`<option value="unable_to_reach" selected>`, `aria-invalid="true"`)
	// other needs a note.
	_, body = sam.post(leadPath(b)+"/reject", url.Values{"back": {"lead"}, "reason": {"other"}})
	mustContain(t, body, "the reason other needs a note", "Profile")
	// Two attempts, then unable_to_reach is accepted.
	for _, o := range []string{"no_answer", "voicemail"} {
		resp, _ = sam.post(leadPath(b)+"/attempts", url.Values{"back": {"lead"}, "channel": {"call"}, "outcome": {o}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("attempt: %d", resp.StatusCode)
		}
	}
	resp, body = sam.post(leadPath(b)+"/attempts", url.Values{"back": {"lead"}, "channel": {"fax"}, "outcome": {"x"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad attempt: %d", resp.StatusCode)
	}
	mustContain(t, body, `unknown channel &#34;fax&#34;`)
	resp, _ = sam.post(leadPath(b)+"/reject", url.Values{"back": {"lead"}, "reason": {"unable_to_reach"}, "note": {"two calls, no answer"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reject: %d", resp.StatusCode)
	}
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/inbox") {
		t.Fatalf("after reject: %s", loc)
	}
	_, body = sam.get(resp.Header.Get("Location"))
	mustContain(t, body, "Lead rejected")
	_, body = w.signedIn(t, w.tm.Marketing).get(leadPath(b))
	mustContain(t, body, "stage-recycled", "unable_to_reach", "no answer", "voicemail", "two calls, no answer")

	// The lead page of the accepted lead: stage, handoff, timeline and the BANT form.
	_, body = sam.get(leadPath(a))
	mustContain(t, body, "stage-sal", "Handoffs (SLA)", "accepted", "mql → sal", "Qualify (BANT)", "Senior title", "pricing page view")
	// BANT with a part missing is refused with the reason.
	resp, body = sam.post(leadPath(a)+"/qualify", url.Values{"back": {"lead"}, "budget_amount": {"lots"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad bant: %d", resp.StatusCode)
	}
	mustContain(t, body, "must be a number")
	resp, body = sam.post(leadPath(a)+"/qualify", url.Values{"back": {"lead"}, "budget_amount": {"20000"}, "budget_currency": {"usd"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("incomplete bant: %d %s", resp.StatusCode, excerpt(body))
	}
	mustContain(t, body, "authority")
	resp, body = sam.post(leadPath(a)+"/qualify", url.Values{"back": {"lead"}, "budget_amount": {"20000"}, "budget_currency": {"usd"},
		"budget_confirmed": {"1"}, "authority": {"decision_maker"}, "decision_maker": {"the CFO"}, "need": {"forecasting"}, "timing": {"this_quarter"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("qualify: %d %s", resp.StatusCode, excerpt(body))
	}
	// The SQL went to the AE, who converts it once, however often the form is sent.
	ae := w.signedIn(t, w.tm.AE)
	_, body = ae.get("/inbox")
	mustContain(t, body, a.Name)
	ae.post(leadPath(a)+"/accept", url.Values{"back": {"lead"}})
	_, body = ae.get(leadPath(a))
	mustContain(t, body, "Convert to an opportunity", "Qualification (BANT)", "the CFO")
	key := between(body, `name="idempotency_key" value="`, `"`)
	if len(key) < 20 {
		t.Fatalf("idempotency key %q", key)
	}
	for range 2 {
		resp, body = ae.post(leadPath(a)+"/convert", url.Values{"back": {"lead"}, "idempotency_key": {key}, "name": {"Northwind deal"}, "amount": {"18000"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("convert: %d %s", resp.StatusCode, excerpt(body))
		}
	}
	var n int
	if err := w.db.SQL().QueryRow(`SELECT COUNT(*) FROM opportunities WHERE lead_id = $1`, a.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("opportunities: %d %v", n, err)
	}
	_, body = ae.get(leadPath(a))
	mustContain(t, body, "stage-opportunity")

	// The rest of the queue stays; a conflict (accepting twice) is shown, not a crash.
	sam.post(leadPath(c)+"/accept", url.Values{"back": {"inbox"}})
	resp, body = sam.post(leadPath(c)+"/accept", url.Values{"back": {"lead"}})
	if resp.StatusCode != http.StatusConflict && resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("accept twice: %d %s", resp.StatusCode, excerpt(body))
	}
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i+len(from):]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return ""
}

func TestForbidden(t *testing.T) {
	w := newWorld(t)
	sam := w.signedIn(t, w.tm.SDR1)
	// Another rep's lead, by URL.
	// It answers as a lead that does not exist would.
	st, body := sam.get(leadPath(w.sue[0]))
	if st != http.StatusNotFound {
		t.Fatalf("another rep's lead: %d", st)
	}
	mustContain(t, body, "Not found", fmt.Sprintf("no lead %d", w.sue[0].ID))
	mustNotContain(t, body, w.sue[0].Email)
	// Pages of other roles.
	for _, p := range []string{"/team", "/recycled", "/admin/users", "/admin/tokens"} {
		if st, _ := sam.get(p); st != http.StatusForbidden {
			t.Fatalf("%s as a rep: %d", p, st)
		}
	}
	if st, _ := sam.get("/leads/99999"); st != http.StatusNotFound {
		t.Fatalf("unknown lead: %d", st)
	}
	if st, _ := sam.get("/nope"); st != http.StatusNotFound {
		t.Fatalf("unknown page: %d", st)
	}
	// Acting on another rep's lead.
	resp, _ := sam.post(leadPath(w.sue[0])+"/accept", url.Values{"back": {"inbox"}})
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("accept another's lead: %d", resp.StatusCode)
	}
	// A POST without the CSRF token, or with a wrong one, is refused and changes nothing.
	l := w.sam[0]
	for _, tok := range []string{"", "forged"} {
		resp, body := sam.postRaw(leadPath(l)+"/accept", url.Values{"csrf": {tok}, "back": {"inbox"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("csrf %q: %d", tok, resp.StatusCode)
		}
		mustContain(t, body, "no valid security token")
	}
	// A cross-site POST is refused by the browser's own headers, token or not.
	form := url.Values{"csrf": {sam.csrf}, "back": {"inbox"}}
	req, _ := http.NewRequest("POST", w.srv.URL+leadPath(l)+"/accept", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, _ := sam.do(req); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site post: %d", resp.StatusCode)
	}
	got, err := w.db.FindLeadByID(storetest.System(), l.ID)
	if err != nil || got.Stage != baton.StageMQL {
		t.Fatalf("lead changed by refused posts: %v %v", got.Stage, err)
	}
	// Marketing may read the policy but reps may not change it.
	if resp, _ := sam.post("/policy", url.Values{"action": {"save"}, "body": {testPolicy}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("rep saves a policy: %d", resp.StatusCode)
	}
	if st, body := sam.get("/policy"); st != 200 || !strings.Contains(body, "Version 1 in force") || strings.Contains(body, "Backtest") {
		t.Fatalf("rep reads the policy: %d", st)
	}
	// Security headers.
	req, _ = http.NewRequest("GET", w.srv.URL+"/inbox", nil)
	resp, _ = sam.do(req)
	if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("headers %v", resp.Header)
	}
}

func TestManagerBoard(t *testing.T) {
	w := newWorld(t)
	max := w.signedIn(t, w.tm.Manager1)
	st, body := max.get("/team")
	if st != 200 {
		t.Fatalf("team: %d %s", st, excerpt(body))
	}
	for _, l := range w.sam {
		mustContain(t, body, l.Name)
	}
	for _, l := range w.sue {
		mustNotContain(t, body, l.Name) // another manager's team
	}
	mustContain(t, body, "By rep", "Sam Sdr", "Stale SALs", `<svg class="chart"`, "Funnel")
	// Past the deadline, the handoffs show as breached (to a manager who
	// signs in again: five hours without a page end a session).
	w.clock.Advance(5 * time.Hour)
	max = w.signedIn(t, w.tm.Manager1)
	_, body = max.get("/team")
	mustContain(t, body, `id="board-breached">Breached <span class="count">`+fmt.Sprint(len(w.sam)), "breached ")
	// Reassign within the team, to a rep whose role fits an MQL: not to
	// the account executive.
	l := w.sam[0]
	resp, body := max.post(leadPath(l)+"/assign", url.Values{"back": {"team"}, "user_id": {fmt.Sprint(w.tm.AE.ID)}, "note": {"Sam is out"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "goes to a sdr") {
		t.Fatalf("reassign to an AE: %d %s", resp.StatusCode, excerpt(body))
	}
	sal := &baton.User{Email: "sal.second@example.com", Name: "Sal Second", Role: baton.RoleSDR, ManagerID: &w.tm.Manager1.ID}
	if err := w.db.CreateUser(storetest.System(), sal); err != nil {
		t.Fatal(err)
	}
	resp, body = max.post(leadPath(l)+"/assign", url.Values{"back": {"team"}, "user_id": {fmt.Sprint(sal.ID)}, "note": {"Sam is out"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reassign: %d %s", resp.StatusCode, excerpt(body))
	}
	got, _ := w.db.FindLeadByID(storetest.System(), l.ID)
	if got.OwnerID == nil || *got.OwnerID != sal.ID {
		t.Fatalf("owner after reassign: %v", got.OwnerID)
	}
	// To a rep outside the team: refused, naming the rep.
	resp, body = max.post(leadPath(w.sam[1])+"/assign", url.Values{"back": {"team"}, "user_id": {fmt.Sprint(w.tm.SDR2.ID)}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "is not in your team") {
		t.Fatalf("reassign outside the team: %d", resp.StatusCode)
	}
	// A manager reads the team's lead pages, not the other team's.
	if st, _ := max.get(leadPath(w.sam[1])); st != 200 {
		t.Fatalf("team lead: %d", st)
	}
	if st, _ := max.get(leadPath(w.sue[0])); st != http.StatusNotFound {
		t.Fatalf("other team's lead: %d", st)
	}
	// The admin picks the team.
	admin := w.signedIn(t, w.tm.Admin)
	_, body = admin.get(fmt.Sprintf("/team?manager=%d", w.tm.Manager2.ID))
	mustContain(t, body, "Nora Manager’s team", w.sue[0].Name)
}

func TestPolicyPage(t *testing.T) {
	w := newWorld(t)
	mia := w.signedIn(t, w.tm.Marketing)
	st, body := mia.get("/policy")
	if st != 200 {
		t.Fatalf("policy: %d", st)
	}
	mustContain(t, body, "Version 1 in force", `<label for="body">`, "Backtest", "Senior title")
	// A looser MQL rule, backtested side by side.
	looser := looserPolicy
	resp, body := mia.post("/policy", url.Values{"action": {"backtest"}, "body": {looser}})
	if resp.StatusCode != 200 {
		t.Fatalf("backtest: %d %s", resp.StatusCode, excerpt(body))
	}
	mustContain(t, body, "Backtest: this document against version 1", "This document", "Current (v1)", "By source", "paid_search")
	// Invalid: the problem is shown at the document.
	resp, body = mia.post("/policy", url.Values{"action": {"validate"}, "body": {"fit: [oops"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("invalid: %d", resp.StatusCode)
	}
	mustContain(t, body, `id="body-error" role="alert"`, "fit: [oops")
	_, body = mia.post("/policy", url.Values{"action": {"validate"}, "body": {looser}})
	mustContain(t, body, "The document is valid.")
	// Save, then publish.
	resp, _ = mia.post("/policy", url.Values{"action": {"save"}, "body": {looser}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/policy?draft=") {
		t.Fatalf("save: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body = mia.get(resp.Header.Get("Location"))
	mustContain(t, body, "Draft saved", "Review and publish draft")
	id := between(body, `name="draft_id" value="`, `"`)
	resp, _ = mia.post("/policy/publish", url.Values{"draft_id": {id}, "change_note": {"Looser MQL thresholds"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("publish: %d", resp.StatusCode)
	}
	_, body = mia.get("/policy")
	mustContain(t, body, "Version 2 in force")
	// The recycled list and the quality charts.
	if st, body = mia.get("/recycled"); st != 200 {
		t.Fatalf("recycled: %d %s", st, excerpt(body))
	}
	mustContain(t, body, "Back in nurture", "Quality by source")
}

func TestAdmin(t *testing.T) {
	w := newWorld(t)
	admin := w.signedIn(t, w.tm.Admin)
	st, body := admin.get("/admin/users")
	if st != 200 {
		t.Fatalf("users: %d", st)
	}
	mustContain(t, body, w.tm.SDR1.Email, "Set password")
	// Too short: the error is shown at the user's form.
	resp, body := admin.post(fmt.Sprintf("/admin/users/%d/password", w.tm.SDR1.ID), url.Values{"password": {"short"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("short password: %d", resp.StatusCode)
	}
	mustContain(t, body, "at least 10 characters")
	resp, _ = admin.post(fmt.Sprintf("/admin/users/%d/password", w.tm.SDR1.ID), url.Values{"password": {"a new long password"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("set password: %d", resp.StatusCode)
	}
	if _, err := w.db.CheckPassword(t.Context(), w.tm.SDR1.Email, "a new long password", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	// A token, shown once, that works on the API.
	resp, body = admin.post("/admin/tokens", url.Values{"user_id": {fmt.Sprint(w.tm.Marketing.ID)}, "name": {"forms"}})
	if resp.StatusCode != 200 {
		t.Fatalf("token: %d", resp.StatusCode)
	}
	token := between(body, `readonly value="`, `"`)
	if !strings.HasPrefix(token, "bt_") {
		t.Fatalf("token %q", token)
	}
	req, _ := http.NewRequest("GET", w.srv.URL+"/api/v1/leads?limit=1", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != 200 {
		t.Fatalf("api with the token: %v %v", r.StatusCode, err)
	}
	_, body = admin.get("/admin/tokens")
	mustNotContain(t, body, token)
	resp, body = admin.post("/admin/tokens", url.Values{"user_id": {"0"}, "name": {"x"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "choose a user") {
		t.Fatalf("token without user: %d", resp.StatusCode)
	}
}

// TestAdminSettings covers the admin's webhooks (with the delivery log),
// working calendars and users' roles and teams.
func TestAdminSettings(t *testing.T) {
	w := newWorld(t)
	admin := w.signedIn(t, w.tm.Admin)
	// A webhook to plain http is refused next to the field.
	resp, body := admin.post("/admin/webhooks", url.Values{"url": {"http://hooks.example.com/in"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("plain http: %d", resp.StatusCode)
	}
	mustContain(t, body, "https")
	// Added, it shows the secret Baton made, once; rotated, a new one.
	resp, body = admin.post("/admin/webhooks", url.Values{"url": {"https://hooks.example.com/in"}, "events": {"lead.rejected"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("add webhook: %d", resp.StatusCode)
	}
	secret := regexp.MustCompile(`id="new-secret" class="code" readonly value="(whsec_[^"]+)"`).FindStringSubmatch(body)
	if secret == nil {
		t.Fatalf("the new secret is not shown:\n%s", excerpt(body))
	}
	st, body := admin.get("/admin/webhooks")
	mustNotContain(t, body, secret[1])
	if st != 200 {
		t.Fatalf("webhooks: %d", st)
	}
	mustContain(t, body, "https://hooks.example.com/in", "lead.rejected", "Turn off", "Delivery log")
	hooks, err := w.db.FindWebhooks(storetest.As(w.tm.Admin))
	if err != nil || len(hooks) != 1 {
		t.Fatalf("webhooks %v %v", hooks, err)
	}
	resp, _ = admin.post(fmt.Sprintf("/admin/webhooks/%d/active", hooks[0].ID), url.Values{"active": {"false"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("turn off: %d", resp.StatusCode)
	}
	if hooks, _ = w.db.FindWebhooks(storetest.As(w.tm.Admin)); hooks[0].Active {
		t.Fatal("webhook still on")
	}
	resp, body = admin.post(fmt.Sprintf("/admin/webhooks/%d/rotate", hooks[0].ID), nil)
	rotated := regexp.MustCompile(`id="new-secret" class="code" readonly value="(whsec_[^"]+)"`).FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || rotated == nil || rotated[1] == secret[1] {
		t.Fatalf("rotate: %d %v", resp.StatusCode, rotated)
	}
	mustContain(t, body, "The old secret still signs beside it for 24 hours")
	// As the page shows them, HTML-escaped (base64 has + and /).
	if got, err := w.db.WebhookSecret(storetest.System(), hooks[0].ID); err != nil || got.Secret != html.UnescapeString(rotated[1]) || len(got.OldSecrets) != 1 || got.OldSecrets[0] != html.UnescapeString(secret[1]) {
		t.Fatalf("after the rotation: %+v %v", got, err)
	}
	// A calendar without working hours is refused, a good one saved.
	resp, body = admin.post("/admin/calendars", url.Values{"team": {"East"}, "body": {`{"time_zone": "Europe/Berlin", "hours": {}}`}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad calendar: %d", resp.StatusCode)
	}
	mustContain(t, body, "hours")
	resp, _ = admin.post("/admin/calendars", url.Values{"team": {"East"}, "body": {`{"time_zone": "Europe/Berlin", "hours": {"mon-fri": ["09:00-17:00"]}}`}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("calendar: %d", resp.StatusCode)
	}
	if cals, _ := w.db.Calendars(storetest.As(w.tm.Admin)); !strings.Contains(cals["East"], "Europe/Berlin") {
		t.Fatalf("calendars %v", cals)
	}
	// Role, team and manager of a user.
	resp, _ = admin.post(fmt.Sprintf("/admin/users/%d", w.tm.SDR1.ID), url.Values{"role": {"ae"}, "team": {"West"}, "manager_id": {fmt.Sprint(w.tm.Manager2.ID)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("update user: %d", resp.StatusCode)
	}
	u, _ := w.db.FindUserByID(storetest.As(w.tm.Admin), w.tm.SDR1.ID)
	if u.Role != baton.RoleAE || u.Team != "West" || u.ManagerID == nil || *u.ManagerID != w.tm.Manager2.ID {
		t.Fatalf("user %+v", u)
	}
	// Nobody else sees these pages.
	for _, who := range []*baton.User{w.tm.Marketing, w.tm.Manager1} {
		c := w.signedIn(t, who)
		for _, p := range []string{"/admin/webhooks", "/admin/calendars"} {
			if st, _ := c.get(p); st != http.StatusForbidden {
				t.Fatalf("%s opened %s: %d", who.Email, p, st)
			}
		}
	}
}

// TestNotes: a rep writes a note on their lead's timeline; an empty note is
// refused next to the field; another rep cannot write on it.
func TestNotes(t *testing.T) {
	w := newWorld(t)
	l := w.sam[0]
	sam := w.signedIn(t, w.tm.SDR1)
	resp, body := sam.post(leadPath(l)+"/notes", url.Values{"note": {"  "}, "back": {"lead"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("empty note: %d", resp.StatusCode)
	}
	mustContain(t, body, "write the note")
	resp, _ = sam.post(leadPath(l)+"/notes", url.Values{"note": {"Prefers calls after 4pm"}, "back": {"lead"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("note: %d", resp.StatusCode)
	}
	if st, body := sam.get(leadPath(l)); st != 200 || !strings.Contains(body, "Prefers calls after 4pm") {
		t.Fatalf("note not on the lead page: %d", st)
	}
	sue := w.signedIn(t, w.tm.SDR2)
	if resp, _ := sue.post(leadPath(l)+"/notes", url.Values{"note": {"mine now"}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another rep's note: %d", resp.StatusCode)
	}
}

// formsRE finds the lead forms of a page: the path after /leads/{id}/.
var formsRE = regexp.MustCompile(`action="/leads/(\d+)/([a-z-]+)"`)

// moveForms returns the moves a page (or part of one) offers on a lead: the
// actions of its forms, without notes, attempts and the opportunity's
// edit, which are not moves.
func moveForms(body string, id int64) []string {
	set := map[string]bool{}
	for _, m := range formsRE.FindAllStringSubmatch(body, -1) {
		if m[1] == fmt.Sprint(id) && m[2] != "notes" && m[2] != "attempts" && m[2] != "opportunity" {
			set[m[2]] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// pageForm is the form of each verb the pages offer. Marketing promotes
// and disqualifies through the policy and the API, not these pages; the
// breach is the sweeper's.
var pageForm = map[baton.Verb]string{
	baton.VerbAccept: "accept", baton.VerbReject: "reject", baton.VerbQualify: "qualify", baton.VerbSendBack: "send-back",
	baton.VerbRecycle: "recycle", baton.VerbConvert: "convert", baton.VerbClose: "close", baton.VerbClaim: "claim",
	baton.VerbAssign: "assign", baton.VerbReassign: "assign",
}

// tableForms returns the forms the lifecycle table lets u see on a lead in
// the stage, stood to as rel; open says the lead has an open handoff.
func tableForms(u *baton.User, stage baton.Stage, rel baton.Relation, open bool) []string {
	set := map[string]bool{}
	for _, r := range baton.Moves(baton.ActorOf(u, "test"), stage, rel) {
		// While an open handoff waits for its accept, the moves that would
		// close it as accepted without answering it (convert) are held.
		held := open && r.Effects.Close == baton.HandoffAccepted && !r.Need(baton.NeedOpenHandoff) && baton.CanMake(baton.ActorOf(u, "test"), stage, rel, baton.VerbAccept)
		if f, ok := pageForm[r.Verb]; ok && (open || !r.Need(baton.NeedOpenHandoff)) && !held {
			set[f] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// card is the inbox card of a lead.
func card(body string, id int64) string {
	i := strings.Index(body, fmt.Sprintf(`id="lead-%d"`, id))
	if i < 0 {
		return ""
	}
	rest := body[i:]
	if j := strings.Index(rest, "</li>\n\n"); j >= 0 {
		return rest[:j]
	}
	if j := strings.Index(rest, "</ol>"); j >= 0 {
		return rest[:j]
	}
	return rest
}

// assignOptions returns the names offered in a lead page's assign list.
func assignOptions(body string) []string {
	sel := between(body, `<select id="assign-to" name="user_id">`, `</select>`)
	var names []string
	for _, m := range regexp.MustCompile(`<option value="\d+">([^<(]+) \(`).FindAllStringSubmatch(sel, -1) {
		names = append(names, m[1])
	}
	return names
}

// TestMovesShown: the lead page and the inbox offer exactly the moves the
// lifecycle table lets the viewer make, for each role and stage, and the
// assign list only the users storage would accept.
func TestMovesShown(t *testing.T) {
	w := newWorld(t)
	tm := w.tm
	sys := storetest.System()
	mql, sal, sql := w.sam[0], w.sam[1], w.sam[2]
	opp := w.sue[0]
	amount := 20000.0
	bant := baton.BANT{BudgetAmount: &amount, BudgetCurrency: "USD", BudgetConfirmed: true, Authority: "decision_maker", Need: "forecasting", Timing: "this_quarter"}
	must := func(_ *baton.Lead, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.db.Accept(storetest.As(tm.SDR1), sal.ID))
	must(w.db.Accept(storetest.As(tm.SDR1), sql.ID))
	must(w.db.Qualify(storetest.As(tm.SDR1), sql.ID, bant))
	must(w.db.Accept(storetest.As(tm.SDR2), opp.ID))
	must(w.db.Qualify(storetest.As(tm.SDR2), opp.ID, bant))
	must(w.db.Accept(storetest.As(tm.AE), opp.ID))
	if _, _, err := w.db.Convert(storetest.As(tm.AE), opp.ID, baton.ConvertInput{Name: "Deal", Amount: 1000, IdempotencyKey: "moves-shown-1"}); err != nil {
		t.Fatal(err)
	}
	for _, l := range []*baton.Lead{sql, opp} {
		got, err := w.db.FindLeadByID(sys, l.ID)
		if err != nil || got.OwnerID == nil || *got.OwnerID != tm.AE.ID {
			t.Fatalf("lead %d not the AE's: %v %v", l.ID, got.OwnerID, err)
		}
	}
	// Users to give leads to, made after the routing above: one of each
	// rep role in the first manager's team, one inactive, one AE of the
	// other team.
	mk := func(email, name string, role baton.Role, boss *baton.User) *baton.User {
		u := &baton.User{Email: email, Name: name, Role: role, Team: "East", ManagerID: &boss.ID}
		if err := w.db.CreateUser(sys, u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	mk("sal.second@example.com", "Sal Second", baton.RoleSDR, tm.Manager1)
	mk("ava.second@example.com", "Ava Second", baton.RoleAE, tm.Manager1)
	mk("otto.other@example.com", "Otto Other", baton.RoleAE, tm.Manager2)
	gone := mk("ina.inactive@example.com", "Ina Inactive", baton.RoleSDR, tm.Manager1)
	off := false
	if _, err := w.db.UpdateUser(sys, gone.ID, baton.UserUpdate{Active: &off}); err != nil {
		t.Fatal(err)
	}

	clients := map[*baton.User]*client{}
	as := func(u *baton.User) *client {
		if clients[u] == nil {
			clients[u] = w.signedIn(t, u)
		}
		return clients[u]
	}
	owner := func(l *baton.Lead) *baton.User {
		got, _ := w.db.FindLeadByID(sys, l.ID)
		for _, u := range tm.Users() {
			if got.OwnerID != nil && u.ID == *got.OwnerID {
				return u
			}
		}
		return nil
	}
	type tc struct {
		name    string
		u       *baton.User
		l       *baton.Lead
		stage   baton.Stage
		open    bool
		forms   []string // nil: the page is 404 (or, with gone, says the lead went to someone else)
		gone    bool
		assign  []string // the names in the assign list
		inTeam  bool
		qualify string // "later": the timing later path is offered
	}
	check := func(c tc) {
		t.Helper()
		st, body := as(c.u).get(leadPath(c.l))
		if c.forms == nil && c.gone {
			if st != 200 || len(moveForms(body, c.l.ID)) != 0 {
				t.Fatalf("%s: page %d, want the page of a lead gone to someone else", c.name, st)
			}
			mustContain(t, body, "went to someone else")
			mustNotContain(t, body, c.l.Email)
			return
		}
		if c.forms == nil {
			if st != http.StatusNotFound {
				t.Fatalf("%s: page %d, want 404", c.name, st)
			}
			return
		}
		if st != 200 {
			t.Fatalf("%s: page %d", c.name, st)
		}
		mustContain(t, body, "stage-"+string(c.stage))
		got := moveForms(body, c.l.ID)
		if !slices.Equal(got, c.forms) {
			t.Errorf("%s: the page offers %v, want %v", c.name, got, c.forms)
		}
		// The expectation is the table's.
		var rel baton.Relation
		if o := owner(c.l); o != nil {
			rel = baton.Relation{OwnerID: o.ID, InTeam: c.inTeam}
		}
		if want := tableForms(c.u, c.stage, rel, c.open); !slices.Equal(want, c.forms) {
			t.Errorf("%s: the table allows %v, the test expects %v", c.name, want, c.forms)
		}
		if names := assignOptions(body); !slices.Equal(names, c.assign) {
			t.Errorf("%s: assign list %v, want %v", c.name, names, c.assign)
		}
		if later := strings.Contains(body, `<option value="later"`); later != (c.qualify == "later") {
			t.Errorf("%s: timing later offered %v", c.name, later)
		}
	}
	sdrs := []string{"Sal Second"}
	allSDRs := []string{"Sal Second", "Sue Sdr"}
	aes := []string{"Ava Second"}
	allAEs := []string{"Ava Second", "Otto Other"}
	for _, c := range []tc{
		{name: "sdr on her mql", u: tm.SDR1, l: mql, stage: baton.StageMQL, open: true, forms: []string{"accept", "reject"}},
		{name: "manager on a team mql", u: tm.Manager1, l: mql, stage: baton.StageMQL, open: true, inTeam: true, forms: []string{"accept", "assign", "reject"}, assign: sdrs},
		{name: "admin on an mql", u: tm.Admin, l: mql, stage: baton.StageMQL, open: true, forms: []string{"accept", "assign", "reject"}, assign: allSDRs},
		{name: "marketing on an mql", u: tm.Marketing, l: mql, stage: baton.StageMQL, open: true, forms: []string{}},
		{name: "another team's manager on an mql", u: tm.Manager2, l: mql},
		{name: "another sdr on an mql", u: tm.SDR2, l: mql},
		{name: "ae on an mql", u: tm.AE, l: mql},

		{name: "sdr on her sal", u: tm.SDR1, l: sal, stage: baton.StageSAL, forms: []string{"qualify", "reject"}, qualify: "later"},
		{name: "manager on a team sal", u: tm.Manager1, l: sal, stage: baton.StageSAL, inTeam: true, forms: []string{"assign", "qualify", "reject"}, assign: sdrs, qualify: "later"},
		{name: "admin on a sal", u: tm.Admin, l: sal, stage: baton.StageSAL, forms: []string{"assign", "qualify", "reject"}, assign: allSDRs, qualify: "later"},
		{name: "marketing on a sal", u: tm.Marketing, l: sal, stage: baton.StageSAL, forms: []string{}},

		{name: "ae on an sql", u: tm.AE, l: sql, stage: baton.StageSQL, open: true, forms: []string{"accept", "recycle", "send-back"}},
		{name: "manager on a team sql", u: tm.Manager1, l: sql, stage: baton.StageSQL, open: true, inTeam: true, forms: []string{"accept", "assign", "recycle", "send-back"}, assign: aes},
		{name: "admin on an sql", u: tm.Admin, l: sql, stage: baton.StageSQL, open: true, forms: []string{"accept", "assign", "recycle", "send-back"}, assign: allAEs},
		{name: "marketing on an sql", u: tm.Marketing, l: sql, stage: baton.StageSQL, open: true, forms: []string{}},
		{name: "the qualifier on the sql she handed on", u: tm.SDR1, l: sql, gone: true},

		{name: "ae on an opportunity", u: tm.AE, l: opp, stage: baton.StageOpportunity, forms: []string{"close"}},
		{name: "manager on a team opportunity", u: tm.Manager1, l: opp, stage: baton.StageOpportunity, inTeam: true, forms: []string{"assign", "close"}, assign: aes},
		{name: "admin on an opportunity", u: tm.Admin, l: opp, stage: baton.StageOpportunity, forms: []string{"assign", "close"}, assign: allAEs},
		{name: "marketing on an opportunity", u: tm.Marketing, l: opp, stage: baton.StageOpportunity, forms: []string{}},
	} {
		check(c)
	}

	// The inbox offers on each card what the table allows: an SDR accepts
	// or rejects her MQL; an AE accepts, sends back or recycles an SQL, and
	// rejects none.
	_, body := as(tm.SDR1).get("/inbox")
	if got := moveForms(card(body, mql.ID), mql.ID); !slices.Equal(got, []string{"accept", "reject"}) {
		t.Errorf("sdr's inbox card offers %v", got)
	}
	mustContain(t, card(body, mql.ID), "Log attempt")
	_, body = as(tm.AE).get("/inbox")
	c := card(body, sql.ID)
	if got := moveForms(c, sql.ID); !slices.Equal(got, []string{"accept", "recycle", "send-back"}) {
		t.Errorf("ae's inbox card offers %v:\n%s", got, c)
	}
	mustContain(t, c, "Send back…", "Return to nurture…")
	mustNotContain(t, c, "Reject…", "Log attempt", "Convert…")

	// Accepted, the SQL has no handoff to answer: no accept.
	must(w.db.Accept(storetest.As(tm.AE), sql.ID))
	check(tc{name: "ae on an accepted sql", u: tm.AE, l: sql, stage: baton.StageSQL, forms: []string{"convert", "recycle", "send-back"}})

	// A rep may not reassign: storage refuses, whatever the form.
	resp, _ := as(tm.SDR1).post(leadPath(mql)+"/assign", url.Values{"back": {"lead"}, "user_id": {fmt.Sprint(tm.SDR2.ID)}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a rep reassigns: %d", resp.StatusCode)
	}
	if o := owner(mql); o == nil || o.ID != tm.SDR1.ID {
		t.Fatalf("owner after a refused reassign: %v", o)
	}
}

// TestSendBackRecycleClose: the page's forms of the moves an AE makes after
// accepting an SQL call the verbs the API calls, with their needs.
func TestSendBackRecycleClose(t *testing.T) {
	w := newWorld(t)
	tm := w.tm
	sys := storetest.System()
	amount := 20000.0
	bant := baton.BANT{BudgetAmount: &amount, BudgetCurrency: "USD", BudgetConfirmed: true, Authority: "decision_maker", Need: "forecasting", Timing: "this_quarter"}
	a, b, c := w.sam[0], w.sam[1], w.sam[2]
	for _, l := range []*baton.Lead{a, b} {
		if _, err := w.db.Accept(storetest.As(tm.SDR1), l.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.db.Qualify(storetest.As(tm.SDR1), l.ID, bant); err != nil {
			t.Fatal(err)
		}
	}
	ae := w.signedIn(t, tm.AE)
	// Send back needs a reason, shown next to the field.
	resp, body := ae.post(leadPath(a)+"/send-back", url.Values{"back": {"lead"}, "reason": {"  "}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("send back without a reason: %d", resp.StatusCode)
	}
	mustContain(t, body, fmt.Sprintf(`id="err-sendback-%d-reason" role="alert">`, a.ID), "Send back…")
	resp, _ = ae.post(leadPath(a)+"/send-back", url.Values{"back": {"lead"}, "reason": {"no budget owner yet"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/inbox") {
		t.Fatalf("send back: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body = ae.get(resp.Header.Get("Location"))
	mustContain(t, body, "Lead sent back")
	got, _ := w.db.FindLeadByID(sys, a.ID)
	if got.Stage != baton.StageSAL || got.OwnerID == nil || *got.OwnerID != tm.SDR1.ID {
		t.Fatalf("sent back: %s owner %v", got.Stage, got.OwnerID)
	}
	// Recycle, from the inbox.
	resp, _ = ae.post(leadPath(b)+"/recycle", url.Values{"back": {"inbox"}, "reason": {"timing is next year"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("recycle: %d", resp.StatusCode)
	}
	_, body = ae.get(resp.Header.Get("Location"))
	mustContain(t, body, "Lead returned to marketing")
	got, _ = w.db.FindLeadByID(sys, b.ID)
	if got.Stage != baton.StageRecycled || got.OwnerID != nil {
		t.Fatalf("recycled: %s owner %v", got.Stage, got.OwnerID)
	}
	// The SDR sends a lead back to nurture from qualification, timing later.
	sam := w.signedIn(t, tm.SDR1)
	if _, err := w.db.Accept(storetest.As(tm.SDR1), c.ID); err != nil {
		t.Fatal(err)
	}
	resp, body = sam.post(leadPath(c)+"/qualify", url.Values{"back": {"lead"}, "budget_amount": {"20000"}, "budget_currency": {"usd"},
		"authority": {"decision_maker"}, "need": {"forecasting"}, "timing": {"later"}, "timing_date": {w.clock.Now().AddDate(0, 3, 0).Format("2006-01-02")}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("qualify later: %d %s", resp.StatusCode, excerpt(body))
	}
	_, body = sam.get(resp.Header.Get("Location"))
	mustContain(t, body, "Timing later: the lead is back in nurture")
	if got, _ = w.db.FindLeadByID(sys, c.ID); got.Stage != baton.StageRecycled {
		t.Fatalf("qualified later: %s", got.Stage)
	}
	// Close: won needs its value.
	if _, err := w.db.Qualify(storetest.As(tm.SDR1), a.ID, bant); err != nil {
		t.Fatal(err)
	}
	got, _ = w.db.FindLeadByID(sys, a.ID)
	if got.OwnerID == nil || *got.OwnerID != tm.AE.ID {
		t.Fatalf("requalified to %v", got.OwnerID)
	}
	if _, _, err := w.db.Convert(storetest.As(tm.AE), a.ID, baton.ConvertInput{Name: "Deal", Amount: 1000, IdempotencyKey: "close-1"}); err != nil {
		t.Fatal(err)
	}
	_, body = ae.get(leadPath(a))
	mustContain(t, body, "Close the opportunity")
	resp, body = ae.post(leadPath(a)+"/close", url.Values{"back": {"lead"}, "outcome": {"won"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("won without a value: %d", resp.StatusCode)
	}
	mustContain(t, body, `id="close-value"`, "the value won")
	resp, _ = ae.post(leadPath(a)+"/close", url.Values{"back": {"lead"}, "outcome": {"won"}, "value": {"18000"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("close won: %d", resp.StatusCode)
	}
	_, body = ae.get(resp.Header.Get("Location"))
	mustContain(t, body, "Opportunity closed won", "stage-won")
	if forms := moveForms(body, a.ID); len(forms) != 0 {
		t.Fatalf("a won lead offers %v", forms)
	}
}

// TestTimeZones: dates are written in the viewer's zone, in one format,
// with the zone named in the footer; a user sets their own zone on the
// profile page, and a zone that does not exist is refused on the page.
func TestTimeZones(t *testing.T) {
	w := newWorld(t)
	sam := w.signedIn(t, w.tm.SDR1)
	l := w.sam[0]
	_, body := sam.get(leadPath(l))
	created := l.CreatedAt.UTC().Format("Mon 2 Jan 2006, 15:04")
	mustContain(t, body, "Times are in UTC", created, `data-due="`)
	resp, body := sam.post("/profile/time-zone", url.Values{"time_zone": {"Mars/Olympus"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown zone: %d", resp.StatusCode)
	}
	mustContain(t, body, `unknown time zone &#34;Mars/Olympus&#34;`, `aria-invalid="true"`)
	if resp, _ := sam.post("/profile/time-zone", url.Values{"time_zone": {"America/New_York"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("set zone: %d", resp.StatusCode)
	}
	ny, _ := time.LoadLocation("America/New_York")
	_, body = sam.get(leadPath(l))
	mustContain(t, body, "Times are in America/New_York (E", l.CreatedAt.In(ny).Format("Mon 2 Jan 2006, 15:04"))
	mustNotContain(t, body, created)
	// Back to the calendar's zone.
	sam.post("/profile/time-zone", url.Values{"time_zone": {""}})
	_, body = sam.get("/profile")
	mustContain(t, body, "the zone of your working calendar")
}
