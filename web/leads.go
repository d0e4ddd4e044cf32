package web

import (
	"cmp"
	"context"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

func (s *Server) routes(mux *http.ServeMux) {
	all := []baton.Role{}
	managers := []baton.Role{baton.RoleManager, baton.RoleAdmin}
	marketers := []baton.Role{baton.RoleMarketing, baton.RoleAdmin}
	admins := []baton.Role{baton.RoleAdmin}
	mux.Handle("GET /{$}", s.page(s.home, all...))
	mux.Handle("POST /signout", s.page(s.signout, all...))
	mux.Handle("GET /inbox", s.page(s.inbox))
	s.awayRoutes(mux)
	s.profileRoutes(mux)
	mux.Handle("POST /notifications/{id}/read", s.page(s.markRead))
	mux.Handle("GET /leads", s.page(s.leadList))
	mux.Handle("GET /leads/{id}", s.page(s.leadPage))
	mux.Handle("POST /leads/{id}/accept", s.page(s.oneClick("accept", "accepted", s.svc.Handoffs.Accept)))
	mux.Handle("POST /leads/{id}/reject", s.page(s.reject))
	mux.Handle("POST /leads/{id}/attempts", s.page(s.logAttempt))
	mux.Handle("POST /leads/{id}/notes", s.page(s.addNote))
	mux.Handle("POST /leads/{id}/qualify", s.page(s.qualify))
	mux.Handle("POST /leads/{id}/send-back", s.page(s.withReason("sendback", "sentback", s.svc.Handoffs.SendBack)))
	mux.Handle("POST /leads/{id}/recycle", s.page(s.withReason("recycle", "recycled", s.svc.Handoffs.Recycle)))
	mux.Handle("POST /leads/{id}/convert", s.page(s.convert))
	mux.Handle("POST /leads/{id}/close", s.page(s.closeLead))
	mux.Handle("POST /leads/{id}/claim", s.page(s.oneClick("claim", "claimed", s.svc.Handoffs.Claim)))
	// Who may make a move is the lifecycle table's to say, in storage:
	// these routes take every role.
	mux.Handle("POST /leads/{id}/assign", s.page(s.assign))
	mux.Handle("GET /team", s.page(s.team, managers...))
	mux.Handle("GET /policy", s.page(s.policyPage))
	mux.Handle("POST /policy", s.page(s.policyAction, marketers...))
	mux.Handle("POST /policy/publish", s.page(s.publish, marketers...))
	mux.Handle("GET /recycled", s.page(s.recycled, marketers...))
	mux.Handle("GET /admin/users", s.page(s.adminUsers, admins...))
	mux.Handle("POST /admin/users/{id}/password", s.page(s.setPassword, admins...))
	mux.Handle("GET /admin/tokens", s.page(s.adminTokens, admins...))
	mux.Handle("POST /admin/tokens", s.page(s.createToken, admins...))
	mux.Handle("POST /admin/users/{id}", s.page(s.updateUser, admins...))
	mux.Handle("GET /admin/webhooks", s.page(s.adminWebhooks, admins...))
	mux.Handle("POST /admin/webhooks", s.page(s.createWebhook, admins...))
	mux.Handle("POST /admin/webhooks/{id}/active", s.page(s.toggleWebhook, admins...))
	mux.Handle("GET /admin/calendars", s.page(s.adminCalendars, admins...))
	mux.Handle("POST /admin/calendars", s.page(s.setCalendar, admins...))
}

// pathID reads the {id} of the path.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, baton.Errorf(baton.ENOTFOUND, "there is no %s", r.URL.Path)
	}
	return id, nil
}

// pageNum reads ?page= (1-based).
func pageNum(r *http.Request) int {
	p, _ := strconv.Atoi(r.URL.Query().Get("page"))
	return max(p, 1)
}

// pager is the data of a list's page links.
type pager struct {
	Page, Pages, Total int
	Prev, Next         string
}

func newPager(r *http.Request, page, per, total int) pager {
	p := pager{Page: page, Total: total, Pages: max(1, (total+per-1)/per)}
	link := func(n int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(n))
		q.Del("msg")
		return r.URL.Path + "?" + q.Encode()
	}
	if page > 1 {
		p.Prev = link(page - 1)
	}
	if page < p.Pages {
		p.Next = link(page + 1)
	}
	return p
}

