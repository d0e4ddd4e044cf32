package web

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
)

// The lead page as a record page: where the lead is in the funnel (the stage
// bar), how to reach them, what is known of them with the empty answers
// folded away and the fields the policy hides from sales left out, why it
// scores what it scores (the policy's points and the model's reasons, each
// in its own unit), and how it was qualified when it moved. Also the
// message of a finished action, carried to the next page.

// doneCookie carries the message of a finished action to the page the
// browser is sent to: it names the lead and who has it now, which a link's
// query string must not be able to make a page say.
const doneCookie = "baton_done"

// doneMaxAge is how long the message waits for its page, in seconds.
const doneMaxAge = 60

// maxDone bounds a message, far below a cookie's size.
const maxDone = 1000

// sayDone keeps the message of a finished action for the next page.
func (s *Server) sayDone(w http.ResponseWriter, r *http.Request, text string) {
	if len(text) > maxDone {
		text = text[:maxDone]
	}
	s.setCookie(w, r, doneCookie, base64.RawURLEncoding.EncodeToString([]byte(text)), doneMaxAge)
}

// takeDone returns the message a finished action left for this page, and
// forgets it.
func (s *Server) takeDone(w http.ResponseWriter, r *http.Request) string {
	ck, err := s.cookie(r, doneCookie)
	if err != nil {
		return ""
	}
	s.setCookie(w, r, doneCookie, "", -1)
	b, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil || len(b) > maxDone {
		return ""
	}
	return string(b)
}

// leadWords names a lead in a sentence: its name, else its email, else its
// number.
func leadWords(l *baton.Lead) string {
	switch {
	case l.Name != "":
		return l.Name
	case l.Email != "":
		return l.Email
	}
	return fmt.Sprintf("lead %d", l.ID)
}

// userWords names the user of an id, or says nobody.
func userWords(users map[int64]*baton.User, id *int64) string {
	if id == nil {
		return ""
	}
	if u := users[*id]; u != nil {
		return u.Name
	}
	return fmt.Sprintf("user %d", *id)
}

// A step of the stage bar.
type stageStep struct {
	Stage baton.Stage
	// Label is what the step says ("won / lost" until the deal closes).
	Label string
	// State is done (passed), current or todo.
	State string
}

// stageBar is the funnel drawn as steps, with the two exits beside it.
type stageBar struct {
	Steps []stageStep
	Exits []stageStep
	// From is the furthest stage an exited lead had reached.
	From baton.Stage
}

// funnel is the stage bar's path: the stages in funnel order, the last
// step standing for won or lost.
var funnel = []baton.Stage{baton.StageNew, baton.StageMQL, baton.StageSAL, baton.StageSQL, baton.StageOpportunity, baton.StageWon}

// stageBarOf draws the lead's stage: the steps before the current one are
// done; a recycled or disqualified lead shows the furthest stage its
// history reached as done and its exit as current.
func stageBarOf(l *baton.Lead, hist []baton.HistoryEntry) stageBar {
	rank := func(s baton.Stage) int {
		if s == baton.StageLost {
			s = baton.StageWon
		}
		return slices.Index(funnel, s)
	}
	exited := l.Stage == baton.StageRecycled || l.Stage == baton.StageDisqualified
	reached := rank(l.Stage)
	var b stageBar
	if exited {
		reached = 0
		for _, h := range hist {
			if h.Action != baton.ActionStage {
				continue
			}
			for _, s := range []string{h.From, h.To} {
				if r := rank(baton.Stage(s)); r > reached {
					reached = r
				}
			}
		}
		b.From = funnel[reached]
	}
	for i, s := range funnel {
		st := stageStep{Stage: s, Label: string(s), State: "todo"}
		switch {
		case i < reached || exited && i == reached:
			st.State = "done"
		case i == reached:
			st.State = "current"
		}
		if s == baton.StageWon {
			switch l.Stage {
			case baton.StageLost:
				st.Stage, st.Label = baton.StageLost, "lost"
			case baton.StageWon:
			default:
				st.Label = "won / lost"
			}
		}
		b.Steps = append(b.Steps, st)
	}
	for _, s := range []baton.Stage{baton.StageRecycled, baton.StageDisqualified} {
		st := stageStep{Stage: s, Label: string(s), State: "todo"}
		if l.Stage == s {
			st.State = "current"
		}
		b.Exits = append(b.Exits, st)
	}
	return b
}

