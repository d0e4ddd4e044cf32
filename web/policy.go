package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

type policyPage struct {
	Current   *baton.PolicyDoc
	Docs      []*baton.PolicyDoc
	Body      string
	Draft     *baton.PolicyDoc
	Valid     bool
	Backtest  *baton.Backtest
	CanEdit   bool
	Rescore   *baton.RescoreStatus
	MaxChange int
}

const maxPolicyBody = 256 << 10

// policyPage shows the policy in force (to everyone) and, to marketing and
// admins, the editor: validate, backtest against stored leads, save a
// draft, publish it.
func (s *Server) policyPage(w http.ResponseWriter, r *http.Request, c *session) error {
	d, err := s.policyData(r, c)
	if err != nil {
		return err
	}
	if id, _ := strconv.ParseInt(r.URL.Query().Get("draft"), 10, 64); id > 0 && d.CanEdit {
		if d.Draft, err = s.svc.Scoring.FindPolicy(r.Context(), id); err != nil {
			return err
		}
		d.Body = d.Draft.Body
	}
	s.render(w, r, c, http.StatusOK, "policy", "Scoring policy", d)
	return nil
}

func (s *Server) policyData(r *http.Request, c *session) (*policyPage, error) {
	ctx := r.Context()
	d := &policyPage{CanEdit: c.User.Role == baton.RoleMarketing || c.User.Role == baton.RoleAdmin, MaxChange: 50}
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

// policyAction validates, backtests or saves the edited document. Validate
// and backtest change nothing, so they answer with the page itself; save
// redirects to the draft.
func (s *Server) policyAction(w http.ResponseWriter, r *http.Request, c *session) error {
	ctx := r.Context()
	d, err := s.policyData(r, c)
	if err != nil {
		return err
	}
	d.Body = strings.ReplaceAll(r.PostForm.Get("body"), "\r\n", "\n")
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
		case "save":
			var doc *baton.PolicyDoc
			if doc, err = s.svc.Scoring.SaveDraft(ctx, d.Body); err == nil {
				redirect(w, r, "/policy?draft="+strconv.FormatInt(doc.ID, 10), "draft")
				return nil
			}
		default:
			err = baton.Errorf(baton.EINVALID, "unknown action")
		}
	}
	if err != nil {
		code := baton.ErrorCode(err)
		if code != baton.EINVALID && code != baton.ECONFLICT {
			return err
		}
		field := baton.ErrorField(err)
		if field == "" {
			field = "body"
		}
		fe := newFormErr("policy", 0, err, r.PostForm)
		fe.Field = "body"
		s.render(w, r, c, statusFor(err), "policy", "Scoring policy", d, fe)
		return nil
	}
	s.render(w, r, c, http.StatusOK, "policy", "Scoring policy", d)
	return nil
}

// publish publishes a saved draft.
func (s *Server) publish(w http.ResponseWriter, r *http.Request, c *session) error {
	id, err := strconv.ParseInt(r.PostForm.Get("draft_id"), 10, 64)
	if err != nil {
		return baton.FieldError("draft_id", "no draft named")
	}
	if _, err := s.svc.Scoring.PublishPolicy(r.Context(), id); err != nil {
		return err
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
