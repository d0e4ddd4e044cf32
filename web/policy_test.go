package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// v1Note is the note of the world's version 1: its document's change_note.
const v1Note = "the test policy of every package (storetest.Policy)"

// TestPolicyReview is marketing's safe edit: a backtest kept with the draft
// and marked out of date by an edit, the diff against the version in force,
// and a publish that shows what will happen and needs a change note.
func TestPolicyReview(t *testing.T) {
	w := newWorld(t)
	mia := w.signedIn(t, w.tm.Marketing)
	_, body := mia.get("/policy")
	mustContain(t, body, "New draft", "Version 1 in force", "<q>"+v1Note+"</q>")

	// Backtested before it is saved: the page says the result is not kept yet.
	resp, body := mia.post("/policy", url.Values{"action": {"backtest"}, "body": {looserPolicy}})
	if resp.StatusCode != 200 {
		t.Fatalf("backtest: %d %s", resp.StatusCode, excerpt(body))
	}
	mustContain(t, body, "Backtest: this document against version 1", "by Mia Marketing on 14 stored leads", "not saved: Save draft keeps it")
	// Saved: the draft shows the same backtest again, and its diff.
	resp, _ = mia.post("/policy", url.Values{"action": {"save"}, "body": {looserPolicy}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	id := between(resp.Header.Get("Location")+"&", "draft=", "&")
	draftPath := "/policy?draft=" + id
	if resp.Header.Get("Location") != draftPath+"&msg=draft" {
		t.Fatalf("saved to %s", resp.Header.Get("Location"))
	}
	_, body = mia.get(draftPath + "&msg=draft")
	mustContain(t, body, "Draft saved", "Draft #"+id, "Backtest: draft #"+id+" against version 1", "by Mia Marketing on 14 stored leads",
		"Review and publish draft #"+id, "Changes against version 1")
	mustNotContain(t, body, "out of date")
	// The diff: the old thresholds removed, the new ones added, line by line.
	mustMatch(t, body, `<tr class="d-removed"><td class="n">\d+</td><td class="n"></td><td class="mark">−<span class="sr-only"> removed</span></td><td class="text"><code>  fit: 20</code>`)
	mustMatch(t, body, `<tr class="d-added"><td class="n"></td><td class="n">\d+</td><td class="mark">\+<span class="sr-only"> added</span></td><td class="text"><code>  fit: 0</code>`)
	mustContain(t, body, `class="d-folded"`, "unchanged lines")

	// Edited and saved again: the backtest is kept, out of date.
	base := between(body, `name="base" value="`, `"`)
	edited := strings.Replace(looserPolicy, "engagement: 10", "engagement: 12", 1)
	resp, _ = mia.post("/policy", url.Values{"action": {"save"}, "body": {edited}, "draft_id": {id}, "base": {base}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != draftPath+"&msg=draft" {
		t.Fatalf("save the edit: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body = mia.get(draftPath)
	mustContain(t, body, "This backtest is out of date: the draft was edited after this backtest", "by Mia Marketing on 14 stored leads",
		"last edited", "engagement: 12")
	// An edit from the text before is refused, saying why, the text kept.
	resp, body = mia.post("/policy", url.Values{"action": {"save"}, "body": {looserPolicy + "# mine\n"}, "draft_id": {id}, "base": {base}})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("save from an old text: %d", resp.StatusCode)
	}
	mustContain(t, body, "was edited by Mia Marketing after you opened it", "# mine")

	// The confirmation says what will happen and asks for the note.
	confirm := "/policy?draft=" + id + "&publish=1"
	st, body := mia.get(confirm)
	if st != 200 {
		t.Fatalf("confirmation: %d %s", st, excerpt(body))
	}
	mustContain(t, body, "Publish draft #"+id+" as version 2?", "becomes <strong>version 2</strong>", "Every lead, <strong>14</strong> in all",
		"from their stored engagement", "<strong>2</strong> added and <strong>2</strong> removed lines against version 1",
		"<strong>Out of date:</strong> the draft was edited", `<label for="change_note">Change note</label>`, `maxlength="500" required`,
		"not version 1’s note (“"+v1Note+"”)", "Publish version 2 and rescore every lead", `class="d-added"`)
	sha := between(body, `name="sha256" value="`, `"`)
	form := func(note string) url.Values {
		return url.Values{"draft_id": {id}, "sha256": {sha}, "change_note": {note}}
	}
	// Without a note, or with v1's: refused at the note field, nothing published.
	for _, c := range []struct{ note, says string }{{"", "required: say what this version changes"}, {" " + strings.ToUpper(v1Note), "this is the note of v1 unchanged"},
		{strings.Repeat("x", 501), "the note is 501 characters, at most 500 allowed"}} {
		resp, body = mia.post("/policy/publish", form(c.note))
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("publish with %q: %d", c.note, resp.StatusCode)
		}
		mustContain(t, body, `aria-describedby="note-help note-error" aria-invalid="true"`, `<p class="field-error" id="note-error" role="alert">`+c.says,
			"Publish draft #"+id+" as version 2?")
	}
	// A reviewed text that changed since: refused, the confirmation shown again.
	resp, body = mia.post("/policy/publish", url.Values{"draft_id": {id}, "sha256": {base}, "change_note": {"Lower thresholds"}})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("publish of an edited draft: %d", resp.StatusCode)
	}
	mustContain(t, body, `<p class="form-error" role="alert">draft `+id+` was edited`, "Publish draft #"+id+" as version 2?")
	if _, body = mia.get("/policy"); !strings.Contains(body, "Version 1 in force") {
		t.Fatal("a refused publish published")
	}
	// A rep may not publish.
	sam := w.signedIn(t, w.tm.SDR1)
	if resp, _ := sam.post("/policy/publish", form("Lower thresholds")); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a rep publishes: %d", resp.StatusCode)
	}
	if _, body := sam.get(confirm); strings.Contains(body, "Publish draft") {
		t.Fatal("a rep sees the publish confirmation")
	}

	// With a note: published; the history shows the note, who and when.
	note := "MQL at fit 0 and engagement 12: webinar leads waited too long"
	resp, _ = mia.post("/policy/publish", form(note))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/policy?msg=published" {
		t.Fatalf("publish: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body = mia.get("/policy?msg=published")
	mustContain(t, body, "Policy published", "Version 2 in force", "by Mia Marketing.", "<q>"+note+"</q>")
	history := between(body, `<table class="history">`, `</table>`)
	mustMatch(t, history, `v2 \(current\)</td>\s*<td class="change-note">`+regexp.QuoteMeta(note)+`</td>\s*<td>[^<]+ by Mia Marketing</td>`)
	mustMatch(t, history, `v1</td>\s*<td class="change-note">`+regexp.QuoteMeta(v1Note)+`</td>`)
	// Published, the draft is no longer editable in place nor publishable.
	_, body = mia.get(draftPath)
	mustNotContain(t, body, "Review and publish", `name="base"`)
	mustContain(t, body, "New draft from version 2")
}

// TestPolicyLines checks the line numbers: the editor's gutter, the
// problems linked to their lines, and the numbered read-only document.
func TestPolicyLines(t *testing.T) {
	w := newWorld(t)
	mia := w.signedIn(t, w.tm.Marketing)
	_, body := mia.get("/policy")
	mustContain(t, body, `<pre class="gutter" aria-hidden="true"><span id="L1">1</span>`, `<span id="L7">7</span>`, `wrap="off"`)
	bad := strings.Replace(testPolicy, "contains: VP", "regex: '('", 1)
	bad = strings.Replace(bad, "half_life: 10d", "half_life: -1d", 1)
	resp, body := mia.post("/policy", url.Values{"action": {"validate"}, "body": {bad}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("validate: %d", resp.StatusCode)
	}
	lines := strings.Split(bad, "\n")
	regexLine, halfLine := 0, 0
	for i, l := range lines {
		if strings.Contains(l, "regex: '('") {
			regexLine = i + 1
		}
		if strings.Contains(l, "half_life: -1d") {
			halfLine = i + 1
		}
	}
	mustContain(t, body, `id="body-error" role="alert"`, "2 problems in the document:",
		`<a href="#L`+strconv.Itoa(regexLine)+`" data-line="`+strconv.Itoa(regexLine)+`">Line `+strconv.Itoa(regexLine)+`</a>, <code>fit[0].regex</code>: `,
		`<a href="#L`+strconv.Itoa(halfLine)+`" data-line="`+strconv.Itoa(halfLine)+`">Line `+strconv.Itoa(halfLine)+`</a>, <code>engagement.half_life</code>: `,
		`<span id="L`+strconv.Itoa(halfLine)+`">`, `aria-invalid="true"`, `<script src="/static/policy.js" defer></script>`)
	// The read-only document is numbered too.
	sam := w.signedIn(t, w.tm.SDR1)
	_, body = sam.get("/policy")
	mustContain(t, body, `<ol class="lines"><li id="L1"><code>name: Test policy</code></li><li id="L2">`)
	mustNotContain(t, body, "policy.js", "Backtest")
	if st, _ := w.client(t).get("/static/policy.js"); st != 200 {
		t.Fatalf("policy.js: %d", st)
	}
}

func mustMatch(t *testing.T, body, re string) {
	t.Helper()
	if !regexp.MustCompile(re).MatchString(body) {
		t.Fatalf("page does not match %s:\n%s", re, excerpt(body))
	}
}
