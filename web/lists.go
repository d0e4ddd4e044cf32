package web

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// The lead list: filters, sortable columns, pages with totals, each user's
// saved views, bulk reassignment for managers and admins, and the CSV export
// of what the list shows. Its state lives in its address (a GET form), so
// that every view can be linked, saved, exported and reloaded, and all of it
// works without a script.

// LeadExporter is implemented by a LeadService that streams every lead of a
// filter in its order (*store.DB does); the list's CSV export needs it.
type LeadExporter interface {
	EachLead(ctx context.Context, f baton.LeadFilter, fn func(*baton.Lead) error) error
}

func (s *Server) listRoutes(mux *http.ServeMux) {
	managers := []baton.Role{baton.RoleManager, baton.RoleAdmin}
	mux.Handle("GET /leads", s.page(s.leadList))
	mux.Handle("GET /leads/export", s.page(s.exportLeads))
	mux.Handle("POST /leads/views", s.page(s.saveView))
	mux.Handle("POST /leads/views/{id}/delete", s.page(s.deleteView))
	// Storage decides again, lead by lead, whether the move is allowed.
	mux.Handle("POST /leads/reassign", s.page(s.bulkReassign, managers...))
}

const leadsPer = 50

// listQuery is the lead list's state as its address says it.
type listQuery struct {
	Q, Stage, Source, Campaign string
	// Owner is "" (anyone), "none" (nobody) or a user's id.
	Owner string
	// From and To are days (YYYY-MM-DD) in the viewer's zone, both
	// included.
	From, To string
	// Sort is a column (baton.LeadSorts; "" is created); Dir "asc" or
	// "desc", "" for the column's own direction.
	Sort, Dir string
	Page      int
}

// listKeys are the parameters of a list's state, in the order of its
// canonical query string.
var listKeys = []string{"q", "stage", "owner", "source", "campaign", "from", "to", "sort", "dir"}

func parseListQuery(v url.Values) listQuery {
	get := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	lq := listQuery{Q: get("q"), Stage: get("stage"), Owner: get("owner"), Source: get("source"), Campaign: get("campaign"),
		From: get("from"), To: get("to"), Sort: get("sort"), Dir: get("dir")}
	lq.Page, _ = strconv.Atoi(v.Get("page"))
	lq.Page = max(lq.Page, 1)
	return lq
}

// values is the list's state without its page: what a saved view keeps and
// what the pages, the column heads and the export link to.
func (lq listQuery) values() url.Values {
	v := url.Values{}
	for i, x := range []string{lq.Q, lq.Stage, lq.Owner, lq.Source, lq.Campaign, lq.From, lq.To, lq.Sort, lq.Dir} {
		if x != "" {
			v.Set(listKeys[i], x)
		}
	}
	return v
}

// link is the list's address with the page.
func (lq listQuery) link(page int) string {
	v := lq.values()
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return "/leads"
	}
	return "/leads?" + v.Encode()
}

// downwards reports whether a column's own order is from the top down:
// newest, highest; names run A to Z.
func downwards(sort string) bool { return sort != "name" }

// desc reports whether the list runs downwards.
func (lq listQuery) desc() bool {
	switch lq.Dir {
	case "asc":
		return false
	case "desc":
		return true
	}
	return downwards(lq.Sort)
}

