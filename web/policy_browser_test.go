package web_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestPolicyEditorInBrowser drives the policy editor in Chromium: the
// gutter's numbers sit beside their lines, a problem's link puts the cursor
// on its line, an edit marks the backtest out of date, and the draft, diff
// and confirmation pages pass axe-core and fit a phone.
func TestPolicyEditorInBrowser(t *testing.T) {
	ctx := browser(t)
	axe := axeSource(t)
	w := newWorld(t)
	p := &page{t: t, ctx: ctx, url: w.srv.URL}
	p.signIn(w.tm.Marketing)
	p.open("/policy")

	// Line n of the gutter is level with line n of the text, which does not
	// scroll by itself (the box around both does).
	level := func(n int) {
		t.Helper()
		js := `(() => { const ta = document.getElementById("body"), cs = getComputedStyle(ta);
			const lh = parseFloat(cs.lineHeight), top = ta.getBoundingClientRect().top + parseFloat(cs.borderTopWidth) + parseFloat(cs.paddingTop) - ta.scrollTop;
			const mark = document.getElementById("L` + strconv.Itoa(n) + `").getBoundingClientRect().top;
			return String(ta.scrollTop === 0 && Math.abs(mark - (top + (` + strconv.Itoa(n) + ` - 1) * lh)) < 1.5); })()`
		if got := p.eval(js); got != "true" {
			t.Fatalf("gutter line %d is not level with its text line", n)
		}
	}
	level(1)
	level(30)

	// A document with problems: the link to one puts the cursor on its line.
	bad := strings.Replace(testPolicy, "half_life: 10d", "half_life: -1d", 1)
	line := 0
	for i, l := range strings.Split(bad, "\n") {
		if strings.Contains(l, "half_life: -1d") {
			line = i + 1
		}
	}
	p.do(chromedp.SetValue(chromedp.CSS("#body"), bad))
	p.submit(`button[value="validate"]`, "#body-error")
	p.do(chromedp.Click(chromedp.CSS(`#body-error a[data-line="` + strconv.Itoa(line) + `"]`)))
	if got := p.eval(`document.activeElement.id + ":" + document.getElementById("body").value.slice(0, document.getElementById("body").selectionStart).split("\n").length`); got != "body:"+strconv.Itoa(line) {
		t.Fatalf("after the problem's link, focus and line are %s, want body:%d", got, line)
	}
	p.audit("policy with problems", axe, 1280)
	p.screenshot("marketing-policy-problems.png")

	// Backtested and saved: the draft page, then an edit in the text marks
	// the backtest out of date and hides the publish link; new lines get
	// numbers.
	p.do(chromedp.SetValue(chromedp.CSS("#body"), looserPolicy))
	p.submit(`button[value="backtest"]`, "#backtest")
	p.submit(`button[value="save"]`, "#backtest")
	for _, wd := range widths {
		p.do(chromedp.EmulateViewport(wd.width, wd.height))
		p.audit("policy draft at "+wd.name+" px", axe, wd.width)
		p.screenshot("marketing-policy-draft-" + wd.name + ".png")
	}
	p.do(chromedp.EmulateViewport(1280, 900))
	if p.eval(`String(document.querySelector("#backtest [data-show-on-edit]").hidden)`) != "true" {
		t.Fatal("the out-of-date warning shows before any edit")
	}
	lines := p.eval(`String(document.querySelectorAll(".gutter span").length)`)
	p.do(chromedp.Click(chromedp.CSS("#body")), chromedp.SendKeys(chromedp.CSS("#body"), "\n# a comment\n"))
	if p.eval(`String(document.querySelector("#backtest [data-show-on-edit]").hidden)`) != "false" ||
		p.eval(`String(document.querySelector(".publish [data-hide-on-edit]").hidden)`) != "true" {
		t.Fatal("an edit does not mark the backtest out of date, or leaves the publish link")
	}
	n, _ := strconv.Atoi(lines)
	if got := p.eval(`String(document.querySelectorAll(".gutter span").length)`); got != strconv.Itoa(n+2) {
		t.Fatalf("the gutter has %s numbers after two new lines, want %d", got, n+2)
	}
	level(n + 2)

	// The confirmation, refused without a note (the server's answer, the
	// browser's own check set aside), at both widths.
	p.open("/policy")
	p.submit(`table.history tbody tr:last-child a`, "#body")
	p.submit(`a[href$="&publish=1"]`, "#change_note")
	p.eval(`document.getElementById("change_note").removeAttribute("required"); "ok"`)
	p.submit(`#publish-form button[type="submit"]`, "#note-error")
	if s := p.text("#note-error"); !strings.Contains(s, "required") {
		t.Fatalf("no note: %q", s)
	}
	for _, wd := range widths {
		p.do(chromedp.EmulateViewport(wd.width, wd.height))
		p.audit("publish confirmation at "+wd.name+" px", axe, wd.width)
		p.screenshot("marketing-publish-" + wd.name + ".png")
	}
}
