package store_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// testPolicy is the test policy shared by every package.
var testPolicy = storetest.Policy

func publish(t *testing.T, db *store.DB, body string) *baton.PolicyDoc {
	t.Helper()
	d, err := db.PublishDocument(storetest.System(), body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.RescoreAll(storetest.System()); err != nil {
		t.Fatal(err)
	}
	return d
}

func event(id string, lead int64, typ string, at time.Time) baton.EventInput {
	return baton.EventInput{ID: id, LeadID: lead, Type: typ, OccurredAt: at}
}

func mustEvents(t *testing.T, db *store.DB, events ...baton.EventInput) baton.EventResult {
	t.Helper()
	res, err := db.RecordEvents(storetest.System(), events)
	if err != nil || res.Rejected > 0 {
		t.Fatalf("events: %+v %v", res, err)
	}
	return res
}

func lead(t *testing.T, db *store.DB, id int64) *baton.Lead {
	t.Helper()
	l, err := db.FindLeadByID(storetest.System(), id)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// TestEngagementDecaysAndPromotesOnce moves the clock through a lead's life
// under a policy.
func TestEngagementDecaysAndPromotesOnce(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		d := publish(t, db, testPolicy)
		if d.Version != 1 {
			t.Fatalf("version %d", d.Version)
		}
		vp := storetest.MustLead(t, db, &baton.Lead{Email: "vp@acme.com", Title: "VP Sales"})
		if s := lead(t, db, vp.ID).Score; s.Fit != 30 || s.FitGrade != "A" || s.PolicyVersion != 1 {
			t.Fatalf("fit score %+v", s)
		}
		now := clock.Now()
		// 20 points, then the same event again with the same id: counted once.
		mustEvents(t, db, event("p1", vp.ID, baton.EventPricingPageView, now))
		res := mustEvents(t, db, event("p1", vp.ID, baton.EventPricingPageView, now))
		if res.Duplicates != 1 {
			t.Fatalf("resend: %+v", res)
		}
		l := lead(t, db, vp.ID)
		if !near(l.Score.Engagement, 20) || l.Stage != baton.StageNew {
			t.Fatalf("after one event: %+v %s", l.Score, l.Stage)
		}
		// Ten days later (one half-life) it is worth 10; a webinar adds 15: 25 < 30.
		clock.Advance(10 * 24 * time.Hour)
		ex, err := db.ExplainScore(storetest.System(), vp.ID)
		if err != nil || !near(ex.Score.Engagement, 10) {
			t.Fatalf("decay after one half-life: %+v %v", ex, err)
		}
		clock.Advance(10 * 24 * time.Hour)
		ex, _ = db.ExplainScore(storetest.System(), vp.ID)
		if !near(ex.Score.Engagement, 5) {
			t.Fatalf("decay after two half-lives: %v", ex.Score.Engagement)
		}
		mustEvents(t, db, event("w1", vp.ID, baton.EventWebinarAttended, clock.Now()))
		if l := lead(t, db, vp.ID); !near(l.Score.Engagement, 20) || l.Stage != baton.StageNew {
			t.Fatalf("decayed lead promoted: %+v %s", l.Score, l.Stage)
		}
		// A pricing view now crosses 30: promoted, with the policy's reason.
		mustEvents(t, db, event("p2", vp.ID, baton.EventPricingPageView, clock.Now()))
		l = lead(t, db, vp.ID)
		if l.Stage != baton.StageMQL || !near(l.Score.Engagement, 40) || l.Score.EngagementGrade != "1" {
			t.Fatalf("not promoted: %+v %s", l.Score, l.Stage)
		}
		// More events and decay never move it again by themselves.
		mustEvents(t, db, event("p3", vp.ID, baton.EventPricingPageView, clock.Now()))
		clock.Advance(100 * 24 * time.Hour)
		mustEvents(t, db, event("w2", vp.ID, baton.EventWebinarAttended, clock.Now()))
		l = lead(t, db, vp.ID)
		hist, _ := db.History(storetest.System(), vp.ID)
		promotions := 0
		for _, h := range hist {
			if h.Action == baton.ActionStage && h.To == "mql" {
				promotions++
				if h.Reason != "policy v1: fit 30 >= 20, engagement 40 >= 30" || h.ActorName != "scoring policy" {
					t.Fatalf("promotion entry %+v", h)
				}
			}
		}
		if promotions != 1 || l.Stage != baton.StageMQL {
			t.Fatalf("%d promotions, stage %s", promotions, l.Stage)
		}
		// The explanation adds up to the score.
		ex, _ = db.ExplainScore(storetest.System(), vp.ID)
		sum := 0.0
		for _, r := range ex.Reasons {
			sum += r.Points
		}
		if !near(sum, ex.Score.Fit+ex.Score.Engagement) || len(ex.Reasons) != 3 {
			t.Fatalf("reasons %+v sum %v, score %+v", ex.Reasons, sum, ex.Score)
		}
	})
}

