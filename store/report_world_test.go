package store_test

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// testReasons are rejection reasons from the agreed list.
var testReasons = []string{"no_budget", "no_need", "bad_timing", "no_fit", "no_authority"}

// reportWorld is a database with a team, accounts and a clock.
type reportWorld struct {
	db       *store.DB
	clock    *storetest.Clock
	tm       *storetest.Team
	accounts []*baton.Account
	owners   []*baton.User
}

func newReportWorld(t *testing.T, db *store.DB) *reportWorld {
	t.Helper()
	w := &reportWorld{db: db, clock: storetest.NewClock()}
	db.Now = w.clock.Now
	w.tm = storetest.SeedTeam(t, db)
	w.owners = []*baton.User{w.tm.SDR1, w.tm.SDR2, w.tm.AE}
	for _, a := range []*baton.Account{
		{Name: "Acme", Domain: "acme.com", Industry: "Software", Employees: ptr(int64(120))},
		{Name: "Globex", Domain: "globex.com", Industry: "Retail", Employees: ptr(int64(6000))},
		{Name: "Initech", Domain: "initech.com"},
	} {
		if err := db.CreateAccount(storetest.System(), a); err != nil {
			t.Fatal(err)
		}
		w.accounts = append(w.accounts, a)
	}
	return w
}

func (w *reportWorld) move(t *testing.T, id int64, to baton.Stage, reason string) {
	t.Helper()
	moveTo(t, w.db, w.tm, id, to, reason)
}

