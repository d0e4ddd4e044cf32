package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
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
	s.listRoutes(mux)
	mux.Handle("GET /work", s.page(s.work))
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
	mux.Handle("POST /leads/{id}/opportunity", s.page(s.editOpportunity))
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
	mux.Handle("POST /admin/webhooks/{id}/rotate", s.page(s.rotateWebhookSecret, admins...))
	mux.Handle("POST /admin/slack", s.page(s.createSlackChannel, admins...))
	mux.Handle("POST /admin/slack/{id}/active", s.page(s.toggleSlackChannel, admins...))
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

// inboxRow is one lead awaiting the user's answer.
type inboxRow struct {
	Lead    *baton.Lead
	Handoff *baton.Handoff
	SLA     slaState
	Score   *scoreView
	Can     offer
	// Stuck says what to do when the lifecycle leaves the user no move.
	Stuck string
}

type inboxPage struct {
	Sort          string
	Rows          []inboxRow
	Pager         pager
	Notifications []baton.Notification
	// Claim lists the leads a development rep may claim (More: and others).
	Claim     []claimRow
	ClaimMore bool
	// Done says what the last action did and what is next; Refused why an
	// action was refused, when the form it came from is not shown.
	Done, Refused string
}

const inboxPer = 25

// inbox lists the leads awaiting the user's answer, soonest deadline (or
// highest probability) first, with the SLA countdown and why they scored,
// then the leads a development rep may claim.
func (s *Server) inbox(w http.ResponseWriter, r *http.Request, c *session) error {
	return s.renderInbox(w, r, c, http.StatusOK, nil, s.takeDone(w, r))
}

func (s *Server) renderInbox(w http.ResponseWriter, r *http.Request, c *session, status int, fe *formErr, done string) error {
	ctx := r.Context()
	sort := r.URL.Query().Get("sort")
	if r.Method == http.MethodPost {
		sort = r.PostForm.Get("sort")
	}
	if sort != "probability" {
		sort = "deadline"
	}
	page := pageNum(r)
	items, total, err := s.svc.Handoffs.QueuePage(ctx, sort, (page-1)*inboxPer, inboxPer)
	if err != nil {
		return err
	}
	h, err := s.hidingFor(ctx, c.User)
	if err != nil {
		return err
	}
	// The users, for the name of the manager to ask about a lead stuck
	// with its owner: read only when a row needs it.
	var users map[int64]*baton.User
	d := inboxPage{Sort: sort, Pager: newPager(r, page, inboxPer, total), Done: done}
	now := s.now()
	shown := false
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.Lead.ID
	}
	scores, err := s.explainScores(ctx, ids, h, 3)
	if err != nil {
		return err
	}
	for i, it := range items {
		sv := scores[i]
		// The queue holds the caller's own leads with an open handoff.
		can := offerOf(c.User, it.Lead, relation(c.User, it.Lead, nil), true)
		stuck := stuckNote(c.User, it.Lead, can, users)
		if stuck != "" && users == nil && c.User.ManagerID != nil {
			if users, err = s.userNames(ctx); err != nil {
				return err
			}
			stuck = stuckNote(c.User, it.Lead, can, users)
		}
		d.Rows = append(d.Rows, inboxRow{Lead: h.visibleLead(it.Lead), Handoff: it.Handoff, SLA: sla(now, it.Handoff), Score: sv, Can: can,
			Stuck: stuck})
		shown = shown || fe != nil && fe.LeadID == it.Lead.ID
	}
	if d.Claim, d.ClaimMore, err = s.claimable(ctx, c.User, h); err != nil {
		return err
	}
	for _, cr := range d.Claim {
		shown = shown || fe != nil && fe.Form == "claim" && fe.LeadID == cr.Lead.ID
	}
	d.Refused = bannerOf(fe, shown)
	if d.Notifications, err = s.svc.Handoffs.Notifications(ctx, true, 10); err != nil {
		return err
	}
	s.render(w, r, c, status, "inbox", "Inbox", d, fe)
	return nil
}