func TestFastTrackAndFitGate(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		publish(t, db, testPolicy)
		good := storetest.MustLead(t, db, &baton.Lead{Email: "vp@acme.com", Title: "VP"})
		poor := storetest.MustLead(t, db, &baton.Lead{Email: "x@gmail.com"})
		mustEvents(t, db, event("d1", good.ID, baton.EventDemoRequest, clock.Now()), event("d2", poor.ID, baton.EventDemoRequest, clock.Now()))
		if l := lead(t, db, good.ID); l.Stage != baton.StageMQL {
			t.Fatalf("fast track not taken: %s", l.Stage)
		}
		if l := lead(t, db, poor.ID); l.Stage != baton.StageNew || l.Score.Fit != -20 {
			t.Fatalf("a lead under the fit floor was fast-tracked: %s %+v", l.Stage, l.Score)
		}
	})
}

// TestPublishRescores publishes a stricter then a looser policy: every lead
// is rescored by the new version, and those that now qualify are promoted.
func TestPublishRescores(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		var ids []int64
		for i := 0; i < 30; i++ {
			l := storetest.MustLead(t, db, &baton.Lead{Email: fmt.Sprintf("l%d@acme.com", i), Title: "VP"})
			ids = append(ids, l.ID)
			mustEvents(t, db, event(fmt.Sprint("e", i), l.ID, baton.EventWebinarAttended, clock.Now()))
		}
		// No policy yet: nothing is scored, nothing promoted.
		if l := lead(t, db, ids[0]); l.Score.PolicyVersion != 0 || l.Stage != baton.StageNew {
			t.Fatalf("scored without a policy: %+v", l)
		}
		publish(t, db, testPolicy) // webinar 15 < 30: nobody qualifies
		// publish rescored every lead itself (RescoreAll, as `baton policy
		// publish --now`): the publication's job is done, not left to do it again.
		rescores := func() (n int) {
			if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM jobs WHERE kind = $1 AND done_at IS NULL`, store.RescoreJob).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := rescores(); n != 0 {
			t.Fatalf("%d rescore jobs left after RescoreAll", n)
		}
		st, err := db.RescoreStatus(storetest.System())
		if err != nil || st.Current != 30 || st.Stale != 0 || st.PolicyVersion != 1 {
			t.Fatalf("status %+v %v", st, err)
		}
		if l := lead(t, db, ids[0]); !near(l.Score.Engagement, 15) || l.Stage != baton.StageNew {
			t.Fatalf("v1: %+v %s", l.Score, l.Stage)
		}
		looser := strings.Replace(testPolicy, "engagement: 30\n  match", "engagement: 10\n  match", 1)
		d, err := db.PublishDocument(storetest.System(), looser)
		if err != nil || d.Version != 2 {
			t.Fatal(d, err)
		}
		if n := rescores(); n != 1 {
			t.Fatalf("%d rescore jobs waiting after a publication, want 1", n)
		}
		// Until the rescore runs, the status says how many leads are on the old version.
		st, _ = db.RescoreStatus(storetest.System())
		if st.Stale != 30 || st.PolicyVersion != 2 {
			t.Fatalf("status before rescore %+v", st)
		}
		// The rescore rides on the background jobs, a chunk per job.
		if _, err := runRescores(storetest.System(), db, 0, nil); err != nil {
			t.Fatal(err)
		}
		st, _ = db.RescoreStatus(storetest.System())
		if st.Current != 30 {
			t.Fatalf("status after rescore %+v", st)
		}
		for _, id := range ids {
			if l := lead(t, db, id); l.Stage != baton.StageMQL || l.Score.PolicyVersion != 2 {
				t.Fatalf("lead %d: %s %+v", id, l.Stage, l.Score)
			}
		}
	})
}

func TestPolicyValidationAndRoles(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		tm := storetest.SeedTeam(t, db)
		bad := strings.Replace(testPolicy, "contains: VP", "regex: '('", 1)
		bad = strings.Replace(bad, "half_life: 10d", "half_life: -1d", 1)
		_, err := db.SaveDraft(storetest.As(tm.Marketing), bad)
		wantCode(t, err, baton.EINVALID)
		if msg := err.Error(); !strings.Contains(msg, "2 problems") {
			t.Fatalf("not every problem listed: %v", msg)
		}
		_, err = db.SaveDraft(storetest.As(tm.Marketing), strings.Replace(testPolicy, "field: title", "field: attributes.nope", 1))
		wantCode(t, err, baton.EINVALID)
		_, err = db.SaveDraft(storetest.As(tm.SDR1), testPolicy)
		wantCode(t, err, baton.EFORBIDDEN)
		d, err := db.SaveDraft(storetest.As(tm.Marketing), testPolicy)
		if err != nil {
			t.Fatal(err)
		}
		publish := baton.PolicyPublish{ID: d.ID, ChangeNote: "first version"}
		_, err = db.PublishPolicy(storetest.As(tm.Manager1), publish)
		wantCode(t, err, baton.EFORBIDDEN)
		if _, err := db.PublishPolicy(storetest.As(tm.Marketing), publish); err != nil {
			t.Fatal(err)
		}
		_, err = db.PublishPolicy(storetest.As(tm.Marketing), publish)
		wantCode(t, err, baton.ECONFLICT)
		cur, err := db.CurrentPolicy(storetest.As(tm.SDR1))
		if err != nil || cur.Version != 1 || cur.PublishedBy != "Mia Marketing" {
			t.Fatalf("current %+v %v", cur, err)
		}
	})
}

func TestBacktest(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		tm := storetest.SeedTeam(t, db)
		publish(t, db, testPolicy)
		// Two VPs who attended a webinar and viewed pricing: MQL under v1; one
		// was accepted and won. One engineer with the same behaviour: fit 0.
		var vps []int64
		for i, title := range []string{"VP Sales", "VP Ops", "Engineer"} {
			l := storetest.MustLead(t, db, &baton.Lead{Email: fmt.Sprintf("p%d@acme.com", i), Title: title, Source: "webinar", OwnerID: &tm.SDR1.ID})
			mustEvents(t, db, event(fmt.Sprint("w", i), l.ID, baton.EventWebinarAttended, clock.Now()),
				event(fmt.Sprint("p", i), l.ID, baton.EventPricingPageView, clock.Now()))
			vps = append(vps, l.ID)
		}
		for _, to := range []baton.Stage{baton.StageSAL, baton.StageSQL, baton.StageOpportunity, baton.StageWon} {
			moveTo(t, db, tm, vps[0], to, "")
		}
		// The draft gives engineers fit too.
		draft := strings.Replace(testPolicy, "contains: VP", "regex: (?i)vp|engineer", 1)
		bt, err := db.Backtest(storetest.As(tm.Marketing), draft)
		if err != nil {
			t.Fatal(err)
		}
		if bt.Current.MQL != 2 || bt.Draft.MQL != 3 || bt.Gained != 1 || bt.Lost != 0 {
			t.Fatalf("backtest %+v", bt)
		}
		if bt.Current.Accepted != 1 || bt.Current.SQL != 1 || bt.Current.Won != 1 || bt.Draft.Won != 1 {
			t.Fatalf("outcomes %+v / %+v", bt.Current, bt.Draft)
		}
		if len(bt.Changes) != 1 || bt.Changes[0].LeadID != vps[2] || !bt.Changes[0].DraftMQL {
			t.Fatalf("changes %+v", bt.Changes)
		}
		if len(bt.Sources) != 1 || bt.Sources[0].Source != "webinar" || bt.Sources[0].Draft.MQL != 3 {
			t.Fatalf("by source %+v", bt.Sources)
		}
		_, err = db.Backtest(storetest.As(tm.SDR1), draft)
		wantCode(t, err, baton.EFORBIDDEN)
	})
}

// TestCountsKeptOrRebuiltAgree checks the model's behaviour features, the
// events a lead had while marketing had it, two ways: kept as events come
// under a policy, and rebuilt from the stored events and stage history
// when the first policy arrives after them (ingest keeps no state before).
func TestCountsKeptOrRebuiltAgree(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		features := map[bool]map[string]string{}
		engagement := map[bool]float64{}
		for _, policyFirst := range []bool{true, false} {
			db := open(t)
			clock := storetest.NewClock()
			db.Now = clock.Now
			if policyFirst {
				publish(t, db, testPolicy)
			}
			l := storetest.MustLead(t, db, &baton.Lead{Email: "ann@acme.com", Title: "Analyst"})
			other := storetest.MustLead(t, db, &baton.Lead{Email: "bob@acme.com"})
			at := clock.Now()
			clock.Advance(time.Hour)
			res := mustEvents(t, db, event("p1", l.ID, baton.EventPricingPageView, at), event("p2", l.ID, baton.EventPricingPageView, at),
				event("p1", l.ID, baton.EventPricingPageView, at), event("w0", other.ID, baton.EventWebinarAttended, at))
			if res.Created != 3 || res.Duplicates != 1 {
				t.Fatalf("first batch: %+v", res)
			}
			clock.Advance(time.Hour)
			// p2 again with a new one: one duplicate, one new, in one batch.
			if res := mustEvents(t, db, event("p2", l.ID, baton.EventPricingPageView, at), event("d1", l.ID, baton.EventContentDownload, at)); res.Created != 1 || res.Duplicates != 1 {
				t.Fatalf("second batch: %+v", res)
			}
			clock.Advance(time.Hour)
			if _, err := db.ChangeStage(storetest.System(), l.ID, baton.StageChange{To: baton.StageDisqualified, Reason: "student"}); err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Hour)
			// After marketing let go of the lead its behaviour no longer counts.
			mustEvents(t, db, event("w1", l.ID, baton.EventWebinarAttended, clock.Now()))
			if !policyFirst {
				publish(t, db, testPolicy)
			}
			engagement[policyFirst] = lead(t, db, l.ID).Score.Engagement
			set, err := db.TrainingSet(storetest.System())
			if err != nil {
				t.Fatal(err)
			}
			if len(set) != 1 || set[0].Converted {
				t.Fatalf("training set: %+v", set)
			}
			features[policyFirst] = map[string]string{}
			for k, v := range set[0].Row {
				if strings.HasPrefix(k, "events.") {
					features[policyFirst][k] = v
				}
			}
		}
		want := map[string]string{"events.pricing_page_view": "2", "events.content_download": "1"}
		for policyFirst, got := range features {
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("policy first %v: behaviour %v, want %v", policyFirst, got, want)
			}
		}
		if !near(engagement[true], engagement[false]) || engagement[true] == 0 {
			t.Errorf("engagement kept %v, rebuilt %v", engagement[true], engagement[false])
		}
	})
}

// TestRescoreReplaysOnlyWhenEngagementChanged: a new version that changes
// fit rules or thresholds rescores from the stored state; one that changes
// engagement rules replays the events.
func TestRescoreReplaysOnlyWhenEngagementChanged(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		publish(t, db, testPolicy)
		l := storetest.MustLead(t, db, &baton.Lead{Email: "ann@acme.com", Title: "VP Sales"})
		mustEvents(t, db, event("w", l.ID, baton.EventWebinarAttended, clock.Now()))
		// An event the policy never saw: replaying would count it.
		if _, err := db.SQL().Exec(`INSERT INTO events (lead_id, client_id, type, occurred_at, received_at) VALUES ($1, 'hidden', $2, $3, $3)`,
			l.ID, baton.EventPricingPageView, clock.Now().UnixMicro()); err != nil {
			t.Fatal(err)
		}
		fitOnly := strings.Replace(testPolicy, "points: 30", "points: 35", 1)
		publish(t, db, fitOnly)
		if got := lead(t, db, l.ID); got.Score.Fit != 35 || !near(got.Score.Engagement, 15) {
			t.Fatalf("after a fit change: fit %v engagement %v, want 35 and 15 (no replay)", got.Score.Fit, got.Score.Engagement)
		}
		publish(t, db, strings.Replace(fitOnly, "points: 15", "points: 16", 1))
		if got := lead(t, db, l.ID); !near(got.Score.Engagement, 16+20) {
			t.Fatalf("after an engagement change: engagement %v, want 36 (replayed)", got.Score.Engagement)
		}
	})
}

// TestEventsRebuildStaleLeads: new events for leads whose state a new policy
// has not rebuilt yet (its rescore has not run) rebuild them from all their
// events, for leads far apart as for neighbours.
func TestEventsRebuildStaleLeads(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		var leads []*baton.Lead
		for i := range 40 {
			leads = append(leads, storetest.MustLead(t, db, &baton.Lead{Email: fmt.Sprintf("l%d@acme.com", i)}))
		}
		first, far, next := leads[0], leads[39], leads[1]
		at := clock.Now()
		for _, l := range []*baton.Lead{first, far, next} {
			mustEvents(t, db, event(fmt.Sprint("before", l.ID), l.ID, baton.EventWebinarAttended, at))
		}
		// Published, its rescore not run.
		if _, err := db.PublishDocument(storetest.System(), testPolicy); err != nil {
			t.Fatal(err)
		}
		mustEvents(t, db, event("a", first.ID, baton.EventPricingPageView, at), event("b", far.ID, baton.EventPricingPageView, at))
		mustEvents(t, db, event("c", next.ID, baton.EventPricingPageView, at))
		for _, l := range []*baton.Lead{first, far, next} {
			if got := lead(t, db, l.ID); !near(got.Score.Engagement, 15+20) || got.Score.PolicyVersion != 1 {
				t.Errorf("lead %d: engagement %v v%d, want 35 under v1", l.ID, got.Score.Engagement, got.Score.PolicyVersion)
			}
		}
	})
}

// runRescores runs the due rescore jobs until none is left, as a worker runs
// them, and returns how many runs succeeded; after, if not nil, is called
// after each. A run whose handler fails (on PostgreSQL, a deadlock with a
// transaction that promotes the same leads) is run again at once, up to
// retries failures in all: the store runs it again only after a backoff,
// which the tests' frozen clock never reaches. A failure past retries is
// returned.
func runRescores(ctx context.Context, db *store.DB, retries int, after func(run int)) (int, error) {
	rescore := db.RescoreHandler()
	var failed *baton.Job
	handlers := map[string]baton.JobHandler{store.RescoreJob: func(ctx context.Context, j *baton.Job) error {
		err := rescore(ctx, j)
		if err != nil {
			failed = j
		}
		return err
	}}
	runs, failures := 0, 0
	for {
		failed = nil
		ran, err := db.RunDueJob(ctx, "test", handlers)
		if err != nil || !ran {
			return runs, err
		}
		// The failed job waits out its backoff: run it again now, in a
		// transaction of its own, as its next attempt would.
		for failed != nil {
			if failures == retries {
				return runs, fmt.Errorf("rescore job %d failed %d times", failed.ID, failures+1)
			}
			failures++
			if err := rescore(ctx, failed); err == nil {
				failed = nil
			}
		}
		runs++
		if after != nil {
			after(runs)
		}
	}
}

// engineers publishes the test policy and stores n leads titled Engineer,
// each with a webinar. It returns them, and a version 2 of the policy that
// changes engagement (a webinar is worth 16) and fit (30 for titles with Eng):
// publishing it replays and rescores every lead.
func engineers(t *testing.T, db *store.DB, clock *storetest.Clock, n int) ([]*baton.Lead, string) {
	t.Helper()
	publish(t, db, testPolicy)
	var leads []*baton.Lead
	for i := range n {
		l := storetest.MustLead(t, db, &baton.Lead{Email: fmt.Sprintf("l%d@acme.com", i), Title: "Engineer"})
		mustEvents(t, db, event(fmt.Sprint("w", i), l.ID, baton.EventWebinarAttended, clock.Now()))
		leads = append(leads, l)
	}
	return leads, strings.Replace(strings.Replace(testPolicy, "points: 15", "points: 16", 1), "contains: VP", "contains: Eng", 1)
}

// TestRescoreReadAheadKeepsChanges: a rescore computes a chunk on a read
// snapshot while it writes the one before. Leads changed between that read
// and the write (a new event, an edited field, a stage change) are scored as
// they are at the write, not as they were read; the others as read. Either
// way the result is the one a rescore without reading ahead gives.
func TestRescoreReadAheadKeepsChanges(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		leads, v2 := engineers(t, db, clock, 4)
		if _, err := db.PublishDocument(storetest.System(), v2); err != nil {
			t.Fatal(err)
		}
		db.ReadAhead(0)
		evented, edited, moved := leads[1], leads[2], leads[3]
		mustEvents(t, db, event("p", evented.ID, baton.EventPricingPageView, clock.Now()))
		title := "Head of Sales"
		if _, err := db.UpdateLead(storetest.System(), edited.ID, baton.LeadUpdate{Title: &title}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ChangeStage(storetest.System(), moved.ID, baton.StageChange{To: baton.StageDisqualified, Reason: "test"}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.RescoreAll(storetest.System()); err != nil {
			t.Fatal(err)
		}
		want := map[int64]struct{ fit, engagement float64 }{
			leads[0].ID: {30, 16},
			evented.ID:  {30, 16 + 20}, // the event after the read counts
			edited.ID:   {0, 16},       // the new title counts
			moved.ID:    {30, 16},
		}
		got := map[int64]baton.LeadScore{}
		for _, l := range leads {
			s := lead(t, db, l.ID).Score
			got[l.ID] = s
			if w := want[l.ID]; s.Fit != w.fit || !near(s.Engagement, w.engagement) || s.PolicyVersion != 2 {
				t.Errorf("lead %d: fit %v engagement %v v%d, want %v %v v2", l.ID, s.Fit, s.Engagement, s.PolicyVersion, w.fit, w.engagement)
			}
		}
		if st := lead(t, db, moved.ID).Stage; st != baton.StageDisqualified {
			t.Errorf("moved lead is %s, want disqualified", st)
		}
		// A rescore without reading ahead agrees.
		if _, err := db.RescoreAll(storetest.System()); err != nil {
			t.Fatal(err)
		}
		for _, l := range leads {
			s := lead(t, db, l.ID).Score
			if g := got[l.ID]; s.Fit != g.Fit || !near(s.Engagement, g.Engagement) {
				t.Errorf("lead %d: read ahead gave fit %v engagement %v, a rescore in the writer %v %v", l.ID, g.Fit, g.Engagement, s.Fit, s.Engagement)
			}
		}
	})
}

// TestRescoreJobReadsAhead: publishing rescores every lead through the
// rescore job, a chunk per run, each chunk read ahead while the one before is
// written. Leads of a chunk already read that change before it is written
// (an event, an edited title) end scored as they are; every lead ends scored
// by the new version.
func TestRescoreJobReadsAhead(t *testing.T) {
	defer store.SetRescoreChunk(3)()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		leads, v2 := engineers(t, db, clock, 11)
		// The first publication's job, already done by publish.
		if _, err := runRescores(storetest.System(), db, 0, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := db.PublishDocument(storetest.System(), v2); err != nil {
			t.Fatal(err)
		}
		runs, err := runRescores(storetest.System(), db, 0, func(run int) {
			if run == 1 {
				// The second chunk (leads 4 to 6) is read; two of its
				// leads change before it is written.
				db.WaitReadAhead()
				mustEvents(t, db, event("p", leads[4].ID, baton.EventPricingPageView, clock.Now()))
				title := "Head of Sales"
				if _, err := db.UpdateLead(storetest.System(), leads[5].ID, baton.LeadUpdate{Title: &title}); err != nil {
					t.Fatal(err)
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if runs != 4 {
			t.Errorf("%d job runs for 11 leads in chunks of 3, want 4", runs)
		}
		if st, err := db.RescoreStatus(storetest.System()); err != nil || st.Current != 11 || st.PolicyVersion != 2 {
			t.Fatalf("status %+v (%v), want 11 leads current under v2", st, err)
		}
		for i, l := range leads {
			fit, eng := 30.0, 16.0
			switch i {
			case 4:
				eng += 20
			case 5:
				fit = 0
			}
			if s := lead(t, db, l.ID).Score; s.Fit != fit || !near(s.Engagement, eng) || s.PolicyVersion != 2 {
				t.Errorf("lead %d: fit %v engagement %v v%d, want %v %v v2", i, s.Fit, s.Engagement, s.PolicyVersion, fit, eng)
			}
		}
	})
}

// TestRescoreWhileEventsArrive: events recorded by two senders at once while
// the rescore job runs (before a chunk is read, between its read and its
// write, after it) all count: every lead ends with the engagement a replay of all its events
// gives (checked by publishing a version that changes only the engagement
// key, which replays every lead).
func TestRescoreWhileEventsArrive(t *testing.T) {
	defer store.SetRescoreChunk(7)()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		leads, v2 := engineers(t, db, clock, 60)
		// As a worker does: a run that fails (on PostgreSQL, a deadlock
		// with a transaction that promotes the same leads) is run again.
		runJobs := func() error {
			_, err := runRescores(storetest.System(), db, 20, nil)
			return err
		}
		if err := runJobs(); err != nil {
			t.Fatal(err)
		}
		if _, err := db.PublishDocument(storetest.System(), v2); err != nil {
			t.Fatal(err)
		}
		jobs := make(chan error, 1)
		go func() { jobs <- runJobs() }()
		// Two senders at once, some of their events for the same leads.
		at := clock.Now()
		var senders sync.WaitGroup
		for sender := range 2 {
			senders.Go(func() {
				for i := sender; i < 120; i += 2 {
					typ := baton.EventPricingPageView
					if i%3 == 0 {
						typ = baton.EventWebinarAttended
					}
					for try := 0; ; try++ {
						_, err := db.RecordEvents(storetest.System(), []baton.EventInput{event(fmt.Sprint("c", i), leads[i*7%60].ID, typ, at)})
						if err == nil {
							break
						}
						if baton.ErrorCode(err) != baton.ECONFLICT || try == 20 {
							t.Error(err) // a conflict says: try again
							return
						}
					}
				}
			})
		}
		senders.Wait()
		if err := <-jobs; err != nil {
			t.Fatal(err)
		}
		if err := runJobs(); err != nil { // a chunk enqueued after the loop ended
			t.Fatal(err)
		}
		before := map[int64]baton.LeadScore{}
		for _, l := range leads {
			before[l.ID] = lead(t, db, l.ID).Score
		}
		// Same points, another engagement key: every lead is replayed.
		v3 := strings.Replace(v2, "mql:", "    - name: Unused\n      event: "+baton.EventEmailOpen+"\n      points: 1\nmql:", 1)
		publish(t, db, v3)
		for i, l := range leads {
			b, s := before[l.ID], lead(t, db, l.ID).Score
			if b.PolicyVersion != 2 || s.PolicyVersion != 3 {
				t.Fatalf("lead %d scored by v%d then v%d, want v2 then v3", i, b.PolicyVersion, s.PolicyVersion)
			}
			if b.Fit != s.Fit || !near(b.Engagement, s.Engagement) {
				t.Errorf("lead %d: fit %v engagement %v after the rescore with events arriving, %v %v replayed from all its events",
					i, b.Fit, b.Engagement, s.Fit, s.Engagement)
			}
		}
	})
}

// TestModelCountsKeptFromItsActivation: only the model reads a lead's
// behaviour counts, so nothing keeps them before one is in force; its
// activation rebuilds them from the events, and events after it add to
// them. A lead whose events came before the model and one whose events came
// after are then explained by the same behaviour features.
func TestModelCountsKeptFromItsActivation(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		publish(t, db, testPolicy)
		at := clock.Now()
		for i := range 40 {
			l := storetest.MustLead(t, db, &baton.Lead{Email: fmt.Sprintf("l%d@acme.com", i), Attrs: baton.Attrs{store.OutcomeAttribute: float64(i % 2)}})
			if i%2 == 1 {
				mustEvents(t, db, event(fmt.Sprint("p", i), l.ID, baton.EventPricingPageView, at))
			}
		}
		before := storetest.MustLead(t, db, &baton.Lead{Email: "before@acme.com"})
		mustEvents(t, db, event("b1", before.ID, baton.EventPricingPageView, at), event("b2", before.ID, baton.EventWebinarAttended, at))
		var state []byte
		if err := db.SQL().QueryRow(`SELECT score_state FROM leads WHERE id = $1`, before.ID).Scan(&state); err != nil {
			t.Fatal(err)
		}
		if counts, err := store.StateCounts(state); err != nil || counts != nil {
			t.Fatalf("without a model the state keeps counts: %v (%v)", counts, err)
		}
		rep, err := db.TrainModel(storetest.System(), 0.25, 1, true)
		if err != nil || !rep.Activated {
			t.Fatalf("train: %+v %v", rep, err)
		}
		if _, err := db.RescoreAll(storetest.System()); err != nil {
			t.Fatal(err)
		}
		after := storetest.MustLead(t, db, &baton.Lead{Email: "after@acme.com"})
		mustEvents(t, db, event("a1", after.ID, baton.EventPricingPageView, at), event("a2", after.ID, baton.EventWebinarAttended, at))
		behaviour := func(id int64) string {
			ex, err := db.ExplainScore(storetest.System(), id)
			if err != nil || ex.Score.Probability == nil {
				t.Fatalf("explain lead %d: %+v %v", id, ex, err)
			}
			var fs []string
			for _, f := range ex.Factors {
				if strings.HasPrefix(f.Feature, "events.") {
					fs = append(fs, f.Feature+"="+f.Value)
				}
			}
			slices.Sort(fs)
			return strings.Join(fs, " ")
		}
		b, a := behaviour(before.ID), behaviour(after.ID)
		if !strings.Contains(b, "events.pricing_page_view=1") || a != b {
			t.Errorf("behaviour features: events before the model %q, after it %q; want the same, with pricing_page_view=1", b, a)
		}
	})
}
