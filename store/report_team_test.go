package store_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// teamPolicy routes leads of source "solo" to the Solo team, development
// reps and account executives alike, and every other MQL to Inbound and
// every other SQL to Closers; the leads here (no title, no events) never
// score an MQL.
const teamPolicy = `
name: Teams
fit:
  - {name: Senior title, field: title, contains: VP, points: 30}
engagement:
  half_life: 10d
  rules:
    - {name: Pricing page, event: pricing_page_view, points: 20}
mql: {fit: 20, engagement: 30, match: all}
handoff:
  sdr:
    routes:
      - name: Solo
        when:
          - {field: source, in: [solo]}
        pool: Solo
      - name: Inbound
        pool: Inbound
  ae:
    routes:
      - name: Solo
        when:
          - {field: source, in: [solo]}
        pool: Solo
      - name: Closers
        pool: Closers
`

// teamWorld is a database where the development reps of one team (Inbound)
// hand their SQLs to the account executives of another (Closers), and a
// third team (Solo) does the whole path itself.
type teamWorld struct {
	db    *store.DB
	clock *storetest.Clock
	tm    *storetest.Team // Admin, and SDR1, SDR2, AE for the moves' assignees
	// sdrA is Inbound's development rep, aeB Closers' account executive,
	// sdrC and aeC Solo's; noTeam is a development rep with no team whose
	// manager is Solo's; lone a development rep with no team nor manager.
	sdrA, aeB, sdrC, aeC, noTeam, lone *baton.User
}