// bannerOf returns the message of a refused action to show as a banner at
// the top of the page, and takes it off the form (which keeps the values
// sent): the refusals that name no field, and those of a form the page no
// longer shows (the lead moved on). A refusal about a field of a form on the
// page stays next to that field.
func bannerOf(fe *formErr, formShown bool) string {
	if fe == nil || fe.Msg == "" || fe.Field != "" && formShown {
		return ""
	}
	msg := fe.Msg
	fe.Msg = ""
	return msg
}

// leadPage is the data of a lead's page.
type leadPage struct {
	Lead          *baton.Lead
	Owner         *baton.User
	Account       *baton.Account
	Score         *scoreView
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

	// The record: the stage bar, the contact links, the attributes by
	// group, the qualification as judged when the lead moved.
	Bar     stageBar
	Contact contact
	Attrs   attrGroups
	Qual    qualification
	// Hidden counts the fields left out because the policy hides them from
	// the viewer.
	Hidden int
	// Opportunity is the lead's deal (nil before conversion); Products the
	// products to choose from; AccountNames the accounts a conversion may
	// name.
	Opportunity  *baton.Opportunity
	OppAccount   *baton.Account
	Products     []*baton.Product
	AccountNames []string
	LostReasons  []string
	// Stuck says what to do when the lifecycle leaves the owner no move.
	Stuck string
	// Done says what the last action did and what is next; Refused why an
	// action was refused, when no form on the page can say it.
	Done, Refused string
	// Gone: the lead is no longer the viewer's to read (they were told of
	// it, or they just lost it); the page says so instead of the record.
	Gone bool
	// AcceptAsked: the page was opened by a valid accept link of the
	// viewer's (a Slack button), so it puts the accept button in front;
	// AcceptNote says why a link that was not valid puts nothing there.
	AcceptAsked bool
	AcceptNote  string
}

