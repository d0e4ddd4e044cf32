package web

import (
	"cmp"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// boardRow is one open handoff of the team.
type boardRow struct {
	Lead    *baton.Lead
	Handoff baton.Handoff
	Rep     *baton.User
	SLA     slaState
	// To are whom the viewer may reassign the lead to, in the team shown:
	// the reps whose role fits its stage (baton.CheckAssignee).
	To []*baton.User
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
	// Manager is whose team the board shows; nil is everyone's (an
	// admin's choice, and their default).
	Manager  *baton.User
	Managers []*baton.User
	Members  []*baton.User
	// Done says what the last action on the board did.
	Done     string
	Breached []boardRow
	DueSoon  []boardRow
	Later    []boardRow
	Load     []repLoad
	Stale    []*baton.Lead
	Users    map[int64]*baton.User
	// The reports, when the server has them, over Period.
	Reports    bool
	Period     boardPeriod
	Periods    []periodLink
	Funnel     reportView
	Rejections reportView
	Velocity   reportView
	// Behind is the list of the leads behind a number, when one was
	// followed (?step= or ?reason=).
	Behind *behindView
	// Close is the board's address without the list.
	Close string
}

// reportView is a report drawn on the board: its chart, its table and
// notes, or why it could not run.
type reportView struct {
	Title string
	Chart template.HTML
	// Report is the report as drawn (the rejections with readable reasons).
	Report *baton.Report
	// Steps are the funnel's steps, with their rates and links.
	Steps []funnelStep
	// Links are the rejections' links, one per reason.
	Links []string
	Error string
}

// behindView lists the leads behind a number of the board.
type behindView struct {
	Title string
	Leads *baton.ReportLeads
	Pager pager
	Error string
}

// periodLink is a preset period, as a link that picks it.
type periodLink struct {
	Label, Href string
	Current     bool
}

// boardPeriod is the period the board's reports cover, in whole days of the
// viewer's calendar, stored as midnight UTC (which date writes as that day
// in any zone): a preset (Key) or the days a user picked (Key "custom").
type boardPeriod struct {
	Key      string
	From, To time.Time // the first and the last day
	// FromValue and ToValue are the days as the form's date fields take
	// them (YYYY-MM-DD); Err says why the days asked for were not taken.
	FromValue, ToValue string
	Err                string
}

// boardPresets are the periods the board offers in one click.
var boardPresets = []struct{ key, label string }{{"week", "This week"}, {"30d", "Last 30 days"}, {"quarter", "This quarter"}}

const (
	defaultPeriod = "30d"
	// behindPer is how many leads a page of the list behind a number shows.
	behindPer = 25
	// dayFormat is how the form's date fields and the address write a day.
	dayFormat = "2006-01-02"
)

// pickPeriod reads the period from the board's address: ?period= one of
// boardPresets, or from= and to= (the first and the last day, YYYY-MM-DD;
// days that differ from the preset's are taken as a custom period, so that
// editing the days and pressing Show without JS works). Presets are of the
// viewer's calendar (a week starts on Monday). Days that do not parse, or a
// first day after the last, fall back to the default with Err.
func pickPeriod(v url.Values, now time.Time, loc *time.Location) boardPeriod {
	t := now.In(loc)
	today := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	preset := func(key string) boardPeriod {
		p := boardPeriod{Key: key, To: today}
		switch key {
		case "week":
			p.From = today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
		case "quarter":
			p.From = time.Date(today.Year(), (today.Month()-1)/3*3+1, 1, 0, 0, 0, 0, time.UTC)
		default:
			p.Key, p.From = defaultPeriod, today.AddDate(0, 0, -29)
		}
		return p
	}
	p := preset(v.Get("period"))
	from, to := strings.TrimSpace(v.Get("from")), strings.TrimSpace(v.Get("to"))
	if v.Get("period") == "custom" || (from != "" || to != "") && (from != p.From.Format(dayFormat) || to != p.To.Format(dayFormat)) {
		f, ferr := time.Parse(dayFormat, from)
		l, lerr := time.Parse(dayFormat, to)
		switch {
		case ferr != nil || lerr != nil:
			p.Err = "Give the first and the last day of the period as dates (YYYY-MM-DD)."
		case f.After(l):
			p.Err = "The first day of the period comes after the last."
		default:
			p = boardPeriod{Key: "custom", From: f, To: l}
		}
	}
	p.FromValue, p.ToValue = p.From.Format(dayFormat), p.To.Format(dayFormat)
	if p.Err != "" {
		// Show the days as they were typed, to be corrected.
		p.FromValue, p.ToValue = from, to
	}
	return p
}

// filter is the reports' filter of the period: its days are whole UTC days,
// To the day after the last.
func (p boardPeriod) filter() baton.ReportFilter {
	return baton.ReportFilter{From: p.From, To: p.To.AddDate(0, 0, 1)}
}

// query is the period in the board's address.
func (p boardPeriod) query(q url.Values) {
	q.Set("period", p.Key)
	if p.Key == "custom" {
		q.Set("from", p.From.Format(dayFormat))
		q.Set("to", p.To.Format(dayFormat))
	}
}

// dueSoon is how close a deadline must be for the board to flag it.
const dueSoon = 2 * time.Hour

func (s *Server) team(w http.ResponseWriter, r *http.Request, c *session) error {
	return s.renderTeam(w, r, c, http.StatusOK, nil, s.takeDone(w, r))
}

// renderTeam shows a manager's board: the team's open handoffs (breached,
// due soon, later) with reassignment, each rep's load, the stale SALs, and
// the team's funnel (with its step rates), rejections and velocity over a
// period, each number of the funnel and of the rejections a link to the
// leads behind it. An admin sees everyone's, or picks the manager whose
// team to see. The team and the period are in the address (?manager=,
// ?period=, ?from=&to=), so that a board can be shared.
func (s *Server) renderTeam(w http.ResponseWriter, r *http.Request, c *session, status int, fe *formErr, done string) error {
	ctx := r.Context()
	users, err := s.userNames(ctx)
	if err != nil {
		return err
	}
	v := r.URL.Query()
	if r.Method == http.MethodPost {
		v = r.PostForm
	}
	d := teamPage{Users: users, Manager: c.User, Done: done}
	for _, u := range users {
		if u.Role == baton.RoleManager && u.Active {
			d.Managers = append(d.Managers, u)
		}
	}
	slices.SortFunc(d.Managers, func(a, b *baton.User) int { return cmp.Compare(a.Name, b.Name) })
	if c.User.Role == baton.RoleAdmin {
		d.Manager = nil
		mid, _ := strconv.ParseInt(v.Get("manager"), 10, 64)
		if m := users[mid]; m != nil && m.Role == baton.RoleManager {
			d.Manager = m
		}
	}
	members := map[int64]bool{}
	for _, u := range users {
		if d.Manager == nil && u.Role.Rep() || d.Manager != nil && u.ManagerID != nil && *u.ManagerID == d.Manager.ID {
			d.Members = append(d.Members, u)
			members[u.ID] = true
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
				var to []*baton.User
				for _, u := range assignees(c.User, l, users, now) {
					if members[u.ID] {
						to = append(to, u)
					}
				}
				rows = append(rows, boardRow{Lead: l, Handoff: h, Rep: users[h.OwnerID], SLA: sla(now, &h), To: to})
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
		if d.Manager == nil || l.OwnerID != nil && (members[*l.OwnerID] || *l.OwnerID == d.Manager.ID) {
			d.Stale = append(d.Stale, l)
		}
	}
	loc := c.Loc
	if loc == nil {
		loc = time.UTC
	}
	d.Period = pickPeriod(v, now, loc)
	if s.svc.Reports != nil {
		s.boardReports(r, &d, v)
	}
	s.render(w, r, c, status, "team", "Team board", d, fe)
	return nil
}

// boardLink is the board's address for the team and period shown, with
// more parameters (name, value pairs) and a fragment.
func boardLink(d *teamPage, frag string, kv ...string) string {
	q := url.Values{}
	if d.Manager != nil {
		q.Set("manager", strconv.FormatInt(d.Manager.ID, 10))
	}
	d.Period.query(q)
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return "/team?" + q.Encode() + frag
}

// boardReports runs the board's reports over its period, within its team,
// and the list of the leads behind a number if one was followed.
func (s *Server) boardReports(r *http.Request, d *teamPage, v url.Values) {
	ctx := r.Context()
	d.Reports = true
	for _, p := range boardPresets {
		pd := *d
		pd.Period = boardPeriod{Key: p.key}
		d.Periods = append(d.Periods, periodLink{Label: p.label, Href: boardLink(&pd, "#reports"), Current: d.Period.Key == p.key})
	}
	d.Close = boardLink(d, "#reports")
	f := d.Period.filter()
	if d.Manager != nil {
		f.Manager = d.Manager.ID
	}
	run := func(fn func(context.Context, baton.ReportFilter) (*baton.Report, error)) (*baton.Report, string) {
		rep, err := fn(ctx, f)
		if err != nil {
			return nil, s.reportError(ctx, err)
		}
		return rep, ""
	}

	// The funnel, each step a link, with its rate from the step before.
	fr, ferr := run(s.svc.Reports.Funnel)
	d.Funnel = reportView{Title: "Funnel", Error: ferr, Report: fr}
	if fr != nil && len(fr.Series) > 0 {
		d.Funnel.Title = fr.Title
		vals := fr.Series[0].Values
		// A new lead has no owner until it is routed, so a team's funnel
		// would start at 0 leads: it starts at MQL.
		first := 0
		if d.Manager != nil && len(baton.FunnelSteps) > 1 {
			first = 1
			fr.Notes = append(fr.Notes, "New leads belong to no one until they are routed: a team’s funnel starts at MQL.")
		}
		for i, step := range baton.FunnelSteps {
			if i >= len(fr.Labels) || i >= len(vals) {
				break
			}
			if i < first {
				continue
			}
			st := funnelStep{Label: fr.Labels[i], Count: vals[i]}
			if i > first {
				st.Prev = fr.Labels[i-1]
				if vals[i-1] > 0 {
					st.Rate = fmt.Sprintf("%.0f%%", 100*vals[i]/vals[i-1])
				}
			}
			if vals[i] > 0 {
				st.Href = boardLink(d, "#behind", "step", step)
			}
			d.Funnel.Steps = append(d.Funnel.Steps, st)
		}
		d.Funnel.Chart = funnelChart("chart-board-funnel", fr.Title+": the leads at each step, and each step's rate from the one before", d.Funnel.Steps)
	}

	// Rejections by reason, each reason a link.
	rr, rerr := run(s.svc.Reports.Rejections)
	d.Rejections = reportView{Title: "Rejections by reason", Error: rerr}
	if rr != nil {
		shown := *rr
		shown.Labels = make([]string, len(rr.Labels))
		for i, reason := range rr.Labels {
			shown.Labels[i] = label(reason)
			d.Rejections.Links = append(d.Rejections.Links, boardLink(d, "#behind", "reason", reason))
		}
		d.Rejections.Report = &shown
		d.Rejections.Chart = bars(&shown, []int{0}, func(i int) string { return d.Rejections.Links[i] })
	}

	// Velocity: the median and the 90th percentile, in hours.
	vr, verr := run(s.svc.Reports.Velocity)
	d.Velocity = reportView{Title: "Velocity", Error: verr, Report: vr}
	if vr != nil {
		d.Velocity.Chart = barChart(vr, []int{0, 1})
	}

	// The leads behind a number.
	step, reason := v.Get("step"), v.Get("reason")
	if r.Method != http.MethodGet || step == "" && reason == "" {
		return
	}
	b := &behindView{}
	cell := baton.ReportCell{Report: baton.ReportFunnel, Step: step}
	b.Title = step
	if i := slices.Index(baton.FunnelSteps, step); i >= 0 && fr != nil && i < len(fr.Labels) {
		b.Title = fr.Labels[i]
	}
	if step == "" {
		cell = baton.ReportCell{Report: baton.ReportRejections, Reason: reason}
		b.Title = "Rejected: " + label(reason)
	}
	page := pageNum(r)
	lf := f
	lf.Limit, lf.Offset = behindPer, (page-1)*behindPer
	res, err := s.svc.Reports.ReportLeads(ctx, lf, cell)
	if err != nil {
		b.Error = s.reportError(ctx, err)
	} else {
		b.Leads = res
		b.Pager = newPager(r, page, behindPer, res.Total-res.Hidden)
		for _, l := range []*string{&b.Pager.Prev, &b.Pager.Next} {
			if *l != "" {
				*l += "#behind"
			}
		}
	}
	d.Behind = b
}

// reportError is what a page shows in place of a report that failed; an
// internal error is logged, not shown.
func (s *Server) reportError(ctx context.Context, err error) string {
	if baton.ErrorCode(err) == baton.EINTERNAL {
		s.logger.ErrorContext(ctx, "report", "err", err)
	}
	return baton.ErrorMessage(err)
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
		return chartBlock{Error: s.reportError(ctx, err)}
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
