package web_test

import (
	"encoding/csv"
	"fmt"
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

// allNames are the names of the lead links in the rows of a page, in order.
func allNames(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<td><a href="/leads/\d+">([^<]+)</a></td>`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestLeadListFiltersAndSorts(t *testing.T) {
	w := newWorld(t)
	admin := w.signedIn(t, w.tm.Admin)
	get := func(path string) []string {
		t.Helper()
		st, body := admin.get(path)
		if st != 200 {
			t.Fatalf("%s: %d %s", path, st, excerpt(body))
		}
		return allNames(body)
	}
	all := get("/leads")
	if len(all) != len(people)+6 {
		t.Fatalf("all leads: %d %v", len(all), all)
	}
	// Newest first by default: the last person made is first.
	if all[0] != people[len(people)-1].name {
		t.Fatalf("newest first: %v", all)
	}
	for _, c := range []struct {
		path       string
		want, not  []string
		wantExactN int
	}{
		{"/leads?stage=mql", []string{"Olivia Chen", "Noah Kim"}, []string{"Quiet Lead 0"}, len(people)},
		{"/leads?q=northwind", []string{"Olivia Chen"}, []string{"Liam Novak"}, 1},
		{"/leads?source=referral", []string{"Kenji Sato", "Noah Kim"}, []string{"Olivia Chen"}, 2},
		{fmt.Sprintf("/leads?owner=%d", w.tm.SDR2.ID), []string{w.sue[0].Name}, []string{w.sam[0].Name}, len(w.sue)},
		{"/leads?from=2026-03-03", nil, []string{"Olivia Chen"}, 0},
		{"/leads?from=2026-03-02&to=2026-03-02", []string{"Olivia Chen", "Quiet Lead 3"}, nil, len(people) + 6},
		{"/leads?to=2026-03-01", nil, []string{"Olivia Chen"}, 0},
	} {
		got := get(c.path)
		for _, n := range c.want {
			if !slices.Contains(got, n) {
				t.Errorf("%s lacks %s: %v", c.path, n, got)
			}
		}
		for _, n := range c.not {
			if slices.Contains(got, n) {
				t.Errorf("%s has %s", c.path, n)
			}
		}
		if len(got) != c.wantExactN {
			t.Errorf("%s: %d rows, want %d: %v", c.path, len(got), c.wantExactN, got)
		}
	}
	// Sorting by name runs A to Z; the same head again runs Z to A.
	byName := get("/leads?stage=mql&sort=name")
	if !slices.IsSorted(byName) || byName[0] != "Amara Okafor" {
		t.Fatalf("by name: %v", byName)
	}
	_, body := admin.get("/leads?stage=mql&sort=name")
	mustContain(t, body, `aria-sort="ascending"`, `href="/leads?dir=desc&amp;sort=name&amp;stage=mql"`)
	reversed := get("/leads?stage=mql&sort=name&dir=desc")
	if !slices.IsSortedFunc(reversed, func(a, b string) int { return strings.Compare(b, a) }) || reversed[0] != byName[len(byName)-1] {
		t.Fatalf("by name, Z to A: %v", reversed)
	}
	// The fit and engagement columns: highest first, then lowest first.
	byFit := get("/leads?sort=fit")
	if slices.Index(byFit, "Olivia Chen") > slices.Index(byFit, "Quiet Lead 0") {
		t.Fatalf("by fit: %v", byFit)
	}
	byFitUp := get("/leads?sort=fit&dir=asc")
	if slices.Index(byFitUp, "Olivia Chen") < slices.Index(byFitUp, "Quiet Lead 0") {
		t.Fatalf("by fit, lowest first: %v", byFitUp)
	}
	if get("/leads?sort=engagement")[0] == get("/leads?sort=engagement&dir=asc")[0] {
		t.Fatal("by engagement: the same first row both ways")
	}
	// A filter that is not understood is said next to its field; the rest
	// of the list still shows.
	st, body := admin.get("/leads?from=yesterday&stage=mql")
	if st != http.StatusBadRequest {
		t.Fatalf("bad day: %d", st)
	}
	mustContain(t, body, "must be a day (YYYY-MM-DD)", `id="err-f-from"`, "Olivia Chen")
	// A rep's owner filter is not offered; a manager's lists their team.
	sam := w.signedIn(t, w.tm.SDR1)
	_, body = sam.get("/leads")
	mustNotContain(t, body, `id="f-owner"`, "Reassign the ticked leads")
	max := w.signedIn(t, w.tm.Manager1)
	_, body = max.get("/leads")
	mustContain(t, body, `id="f-owner"`, ">Sam Sdr</option>")
	mustNotContain(t, body, ">Sue Sdr</option>", `value="none"`)
}

func TestLeadListPages(t *testing.T) {
	w := newWorld(t)
	var more []*baton.Lead
	for i := range 60 {
		more = append(more, &baton.Lead{Email: fmt.Sprintf("bulk%02d@example.org", i), Name: fmt.Sprintf("Bulk Lead %02d", i)})
	}
	if res, err := w.db.ImportLeads(storetest.System(), more); err != nil || res.Created != 60 {
		t.Fatalf("import: %+v %v", res, err)
	}
	total := len(people) + 6 + 60
	mia := w.signedIn(t, w.tm.Marketing)
	_, body := mia.get("/leads")
	mustContain(t, body, fmt.Sprintf("1–50 of %d", total), `href="/leads?page=2" rel="next"`)
	mustNotContain(t, body, `rel="prev"`)
	if n := len(allNames(body)); n != 50 {
		t.Fatalf("first page: %d rows", n)
	}
	_, body = mia.get("/leads?page=2")
	mustContain(t, body, fmt.Sprintf("51–%d of %d", total, total), `href="/leads" rel="prev"`)
	mustNotContain(t, body, `rel="next"`)
	if n := len(allNames(body)); n != total-50 {
		t.Fatalf("second page: %d rows", n)
	}
	// Pages keep the filters and the order.
	_, body = mia.get("/leads?q=bulk&sort=name")
	mustContain(t, body, "1–50 of 60", `href="/leads?page=2&amp;q=bulk&amp;sort=name" rel="next"`)
	if names := allNames(body); names[0] != "Bulk Lead 00" || names[49] != "Bulk Lead 49" {
		t.Fatalf("by name: %v", names)
	}
	// Past the last page: nothing, and the way back.
	_, body = mia.get("/leads?page=99")
	mustContain(t, body, fmt.Sprintf("0 of %d", total), "No leads match.", `<a href="/leads?page=2">Back a page</a>`)
}

func TestSavedViews(t *testing.T) {
	w := newWorld(t)
	sam := w.signedIn(t, w.tm.SDR1)
	resp, body := sam.post("/leads/views", url.Values{"name": {"My hot MQLs"}, "query": {"sort=fit&stage=mql&page=3&junk=1"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", resp.StatusCode, excerpt(body))
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "/leads?saved=") || !strings.HasSuffix(loc, "&sort=fit&stage=mql") {
		t.Fatalf("after save: %s", loc)
	}
	_, body = sam.get(loc)
	mustContain(t, body, "View “My hot MQLs” saved", `<a href="/leads?sort=fit&amp;stage=mql" aria-current="page">My hot MQLs</a>`,
		"Leads <span class=\"muted\">— My hot MQLs</span>")
	// Opened, the view is the list it saved.
	_, body = sam.get("/leads?sort=fit&stage=mql")
	mustContain(t, body, `aria-current="page">My hot MQLs</a>`, `aria-sort="descending"`)
	for _, l := range w.sam {
		mustContain(t, body, l.Name)
	}
	// Without a name: refused next to the field, the list still there.
	resp, body = sam.post("/leads/views", url.Values{"name": {"  "}, "query": {"stage=sal"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("nameless view: %d", resp.StatusCode)
	}
	mustContain(t, body, `id="err-view-name"`, "required: name the view")
	// Another user sees none of it, and cannot delete it.
	id := between(body, `action="/leads/views/`, `/delete"`)
	if id == "" {
		t.Fatalf("no delete form:\n%s", excerpt(body))
	}
	sue := w.signedIn(t, w.tm.SDR2)
	_, body = sue.get("/leads")
	mustNotContain(t, body, "My hot MQLs")
	mustContain(t, body, "No saved views yet")
	if resp, _ := sue.post("/leads/views/"+id+"/delete", url.Values{"query": {""}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another's delete: %d", resp.StatusCode)
	}
	// Its owner deletes it.
	resp, _ = sam.post("/leads/views/"+id+"/delete", url.Values{"query": {"stage=mql"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/leads?deleted=1&stage=mql" {
		t.Fatalf("delete: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body = sam.get(resp.Header.Get("Location"))
	mustContain(t, body, "Saved view deleted.")
	mustNotContain(t, body, "My hot MQLs")
}

func TestBulkReassign(t *testing.T) {
	w := newWorld(t)
	ctx := storetest.As
	tom := &baton.User{Email: "tom.sdr@example.com", Name: "Tom Sdr", Role: baton.RoleSDR, ManagerID: &w.tm.Manager1.ID, Active: true}
	if err := w.db.CreateUser(storetest.System(), tom); err != nil {
		t.Fatal(err)
	}
	// One of Sam's leads is an SQL now, with the account executive: a
	// development rep may not take it.
	sql := w.sam[2]
	if _, err := w.db.Accept(ctx(w.tm.SDR1), sql.ID); err != nil {
		t.Fatal(err)
	}
	budget := 9000.0
	if _, err := w.db.Qualify(ctx(w.tm.SDR1), sql.ID, baton.BANT{BudgetAmount: &budget, BudgetCurrency: "EUR", Authority: baton.AuthorityDecisionMaker, Need: "x"}); err != nil {
		t.Fatal(err)
	}
	max := w.signedIn(t, w.tm.Manager1)
	st, body := max.get("/leads")
	if st != 200 {
		t.Fatalf("list: %d", st)
	}
	mustContain(t, body, `<form id="bulk" method="post" action="/leads/reassign"`, ">Tom Sdr (a development rep)</option>",
		fmt.Sprintf(`value="%d" form="bulk"`, w.sam[0].ID))
	ids := []string{fmt.Sprint(w.sam[0].ID), fmt.Sprint(w.sam[1].ID), fmt.Sprint(sql.ID), fmt.Sprint(w.sue[0].ID)}
	resp, body := max.post("/leads/reassign", url.Values{"lead": ids, "user_id": {fmt.Sprint(tom.ID)}, "note": {"Sam is away"}, "query": {"stage=mql"}})
	if resp.StatusCode != 200 {
		t.Fatalf("reassign: %d %s", resp.StatusCode, excerpt(body))
	}
	mustContain(t, body, "<strong>2 reassigned</strong> to Tom Sdr", "<strong>2 refused</strong>",
		sql.Name+"</a>: Tom Sdr is a sdr: a lead that is sql goes to a ae",
		fmt.Sprintf("Lead %d: no lead %d", w.sue[0].ID, w.sue[0].ID))
	for _, l := range w.sam[:2] {
		got, _ := w.db.FindLeadByID(storetest.System(), l.ID)
		if got.OwnerID == nil || *got.OwnerID != tom.ID {
			t.Fatalf("lead %d owner %v", l.ID, got.OwnerID)
		}
	}
	got, _ := w.db.FindLeadByID(storetest.System(), sql.ID)
	if got.OwnerID == nil || *got.OwnerID != w.tm.AE.ID {
		t.Fatalf("the SQL moved: %v", got.OwnerID)
	}
	got, _ = w.db.FindLeadByID(storetest.System(), w.sue[0].ID)
	if got.OwnerID == nil || *got.OwnerID != w.tm.SDR2.ID {
		t.Fatalf("the other team's lead moved: %v", got.OwnerID)
	}
	// The same move again is refused: Tom owns them already.
	_, body = max.post("/leads/reassign", url.Values{"lead": ids[:1], "user_id": {fmt.Sprint(tom.ID)}, "query": {""}})
	mustContain(t, body, "<strong>0 reassigned</strong>", "Tom Sdr owns lead")
	// Nothing ticked, nobody chosen: said on the form.
	resp, body = max.post("/leads/reassign", url.Values{"user_id": {fmt.Sprint(tom.ID)}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "tick the leads to reassign") {
		t.Fatalf("nothing ticked: %d", resp.StatusCode)
	}
	// Reps may not reassign in bulk.
	if resp, _ := w.signedIn(t, w.tm.SDR1).post("/leads/reassign", url.Values{"lead": ids[:1], "user_id": {fmt.Sprint(tom.ID)}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a rep: %d", resp.StatusCode)
	}
}

func TestExportCSV(t *testing.T) {
	w := newWorld(t)
	evil := storetest.MustLead(t, w.db, &baton.Lead{Email: "evil@example.net", Name: "=HYPERLINK(\"http://x\",\"y\")", Company: "+SUM(A1)",
		Title: "-2+3", Phone: "@cmd", Source: "content"})
	admin := w.signedIn(t, w.tm.Admin)
	req, _ := http.NewRequest("GET", w.srv.URL+"/leads/export?source=content&sort=name", nil)
	resp, body := admin.do(req)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), `attachment; filename="leads-2026-03-02.csv"`) {
		t.Fatalf("export: %d %v", resp.StatusCode, resp.Header)
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if recs[0][0] != "id" || recs[0][1] != "name" {
		t.Fatalf("header %v", recs[0])
	}
	// Exactly the filtered view's leads: those of the source content.
	want, total, err := w.db.FindLeads(storetest.System(), baton.LeadFilter{Source: ptr("content"), Sort: "name", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs)-1 != total || total < 3 {
		t.Fatalf("%d rows, want %d", len(recs)-1, total)
	}
	for i, l := range want {
		if recs[i+1][0] != fmt.Sprint(l.ID) {
			t.Fatalf("row %d is lead %s, want %d", i+1, recs[i+1][0], l.ID)
		}
	}
	var row []string
	for _, r := range recs {
		if r[0] == fmt.Sprint(evil.ID) {
			row = r
		}
	}
	if row == nil {
		t.Fatal("the lead is not exported")
	}
	for i, wantCell := range map[int]string{1: `'=HYPERLINK("http://x","y")`, 4: "'-2+3", 5: "'@cmd", 6: "'+SUM(A1)", 2: "evil@example.net", 8: "content"} {
		if row[i] != wantCell {
			t.Errorf("column %s: %q, want %q", recs[0][i], row[i], wantCell)
		}
	}
	if row[16] != "2026-03-02T10:26:00Z" && !strings.HasPrefix(row[16], "2026-03-02T") {
		t.Errorf("created_at %q", row[16])
	}
	// A rep's export is their leads only.
	sam := w.signedIn(t, w.tm.SDR1)
	req, _ = http.NewRequest("GET", w.srv.URL+"/leads/export", nil)
	_, body = sam.do(req)
	recs, _ = csv.NewReader(strings.NewReader(body)).ReadAll()
	if len(recs)-1 != len(w.sam) {
		t.Fatalf("the rep's export: %d rows, want %d", len(recs)-1, len(w.sam))
	}
	// A bad filter is an error page, not a file.
	req, _ = http.NewRequest("GET", w.srv.URL+"/leads/export?stage=nope", nil)
	resp, _ = sam.do(req)
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Disposition") != "" {
		t.Fatalf("bad export: %d %v", resp.StatusCode, resp.Header)
	}
}