// filter is the storage filter of the list, days read in loc. A field that
// is not understood is left out of the filter and returned as the error
// (the first one), so that the page still shows the rest.
func (lq listQuery) filter(loc *time.Location) (baton.LeadFilter, error) {
	f := baton.LeadFilter{Query: lq.Q, Limit: leadsPer, Offset: (lq.Page - 1) * leadsPer}
	var first error
	bad := func(err error) {
		if first == nil {
			first = err
		}
	}
	if lq.Stage != "" {
		if st, err := baton.ParseStage("stage", lq.Stage); err != nil {
			bad(err)
		} else {
			f.Stage = &st
		}
	}
	switch lq.Owner {
	case "":
	case "none":
		f.Unowned = true
	default:
		if id, err := strconv.ParseInt(lq.Owner, 10, 64); err != nil || id <= 0 {
			bad(baton.FieldError("owner", "choose an owner from the list"))
		} else {
			f.OwnerID = &id
		}
	}
	if lq.Source != "" {
		f.Source = &lq.Source
	}
	if lq.Campaign != "" {
		f.Campaign = &lq.Campaign
	}
	day := func(field, v string) *time.Time {
		if v == "" {
			return nil
		}
		t, err := time.ParseInLocation(time.DateOnly, v, loc)
		if err != nil {
			bad(baton.FieldError(field, "must be a day (YYYY-MM-DD)"))
			return nil
		}
		return &t
	}
	f.CreatedAfter = day("from", lq.From)
	if to := day("to", lq.To); to != nil {
		if f.CreatedAfter != nil && to.Before(*f.CreatedAfter) {
			bad(baton.FieldError("to", "is before from: the range would be empty"))
		} else {
			next := to.AddDate(0, 0, 1) // the day is included
			f.CreatedBefore = &next
		}
	}
	switch {
	case lq.Sort == "":
	case slices.Contains(baton.LeadSorts, lq.Sort):
		f.Sort = lq.Sort
	default:
		bad(baton.FieldError("sort", "unknown column %q", lq.Sort))
	}
	if lq.Dir != "" && lq.Dir != "asc" && lq.Dir != "desc" {
		bad(baton.FieldError("dir", "is asc or desc"))
	}
	f.Reverse = lq.desc() != downwards(f.Sort)
	return f, first
}

// sortCol is a sortable column's head: a link that sorts by it, or turns
// the order around when the list is sorted by it already.
type sortCol struct {
	Label, Link string
	// Sorted is the column's aria-sort ("ascending", "descending") when
	// the list is sorted by it, "" when not.
	Sorted string
	Num    bool
}

func (lq listQuery) column(label, sort string, num bool) sortCol {
	cur := lq.Sort
	if cur == "" {
		cur = "created"
	}
	next := lq
	next.Sort, next.Dir = sort, ""
	c := sortCol{Label: label, Num: num}
	if cur == sort {
		c.Sorted = "ascending"
		if lq.desc() {
			c.Sorted = "descending"
		}
		next.Dir = "desc"
		if lq.desc() {
			next.Dir = "asc"
		}
	}
	if next.Sort == "created" && next.Dir == "" {
		next.Sort = "" // the list's own order has the shortest address
	}
	c.Link = next.link(1)
	return c
}

// listRow is one lead of the list.
type listRow struct {
	Lead  *baton.Lead
	Owner *baton.User
	// Pick: the viewer may give the lead to someone (a box to tick).
	Pick bool
}

// bulkResult is what a bulk reassignment did.
type bulkResult struct {
	To       string
	Done     int
	Refused  []refusal
	Assigned []int64
}

// refusal is a lead a bulk reassignment left alone, and why.
type refusal struct {
	Lead *baton.Lead
	ID   int64
	Why  string
}

// viewLink is a saved view in the list of them, with its address.
type viewLink struct {
	View    *baton.SavedView
	Link    string
	Current bool
}

// leadListPage is the data of the lead list.
type leadListPage struct {
	Query     listQuery
	Canonical string // the state's query string, for saving and exporting
	Here      string // and with its page, to come back to after a form
	Rows      []listRow
	Cols      []sortCol
	Range     string // "1–50 of 6,421"
	Total     string // "6,421"
	Prev      string
	Next      string
	Export    string
	Owners    []*baton.User
	NoOwner   bool // "nobody" may be chosen as the owner
	Sources   []string
	Campaigns []string
	// Views are the viewer's saved views (Saving: the store keeps them);
	// Current the one whose filters the list shows, if any.
	Saving  bool
	Views   []viewLink
	Current *baton.SavedView
	Notice  string
	// Bulk: the viewer may reassign leads in bulk, to one of Assignees.
	Bulk      bool
	Assignees []*baton.User
	Result    *bulkResult
}

// leadList lists the leads the user may see, filtered, sorted and paged.
func (s *Server) leadList(w http.ResponseWriter, r *http.Request, c *session) error {
	return s.renderList(w, r, c, http.StatusOK, r.URL.Query(), nil, nil)
}