func newTeamWorld(t *testing.T, db *store.DB) *teamWorld {
	t.Helper()
	w := &teamWorld{db: db, clock: storetest.NewClock()}
	db.Now = w.clock.Now
	ctx := storetest.System()
	mk := func(email string, role baton.Role, team string, mgr *baton.User) *baton.User {
		u := &baton.User{Email: email, Name: strings.Split(email, "@")[0], Role: role, Team: team}
		if mgr != nil {
			u.ManagerID = &mgr.ID
		}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	admin := mk("admin@example.com", baton.RoleAdmin, "", nil)
	mk("mia.marketing@example.com", baton.RoleMarketing, "Marketing", nil)
	mgrA := mk("mgr.a@example.com", baton.RoleManager, "Inbound", nil)
	mgrB := mk("mgr.b@example.com", baton.RoleManager, "Closers", nil)
	mgrS := mk("mgr.s@example.com", baton.RoleManager, "Solo", nil)
	w.sdrA = mk("sdr.a@example.com", baton.RoleSDR, "Inbound", mgrA)
	w.aeB = mk("ae.b@example.com", baton.RoleAE, "Closers", mgrB)
	w.sdrC = mk("sdr.c@example.com", baton.RoleSDR, "Solo", mgrS)
	w.aeC = mk("ae.c@example.com", baton.RoleAE, "Solo", mgrS)
	w.noTeam = mk("sdr.noteam@example.com", baton.RoleSDR, "", mgrS)
	w.lone = mk("sdr.lone@example.com", baton.RoleSDR, "", nil)
	w.tm = &storetest.Team{Admin: admin, SDR1: w.sdrA, SDR2: w.sdrC, AE: w.aeB}
	publish(t, db, teamPolicy)
	return w
}

// lead creates a lead an hour after the last change.
func (w *teamWorld) lead(t *testing.T, email, source string, owner *baton.User) int64 {
	t.Helper()
	w.clock.Advance(time.Hour)
	l := &baton.Lead{Email: email, Source: source}
	if owner != nil {
		l.OwnerID = &owner.ID
	}
	return storetest.MustLead(t, w.db, l).ID
}

// walk moves a lead along stages, an hour apart.
func (w *teamWorld) walk(t *testing.T, id int64, stages ...baton.Stage) {
	t.Helper()
	for _, s := range stages {
		w.clock.Advance(time.Hour)
		moveTo(t, w.db, w.tm, id, s, "test")
	}
}

func (w *teamWorld) setActive(t *testing.T, u *baton.User, active bool) {
	t.Helper()
	if _, err := w.db.UpdateUser(storetest.System(), u.ID, baton.UserUpdate{Active: &active}); err != nil {
		t.Fatal(err)
	}
}

// history walks the leads of a teamWorld:
//   - three web leads created unowned go to Inbound's rep as MQLs, who
//     accepts and qualifies them; Closers' account executive gets the SQLs,
//     converts and wins them;
//   - a web lead is accepted, rejected to nurture, and an MQL again (to
//     Inbound) after its cool-down; another is an MQL reassigned later to a
//     rep of Solo (its MQL stays Inbound's);
//   - a web MQL made while Inbound's only rep is inactive goes to nobody;
//     the rep, active again, is assigned it and accepts it (its MQL stays
//     unassigned);
//   - a web lead created for the rep without a team (whose manager is
//     Solo's) and one for the rep without a team or manager become MQLs
//     with them;
//   - three solo leads created for Solo's rep: one won and one lost by
//     Solo's account executive, one left new.
func (w *teamWorld) history(t *testing.T) {
	t.Helper()
	main := []baton.Stage{baton.StageMQL, baton.StageSAL, baton.StageSQL, baton.StageOpportunity}
	for i := range 3 {
		id := w.lead(t, fmt.Sprintf("won%d@example.org", i), "web", nil)
		w.walk(t, id, append(main, baton.StageWon)...)
	}
	back := w.lead(t, "back@example.org", "web", nil)
	w.walk(t, back, baton.StageMQL, baton.StageSAL, baton.StageRecycled)
	moved := w.lead(t, "moved@example.org", "web", nil)
	w.walk(t, moved, baton.StageMQL)
	pool := w.lead(t, "pool@example.org", "web", nil)
	w.setActive(t, w.sdrA, false)
	w.walk(t, pool, baton.StageMQL)
	if l, err := w.db.FindLeadByID(storetest.System(), pool); err != nil || l.OwnerID != nil {
		t.Fatalf("an MQL with nobody in the pool: %+v %v", l, err)
	}
	w.setActive(t, w.sdrA, true)
	w.clock.Advance(time.Hour)
	if _, err := w.db.Assign(storetest.As(w.tm.Admin), pool, w.sdrA.ID, "back from lunch"); err != nil {
		t.Fatal(err)
	}
	w.walk(t, pool, baton.StageSAL)
	w.walk(t, w.lead(t, "noteam@example.org", "web", w.noTeam), baton.StageMQL)
	w.walk(t, w.lead(t, "lone@example.org", "web", w.lone), baton.StageMQL)
	for i, end := range []baton.Stage{baton.StageWon, baton.StageLost, ""} {
		id := w.lead(t, fmt.Sprintf("solo%d@example.org", i), "solo", w.sdrC)
		if end != "" {
			w.walk(t, id, append(main, end)...)
		}
	}
	w.clock.Advance(time.Hour)
	if _, err := w.db.Assign(storetest.As(w.tm.Admin), moved, w.noTeam.ID, "balancing"); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(31 * 24 * time.Hour) // past the cool-down
	w.walk(t, back, baton.StageMQL)
	for id, owner := range map[int64]*baton.User{back: w.sdrA, moved: w.noTeam, pool: w.sdrA} {
		if l, err := w.db.FindLeadByID(storetest.System(), id); err != nil || l.OwnerID == nil || *l.OwnerID != owner.ID {
			t.Fatalf("lead %d: %+v %v, want owned by %s", id, l, err, owner.Name)
		}
	}
}

// csvRows returns a report's rows as CSV lines.
func csvRows(r *baton.Report) []string {
	out := make([]string, len(r.Rows))
	for i, row := range r.Rows {
		out[i] = strings.Join(row, ",")
	}
	return out
}

// TestFunnelByTeamCountsEachStepUnderItsOwnersTeam: with leads handed from
// a development rep of one team to an account executive of another, the
// funnel by team (period and cohort) and the quality report by team count
// the MQL and SAL steps under the first team and the SQL, opportunity and
// won steps under the second; a team that does the whole path has rates
// within 0..100; a step made with nobody to take it stays unassigned; an
// owner without a team counts under their manager's team, or "(no team)".
// The by-owner funnel counts each transition under the owner who got it,
// its cohort under the current owner. A rebuild from the history gives the
// same reports.
func TestFunnelByTeamCountsEachStepUnderItsOwnersTeam(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		w := newTeamWorld(t, db)
		w.history(t)
		ctx := storetest.System()
		header := "team,leads,mql,sal,sql,opportunity,won,mql_rate,sal_rate,sql_rate,opportunity_rate,won_rate"
		cases := []struct {
			name   string
			report string
			f      baton.ReportFilter
			want   []string
		}{
			{"period funnel", baton.ReportFunnel, baton.ReportFilter{By: baton.DimTeam}, []string{
				header,
				"(unassigned),6,1,0,0,0,0,16.7,0.0,,,",
				"Solo,4,3,2,2,2,1,75.0,66.7,100.0,100.0,50.0",
				"(no team),1,1,0,0,0,0,100.0,0.0,,,",
				"Closers,0,0,0,3,3,3,,,,100.0,100.0",
				// The lead back from nurture is an MQL twice.
				"Inbound,0,6,5,0,0,0,,83.3,0.0,,",
				"(total),11,11,7,5,5,4,100.0,63.6,71.4,100.0,80.0",
			}},
			{"cohort funnel", baton.ReportFunnel, baton.ReportFilter{By: baton.DimTeam, Cohort: true}, []string{
				header,
				"(unassigned),6,1,0,0,0,0,16.7,0.0,,,",
				"Solo,4,3,2,2,2,1,75.0,66.7,100.0,100.0,50.0",
				"(no team),1,1,0,0,0,0,100.0,0.0,,,",
				"Closers,0,0,0,3,3,3,,,,100.0,100.0",
				"Inbound,0,5,5,0,0,0,,100.0,0.0,,",
				"(total),11,10,7,5,5,4,90.9,70.0,71.4,100.0,80.0",
			}},
			{"quality", baton.ReportQuality, baton.ReportFilter{By: baton.DimTeam}, []string{
				"team,leads,mql,sal,sql,won,lost,mql_rate,acceptance_rate,sql_rate,win_rate,won_value",
				"(unassigned),6,1,0,0,0,0,16.7,0.0,,,0.00",
				"Solo,4,3,2,2,1,1,75.0,66.7,100.0,50.0,5000.00",
				"(no team),1,1,0,0,0,0,100.0,0.0,,,0.00",
				"Closers,0,0,0,3,3,0,,,,100.0,15000.00",
				"Inbound,0,5,5,0,0,0,,100.0,0.0,,0.00",
				"(total),11,10,7,5,4,1,90.9,70.0,71.4,80.0,20000.00",
			}},
		}
		check := func(when string) map[string][]string {
			t.Helper()
			got := map[string][]string{}
			for _, c := range cases {
				r, err := db.RunReport(ctx, c.report, c.f)
				if err != nil {
					t.Fatal(err)
				}
				rows := append([]string{strings.Join(r.Columns, ",")}, csvRows(r)...)
				got[c.name] = rows
				if !slices.Equal(rows, c.want) {
					t.Errorf("%s, %s by team:\n%s\nwant\n%s", when, c.name, strings.Join(rows, "\n"), strings.Join(c.want, "\n"))
				}
				// Solo does the whole path; no team here goes over 100%.
				for _, row := range r.Rows {
					for i, col := range r.Columns {
						if v, err := strconv.ParseFloat(row[i], 64); strings.HasSuffix(col, "_rate") && err == nil && (v < 0 || v > 100) {
							t.Errorf("%s, %s: %s %s = %s", when, c.name, row[0], col, row[i])
						}
					}
				}
			}
			return got
		}
		check("as written")

		// By owner: each transition under the owner who got it, the
		// cohort under the current owner (the rep the MQL was moved to has
		// it, and the lead created for them).
		name := func(u *baton.User) string { return fmt.Sprintf("%s (%d)", u.Name, u.ID) }
		period, err := db.Funnel(ctx, baton.ReportFilter{By: baton.DimOwner})
		if err != nil {
			t.Fatal(err)
		}
		cohort, err := db.Funnel(ctx, baton.ReportFilter{By: baton.DimOwner, Cohort: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			r     *baton.Report
			label string
			want  string // leads..won
		}{
			{period, name(w.sdrA), "0,6,5,0,0,0"},
			{period, name(w.aeB), "0,0,0,3,3,3"},
			{period, name(w.noTeam), "1,1,0,0,0,0"},
			{period, "(unassigned)", "6,1,0,0,0,0"},
			{cohort, name(w.aeB), "3,3,3,3,3,3"},
			{cohort, name(w.noTeam), "2,2,0,0,0,0"},
		} {
			row := rowsByLabel(c.r)[c.label]
			if row == nil || strings.Join(row[1:7], ",") != c.want {
				t.Errorf("%s by owner: %s = %v, want %s", c.r.Title, c.label, row, c.want)
			}
		}

		var negative int
		if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM report_daily WHERE n < 0`).Scan(&negative); err != nil || negative > 0 {
			t.Errorf("%d negative counters (%v)", negative, err)
		}

		before := allReports(t, db)
		if _, err := db.RebuildReports(ctx); err != nil {
			t.Fatal(err)
		}
		check("after a rebuild")
		if after := allReports(t, db); !maps.Equal(after, before) {
			var differ []string
			for k := range before {
				if after[k] != before[k] {
					differ = append(differ, k)
				}
			}
			slices.Sort(differ)
			t.Errorf("a rebuild changes %d reports: %s", len(differ), strings.Join(differ, "; "))
		}
	})
}

// TestFunnelByOwnerAgreesWithHistory: on a random history, the period
// funnel by owner counts each transition under the owner the lead has once
// the changes made at the transition's instant are done (its routing), as
// computed straight from lead_history.
func TestFunnelByOwnerAgreesWithHistory(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		w := newReportWorld(t, db)
		w.randomHistory(t, 7, 200)
		tr := readTruth(t, db)
		want := counts{}
		label := func(owner string) string {
			if owner == "" {
				return "(unassigned)"
			}
			id, _ := strconv.ParseInt(owner, 10, 64)
			return tr.names[id]
		}
		for id, hist := range tr.hist {
			// The owner at creation: the first change of owner says who
			// it was before.
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
			type step struct {
				i  int
				at int64
			}
			var steps []step // the funnel's transitions, with their owners
			var owners []string
			for _, h := range hist {
				switch {
				case h.action == baton.ActionCreated:
					want.add(label(owner), 0)
				case h.action == baton.ActionStage:
					if i := slices.Index(funnelStages, h.to); i > 0 {
						steps = append(steps, step{i, h.at})
						owners = append(owners, owner)
					} else {
						steps = append(steps, step{-1, h.at})
						owners = append(owners, "")
					}
				case isOwnerChange(h):
					switch {
					case h.action == baton.ActionNurture:
						owner = ""
					case h.action == baton.ActionBreached, h.from == "" && h.to == "":
					default:
						owner = h.to
					}
					if n := len(steps); n > 0 && steps[n-1].at == h.at {
						owners[n-1] = owner
					}
				}
			}
			for k, s := range steps {
				if s.i > 0 {
					want.add(label(owners[k]), s.i)
				}
			}
		}
		r, err := db.Funnel(storetest.System(), baton.ReportFilter{By: baton.DimOwner, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		checkCounts(t, "period funnel by owner", r, want, 6)
		if len(want) < 3 {
			t.Errorf("only %d owners in the random history: the check checks little", len(want))
		}
	})
}

// isOwnerChange reports whether a history entry may change the owner, as
// the reports read them: assignments and breaches name owner_id, and so does
// an edit of the field; a move to nurture clears the owner.
func isOwnerChange(h histRow) bool {
	return h.field == "owner_id" || h.action == baton.ActionNurture
}

// TestStepOwnerMigration: on a database whose aggregates were written
// before the step owners were kept, migration 0011 makes the reports by team
// count those leads as they did (under the team of their owner then) rather
// than not at all, and a rebuild then counts each step under its own.
func TestStepOwnerMigration(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		goldenWorld(t, db)
		ctx := storetest.System()
		cohort := baton.ReportFilter{By: baton.DimTeam, Cohort: true}
		rows := func() []string {
			t.Helper()
			r, err := db.Funnel(ctx, cohort)
			if err != nil {
				t.Fatal(err)
			}
			return csvRows(r)
		}
		// The golden world: Eve was rejected to nurture, and so has no owner
		// now; before this version she counted as unassigned.
		byStep := []string{"East,8,7,6,3,3,2,87.5,85.7,50.0,100.0,66.7", "(total),8,7,6,3,3,2,87.5,85.7,50.0,100.0,66.7"}
		byOwnerThen := []string{"East,7,6,5,3,3,2,85.7,83.3,60.0,100.0,66.7", "(unassigned),1,1,1,0,0,0,100.0,100.0,0.0,,", byStep[1]}
		if got := rows(); !slices.Equal(got, byStep) {
			t.Fatalf("as written: %q, want %q", got, byStep)
		}
		if _, err := db.SQL().Exec(`DELETE FROM report_daily WHERE dim = 'step_owner'`); err != nil {
			t.Fatal(err)
		}
		if got := rows(); len(got) != 1 || got[0] != "(total),0,0,0,0,0,0,,,,," {
			t.Fatalf("without step owners: %q", got)
		}
		body, err := os.ReadFile(filepath.Join("migrations", string(db.Backend()), "0011_report_step_owner.sql"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().Exec(string(body)); err != nil {
			t.Fatal(err)
		}
		if got := rows(); !slices.Equal(got, byOwnerThen) {
			t.Errorf("after the migration: %q, want %q", got, byOwnerThen)
		}
		if _, err := db.RebuildReports(ctx); err != nil {
			t.Fatal(err)
		}
		if got := rows(); !slices.Equal(got, byStep) {
			t.Errorf("after a rebuild: %q, want %q", got, byStep)
		}
	})
}

// BenchmarkRoutedMoves times whole moves on SQLite, each its own
// transaction with its aggregates: a lead created, made an MQL (routed to
// Inbound's rep) and accepted, per iteration.
func BenchmarkRoutedMoves(b *testing.B) {
	db := storetest.SQLite(b)
	clock := storetest.NewClock()
	db.Now = clock.Now
	ctx := storetest.System()
	admin := &baton.User{Email: "admin@example.com", Name: "Admin", Role: baton.RoleAdmin}
	sdr := &baton.User{Email: "sdr@example.com", Name: "Sdr", Role: baton.RoleSDR, Team: "Inbound"}
	for _, u := range []*baton.User{admin, sdr} {
		if err := db.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
	as := storetest.As(admin)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		clock.Advance(time.Hour)
		l := &baton.Lead{Email: fmt.Sprintf("l%d@example.org", i), Source: "web"}
		if err := db.CreateLead(ctx, l); err != nil {
			b.Fatal(err)
		}
		clock.Advance(time.Hour)
		if _, err := db.ChangeStage(ctx, l.ID, baton.StageChange{To: baton.StageMQL, Reason: "bench"}); err != nil {
			b.Fatal(err)
		}
		clock.Advance(time.Hour)
		if _, err := db.Accept(as, l.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTeamReports times the reports by team and by owner on the
// database BenchmarkReports builds and keeps at BATON_BENCH_REPORTS_DB (1,000,000 leads):
//
//	BATON_BENCH_REPORTS=1 BATON_BENCH_REPORTS_DB=/tmp/reports.db go test ./store -run '^$' -bench 'BenchmarkReports$|BenchmarkTeamReports'
func BenchmarkTeamReports(b *testing.B) {
	path := os.Getenv("BATON_BENCH_REPORTS_DB")
	if _, err := os.Stat(path); testing.Short() || os.Getenv("BATON_BENCH_REPORTS") != "1" || path == "" || err != nil {
		b.Skip("set BATON_BENCH_REPORTS=1 and BATON_BENCH_REPORTS_DB to a database BenchmarkReports built")
	}
	ctx := storetest.System()
	db, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var end int64
	if err := db.SQL().QueryRow(`SELECT MAX(at) FROM lead_history`).Scan(&end); err != nil {
		b.Fatal(err)
	}
	now := time.UnixMicro(end).UTC().Add(time.Hour)
	db.Now = func() time.Time { return now }
	for _, f := range []baton.ReportFilter{
		{By: baton.DimTeam},
		{By: baton.DimTeam, Cohort: true},
		{By: baton.DimOwner},
		{By: baton.DimTeam, From: now.AddDate(0, -3, 0), To: now},
	} {
		b.Run(fmt.Sprintf("funnel/%s/cohort=%v/quarter=%v", f.By, f.Cohort, !f.From.IsZero()), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := db.Funnel(ctx, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("quality/team", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := db.Quality(ctx, baton.ReportFilter{By: baton.DimTeam}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
