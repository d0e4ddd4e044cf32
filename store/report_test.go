package store_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files of the reports in testdata")

// TestReportsAgreeWithHistory generates a random history and checks each
// report against figures computed straight from lead_history, then checks
// that RebuildReports recomputes exactly the same reports.
func TestReportsAgreeWithHistory(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		w := newReportWorld(t, db)
		w.randomHistory(t, 42, 250)
		tr := readTruth(t, db)
		ctx := storetest.System()
		now := w.clock.Now()
		epochDay := storetest.Epoch.Truncate(24 * time.Hour)
		periods := []struct{ from, to time.Time }{
			{time.Time{}, time.Time{}},
			{epochDay.Add(10 * 24 * time.Hour), epochDay.Add(40 * 24 * time.Hour)},
		}
		for _, p := range periods {
			from, to := p.from, p.to
			if to.IsZero() {
				to = now.Truncate(24 * time.Hour).Add(24 * time.Hour)
			}
			f := baton.ReportFilter{From: p.from, To: p.to}
			name := fmt.Sprintf("%s..%s", from.Format("01-02"), to.Format("01-02"))

			// Funnel, by cohort (current source) and by period (source at the time).
			cohort, period, cohortOwner := counts{}, counts{}, counts{}
			for id, l := range tr.leads {
				src := tr.initialSource(id)
				var reached []string
				for _, h := range tr.hist[id] {
					switch {
					case h.action == baton.ActionUpdated && h.field == "source":
						src = h.to
					case h.action == baton.ActionCreated && inPeriod(h.at, from, to):
						period.add(label(src), 0)
					case h.action == baton.ActionStage:
						if i := slices.Index(funnelStages, h.to); i > 0 && inPeriod(h.at, from, to) {
							period.add(label(src), i)
						}
						if !slices.Contains(reached, h.to) {
							reached = append(reached, h.to)
						}
					}
				}
				if !inPeriod(l.created, from, to) {
					continue
				}
				owner := "(unassigned)"
				if l.owner.Valid {
					owner = tr.names[l.owner.Int64]
				}
				cohort.add(label(l.source), 0)
				cohortOwner.add(owner, 0)
				for _, s := range reached {
					if i := slices.Index(funnelStages, s); i > 0 {
						cohort.add(label(l.source), i)
						cohortOwner.add(owner, i)
					}
				}
			}
			for _, c := range []struct {
				what string
				f    baton.ReportFilter
				want counts
			}{
				{"cohort funnel by source", baton.ReportFilter{From: p.from, To: p.to, By: baton.DimSource, Cohort: true}, cohort},
				{"period funnel by source", baton.ReportFilter{From: p.from, To: p.to, By: baton.DimSource}, period},
				{"cohort funnel by owner", baton.ReportFilter{From: p.from, To: p.to, By: baton.DimOwner, Cohort: true}, cohortOwner},
			} {
				r, err := db.Funnel(ctx, c.f)
				if err != nil {
					t.Fatal(err)
				}
				checkCounts(t, name+" "+c.what, r, c.want, 6)
			}

			// Velocity: the time since the previous stage change (or the
			// creation), bucketed as the report does, nearest-rank quantiles.
			durations := map[string][]int64{}
			steps := map[string]string{"mql>sal": "mql_to_sal", "sal>sql": "sal_to_sql", "sql>opportunity": "sql_to_opportunity",
				"opportunity>won": "opportunity_to_close", "opportunity>lost": "opportunity_to_close"}
			for _, hs := range tr.hist {
				prev := hs[0].at
				for _, h := range hs {
					if h.action != baton.ActionStage {
						continue
					}
					if inPeriod(h.at, from, to) {
						durations["in:"+h.from] = append(durations["in:"+h.from], h.at-prev)
						if k, ok := steps[h.from+">"+h.to]; ok {
							durations[k] = append(durations[k], h.at-prev)
						}
					}
					prev = h.at
				}
			}
			vr, err := db.Velocity(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			kinds := []string{"in:new", "in:mql", "in:sal", "in:sql", "in:opportunity", "in:recycled", "mql_to_sal", "sal_to_sql", "sql_to_opportunity", "opportunity_to_close"}
			for i, k := range kinds {
				d := durations[k]
				want := []string{strconv.Itoa(len(d)), "", ""}
				if len(d) > 0 {
					b := make([]int, len(d))
					for j, us := range d {
						b[j] = store.ReportDurationBucket(us)
					}
					sort.Ints(b)
					for j, q := range []float64{0.5, 0.9} {
						rank := max(int(math.Ceil(q*float64(len(b)))), 1)
						want[1+j] = strconv.FormatFloat(store.ReportBucketHours(b[rank-1]), 'f', 2, 64)
					}
				}
				if got := vr.Rows[i][1:]; !slices.Equal(got, want) {
					t.Errorf("%s velocity %s = %v, want %v", name, k, got, want)
				}
			}

			// Rejections by reason, and by source at the time.
			byReason, bySource := counts{}, counts{}
			for id := range tr.leads {
				src := tr.initialSource(id)
				for _, h := range tr.hist[id] {
					if h.action == baton.ActionUpdated && h.field == "source" {
						src = h.to
					}
					if h.action == baton.ActionStage && (h.from == "mql" || h.from == "sal") && (h.to == "recycled" || h.to == "disqualified") && inPeriod(h.at, from, to) {
						byReason.add(h.why, 0)
						bySource.add(label(src)+"/"+h.why, 0)
					}
				}
			}
			rr, err := db.Rejections(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			checkCounts(t, name+" rejections", rr, byReason, 1)
			rs, err := db.Rejections(ctx, baton.ReportFilter{From: p.from, To: p.to, By: baton.DimSource})
			if err != nil {
				t.Fatal(err)
			}
			got := counts{}
			for _, row := range rs.Rows {
				n, _ := strconv.Atoi(row[2])
				got[row[0]+"/"+row[1]] = []int64{int64(n)}
			}
			for k, v := range bySource {
				if got[k] == nil || got[k][0] != v[0] {
					t.Errorf("%s rejections by source %s = %v, want %d", name, k, got[k], v[0])
				}
			}
			if len(got) != len(bySource) {
				t.Errorf("%s rejections by source: %d cells, want %d", name, len(got), len(bySource))
			}

			// Recycled: first recycled in the period, came back or not, stage now.
			recycled := counts{}
			for _, st := range baton.Stages[1:] {
				recycled[string(st)] = make([]int64, 2)
			}
			for id, l := range tr.leads {
				first, back := int64(-1), false
				for _, h := range tr.hist[id] {
					if h.action == baton.ActionStage && h.to == "recycled" && first < 0 {
						first = h.at
					}
					if h.action == baton.ActionStage && h.from == "recycled" && h.to == "mql" {
						back = true
					}
				}
				if first >= 0 && inPeriod(first, from, to) {
					if back {
						recycled[l.stage][0]++
					} else {
						recycled[l.stage][1]++
					}
				}
			}
			rec, err := db.Recycled(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			checkCounts(t, name+" recycled", rec, recycled, 2)

			// Quality by campaign (current), with won value.
			quality := counts{}
			value := map[string]float64{}
			for id, l := range tr.leads {
				if !inPeriod(l.created, from, to) {
					continue
				}
				g := label(l.campaign)
				quality.add(g, 0)
				for i, s := range []string{"mql", "sal", "sql", "won", "lost"} {
					for _, h := range tr.hist[id] {
						if h.action == baton.ActionStage && h.to == s {
							quality.add(g, i+1)
							break
						}
					}
				}
				for _, o := range tr.opps[id] {
					if o.stage == "won" {
						value[g] += o.value
					}
				}
			}
			qr, err := db.Quality(ctx, baton.ReportFilter{From: p.from, To: p.to, By: baton.DimCampaign})
			if err != nil {
				t.Fatal(err)
			}
			checkCounts(t, name+" quality", qr, quality, 6)
			for g, row := range rowsByLabel(qr) {
				if g != "(total)" && row[11] != strconv.FormatFloat(value[g], 'f', 2, 64) {
					t.Errorf("%s quality %s won value = %s, want %.2f", name, g, row[11], value[g])
				}
			}

			// Per rule: a rule firing on webinar leads, against the rest.
			rq, err := db.RuleQuality(ctx, f, []string{"webinar", "never"}, func(l *baton.Lead, a *baton.Account) []string {
				if l.Source == "webinar" {
					return []string{"webinar"}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var fired, rest, firedMQL, restMQL int64
			for id, l := range tr.leads {
				if !inPeriod(l.created, from, to) {
					continue
				}
				mql := int64(0)
				for _, h := range tr.hist[id] {
					if h.action == baton.ActionStage && h.to == "mql" {
						mql = 1
						break
					}
				}
				if l.source == "webinar" {
					fired, firedMQL = fired+1, firedMQL+mql
				} else {
					rest, restMQL = rest+1, restMQL+mql
				}
			}
			pct := func(a, b int64) string {
				if b == 0 {
					return ""
				}
				return strconv.FormatFloat(100*float64(a)/float64(b), 'f', 1, 64)
			}
			if row := rq.Rows[0]; row[1] != strconv.FormatInt(fired, 10) || row[2] != pct(firedMQL, fired) ||
				row[6] != strconv.FormatInt(rest, 10) || row[7] != pct(restMQL, rest) {
				t.Errorf("%s rule quality = %v, want fired %d (%s MQL), rest %d (%s MQL)", name, row, fired, pct(firedMQL, fired), rest, pct(restMQL, rest))
			}
			if row := rq.Rows[1]; row[1] != "0" || row[6] != strconv.FormatInt(fired+rest, 10) {
				t.Errorf("%s rule never = %v", name, row)
			}
		}

		// Stale SALs and stalled leads, as of now.
		var wantStale, wantStalled []string
		for id, l := range tr.leads {
			old := l.changed <= now.Add(-14*24*time.Hour).UnixMicro()
			if l.stage == "sal" && old && len(tr.opps[id]) == 0 {
				wantStale = append(wantStale, strconv.FormatInt(id, 10))
			}
			active := false
			for _, at := range l.events {
				active = active || (at > now.Add(-7*24*time.Hour).UnixMicro() && at <= now.UnixMicro())
			}
			if (l.stage == "new" || l.stage == "mql" || l.stage == "recycled") && old && active {
				wantStalled = append(wantStalled, strconv.FormatInt(id, 10))
			}
		}
		for _, c := range []struct {
			name string
			run  func(context.Context, baton.ReportFilter) (*baton.Report, error)
			want []string
		}{{"stale", db.Stale, wantStale}, {"stalled", db.Stalled, wantStalled}} {
			r, err := c.run(ctx, baton.ReportFilter{Limit: 10000})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, row := range r.Rows {
				got = append(got, row[0])
			}
			slices.Sort(got)
			slices.Sort(c.want)
			if !slices.Equal(got, c.want) {
				t.Errorf("%s: leads %v, want %v", c.name, got, c.want)
			}
			if len(c.want) == 0 {
				t.Errorf("%s: the random history has no such leads: the check checks nothing", c.name)
			}
		}

		// Rebuilding from the history gives the same reports.
		before := allReports(t, db)
		if n, err := db.RebuildReports(ctx); err != nil || n != len(tr.leads) {
			t.Fatalf("rebuild: %d leads, %v", n, err)
		}
		after := allReports(t, db)
		for k, v := range before {
			if after[k] != v {
				t.Errorf("after rebuild, %s =\n%s\nwant\n%s", k, after[k], v)
			}
		}
	})
}

// allReports returns the CSV of every report under several filters.
func allReports(t *testing.T, db *store.DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, name := range baton.ReportNames {
		for _, by := range append([]string{""}, baton.ReportDimensions...) {
			for _, cohort := range []bool{false, true} {
				f := baton.ReportFilter{By: by, Cohort: cohort}
				r, err := db.RunReport(storetest.System(), name, f)
				if baton.ErrorCode(err) == baton.EINVALID {
					continue
				} else if err != nil {
					t.Fatalf("%s by %q: %v", name, by, err)
				}
				var b bytes.Buffer
				if err := r.WriteCSV(&b); err != nil {
					t.Fatal(err)
				}
				out[fmt.Sprintf("%s by %q cohort %v", name, by, cohort)] = b.String()
			}
		}
	}
	return out
}

// goldenWorld seeds a small deterministic dataset: eight leads on three
// accounts with known paths, a source change, events and opportunities.
func goldenWorld(t *testing.T, db *store.DB) *reportWorld {
	t.Helper()
	w := newReportWorld(t, db)
	ctx := storetest.System()
	hour := time.Hour
	type spec struct {
		email, source, campaign, country string
		owner                            *baton.User
		path                             []string // stage[:reason], one every step
	}
	specs := []spec{
		{"ann@acme.com", "webinar", "q1-launch", "DE", w.tm.SDR1, []string{"mql:score", "sal", "sql", "opportunity", "won"}},
		{"bob@acme.com", "webinar", "q1-launch", "DE", w.tm.SDR1, []string{"mql:score", "sal", "sql", "opportunity", "lost:no_budget"}},
		{"cat@globex.com", "web", "q2-retarget", "US", w.tm.SDR2, []string{"mql:score", "recycled:bad_timing"}},
		{"dan@globex.com", "web", "", "US", w.tm.SDR2, []string{"mql:score", "disqualified:no_fit"}},
		{"eve@initech.com", "event", "q1-launch", "FR", w.tm.AE, []string{"mql:score", "sal", "recycled:no_need"}},
		{"fay@example.org", "referral", "", "", w.tm.SDR1, []string{"mql:score", "sal"}},
		{"gus@example.org", "event", "q2-retarget", "FR", w.tm.SDR2, nil},
		{"hal@acme.com", "web", "q1-launch", "DE", w.tm.AE, []string{"mql:score", "sal", "sql", "sal:not_ready", "sql", "opportunity", "won"}},
	}
	var leads []*baton.Lead
	for i, s := range specs {
		w.clock.Set(storetest.Epoch.Add(time.Duration(i) * 24 * hour))
		leads = append(leads, storetest.MustLead(t, db, &baton.Lead{Email: s.email, Source: s.source, Campaign: s.campaign,
			Country: s.country, OwnerID: &s.owner.ID}))
	}
	for step := 0; step < 7; step++ {
		for i, s := range specs {
			if step >= len(s.path) {
				continue
			}
			w.clock.Set(storetest.Epoch.Add(time.Duration(i)*24*hour + time.Duration(step+1)*time.Duration(i+1)*30*hour))
			to, reason, _ := cut(s.path[step], ":")
			w.move(t, leads[i].ID, baton.Stage(to), reason)
		}
	}
	// Bob's source was wrong: fixed later (cohorts follow, periods do not).
	if _, err := db.UpdateLead(ctx, leads[1].ID, baton.LeadUpdate{Source: ptr("event")}); err != nil {
		t.Fatal(err)
	}
	// Cat comes back after her nurture cool-down, and is accepted.
	w.clock.Set(storetest.Epoch.Add(45 * 24 * hour))
	w.move(t, leads[2].ID, baton.StageMQL, "again")
	w.clock.Advance(20 * hour)
	w.move(t, leads[2].ID, baton.StageSAL, "")
	w.clock.Set(storetest.Epoch.Add(70 * 24 * hour))
	events := []baton.EventInput{
		{ID: "g1", LeadID: leads[6].ID, Type: baton.EventEmailOpen, OccurredAt: w.clock.Now().Add(-2 * 24 * hour)},
		{ID: "g2", LeadID: leads[6].ID, Type: baton.EventEmailClick, OccurredAt: w.clock.Now().Add(-1 * 24 * hour)},
		{ID: "g3", LeadID: leads[2].ID, Type: baton.EventEmailOpen, OccurredAt: w.clock.Now().Add(-20 * 24 * hour)},
	}
	if res, err := db.RecordEvents(ctx, events); err != nil || res.Rejected > 0 {
		t.Fatalf("events: %v %+v", err, res)
	}
	for _, o := range []*baton.Opportunity{
		{Name: "Acme deal", LeadID: &leads[0].ID, Stage: baton.OppWon, CloseValue: 12000},
		{Name: "Acme loss", LeadID: &leads[1].ID, Stage: baton.OppLost},
		{Name: "Acme again", LeadID: &leads[7].ID, Stage: baton.OppWon, CloseValue: 30500.5},
	} {
		if err := db.CreateOpportunity(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func cut(s, sep string) (string, string, bool) {
	for i := 0; i+len(sep) <= len(s); i++ {
		if s[i:i+len(sep)] == sep {
			return s[:i], s[i+len(sep):], true
		}
	}
	return s, "", false
}

// TestReportsGolden compares each report's CSV on a small fixed dataset with
// testdata/report_<name>.golden (go test -run TestReportsGolden -update
// rewrites them), on every backend.
func TestReportsGolden(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		goldenWorld(t, db)
		ctx := storetest.System()
		cases := []struct {
			name string
			f    baton.ReportFilter
		}{
			{"funnel", baton.ReportFilter{By: baton.DimSource, Cohort: true}},
			{"funnel_period", baton.ReportFilter{By: baton.DimSource, From: storetest.Epoch, To: storetest.Epoch.Add(10 * 24 * time.Hour)}},
			{"funnel_team", baton.ReportFilter{By: baton.DimTeam, Cohort: true}},
			{"funnel_size", baton.ReportFilter{By: baton.DimSize, Cohort: true}},
			{"funnel_industry", baton.ReportFilter{By: baton.DimIndustry}},
			{"velocity", baton.ReportFilter{}},
			{"rejections", baton.ReportFilter{}},
			{"rejections_week", baton.ReportFilter{By: "week"}},
			{"recycled", baton.ReportFilter{}},
			{"quality", baton.ReportFilter{}},
			{"quality_campaign", baton.ReportFilter{By: baton.DimCampaign}},
			{"stale", baton.ReportFilter{}},
			{"stalled", baton.ReportFilter{}},
		}
		for _, c := range cases {
			name := c.name
			report := name
			if i := slices.Index([]byte(name), '_'); i > 0 && name != baton.ReportRuleFit {
				report = name[:i]
			}
			r, err := db.RunReport(ctx, report, c.f)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if len(r.Series) > 0 && len(r.Series[0].Values) != len(r.Labels) {
				t.Errorf("%s: %d labels, %d values in series %q", name, len(r.Labels), len(r.Series[0].Values), r.Series[0].Name)
			}
			var b bytes.Buffer
			if err := r.WriteCSV(&b); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "report_"+name+".golden")
			if *updateGolden {
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./store -run TestReportsGolden -update to write it)", err)
			}
			if !bytes.Equal(b.Bytes(), want) {
				t.Errorf("%s: got\n%s\nwant (%s)\n%s", name, b.String(), path, want)
			}
		}
	})
}

// TestReportsPermissions: reps may not read aggregated reports; the lead
// lists show a rep only their own leads.
func TestReportsPermissions(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		w := goldenWorld(t, db)
		if _, err := db.Funnel(storetest.As(w.tm.SDR1), baton.ReportFilter{}); baton.ErrorCode(err) != baton.EFORBIDDEN {
			t.Fatalf("funnel as a rep: %v", err)
		}
		if _, err := db.Funnel(storetest.As(w.tm.Manager1), baton.ReportFilter{}); err != nil {
			t.Fatalf("funnel as a manager: %v", err)
		}
		if _, err := db.Funnel(storetest.System(), baton.ReportFilter{By: "color"}); baton.ErrorCode(err) != baton.EINVALID {
			t.Fatalf("funnel by color: %v", err)
		}
		r, err := db.Stale(storetest.As(w.tm.SDR2), baton.ReportFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range r.Rows {
			if row[3] != fmt.Sprintf("%s (%d)", w.tm.SDR2.Name, w.tm.SDR2.ID) {
				t.Fatalf("a rep sees another's lead: %v", row)
			}
		}
		if _, err := db.RebuildReports(storetest.As(w.tm.Manager1)); baton.ErrorCode(err) != baton.EFORBIDDEN {
			t.Fatalf("rebuild as a manager: %v", err)
		}
	})
}

// TestQualityByRuleFromStoredRules: quality per fit rule counted from the
// counters of the rules stored with each lead agrees with recomputing every
// lead's rules, under a first version, and under a second one after its
// rescore (before it, leads count with the first one's rules).
func TestQualityByRuleFromStoredRules(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		ctx := storetest.System()
		publish(t, db, testPolicy)
		titles := []string{"VP Sales", "Engineer", "SVP", ""}
		domains := []string{"acme.com", "gmail.com", "gmail.com", "initech.io", "globex.com"}
		for i := 0; i < 60; i++ {
			l := storetest.MustLead(t, db, &baton.Lead{Email: fmt.Sprintf("l%d@%s", i, domains[i%len(domains)]), Title: titles[i%len(titles)], Source: "web"})
			if i%3 == 0 {
				if _, err := db.ChangeStage(ctx, l.ID, baton.StageChange{To: baton.StageMQL, Reason: "booth"}); err != nil {
					t.Fatal(err)
				}
			}
			clock.Advance(time.Hour)
		}
		f := baton.ReportFilter{From: storetest.Epoch.Add(-time.Hour), To: clock.Now().Add(time.Hour)}
		check := func(when, doc string) {
			t.Helper()
			p, err := policy.Parse([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, r := range p.FitRules {
				names = append(names, r.Name)
			}
			want, err := db.RuleQuality(ctx, f, names, func(l *baton.Lead, a *baton.Account) []string {
				_, reasons := p.Fit(policy.Subject{Lead: l, Account: a})
				var out []string
				for _, r := range reasons {
					out = append(out, r.Rule)
				}
				return out
			})
			if err != nil {
				t.Fatal(err)
			}
			got, err := db.QualityByRule(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got.Rows) != fmt.Sprint(want.Rows) {
				t.Errorf("%s: stored rules give\n%v\nrecomputed\n%v", when, got.Rows, want.Rows)
			}
			if got.Rows[0][1] == "0" || got.Rows[0][6] == "0" {
				t.Errorf("%s: a rule that fires for some leads only: %v", when, got.Rows[0])
			}
		}
		check("v1", testPolicy)
		// A new version whose title rule fires for other leads, before and
		// after its rescore.
		v2 := strings.Replace(testPolicy, "contains: VP", "contains: SVP", 1)
		if _, err := db.PublishDocument(ctx, v2); err != nil {
			t.Fatal(err)
		}
		// Until its rescore reaches them, leads count with the rules of the
		// version that scored them, and the report says a rescore is on.
		check("v2 before its rescore", testPolicy)
		if r, err := db.QualityByRule(ctx, f); err != nil || !strings.Contains(strings.Join(r.Notes, " "), "rescore by policy v2 is under way") {
			t.Errorf("notes before the rescore: %v %v", r.Notes, err)
		}
		if _, err := db.RescoreAll(ctx); err != nil {
			t.Fatal(err)
		}
		check("v2", v2)
	})
}
