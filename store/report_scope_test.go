package store_test

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// ownedMove is a lead's creation or stage change read from the history, with
// the owners the reports count it under: before is the owner the lead had as
// it moved (who rejected it, who held it in the stage it left), after the
// one it has once the move's own owner change, at the same instant, is
// made (who got the step).
type ownedMove struct {
	lead, at, since int64 // since: the time it entered the stage it left
	from, to, why   string
	before, after   string
}

// ownedMoves replays each lead's history the way TestFunnelByOwnerAgreesWithHistory
// does, keeping the owner before and after each move.
func ownedMoves(tr *truth) []ownedMove {
	var out []ownedMove
	for id, hist := range tr.hist {
		owner := ""
		if l := tr.leads[id]; l.owner.Valid {
			owner = strconv.FormatInt(l.owner.Int64, 10)
		}
		for _, h := range hist {
			if h.field == "owner_id" && (h.action == baton.ActionAssigned && (h.from != "" || h.to != "") || h.action == baton.ActionUpdated) {
				owner = h.from
				break
			}
		}
		first := len(out)
		var since int64
		for _, h := range hist {
			switch {
			case h.action == baton.ActionCreated:
				out = append(out, ownedMove{lead: id, at: h.at, to: "lead", before: owner, after: owner})
				since = h.at
			case h.action == baton.ActionStage:
				out = append(out, ownedMove{lead: id, at: h.at, since: since, from: h.from, to: h.to, why: h.why, before: owner, after: owner})
				since = h.at
			case isOwnerChange(h):
				switch {
				case h.action == baton.ActionNurture:
					owner = ""
				case h.action == baton.ActionBreached, h.from == "" && h.to == "":
				default:
					owner = h.to
				}
				// The owner change of a move (its routing) gives the step to
				// the new owner; the creation stays with the first.
				if n := len(out); n > first && out[n-1].at == h.at && out[n-1].to != "lead" {
					out[n-1].after = owner
				}
			}
		}
	}
	return out
}

func rejection(m ownedMove) bool {
	return (m.from == "mql" || m.from == "sal") && (m.to == "recycled" || m.to == "disqualified")
}

