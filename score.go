package baton

import (
	"context"
	"encoding/json"
	"time"
)

// LeadScore is what scoring says of a lead, stored on the lead and updated in
// the transaction of every change that can move it (a field change, an
// event, a policy published, a model activated).
type LeadScore struct {
	// Fit is the sum of the policy's fit rules.
	Fit float64 `json:"fit"`
	// Engagement is the sum of the policy's engagement rules, decayed to
	// ScoredAt; read it through EngagementAt.
	Engagement      float64 `json:"engagement"`
	FitGrade        string  `json:"fit_grade,omitempty"`
	EngagementGrade string  `json:"engagement_grade,omitempty"`
	// PolicyVersion is the published policy that scored the lead (0: none yet).
	PolicyVersion int `json:"policy_version"`
	// Probability is the active model's probability that the lead converts,
	// when a model is active.
	Probability  *float64  `json:"probability,omitempty"`
	ModelVersion int       `json:"model_version,omitempty"`
	ScoredAt     time.Time `json:"scored_at"`
}

// ScoreReason is one rule's part of a lead's score.
type ScoreReason struct {
	Rule   string  `json:"rule"`
	Axis   string  `json:"axis"` // fit or engagement
	Points float64 `json:"points"`
	Detail string  `json:"detail,omitempty"`
	Events int     `json:"events,omitempty"`
}

// ProbabilityFactor is one input's part of the model's probability, in
// log-odds: positive raised it, negative lowered it.
type ProbabilityFactor struct {
	Feature      string  `json:"feature"`
	Value        string  `json:"value"`
	Contribution float64 `json:"contribution"`
}

// ScoreExplanation is a lead's score now, with every rule that made it (the
// points add up to fit + engagement) and every factor of its probability (the
// contributions add up to its log-odds less the base).
type ScoreExplanation struct {
	LeadID      int64               `json:"lead_id"`
	At          time.Time           `json:"at"`
	Score       LeadScore           `json:"score"`
	Qualifies   bool                `json:"qualifies"`
	Why         string              `json:"why"`
	Reasons     []ScoreReason       `json:"reasons"`
	BaseLogOdds float64             `json:"base_log_odds,omitempty"`
	Factors     []ProbabilityFactor `json:"factors,omitempty"`
}

// PolicyDoc is a scoring policy document: a draft, or a published version.
type PolicyDoc struct {
	ID          int64      `json:"id"`
	Version     int        `json:"version,omitempty"` // 0 for a draft
	Name        string     `json:"name"`
	Owner       string     `json:"owner,omitempty"`
	ChangeNote  string     `json:"change_note,omitempty"`
	Body        string     `json:"body"`
	CreatedBy   string     `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	PublishedBy string     `json:"published_by,omitempty"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
	Current     bool       `json:"current,omitempty"`
}

// RescoreStatus says how far the rescoring of every lead under the current
// policy and model has gone: leads scored by an older version are counted,
// never hidden.
type RescoreStatus struct {
	PolicyVersion int `json:"policy_version"`
	ModelVersion  int `json:"model_version"`
	Leads         int `json:"leads"`
	Current       int `json:"current"`
	Stale         int `json:"stale"`
}

// Backtest compares what a draft policy and the current one would have done
// with the leads and events already stored.
type Backtest struct {
	Draft   BacktestSide   `json:"draft"`
	Current BacktestSide   `json:"current"`
	Sources []BacktestRow  `json:"by_source"`
	Changes []BacktestLead `json:"changes"` // leads that change sides, up to a limit
	Gained  int            `json:"gained"`  // MQL under the draft only
	Lost    int            `json:"lost"`    // MQL under the current policy only
	Leads   int            `json:"leads"`
}

// BacktestSide counts, for one policy, the leads that would have become MQL
// and what sales then did with them.
type BacktestSide struct {
	Version  int `json:"version"` // 0 for the draft
	MQL      int `json:"mql"`
	Accepted int `json:"accepted"` // of those MQLs, reached SAL
	SQL      int `json:"sql"`
	Won      int `json:"won"`
}

