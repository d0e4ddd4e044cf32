package web

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/batonhq/baton"
)

// The "my work" page: what each role has to do next, in one place, each
// list linking to the lead list (or the inbox) that holds all of it.
// A development rep sees their SALs to qualify against the policy's
// accountability limit, the leads awaiting their answer and the leads they
// handed over; an account executive the SQLs to accept and to convert and
// the opportunities to close; a manager their team's of each (an admin
// everyone's); marketing the recycled leads coming back from nurture and the
// MQLs nobody has. Storage scopes every list to what the viewer may read.

// workRows is how many rows each list of the page shows.
const workRows = 25

// comingBackWithin is how far ahead marketing sees cool-downs ending.
const comingBackWithin = 14 * 24 * time.Hour

// accountableSoon is how close to the accountability limit a SAL is flagged.
const accountableSoon = 24 * time.Hour

// salRow is a SAL to qualify: how long since it was accepted, and how much
// of the policy's limit is left.
type salRow struct {
	Lead  *baton.Lead
	Owner *baton.User
	Left  string
	Class string // ok, soon, breached (the SLA classes)
}

// queueRow is a lead awaiting an answer, with its deadline.
type queueRow struct {
	Lead    *baton.Lead
	Handoff *baton.Handoff
	Owner   *baton.User
	SLA     slaState
}

// dealRow is an opportunity to close.
type dealRow struct {
	baton.Deal
	Owner   *baton.User
	Overdue bool
}

// handedRow is a lead handed over: the rep who qualified it, who has it now,
// and whether the viewer may open it.
type handedRow struct {
	baton.HandedOver
	Qualifier, Owner *baton.User
	Open             bool
}

// worklist is one list of the page: its rows, how many there are in all,
// and where all of them are.
type worklist[T any] struct {
	Rows  []T
	Total int
	All   string
}

type workPage struct {
	// Team: the lists hold other people's leads (a manager's, an admin's):
	// rows name their owner.
	Team bool
	// What the page shows, by the viewer's role.
	ShowSALs, ShowAwaiting, ShowHanded, ShowSQLs, ShowDeals, ShowMarketing bool
	SALs                                                                   worklist[salRow]
	Within                                                                 string
	Awaiting                                                               worklist[queueRow]
	SQLs                                                                   worklist[queueRow]
	ToConvert                                                              worklist[*baton.Lead]
	Deals                                                                  worklist[dealRow]
	Handed                                                                 worklist[handedRow]
	ComingBack                                                             worklist[*baton.Lead]
	Unowned                                                                worklist[*baton.Lead]
	Users                                                                  map[int64]*baton.User
}

