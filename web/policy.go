package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
)

type policyPage struct {
	Current *baton.PolicyDoc
	Docs    []*baton.PolicyDoc
	CanEdit bool
	Rescore *baton.RescoreStatus

	// The editor: its text, its lines (numbered in the gutter and in the
	// read-only view), and a width to fit the longest line.
	Body  string
	Lines []string
	Cols  int
	// Draft is the document opened with ?draft=ID: a draft, or a version
	// whose text the editor starts from.
	Draft *baton.PolicyDoc
	// Editing is the draft that Save draft writes to (0: a new draft), and
	// Base the SHA-256 of its text as the editor opened it.
	Editing int64
	Base    string
	// Edited is true when the editor's text is not the opened draft's.
	Edited   bool
	Valid    bool
	Problems []policy.Problem
	// Backtest is the result shown: the one just run, or the draft's kept
	// one; BacktestNote says what it describes when that is not plainly
	// the draft as it is (run on unsaved text, or out of date).
	Backtest     *baton.Backtest
	BacktestNew  bool
	BacktestNote string
	// Diff compares the editor's text with the version in force.
	Diff *baton.PolicyDiff
	// Confirm is the publish confirmation, when asked for.
	Confirm *baton.PublishPreview
	Note    string
	MaxNote int
}

const maxPolicyBody = 256 << 10

// policyPage shows the policy in force (to everyone, with numbered lines)
// and, to marketing and admins, the editor: validate, backtest against
// stored leads, save a draft (the backtest is kept with it), and publish it
// after a confirmation that shows what will happen and asks for a change
// note (?draft=ID&publish=1).
func (s *Server) policyPage(w http.ResponseWriter, r *http.Request, c *session) error {
	d, err := s.policyData(r, c)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if id, _ := strconv.ParseInt(q.Get("draft"), 10, 64); id > 0 && d.CanEdit {
		if q.Get("publish") != "" {
			if err := s.confirmData(r, d, id); err != nil {
				return err
			}
			if d.Confirm == nil {
				s.renderInvalidDraft(w, r, c, d)
				return nil
			}
			s.render(w, r, c, http.StatusOK, "policy", "Publish the scoring policy", d)
			return nil
		}
		if err := s.openDraft(r, d, id); err != nil {
			return err
		}
		d.Body = d.Draft.Body
	}
	d.finish()
	s.render(w, r, c, http.StatusOK, "policy", "Scoring policy", d)
	return nil
}

func (s *Server) policyData(r *http.Request, c *session) (*policyPage, error) {
	ctx := r.Context()
	d := &policyPage{CanEdit: c.User.Role == baton.RoleMarketing || c.User.Role == baton.RoleAdmin, MaxNote: baton.MaxChangeNote}
	cur, err := s.svc.Scoring.CurrentPolicy(ctx)
	if err != nil && baton.ErrorCode(err) != baton.ENOTFOUND {
		return nil, err
	}
	d.Current = cur
	if cur != nil {
		d.Body = cur.Body
	}
	if d.CanEdit {
		docs, err := s.svc.Scoring.FindPolicies(ctx)
		if err != nil {
			return nil, err
		}
		d.Docs = docs[:min(len(docs), 15)]
		rs, err := s.svc.Scoring.RescoreStatus(ctx)
		if err == nil {
			d.Rescore = &rs
		}
	}
	return d, nil
}

// openDraft puts a stored document in the page: a draft is edited in place
// from the text it has now; a version is the start of a new draft.
func (s *Server) openDraft(r *http.Request, d *policyPage, id int64) error {
	doc, err := s.svc.Scoring.FindPolicy(r.Context(), id)
	if err != nil {
		return err
	}
	d.Draft = doc
	if doc.Version == 0 {
		d.Editing, d.Base = doc.ID, doc.SHA256
	}
	return nil
}