// userNames maps user ids to users, for owners and handoffs.
func (s *Server) userNames(ctx context.Context) (map[int64]*baton.User, error) {
	users, _, err := s.svc.Users.FindUsers(ctx, baton.UserFilter{Limit: 1000})
	if err != nil {
		return nil, err
	}
	m := make(map[int64]*baton.User, len(users))
	for _, u := range users {
		m[u.ID] = u
	}
	return m, nil
}

// explained is a lead's score with its top reasons.
type explained struct {
	Reasons []baton.ScoreReason
	Factors []baton.ProbabilityFactor
	Why     string
}

// explain returns the top n rules and model factors of a lead's score, by
// size of their part.
func (s *Server) explain(ctx context.Context, leadID int64, n int) (*explained, error) {
	ex, err := s.svc.Scoring.ExplainScore(ctx, leadID)
	if err != nil {
		return nil, err
	}
	rs := slices.Clone(ex.Reasons)
	slices.SortStableFunc(rs, func(a, b baton.ScoreReason) int { return cmp.Compare(math.Abs(b.Points), math.Abs(a.Points)) })
	fs := slices.Clone(ex.Factors)
	slices.SortStableFunc(fs, func(a, b baton.ProbabilityFactor) int {
		return cmp.Compare(math.Abs(b.Contribution), math.Abs(a.Contribution))
	})
	if n > 0 {
		rs, fs = rs[:min(n, len(rs))], fs[:min(n, len(fs))]
	}
	return &explained{Reasons: rs, Factors: fs, Why: ex.Why}, nil
}

// inboxRow is one lead awaiting the user's answer.
type inboxRow struct {
	Lead    *baton.Lead
	Handoff *baton.Handoff
	SLA     slaState
	Explain *explained
	Can     offer
}

type inboxPage struct {
	Sort          string
	Rows          []inboxRow
	Pager         pager
	Notifications []baton.Notification
}

const inboxPer = 25

// inbox lists the leads awaiting the user's answer, soonest deadline (or
// highest probability) first, with the SLA countdown and why they scored.
func (s *Server) inbox(w http.ResponseWriter, r *http.Request, c *session) error {
	return s.renderInbox(w, r, c, http.StatusOK, nil)
}

func (s *Server) renderInbox(w http.ResponseWriter, r *http.Request, c *session, status int, fe *formErr) error {
	ctx := r.Context()
	sort := r.URL.Query().Get("sort")
	if r.Method == http.MethodPost {
		sort = r.PostForm.Get("sort")
	}
	if sort != "probability" {
		sort = "deadline"
	}
	items, err := s.svc.Handoffs.Queue(ctx, sort)
	if err != nil {
		return err
	}
	page := pageNum(r)
	d := inboxPage{Sort: sort, Pager: newPager(r, page, inboxPer, len(items))}
	now := s.now()
	from := min((page-1)*inboxPer, len(items))
	for _, it := range items[from:min(from+inboxPer, len(items))] {
		ex, err := s.explain(ctx, it.Lead.ID, 3)
		if err != nil {
			return err
		}
		// The queue holds the caller's own leads with an open handoff.
		can := offerOf(c.User, it.Lead, relation(c.User, it.Lead, nil), true)
		d.Rows = append(d.Rows, inboxRow{Lead: it.Lead, Handoff: it.Handoff, SLA: sla(now, it.Handoff), Explain: ex, Can: can})
	}
	if d.Notifications, err = s.svc.Handoffs.Notifications(ctx, true, 10); err != nil {
		return err
	}
	s.render(w, r, c, status, "inbox", "Inbox", d, fe)
	return nil
}

