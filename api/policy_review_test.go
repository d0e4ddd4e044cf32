package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// TestPolicyReview edits a draft, backtests it, diffs it and publishes it
// with a change note through the API.
func TestPolicyReview(t *testing.T) {
	f := newFixture(t)
	f.lead(sdrA, baton.StageNew)
	if _, err := f.db.PublishDocument(sys(), testPolicy); err != nil {
		t.Fatal(err)
	}
	looser := strings.Replace(testPolicy, "engagement: 30\n  match", "engagement: 20\n  match", 1)

	// Backtested, then saved: the draft carries the backtest.
	if st, b := f.do(marketing, "POST", "/api/v1/policies/backtest", policyJSON(looser)); st != 200 {
		t.Fatalf("backtest: %d %s", st, b)
	}
	st, b := f.do(marketing, "POST", "/api/v1/policies", policyJSON(looser))
	var draft baton.PolicyDoc
	decodeJSON(t, b, &draft)
	if st != 201 || draft.Backtest == nil || draft.Backtest.RunBy != marketing || draft.Backtest.Leads != 1 || draft.BacktestStale != "" || draft.SHA256 == "" {
		t.Fatalf("draft: %d %s", st, b)
	}
	path := "/api/v1/policies/" + itoa(draft.ID)

	// The diff against v1: one line out, one in.
	st, b = f.do(sdrA, "GET", path+"/diff", "")
	var diff baton.PolicyDiff
	decodeJSON(t, b, &diff)
	if st != 200 || diff.FromVersion != 1 || diff.Added != 1 || diff.Removed != 1 || diff.ID != draft.ID {
		t.Fatalf("diff: %d %s", st, b)
	}
	kinds := map[baton.DiffKind][]string{}
	for _, l := range diff.Lines {
		kinds[l.Kind] = append(kinds[l.Kind], l.Text)
	}
	if len(kinds[baton.DiffRemoved]) != 1 || kinds[baton.DiffRemoved][0] != "  engagement: 30" ||
		len(kinds[baton.DiffAdded]) != 1 || kinds[baton.DiffAdded][0] != "  engagement: 20" || len(kinds[baton.DiffFolded]) == 0 {
		t.Fatalf("diff lines: %s", b)
	}

	// Edited: the backtest stays, out of date; an edit from an older text,
	// a bad document and a rep are refused.
	edited := strings.Replace(looser, "engagement: 20\n  match", "engagement: 15\n  match", 1)
	editBody := func(body, base string) string {
		b, _ := json.Marshal(map[string]string{"body": body, "base": base})
		return string(b)
	}
	st, b = f.do(marketing, "PUT", path, editBody(edited, draft.SHA256))
	var got baton.PolicyDoc
	decodeJSON(t, b, &got)
	if st != 200 || got.Body != edited || got.UpdatedBy != marketing || got.Backtest == nil || got.BacktestStale == "" {
		t.Fatalf("edit: %d %s", st, b)
	}
	if st, b := f.do(marketing, "PUT", path, editBody(looser, draft.SHA256)); st != 409 {
		t.Fatalf("edit from an old text: %d %s", st, b)
	}
	if st, b := f.do(marketing, "PUT", path, editBody("fit: [oops", "")); st != 400 || !strings.Contains(string(b), `"problems"`) {
		t.Fatalf("edit to a bad document: %d %s", st, b)
	}
	if st, b := f.do(sdrA, "PUT", path, editBody(edited, "")); st != 403 {
		t.Fatalf("a rep edits: %d %s", st, b)
	}

	// Publish: the note is required and named, not v1's, and the text must
	// be the one reviewed.
	for _, body := range []string{"", `{}`, `{"change_note":"   "}`, `{"change_note":"the test policy of every package (storetest.Policy)"}`} {
		st, b := f.do(marketing, "POST", path+"/publish", body)
		var e apiError
		decodeJSON(t, b, &e)
		if st != 400 || e.Error.Field != "change_note" {
			t.Errorf("publish with %q: %d %s, want 400 naming change_note", body, st, b)
		}
	}
	if st, b := f.do(marketing, "POST", path+"/publish", `{"change_note":"x","sha256":"`+draft.SHA256+`"}`); st != 409 {
		t.Fatalf("publish of an edited draft: %d %s", st, b)
	}
	if st, b := f.do(marketing, "POST", path+"/publish", `{"note":"x"}`); st != 400 {
		t.Fatalf("publish with an unknown field: %d %s", st, b)
	}
	note := "Engagement threshold 30 -> 15: webinar leads waited too long"
	st, b = f.do(marketing, "POST", path+"/publish", `{"change_note":"`+note+`","sha256":"`+got.SHA256+`"}`)
	var pub baton.PolicyDoc
	decodeJSON(t, b, &pub)
	if st != 200 || pub.Version != 2 || pub.ChangeNote != note || pub.PublishedBy != marketing || pub.PublishedAt == nil {
		t.Fatalf("publish: %d %s", st, b)
	}
	// The history shows the note and who published.
	var list struct {
		Items []baton.PolicyDoc `json:"items"`
	}
	_, b = f.do(sdrA, "GET", "/api/v1/policies", "")
	decodeJSON(t, b, &list)
	if len(list.Items) != 2 || list.Items[0].Version != 2 || list.Items[0].ChangeNote != note || list.Items[0].PublishedBy != marketing ||
		list.Items[1].ChangeNote != "the test policy of every package (storetest.Policy)" {
		t.Fatalf("history: %s", b)
	}
	if st, b := f.do(marketing, "PUT", path, editBody(testPolicy, "")); st != 409 {
		t.Fatalf("edit of a published version: %d %s", st, b)
	}
}