// renderList shows the list in the state q; fe is a form's refusal, res a
// bulk reassignment's result.
func (s *Server) renderList(w http.ResponseWriter, r *http.Request, c *session, status int, q url.Values, fe *formErr, res *bulkResult) error {
	ctx := r.Context()
	lq := parseListQuery(q)
	f, ferr := lq.filter(loc(c))
	if ferr != nil && fe == nil {
		fe = newFormErr("filter", 0, ferr, q)
		status = http.StatusBadRequest
	}
	leads, total, err := s.svc.Leads.FindLeads(ctx, f)
	if err != nil {
		return err
	}
	users, err := s.userNames(ctx)
	if err != nil {
		return err
	}
	d := leadListPage{Query: lq, Canonical: lq.values().Encode(), Total: thousands(total), Result: res,
		Bulk: c.User.Role == baton.RoleManager || c.User.Role == baton.RoleAdmin}
	d.Here = strings.TrimPrefix(strings.TrimPrefix(lq.link(lq.Page), "/leads"), "?")
	d.Export = "/leads/export"
	if d.Canonical != "" {
		d.Export += "?" + d.Canonical
	}
	d.Cols = []sortCol{lq.column("Lead", "name", false), lq.column("Fit", "fit", true), lq.column("Engagement", "engagement", true),
		lq.column("Probability", "probability", true), lq.column("Created", "created", false)}
	from := f.Offset + 1
	if len(leads) == 0 {
		d.Range = "0 of " + thousands(total)
	} else {
		d.Range = thousands(from) + "–" + thousands(f.Offset+len(leads)) + " of " + thousands(total)
	}
	if lq.Page > 1 {
		d.Prev = lq.link(min(lq.Page-1, max(1, (total+leadsPer-1)/leadsPer)))
	}
	if f.Offset+len(leads) < total {
		d.Next = lq.link(lq.Page + 1)
	}
	now := s.now()
	offered := map[int64]*baton.User{}
	for _, l := range leads {
		row := listRow{Lead: l}
		if l.OwnerID != nil {
			row.Owner = users[*l.OwnerID]
		}
		if d.Bulk && offerOf(c.User, l, relation(c.User, l, users), false).Assign != "" {
			for _, u := range assignees(c.User, l, users, now) {
				offered[u.ID] = u
				row.Pick = true
			}
		}
		d.Rows = append(d.Rows, row)
	}
	for _, u := range offered {
		d.Assignees = append(d.Assignees, u)
	}
	slices.SortFunc(d.Assignees, byName)
	d.Owners, d.NoOwner = owners(c.User, users)
	if ws, ok := s.svc.Leads.(baton.WorkService); ok {
		if d.Sources, d.Campaigns, err = ws.LeadChoices(ctx); err != nil {
			return err
		}
	}
	// A value typed in the address stays choosable.
	if lq.Source != "" && !slices.Contains(d.Sources, lq.Source) {
		d.Sources = append(d.Sources, lq.Source)
	}
	if lq.Campaign != "" && !slices.Contains(d.Campaigns, lq.Campaign) {
		d.Campaigns = append(d.Campaigns, lq.Campaign)
	}
	if vs, ok := s.svc.Leads.(baton.SavedViewService); ok {
		d.Saving = true
		views, err := vs.FindViews(ctx)
		if err != nil {
			return err
		}
		saved, _ := strconv.ParseInt(q.Get("saved"), 10, 64)
		for _, v := range views {
			vq, _ := url.ParseQuery(v.Query)
			d.Views = append(d.Views, viewLink{View: v, Link: parseListQuery(vq).link(1), Current: v.Query == d.Canonical})
			if v.Query == d.Canonical {
				d.Current = v
			}
			// The confirmation names the view from storage, not from
			// the link.
			if v.ID == saved {
				d.Notice = "View “" + v.Name + "” saved: open it from Saved views."
			}
		}
	}
	if q.Get("deleted") == "1" {
		d.Notice = "Saved view deleted."
	}
	s.render(w, r, c, status, "leads", "Leads", d, fe)
	return nil
}

// loc is the zone the viewer reads dates in.
func loc(c *session) *time.Location {
	if c != nil && c.Loc != nil {
		return c.Loc
	}
	return time.UTC
}

