package store_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// wantField checks that err is EINVALID naming field.
func wantField(t *testing.T, err error, field, says string) {
	t.Helper()
	wantCode(t, err, baton.EINVALID)
	if got := baton.ErrorField(err); got != field {
		t.Fatalf("error names %q, want %q: %v", got, field, err)
	}
	if !strings.Contains(err.Error(), says) {
		t.Fatalf("error %q does not say %q", err, says)
	}
}

// TestPublishNeedsChangeNote publishes drafts with and without notes: the
// note is required, short, not the previous version's, and kept with the
// version, who published it and when.
func TestPublishNeedsChangeNote(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		tm := storetest.SeedTeam(t, db)
		mia := storetest.As(tm.Marketing)
		d, err := db.SaveDraft(mia, testPolicy)
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.PublishPolicy(mia, baton.PolicyPublish{ID: d.ID})
		wantField(t, err, "change_note", "required")
		_, err = db.PublishPolicy(mia, baton.PolicyPublish{ID: d.ID, ChangeNote: "  \n "})
		wantField(t, err, "change_note", "required")
		_, err = db.PublishPolicy(mia, baton.PolicyPublish{ID: d.ID, ChangeNote: strings.Repeat("é", baton.MaxChangeNote+1)})
		wantField(t, err, "change_note", "at most 500")
		_, err = db.PublishPolicy(mia, baton.PolicyPublish{ID: d.ID, ChangeNote: "First", SHA256: "0123"})
		wantCode(t, err, baton.ECONFLICT)
		clock.Advance(time.Hour)
		v1, err := db.PublishPolicy(mia, baton.PolicyPublish{ID: d.ID, ChangeNote: " First version, agreed with sales ", SHA256: d.SHA256})
		if err != nil {
			t.Fatal(err)
		}
		if v1.Version != 1 || v1.ChangeNote != "First version, agreed with sales" || v1.PublishedBy != "Mia Marketing" || !v1.PublishedAt.Equal(clock.Now()) {
			t.Fatalf("v1 %+v", v1)
		}
		// The next draft, edited from v1, still carries v1's note in its
		// document: the publisher must say what changed.
		looser := strings.Replace(testPolicy, "engagement: 30\n  match", "engagement: 20\n  match", 1)
		d2, err := db.SaveDraft(mia, looser)
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.PublishPolicy(storetest.As(tm.Admin), baton.PolicyPublish{ID: d2.ID, ChangeNote: "first  VERSION, agreed with sales"})
		wantField(t, err, "change_note", "note of v1 unchanged")
		clock.Advance(time.Hour)
		v2, err := db.PublishPolicy(storetest.As(tm.Admin), baton.PolicyPublish{ID: d2.ID, ChangeNote: "Engagement threshold 30 -> 20: too few MQLs from webinars"})
		if err != nil {
			t.Fatal(err)
		}
		// The history: each version with its own note and publisher; the
		// body is as reviewed.
		docs, err := db.FindPolicies(storetest.As(tm.SDR1))
		if err != nil {
			t.Fatal(err)
		}
		if len(docs) != 2 || docs[0].Version != 2 || docs[1].Version != 1 {
			t.Fatalf("history %+v", docs)
		}
		if docs[0].ChangeNote != v2.ChangeNote || docs[0].PublishedBy != "Ada Admin" || !docs[0].PublishedAt.Equal(clock.Now()) || docs[0].Body != looser {
			t.Fatalf("v2 in the history %+v", docs[0])
		}
		if docs[1].ChangeNote != "First version, agreed with sales" || docs[1].PublishedBy != "Mia Marketing" {
			t.Fatalf("v1 in the history %+v", docs[1])
		}
		// A published version is not edited, and not published again.
		_, err = db.UpdateDraft(mia, d2.ID, testPolicy, "")
		wantCode(t, err, baton.ECONFLICT)
		_, err = db.PublishPolicy(mia, baton.PolicyPublish{ID: d2.ID, ChangeNote: "again"})
		wantCode(t, err, baton.ECONFLICT)
		// The CLI's path takes the document's note, but never repeats the
		// note in force.
		v3, err := db.PublishDocument(storetest.System(), strings.Replace(looser, "the test policy of every package (storetest.Policy)", `"Engagement threshold 30 -> 20: too few MQLs from webinars"`, 1))
		if err != nil {
			t.Fatal(err)
		}
		if v3.Version != 3 || v3.ChangeNote != "" {
			t.Fatalf("v3 %+v", v3)
		}
	})
}

