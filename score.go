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

// The axes of a score: who the lead is (fit) and what they do (engagement).
const (
	AxisFit        = "fit"
	AxisEngagement = "engagement"
)

// ScoreAxes lists the values of ScoreReason.Axis.
var ScoreAxes = []string{AxisFit, AxisEngagement}

// ScoreReason is one rule's part of a lead's score.
type ScoreReason struct {
	Rule   string  `json:"rule"`
	Axis   string  `json:"axis"` // one of ScoreAxes
	Points float64 `json:"points"`
	Detail string  `json:"detail,omitempty"`
	Events int     `json:"events,omitempty"`
}

// ScoreExplanation is a lead's score now, with every rule that made it (the
// points add up to fit + engagement) and every factor of its probability:
// their contributions add up to its log-odds less BaseLogOdds, and their
// percent points to its probability less BaseProbability (in percentage
// points), with HiddenPercentPoints when factors were left out as hidden
// from the viewer (see Hide).
type ScoreExplanation struct {
	LeadID      int64         `json:"lead_id"`
	At          time.Time     `json:"at"`
	Score       LeadScore     `json:"score"`
	Qualifies   bool          `json:"qualifies"`
	Why         string        `json:"why"`
	Reasons     []ScoreReason `json:"reasons"`
	BaseLogOdds float64       `json:"base_log_odds,omitempty"`
	// BaseProbability is the model's probability for a lead at the average
	// of the leads it was trained on (BaseLogOdds as a probability): where
	// the factors' percent points start from.
	BaseProbability float64 `json:"base_probability,omitempty"`
	// Factors are the model's reasons, the largest |PercentPoints| first.
	Factors []ProbabilityFactor `json:"factors,omitempty"`
	// HiddenFactors counts the factors left out because they read a field
	// hidden from the viewer, and HiddenPercentPoints is their sum: they
	// count in the probability, but are not named.
	HiddenFactors       int     `json:"hidden_factors,omitempty"`
	HiddenPercentPoints float64 `json:"hidden_percent_points,omitempty"`
}