// confirmData fills the publish confirmation of a draft; a draft that no
// longer validates gets the editor with its problems instead.
func (s *Server) confirmData(r *http.Request, d *policyPage, id int64) error {
	pv, err := s.svc.Scoring.PreviewPublish(r.Context(), id)
	if err != nil {
		if !d.problems(err) {
			return err
		}
		if err := s.openDraft(r, d, id); err != nil {
			return err
		}
		d.Body = d.Draft.Body
		d.finish()
		return nil
	}
	d.Confirm, d.Draft, d.Note = pv, pv.Draft, pv.SuggestedNote
	return nil
}

// renderInvalidDraft shows the editor of a draft that no longer validates
// (custom attributes changed since it was saved), with its problems.
func (s *Server) renderInvalidDraft(w http.ResponseWriter, r *http.Request, c *session, d *policyPage) {
	err := baton.FieldError("body", "this draft no longer validates, so it cannot be published: %d problems", len(d.Problems))
	s.render(w, r, c, statusFor(err), "policy", "Scoring policy", d, newFormErr("policy", 0, err, nil))
}

// problems takes the problems of a policy validation error into the page;
// false if err is not one.
func (d *policyPage) problems(err error) bool {
	var ve *policy.ValidationError
	if !errors.As(err, &ve) {
		return false
	}
	d.Problems = ve.Problems
	return true
}

// finish derives what the page shows of the editor's text: its lines, the
// diff against the version in force, and which backtest to show.
func (d *policyPage) finish() {
	d.Lines = strings.Split(strings.TrimSuffix(d.Body, "\n"), "\n")
	for _, l := range d.Lines {
		d.Cols = max(d.Cols, utf8.RuneCountInString(l))
	}
	d.Cols = min(max(d.Cols+2, 60), 200)
	from := ""
	if d.Current != nil {
		from = d.Current.Body
	}
	d.Diff = policy.Diff(from, d.Body)
	if d.Current != nil {
		d.Diff.FromVersion = d.Current.Version
	}
	if d.Draft != nil {
		d.Edited = d.Body != d.Draft.Body
	}
	switch {
	case d.Backtest != nil:
		d.BacktestNew = true
		if d.Editing == 0 || d.Edited {
			d.BacktestNote = "This backtest is of the text in the editor, which is not saved: Save draft keeps it with the draft."
		}
	case d.Draft != nil && d.Draft.Backtest != nil && d.Draft.Version == 0:
		d.Backtest = d.Draft.Backtest
		switch {
		case d.Edited:
			d.BacktestNote = "This backtest is out of date: the text in the editor is not the one it was run on. Backtest again."
		case d.Draft.BacktestStale != "":
			d.BacktestNote = "This backtest is out of date: " + d.Draft.BacktestStale + "."
		}
	}
}

// policyAction validates, backtests or saves the edited document. Validate
// and backtest change no document, so they answer with the page itself;
// save redirects to the draft. The form names the draft being edited (0:
// a new one) and the text it was opened with.
func (s *Server) policyAction(w http.ResponseWriter, r *http.Request, c *session) error {
	ctx := r.Context()
	d, err := s.policyData(r, c)
	if err != nil {
		return err
	}
	d.Body = strings.ReplaceAll(r.PostForm.Get("body"), "\r\n", "\n")
	if id, _ := strconv.ParseInt(r.PostForm.Get("draft_id"), 10, 64); id > 0 {
		if err := s.openDraft(r, d, id); err != nil {
			return err
		}
		if d.Editing != 0 {
			d.Base = r.PostForm.Get("base")
		}
	}
	if len(d.Body) > maxPolicyBody {
		err = baton.FieldError("body", "the document is %d bytes, at most %d allowed", len(d.Body), maxPolicyBody)
	} else {
		switch r.PostForm.Get("action") {
		case "validate":
			if err = s.svc.Scoring.ValidatePolicy(ctx, d.Body); err == nil {
				d.Valid = true
			}
		case "backtest":
			d.Backtest, err = s.svc.Scoring.Backtest(ctx, d.Body)
		case "save", "saveas":
			var doc *baton.PolicyDoc
			if d.Editing != 0 && r.PostForm.Get("action") == "save" {
				doc, err = s.svc.Scoring.UpdateDraft(ctx, d.Editing, d.Body, d.Base)
			} else {
				doc, err = s.svc.Scoring.SaveDraft(ctx, d.Body)
			}
			if err == nil {
				redirect(w, r, "/policy?draft="+strconv.FormatInt(doc.ID, 10), "draft")
				return nil
			}
		default:
			err = baton.Errorf(baton.EINVALID, "unknown action")
		}
	}
	d.finish()
	if err != nil {
		code := baton.ErrorCode(err)
		if code != baton.EINVALID && code != baton.ECONFLICT {
			return err
		}
		d.problems(err)
		fe := newFormErr("policy", 0, err, r.PostForm)
		fe.Field = "body"
		s.render(w, r, c, statusFor(err), "policy", "Scoring policy", d, fe)
		return nil
	}
	s.render(w, r, c, http.StatusOK, "policy", "Scoring policy", d)
	return nil
}

