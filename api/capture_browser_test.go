package api_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/batonhq/baton"
)

// requireBrowserEnv makes the browser test fail, instead of skipping, when
// Chromium is missing (make test sets it), as in package web.
const requireBrowserEnv = "BATON_REQUIRE_BROWSER"

// chromium starts headless Chromium for the test (Debian's, as the web
// package's browser tests do), or skips it.
func chromium(t *testing.T) context.Context {
	t.Helper()
	path := "/usr/bin/chromium"
	if _, err := os.Stat(path); err != nil {
		if p, err := exec.LookPath("chromium"); err == nil {
			path = p
		} else if os.Getenv(requireBrowserEnv) != "" {
			t.Fatalf("%s is set but there is no Chromium: bash scripts/ensure-chromium.sh", requireBrowserEnv)
		} else {
			t.Skipf("browser test skipped: no Chromium (bash scripts/ensure-chromium.sh; set %s=1 to make this a failure)", requireBrowserEnv)
		}
	}
	actx, acancel := chromedp.NewExecAllocator(t.Context(),
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Headless,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-dev-shm-usage", true))
	t.Cleanup(acancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// site serves a company's website on an origin of its own: pages with the
// README's snippet, a form the script sends with fetch, and a plain HTML
// form that posts to Baton and comes back to /thanks. The capture key is
// set once the site's origin is known (*key).
func site(t *testing.T, baton string) (*httptest.Server, *string) {
	t.Helper()
	var srv *httptest.Server
	key := new(string)
	page := func(title, body string) string {
		snippet := fmt.Sprintf(`<script src="%s/capture.js" data-key="%s" defer></script>`, baton, html.EscapeString(*key))
		return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>` + title + `</title>` + snippet + `</head><body>` + body + `</body></html>`
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/pricing", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, page("Pricing", `<h1>Pricing</h1>`))
	})
	mux.HandleFunc("/contact", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, page("Contact", `<h1>Talk to sales</h1>
<form id="demo" data-baton-form="demo request" data-baton-thanks="Thanks: we will call you.">
  <label>Email <input name="email" type="email" required></label>
  <label>Name <input name="name"></label>
  <label>Company <input name="company"></label>
  <label>Message <textarea name="message"></textarea></label>
  <input name="_hp" type="text" tabindex="-1" autocomplete="off" style="position:absolute;left:-10000px" aria-hidden="true">
  <button>Send</button>
  <p data-baton-message role="status"></p>
</form>`))
	})
	mux.HandleFunc("/newsletter", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, page("Newsletter", fmt.Sprintf(`<form id="plain" method="post" action="%s/capture/v1/form?key=%s">
  <input name="email" type="email" required>
  <input type="hidden" name="form" value="newsletter">
  <input type="hidden" name="_next" value="%s/thanks">
  <button>Subscribe</button>
</form>`, baton, html.EscapeString(*key), srv.URL)))
	})
	mux.HandleFunc("/thanks", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, page("Thanks", `<h1 id="thanks">Thanks for subscribing</h1>`))
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, key
}

// TestCaptureInBrowser drives Chromium through a website on one origin
// that uses Baton, on another, through the script and the form endpoint:
// the visitor's page views land on the lead their form makes, a plain
// HTML form lands too, and the same site served from an origin the key
// does not allow records nothing.
func TestCaptureInBrowser(t *testing.T) {
	ctx := chromium(t)
	f := newFixture(t)
	if _, err := f.db.PublishDocument(sys(), intakePolicy); err != nil {
		t.Fatal(err)
	}
	good, goodKey := site(t, f.srv.URL)
	evil, evilKey := site(t, f.srv.URL) // the same pages and key, another origin
	key, _, err := f.db.CreateIngestKey(sys(), baton.IngestKeyInput{Kind: baton.KeyCapture, Name: "website", Origins: []string{good.URL}})
	if err != nil {
		t.Fatal(err)
	}
	*goodKey, *evilKey = key, key
	run := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatal(err)
		}
	}
	eval := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return s
	}
	// ready waits for the script's page view of this load to be answered.
	ready := func() string {
		t.Helper()
		return eval(`window.baton.ready.then(ok => String(ok))`)
	}
	total := func() int {
		t.Helper()
		_, n, err := f.db.FindEvents(sys(), baton.EventFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	// A visitor reads the pricing page, then sends the contact form.
	run(chromedp.Navigate(good.URL + "/pricing"))
	if got := ready(); got != "true" {
		t.Fatalf("the page view on the key's origin was not recorded: %s", got)
	}
	anon := eval(`window.baton.anonymousId()`)
	run(chromedp.Navigate(good.URL + "/contact"))
	if got := ready(); got != "true" || eval(`window.baton.anonymousId()`) != anon {
		t.Fatalf("the second page view: %s, anonymous id kept: %v", got, eval(`window.baton.anonymousId()`) == anon)
	}
	if total() != 0 {
		t.Fatalf("events of an anonymous visitor are pending, not a lead's: %d", total())
	}
	run(chromedp.SendKeys(chromedp.CSS(`#demo input[name=email]`), "Linus@Example.test"),
		chromedp.SendKeys(chromedp.CSS(`#demo input[name=name]`), "Linus Torvalds"),
		chromedp.SendKeys(chromedp.CSS(`#demo input[name=company]`), "Transmeta"),
		chromedp.SendKeys(chromedp.CSS(`#demo textarea`), "Call me after 5"),
		chromedp.Click(chromedp.CSS(`#demo button`)),
		chromedp.WaitVisible(chromedp.CSS(`form[data-baton-state="sent"]`)))
	if msg := eval(`document.querySelector("[data-baton-message]").textContent`); msg != "Thanks: we will call you." {
		t.Fatalf("the form says %q", msg)
	}
	leads, _, err := f.db.FindLeads(sys(), baton.LeadFilter{Query: "linus@example.test"})
	if err != nil || len(leads) != 1 || leads[0].Name != "Linus Torvalds" || leads[0].Company != "Transmeta" || leads[0].Source != "website" {
		t.Fatalf("the lead: %+v %v", leads, err)
	}
	events, _, err := f.db.FindEvents(sys(), baton.EventFilter{LeadID: &leads[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	types := []string{}
	for _, e := range events {
		types = append(types, e.Type)
	}
	if strings.Join(types, " ") != "form_submit page_view pricing_page_view" && strings.Join(types, " ") != "page_view form_submit pricing_page_view" {
		t.Fatalf("the lead's events, latest first: %v", types)
	}

	// A plain HTML form posts to Baton and comes back to the site.
	run(chromedp.Navigate(good.URL + "/newsletter"))
	ready()
	run(chromedp.SendKeys(chromedp.CSS(`#plain input[name=email]`), "ada@example.test"),
		chromedp.Click(chromedp.CSS(`#plain button`)),
		chromedp.WaitVisible(chromedp.CSS(`#thanks`)))
	if got := ready(); got != "true" {
		t.Fatalf("the thanks page's view: %s", got)
	}
	leads, _, _ = f.db.FindLeads(sys(), baton.LeadFilter{Query: "ada@example.test"})
	if len(leads) != 1 {
		t.Fatalf("the plain form's lead: %+v", leads)
	}
	// The script gave the plain form the visitor's id: the browser is now
	// Ada's (the latest form wins), and the thanks page is her page view.
	events, _, _ = f.db.FindEvents(sys(), baton.EventFilter{LeadID: &leads[0].ID})
	if len(events) != 2 || events[0].Type != baton.EventPageView || events[1].Type != baton.EventFormSubmit ||
		!strings.Contains(string(events[1].Properties), `"form":"newsletter"`) {
		t.Fatalf("the plain form's events: %+v", events)
	}

	// The same site on an origin the key does not allow: the page view is
	// refused, and the form reports it could not be sent.
	before := total()
	run(chromedp.Navigate(evil.URL + "/contact"))
	if got := ready(); got != "false" {
		t.Fatalf("the page view on another origin: %s", got)
	}
	run(chromedp.SendKeys(chromedp.CSS(`#demo input[name=email]`), "mallory@example.test"),
		chromedp.Click(chromedp.CSS(`#demo button`)),
		chromedp.WaitVisible(chromedp.CSS(`form[data-baton-state="error"]`)))
	if leads, _, _ := f.db.FindLeads(sys(), baton.LeadFilter{Query: "mallory"}); len(leads) != 0 || total() != before {
		t.Fatalf("another origin's form landed: %+v, events %d -> %d", leads, before, total())
	}
}