// acceptAsked judges the accept link that opened a lead's page
// (baton.AcceptLink): it must be one Baton signed, not expired, for this
// lead, for the viewer, and for the handoff the viewer may accept now. A
// link does nothing by itself: at most it puts the accept button in front,
// and the signed-in viewer presses it.
func (s *Server) acceptAsked(ctx context.Context, c *session, d *leadPage, token string) (bool, string, error) {
	if s.svc.Outbox == nil {
		return false, "Accept links are not served here.", nil
	}
	key, err := s.svc.Outbox.AcceptLinkKey(ctx)
	if err != nil {
		return false, "", err
	}
	link, err := baton.ParseAcceptLink(key, token, s.now())
	switch {
	case errors.Is(err, baton.ErrLinkExpired) && link.LeadID == d.Lead.ID:
		return false, "This accept link has expired. If the lead still waits for your answer, accept or reject it below.", nil
	case err != nil || link.LeadID != d.Lead.ID:
		return false, "This accept link is not valid: it was not made for this lead.", nil
	case link.UserID != c.User.ID:
		return false, "This accept link was sent to someone else: it asks nothing of you.", nil
	case d.Open == nil || d.Open.ID != link.HandoffID || !d.Can.Accept:
		return false, "The handoff this link asked you to accept is no longer open to you: it was answered, or the lead went to someone else.", nil
	}
	return true, "", nil
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
//
// While an open handoff waits for the viewer's answer (a rule that needs
// it is on offer), the moves that would close it as accepted without being
// its answer (convert closes the SQL's handoff as accepted) are held back:
// the handoff is answered first, as the table's accept rule says, and its
// SLA record says when.
func offerOf(me *baton.User, l *baton.Lead, rel baton.Relation, open bool) offer {
	var o offer
	moves := baton.Moves(baton.ActorOf(me, "ui"), l.Stage, rel)
	awaiting := false
	for _, r := range moves {
		if open && r.Need(baton.NeedOpenHandoff) && r.Effects.Close == baton.HandoffAccepted {
			awaiting = true
		}
	}
	for _, r := range moves {
		if r.Need(baton.NeedOpenHandoff) && !open {
			continue
		}
		if awaiting && r.Effects.Close == baton.HandoffAccepted && !r.Need(baton.NeedOpenHandoff) {
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

// accountChoices is how many account names a conversion's form suggests.
const accountChoices = 200

// deals returns the opportunity service of the storage, when the handoff
// service is also one (*store.DB is): the lead page shows and edits the
// lead's deal through it.
func (s *Server) deals() baton.OpportunityService {
	o, _ := s.svc.Handoffs.(baton.OpportunityService)
	return o
}

func (s *Server) leadPage(w http.ResponseWriter, r *http.Request, c *session) error {
	return s.renderLead(w, r, c, http.StatusOK, nil, s.takeDone(w, r))
}

func (s *Server) renderLead(w http.ResponseWriter, r *http.Request, c *session, status int, fe *formErr, done string) error {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		return err
	}
	l, err := s.svc.Leads.FindLeadByID(ctx, id)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return s.renderGone(w, r, c, status, id, fe, err)
	} else if err != nil {
		return err
	}
	users, err := s.userNames(ctx)
	if err != nil {
		return err
	}
	h, err := s.hidingFor(ctx, c.User)
	if err != nil {
		return err
	}
	d := leadPage{Lead: h.visibleLead(l), Users: users, IdemKey: newToken(), Today: s.now().UTC().Format("2006-01-02"), Done: done,
		LostReasons: baton.LostReasons}
	d.Hidden = len(l.Attrs) - len(d.Lead.Attrs)
	for _, f := range policy.LeadFieldNames {
		if h.hides(f) {
			d.Hidden++
		}
	}
	if l.OwnerID != nil {
		d.Owner = users[*l.OwnerID]
	}
	if l.AccountID != nil {
		if d.Account, err = s.svc.Accounts.FindAccountByID(ctx, *l.AccountID); err != nil && baton.ErrorCode(err) != baton.ENOTFOUND {
			return err
		}
		d.Account = h.visibleAccount(d.Account)
	}
	if d.Score, err = s.explainScore(ctx, id, h, 0); err != nil {
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
	var hist []baton.HistoryEntry
	for _, it := range tl {
		if it.History != nil {
			hist = append(hist, *it.History)
		}
	}
	d.Bar = stageBarOf(l, hist)
	d.Qual = qualificationOf(l, hist, d.Score.Why)
	d.Contact = contactOf(d.Lead)
	d.Attrs = groupAttrs(d.Lead.Attrs)
	tl = h.visibleTimeline(tl)
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
	d.Stuck = stuckNote(c.User, l, d.Can, users)
	if tok := r.URL.Query().Get("accept"); tok != "" && r.Method == http.MethodGet {
		if d.AcceptAsked, d.AcceptNote, err = s.acceptAsked(ctx, c, &d, tok); err != nil {
			return err
		}
	}
	if err := s.dealOf(ctx, &d); err != nil {
		return err
	}
	d.Refused = bannerOf(fe, fe != nil && d.shows(fe.Form))
	title := l.Name
	if title == "" {
		title = l.Email
	}
	s.render(w, r, c, status, "lead", title, d, fe)
	return nil
}

// dealOf fills in the lead's opportunity, and what its forms offer.
func (s *Server) dealOf(ctx context.Context, d *leadPage) error {
	ds := s.deals()
	if ds == nil {
		return nil
	}
	l := d.Lead
	if d.Can.Convert || d.Can.Close {
		ps, err := ds.FindProducts(ctx)
		if err != nil {
			return err
		}
		d.Products = ps
	}
	if d.Can.Convert {
		accs, _, err := s.svc.Accounts.FindAccounts(ctx, baton.AccountFilter{Limit: accountChoices})
		if err != nil {
			return err
		}
		for _, a := range accs {
			d.AccountNames = append(d.AccountNames, a.Name)
		}
	}
	switch l.Stage {
	case baton.StageOpportunity, baton.StageWon, baton.StageLost:
	default:
		return nil
	}
	opps, _, err := ds.FindOpportunities(ctx, baton.OpportunityFilter{LeadID: &l.ID, Limit: 1})
	if err != nil || len(opps) == 0 {
		return err
	}
	d.Opportunity = opps[0]
	if id := d.Opportunity.AccountID; id != nil {
		if d.OppAccount, err = s.svc.Accounts.FindAccountByID(ctx, *id); err != nil && baton.ErrorCode(err) != baton.ENOTFOUND {
			return err
		}
	}
	return nil
}

// EditDeal reports whether the viewer may change the opportunity: who may
// close it (its lead's owner, their manager, an admin), while it is open.
func (d leadPage) EditDeal() bool {
	return d.Opportunity != nil && d.Opportunity.Stage.Open() && d.Can.Close
}

// productChoice is one option of a product field.
type productChoice struct {
	Name, Label string
	Selected    bool
}

// ProductChoices are the options of a product field whose value is v: the
// products, and v itself first when it is none of them (a product an
// import named), so that saving the form keeps it.
func (d leadPage) ProductChoices(v string) []productChoice {
	var out []productChoice
	found := false
	for _, p := range d.Products {
		c := productChoice{Name: p.Name, Label: p.Name, Selected: p.Name == v}
		if p.Series != "" {
			c.Label += " (" + p.Series + ")"
		}
		found = found || c.Selected
		out = append(out, c)
	}
	if v != "" && !found && len(out) > 0 {
		out = append([]productChoice{{Name: v, Label: v, Selected: true}}, out...)
	}
	return out
}

// DealCloseDay is the opportunity's expected close as a date input takes
// it (YYYY-MM-DD): a day, the same in every zone.
func (d leadPage) DealCloseDay() string {
	if d.Opportunity == nil || d.Opportunity.ExpectedClose == nil {
		return ""
	}
	return d.Opportunity.ExpectedClose.UTC().Format("2006-01-02")
}

// shows reports whether the page shows the form, to say a refusal next to
// its field.
func (d leadPage) shows(form string) bool {
	c := d.Can
	return map[string]bool{"accept": c.Accept, "claim": c.Claim, "reject": c.Reject, "sendback": c.SendBack, "recycle": c.Recycle,
		"attempt": c.Attempt, "note": true, "qualify": c.Qualify || c.QualifyLater, "convert": c.Convert, "close": c.Close,
		"assign": c.Assign != "", "opportunity": d.EditDeal()}[form]
}

// renderGone answers for a lead the viewer may not read. One they were
// told about (a notification's link) or just lost (an action refused as no
// longer theirs) gets a page that says it went to someone else, with their
// notifications about it; any other is not found, as a lead that does not
// exist.
func (s *Server) renderGone(w http.ResponseWriter, r *http.Request, c *session, status int, id int64, fe *formErr, notFound error) error {
	ns, err := s.svc.Handoffs.Notifications(r.Context(), false, 200)
	if err != nil {
		return err
	}
	d := leadPage{Lead: &baton.Lead{ID: id}, Gone: true}
	for _, n := range ns {
		if n.LeadID != nil && *n.LeadID == id {
			d.Notifications = append(d.Notifications, n)
		}
	}
	lost := fe != nil && fe.Msg != "" && fe.Field == "" && status == http.StatusConflict
	if len(d.Notifications) == 0 && !lost {
		if fe != nil && fe.Msg != "" {
			return baton.Errorf(baton.ErrorCode(notFound), "%s", fe.Msg)
		}
		return notFound
	}
	if fe != nil {
		d.Refused = fe.Msg
	}
	s.render(w, r, c, status, "lead", fmt.Sprintf("Lead %d", id), d)
	return nil
}

// done ends a lead action. On success it sends the browser back to where
// the form was (the inbox, the team board or the lead page; the inbox when
// the move took the lead from the user) with say's message of what happened
// and what is next. A refusal shows that page again, saying why: next to
// the field at fault, or at the top when no field is named. Only an
// internal error, an outage or an ended session is an error page.
func (s *Server) done(w http.ResponseWriter, r *http.Request, c *session, form string, id int64, err error, msg string, say func() string) error {
	back := r.PostForm.Get("back")
	if err == nil && (back == "lead" || back == "") {
		// A move may take the lead from the user (a rejection, a
		// qualification, a send back): its page is then no longer theirs.
		if _, ferr := s.svc.Leads.FindLeadByID(r.Context(), id); baton.ErrorCode(ferr) == baton.ENOTFOUND {
			back = "inbox"
		}
	}
	if err == nil {
		if say != nil {
			s.sayDone(w, r, say())
			msg = ""
		}
		if back == "team" {
			// Back to the board the form was on: its team and period.
			q := url.Values{}
			for _, k := range []string{"manager", "period", "from", "to"} {
				if v := r.PostForm.Get(k); v != "" {
					q.Set(k, v)
				}
			}
			to := "/team"
			if len(q) > 0 {
				to += "?" + q.Encode()
			}
			redirect(w, r, to, msg)
			return nil
		}
		if back == "inbox" {
			q := url.Values{"sort": {r.PostForm.Get("sort")}}
			redirect(w, r, "/inbox?"+q.Encode(), "")
		} else {
			redirect(w, r, "/leads/"+strconv.FormatInt(id, 10), "")
		}
		return nil
	}
	switch baton.ErrorCode(err) {
	case baton.EINTERNAL, baton.EUNAVAILABLE, baton.EUNAUTHORIZED:
		return err
	}
	fe := newFormErr(form, id, err, r.PostForm)
	switch back {
	case "inbox":
		return s.renderInbox(w, r, c, statusFor(err), fe, "")
	case "team":
		return s.renderTeam(w, r, c, statusFor(err), fe, "")
	}
	return s.renderLead(w, r, c, statusFor(err), fe, "")
}

// words are the names the message of an action uses: the lead's and its
// owner's after the action.
func (s *Server) words(ctx context.Context, l *baton.Lead) (lead, owner string) {
	if l == nil {
		return "the lead", ""
	}
	users, err := s.userNames(ctx)
	if err != nil {
		return leadWords(l), ""
	}
	return leadWords(l), userWords(users, l.OwnerID)
}

// oneClick is the handler of a move the form asks for with no input
// (accept, claim): it calls the HandoffService verb the API's route calls.
func (s *Server) oneClick(form, msg string, move func(context.Context, int64) (*baton.Lead, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *session) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		l, err := move(r.Context(), id)
		if err != nil && form == "accept" {
			err = s.whyNotAccepted(r.Context(), id, err)
		}
		return s.done(w, r, c, form, id, err, msg, func() string {
			name, owner := s.words(r.Context(), l)
			switch {
			case form == "claim":
				return fmt.Sprintf("Lead claimed: %s is yours to answer now. Next: accept it (or reject it with the agreed reason) before its deadline.", name)
			case l.Stage == baton.StageSQL:
				return fmt.Sprintf("Lead accepted: %s is yours to work, %s. Next: convert it into an opportunity when the deal is real, or send it back.", name, owner)
			}
			return fmt.Sprintf("Lead accepted: %s is yours to work now. Next: reach them (log each attempt), then qualify them with BANT.", name)
		})
	}
}

// whyNotAccepted says why an accept was refused when the lead moved on
// meanwhile (the page was older than the lead: another tab, a manager, the
// SLA sweeper): what the lead is now, and whose.
func (s *Server) whyNotAccepted(ctx context.Context, id int64, err error) error {
	if baton.ErrorCode(err) != baton.ECONFLICT {
		return err
	}
	l, ferr := s.svc.Leads.FindLeadByID(ctx, id)
	if ferr != nil {
		return err
	}
	hs, herr := s.svc.Handoffs.Handoffs(ctx, id)
	if herr != nil {
		return err
	}
	for _, h := range hs {
		if h.State == baton.HandoffOpen {
			return err
		}
	}
	name, owner := s.words(ctx, l)
	if owner == "" {
		owner = "nobody"
	}
	return baton.Errorf(baton.ECONFLICT, "%s was answered already, perhaps on another page: it is %s now, owned by %s, and no handoff waits for an answer.",
		name, strings.ToUpper(string(l.Stage)), owner)
}

// withReason is the handler of a move whose form is a reason (send back,
// recycle): it calls the HandoffService verb the API's route calls.
func (s *Server) withReason(form, msg string, move func(context.Context, int64, string) (*baton.Lead, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *session) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		l, err := move(r.Context(), id, strings.TrimSpace(r.PostForm.Get("reason")))
		return s.done(w, r, c, form, id, err, msg, func() string {
			name, owner := s.words(r.Context(), l)
			if form == "sendback" {
				return fmt.Sprintf("Lead sent back: %s is with %s again, the development rep who qualified it, with your reason. Next: the rest of your inbox.", name, cmp.Or(owner, "its development rep"))
			}
			return fmt.Sprintf("Lead returned to marketing's nurture: %s is off your list, with your reason. Next: the rest of your inbox.", name)
		})
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
			return s.done(w, r, c, "reject", id, baton.FieldError("duplicate_of", "must be a lead number"), "", nil)
		}
	}
	l, err := s.svc.Handoffs.Reject(r.Context(), id, rej)
	return s.done(w, r, c, "reject", id, err, "rejected", func() string {
		name, _ := s.words(r.Context(), l)
		switch {
		case rej.DuplicateOf > 0:
			return fmt.Sprintf("Lead rejected with your reason: %s was merged into lead %d, its duplicate. Next: the rest of your inbox.", name, rej.DuplicateOf)
		case l.Stage == baton.StageDisqualified:
			return fmt.Sprintf("Lead rejected with your reason: %s is disqualified, and marketing is told. Next: the rest of your inbox.", name)
		}
		return fmt.Sprintf("Lead rejected with your reason: %s went back to marketing's nurture (%s). Next: the rest of your inbox.", name, cmp.Or(l.NurtureTrack, "nurture"))
	})
}