// TestTeamReportsAgreeWithHistory: on a random history, the funnel, velocity
// and rejections within each manager's team (ReportFilter.Manager) count the
// steps of the manager and the people who report to them, as computed
// straight from lead_history: each step of the funnel under the owner who
// got it, each rejection under the owner who rejected, each duration under
// the owner who moved the lead on; ReportLeads lists exactly the leads
// behind each number of the funnel and of the rejections; two teams' numbers
// add up to those of their owners; and a rebuild gives the same.
func TestTeamReportsAgreeWithHistory(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		w := newReportWorld(t, db)
		w.randomHistory(t, 11, 220)
		tr := readTruth(t, db)
		moves := ownedMoves(tr)
		ctx := storetest.System()
		now := w.clock.Now()
		epochDay := storetest.Epoch.Truncate(24 * time.Hour)
		teams := map[*baton.User][]string{
			w.tm.Manager1: {id(w.tm.Manager1), id(w.tm.SDR1), id(w.tm.AE)},
			w.tm.Manager2: {id(w.tm.Manager2), id(w.tm.SDR2)},
		}
		type result struct{ funnel, velocity, rejections, leads string }
		run := func() map[string]result {
			t.Helper()
			out := map[string]result{}
			for _, p := range []struct{ from, to time.Time }{
				{time.Time{}, time.Time{}},
				{epochDay.Add(10 * 24 * time.Hour), epochDay.Add(40 * 24 * time.Hour)},
			} {
				to := p.to
				if to.IsZero() {
					to = now.Truncate(24 * time.Hour).Add(24 * time.Hour)
				}
				for mgr, team := range teams {
					name := fmt.Sprintf("%s %s..%s", mgr.Name, p.from.Format("01-02"), to.Format("01-02"))
					f := baton.ReportFilter{From: p.from, To: p.to, Manager: mgr.ID}
					in := func(m ownedMove, owner string) bool {
						return slices.Contains(team, owner) && inPeriod(m.at, p.from, to)
					}

					// The funnel: each step under the owner who got it.
					steps := make([]int64, len(funnelStages))
					behind := make([]map[int64]bool, len(funnelStages))
					for i := range behind {
						behind[i] = map[int64]bool{}
					}
					for _, m := range moves {
						if i := slices.Index(funnelStages, m.to); i >= 0 && in(m, m.after) {
							steps[i]++
							behind[i][m.lead] = true
						}
					}
					fr, err := db.Funnel(ctx, f)
					if err != nil {
						t.Fatal(err)
					}
					want := []string{"(total)"}
					for _, n := range steps {
						want = append(want, strconv.FormatInt(n, 10))
					}
					if got := fr.Rows[len(fr.Rows)-1][:7]; !slices.Equal(got, want) {
						t.Errorf("%s funnel = %v, want %v", name, got, want)
					}
					if p.from.IsZero() && (steps[1] == 0 || steps[2] == 0) {
						t.Errorf("%s: no MQL or SAL in the team: the check checks little", name)
					}
					res := result{funnel: strings.Join(fr.Rows[len(fr.Rows)-1], ",")}
					for i, s := range baton.FunnelSteps {
						res.leads += checkBehind(t, db, name+" "+s, f, baton.ReportCell{Report: baton.ReportFunnel, Step: s}, int(steps[i]), behind[i])
					}

					// Rejections: under the owner who rejected.
					byReason := map[string]int64{}
					rejected := map[string]map[int64]bool{}
					for _, m := range moves {
						if rejection(m) && in(m, m.before) {
							byReason[m.why]++
							if rejected[m.why] == nil {
								rejected[m.why] = map[int64]bool{}
							}
							rejected[m.why][m.lead] = true
						}
					}
					rr, err := db.Rejections(ctx, f)
					if err != nil {
						t.Fatal(err)
					}
					got := map[string]int64{}
					for _, row := range rr.Rows[:len(rr.Rows)-1] {
						n, _ := strconv.ParseInt(row[1], 10, 64)
						got[row[0]] = n
					}
					if fmt.Sprint(got) != fmt.Sprint(byReason) {
						t.Errorf("%s rejections = %v, want %v", name, got, byReason)
					}
					if len(byReason) == 0 && p.from.IsZero() {
						t.Errorf("%s: no rejection in the team: the check checks little", name)
					}
					reasons := slices.Sorted(maps.Keys(rejected))
					for _, reason := range reasons {
						res.leads += checkBehind(t, db, name+" rejected "+reason, f, baton.ReportCell{Report: baton.ReportRejections, Reason: reason}, int(byReason[reason]), rejected[reason])
					}
					res.rejections = fmt.Sprint(rr.Rows)

					// Velocity: under the owner who moved the lead on.
					durations := map[string][]int64{}
					stepKinds := map[string]string{"mql>sal": "mql_to_sal", "sal>sql": "sal_to_sql", "sql>opportunity": "sql_to_opportunity",
						"opportunity>won": "opportunity_to_close", "opportunity>lost": "opportunity_to_close"}
					for _, m := range moves {
						if m.from == "" || !in(m, m.before) {
							continue
						}
						durations["in:"+m.from] = append(durations["in:"+m.from], m.at-m.since)
						if k, ok := stepKinds[m.from+">"+m.to]; ok {
							durations[k] = append(durations[k], m.at-m.since)
						}
					}
					vr, err := db.Velocity(ctx, f)
					if err != nil {
						t.Fatal(err)
					}
					for _, row := range vr.Rows {
						d := durations[kindOf(row[0])]
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
						if !slices.Equal(row[1:], want) {
							t.Errorf("%s velocity %s = %v, want %v", name, row[0], row[1:], want)
						}
					}
					res.velocity = fmt.Sprint(vr.Rows)
					out[name] = res
				}
			}
			return out
		}
		before := run()
		if _, err := db.RebuildReports(ctx); err != nil {
			t.Fatal(err)
		}
		if after := run(); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("a rebuild changes the team reports:\n%v\nwant\n%v", after, before)
		}
	})
}