// leadPage is the data of a lead's page.
type leadPage struct {
	Lead          *baton.Lead
	Owner         *baton.User
	Account       *baton.Account
	Explain       *explained
	Handoffs      []handoffRow
	Open          *baton.Handoff
	Attempts      []baton.Attempt
	BANT          *baton.BANT
	Timeline      []baton.TimelineItem
	TimelineMore  int
	Notifications []baton.Notification
	Users         map[int64]*baton.User
	// Can is what the user may do here; Assignees whom they may give the
	// lead to, when Can.Assign.
	Can       offer
	Assignees []*baton.User
	IdemKey   string
	Today     string
}

// offer is what a page offers the viewer to do with a lead: the moves of
// the lifecycle table (baton.Moves) they may make by hand from the lead's
// stage, less those whose needs the page can see are not met. Storage
// checks every need again when a move is made.
type offer struct {
	Accept, Reject, SendBack, Recycle, Convert, Close, Claim bool
	// Qualify is BANT to an SQL; QualifyLater the timing "later" path back
	// to nurture, through the same form.
	Qualify, QualifyLater bool
	// Assign is the verb (assign an unowned lead, reassign an owned one)
	// when the viewer may give the lead to someone, "" when not.
	Assign baton.Verb
	// Attempt: the viewer may log contact attempts, which is how a lead is
	// worked before it is rejected as unable_to_reach.
	Attempt bool
}

// Any reports whether the page offers any move.
func (o offer) Any() bool {
	return o.Accept || o.Reject || o.SendBack || o.Recycle || o.Convert || o.Close || o.Claim ||
		o.Qualify || o.QualifyLater || o.Assign != "" || o.Attempt
}

// offerOf asks the lifecycle table what the user may do with the lead they
// stand to as rel; open says the lead has an open handoff to answer.
func offerOf(me *baton.User, l *baton.Lead, rel baton.Relation, open bool) offer {
	var o offer
	for _, r := range baton.Moves(baton.ActorOf(me, "ui"), l.Stage, rel) {
		if r.Need(baton.NeedOpenHandoff) && !open {
			continue
		}
		switch r.Verb {
		case baton.VerbAccept:
			o.Accept = true
		case baton.VerbReject:
			o.Reject = true
		case baton.VerbQualify:
			if r.To == baton.StageSQL {
				o.Qualify = true
			} else {
				o.QualifyLater = true
			}
		case baton.VerbSendBack:
			o.SendBack = true
		case baton.VerbRecycle:
			o.Recycle = true
		case baton.VerbConvert:
			o.Convert = true
		case baton.VerbClose:
			o.Close = true
		case baton.VerbClaim:
			o.Claim = true
		case baton.VerbAssign, baton.VerbReassign:
			o.Assign = r.Verb
		}
	}
	o.Attempt = o.Reject
	return o
}

// relation is how the user stands to the lead, as storage finds it: its
// owner, and whether the owner reports to the user (users maps the ids of
// the users; nil when the user is known to own the lead). InPool stays
// false: a manager reads no unowned lead, so no page of one is shown to
// them, and an admin's right to assign does not depend on it.
func relation(me *baton.User, l *baton.Lead, users map[int64]*baton.User) baton.Relation {
	var rel baton.Relation
	if l.OwnerID != nil {
		rel.OwnerID = *l.OwnerID
		if o := users[rel.OwnerID]; o != nil && o.ManagerID != nil && *o.ManagerID == me.ID {
			rel.InTeam = true
		}
	}
	return rel
}

