package api

import (
	"context"
	"net/http"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
)

// Sales do not see the fields the policy in force lists in
// hidden_from_reps (the columns filled in after contact, and the outcome
// itself): a rep judging a lead must not read how it ended. The API leaves
// them out of the leads, histories, timelines and score explanations it
// answers to development reps, account executives and managers, as the
// web's pages do; marketing and admins get everything.

// hiding returns the policy whose hidden_from_reps applies to the caller,
// or nil when nothing is hidden from them.
func (s *Server) hiding(ctx context.Context) (*policy.Policy, error) {
	a, ok := baton.ActorFrom(ctx)
	if !ok {
		return nil, nil
	}
	return policy.HidingFor(ctx, a.Role, s.svc.Scoring.CurrentPolicy)
}

// writeLead answers a lead as the caller may see it.
func (s *Server) writeLead(w http.ResponseWriter, r *http.Request, status int, l *baton.Lead) error {
	p, err := s.hiding(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, status, p.VisibleLead(l))
	return nil
}

// visibleLeads returns the leads as the caller may see them.
func (s *Server) visibleLeads(ctx context.Context, leads []*baton.Lead) ([]*baton.Lead, error) {
	p, err := s.hiding(ctx)
	if err != nil || p == nil {
		return leads, err
	}
	out := make([]*baton.Lead, len(leads))
	for i, l := range leads {
		out[i] = p.VisibleLead(l)
	}
	return out, nil
}

// visibleExplanation takes out of a score's explanation what p hides from
// the caller: the model's factors on hidden fields (their points summed
// apart) and the conditions of the rules that read one.
func visibleExplanation(p *policy.Policy, ex *baton.ScoreExplanation) {
	if p == nil {
		return
	}
	ruleField := make(map[string]string, len(p.FitRules))
	for _, r := range p.FitRules {
		ruleField[r.Name] = r.Condition.Field
	}
	ex.Hide(p.HidesFromReps, ruleField)
}
