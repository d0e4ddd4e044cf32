package web

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/batonhq/baton"
)

// boardRow is one open handoff of the team.
type boardRow struct {
	Lead    *baton.Lead
	Handoff baton.Handoff
	Rep     *baton.User
	SLA     slaState
}

// repLoad counts a rep's open handoffs.
type repLoad struct {
	Rep                     *baton.User
	Open, Breached, DueSoon int
}

// chartBlock is one report on a page: the report, the series drawn, or
// the error that kept it from running.
type chartBlock struct {
	Report *baton.Report
	Series []int
	Error  string
}

type teamPage struct {
	Manager  *baton.User
	Managers []*baton.User
	Members  []*baton.User
	Breached []boardRow
	DueSoon  []boardRow
	Later    []boardRow
	Load     []repLoad
	Stale    []*baton.Lead
	Users    map[int64]*baton.User
	Charts   []chartBlock
	Reports  bool
	Since    time.Time
}

// dueSoon is how close a deadline must be for the board to flag it.
const dueSoon = 2 * time.Hour

func (s *Server) team(w http.ResponseWriter, r *http.Request, c *session) error {
	return s.renderTeam(w, r, c, http.StatusOK, nil)
}

// renderTeam shows a manager's SLA board: the team's open handoffs
// (breached, due soon, later) with reassignment, each rep's load, the stale
// SALs and the funnel, velocity and rejection charts. An admin picks the
// manager whose team to see.
func (s *Server) renderTeam(w http.ResponseWriter, r *http.Request, c *session, status int, fe *formErr) error {
	ctx := r.Context()
	users, err := s.userNames(ctx)
	if err != nil {
		return err
	}
	d := teamPage{Users: users, Manager: c.User}
	for _, u := range users {
		if u.Role == baton.RoleManager && u.Active {
			d.Managers = append(d.Managers, u)
		}
	}
	slices.SortFunc(d.Managers, func(a, b *baton.User) int { return cmp.Compare(a.Name, b.Name) })
	if c.User.Role == baton.RoleAdmin {
		d.Manager = nil
		mid, _ := strconv.ParseInt(r.URL.Query().Get("manager"), 10, 64)
		if r.Method == http.MethodPost {
			mid, _ = strconv.ParseInt(r.PostForm.Get("manager"), 10, 64)
		}
		if m := users[mid]; m != nil && m.Role == baton.RoleManager {
			d.Manager = m
		} else if len(d.Managers) > 0 {
			d.Manager = d.Managers[0]
		}
	}
	members := map[int64]bool{}
	if d.Manager != nil {
		for _, u := range users {
			if u.ManagerID != nil && *u.ManagerID == d.Manager.ID {
				d.Members = append(d.Members, u)
				members[u.ID] = true
			}
		}
	}
	slices.SortFunc(d.Members, func(a, b *baton.User) int { return cmp.Compare(a.Name, b.Name) })
	now := s.now()
	load := map[int64]*repLoad{}
	for _, u := range d.Members {
		load[u.ID] = &repLoad{Rep: u}
	}
	var rows []boardRow
	for _, st := range []baton.Stage{baton.StageMQL, baton.StageSQL} {
		leads, err := s.teamLeads(ctx, st, members)
		if err != nil {
			return err
		}
		for _, l := range leads {
			hs, err := s.svc.Handoffs.Handoffs(ctx, l.ID)
			if err != nil {
				return err
			}
			for _, h := range hs {
				if h.State != baton.HandoffOpen || !members[h.OwnerID] {
					continue
				}
				rows = append(rows, boardRow{Lead: l, Handoff: h, Rep: users[h.OwnerID], SLA: sla(now, &h)})
			}
		}
	}
	slices.SortFunc(rows, func(a, b boardRow) int { return a.Handoff.DueAt.Compare(b.Handoff.DueAt) })
	for _, row := range rows {
		ld := load[row.Handoff.OwnerID]
		ld.Open++
		switch left := row.Handoff.DueAt.Sub(now); {
		case left <= 0:
			d.Breached = append(d.Breached, row)
			ld.Breached++
		case left <= dueSoon:
			d.DueSoon = append(d.DueSoon, row)
			ld.DueSoon++
		default:
			d.Later = append(d.Later, row)
		}
	}
	for _, u := range d.Members {
		if u.Role.Rep() {
			d.Load = append(d.Load, *load[u.ID])
		}
	}
	stale, err := s.svc.Handoffs.StaleSALs(ctx)
	if err != nil {
		return err
	}
	for _, l := range stale {
		if l.OwnerID != nil && (members[*l.OwnerID] || (d.Manager != nil && *l.OwnerID == d.Manager.ID)) {
			d.Stale = append(d.Stale, l)
		}
	}
	d.Since = now.AddDate(0, 0, -90)
	if s.svc.Reports != nil {
		d.Reports = true
		f := baton.ReportFilter{From: d.Since, To: now}
		d.Charts = append(d.Charts,
			s.chart(ctx, func() (*baton.Report, error) { return s.svc.Reports.Funnel(ctx, f) }, 0),
			s.chart(ctx, func() (*baton.Report, error) { return s.svc.Reports.Velocity(ctx, f) }, 0, 1),
			s.chart(ctx, func() (*baton.Report, error) { return s.svc.Reports.Rejections(ctx, f) }, 0))
	}
	s.render(w, r, c, status, "team", "Team SLA board", d, fe)
	return nil
}

// teamLeads returns the leads in a stage owned by the team's members.
func (s *Server) teamLeads(ctx context.Context, st baton.Stage, members map[int64]bool) ([]*baton.Lead, error) {
	var out []*baton.Lead
	for id := range members {
		leads, _, err := s.svc.Leads.FindLeads(ctx, baton.LeadFilter{Stage: &st, OwnerID: &id, Limit: 200})
		if err != nil {
			return nil, err
		}
		out = append(out, leads...)
	}
	return out, nil
}

// chart runs a report for a page; a report that fails shows its error in
// its place instead of failing the page.
func (s *Server) chart(ctx context.Context, run func() (*baton.Report, error), series ...int) chartBlock {
	rep, err := run()
	if err != nil {
		if baton.ErrorCode(err) == baton.EINTERNAL {
			s.logger.ErrorContext(ctx, "report", "err", err)
		}
		return chartBlock{Error: baton.ErrorMessage(err)}
	}
	return chartBlock{Report: rep, Series: series}
}
