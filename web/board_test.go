package web_test

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/storetest"
)

// boardWorld is the test world after a morning's work: Sam accepts two of
// his MQLs, qualifies one (an SQL for Alex, in Max's team too) and rejects
// a third (back to marketing); Sue, in Nora's team, accepts hers.
func boardWorld(t *testing.T) (w *world, accepted []*baton.Lead, rejected *baton.Lead) {
	t.Helper()
	w = newWorld(t)
	sam, sue := storetest.As(w.tm.SDR1), storetest.As(w.tm.SDR2)
	for _, l := range w.sam[:2] {
		w.clock.Advance(10 * time.Minute)
		if _, err := w.db.Accept(sam, l.ID); err != nil {
			t.Fatal(err)
		}
		accepted = append(accepted, l)
	}
	amount := 20000.0
	w.clock.Advance(10 * time.Minute)
	if _, err := w.db.Qualify(sam, w.sam[0].ID, baton.BANT{BudgetAmount: &amount, BudgetCurrency: "USD", BudgetConfirmed: true,
		Authority: "decision_maker", Need: "forecasting", Timing: "this_quarter"}); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(10 * time.Minute)
	rejected = w.sam[2]
	if _, err := w.db.Reject(sam, rejected.ID, baton.Rejection{Reason: "no_budget", Note: "next year"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Accept(sue, w.sue[0].ID); err != nil {
		t.Fatal(err)
	}
	return w, accepted, rejected
}

// funnelSVG is the board's funnel chart.
func funnelSVG(t *testing.T, body string) string {
	t.Helper()
	i := strings.Index(body, `data-chart="funnel"`)
	if i < 0 {
		t.Fatalf("no funnel chart:\n%s", excerpt(body))
	}
	return body[i : i+strings.Index(body[i:], "</svg>")]
}

var funnelStepRE = regexp.MustCompile(`(?s)<tspan class="step">([^<]+)</tspan>(?: <tspan class="rate"[^>]*>([^<]+)</tspan>)?</text>.*?class="val">([^<]+)<`)

// funnelCounts reads the funnel chart's steps: label to count, and label
// to its rate from the step before.
func funnelCounts(t *testing.T, body string) (counts, rates map[string]string) {
	t.Helper()
	counts, rates = map[string]string{}, map[string]string{}
	for _, m := range funnelStepRE.FindAllStringSubmatch(funnelSVG(t, body), -1) {
		counts[m[1]], rates[m[1]] = m[3], m[2]
	}
	if len(counts) < 5 || counts["Won"] == "" { // a team's starts at MQL
		t.Fatalf("funnel steps %v:\n%s", counts, funnelSVG(t, body))
	}
	return counts, rates
}

// link returns the board's link whose address matches re, unescaped.
func link(t *testing.T, body string, re string) string {
	t.Helper()
	m := regexp.MustCompile(`href="(/team\?[^"]*` + re + `[^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no link matching %s:\n%s", re, excerpt(body))
	}
	return html.UnescapeString(m[1])
}

// behindRows returns the leads listed behind a number (their links).
func behindRows(t *testing.T, body string) []string {
	t.Helper()
	i := strings.Index(body, `id="behind"`)
	if i < 0 {
		t.Fatalf("no list of leads behind a number:\n%s", excerpt(body))
	}
	sec := body[i : i+strings.Index(body[i:], "</section>")]
	return regexp.MustCompile(`<td><a href="(/leads/\d+)">`).FindAllString(sec, -1)
}

// TestBoardIsTheTeams: each manager's board counts their own team's steps
// (Max's has Sam's MQLs and the SQL Alex got, Nora's has Sue's), with the
// step rates written on the funnel chart; an admin sees everyone's or picks
// a team.
func TestBoardIsTheTeams(t *testing.T) {
	w, _, _ := boardWorld(t)
	_, maxBoard := w.signedIn(t, w.tm.Manager1).get("/team")
	_, noraBoard := w.signedIn(t, w.tm.Manager2).get("/team")
	mc, mr := funnelCounts(t, maxBoard)
	nc, nr := funnelCounts(t, noraBoard)
	// A team's funnel starts at MQL: new leads are no one's yet.
	want := map[string]string{"MQL": fmt.Sprint(len(w.sam)), "SAL": "2", "SQL": "1", "Opportunity": "0", "Won": "0"}
	if fmt.Sprint(mc) != fmt.Sprint(want) {
		t.Errorf("Max's funnel %v, want %v", mc, want)
	}
	mustContain(t, maxBoard, "a team’s funnel starts at MQL")
	want = map[string]string{"MQL": fmt.Sprint(len(w.sue)), "SAL": "1", "SQL": "0", "Opportunity": "0", "Won": "0"}
	if fmt.Sprint(nc) != fmt.Sprint(want) {
		t.Errorf("Nora's funnel %v, want %v", nc, want)
	}
	// The rates, on the chart: SAL over MQL, SQL over SAL.
	if got, want := mr["SAL"], fmt.Sprintf("%.0f%% of MQL", 200/float64(len(w.sam))); got != want {
		t.Errorf("Max's SAL rate %q, want %q", got, want)
	}
	if mr["SQL"] != "50% of SAL" || nr["SAL"] != fmt.Sprintf("%.0f%% of MQL", 100/float64(len(w.sue))) || nr["SQL"] != "0% of SAL" {
		t.Errorf("rates: Max %v, Nora %v", mr, nr)
	}
	// The rejection is Max's team's (Sam rejected it), not Nora's.
	mustContain(t, maxBoard, "Rejections by reason", "no budget", "Max Manager’s team, 1 Feb 2026 to 2 Mar 2026")
	if strings.Contains(noraBoard[strings.Index(noraBoard, `id="rejections-h"`):], "no budget") {
		t.Error("Nora's board has Sam's rejection")
	}

	admin := w.signedIn(t, w.tm.Admin)
	_, body := admin.get("/team")
	mustContain(t, body, "Team board <span class=\"muted\">— everyone")
	if ac, _ := funnelCounts(t, body); ac["MQL"] != fmt.Sprint(len(w.sam)+len(w.sue)) || ac["Leads"] != fmt.Sprint(6+len(people)) {
		t.Errorf("everyone's funnel %v", ac)
	}
	_, body = admin.get(fmt.Sprintf("/team?manager=%d", w.tm.Manager2.ID))
	if ac, _ := funnelCounts(t, body); fmt.Sprint(ac) != fmt.Sprint(nc) {
		t.Errorf("Nora's team as the admin sees it %v, want %v", ac, nc)
	}
}

// TestBoardPeriod: the period is in the address; a preset or days picked
// change the numbers, and days that make no period are refused on the page.
func TestBoardPeriod(t *testing.T) {
	w, _, _ := boardWorld(t)
	// Forty days on, the morning's work is out of the last 30 days and of
	// this week, in the days that cover it.
	w.clock.Advance(40 * 24 * time.Hour)
	max := w.signedIn(t, w.tm.Manager1)
	for _, c := range []struct {
		query string
		mql   string
		shows string
	}{
		{"", "0", "13 Mar 2026 to 11 Apr 2026"}, // the last 30 days, by default
		{"?period=30d", "0", `aria-current="true">Last 30 days`},
		{"?period=week", "0", "6 Apr 2026 to 11 Apr 2026"},
		{"?period=quarter", "0", "1 Apr 2026 to 11 Apr 2026"},
		{"?period=custom&from=2026-03-01&to=2026-03-02", fmt.Sprint(len(w.sam)), "1 Mar 2026 to 2 Mar 2026"},
		// Days typed over the preset's, without choosing custom (no JS).
		{"?period=30d&from=2026-02-20&to=2026-03-05", fmt.Sprint(len(w.sam)), "20 Feb 2026 to 5 Mar 2026"},
	} {
		st, body := max.get("/team" + c.query)
		if st != http.StatusOK {
			t.Fatalf("%s: %d", c.query, st)
		}
		if counts, _ := funnelCounts(t, body); counts["MQL"] != c.mql {
			t.Errorf("%s: MQL %s, want %s", c.query, counts["MQL"], c.mql)
		}
		mustContain(t, body, c.shows)
	}
	st, body := max.get("/team?period=custom&from=2026-03-05&to=2026-03-01")
	if st != http.StatusOK {
		t.Fatalf("bad days: %d", st)
	}
	mustContain(t, body, "The first day of the period comes after the last.", `aria-invalid="true"`, `value="2026-03-05"`)
	_, body = max.get("/team?period=custom&from=yesterday&to=")
	mustContain(t, body, "Give the first and the last day of the period as dates")
	// The links of a custom period keep it.
	_, body = max.get("/team?period=custom&from=2026-03-01&to=2026-03-02")
	if l := link(t, body, `step=mql`); !strings.Contains(l, "from=2026-03-01") || !strings.Contains(l, "to=2026-03-02") {
		t.Errorf("the MQL link %s loses the period", l)
	}
}

// TestBoardLeadsBehindANumber: a funnel step's link lists exactly the
// leads behind it, and a rejection reason's too; a lead that left the team
// is counted, not shown, to its manager, and shown to an admin.
func TestBoardLeadsBehindANumber(t *testing.T) {
	w, accepted, rejected := boardWorld(t)
	max := w.signedIn(t, w.tm.Manager1)
	_, body := max.get("/team")
	st, list := max.get(link(t, body, `step=sal`))
	if st != http.StatusOK {
		t.Fatalf("the SAL step's leads: %d", st)
	}
	rows := behindRows(t, list)
	if len(rows) != len(accepted) {
		t.Errorf("%d leads behind SAL, want %d: %v", len(rows), len(accepted), rows)
	}
	for _, l := range accepted {
		mustContain(t, list, fmt.Sprintf(`<td><a href="/leads/%d">%s</a>`, l.ID, l.Name))
	}
	mustContain(t, list, "SAL <span class=\"muted\">", "2 leads.", "Close this list")
	// The MQLs: every lead routed to Sam, but the one he rejected, which
	// has left the team.
	_, list = max.get(link(t, body, `step=mql`))
	if rows := behindRows(t, list); len(rows) != len(w.sam)-1 {
		t.Errorf("%d leads behind MQL, want %d", len(rows), len(w.sam)-1)
	}
	mustContain(t, list, fmt.Sprintf("%d leads.", len(w.sam)), "1 of them is no longer in the team")
	mustNotContain(t, list, rejected.Name)
	for _, l := range w.sue {
		mustNotContain(t, list, l.Name)
	}
	// The rejection: back in marketing's nurture, out of Max's sight.
	_, list = max.get(link(t, body, `reason=no_budget`))
	if rows := behindRows(t, list); len(rows) != 0 {
		t.Errorf("the manager sees %v behind the rejection", rows)
	}
	mustContain(t, list, "Rejected: no budget", "1 lead.", "1 of them is no longer in the team")
	admin := w.signedIn(t, w.tm.Admin)
	_, body = admin.get(fmt.Sprintf("/team?manager=%d", w.tm.Manager1.ID))
	_, list = admin.get(link(t, body, `reason=no_budget`))
	if rows := behindRows(t, list); len(rows) != 1 || !strings.Contains(rows[0], fmt.Sprint(rejected.ID)) {
		t.Errorf("the admin sees %v behind the rejection, want lead %d", rows, rejected.ID)
	}
	// A step the funnel does not have is refused on the page.
	_, list = max.get("/team?step=lost")
	mustContain(t, list, `unknown step`)
}