// assignees are the users the user may give the lead to, by name: those
// baton.CheckAssignee lets storage accept.
func assignees(me *baton.User, l *baton.Lead, users map[int64]*baton.User, now time.Time) []*baton.User {
	a := baton.ActorOf(me, "ui")
	var out []*baton.User
	for _, u := range users {
		if baton.CheckAssignee(a, l, u, now) == nil {
			out = append(out, u)
		}
	}
	slices.SortFunc(out, func(a, b *baton.User) int { return cmp.Or(strings.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	return out
}

type handoffRow struct {
	baton.Handoff
	SLA   slaState
	Owner string
}

const timelineMax = 100

func (s *Server) leadPage(w http.ResponseWriter, r *http.Request, c *session) error {
	return s.renderLead(w, r, c, http.StatusOK, nil)
}

func (s *Server) renderLead(w http.ResponseWriter, r *http.Request, c *session, status int, fe *formErr) error {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		return err
	}
	l, err := s.svc.Leads.FindLeadByID(ctx, id)
	if err != nil {
		return err
	}
	users, err := s.userNames(ctx)
	if err != nil {
		return err
	}
	d := leadPage{Lead: l, Users: users, IdemKey: newToken(), Today: s.now().UTC().Format("2006-01-02")}
	if l.OwnerID != nil {
		d.Owner = users[*l.OwnerID]
	}
	if l.AccountID != nil {
		if d.Account, err = s.svc.Accounts.FindAccountByID(ctx, *l.AccountID); err != nil && baton.ErrorCode(err) != baton.ENOTFOUND {
			return err
		}
	}
	if d.Explain, err = s.explain(ctx, id, 0); err != nil {
		return err
	}
	hs, err := s.svc.Handoffs.Handoffs(ctx, id)
	if err != nil {
		return err
	}
	now := s.now()
	for i := range hs {
		row := handoffRow{Handoff: hs[i], SLA: sla(now, &hs[i])}
		if u := users[hs[i].OwnerID]; u != nil {
			row.Owner = u.Name
		}
		d.Handoffs = append(d.Handoffs, row)
		if hs[i].State == baton.HandoffOpen {
			d.Open = &hs[i]
		}
	}
	if d.Attempts, err = s.svc.Handoffs.Attempts(ctx, id); err != nil {
		return err
	}
	if br, ok := s.svc.Handoffs.(BANTReader); ok && (l.Stage == baton.StageSQL || l.Stage == baton.StageOpportunity || l.Stage == baton.StageWon || l.Stage == baton.StageLost) {
		if d.BANT, err = br.BANTOf(ctx, id); err != nil && baton.ErrorCode(err) != baton.ENOTFOUND {
			return err
		}
	}
	tl, err := s.svc.Leads.Timeline(ctx, id)
	if err != nil {
		return err
	}
	slices.Reverse(tl)
	if len(tl) > timelineMax {
		d.TimelineMore = len(tl) - timelineMax
		tl = tl[:timelineMax]
	}
	d.Timeline = tl
	ns, err := s.svc.Handoffs.Notifications(ctx, false, 200)
	if err != nil {
		return err
	}
	for _, n := range ns {
		if n.LeadID != nil && *n.LeadID == id {
			d.Notifications = append(d.Notifications, n)
		}
	}
	// What the page offers is what the lifecycle table allows; storage
	// decides in the end. An assign with nobody to give the lead to is
	// not offered.
	d.Can = offerOf(c.User, l, relation(c.User, l, users), d.Open != nil)
	if d.Can.Assign != "" {
		if d.Assignees = assignees(c.User, l, users, s.now()); len(d.Assignees) == 0 {
			d.Can.Assign = ""
		}
	}
	title := l.Name
	if title == "" {
		title = l.Email
	}
	s.render(w, r, c, status, "lead", title, d, fe)
	return nil
}

// done ends a lead action: on success it redirects back to where the form
// was (the inbox, the team board or the lead page) with a confirmation; a
// refusal about the input (invalid, conflict) shows that page again with
// the error next to the field at fault; anything else is an error page.
func (s *Server) done(w http.ResponseWriter, r *http.Request, c *session, form string, id int64, err error, msg string) error {
	back := r.PostForm.Get("back")
	if err == nil && (back == "lead" || back == "") {
		// A move may take the lead from the user (a rejection, a
		// qualification, a send back): its page is then no longer theirs.
		if _, ferr := s.svc.Leads.FindLeadByID(r.Context(), id); baton.ErrorCode(ferr) == baton.ENOTFOUND {
			back = "inbox"
		}
	}
	if err == nil {
		switch back {
		case "inbox":
			q := url.Values{"sort": {r.PostForm.Get("sort")}}
			redirect(w, r, "/inbox?"+q.Encode(), msg)
		case "team":
			redirect(w, r, "/team", msg)
		default:
			redirect(w, r, "/leads/"+strconv.FormatInt(id, 10), msg)
		}
		return nil
	}
	code := baton.ErrorCode(err)
	if code != baton.EINVALID && code != baton.ECONFLICT {
		return err
	}
	fe := newFormErr(form, id, err, r.PostForm)
	switch back {
	case "inbox":
		return s.renderInbox(w, r, c, statusFor(err), fe)
	case "team":
		return s.renderTeam(w, r, c, statusFor(err), fe)
	}
	return s.renderLead(w, r, c, statusFor(err), fe)
}

// oneClick is the handler of a move the form asks for with no input
// (accept, claim): it calls the HandoffService verb the API's route calls.
func (s *Server) oneClick(form, msg string, move func(context.Context, int64) (*baton.Lead, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *session) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		_, err = move(r.Context(), id)
		return s.done(w, r, c, form, id, err, msg)
	}
}

// withReason is the handler of a move whose form is a reason (send back,
// recycle): it calls the HandoffService verb the API's route calls.
func (s *Server) withReason(form, msg string, move func(context.Context, int64, string) (*baton.Lead, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *session) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		_, err = move(r.Context(), id, strings.TrimSpace(r.PostForm.Get("reason")))
		return s.done(w, r, c, form, id, err, msg)
	}
}

