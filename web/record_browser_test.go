package web_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/storetest"
)

// TestBrowserAEDay is the account executive's day in a real browser: the
// SQL is accepted from the inbox, converted on its page (a past close date
// is refused next to the field), its opportunity edited and closed won;
// another is closed lost with a reason of the list. Each step asserts what
// the page says; the lead page with its opportunity passes axe-core (when
// installed) at both widths.
func TestBrowserAEDay(t *testing.T) {
	ctx := browser(t)
	axe := ""
	if _, err := os.Stat(axePath); err == nil || os.Getenv(RequireBrowserEnv) != "" {
		axe = axeSource(t)
	}
	w := newWorld(t)
	tm := w.tm
	sys := storetest.System()
	for _, name := range []string{"GTX Basic", "GTX Pro", "MG Advanced"} {
		if err := w.db.CreateProduct(sys, &baton.Product{Name: name, Price: 1000}); err != nil {
			t.Fatal(err)
		}
	}
	won, lost := w.sam[0], w.sam[1]
	for _, l := range []*baton.Lead{won, lost} {
		if _, err := w.db.Accept(storetest.As(tm.SDR1), l.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.db.Qualify(storetest.As(tm.SDR1), l.ID, testBANT()); err != nil {
			t.Fatal(err)
		}
	}
	p := &page{t: t, ctx: ctx, url: w.srv.URL}
	p.signIn(tm.AE)
	p.open("/inbox")
	card := fmt.Sprintf("#lead-%d", won.ID)
	if s := p.text(card + " .actions"); strings.Contains(s, "Convert") {
		t.Fatalf("convert offered before accept: %q", s)
	}
	p.submit(card+` form[action$="/accept"] button`, ".flash")
	if s := p.text(".flash"); !strings.Contains(s, "Lead accepted: "+won.Name) || !strings.Contains(s, "convert it") {
		t.Fatalf("flash %q", s)
	}

	// Convert: yesterday is refused at the field (the browser's own check
	// of min is off, as in a browser without date inputs).
	p.open(leadPath(won))
	today := w.clock.Now().UTC()
	p.eval(`document.querySelector("#convert").noValidate = true; "ok"`)
	p.do(chromedp.SetValue(chromedp.CSS("#amount"), "18000"),
		chromedp.SetValue(chromedp.CSS("#product"), "GTX Pro"),
		chromedp.SetValue(chromedp.CSS("#expected_close"), today.AddDate(0, 0, -1).Format("2006-01-02")))
	p.submit(`#convert button`, "#convert .field-error")
	if s := p.text(fmt.Sprintf("#err-convert-%d-expected_close", won.ID)); !strings.Contains(s, "is in the past") {
		t.Fatalf("past close: %q", s)
	}
	p.do(chromedp.SetValue(chromedp.CSS("#expected_close"), today.AddDate(0, 1, 0).Format("2006-01-02")))
	p.submit(`#convert button`, ".deal")
	if s := p.text(".flash"); !strings.Contains(s, "Lead converted to an opportunity") {
		t.Fatalf("flash %q", s)
	}
	if s := p.text(".deal dl"); !strings.Contains(s, "18000") || !strings.Contains(s, "GTX Pro") || !strings.Contains(s, "prospecting") ||
		!strings.Contains(s, today.AddDate(0, 1, 0).Format("2 Jan 2006")) {
		t.Fatalf("the opportunity: %q", s)
	}
	if axe != "" {
		for _, width := range widths {
			p.do(chromedp.EmulateViewport(width.width, width.height))
			p.open(leadPath(won))
			p.audit("ae-deal at "+width.name+" px", axe, width.width)
			p.screenshot("ae-deal-" + width.name + ".png")
		}
		p.do(chromedp.EmulateViewport(1280, 900))
		p.open(leadPath(won))
	}

	// Edit the amount and the product.
	p.do(chromedp.Click(chromedp.CSS(".deal details summary")),
		chromedp.SetValue(chromedp.CSS("#deal-amount"), "21000"),
		chromedp.SetValue(chromedp.CSS("#deal-product"), "MG Advanced"))
	p.submit(`#deal-edit button`, ".flash")
	if s := p.text(".flash"); !strings.Contains(s, "Opportunity saved") {
		t.Fatalf("flash %q", s)
	}
	if s := p.text(".timeline"); !strings.Contains(s, "opportunity.amount: 18000 → 21000") {
		t.Fatalf("timeline %q", s)
	}

	// Close won.
	p.do(chromedp.Click(chromedp.CSS(`#close input[value="won"]`)))
	p.submit(`#close button`, ".flash")
	if s := p.text(".flash"); !strings.Contains(s, "Opportunity closed won") {
		t.Fatalf("flash %q", s)
	}
	if s := p.text(`.stagebar [aria-current="step"]`); !strings.HasSuffix(strings.ToLower(s), "won") {
		t.Fatalf("stage bar %q", s)
	}

	// The other, lost for a competitor.
	if _, err := w.db.Accept(storetest.As(tm.AE), lost.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.db.Convert(storetest.As(tm.AE), lost.ID, baton.ConvertInput{Name: "Contoso deal", Amount: 9000, IdempotencyKey: "browser-lost"}); err != nil {
		t.Fatal(err)
	}
	p.open(leadPath(lost))
	p.do(chromedp.Click(chromedp.CSS(`#close input[value="lost"]`)),
		chromedp.SetValue(chromedp.CSS("#close-reason"), "competitor"),
		chromedp.SendKeys(chromedp.CSS("#close-note"), "went with Fabrikam"))
	p.submit(`#close button`, ".flash")
	if s := p.text(".flash"); !strings.Contains(s, "Opportunity closed lost (competitor: went with Fabrikam)") {
		t.Fatalf("flash %q", s)
	}
	if l, _ := w.db.FindLeadByID(sys, lost.ID); l.Stage != baton.StageLost {
		t.Fatalf("lost lead is %s", l.Stage)
	}
}