// TestBacktestKeptWithDraft runs backtests before and after saving drafts:
// the result stays with the draft, and says when it is out of date.
func TestBacktestKeptWithDraft(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		tm := storetest.SeedTeam(t, db)
		mia := storetest.As(tm.Marketing)
		publish(t, db, testPolicy)
		for i, title := range []string{"VP Sales", "Engineer"} {
			l := storetest.MustLead(t, db, &baton.Lead{Email: fmt.Sprintf("k%d@acme.com", i), Title: title, Source: "webinar"})
			mustEvents(t, db, event(fmt.Sprint("w", i), l.ID, baton.EventWebinarAttended, clock.Now()),
				event(fmt.Sprint("p", i), l.ID, baton.EventPricingPageView, clock.Now()))
		}
		draft := strings.Replace(testPolicy, "contains: VP", "regex: (?i)vp|engineer", 1)
		// Backtested before it is saved: the draft saved with that text
		// carries the result.
		clock.Advance(time.Minute)
		ran := clock.Now()
		bt, err := db.Backtest(mia, draft)
		if err != nil {
			t.Fatal(err)
		}
		if bt.RunBy != "Mia Marketing" || !bt.RunAt.Equal(ran) || bt.Leads != 2 || bt.Gained != 1 {
			t.Fatalf("backtest %+v", bt)
		}
		clock.Advance(time.Minute)
		d, err := db.SaveDraft(mia, draft)
		if err != nil {
			t.Fatal(err)
		}
		if d.Backtest == nil || !d.Backtest.RunAt.Equal(ran) || d.Backtest.Gained != 1 || d.Backtest.Draft.MQL != 2 || d.BacktestStale != "" {
			t.Fatalf("saved draft's backtest %+v (stale %q)", d.Backtest, d.BacktestStale)
		}
		got, err := db.FindPolicy(mia, d.ID)
		if err != nil || got.Backtest == nil || got.Backtest.Leads != 2 || len(got.Backtest.Changes) != 1 || got.BacktestStale != "" {
			t.Fatalf("opened draft %+v %v", got, err)
		}
		// An edit keeps the result, out of date; from an old base it is refused.
		edited := strings.Replace(draft, "points: 30", "points: 35", 1)
		_, err = db.UpdateDraft(mia, d.ID, edited, "not the base")
		wantCode(t, err, baton.ECONFLICT)
		_, err = db.UpdateDraft(storetest.As(tm.SDR1), d.ID, edited, d.SHA256)
		wantCode(t, err, baton.EFORBIDDEN)
		_, err = db.UpdateDraft(mia, d.ID, "fit: [oops", d.SHA256)
		wantCode(t, err, baton.EINVALID)
		clock.Advance(time.Minute)
		e, err := db.UpdateDraft(mia, d.ID, edited, d.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if e.Body != edited || e.SHA256 == d.SHA256 || e.UpdatedBy != "Mia Marketing" || e.UpdatedAt == nil || !e.UpdatedAt.Equal(clock.Now()) {
			t.Fatalf("edited draft %+v", e)
		}
		if e.Backtest == nil || !e.Backtest.RunAt.Equal(ran) || !strings.Contains(e.BacktestStale, "edited after this backtest") {
			t.Fatalf("edited draft's backtest %+v, stale %q", e.Backtest, e.BacktestStale)
		}
		_, err = db.UpdateDraft(mia, d.ID, draft, d.SHA256)
		wantCode(t, err, baton.ECONFLICT)
		// Backtesting the text as it is brings it up to date.
		clock.Advance(time.Minute)
		if _, err := db.Backtest(mia, edited); err != nil {
			t.Fatal(err)
		}
		got, err = db.FindPolicy(mia, d.ID)
		if err != nil || got.Backtest == nil || !got.Backtest.RunAt.Equal(clock.Now()) || got.BacktestStale != "" {
			t.Fatalf("re-backtested draft %+v %v", got, err)
		}
		// Another version published since: out of date again.
		publish(t, db, strings.Replace(testPolicy, "points: 20", "points: 25", 1))
		got, err = db.FindPolicy(mia, d.ID)
		if err != nil || got.Backtest == nil || !strings.Contains(got.BacktestStale, "v2 is in force now") {
			t.Fatalf("draft after v2: stale %q %v", got.BacktestStale, err)
		}
		// Runs no draft keeps are dropped after a week; the draft's stays.
		if _, err := db.Backtest(mia, testPolicy); err != nil {
			t.Fatal(err)
		}
		count := func() (n int) {
			if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM policy_backtests`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(); n != 3 {
			t.Fatalf("%d backtests kept, want 3", n)
		}
		clock.Advance(8 * 24 * time.Hour)
		if _, err := db.Backtest(mia, testPolicy); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 2 { // the draft's and the new one
			t.Fatalf("%d backtests kept after a week, want 2", n)
		}
		if got, err := db.FindPolicy(mia, d.ID); err != nil || got.Backtest == nil {
			t.Fatalf("the draft lost its backtest: %v", err)
		}
	})
}

// TestPolicyDiffAndPreview compares drafts with the version in force, and
// says what publishing them would do.
func TestPolicyDiffAndPreview(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		tm := storetest.SeedTeam(t, db)
		mia := storetest.As(tm.Marketing)
		for i := range 3 {
			storetest.MustLead(t, db, &baton.Lead{Email: fmt.Sprintf("d%d@acme.com", i)})
		}
		// Before any version: everything is added, and the events replayed.
		d0, err := db.SaveDraft(mia, testPolicy)
		if err != nil {
			t.Fatal(err)
		}
		pv, err := db.PreviewPublish(mia, d0.ID)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Count(strings.TrimSuffix(testPolicy, "\n"), "\n") + 1
		if pv.Version != 1 || pv.Leads != 3 || !pv.Replay || pv.Current != nil || pv.Diff.Added != lines || pv.Diff.Removed != 0 || pv.Diff.FromVersion != 0 {
			t.Fatalf("first preview %+v diff +%d -%d", pv, pv.Diff.Added, pv.Diff.Removed)
		}
		if pv.SuggestedNote != "the test policy of every package (storetest.Policy)" {
			t.Fatalf("suggested note %q", pv.SuggestedNote)
		}
		// Published with the note its document suggested.
		if _, err := db.PublishPolicy(mia, baton.PolicyPublish{ID: d0.ID, ChangeNote: pv.SuggestedNote}); err != nil {
			t.Fatal(err)
		}
		// A fit change: one line removed, one added, the rest folded; the
		// stored engagement is reused. The document's note is v1's: not
		// suggested.
		fit := strings.Replace(testPolicy, "    points: 30\n", "    points: 40\n", 1)
		d1, err := db.SaveDraft(mia, fit)
		if err != nil {
			t.Fatal(err)
		}
		diff, err := db.DiffPolicy(storetest.As(tm.SDR1), d1.ID)
		if err != nil {
			t.Fatal(err)
		}
		var added, removed []string
		folded := 0
		for _, l := range diff.Lines {
			switch l.Kind {
			case baton.DiffAdded:
				added = append(added, fmt.Sprintf("%d %s", l.New, l.Text))
			case baton.DiffRemoved:
				removed = append(removed, fmt.Sprintf("%d %s", l.Old, l.Text))
			case baton.DiffFolded:
				folded += l.Folded
			}
		}
		if diff.ID != d1.ID || diff.FromVersion != 1 || diff.Added != 1 || diff.Removed != 1 || diff.Unchanged != lines-1 {
			t.Fatalf("diff %+v", diff)
		}
		if len(added) != 1 || added[0] != "8     points: 40" || len(removed) != 1 || removed[0] != "8     points: 30" || folded == 0 {
			t.Fatalf("added %q, removed %q, %d folded", added, removed, folded)
		}
		pv, err = db.PreviewPublish(mia, d1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if pv.Version != 2 || pv.Replay || pv.Current == nil || pv.Current.Version != 1 || pv.Diff.Added != 1 || pv.SuggestedNote != "" {
			t.Fatalf("fit preview %+v", pv)
		}
		_, err = db.PreviewPublish(storetest.As(tm.SDR1), d1.ID)
		wantCode(t, err, baton.EFORBIDDEN)
		_, err = db.PreviewPublish(mia, d0.ID)
		wantCode(t, err, baton.ECONFLICT)
		// An engagement change replays every lead's events.
		eng, err := db.SaveDraft(mia, strings.Replace(testPolicy, "half_life: 10d", "half_life: 20d", 1))
		if err != nil {
			t.Fatal(err)
		}
		if pv, err = db.PreviewPublish(mia, eng.ID); err != nil || !pv.Replay {
			t.Fatalf("engagement preview %+v %v", pv, err)
		}
		// A published version is compared with the one before it.
		if _, err := db.PublishPolicy(mia, baton.PolicyPublish{ID: d1.ID, ChangeNote: "VPs fit more"}); err != nil {
			t.Fatal(err)
		}
		if diff, err = db.DiffPolicy(mia, d1.ID); err != nil || diff.FromVersion != 1 || diff.Added != 1 || diff.Removed != 1 {
			t.Fatalf("v2's diff %+v %v", diff, err)
		}
		if diff, err = db.DiffPolicy(mia, d0.ID); err != nil || diff.FromVersion != 0 || diff.Added != lines {
			t.Fatalf("v1's diff %+v %v", diff, err)
		}
		_, err = db.DiffPolicy(mia, 99999)
		wantCode(t, err, baton.ENOTFOUND)
	})
}
