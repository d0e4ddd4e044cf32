package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/storetest"
)

// testBANT is a qualification the test policy accepts.
func testBANT() baton.BANT {
	amount := 20000.0
	return baton.BANT{BudgetAmount: &amount, BudgetCurrency: "USD", BudgetConfirmed: true, Authority: "decision_maker",
		DecisionMaker: "the CFO", Need: "forecasting", Timing: "this_quarter"}
}

// follow reads the page a POST sent the browser to.
func (c *client) follow(resp *http.Response) string {
	c.t.Helper()
	if resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("want a redirect, got %d", resp.StatusCode)
	}
	st, body := c.get(resp.Header.Get("Location"))
	if st != 200 {
		c.t.Fatalf("%s: %d\n%s", resp.Header.Get("Location"), st, excerpt(body))
	}
	return body
}

// TestAEDay is an account executive's day through the pages: the SQL a
// rep qualified arrives, is accepted (convert is not offered before),
// converted (a past close date is refused next to its field), its
// opportunity shown and edited, and closed won; another is closed lost
// with a reason of the list.
func TestAEDay(t *testing.T) {
	w := newWorld(t)
	tm := w.tm
	sys := storetest.System()
	for _, p := range []baton.Product{{Name: "GTX Basic", Price: 550}, {Name: "GTX Pro", Series: "GTX", Price: 4821}, {Name: "MG Advanced", Price: 3393}} {
		if err := w.db.CreateProduct(sys, &p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.db.CreateAccount(sys, &baton.Account{Name: "Initech", Domain: "initech.example"}); err != nil {
		t.Fatal(err)
	}
	a, b := w.sam[0], w.sam[1]
	for _, l := range []*baton.Lead{a, b} {
		if _, err := w.db.Accept(storetest.As(tm.SDR1), l.ID); err != nil {
			t.Fatal(err)
		}
	}
	// The rep qualifies one on the page, and lands on the inbox told who
	// has it now.
	sam := w.signedIn(t, tm.SDR1)
	f := url.Values{"back": {"lead"}, "budget_amount": {"20000"}, "budget_currency": {"usd"}, "budget_confirmed": {"1"},
		"authority": {"decision_maker"}, "decision_maker": {"the CFO"}, "need": {"forecasting"}, "timing": {"this_quarter"}}
	resp, _ := sam.post(leadPath(a)+"/qualify", f)
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/inbox") {
		t.Fatalf("after qualify: %d %s", resp.StatusCode, loc)
	}
	body := sam.follow(resp)
	mustContain(t, body, `class="flash" role="status">Lead Olivia Chen qualified (SQL) and handed to Alex Ae, who must now accept it.`)
	mustNotContain(t, body, "Not allowed", "not yours")
	if _, err := w.db.Qualify(storetest.As(tm.SDR1), b.ID, testBANT()); err != nil {
		t.Fatal(err)
	}

	ae := w.signedIn(t, tm.AE)
	_, body = ae.get("/inbox")
	mustContain(t, body, a.Name, b.Name)
	// Before the SQL's handoff is accepted, the page offers accept, not
	// convert.
	_, body = ae.get(leadPath(a))
	mustContain(t, body, `action="/leads/`+fmt.Sprint(a.ID)+`/accept"`, "Send back…", "Return to nurture…")
	mustNotContain(t, body, "Convert to an opportunity")
	resp, _ = ae.post(leadPath(a)+"/accept", url.Values{"back": {"inbox"}, "sort": {"deadline"}})
	body = ae.follow(resp)
	mustContain(t, body, "Lead accepted: Olivia Chen is yours to work, Alex Ae. Next: convert it")

	_, body = ae.get(leadPath(a))
	mustContain(t, body, "Convert to an opportunity", `<option value="GTX Pro">GTX Pro (GTX)</option>`, `<datalist id="accounts"><option value="Initech">`)
	key := between(body, `name="idempotency_key" value="`, `"`)
	today := w.clock.Now().UTC()
	conv := func(close, product string) url.Values {
		return url.Values{"back": {"lead"}, "idempotency_key": {key}, "name": {"Northwind deal"}, "amount": {"18000"},
			"product": {product}, "expected_close": {close}, "account": {"Initech"}}
	}
	// A close date in the past is refused next to its field, the form kept.
	resp, body = ae.post(leadPath(a)+"/convert", conv(today.AddDate(0, 0, -1).Format("2006-01-02"), "GTX Pro"))
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("past close: %d %s", resp.StatusCode, excerpt(body))
	}
	mustContain(t, body, fmt.Sprintf(`id="err-convert-%d-expected_close" role="alert">%s is in the past`, a.ID, today.AddDate(0, 0, -1).Format("2006-01-02")),
		`id="expected_close" name="expected_close" type="date" required min="`+today.Format("2006-01-02")+`"`, `aria-invalid="true"`,
		`<option value="GTX Pro" selected>`, `value="Northwind deal"`)
	mustNotContain(t, body, `class="refused"`)
	// A product that is not one of the list, an account that does not exist.
	_, body = ae.post(leadPath(a)+"/convert", conv(today.Format("2006-01-02"), "Teleportation"))
	mustContain(t, body, fmt.Sprintf(`id="err-convert-%d-product" role="alert">unknown product`, a.ID))
	bad := conv(today.Format("2006-01-02"), "GTX Pro")
	bad.Set("account", "Nobody Inc")
	_, body = ae.post(leadPath(a)+"/convert", bad)
	mustContain(t, body, fmt.Sprintf(`id="err-convert-%d-account" role="alert">no account is named`, a.ID))
	if got, _ := w.db.FindLeadByID(sys, a.ID); got.Stage != baton.StageSQL {
		t.Fatalf("refused conversions moved the lead: %s", got.Stage)
	}
	// Today is not the past.
	close := today.AddDate(0, 1, 0).Format("2006-01-02")
	resp, body = ae.post(leadPath(a)+"/convert", conv(close, "GTX Pro"))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != leadPath(a) {
		t.Fatalf("convert: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), excerpt(body))
	}
	body = ae.follow(resp)
	deal := between(body, `<section class="panel deal"`, `</section>`)
	mustContain(t, body, "Lead converted to an opportunity: Northwind deal, 18000.", "stage-opportunity")
	mustContain(t, deal, "<dd>Northwind deal</dd>", "<dd>prospecting</dd>", "<dd>18000</dd>", "<dd>GTX Pro</dd>",
		"<dd>"+today.AddDate(0, 1, 0).Format("2 Jan 2006")+"</dd>", "<dd>Initech</dd>", "Edit the opportunity…")
	oid := between(deal, `name="opportunity_id" value="`, `"`)

	// Edit: a past close refused at its field; then a new amount, product
	// and close, each change on the lead's timeline.
	edit := func(amount, product, close string) url.Values {
		return url.Values{"back": {"lead"}, "opportunity_id": {oid}, "name": {"Northwind deal"}, "amount": {amount}, "product": {product}, "expected_close": {close}}
	}
	resp, body = ae.post(leadPath(a)+"/opportunity", edit("21000", "MG Advanced", today.AddDate(0, 0, -3).Format("2006-01-02")))
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("edit with a past close: %d", resp.StatusCode)
	}
	mustContain(t, body, fmt.Sprintf(`id="err-opportunity-%d-expected_close" role="alert">`, a.ID), `<details class="box" open>`)
	later := today.AddDate(0, 2, 0).Format("2006-01-02")
	body = ae.follow(ae.mustPost(leadPath(a)+"/opportunity", edit("21,000", "MG Advanced", later)))
	mustContain(t, body, "Opportunity saved: Northwind deal, 21000.", "<dd>21000</dd>", "<dd>MG Advanced</dd>",
		"opportunity.amount: 18000 → 21000", "opportunity.product: GTX Pro → MG Advanced", "by Alex Ae",
		`name="expected_close" type="date" min="`+today.Format("2006-01-02")+`" value="`+later+`"`)
	// Another rep cannot change it, whatever the form says.
	sue := w.signedIn(t, tm.SDR2)
	if resp, _ := sue.post(leadPath(a)+"/opportunity", edit("1", "GTX Basic", later)); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another rep edits the deal: %d", resp.StatusCode)
	}

	// Close won, with its value.
	body = ae.follow(ae.mustPost(leadPath(a)+"/close", url.Values{"back": {"lead"}, "outcome": {"won"}, "value": {"21000"}}))
	mustContain(t, body, "Opportunity closed won: Olivia Chen, worth 21000.", "stage-won", "<dd>won</dd>")
	mustNotContain(t, body, "Edit the opportunity…")

	// The other: accepted, converted, lost with a reason of the list.
	if _, err := w.db.Accept(storetest.As(tm.AE), b.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.db.Convert(storetest.As(tm.AE), b.ID, baton.ConvertInput{Name: "Fabrikam deal", Amount: 9000, IdempotencyKey: "ae-day-b"}); err != nil {
		t.Fatal(err)
	}
	_, body = ae.get(leadPath(b))
	mustContain(t, body, `<select id="close-reason" name="reason"`, `<option value="competitor">competitor</option>`, `<option value="no_decision">no decision</option>`)
	resp, body = ae.post(leadPath(b)+"/close", url.Values{"back": {"lead"}, "outcome": {"lost"}, "reason": {"other"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("lost for other without a note: %d", resp.StatusCode)
	}
	mustContain(t, body, fmt.Sprintf(`id="err-close-%d-note" role="alert">the reason other needs a note`, b.ID), `<option value="other" selected>`)
	resp, body = ae.post(leadPath(b)+"/close", url.Values{"back": {"lead"}, "outcome": {"lost"}, "reason": {"whim"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `unknown reason &#34;whim&#34;`) {
		t.Fatalf("lost for a reason off the list: %d", resp.StatusCode)
	}
	body = ae.follow(ae.mustPost(leadPath(b)+"/close", url.Values{"back": {"lead"}, "outcome": {"lost"}, "reason": {"competitor"}, "note": {"went with Contoso"}}))
	mustContain(t, body, "Opportunity closed lost (competitor: went with Contoso)", "stage-lost", "competitor: went with Contoso")
}

// mustPost posts the form and fails unless the answer is a redirect.
func (c *client) mustPost(path string, form url.Values) *http.Response {
	c.t.Helper()
	resp, body := c.post(path, form)
	if resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("POST %s: %d\n%s", path, resp.StatusCode, excerpt(body))
	}
	return resp
}

// TestRefusalsSayWhy: an action refused because the page was older than
// the lead (a second tab, a manager's reassignment) says why at the top of
// the page it came from, not as an error page, and never under a success
// message; a notification's link to a lead gone to someone else says so.
func TestRefusalsSayWhy(t *testing.T) {
	w := newWorld(t)
	tm := w.tm
	l, m := w.sam[0], w.sam[1]
	sam := w.signedIn(t, tm.SDR1)
	tab2 := w.signedIn(t, tm.SDR1)
	tab2.get("/inbox")
	// Tab one accepts; tab two, still showing the MQL, accepts too.
	sam.follow(sam.mustPost(leadPath(l)+"/accept", url.Values{"back": {"inbox"}}))
	resp, body := tab2.post(leadPath(l)+"/accept", url.Values{"back": {"inbox"}, "sort": {"deadline"}})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("stale accept: %d", resp.StatusCode)
	}
	mustContain(t, body, `<h1>Inbox</h1>`, `<p class="refused" role="alert">Olivia Chen was answered already, perhaps on another page: it is SAL now, owned by Sam Sdr, and no handoff waits for an answer.</p>`)
	mustNotContain(t, body, `class="flash"`, "error-page")

	// The manager gives the other lead to another rep; the rep's stale
	// inbox accepts it: refused, saying it is no longer theirs.
	sal := &baton.User{Email: "sal.second@example.com", Name: "Sal Second", Role: baton.RoleSDR, ManagerID: &tm.Manager1.ID, Active: true}
	if err := w.db.CreateUser(storetest.System(), sal); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Assign(storetest.As(tm.Manager1), m.ID, sal.ID, "Sam is busy"); err != nil {
		t.Fatal(err)
	}
	resp, body = sam.post(leadPath(m)+"/accept", url.Values{"back": {"inbox"}})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("accept a reassigned lead: %d", resp.StatusCode)
	}
	mustContain(t, body, fmt.Sprintf(`<p class="refused" role="alert">lead %d is no longer yours`, m.ID))
	mustNotContain(t, body, m.Email)
	// From its (stale) lead page, the same refusal lands on a page that
	// says the lead went to someone else.
	resp, body = sam.post(leadPath(m)+"/accept", url.Values{"back": {"lead"}})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("accept a reassigned lead from its page: %d", resp.StatusCode)
	}
	mustContain(t, body, fmt.Sprintf("Lead %d went to someone else", m.ID), "is no longer yours", `href="/inbox"`)
	// The link of the notification of its assignment: not a 403 or 404.
	st, body := sam.get(leadPath(m))
	if st != 200 {
		t.Fatalf("a reassigned lead's link: %d", st)
	}
	mustContain(t, body, fmt.Sprintf("Lead %d went to someone else", m.ID), "What you were told about it", "New MQL: "+m.Name)
	mustNotContain(t, body, m.Email, "Accept lead")
	// A lead the rep never had is still not found.
	if st, _ := sam.get(leadPath(w.sue[0])); st != http.StatusNotFound {
		t.Fatalf("another rep's lead: %d", st)
	}
	// A permission refusal says why on the lead page: a development rep
	// may not reassign.
	resp, body = sam.post(leadPath(w.sam[2])+"/assign", url.Values{"back": {"lead"}, "user_id": {fmt.Sprint(sal.ID)}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a rep reassigns: %d", resp.StatusCode)
	}
	mustContain(t, body, `<p class="refused" role="alert">`, "Profile", w.sam[2].Email)
}

// TestRecordPage: the stage bar, the contact links, the attributes with the
// empty and false ones folded, the fields the policy hides from sales
// absent from a rep's page and present on marketing's.
func TestRecordPage(t *testing.T) {
	w := newWorld(t)
	tm := w.tm
	sys := storetest.System()
	l := storetest.MustLead(t, w.db, &baton.Lead{Email: "priya.rao@globex.example", Name: "Priya Rao", Phone: "+91 98450 12345",
		Company: "Globex", Stage: baton.StageSAL, OwnerID: &tm.SDR1.ID, Attrs: baton.Attrs{
			"Tags": "Will revert after reading the email", "Converted": true, "Lead Quality": "High in Relevance",
			"Specialization": "Finance Management", "TotalVisits": 7.0, "Do Not Call": false, "Search": "", "Newsletter": true}})
	if _, err := w.db.PublishDocument(sys, testPolicy+"hidden_from_reps: [attributes.Tags, attributes.Converted, attributes.Lead Quality]\n"); err != nil {
		t.Fatal(err)
	}
	tags := "attributes.Tags"
	if _, err := w.db.UpdateLead(sys, l.ID, baton.LeadUpdate{Attrs: baton.Attrs{"Tags": "Interested in other courses"}}); err != nil {
		t.Fatalf("update %s: %v", tags, err)
	}
	sam := w.signedIn(t, tm.SDR1)
	_, body := sam.get(leadPath(l))
	mustContain(t, body,
		`<li class="step step-done"><span class="sr-only">passed: </span>new</li>`,
		`<li class="step step-current" aria-current="step"><span class="sr-only">now: </span>sal</li>`,
		`<li class="step step-todo"><span class="sr-only"></span>won / lost</li>`,
		`<span class="exit exit-todo">recycled</span>`,
		`<a href="mailto:priya.rao@globex.example">priya.rao@globex.example</a>`, `<a href="tel:&#43;919845012345">&#43;91 98450 12345</a>`,
		"<dt>Specialization</dt><dd>Finance Management</dd>", "<dt>TotalVisits</dt><dd>7</dd>", "<li>Newsletter</li>",
		`<summary>2 empty or “no” fields</summary>`, "<dt>Do Not Call</dt><dd>no</dd>",
		"3 fields are hidden from sales by the scoring policy")
	mustNotContain(t, body, "Will revert", "Interested in other courses", "Converted", "Lead Quality", "High in Relevance", "Tags")
	// Marketing sees every field, and the history of the hidden one.
	_, body = w.signedIn(t, tm.Marketing).get(leadPath(l))
	mustContain(t, body, "<dt>Tags</dt><dd>Interested in other courses</dd>", "<dt>Lead Quality</dt><dd>High in Relevance</dd>",
		"<li>Converted</li>", "attributes.Tags: Will revert after reading the email → Interested in other courses")
	mustNotContain(t, body, "hidden from sales by the scoring policy")
	// So does their manager's page hide them.
	_, body = w.signedIn(t, tm.Manager1).get(leadPath(l))
	mustNotContain(t, body, "Interested in other courses", "High in Relevance")
}

// TestQualifiedWhenItMoved: an SQL says when and how it was qualified,
// with its BANT, long after its engagement decayed below the MQL rule; the
// stage bar shows where it is, and a recycled lead its exit.
func TestQualifiedWhenItMoved(t *testing.T) {
	w := newWorld(t)
	tm := w.tm
	a, r := w.sam[0], w.sam[1]
	for _, l := range []*baton.Lead{a, r} {
		if _, err := w.db.Accept(storetest.As(tm.SDR1), l.ID); err != nil {
			t.Fatal(err)
		}
	}
	qualifiedAt := w.clock.Now()
	if _, err := w.db.Qualify(storetest.As(tm.SDR1), a.ID, testBANT()); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Reject(storetest.As(tm.SDR1), r.ID, baton.Rejection{Reason: baton.ReasonNoBudget}); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(90 * 24 * time.Hour)
	ex, err := w.db.ExplainScore(storetest.System(), a.ID)
	if err != nil || ex.Qualifies {
		t.Fatalf("the engagement has not decayed below the MQL rule: %+v %v", ex, err)
	}
	_, body := w.signedIn(t, tm.AE).get(leadPath(a))
	mustContain(t, body, "<strong>Qualified (SQL)</strong> on "+qualifiedAt.UTC().Format("Mon 2 Jan 2006, 15:04")+" by Sam Sdr, with BANT: budget 20000 USD; authority decision_maker; need: forecasting; timing this_quarter.",
		"<strong>Marketing qualified (MQL)</strong> on", "policy v1: fit 30 &gt;= 20",
		`<li class="step step-done"><span class="sr-only">passed: </span>sal</li>`, `<li class="step step-current" aria-current="step"><span class="sr-only">now: </span>sql</li>`)
	mustNotContain(t, body, "not qualified", "Not qualified")
	// The recycled lead left the funnel from sal.
	_, body = w.signedIn(t, tm.Marketing).get(leadPath(r))
	mustContain(t, body, `<span class="exit exit-current" aria-current="step">recycled</span>`, "(left from sal)",
		`<li class="step step-done"><span class="sr-only">passed: </span>sal</li>`, `<li class="step step-todo"><span class="sr-only"></span>sql</li>`,
		"By today’s scores: policy v1:")
}

// TestNoLeadWithoutAMove: a development rep who holds an SQL (their
// role changed, or an import said so) is told to ask their manager, who
// may give it to an account executive; the rep may claim an unassigned MQL
// from the inbox.
func TestNoLeadWithoutAMove(t *testing.T) {
	w := newWorld(t)
	tm := w.tm
	sql := storetest.MustLead(t, w.db, &baton.Lead{Email: "kai.imported@contoso.example", Name: "Kai Imported", Stage: baton.StageSQL, OwnerID: &tm.SDR1.ID})
	pool := storetest.MustLead(t, w.db, &baton.Lead{Email: "nadia.pool@fabrikam.example", Name: "Nadia Pool", Company: "Fabrikam", Stage: baton.StageMQL})
	sam := w.signedIn(t, tm.SDR1)
	_, body := sam.get(leadPath(sql))
	mustContain(t, body, "This lead is yours, but nothing here is yours to do: a lead that is sql is worked by an account executive, and you are a development rep. Ask your manager, Max Manager, to reassign it.")
	if forms := moveForms(body, sql.ID); len(forms) != 0 {
		t.Fatalf("the rep is offered %v", forms)
	}
	_, body = w.signedIn(t, tm.Manager1).get(leadPath(sql))
	if names := assignOptions(body); len(names) != 1 || names[0] != "Alex Ae" {
		t.Fatalf("the manager may give the SQL to %v", names)
	}

	// The unassigned MQL is in every development rep's inbox to claim.
	_, body = sam.get("/inbox")
	claim := between(body, `<section class="panel claims"`, `</section>`)
	mustContain(t, claim, "Leads you may claim", "Nadia Pool", "an MQL nobody could take", fmt.Sprintf(`action="/leads/%d/claim"`, pool.ID))
	mustNotContain(t, claim, fmt.Sprintf(`href="/leads/%d"`, pool.ID))
	body = sam.follow(sam.mustPost(fmt.Sprintf("/leads/%d/claim", pool.ID), url.Values{"back": {"inbox"}}))
	mustContain(t, body, "Lead claimed: Nadia Pool is yours to answer now.", fmt.Sprintf(`id="lead-%d"`, pool.ID))
	// Sue's stale inbox claims it too: refused, saying why, on her inbox.
	sue := w.signedIn(t, tm.SDR2)
	resp, body := sue.post(fmt.Sprintf("/leads/%d/claim", pool.ID), url.Values{"back": {"inbox"}})
	if resp.StatusCode != http.StatusConflict && resp.StatusCode != http.StatusNotFound {
		t.Fatalf("claim a claimed lead: %d", resp.StatusCode)
	}
	mustContain(t, body, `<p class="refused" role="alert">`, "<h1>Inbox</h1>")
	mustNotContain(t, body, "Nadia Pool")
}