func (s *Server) logAttempt(w http.ResponseWriter, r *http.Request, c *session) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	a := &baton.Attempt{Channel: r.PostForm.Get("channel"), Outcome: r.PostForm.Get("outcome"), Note: r.PostForm.Get("note")}
	err = s.svc.Handoffs.LogAttempt(r.Context(), id, a)
	return s.done(w, r, c, "attempt", id, err, "attempt", func() string {
		return fmt.Sprintf("Attempt logged: %s, %s. It is on the lead's timeline.", a.Channel, label(a.Outcome))
	})
}

// addNote writes a note on the lead's timeline.
func (s *Server) addNote(w http.ResponseWriter, r *http.Request, c *session) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	err = s.svc.Leads.AddNote(r.Context(), id, r.PostForm.Get("note"))
	return s.done(w, r, c, "note", id, err, "note", func() string { return "Note added to the lead's timeline." })
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
		return s.done(w, r, c, "qualify", id, err, "", nil)
	}
	if v := strings.TrimSpace(f.Get("timing_date")); v != "" {
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			return s.done(w, r, c, "qualify", id, baton.FieldError("timing_date", "must be a date (YYYY-MM-DD)"), "", nil)
		}
		b.TimingDate = &t
	}
	l, err := s.svc.Handoffs.Qualify(r.Context(), id, b)
	msg := "qualified"
	if err == nil && l.Stage == baton.StageRecycled {
		msg = "later"
	}
	return s.done(w, r, c, "qualify", id, err, msg, func() string {
		name, owner := s.words(r.Context(), l)
		switch {
		case l.Stage == baton.StageRecycled:
			return fmt.Sprintf("Timing later: the lead is back in nurture until then; %s comes back to sales on %s. Next: the rest of your inbox.", name, b.TimingDate.Format(dateLayout))
		case owner == "":
			return fmt.Sprintf("Lead %s qualified (SQL): no account executive could take it now, so it waits unassigned for a manager to give it to one. Next: the rest of your inbox.", name)
		}
		return fmt.Sprintf("Lead %s qualified (SQL) and handed to %s, who must now accept it. Next: the rest of your inbox.", name, owner)
	})
}