func id(u *baton.User) string { return strconv.FormatInt(u.ID, 10) }

// kindOf maps Velocity's labels back to the kinds of durations.
func kindOf(label string) string {
	switch label {
	case "MQL to accept (SAL)":
		return "mql_to_sal"
	case "accept (SAL) to SQL":
		return "sal_to_sql"
	case "SQL to opportunity":
		return "sql_to_opportunity"
	case "opportunity to close (won or lost)":
		return "opportunity_to_close"
	}
	return "in:" + strings.TrimPrefix(label, "time in ")
}

// checkBehind checks that ReportLeads, as the system, lists exactly the
// leads want behind a number of count, and returns what it listed.
func checkBehind(t *testing.T, db *store.DB, what string, f baton.ReportFilter, c baton.ReportCell, count int, want map[int64]bool) string {
	t.Helper()
	f.Limit = 1000
	got, err := db.ReportLeads(storetest.System(), f, c)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	var ids, wantIDs []int64
	for _, l := range got.Leads {
		ids = append(ids, l.ID)
	}
	for id := range want {
		wantIDs = append(wantIDs, id)
	}
	slices.Sort(ids)
	slices.Sort(wantIDs)
	if got.Count != count || got.Total != len(want) || got.Hidden != 0 || !slices.Equal(ids, wantIDs) {
		t.Errorf("%s: count %d, %d leads (%d hidden) %v; want count %d, leads %v", what, got.Count, got.Total, got.Hidden, ids, count, wantIDs)
	}
	return fmt.Sprintf("%s:%d:%v;", what, got.Count, ids)
}

// TestReportLeadsForAManager: a manager reads the leads behind their team's
// numbers that they may open (owned by their team now), newest step first
// and a page at a time; the others are counted as hidden; and the filter
// is checked.
func TestReportLeadsForAManager(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		w := newReportWorld(t, db)
		w.randomHistory(t, 5, 150)
		tr := readTruth(t, db)
		mgr := w.tm.Manager1
		team := map[int64]bool{mgr.ID: true, w.tm.SDR1.ID: true, w.tm.AE.ID: true}
		f := baton.ReportFilter{Manager: mgr.ID, Limit: 1000}
		for _, c := range []baton.ReportCell{{Report: baton.ReportFunnel, Step: "mql"}, {Report: baton.ReportFunnel, Step: "sal"},
			{Report: baton.ReportRejections, Reason: "no_budget"}} {
			all, err := db.ReportLeads(storetest.System(), f, c)
			if err != nil {
				t.Fatal(err)
			}
			mine, err := db.ReportLeads(storetest.As(mgr), f, c)
			if err != nil {
				t.Fatal(err)
			}
			visible := 0
			for _, l := range all.Leads {
				if o := tr.leads[l.ID].owner; o.Valid && team[o.Int64] {
					visible++
				}
			}
			if mine.Count != all.Count || mine.Total != all.Total || len(mine.Leads) != visible || mine.Hidden != all.Total-visible {
				t.Errorf("%+v as the manager: count %d, total %d, %d listed, %d hidden; want %d, %d, %d, %d",
					c, mine.Count, mine.Total, len(mine.Leads), mine.Hidden, all.Count, all.Total, visible, all.Total-visible)
			}
			for _, l := range mine.Leads {
				if l.OwnerID == nil || !team[*l.OwnerID] {
					t.Errorf("%+v: the manager sees lead %d of owner %v", c, l.ID, l.OwnerID)
				}
			}
			if c.Report == baton.ReportRejections && mine.Hidden == 0 {
				t.Errorf("%+v: no rejected lead left the team: the check checks little", c)
			}
			// Pages: newest step first, the pages together the whole list.
			var paged []*baton.Lead
			for off := 0; ; off += 7 {
				pg, err := db.ReportLeads(storetest.As(mgr), baton.ReportFilter{Manager: mgr.ID, Limit: 7, Offset: off}, c)
				if err != nil {
					t.Fatal(err)
				}
				if len(pg.Leads) == 0 {
					break
				}
				paged = append(paged, pg.Leads...)
			}
			if len(paged) != len(mine.Leads) {
				t.Errorf("%+v: %d leads in pages, %d in one", c, len(paged), len(mine.Leads))
			}
			for i := range min(len(paged), len(mine.Leads)) {
				if paged[i].ID != mine.Leads[i].ID {
					t.Errorf("%+v: row %d is lead %d in pages, %d in one", c, i, paged[i].ID, mine.Leads[i].ID)
					break
				}
			}
		}
		// A rep reads no aggregate, nor the leads behind one.
		if _, err := db.ReportLeads(storetest.As(w.tm.SDR1), f, baton.ReportCell{Report: baton.ReportFunnel, Step: "mql"}); baton.ErrorCode(err) != baton.EFORBIDDEN {
			t.Errorf("a rep lists the leads behind the funnel: %v", err)
		}
		for _, c := range []struct {
			f     baton.ReportFilter
			c     baton.ReportCell
			field string
		}{
			{f, baton.ReportCell{Report: baton.ReportFunnel, Step: "lost"}, "step"},
			{f, baton.ReportCell{Report: baton.ReportRejections}, "reason"},
			{f, baton.ReportCell{Report: baton.ReportQuality}, "report"},
			{baton.ReportFilter{Cohort: true}, baton.ReportCell{Report: baton.ReportFunnel, Step: "mql"}, "cohort"},
			{baton.ReportFilter{Manager: 999999}, baton.ReportCell{Report: baton.ReportFunnel, Step: "mql"}, "manager"},
		} {
			if _, err := db.ReportLeads(storetest.System(), c.f, c.c); baton.ErrorCode(err) != baton.EINVALID || baton.ErrorField(err) != c.field {
				t.Errorf("%+v %+v: %v, want a field error on %s", c.f, c.c, err, c.field)
			}
		}
	})
}