// PolicyDoc is a scoring policy document: a draft, or a published version.
//
// A version's ChangeNote is the note its publisher gave when publishing it
// (required, and not the previous version's note unchanged): the policies
// row keeps it with PublishedBy and PublishedAt, which is the publish's
// audit, and a published row never changes again. A draft's ChangeNote is
// the change_note written in its document, only a suggestion for that note:
// a document edited from the version in force carries that version's note
// until someone changes it, so the document's field is not trusted to
// describe the change.
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
	// UpdatedBy and UpdatedAt name the last edit of a draft's document
	// (UpdateDraft); empty when it is as it was first saved.
	UpdatedBy string     `json:"updated_by,omitempty"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
	// SHA256 is the hex SHA-256 of Body. An editor sends it back as the base
	// of an edit, and a publisher as the text they reviewed, so that a
	// document changed meanwhile is refused rather than overwritten or
	// published unseen.
	SHA256 string `json:"sha256"`
	// Backtest is the last backtest run on this document, or on an earlier
	// text of this draft (then BacktestStale says so); nil if none. Lists
	// (FindPolicies) leave it out.
	Backtest *Backtest `json:"backtest,omitempty"`
	// BacktestStale says why Backtest no longer describes the draft as it
	// is: edited since, or another version in force since. Empty when it
	// does, and for published versions.
	BacktestStale string `json:"backtest_stale,omitempty"`
}

// PolicyPublish is a request to publish a draft.
type PolicyPublish struct {
	// ID is the draft's.
	ID int64 `json:"-"`
	// ChangeNote says what this version changes and why: required, at most
	// MaxChangeNote characters, and not the note of the version in force.
	ChangeNote string `json:"change_note"`
	// SHA256, when set, is the PolicyDoc.SHA256 of the text the publisher
	// reviewed: the publish is refused (conflict) if the draft was edited
	// since.
	SHA256 string `json:"sha256,omitempty"`
}

// MaxChangeNote is the longest change note of a published version, in
// characters.
const MaxChangeNote = 500

// PolicyDiff is a document compared line by line with the version in force
// (for a published version: with the version before it). Runs of unchanged
// lines far from any change are folded into one line of kind DiffFolded.
type PolicyDiff struct {
	// ID is the document's; 0 for a text that is not stored.
	ID int64 `json:"id,omitempty"`
	// FromVersion is the version compared with; 0 when there is none (every
	// line is then added).
	FromVersion int `json:"from_version"`
	Added       int `json:"added"`
	Removed     int `json:"removed"`
	Unchanged   int `json:"unchanged"`
	// Lines are the lines in order: unchanged lines near a change, added,
	// removed, and folded runs.
	Lines []DiffLine `json:"lines"`
}

// Changed reports whether the texts differ.
func (d *PolicyDiff) Changed() bool { return d != nil && d.Added+d.Removed > 0 }

// DiffKind says what a DiffLine is.
type DiffKind string

// The kinds of a diff's lines.
const (
	DiffSame    DiffKind = "same"
	DiffAdded   DiffKind = "added"
	DiffRemoved DiffKind = "removed"
	DiffFolded  DiffKind = "folded"
)

// DiffKinds lists the kinds of a diff's lines.
var DiffKinds = []DiffKind{DiffSame, DiffAdded, DiffRemoved, DiffFolded}

// DiffLine is one line of a PolicyDiff.
type DiffLine struct {
	Kind DiffKind `json:"kind"`
	// Old and New are the 1-based line numbers in the old and the new text
	// (0 where the line is not in that text); for a folded run, those of
	// its first line.
	Old  int    `json:"old,omitempty"`
	New  int    `json:"new,omitempty"`
	Text string `json:"text,omitempty"`
	// Folded is how many unchanged lines a folded run stands for.
	Folded int `json:"folded,omitempty"`
}

// PublishPreview says what publishing a draft would do: the version it
// becomes, the leads rescored and how, the change against the version in
// force, and the note that may not be repeated.
type PublishPreview struct {
	Draft *PolicyDoc `json:"draft"`
	// Version is the version number the draft would get.
	Version int `json:"version"`
	// Leads is how many leads the publish rescores (all of them).
	Leads int `json:"leads"`
	// Replay is true when the engagement rules, the half-life or the fast
	// tracks differ from the version in force: every lead's events are then
	// replayed; otherwise scores are recomputed from the stored engagement.
	Replay bool        `json:"replay"`
	Diff   *PolicyDiff `json:"diff"`
	// Current is the version in force (nil before the first publish); its
	// ChangeNote is the note a publisher may not repeat.
	Current *PolicyDoc `json:"current,omitempty"`
	// SuggestedNote is the change_note written in the draft's document,
	// when it is not the note of the version in force: a start for the
	// publisher's note.
	SuggestedNote string `json:"suggested_note,omitempty"`
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
// with the leads and events already stored. Every backtest run is kept for
// a while with who ran it and when, and beside each draft whose document it
// was run on (PolicyDoc.Backtest).
type Backtest struct {
	Draft   BacktestSide   `json:"draft"`
	Current BacktestSide   `json:"current"`
	Sources []BacktestRow  `json:"by_source"`
	Changes []BacktestLead `json:"changes"` // leads that change sides, up to a limit
	Gained  int            `json:"gained"`  // MQL under the draft only
	Lost    int            `json:"lost"`    // MQL under the current policy only
	Leads   int            `json:"leads"`
	RunAt   time.Time      `json:"run_at"`
	RunBy   string         `json:"run_by"`
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
	// UpdateDraft replaces the document of a draft (validated); base, when
	// set, is the SHA256 of the text the editor started from, and the edit
	// is refused (ECONFLICT) if the draft changed since. Its stored backtest
	// is kept, marked stale, unless the new text was backtested too.
	UpdateDraft(ctx context.Context, id int64, body, base string) (*PolicyDoc, error)
	// PublishPolicy publishes a draft as the next version, with its change
	// note, and rescores every lead.
	PublishPolicy(ctx context.Context, in PolicyPublish) (*PolicyDoc, error)
	// PreviewPublish says what publishing a draft would do, changing nothing.
	PreviewPublish(ctx context.Context, id int64) (*PublishPreview, error)
	// DiffPolicy compares a stored document with the version in force (a
	// published version with the one before it).
	DiffPolicy(ctx context.Context, id int64) (*PolicyDiff, error)
	FindPolicies(ctx context.Context) ([]*PolicyDoc, error)
	// FindPolicy returns a draft or a version, with its stored backtest.
	FindPolicy(ctx context.Context, id int64) (*PolicyDoc, error)
	// CurrentPolicy returns the published policy in force, or ENOTFOUND.
	CurrentPolicy(ctx context.Context) (*PolicyDoc, error)
	// Backtest replays stored leads and events under body and under the
	// current policy, and keeps the result beside every draft of that body.
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
	// The split by time: the outcomes trained on started their clocks from
	// TrainFrom to TrainTo, the held-out ones from HoldoutFrom to HoldoutTo.
	TrainFrom   time.Time `json:"train_from"`
	TrainTo     time.Time `json:"train_to"`
	HoldoutFrom time.Time `json:"holdout_from"`
	HoldoutTo   time.Time `json:"holdout_to"`
	// Features are the inputs the model learnt from.
	Features []string `json:"features"`
}