func (s *Server) work(w http.ResponseWriter, r *http.Request, c *session) error {
	ws, ok := s.svc.Leads.(baton.WorkService)
	if !ok {
		return baton.Errorf(baton.ENOTFOUND, "the work lists are not available on this server")
	}
	ctx := r.Context()
	users, err := s.userNames(ctx)
	if err != nil {
		return err
	}
	me := c.User
	d := workPage{Users: users, Team: me.Role == baton.RoleManager || me.Role == baton.RoleAdmin}
	switch me.Role {
	case baton.RoleSDR:
		d.ShowSALs, d.ShowAwaiting, d.ShowHanded = true, true, true
	case baton.RoleAE:
		d.ShowSQLs, d.ShowDeals = true, true
	case baton.RoleManager, baton.RoleAdmin:
		d.ShowSALs, d.ShowAwaiting, d.ShowHanded, d.ShowSQLs, d.ShowDeals = true, true, true, true, true
	case baton.RoleMarketing:
		d.ShowMarketing = true
	}
	now := s.now()
	owner := func(l *baton.Lead) *baton.User {
		if l.OwnerID == nil {
			return nil
		}
		return users[*l.OwnerID]
	}
	queue := func(kind baton.HandoffKind, all string) (worklist[queueRow], error) {
		items, total, err := ws.AwaitingAnswer(ctx, kind, workRows)
		out := worklist[queueRow]{Total: total, All: all}
		for _, it := range items {
			out.Rows = append(out.Rows, queueRow{Lead: it.Lead, Handoff: it.Handoff, Owner: users[it.Handoff.OwnerID], SLA: sla(now, it.Handoff)})
		}
		return out, err
	}
	if d.ShowSALs {
		sals, err := ws.SALs(ctx, workRows)
		if err != nil {
			return err
		}
		d.SALs = worklist[salRow]{Total: sals.Total, All: "/leads?stage=sal"}
		d.Within = days(sals.Within)
		for _, l := range sals.Leads {
			d.SALs.Rows = append(d.SALs.Rows, accountable(now, l, owner(l), sals.Within))
		}
	}
	if d.ShowAwaiting {
		if d.Awaiting, err = queue(baton.HandoffSDR, "/inbox"); err != nil {
			return err
		}
	}
	if d.ShowSQLs {
		if d.SQLs, err = queue(baton.HandoffAE, "/leads?stage=sql"); err != nil {
			return err
		}
		// The SQLs accepted, to convert: those with no open handoff.
		st := baton.StageSQL
		f := baton.LeadFilter{Stage: &st, Sort: "created", Reverse: true, Limit: 500}
		if me.Role.Rep() {
			f.OwnerID = &me.ID
		}
		sqls, _, err := s.svc.Leads.FindLeads(ctx, f)
		if err != nil {
			return err
		}
		waiting, _, err := ws.AwaitingAnswer(ctx, baton.HandoffAE, 500)
		if err != nil {
			return err
		}
		d.ToConvert.All = "/leads?stage=sql"
		for _, l := range sqls {
			if !slices.ContainsFunc(waiting, func(it baton.QueueItem) bool { return it.Lead.ID == l.ID }) {
				d.ToConvert.Total++
				if len(d.ToConvert.Rows) < workRows {
					d.ToConvert.Rows = append(d.ToConvert.Rows, l)
				}
			}
		}
	}
	if d.ShowDeals {
		deals, total, err := ws.OpenDeals(ctx, workRows)
		if err != nil {
			return err
		}
		d.Deals = worklist[dealRow]{Total: total, All: "/leads?stage=opportunity"}
		today := civilDay(now, loc(c))
		for _, dl := range deals {
			row := dealRow{Deal: dl, Owner: owner(dl.Lead)}
			ec := dl.Opportunity.ExpectedClose
			row.Overdue = ec != nil && civilDay(*ec, time.UTC).Before(today)
			d.Deals.Rows = append(d.Deals.Rows, row)
		}
	}
	if d.ShowHanded {
		hs, total, err := ws.HandedOver(ctx, workRows)
		if err != nil {
			return err
		}
		d.Handed.Total = total
		actor := baton.ActorOf(me, "ui")
		for _, h := range hs {
			row := handedRow{HandedOver: h, Qualifier: users[h.QualifiedBy]}
			// Whether the viewer reads the lead now is storage's rule of
			// who reads what, asked of the domain: the qualifier may not.
			rel := baton.Relation{}
			if h.OwnerID != nil {
				row.Owner = users[*h.OwnerID]
				rel = relation(me, &baton.Lead{OwnerID: h.OwnerID}, users)
			}
			row.Open = actor.SeesAllLeads() || actor.CanActOnOwner(rel.OwnerID, rel.InTeam)
			d.Handed.Rows = append(d.Handed.Rows, row)
		}
	}
	if d.ShowMarketing {
		back, total, err := ws.ComingBack(ctx, now.Add(comingBackWithin), workRows)
		if err != nil {
			return err
		}
		d.ComingBack = worklist[*baton.Lead]{Rows: back, Total: total, All: "/leads?stage=recycled"}
		st := baton.StageMQL
		unowned, total, err := s.svc.Leads.FindLeads(ctx, baton.LeadFilter{Stage: &st, Unowned: true, Sort: "created", Reverse: true, Limit: workRows})
		if err != nil {
			return err
		}
		d.Unowned = worklist[*baton.Lead]{Rows: unowned, Total: total, All: "/leads?owner=none&stage=mql"}
	}
	title := "My work"
	if d.Team {
		title = "My team’s work"
		if me.Role == baton.RoleAdmin {
			title = "Work in progress"
		}
	}
	s.render(w, r, c, http.StatusOK, "work", title, d)
	return nil
}

// accountable is a SAL's row: how much of the policy's limit (within; 0 is
// none) is left since the lead was accepted.
func accountable(now time.Time, l *baton.Lead, owner *baton.User, within time.Duration) salRow {
	row := salRow{Lead: l, Owner: owner, Class: "ok", Left: "no limit"}
	if within <= 0 {
		return row
	}
	switch left := l.StageChangedAt.Add(within).Sub(now); {
	case left <= 0:
		row.Left, row.Class = "over by "+span(-left), "breached"
	case left < accountableSoon:
		row.Left, row.Class = span(left)+" left", "soon"
	default:
		row.Left = span(left) + " left"
	}
	return row
}

// days writes a policy's limit: "7 days", or "36h 0m" when not whole days.
func days(d time.Duration) string {
	switch {
	case d <= 0:
		return "none"
	case d == 24*time.Hour:
		return "1 day"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return span(d)
}

// civilDay is the day of t in loc, as midnight UTC, to compare days.
func civilDay(t time.Time, loc *time.Location) time.Time {
	y, m, dd := t.In(loc).Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
}
