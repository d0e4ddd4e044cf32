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

// awayRoutes serves the out-of-office page and its forms. Storage decides
// whose absence the viewer may set (their own, their reports' as a manager,
// anyone's as an admin); the page offers only those.
func (s *Server) awayRoutes(mux *http.ServeMux) {
	mux.Handle("GET /away", s.page(s.away))
	mux.Handle("POST /away", s.page(s.setAway))
	mux.Handle("POST /away/end", s.page(s.endAway))
}

// awayRow is a person whose absence the viewer may set.
type awayRow struct {
	User *baton.User
	Away bool
}

type awayPage struct {
	Rows []awayRow
	// Everyone is every active user, for an admin's choice of whom to set
	// an absence for; Picker is the key of that form's errors (0, as an
	// int64 for the template's functions).
	Everyone []*baton.User
	Picker   int64
}

func (s *Server) away(w http.ResponseWriter, r *http.Request, c *session) error {
	return s.renderAway(w, r, c, http.StatusOK, nil)
}

// renderAway shows the viewer's own absence, and their reports' (a
// manager) or everyone's who is away (an admin), each with a form to set a
// return date and a button to end it.
func (s *Server) renderAway(w http.ResponseWriter, r *http.Request, c *session, status int, fe *formErr) error {
	users, _, err := s.svc.Users.FindUsers(r.Context(), baton.UserFilter{Limit: 1000})
	if err != nil {
		return err
	}
	now := s.now()
	slices.SortFunc(users, func(a, b *baton.User) int { return cmp.Compare(a.Name, b.Name) })
	me := c.User
	var d awayPage
	for _, u := range users {
		if u.ID == me.ID {
			me = u
		}
	}
	d.Rows = append(d.Rows, awayRow{me, me.Away(now)})
	for _, u := range users {
		if me.Role == baton.RoleAdmin && u.Active {
			d.Everyone = append(d.Everyone, u)
		}
		if u.ID == me.ID {
			continue
		}
		reports := me.Role == baton.RoleManager && u.ManagerID != nil && *u.ManagerID == me.ID
		if reports || me.Role == baton.RoleAdmin && u.Away(now) {
			d.Rows = append(d.Rows, awayRow{u, u.Away(now)})
		}
	}
	s.render(w, r, c, status, "away", "Out of office", d, fe)
	return nil
}

// awayTarget reads the user a form of the out-of-office page is about, and
// the row of the page that shows its errors (0: an admin's choice).
func awayTarget(r *http.Request) (id, row int64, err error) {
	row, _ = strconv.ParseInt(r.PostForm.Get("row"), 10, 64)
	id, perr := strconv.ParseInt(r.PostForm.Get("user_id"), 10, 64)
	if perr != nil || id <= 0 {
		return 0, row, baton.FieldError("user_id", "choose a user")
	}
	return id, row, nil
}

// setAway sets a user's return date and note.
func (s *Server) setAway(w http.ResponseWriter, r *http.Request, c *session) error {
	id, row, err := awayTarget(r)
	if err == nil {
		_, err = s.svc.Users.SetOutOfOffice(r.Context(), id, baton.OutOfOffice{Until: r.PostForm.Get("until"), Note: r.PostForm.Get("note")})
	}
	if err != nil {
		if baton.ErrorCode(err) != baton.EINVALID {
			return err
		}
		return s.renderAway(w, r, c, statusFor(err), newFormErr("away", row, err, r.PostForm))
	}
	redirect(w, r, "/away", "user")
	return nil
}

// endAway ends a user's absence now.
func (s *Server) endAway(w http.ResponseWriter, r *http.Request, c *session) error {
	id, _, err := awayTarget(r)
	if err != nil {
		return err
	}
	if _, err := s.svc.Users.EndOutOfOffice(r.Context(), id); err != nil {
		return err
	}
	redirect(w, r, "/away", "user")
	return nil
}