// TestTeamScopeRefused: within a team the reports break down only by what
// they keep by owner, and the reports not kept by owner refuse a team.
func TestTeamScopeRefused(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		w := newReportWorld(t, db)
		ctx := storetest.System()
		m := w.tm.Manager1.ID
		for _, c := range []struct {
			report string
			f      baton.ReportFilter
			field  string
		}{
			{baton.ReportFunnel, baton.ReportFilter{Manager: m, By: baton.DimSource}, "by"},
			{baton.ReportRejections, baton.ReportFilter{Manager: m, By: baton.DimCampaign}, "by"},
			{baton.ReportFunnel, baton.ReportFilter{Manager: 999999}, "manager"},
			{baton.ReportQuality, baton.ReportFilter{Manager: m}, "manager"},
			{baton.ReportRecycled, baton.ReportFilter{Manager: m}, "manager"},
			{baton.ReportRuleFit, baton.ReportFilter{Manager: m}, "manager"},
			{baton.ReportStale, baton.ReportFilter{Manager: m}, "manager"},
			{baton.ReportStalled, baton.ReportFilter{Manager: m}, "manager"},
			{baton.ReportSLA, baton.ReportFilter{Manager: m}, "manager"},
		} {
			if _, err := db.RunReport(ctx, c.report, c.f); baton.ErrorCode(err) != baton.EINVALID || baton.ErrorField(err) != c.field {
				t.Errorf("%s %+v: %v, want a field error on %s", c.report, c.f, err, c.field)
			}
		}
		for _, c := range []struct {
			report string
			f      baton.ReportFilter
		}{
			{baton.ReportFunnel, baton.ReportFilter{Manager: m, By: baton.DimOwner}},
			{baton.ReportFunnel, baton.ReportFilter{Manager: m, By: baton.DimTeam, Cohort: true}},
			{baton.ReportRejections, baton.ReportFilter{Manager: m, By: "week"}},
			{baton.ReportRejections, baton.ReportFilter{Manager: m, By: baton.DimOwner}},
			{baton.ReportVelocity, baton.ReportFilter{Manager: m}},
		} {
			if _, err := db.RunReport(ctx, c.report, c.f); err != nil {
				t.Errorf("%s %+v: %v", c.report, c.f, err)
			}
		}
	})
}

