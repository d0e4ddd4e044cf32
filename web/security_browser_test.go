package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestSecurityPagesInBrowser plays the security pages in Chromium, each
// state checked with axe-core at both widths: the admin adds a webhook
// (Baton shows its secret once) and rotates its secret, then finds both in
// the audit log; a rep changes their password on their profile, refused
// first for a wrong current one beside the field, and signs in again.
func TestSecurityPagesInBrowser(t *testing.T) {
	ctx := browser(t)
	axe := axeSource(t)
	w := newWorld(t)
	p := &page{t: t, ctx: ctx, url: w.srv.URL}

	p.signIn(w.tm.Admin)
	p.open("/admin/webhooks")
	p.do(chromedp.SendKeys(chromedp.CSS("#url"), "https://hooks.example.com/baton"))
	p.submit(`form[action="/admin/webhooks"] button`, "#new-secret")
	first := p.eval(`document.querySelector("#new-secret").value`)
	if !strings.HasPrefix(first, "whsec_") || !strings.Contains(p.text("main"), "shown only this once") {
		t.Fatalf("the new webhook's secret %q", first)
	}
	p.auditWidths("a webhook just added", axe)
	p.submit(`form[action$="/rotate"] button`, "#new-secret")
	second := p.eval(`document.querySelector("#new-secret").value`)
	if second == first || !strings.HasPrefix(second, "whsec_") || !strings.Contains(p.text("main"), "old secret still signs") {
		t.Fatalf("the rotated secret %q (was %q)", second, first)
	}
	p.open("/admin/webhooks")
	if strings.Contains(p.eval(`document.documentElement.outerHTML`), "whsec_") {
		t.Fatal("a secret is on the page after it was shown")
	}
	p.open("/admin/audit")
	p.do(chromedp.SendKeys(chromedp.CSS("#audit-action"), "webhook."))
	p.submit(`form[action="/admin/audit"] button`, "table.audit")
	if s := p.text("table.audit tbody"); !strings.Contains(s, "webhook.create") || !strings.Contains(s, "webhook.rotate") || strings.Contains(s, "signin.") {
		t.Fatalf("the audit log, filtered: %q", s)
	}
	p.auditWidths("the audit log filtered", axe)
	p.signOut()

	p.signIn(w.tm.SDR1)
	p.open("/profile")
	p.do(chromedp.SendKeys(chromedp.CSS("#current_password"), "not my password"),
		chromedp.SendKeys(chromedp.CSS("#new_password"), "a brand new passphrase"),
		chromedp.SendKeys(chromedp.CSS("#new_password2"), "a brand new passphrase"))
	p.submit(`form[action="/profile/password"] button`, ".field-error")
	if s := p.text("#err-password-0-current_password"); !strings.Contains(s, "is not your password") {
		t.Fatalf("a wrong current password: %q", s)
	}
	p.auditWidths("the profile refusing a password change", axe)
	p.do(chromedp.SendKeys(chromedp.CSS("#current_password"), password),
		chromedp.SendKeys(chromedp.CSS("#new_password"), "a brand new passphrase"),
		chromedp.SendKeys(chromedp.CSS("#new_password2"), "a brand new passphrase"))
	p.submit(`form[action="/profile/password"] button`, "#email")
	if s := p.text(".flash"); !strings.Contains(s, "Password changed") {
		t.Fatalf("after the change: %q", s)
	}
	p.do(chromedp.SendKeys(chromedp.CSS("#email"), w.tm.SDR1.Email), chromedp.SendKeys(chromedp.CSS("#password"), "a brand new passphrase"))
	p.submit(`form[action="/signin"] button`, "form.signout")
	if who := p.text(".who"); !strings.Contains(who, w.tm.SDR1.Name) {
		t.Fatalf("signed in with the new password as %q", who)
	}
}
