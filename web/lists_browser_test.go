package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/storetest"
)

// TestListsInBrowser works the lead list as a manager in Chromium, with
// forms only: filter, sort by a column head, tick leads and reassign them,
// save the view; each state checked with axe-core and for width at 1440 and
// 390 px. Then each role's work page, drawn for docs/screenshots.
func TestListsInBrowser(t *testing.T) {
	ctx := browser(t)
	axe := axeSource(t)
	w := newWorld(t)
	tom := &baton.User{Email: "tom.sdr@example.com", Name: "Tom Sdr", Role: baton.RoleSDR, ManagerID: &w.tm.Manager1.ID, Active: true}
	if err := w.db.CreateUser(storetest.System(), tom); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Accept(storetest.As(w.tm.SDR1), w.sam[0].ID); err != nil {
		t.Fatal(err)
	}
	p := &page{t: t, ctx: ctx, url: w.srv.URL}
	p.do(chromedp.EmulateViewport(1440, 900))
	p.signIn(w.tm.Manager1)
	p.open("/leads")
	p.audit("the lead list at 1440 px", axe, 1440)

	// Filter: MQLs only.
	p.do(chromedp.SetValue(chromedp.CSS("#f-stage"), "mql"))
	p.submit(`.list-filters button[type="submit"]`, "table.lead-list")
	if loc := p.eval(`location.search`); !strings.Contains(loc, "stage=mql") {
		t.Fatalf("after filtering: %s", loc)
	}
	// Sort by the Lead column, A to Z.
	p.submit(`table.lead-list th:nth-child(2) a`, "table.lead-list")
	if got := p.eval(`document.querySelector('table.lead-list th[aria-sort]').textContent.trim()`); got != "Lead ↑" {
		t.Fatalf("sorted head: %q", got)
	}
	if loc := p.eval(`location.search`); !strings.Contains(loc, "sort=name") || !strings.Contains(loc, "stage=mql") {
		t.Fatalf("after sorting: %s", loc)
	}
	// Tick two of Sam's MQLs and give them to Tom.
	for _, l := range w.sam[1:3] {
		p.do(chromedp.Click(chromedp.CSS(fmt.Sprintf("#pick-%d", l.ID))))
	}
	p.do(chromedp.SetValue(chromedp.CSS("#bulk-user"), fmt.Sprint(tom.ID)))
	p.submit(`#bulk button[type="submit"]`, ".bulk-result")
	if got := p.text(".bulk-result"); !strings.Contains(got, "2 reassigned to Tom Sdr") {
		t.Fatalf("bulk result: %q", got)
	}
	p.audit("the lead list after a bulk reassignment", axe, 1440)
	// The list kept its filters and order.
	if got := p.eval(`document.querySelector('#f-stage').value`); got != "mql" {
		t.Fatalf("stage after the reassignment: %q", got)
	}
	// Save the view and open it again.
	p.open("/leads?stage=mql&sort=name")
	p.do(chromedp.Click(chromedp.CSS("details.views > summary")))
	p.do(chromedp.SendKeys(chromedp.CSS("#view-name"), "Team MQLs"))
	p.submit(`form[action="/leads/views"] button`, ".view-list")
	if got := p.text("main .flash"); !strings.Contains(got, "View “Team MQLs” saved") {
		t.Fatalf("saved: %q", got)
	}
	p.audit("the lead list with a saved view", axe, 1440)
	p.do(chromedp.EmulateViewport(390, 844))
	p.open("/leads?stage=mql&sort=name")
	p.audit("the lead list at 390 px", axe, 390)
	p.screenshot("manager-leads-filtered-390.png")
	p.do(chromedp.EmulateViewport(1440, 900))
	p.open("/leads?stage=mql&sort=name")
	p.screenshot("manager-leads-filtered-1440.png")
	p.signOut()

	// Each role's work page, at both widths.
	for _, r := range []struct {
		name string
		who  *baton.User
	}{{"rep", w.tm.SDR1}, {"ae", w.tm.AE}, {"manager", w.tm.Manager1}, {"marketing", w.tm.Marketing}} {
		p.signIn(r.who)
		for _, wd := range widths {
			p.do(chromedp.EmulateViewport(wd.width, wd.height))
			p.open("/work")
			p.audit(r.name+"'s work page at "+wd.name+" px", axe, wd.width)
			p.screenshot(r.name + "-work-" + wd.name + ".png")
		}
		p.do(chromedp.EmulateViewport(1440, 900))
		p.signOut()
	}
}
