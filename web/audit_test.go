package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/batonhq/baton"
)

// axePath is axe-core, installed (pinned) by scripts/ensure-axe.sh.
const axePath = "testdata/axe/node_modules/axe-core/axe.min.js"

// axeSource returns axe-core's script, or skips (fails with
// BATON_REQUIRE_BROWSER) when it is not installed.
func axeSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(axePath)
	if err != nil {
		if os.Getenv(RequireBrowserEnv) != "" {
			t.Fatalf("axe-core is missing at web/%s: run bash scripts/ensure-axe.sh", axePath)
		}
		t.Skipf("accessibility checks skipped: no axe-core at web/%s (bash scripts/ensure-axe.sh)", axePath)
	}
	return string(b)
}

// widths are the viewports every page is checked and drawn at: a laptop
// and a phone.
var widths = []struct {
	name          string
	width, height int64
}{{"1440", 1440, 900}, {"390", 390, 844}}

// axeViolation is one rule axe found broken, with where.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []string `json:"target"`
	} `json:"nodes"`
}

// audit checks the page as it is now: no axe-core violation, and no wider
// than the viewport.
func (p *page) audit(what, axe string, width int64) {
	p.t.Helper()
	if got := p.eval(`typeof axe`); got != "object" {
		p.eval(axe + `; "loaded"`)
	}
	raw, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](
		`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations))`, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: axe: %v", what, err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		p.t.Fatalf("%s: axe's answer: %v", what, err)
	}
	for _, v := range vs {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, strings.Join(n.Target, " "))
		}
		p.t.Errorf("%s: axe %s (%s): %s at %s", what, v.ID, v.Impact, v.Help, strings.Join(where, "; "))
	}
	if wide := p.eval(`String(document.documentElement.scrollWidth)`); wide != fmt.Sprint(width) {
		p.t.Errorf("%s: the page is %s px wide in a %d px viewport", what, wide, width)
	}
}

// auditWidths audits the page as it is (often the answer to a post, which
// cannot be loaded again) at each width, coming back to a laptop's.
func (p *page) auditWidths(what, axe string) {
	p.t.Helper()
	for _, wd := range widths {
		p.do(chromedp.EmulateViewport(wd.width, wd.height))
		p.audit(what+" at "+wd.name+" px", axe, wd.width)
	}
	p.do(chromedp.EmulateViewport(1280, 900))
}

// visit opens path at each width, audits it and saves its screenshot as
// docs/screenshots/NAME-WIDTH.png; with dark, in the dark theme too.
func (p *page) visit(name, path, axe string, dark bool) {
	p.t.Helper()
	for _, w := range widths {
		p.do(chromedp.EmulateViewport(w.width, w.height))
		p.open(path)
		p.audit(name+" at "+w.name+" px", axe, w.width)
		p.screenshot(name + "-" + w.name + ".png")
	}
	if dark {
		p.do(chromedp.EmulateViewport(1440, 900), colorScheme("dark"))
		p.open(path)
		p.audit(name+" in the dark theme", axe, 1440)
		p.screenshot(name + "-dark.png")
		p.do(colorScheme("light"))
	}
	p.do(chromedp.EmulateViewport(1440, 900))
}

// colorScheme makes the page see prefers-color-scheme as scheme.
func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		return err
	})
}

// TestPagesAreAccessible opens every page each role uses, at 1440 px and at
// 390 px (and some in the dark theme), and checks each with axe-core (zero
// violations) and for width (no page wider than the viewport); it saves
// the screenshots of docs/screenshots.
func TestPagesAreAccessible(t *testing.T) {
	ctx := browser(t)
	axe := axeSource(t)
	w := newWorld(t)
	p := &page{t: t, ctx: ctx, url: w.srv.URL}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	lead := func(l *baton.Lead) string { return leadPath(l) }
	for _, r := range []struct {
		who   *baton.User
		pages [][2]string // name, path
		dark  bool
	}{
		{w.tm.SDR1, [][2]string{{"rep-inbox", "/inbox"}, {"rep-lead", lead(w.sam[0])}, {"rep-leads", "/leads"}, {"rep-profile", "/profile"}, {"rep-away", "/away"}, {"rep-policy", "/policy"}}, true},
		{w.tm.Manager1, [][2]string{{"manager-board", "/team"}, {"manager-leads", "/leads"}, {"manager-lead", lead(w.sam[1])}}, true},
		{w.tm.Marketing, [][2]string{{"marketing-policy", "/policy"}, {"marketing-recycled", "/recycled"}, {"marketing-leads", "/leads"}}, false},
		{w.tm.Admin, [][2]string{{"admin-users", "/admin/users"}, {"admin-tokens", "/admin/tokens"}, {"admin-webhooks", "/admin/webhooks"},
			{"admin-calendars", "/admin/calendars"}, {"admin-audit", "/admin/audit"}, {"not-found", "/no/such/page"}}, false},
	} {
		p.signIn(r.who)
		for _, pg := range r.pages {
			p.visit(pg[0], pg[1], axe, r.dark)
		}
		p.signOut()
	}
	p.visit("signin", "/signin", axe, true)
}