func byName(a, b *baton.User) int {
	return cmp.Or(strings.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
}

// owners are the users whose leads the viewer may ask for, by name: a
// manager's team and themselves, or every sales user for those who read
// every lead (who may also ask for the leads nobody owns). A rep reads only
// their own leads: no choice.
func owners(me *baton.User, users map[int64]*baton.User) ([]*baton.User, bool) {
	var out []*baton.User
	all := baton.ActorOf(me, "ui").SeesAllLeads()
	for _, u := range users {
		switch {
		case all && (u.Role.Rep() || u.Role == baton.RoleManager),
			me.Role == baton.RoleManager && (u.ID == me.ID || u.ManagerID != nil && *u.ManagerID == me.ID):
			out = append(out, u)
		}
	}
	slices.SortFunc(out, byName)
	return out, all
}

// thousands writes a count with thousands separators: 6,421.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// saveView saves the list's state under a name, as the viewer's view.
func (s *Server) saveView(w http.ResponseWriter, r *http.Request, c *session) error {
	vs, ok := s.svc.Leads.(baton.SavedViewService)
	if !ok {
		return baton.Errorf(baton.ENOTFOUND, "saved views are not available on this server")
	}
	q, _ := url.ParseQuery(r.PostForm.Get("query"))
	// Only the list's own parameters are kept, in one order, so that the
	// same filters are the same view.
	canonical := parseListQuery(q).values().Encode()
	v := &baton.SavedView{Name: r.PostForm.Get("name"), Query: canonical}
	if err := vs.SaveView(r.Context(), v); err != nil {
		if baton.ErrorCode(err) != baton.EINVALID {
			return err
		}
		return s.renderList(w, r, c, statusFor(err), q, newFormErr("view", 0, err, r.PostForm), nil)
	}
	back := url.Values{"saved": {strconv.FormatInt(v.ID, 10)}}
	to := "/leads?" + back.Encode()
	if canonical != "" {
		to += "&" + canonical
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// deleteView deletes one of the viewer's views and goes back to the list.
func (s *Server) deleteView(w http.ResponseWriter, r *http.Request, c *session) error {
	vs, ok := s.svc.Leads.(baton.SavedViewService)
	if !ok {
		return baton.Errorf(baton.ENOTFOUND, "saved views are not available on this server")
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return baton.Errorf(baton.ENOTFOUND, "no saved view %s", r.PathValue("id"))
	}
	if err := vs.DeleteView(r.Context(), id); err != nil {
		return err
	}
	q, _ := url.ParseQuery(r.PostForm.Get("query"))
	to := "/leads?deleted=1"
	if canonical := parseListQuery(q).values().Encode(); canonical != "" {
		to += "&" + canonical
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// maxBulk is the most leads one bulk reassignment takes: a few pages.
const maxBulk = 200

// bulkReassign gives the ticked leads to one user, each through the
// HandoffService's Assign (the API's), and shows the list again with what it
// did. A lead the lifecycle does not let the viewer give away, or that
// baton.CheckAssignee says the user may not take, is refused and named with
// why; so is one storage refuses (a race, a rule).
func (s *Server) bulkReassign(w http.ResponseWriter, r *http.Request, c *session) error {
	ctx := r.Context()
	q, _ := url.ParseQuery(r.PostForm.Get("query"))
	refuse := func(field, msg string) error {
		return s.renderList(w, r, c, http.StatusBadRequest, q, newFormErr("bulk", 0, baton.FieldError(field, "%s", msg), r.PostForm), nil)
	}
	var ids []int64
	for _, v := range r.PostForm["lead"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return refuse("lead", "the form is incomplete: reload the page")
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	switch {
	case len(ids) == 0:
		return refuse("lead", "tick the leads to reassign")
	case len(ids) > maxBulk:
		return refuse("lead", fmt.Sprintf("%d leads ticked: at most %d at a time", len(ids), maxBulk))
	}
	users, err := s.userNames(ctx)
	if err != nil {
		return err
	}
	uid, _ := strconv.ParseInt(r.PostForm.Get("user_id"), 10, 64)
	to := users[uid]
	if to == nil {
		return refuse("user_id", "choose who gets the leads")
	}
	note := strings.TrimSpace(r.PostForm.Get("note"))
	actor := baton.ActorOf(c.User, "ui")
	now := s.now()
	res := &bulkResult{To: to.Name}
	for _, id := range ids {
		l, err := s.svc.Leads.FindLeadByID(ctx, id)
		if err != nil {
			if baton.ErrorCode(err) == baton.EINTERNAL {
				return err
			}
			res.Refused = append(res.Refused, refusal{ID: id, Why: baton.ErrorMessage(err)})
			continue
		}
		if err := mayGive(actor, l, relation(c.User, l, users)); err != nil {
			res.Refused = append(res.Refused, refusal{Lead: l, ID: id, Why: baton.ErrorMessage(err)})
			continue
		}
		if err := baton.CheckAssignee(actor, l, to, now); err != nil {
			res.Refused = append(res.Refused, refusal{Lead: l, ID: id, Why: baton.ErrorMessage(err)})
			continue
		}
		if _, err := s.svc.Handoffs.Assign(ctx, id, to.ID, note); err != nil {
			if baton.ErrorCode(err) == baton.EINTERNAL {
				return err
			}
			res.Refused = append(res.Refused, refusal{Lead: l, ID: id, Why: baton.ErrorMessage(err)})
			continue
		}
		res.Done++
		res.Assigned = append(res.Assigned, id)
	}
	return s.renderList(w, r, c, http.StatusOK, q, nil, res)
}

// mayGive returns nil if the lifecycle lets the actor give the lead to
// someone (assign it, or reassign it), else the rule's refusal.
func mayGive(a baton.Actor, l *baton.Lead, rel baton.Relation) error {
	var why error
	for _, rule := range baton.Rules {
		if rule.From != l.Stage || (rule.Verb != baton.VerbAssign && rule.Verb != baton.VerbReassign) {
			continue
		}
		if rule.Need(baton.NeedUnowned) != (l.OwnerID == nil) {
			continue
		}
		if why = rule.Allows(a, rel); why == nil {
			return nil
		}
	}
	if why == nil {
		why = baton.Errorf(baton.ECONFLICT, "a lead that is %s is not given to anyone", l.Stage)
	}
	return why
}

// exportLeads writes every lead of the list's state as CSV, in its order,
// streamed a page of the store at a time, by baton.CSVWriter (cells that
// a spreadsheet would run as a formula are written as text). Times are RFC 3339 in the viewer's
// zone: a machine's format, which every spreadsheet reads.
func (s *Server) exportLeads(w http.ResponseWriter, r *http.Request, c *session) error {
	ex, ok := s.svc.Leads.(LeadExporter)
	if !ok {
		return baton.Errorf(baton.ENOTFOUND, "the export is not available on this server")
	}
	ctx := r.Context()
	lq := parseListQuery(r.URL.Query())
	f, err := lq.filter(loc(c))
	if err != nil {
		return err
	}
	if f.Sort == "" {
		f.Sort = "created" // the list's own order; EachLead's own is by id
	}
	// Lead data leaving Baton is audited, before a row leaves.
	if s.svc.Audit != nil {
		if err := s.svc.Audit.RecordExport(ctx, "leads", lq.values().Encode()); err != nil {
			return err
		}
	}
	users, err := s.userNames(ctx)
	if err != nil {
		return err
	}
	zone := loc(c)
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="leads-`+s.now().In(zone).Format(time.DateOnly)+`.csv"`)
	cw := baton.NewCSVWriter(w)
	cw.Write([]string{"id", "name", "email", "external_id", "title", "phone", "company", "country", "source", "campaign",
		"stage", "owner", "owner_email", "fit", "engagement", "probability", "created_at", "stage_changed_at"})
	n := 0
	err = ex.EachLead(ctx, f, func(l *baton.Lead) error {
		var owner, ownerEmail string
		if l.OwnerID != nil {
			if u := users[*l.OwnerID]; u != nil {
				owner, ownerEmail = u.Name, u.Email
			}
		}
		var p string
		if l.Score.Probability != nil {
			p = strconv.FormatFloat(*l.Score.Probability, 'f', 4, 64)
		}
		rec := []string{strconv.FormatInt(l.ID, 10), l.Name, l.Email, l.ExternalID, l.Title, l.Phone, l.Company, l.Country,
			l.Source, l.Campaign, string(l.Stage), owner, ownerEmail,
			strconv.FormatFloat(l.Score.Fit, 'f', -1, 64), strconv.FormatFloat(l.Score.Engagement, 'f', 2, 64), p,
			l.CreatedAt.In(zone).Format(time.RFC3339), l.StageChangedAt.In(zone).Format(time.RFC3339)}
		if err := cw.Write(rec); err != nil {
			return err
		}
		if n++; n%500 == 0 {
			cw.Flush()
			if fl, ok := w.(http.Flusher); ok {
				fl.Flush()
			}
		}
		return cw.Error()
	})
	if err == nil {
		cw.Flush()
		err = cw.Error()
	}
	if err != nil {
		if n == 0 {
			// Nothing was sent yet (the header line waits in the
			// writer's buffer): an error page instead of a file.
			h.Del("Content-Disposition")
			return err
		}
		// A file cut short must not look whole: break the response.
		s.logger.ErrorContext(ctx, "export leads", "rows", n, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}