func (s *Server) reject(w http.ResponseWriter, r *http.Request, c *session) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	rej := baton.Rejection{Reason: r.PostForm.Get("reason"), Note: r.PostForm.Get("note")}
	if v := strings.TrimSpace(r.PostForm.Get("duplicate_of")); v != "" {
		if rej.DuplicateOf, err = strconv.ParseInt(v, 10, 64); err != nil {
			return s.done(w, r, c, "reject", id, baton.FieldError("duplicate_of", "must be a lead number"), "")
		}
	}
	_, err = s.svc.Handoffs.Reject(r.Context(), id, rej)
	return s.done(w, r, c, "reject", id, err, "rejected")
}

func (s *Server) logAttempt(w http.ResponseWriter, r *http.Request, c *session) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	a := &baton.Attempt{Channel: r.PostForm.Get("channel"), Outcome: r.PostForm.Get("outcome"), Note: r.PostForm.Get("note")}
	err = s.svc.Handoffs.LogAttempt(r.Context(), id, a)
	return s.done(w, r, c, "attempt", id, err, "attempt")
}

// addNote writes a note on the lead's timeline.
func (s *Server) addNote(w http.ResponseWriter, r *http.Request, c *session) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	err = s.svc.Leads.AddNote(r.Context(), id, r.PostForm.Get("note"))
	return s.done(w, r, c, "note", id, err, "note")
}

func (s *Server) qualify(w http.ResponseWriter, r *http.Request, c *session) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	f := r.PostForm
	b := baton.BANT{BudgetCurrency: strings.ToUpper(strings.TrimSpace(f.Get("budget_currency"))), BudgetConfirmed: f.Get("budget_confirmed") != "",
		Authority: f.Get("authority"), DecisionMaker: strings.TrimSpace(f.Get("decision_maker")), Need: strings.TrimSpace(f.Get("need")), Timing: f.Get("timing")}
	if b.BudgetAmount, err = formNumber(f, "budget_amount"); err != nil {
		return s.done(w, r, c, "qualify", id, err, "")
	}
	if v := strings.TrimSpace(f.Get("timing_date")); v != "" {
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			return s.done(w, r, c, "qualify", id, baton.FieldError("timing_date", "must be a date (YYYY-MM-DD)"), "")
		}
		b.TimingDate = &t
	}
	l, err := s.svc.Handoffs.Qualify(r.Context(), id, b)
	msg := "qualified"
	if err == nil && l.Stage == baton.StageRecycled {
		msg = "later"
	}
	return s.done(w, r, c, "qualify", id, err, msg)
}

// formNumber reads a number field of a form: nil when it is empty, an
// EINVALID error naming the field when it is no number.
func formNumber(f url.Values, field string) (*float64, error) {
	v := strings.TrimSpace(f.Get(field))
	if v == "" {
		return nil, nil
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return nil, baton.FieldError(field, "must be a number, e.g. 25000")
	}
	return &x, nil
}