// BacktestRow is one source's draft and current sides.
type BacktestRow struct {
	Source  string       `json:"source"`
	Leads   int          `json:"leads"`
	Draft   BacktestSide `json:"draft"`
	Current BacktestSide `json:"current"`
}

// BacktestLead is a lead that is an MQL under one policy and not the other.
type BacktestLead struct {
	LeadID     int64   `json:"lead_id"`
	Source     string  `json:"source"`
	Stage      Stage   `json:"stage"`
	DraftMQL   bool    `json:"draft_mql"`
	DraftFit   float64 `json:"draft_fit"`
	DraftEng   float64 `json:"draft_engagement"`
	CurrentFit float64 `json:"current_fit"`
	CurrentEng float64 `json:"current_engagement"`
}

// ModelInfo describes a trained predictive model.
type ModelInfo struct {
	Version    int             `json:"version"`
	CreatedAt  time.Time       `json:"created_at"`
	CreatedBy  string          `json:"created_by"`
	Rows       int             `json:"rows"`
	Positives  int             `json:"positives"`
	WindowFrom time.Time       `json:"window_from"`
	WindowTo   time.Time       `json:"window_to"`
	Metrics    json.RawMessage `json:"metrics"`
	Active     bool            `json:"active"`
	Note       string          `json:"note,omitempty"`
}

// ScoringService publishes policies and models and explains scores.
type ScoringService interface {
	// SaveDraft stores a new draft policy (validated, with every problem listed).
	SaveDraft(ctx context.Context, body string) (*PolicyDoc, error)
	// PublishPolicy publishes a draft as the next version and rescores every lead.
	PublishPolicy(ctx context.Context, draftID int64) (*PolicyDoc, error)
	FindPolicies(ctx context.Context) ([]*PolicyDoc, error)
	FindPolicy(ctx context.Context, id int64) (*PolicyDoc, error)
	// CurrentPolicy returns the published policy in force, or ENOTFOUND.
	CurrentPolicy(ctx context.Context) (*PolicyDoc, error)
	// Backtest replays stored leads and events under body and under the current policy.
	Backtest(ctx context.Context, body string) (*Backtest, error)
	// ExplainScore returns a lead's score now, with its reasons.
	ExplainScore(ctx context.Context, leadID int64) (*ScoreExplanation, error)
	RescoreStatus(ctx context.Context) (RescoreStatus, error)
	// ValidatePolicy checks a document without storing it.
	ValidatePolicy(ctx context.Context, body string) error
	FindModels(ctx context.Context) ([]*ModelInfo, error)
	// TrainModel trains a model on the leads with known outcomes and
	// activates it when it is not worse than the active one on held-out leads.
	TrainModel(ctx context.Context, holdout float64, seed uint64, force bool) (*TrainReport, error)
	// ActivateModel makes a stored model the active one and rescores every lead.
	ActivateModel(ctx context.Context, version int) error
}

// ModelMetrics judge a model on held-out leads.
type ModelMetrics struct {
	AUC            float64 `json:"auc"`
	LogLoss        float64 `json:"log_loss"`
	Brier          float64 `json:"brier"`
	PrecisionTop10 float64 `json:"precision_top10"`
	LiftTop10      float64 `json:"lift_top10"`
	N              int     `json:"n"`
}

// TrainReport says what training did and why the model was (not) activated.
type TrainReport struct {
	Version       int           `json:"version"`
	Activated     bool          `json:"activated"`
	Why           string        `json:"why"`
	Rows          int           `json:"rows"`
	Positives     int           `json:"positives"`
	Holdout       int           `json:"holdout"`
	New           ModelMetrics  `json:"new"`
	Active        *ModelMetrics `json:"active,omitempty"`
	ActiveVersion int           `json:"active_version,omitempty"`
	Seconds       float64       `json:"train_seconds"`
}