// TestTeamFunnelByOwnerAddsUp: within a team, the funnel by owner has a row
// per owner of the team who took a step, and they add up to the team's.
func TestTeamFunnelByOwnerAddsUp(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		w := newReportWorld(t, db)
		w.randomHistory(t, 3, 120)
		ctx := context.Background()
		ctx = baton.WithActor(ctx, baton.SystemActor)
		f := baton.ReportFilter{Manager: w.tm.Manager1.ID, By: baton.DimOwner}
		r, err := db.Funnel(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		tr := readTruth(t, db)
		allowed := map[string]bool{tr.names[w.tm.SDR1.ID]: true, tr.names[w.tm.AE.ID]: true, tr.names[w.tm.Manager1.ID]: true, "(total)": true}
		sum := make([]int, 6)
		for _, row := range r.Rows {
			if !allowed[row[0]] {
				t.Errorf("a row of someone outside the team: %v", row)
			}
			if row[0] == "(total)" {
				continue
			}
			for i := range sum {
				n, _ := strconv.Atoi(row[1+i])
				sum[i] += n
			}
		}
		if len(r.Rows) < 3 {
			t.Errorf("rows %v: want one per owner who took a step and the total", r.Rows)
		}
		total := r.Rows[len(r.Rows)-1]
		for i, n := range sum {
			if strconv.Itoa(n) != total[1+i] {
				t.Errorf("%s: the owners add up to %d, the total is %s", r.Columns[1+i], n, total[1+i])
			}
		}
	})
}

// TestManagerReportsScopedToTeam: a manager reads each rep's results of
// their own team only, in every report that breaks down by owner, as in
// the SLA report: by owner is within their team (what the admin reads for
// that team), another manager's team is refused, and a report that does
// not keep its counts by owner refuses the breakdown. Company-wide
// breakdowns by other dimensions stay open to them.
func TestManagerReportsScopedToTeam(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		w := newReportWorld(t, db)
		w.randomHistory(t, 5, 120)
		max, admin := storetest.As(w.tm.Manager1), storetest.System()
		tr := readTruth(t, db)
		sue := tr.names[w.tm.SDR2.ID]
		for _, report := range []string{baton.ReportFunnel, baton.ReportRejections} {
			all, err := db.RunReport(admin, report, baton.ReportFilter{By: baton.DimOwner})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(all.Rows, func(r []string) bool { return r[0] == sue }) {
				t.Fatalf("%s by owner for the admin has no row of Sue, of the other team: %v", report, all.Rows)
			}
			mine, err := db.RunReport(max, report, baton.ReportFilter{By: baton.DimOwner})
			if err != nil {
				t.Fatal(err)
			}
			team, err := db.RunReport(admin, report, baton.ReportFilter{By: baton.DimOwner, Manager: w.tm.Manager1.ID})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(mine.Rows) != fmt.Sprint(team.Rows) {
				t.Errorf("%s by owner for Max:\n%v\nwant his team's:\n%v", report, mine.Rows, team.Rows)
			}
			if _, err := db.RunReport(max, report, baton.ReportFilter{Manager: w.tm.Manager2.ID}); baton.ErrorCode(err) != baton.EFORBIDDEN {
				t.Errorf("%s of Nora's team for Max: %v, want EFORBIDDEN", report, err)
			}
		}
		if _, err := db.RunReport(max, baton.ReportQuality, baton.ReportFilter{By: baton.DimOwner}); baton.ErrorCode(err) != baton.EINVALID || baton.ErrorField(err) != "by" {
			t.Errorf("quality by owner for a manager: %v, want a field error on by", err)
		}
		if _, err := db.RunReport(max, baton.ReportFunnel, baton.ReportFilter{By: baton.DimSource}); err != nil {
			t.Errorf("funnel by source for a manager: %v", err)
		}
	})
}