// closeLead closes the lead's opportunity won (with its value) or lost
// (with why), as POST /api/v1/leads/{id}/close does.
func (s *Server) closeLead(w http.ResponseWriter, r *http.Request, c *session) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	f := r.PostForm
	var in baton.CloseInput
	switch f.Get("outcome") {
	case "won":
		in.Won = true
	case "lost":
	default:
		return s.done(w, r, c, "close", id, baton.FieldError("outcome", "choose won or lost"), "")
	}
	in.Reason = strings.TrimSpace(f.Get("reason"))
	if x, err := formNumber(f, "value"); err != nil {
		return s.done(w, r, c, "close", id, err, "")
	} else if x != nil {
		in.Value = *x
	}
	_, err = s.svc.Handoffs.CloseLead(r.Context(), id, in)
	msg := "lost"
	if in.Won {
		msg = "won"
	}
	return s.done(w, r, c, "close", id, err, msg)
}

func (s *Server) convert(w http.ResponseWriter, r *http.Request, c *session) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	f := r.PostForm
	in := baton.ConvertInput{Name: strings.TrimSpace(f.Get("name")), Product: strings.TrimSpace(f.Get("product")),
		IdempotencyKey: f.Get("idempotency_key")}
	if in.IdempotencyKey == "" || len(in.IdempotencyKey) > 100 {
		return s.done(w, r, c, "convert", id, baton.FieldError("idempotency_key", "the form is incomplete: reload the page"), "")
	}
	if x, err := formNumber(f, "amount"); err != nil {
		return s.done(w, r, c, "convert", id, err, "")
	} else if x != nil {
		in.Amount = *x
	}
	if v := strings.TrimSpace(f.Get("expected_close")); v != "" {
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			return s.done(w, r, c, "convert", id, baton.FieldError("expected_close", "must be a date (YYYY-MM-DD)"), "")
		}
		in.ExpectedClose = &t
	}
	_, _, err = s.svc.Handoffs.Convert(r.Context(), id, in)
	return s.done(w, r, c, "convert", id, err, "converted")
}

func (s *Server) assign(w http.ResponseWriter, r *http.Request, c *session) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	uid, err := strconv.ParseInt(r.PostForm.Get("user_id"), 10, 64)
	if err != nil {
		return s.done(w, r, c, "assign", id, baton.FieldError("user_id", "choose a rep"), "")
	}
	_, err = s.svc.Handoffs.Assign(r.Context(), id, uid, strings.TrimSpace(r.PostForm.Get("note")))
	return s.done(w, r, c, "assign", id, err, "assigned")
}

func (s *Server) markRead(w http.ResponseWriter, r *http.Request, c *session) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.svc.Handoffs.MarkRead(r.Context(), id); err != nil {
		return err
	}
	redirect(w, r, "/inbox", "read")
	return nil
}

// leadListPage is the data of the lead list.
type leadListPage struct {
	Leads []*baton.Lead
	Users map[int64]*baton.User
	Q     string
	Stage string
	Sort  string
	Pager pager
}

const leadsPer = 50

// leadList lists the leads the user may see, searched, filtered and paginated.
func (s *Server) leadList(w http.ResponseWriter, r *http.Request, c *session) error {
	ctx := r.Context()
	q := r.URL.Query()
	f := baton.LeadFilter{Query: strings.TrimSpace(q.Get("q")), Limit: leadsPer}
	page := pageNum(r)
	f.Offset = (page - 1) * leadsPer
	if st := q.Get("stage"); st != "" {
		stage, err := baton.ParseStage("stage", st)
		if err != nil {
			return err
		}
		f.Stage = &stage
	}
	switch q.Get("sort") {
	case "probability", "fit", "engagement":
		f.Sort = q.Get("sort")
	}
	leads, total, err := s.svc.Leads.FindLeads(ctx, f)
	if err != nil {
		return err
	}
	users, err := s.userNames(ctx)
	if err != nil {
		return err
	}
	s.render(w, r, c, http.StatusOK, "leads", "Leads", leadListPage{Leads: leads, Users: users, Q: f.Query,
		Stage: q.Get("stage"), Sort: f.Sort, Pager: newPager(r, page, leadsPer, total)})
	return nil
}