// formNumber reads a number field of a form: nil when it is empty, an
// EINVALID error naming the field when it is no number.
func formNumber(f url.Values, field string) (*float64, error) {
	v := strings.TrimSpace(f.Get(field))
	if v == "" {
		return nil, nil
	}
	x, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", ""), 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return nil, baton.FieldError(field, "must be a number, e.g. 25000")
	}
	return &x, nil
}

// formDay reads a date field of a form (YYYY-MM-DD, as a date input sends
// it): nil when it is empty.
func formDay(f url.Values, field string) (*time.Time, error) {
	v := strings.TrimSpace(f.Get(field))
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse("2006-01-02", v)
	if err != nil {
		return nil, baton.FieldError(field, "must be a date (YYYY-MM-DD)")
	}
	return &t, nil
}

// closeLead closes the lead's opportunity won (with its value) or lost
// (with one of baton.LostReasons, and the note other needs), as POST
// /api/v1/leads/{id}/close does.
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
		if x, err := formNumber(f, "value"); err != nil {
			return s.done(w, r, c, "close", id, err, "", nil)
		} else if x != nil {
			in.Value = *x
		}
	case "lost":
		if in.Reason, err = baton.LostReason(f.Get("reason"), f.Get("note")); err != nil {
			return s.done(w, r, c, "close", id, err, "", nil)
		}
	default:
		return s.done(w, r, c, "close", id, baton.FieldError("outcome", "choose won or lost"), "", nil)
	}
	l, err := s.svc.Handoffs.CloseLead(r.Context(), id, in)
	msg := "lost"
	if in.Won {
		msg = "won"
	}
	return s.done(w, r, c, "close", id, err, msg, func() string {
		name, _ := s.words(r.Context(), l)
		if in.Won {
			return fmt.Sprintf("Opportunity closed won: %s, worth %s. It counts in the won reports from now on.", name, num(in.Value))
		}
		return fmt.Sprintf("Opportunity closed lost (%s): %s. The reason goes to the rejection and quality reports.", label(in.Reason), name)
	})
}