// randomHistory creates n leads and walks them along random legal paths of
// the lifecycle through the real storage calls, with the clock moving and
// now and then a change of source, campaign, owner, account or country.
func (w *reportWorld) randomHistory(t *testing.T, seed uint64, n int) {
	t.Helper()
	ctx := storetest.System()
	rng := rand.New(rand.NewPCG(seed, 7))
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	sources := []string{"web", "webinar", "event", "referral", ""}
	campaigns := []string{"q1-launch", "q2-retarget", ""}
	countries := []string{"DE", "FR", "US", ""}
	var leads []*baton.Lead
	for step := 0; step < n*7; step++ {
		w.clock.Advance(time.Duration(rng.Int64N(int64(20 * time.Hour))))
		switch {
		case len(leads) < n && (len(leads) == 0 || rng.IntN(3) == 0):
			l := &baton.Lead{Email: fmt.Sprintf("lead%d@example.org", len(leads)), Source: pick(sources), Campaign: pick(campaigns),
				Country: pick(countries), OwnerID: &w.owners[rng.IntN(len(w.owners))].ID}
			if k := rng.IntN(len(w.accounts) + 1); k < len(w.accounts) {
				l.AccountID = &w.accounts[k].ID
			}
			leads = append(leads, storetest.MustLead(t, w.db, l))
		case rng.IntN(20) == 0:
			l := leads[rng.IntN(len(leads))]
			var upd baton.LeadUpdate
			switch rng.IntN(5) {
			case 0:
				upd.Source = ptr(pick(sources))
			case 1:
				upd.Campaign = ptr(pick(campaigns))
			case 2:
				// A new owner is a reassignment: a rep whose role fits the stage.
				cur, err := w.db.FindLeadByID(ctx, l.ID)
				if err != nil {
					t.Fatal(err)
				}
				switch cur.Stage {
				case baton.StageMQL, baton.StageSAL:
					upd.OwnerID = &w.owners[rng.IntN(2)].ID
				case baton.StageSQL, baton.StageOpportunity:
					upd.OwnerID = &w.tm.AE.ID
				default:
					continue
				}
			case 3:
				upd.AccountID = &w.accounts[rng.IntN(len(w.accounts))].ID
			case 4:
				upd.Country = ptr(pick(countries))
			}
			if _, err := w.db.UpdateLead(ctx, l.ID, upd); err != nil {
				t.Fatal(err)
			}
		default:
			l := leads[rng.IntN(len(leads))]
			cur, err := w.db.FindLeadByID(ctx, l.ID)
			if err != nil {
				t.Fatal(err)
			}
			var moves []baton.Rule
			for _, r := range baton.Rules {
				if r.From == cur.Stage {
					moves = append(moves, r)
				}
			}
			if len(moves) == 0 {
				continue
			}
			r := moves[rng.IntN(len(moves))]
			actx, c, ok := plausible(r, cur, w.tm, pick(testReasons))
			if !ok {
				continue
			}
			if r.Need(baton.NeedRejection) {
				c.Reason = pick([]string{"no_budget", "no_need", "bad_timing", "no_authority"})
				if r.To == baton.StageDisqualified {
					c.Reason = "no_fit"
				}
			}
			_, err = w.db.ChangeStage(actx, l.ID, c)
			if baton.ErrorCode(err) == baton.ECONFLICT {
				continue // in its nurture cool-down, or no handoff to answer
			} else if err != nil {
				t.Fatalf("lead %d %s to %s: %v", l.ID, r.Verb, r.To, err)
			}
		}
	}
	// Events in the last ten days for some leads (for Stalled), and
	// opportunities for the won leads and a few others.
	var events []baton.EventInput
	for i, l := range leads {
		if rng.IntN(3) == 0 {
			at := w.clock.Now().Add(-time.Duration(rng.Int64N(int64(10 * 24 * time.Hour))))
			events = append(events, baton.EventInput{ID: fmt.Sprintf("e%d", i), LeadID: l.ID, Type: baton.EventEmailOpen, OccurredAt: at})
		}
	}
	if res, err := w.db.RecordEvents(ctx, events); err != nil || res.Rejected > 0 {
		t.Fatalf("events: %v %+v", err, res)
	}
	for _, l := range leads {
		cur, err := w.db.FindLeadByID(ctx, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		st := baton.OppProspecting
		switch {
		case cur.Stage == baton.StageWon:
			st = baton.OppWon
		case cur.Stage == baton.StageLost:
			st = baton.OppLost
		case cur.Stage == baton.StageSAL && rng.IntN(3) == 0:
		default:
			continue
		}
		o := &baton.Opportunity{Name: fmt.Sprintf("deal %d", l.ID), LeadID: &l.ID, Stage: st, CloseValue: float64(1000 * (1 + rng.IntN(50)))}
		if err := w.db.CreateOpportunity(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
}

// histRow is a history entry read straight from lead_history.
type histRow struct {
	lead                 int64
	at                   int64
	action               baton.Action
	field, from, to, why string
}

// truth is what the tests compute the reports from: the raw history and the
// leads' and opportunities' current rows.
type truth struct {
	hist  map[int64][]histRow
	leads map[int64]*leadRow
	opps  map[int64][]oppRow
	names map[int64]string
}

type leadRow struct {
	id, created, changed    int64
	source, campaign, stage string
	owner                   sql.NullInt64
	events                  []int64
}

type oppRow struct {
	stage string
	value float64
}

func readTruth(t *testing.T, db *store.DB) *truth {
	t.Helper()
	q := func(query string, fn func(rows *sql.Rows) error) {
		rows, err := db.SQL().Query(query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := fn(rows); err != nil {
				t.Fatal(err)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	tr := &truth{hist: map[int64][]histRow{}, leads: map[int64]*leadRow{}, opps: map[int64][]oppRow{}, names: map[int64]string{}}
	q(`SELECT lead_id, at, action, field, from_value, to_value, reason FROM lead_history ORDER BY lead_id, at, id`, func(rows *sql.Rows) error {
		var h histRow
		err := rows.Scan(&h.lead, &h.at, &h.action, &h.field, &h.from, &h.to, &h.why)
		tr.hist[h.lead] = append(tr.hist[h.lead], h)
		return err
	})
	q(`SELECT id, created_at, stage_changed_at, source, campaign, stage, owner_id FROM leads`, func(rows *sql.Rows) error {
		l := &leadRow{}
		err := rows.Scan(&l.id, &l.created, &l.changed, &l.source, &l.campaign, &l.stage, &l.owner)
		tr.leads[l.id] = l
		return err
	})
	q(`SELECT lead_id, occurred_at FROM events`, func(rows *sql.Rows) error {
		var id, at int64
		err := rows.Scan(&id, &at)
		tr.leads[id].events = append(tr.leads[id].events, at)
		return err
	})
	q(`SELECT lead_id, stage, close_value FROM opportunities WHERE lead_id IS NOT NULL`, func(rows *sql.Rows) error {
		var id int64
		var o oppRow
		err := rows.Scan(&id, &o.stage, &o.value)
		tr.opps[id] = append(tr.opps[id], o)
		return err
	})
	q(`SELECT id, name FROM users`, func(rows *sql.Rows) error {
		var id int64
		var name string
		err := rows.Scan(&id, &name)
		tr.names[id] = fmt.Sprintf("%s (%d)", name, id)
		return err
	})
	return tr
}

// sourceAt returns a function giving the lead's source as of each of its
// history entries, in order: the first source update's From is what it was
// created with.
func (tr *truth) initialSource(id int64) string {
	for _, h := range tr.hist[id] {
		if h.action == baton.ActionUpdated && h.field == "source" {
			return h.from
		}
	}
	return tr.leads[id].source
}

func label(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

var funnelStages = []string{"lead", "mql", "sal", "sql", "opportunity", "won"}

type counts map[string][]int64

func (c counts) add(group string, i int) {
	if c[group] == nil {
		c[group] = make([]int64, 7)
	}
	c[group][i]++
}

// rowsByLabel maps a report's rows by their first cell.
func rowsByLabel(r *baton.Report) map[string][]string {
	out := map[string][]string{}
	for _, row := range r.Rows {
		out[row[0]] = row
	}
	return out
}

func checkCounts(t *testing.T, what string, r *baton.Report, want counts, cols int) {
	t.Helper()
	got := rowsByLabel(r)
	for g, w := range want {
		row, ok := got[g]
		if !ok {
			t.Errorf("%s: no row %q (want %v)", what, g, w[:cols])
			continue
		}
		for i := 0; i < cols; i++ {
			if row[1+i] != strconv.FormatInt(w[i], 10) {
				t.Errorf("%s: row %q column %s = %s, want %d (row %v, want %v)", what, g, r.Columns[1+i], row[1+i], w[i], row, w[:cols])
				break
			}
		}
	}
	for g := range got {
		if _, ok := want[g]; !ok && g != "(total)" {
			t.Errorf("%s: unexpected row %v", what, got[g])
		}
	}
}

func inPeriod(at int64, from, to time.Time) bool {
	return at >= from.UnixMicro() && at < to.UnixMicro()
}