// qualification is how the lead was qualified, as judged when it moved: the
// MQL rule's verdict at its promotion and the BANT of its SQL, with their
// dates and who made the move.
type qualification struct {
	MQLAt  *time.Time
	MQLWhy string
	MQLBy  string
	SQLAt  *time.Time
	SQLBy  string
	SQLWhy string
	// Today is the MQL rule's verdict on today's scores: shown only while
	// the rule still decides something (a lead that is new or in nurture).
	Today string
}

// qualificationOf reads the lead's qualification from its history (oldest
// first): the latest promotion to MQL and the latest qualification to SQL,
// each for a lead that has come that far and not gone back.
func qualificationOf(l *baton.Lead, hist []baton.HistoryEntry, why string) qualification {
	var q qualification
	for i := range hist {
		h := &hist[i]
		if h.Action != baton.ActionStage {
			continue
		}
		switch {
		case baton.Stage(h.To) == baton.StageMQL:
			q.MQLAt, q.MQLWhy, q.MQLBy = &h.At, cmp.Or(h.Reason, h.Note), h.ActorName
			q.SQLAt = nil
		case baton.Stage(h.To) == baton.StageSQL && baton.Stage(h.From) == baton.StageSAL:
			q.SQLAt, q.SQLWhy, q.SQLBy = &h.At, cmp.Or(h.Note, h.Reason), h.ActorName
		}
	}
	switch l.Stage {
	case baton.StageNew, baton.StageRecycled:
		q.Today = why
		q.MQLAt, q.SQLAt = nil, nil
	case baton.StageMQL, baton.StageSAL:
		q.SQLAt = nil
	case baton.StageDisqualified:
		q.MQLAt, q.SQLAt = nil, nil
	}
	return q
}

// hiding is what of a lead a viewer does not see: the fields the policy in
// force lists in hidden_from_reps, for sales (policy.HidesFrom); nothing
// for the others.
type hiding struct {
	p *policy.Policy // nil: nothing is hidden
	// ruleField maps each fit rule to the field it reads.
	ruleField map[string]string
}

// hidingFor reads the policy in force for what to hide from the viewer.
func (s *Server) hidingFor(ctx context.Context, u *baton.User) (hiding, error) {
	p, err := policy.HidingFor(ctx, u.Role, s.svc.Scoring.CurrentPolicy)
	if err != nil || p == nil {
		return hiding{}, err
	}
	h := hiding{p: p, ruleField: map[string]string{}}
	for _, r := range p.FitRules {
		h.ruleField[r.Name] = r.Condition.Field
	}
	return h, nil
}

// hides reports whether the field (named as policies name fields:
// "phone", "attributes.Tags") is hidden.
func (h hiding) hides(field string) bool { return h.p != nil && h.p.HidesFromReps(field) }

// visibleLead returns the lead as the viewer may see it (a copy without
// the hidden fields and attributes).
func (h hiding) visibleLead(l *baton.Lead) *baton.Lead { return h.p.VisibleLead(l) }

// visibleAccount returns the account without the hidden account fields.
func (h hiding) visibleAccount(a *baton.Account) *baton.Account { return h.p.VisibleAccount(a) }

// visibleTimeline drops the history entries of hidden fields.
func (h hiding) visibleTimeline(items []baton.TimelineItem) []baton.TimelineItem {
	return h.p.VisibleTimeline(items)
}

// contact is how to reach the lead, as links.
type contact struct {
	Mail, Tel template.URL
}

// contactOf makes the mailto: and tel: links of the lead's email and phone.
// A tel: link keeps only the digits (and a leading +), so that nothing but
// a number reaches the href.
func contactOf(l *baton.Lead) contact {
	var c contact
	if l.Email != "" && !strings.ContainsAny(l.Email, "?#&") {
		c.Mail = template.URL("mailto:" + url.PathEscape(l.Email))
	}
	var b strings.Builder
	for i, r := range strings.TrimSpace(l.Phone) {
		if r >= '0' && r <= '9' || r == '+' && i == 0 {
			b.WriteRune(r)
		}
	}
	if digits := strings.TrimPrefix(b.String(), "+"); len(digits) >= 3 {
		c.Tel = template.URL("tel:" + b.String())
	}
	return c
}

// attr is one custom attribute as the page writes it.
type attr struct {
	Name, Value string
}

