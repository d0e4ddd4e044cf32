package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/model"
	"github.com/batonhq/baton/policy"
)

// Scoring a lead, by file:
//   - score.go: the scorer, that is the policy and model in force (parsed
//     once per version and cached), and how it computes a lead's scores
//     (evaluate);
//   - score_state.go: the state kept with each lead (leads.score_state), its
//     codec, and how events fold into it or rebuild it;
//   - score_lead.go: scoring leads in the transaction that changes them: a
//     new lead, one lead after an edit or a merge, many leads after a batch
//     of events;
//   - score_read.go: what scoring reads: the leads with their states, their
//     events and their accounts;
//   - score_write.go: where scores are written, and the leads that qualify
//     promoted to MQL;
//   - score_explain.go: a lead's score with the rules and factors behind it.
//
// The background rescore of every lead after a policy is published or a
// model activated is rescore.go; training a model is train.go.

// scorer is the policy and model in force, parsed once per version and shared
// by every transaction that scores a lead.
type scorer struct {
	policyVersion int
	policy        *policy.Policy
	modelVersion  int
	model         *model.Model
	// fitNames are fitRuleNames(policy).
	fitNames []string
	// counts says that states keep the model's behaviour counts: while a
	// model is in force, or to train one.
	counts bool
}

// scorers caches the parsed policy and model by version. Several instances on
// one database each notice a new version at their next write.
type scorers struct {
	mu       sync.Mutex
	policies map[int]*policy.Policy
	models   map[int]*model.Model
}