func ptr[T any](v T) *T { return &v }

func TestWorkPages(t *testing.T) {
	w := newWorld(t)
	as := storetest.As
	sam := w.signedIn(t, w.tm.SDR1)
	// A development rep: the leads awaiting an answer (the inbox's).
	_, body := sam.get("/work")
	mustContain(t, body, "<h1>My work</h1>", "Awaiting your answer", `href="/inbox"`, w.sam[0].Name, "left</span>")
	mustNotContain(t, body, w.sue[0].Name, "Opportunities to close")
	// Accepted two days ago: a SAL with its age and what the policy's
	// seven days leave.
	sal, sql := w.sam[0], w.sam[1]
	for _, l := range []*baton.Lead{sal, sql} {
		if _, err := w.db.Accept(as(w.tm.SDR1), l.ID); err != nil {
			t.Fatal(err)
		}
	}
	w.clock.Advance(50 * time.Hour)
	budget := 12000.0
	if _, err := w.db.Qualify(as(w.tm.SDR1), sql.ID, baton.BANT{BudgetAmount: &budget, BudgetCurrency: "USD", Authority: baton.AuthorityDecisionMaker, Need: "reporting"}); err != nil {
		t.Fatal(err)
	}
	sam = w.signedIn(t, w.tm.SDR1) // sessions end when the clock moves days
	_, body = sam.get("/work")
	mustContain(t, body, "SALs to qualify", "gives an accepted lead 7 days", sal.Name, "2d 2h ago", "4d 22h left",
		"Handed over", sql.Name, "Alex Ae", "stage-sql")
	// The rep no longer reads the SQL: its name is not a link.
	mustNotContain(t, body, fmt.Sprintf(`<a href="/leads/%d">%s</a><br>`, sql.ID, sql.Name))
	// Past the limit, the SAL is over it.
	w.clock.Advance(6 * 24 * time.Hour)
	_, body = w.signedIn(t, w.tm.SDR1).get("/work")
	mustContain(t, body, `<span class="sla sla-breached">over by 1d 2h</span>`)

	// The account executive: the SQL to accept, then the deal to close.
	alex := w.signedIn(t, w.tm.AE)
	_, body = alex.get("/work")
	mustContain(t, body, "SQLs to accept", sql.Name, "Opportunities to close", "No open opportunity.")
	if _, err := w.db.Accept(as(w.tm.AE), sql.ID); err != nil {
		t.Fatal(err)
	}
	_, body = alex.get("/work")
	mustContain(t, body, "Accepted SQLs to convert", "No SQL waits to be accepted.")
	closeBy := time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC)
	if _, _, err := w.db.Convert(as(w.tm.AE), sql.ID, baton.ConvertInput{Name: "Liam's deal", Amount: 18500, ExpectedClose: &closeBy}); err != nil {
		t.Fatal(err)
	}
	_, body = alex.get("/work")
	mustContain(t, body, "Liam&#39;s deal", "18500", "12 Mar 2026")
	mustNotContain(t, body, "overdue-tag")
	w.clock.Advance(3 * 24 * time.Hour)
	_, body = w.signedIn(t, w.tm.AE).get("/work")
	mustContain(t, body, `<tr class="overdue">`, `<strong class="overdue-tag">overdue</strong>`)

	// Their manager: the team's, with the owner of each.
	max := w.signedIn(t, w.tm.Manager1)
	_, body = max.get("/work")
	mustContain(t, body, "My team’s work", "SALs to qualify", sal.Name, "Sam Sdr", "Opportunities to close", "Liam&#39;s deal", "Alex Ae",
		"Handed over", "Qualified by")
	mustNotContain(t, body, w.sue[0].Name)
	_, body = w.signedIn(t, w.tm.Manager2).get("/work")
	mustNotContain(t, body, sal.Name, "Liam&#39;s deal")

	// Marketing: a rejected lead coming back, an MQL nobody has.
	if _, err := w.db.Reject(as(w.tm.SDR2), w.sue[0].ID, baton.Rejection{Reason: baton.ReasonNoBudget}); err != nil {
		t.Fatal(err)
	}
	// With every development rep away, routing leaves a new MQL to nobody.
	for _, u := range []*baton.User{w.tm.SDR1, w.tm.SDR2} {
		if _, err := w.db.SetOutOfOffice(storetest.System(), u.ID, baton.OutOfOffice{Until: "2026-04-01"}); err != nil {
			t.Fatal(err)
		}
	}
	orphan := storetest.MustLead(t, w.db, &baton.Lead{Email: "orphan@example.com", Name: "Orphan Lead"})
	orphan, err := w.db.ChangeStage(as(w.tm.Marketing), orphan.ID, baton.StageChange{To: baton.StageMQL, Reason: "booth"})
	if err != nil || orphan.OwnerID != nil {
		t.Fatalf("orphan: %+v %v", orphan, err)
	}
	mia := w.signedIn(t, w.tm.Marketing)
	_, body = mia.get("/work")
	mustContain(t, body, "Coming back from nurture", w.sue[0].Name, "nurture: no_budget", "in 10d",
		"MQLs nobody has", "Orphan Lead", `href="/leads?owner=none&amp;stage=mql"`)
	mustNotContain(t, body, "SALs to qualify")
	// Every role has the page in its navigation.
	mustContain(t, body, `<li><a href="/work">My work</a></li>`)
}