// attrGroups are a lead's custom attributes by kind, with those that say
// nothing (empty, the form's unanswered "Select", false) folded apart.
type attrGroups struct {
	Answers, Numbers, Yes, Folded []attr
}

// groupAttrs sorts a lead's attributes into their groups, by name.
func groupAttrs(a baton.Attrs) attrGroups {
	var g attrGroups
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range a {
			if !yield(k) {
				return
			}
		}
	}) {
		switch v := a[k].(type) {
		case string:
			if t := strings.TrimSpace(v); t == "" || strings.EqualFold(t, "select") {
				g.Folded = append(g.Folded, attr{k, "—"})
			} else {
				g.Answers = append(g.Answers, attr{k, t})
			}
		case float64:
			g.Numbers = append(g.Numbers, attr{k, num(v)})
		case bool:
			if v {
				g.Yes = append(g.Yes, attr{k, "yes"})
			} else {
				g.Folded = append(g.Folded, attr{k, "no"})
			}
		default:
			g.Answers = append(g.Answers, attr{k, fmt.Sprint(v)})
		}
	}
	return g
}

// Any reports whether any attribute is shown unfolded.
func (g attrGroups) Any() bool { return len(g.Answers)+len(g.Numbers)+len(g.Yes) > 0 }

// ruleRow is one policy rule's part of the score now.
type ruleRow struct {
	Rule, Detail string
	Points       float64
}

// factorRow is one of the model's reasons: what the lead is, in words, and
// how many percentage points of probability it adds or takes, as the API
// says them (baton.ProbabilityFactor's Text and PercentPoints).
type factorRow struct {
	Words  string
	Points float64
}

// Signed writes the factor's percentage points with their sign: +12.3%,
// −4%.
func (f factorRow) Signed() string { return pp(f.Points) + "%" }

// Raises reports whether the factor raises the probability.
func (f factorRow) Raises() bool { return f.Points > 0 }

// scoreView is a lead's score as the page explains it: the policy's rules
// in points (fit and engagement apart), and the model's top reasons in
// percentage points of probability. The two never mix: points are the
// agreement's currency, probability the model's.
type scoreView struct {
	Score           baton.LeadScore
	Fit, Engagement []ruleRow
	Top             []ruleRow // the largest of both axes
	Factors         []factorRow
	// Base is the probability the model's reasons start from: a lead at
	// the average of the leads it learnt from (nil without a model).
	Base      *float64
	Why       string
	Qualifies bool
	Unnamed   int // model reasons left out as hidden
}

// Model reasons: how many the pages show, and the smallest that counts.
const (
	factorsShown = 3
	factorsSmall = 0.05 // percentage points: +0.0% says nothing
)

// explainScore is the score of a lead now, explained for the viewer; n > 0
// keeps the n largest rules of both axes in Top.
func (s *Server) explainScore(ctx context.Context, leadID int64, h hiding, n int) (*scoreView, error) {
	ex, err := s.svc.Scoring.ExplainScore(ctx, leadID)
	if err != nil {
		return nil, err
	}
	return scoreOf(ex, h, n), nil
}

// ScoresExplainer is implemented by a ScoringService that explains many
// leads' scores at once (*store.DB does, in one transaction): the inbox
// explains its rows so.
type ScoresExplainer interface {
	ExplainScores(ctx context.Context, ids []int64) ([]*baton.ScoreExplanation, error)
}