// scorer returns the policy and model in force for this transaction.
func (tx *Tx) scorer(ctx context.Context) (*scorer, error) {
	var pv, mv sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT MAX(version) FROM policies WHERE published_at IS NOT NULL),
		(SELECT MAX(version) FROM models WHERE active)`).Scan(&pv, &mv); err != nil {
		return nil, fmt.Errorf("scoring versions: %w", err)
	}
	sc := &scorer{policyVersion: int(pv.Int64), modelVersion: int(mv.Int64)}
	c := &tx.db.scorers
	c.mu.Lock()
	sc.policy, sc.model = c.policies[sc.policyVersion], c.models[sc.modelVersion]
	c.mu.Unlock()
	if sc.policyVersion > 0 && sc.policy == nil {
		var body string
		if err := tx.QueryRowContext(ctx, `SELECT body FROM policies WHERE version = $1`, sc.policyVersion).Scan(&body); err != nil {
			return nil, fmt.Errorf("load policy v%d: %w", sc.policyVersion, err)
		}
		p, err := policy.Parse([]byte(body))
		if err != nil {
			return nil, fmt.Errorf("policy v%d no longer parses: %w", sc.policyVersion, err)
		}
		p.Version = sc.policyVersion
		sc.policy = p
		c.mu.Lock()
		if c.policies == nil {
			c.policies = map[int]*policy.Policy{}
		}
		c.policies[sc.policyVersion] = p
		c.mu.Unlock()
	}
	if sc.modelVersion > 0 && sc.model == nil {
		var body string
		if err := tx.QueryRowContext(ctx, `SELECT body FROM models WHERE version = $1`, sc.modelVersion).Scan(&body); err != nil {
			return nil, fmt.Errorf("load model v%d: %w", sc.modelVersion, err)
		}
		m := &model.Model{}
		if err := m.UnmarshalJSON([]byte(body)); err != nil {
			return nil, fmt.Errorf("model v%d: %w", sc.modelVersion, err)
		}
		sc.model = m
		c.mu.Lock()
		if c.models == nil {
			c.models = map[int]*model.Model{}
		}
		c.models[sc.modelVersion] = m
		c.mu.Unlock()
	}
	sc.fitNames = fitRuleNames(sc.policy)
	sc.counts = sc.model != nil
	return sc, nil
}

// fitRuleNames returns the distinct names of a policy's fit rules in
// document order: the bits of leads.fit_rules.
func fitRuleNames(p *policy.Policy) []string {
	var names []string
	if p == nil {
		return nil
	}
	for _, r := range p.FitRules {
		if !slices.Contains(names, r.Name) {
			names = append(names, r.Name)
		}
	}
	return names
}

// fitRules returns the names of the fit rules that fired in a score, in the
// policy's order, joined by fitRuleSep (leads.fit_rules).
func (sc *scorer) fitRules(ps policy.Score) string {
	if sc.policy == nil {
		return ""
	}
	var b strings.Builder
	for _, name := range sc.fitNames {
		for _, r := range ps.Reasons {
			if r.Axis == "fit" && r.Rule == name {
				if b.Len() > 0 {
					b.WriteString(fitRuleSep)
				}
				b.WriteString(name)
				break
			}
		}
	}
	return b.String()
}

// active reports whether a policy or a model is in force: whether anything
// reads the scoring state.
func (sc *scorer) active() bool { return sc.policy != nil || sc.model != nil }

// fresh reports whether a lead's state may take new events as they come:
// its counts cover all the lead's events if they are kept, and its
// engagement was built by the policy in force or one that builds it the same
// way (a new version that changed only fit rules, thresholds or grades needs
// no replay).
func (sc *scorer) fresh(st *scoreState) bool {
	return (!sc.counts || st.Counted) && (sc.policy == nil || st.Engagement != nil && st.Engagement.Key == sc.policy.EngagementKey())
}

// evaluate computes a lead's scores at now.
func (sc *scorer) evaluate(l *baton.Lead, acc *baton.Account, st *scoreState, now time.Time) (baton.LeadScore, policy.Score) {
	s := baton.LeadScore{ScoredAt: now}
	var ps policy.Score
	if sc.policy != nil {
		ps = sc.policy.Score(policy.Subject{Lead: l, Account: acc}, st.Engagement, now)
		s.Fit, s.Engagement = ps.Fit, ps.Engagement
		s.FitGrade, s.EngagementGrade = ps.FitGrade, ps.EngagementGrade
		s.PolicyVersion = sc.policyVersion
	}
	if sc.model != nil {
		p := sc.model.Predict(ModelRow(l, acc, st.Counts, OutcomeAttribute))
		s.Probability, s.ModelVersion = &p, sc.modelVersion
	}
	return s, ps
}

// ModelRow is the model's view of a lead: its fields, custom attributes,
// account firmographics and behaviour before sales touched it. outcome names
// the attribute that holds a known outcome, which is never a feature.
func ModelRow(l *baton.Lead, acc *baton.Account, counts map[string]int, outcome string) model.Row {
	r := make(model.Row, len(l.Attrs)+len(counts)+10)
	for k, v := range l.Attrs {
		if k == outcome {
			continue
		}
		switch x := v.(type) {
		case string:
			r[k] = x
		case float64:
			r[k] = strconv.FormatFloat(x, 'g', -1, 64)
		case bool:
			r[k] = strconv.FormatBool(x)
		}
	}
	for k, v := range map[string]string{"source": l.Source, "campaign": l.Campaign, "country": l.Country, "title": l.Title,
		"email_domain": baton.EmailDomain(l.Email)} {
		if v != "" {
			r[k] = v
		}
	}
	if acc != nil {
		r["account.industry"] = acc.Industry
		r["account.country"] = acc.Country
		if acc.Employees != nil {
			r["account.employees"] = strconv.FormatInt(*acc.Employees, 10)
		}
		if acc.AnnualRevenue != nil {
			r["account.annual_revenue"] = strconv.FormatFloat(*acc.AnnualRevenue, 'g', -1, 64)
		}
	}
	for k, n := range counts {
		r["events."+k] = strconv.Itoa(n)
	}
	return r
}

// OutcomeAttribute is the custom attribute that holds an outcome known from
// outside Baton (the demo data's "Converted"): a label for training, never a
// feature.
const OutcomeAttribute = "Converted"

// RescoreStatus counts the leads scored by the current policy and model and
// those still scored by older ones.
func (db *DB) RescoreStatus(ctx context.Context) (baton.RescoreStatus, error) {
	var s baton.RescoreStatus
	tx, err := db.beginRead(ctx)
	if err != nil {
		return s, err
	}
	defer tx.Rollback()
	sc, err := tx.scorer(ctx)
	if err != nil {
		return s, err
	}
	s.PolicyVersion, s.ModelVersion = sc.policyVersion, sc.modelVersion
	err = tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN policy_version = $1 AND model_version = $2 THEN 1 ELSE 0 END), 0) FROM leads`,
		sc.policyVersion, sc.modelVersion).Scan(&s.Leads, &s.Current)
	s.Stale = s.Leads - s.Current
	return s, err
}