// convert makes the SQL an opportunity: its name, amount, product (one of
// the products, when there are any), expected close (today or later) and
// account (by name; the lead's own when left empty).
func (s *Server) convert(w http.ResponseWriter, r *http.Request, c *session) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	f := r.PostForm
	in := baton.ConvertInput{Name: strings.TrimSpace(f.Get("name")), Product: strings.TrimSpace(f.Get("product")),
		IdempotencyKey: f.Get("idempotency_key")}
	fail := func(err error) error { return s.done(w, r, c, "convert", id, err, "", nil) }
	if in.IdempotencyKey == "" || len(in.IdempotencyKey) > 100 {
		return fail(baton.FieldError("idempotency_key", "the form is incomplete: reload the page"))
	}
	if x, err := formNumber(f, "amount"); err != nil {
		return fail(err)
	} else if x != nil {
		in.Amount = *x
	}
	if err := s.checkProduct(r.Context(), in.Product); err != nil {
		return fail(err)
	}
	if in.ExpectedClose, err = formDay(f, "expected_close"); err != nil {
		return fail(err)
	}
	if name := strings.TrimSpace(f.Get("account")); name != "" {
		accs, _, err := s.svc.Accounts.FindAccounts(r.Context(), baton.AccountFilter{Name: &name, Limit: 1})
		if err != nil {
			return err
		}
		if len(accs) == 0 {
			return fail(baton.FieldError("account", "no account is named %q: choose one of the list, or leave it empty for the lead's own", name))
		}
		in.AccountID = &accs[0].ID
	}
	o, _, err := s.svc.Handoffs.Convert(r.Context(), id, in)
	return s.done(w, r, c, "convert", id, err, "converted", func() string {
		return fmt.Sprintf("Lead converted to an opportunity: %s, %s. Next: keep its amount and expected close current below, and close it won or lost.", o.Name, num(o.Amount))
	})
}