// explainScores is explainScore of each lead.
func (s *Server) explainScores(ctx context.Context, ids []int64, h hiding, n int) ([]*scoreView, error) {
	out := make([]*scoreView, len(ids))
	if se, ok := s.svc.Scoring.(ScoresExplainer); ok {
		exs, err := se.ExplainScores(ctx, ids)
		if err != nil {
			return nil, err
		}
		for i, ex := range exs {
			out[i] = scoreOf(ex, h, n)
		}
		return out, nil
	}
	for i, id := range ids {
		var err error
		if out[i], err = s.explainScore(ctx, id, h, n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scoreOf explains ex for a viewer who does not see what h hides: the
// rules that read a hidden field keep their points but not their
// condition, and the model's reasons on one are counted, not named
// (baton.ScoreExplanation.Hide, as the API does).
func scoreOf(ex *baton.ScoreExplanation, h hiding, n int) *scoreView {
	ex.Hide(h.hides, h.ruleField)
	v := &scoreView{Score: ex.Score, Why: ex.Why, Qualifies: ex.Qualifies, Unnamed: ex.HiddenFactors}
	if ex.Score.Probability != nil {
		v.Base = &ex.BaseProbability
	}
	for _, r := range ex.Reasons {
		row := ruleRow{Rule: r.Rule, Detail: r.Detail, Points: r.Points}
		if r.Axis == policy.AxisEngagement {
			v.Engagement = append(v.Engagement, row)
		} else {
			v.Fit = append(v.Fit, row)
		}
	}
	bySize := func(a, b ruleRow) int { return cmp.Compare(math.Abs(b.Points), math.Abs(a.Points)) }
	slices.SortStableFunc(v.Fit, bySize)
	slices.SortStableFunc(v.Engagement, bySize)
	v.Top = slices.Concat(v.Fit, v.Engagement)
	slices.SortStableFunc(v.Top, bySize)
	if n > 0 {
		v.Top = v.Top[:min(n, len(v.Top))]
	}
	v.Factors = topFactors(ex.Factors, factorsShown)
	return v
}

// topFactors returns the n factors that move the probability most, each
// in the words and percentage points the explanation gives it; those that
// would show as +0.0% are left out.
func topFactors(fs []baton.ProbabilityFactor, n int) []factorRow {
	var rows []factorRow
	for _, f := range fs {
		if math.Abs(f.PercentPoints) >= factorsSmall {
			rows = append(rows, factorRow{Words: f.Text, Points: f.PercentPoints})
		}
	}
	slices.SortStableFunc(rows, func(a, b factorRow) int { return cmp.Compare(math.Abs(b.Points), math.Abs(a.Points)) })
	return rows[:min(n, len(rows))]
}

// pp writes percentage points with their sign and one decimal: +12.3, −4.
func pp(v float64) string {
	s := num(math.Round(math.Abs(v)*10) / 10)
	if v < 0 {
		return "−" + s
	}
	return "+" + s
}

// stuckNote says what the owner of a lead can do when the lifecycle leaves
// them no move on it (a development rep who holds an SQL because their role
// changed, an account executive with an MQL): who to ask. It is empty when
// the viewer has a move, does not own the lead, or the lead is closed.
func stuckNote(me *baton.User, l *baton.Lead, can offer, users map[int64]*baton.User) string {
	if l.OwnerID == nil || *l.OwnerID != me.ID || !l.Stage.Open() || can.Any() {
		return ""
	}
	ask := "an admin"
	if me.ManagerID != nil {
		if m := users[*me.ManagerID]; m != nil {
			ask = "your manager, " + m.Name + ","
		}
	}
	if want := baton.AssigneeRole(l.Stage); want != me.Role {
		return fmt.Sprintf("This lead is yours, but nothing here is yours to do: a lead that is %s is worked by %s, and you are %s. Ask %s to reassign it.",
			l.Stage, want.Words(), me.Role.Words(), ask)
	}
	return fmt.Sprintf("This lead is yours, but no move of the lifecycle is open to you on it now. Ask %s what should happen to it.", ask)
}

// Pool is implemented by a HandoffService that lists the leads a
// development rep may claim (*store.DB does): the inbox offers them.
type Pool interface {
	Claimable(ctx context.Context, limit int) ([]*baton.Lead, bool, error)
}

// claimRow is a lead a development rep may claim, and why it may be. The
// model's reasons are not shown: the rep may not read the lead's score
// until it is theirs.
type claimRow struct {
	Lead *baton.Lead
	Why  string
}

// claimRows is how many leads to claim the inbox shows.
const claimRows = 10

// claimable lists the leads the viewer may claim, for a development rep
// whose storage can list them, as h lets the viewer see them.
func (s *Server) claimable(ctx context.Context, me *baton.User, h hiding) ([]claimRow, bool, error) {
	pool, ok := s.svc.Handoffs.(Pool)
	if !ok || !baton.MayMake(baton.ActorOf(me, "ui"), baton.VerbClaim) {
		return nil, false, nil
	}
	leads, more, err := pool.Claimable(ctx, claimRows)
	if err != nil {
		return nil, false, err
	}
	out := make([]claimRow, 0, len(leads))
	for _, l := range leads {
		why := "an MQL nobody could take"
		if l.Stage != baton.StageMQL {
			why = fmt.Sprintf("%s, not owned, and engaging again", l.Stage)
		}
		out = append(out, claimRow{Lead: h.visibleLead(l), Why: why})
	}
	return out, more, nil
}