// publish publishes a saved draft with the change note of the confirmation
// form, if the draft is still the text the confirmation showed.
func (s *Server) publish(w http.ResponseWriter, r *http.Request, c *session) error {
	id, err := strconv.ParseInt(r.PostForm.Get("draft_id"), 10, 64)
	if err != nil {
		return baton.FieldError("draft_id", "no draft named")
	}
	in := baton.PolicyPublish{ID: id, ChangeNote: r.PostForm.Get("change_note"), SHA256: r.PostForm.Get("sha256")}
	if _, err := s.svc.Scoring.PublishPolicy(r.Context(), in); err != nil {
		code := baton.ErrorCode(err)
		if code != baton.EINVALID && code != baton.ECONFLICT {
			return err
		}
		// Refused: the confirmation again, with why, and the note as typed.
		d, derr := s.policyData(r, c)
		if derr != nil {
			return derr
		}
		if derr := s.confirmData(r, d, id); derr != nil {
			return err
		}
		if d.Confirm == nil {
			s.renderInvalidDraft(w, r, c, d)
			return nil
		}
		d.Note = in.ChangeNote
		fe := newFormErr("publish", 0, err, r.PostForm)
		if fe.Field != "change_note" {
			fe.Field = ""
		}
		s.render(w, r, c, statusFor(err), "policy", "Publish the scoring policy", d, fe)
		return nil
	}
	redirect(w, r, "/policy", "published")
	return nil
}

type recycledPage struct {
	Leads  []*baton.Lead
	Users  map[int64]*baton.User
	Pager  pager
	Charts []chartBlock
	Since  time.Time
}

// recycled lists the leads back in nurture, and how leads of each source and
// campaign fare (marketing's view of lead quality).
func (s *Server) recycled(w http.ResponseWriter, r *http.Request, c *session) error {
	ctx := r.Context()
	st := baton.StageRecycled
	page := pageNum(r)
	leads, total, err := s.svc.Leads.FindLeads(ctx, baton.LeadFilter{Stage: &st, Offset: (page - 1) * leadsPer, Limit: leadsPer})
	if err != nil {
		return err
	}
	users, err := s.userNames(ctx)
	if err != nil {
		return err
	}
	d := recycledPage{Leads: leads, Users: users, Pager: newPager(r, page, leadsPer, total), Since: s.now().AddDate(0, 0, -180)}
	if s.svc.Reports != nil {
		f := baton.ReportFilter{From: d.Since, To: s.now(), By: baton.DimSource, Limit: 12}
		d.Charts = append(d.Charts,
			s.chart(ctx, func() (*baton.Report, error) { return s.svc.Reports.Quality(ctx, f) }, 0, 1, 2, 3),
			s.chart(ctx, func() (*baton.Report, error) {
				byCampaign := f
				byCampaign.By = baton.DimCampaign
				return s.svc.Reports.Quality(ctx, byCampaign)
			}, 0, 1, 2, 3),
			s.chart(ctx, func() (*baton.Report, error) {
				return s.svc.Reports.Recycled(ctx, baton.ReportFilter{From: d.Since, To: s.now()})
			}))
	}
	s.render(w, r, c, http.StatusOK, "recycled", "Recycled leads and lead quality", d)
	return nil
}