// checkProduct refuses a product that is not one of the products, when
// there are products to choose from.
func (s *Server) checkProduct(ctx context.Context, name string) error {
	ds := s.deals()
	if name == "" || ds == nil {
		return nil
	}
	ps, err := ds.FindProducts(ctx)
	if err != nil {
		return err
	}
	if len(ps) == 0 || slices.ContainsFunc(ps, func(p *baton.Product) bool { return p.Name == name }) {
		return nil
	}
	return baton.FieldError("product", "unknown product %q: choose one of the list", name)
}

// editOpportunity changes the lead's open opportunity: its name, amount,
// product and expected close.
func (s *Server) editOpportunity(w http.ResponseWriter, r *http.Request, c *session) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ds := s.deals()
	if ds == nil {
		return baton.Errorf(baton.ENOTFOUND, "opportunities cannot be changed on this server")
	}
	f := r.PostForm
	fail := func(err error) error { return s.done(w, r, c, "opportunity", id, err, "", nil) }
	oid, err := strconv.ParseInt(f.Get("opportunity_id"), 10, 64)
	if err != nil || oid <= 0 {
		return fail(baton.FieldError("opportunity_id", "the form is incomplete: reload the page"))
	}
	name, product := f.Get("name"), f.Get("product")
	u := baton.OpportunityUpdate{Name: &name, Product: &product}
	if u.Amount, err = formNumber(f, "amount"); err != nil {
		return fail(err)
	}
	if u.Amount == nil {
		return fail(baton.FieldError("amount", "required: the deal's amount (0 if not known yet)"))
	}
	if u.ExpectedClose, err = formDay(f, "expected_close"); err != nil {
		return fail(err)
	}
	// The opportunity must be this lead's: the form names both.
	opps, _, err := ds.FindOpportunities(r.Context(), baton.OpportunityFilter{LeadID: &id, Limit: 10})
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(opps, func(o *baton.Opportunity) bool { return o.ID == oid }) {
		return fail(baton.Errorf(baton.ENOTFOUND, "lead %d has no opportunity %d you may change", id, oid))
	}
	o, err := ds.UpdateOpportunity(r.Context(), oid, u)
	return s.done(w, r, c, "opportunity", id, err, "", func() string {
		return fmt.Sprintf("Opportunity saved: %s, %s. The change is on the lead's timeline.", o.Name, num(o.Amount))
	})
}

func (s *Server) assign(w http.ResponseWriter, r *http.Request, c *session) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	uid, err := strconv.ParseInt(r.PostForm.Get("user_id"), 10, 64)
	if err != nil {
		return s.done(w, r, c, "assign", id, baton.FieldError("user_id", "choose a rep"), "", nil)
	}
	l, err := s.svc.Handoffs.Assign(r.Context(), id, uid, strings.TrimSpace(r.PostForm.Get("note")))
	return s.done(w, r, c, "assign", id, err, "assigned", func() string {
		name, owner := s.words(r.Context(), l)
		return fmt.Sprintf("Lead reassigned: %s is %s's now, who is told. Next: nothing, unless they need your help.", name, owner)
	})
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
