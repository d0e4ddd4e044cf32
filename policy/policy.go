package policy

import (
	"regexp"
	"time"

	"github.com/batonhq/baton"
)

// Policy is a parsed, checked and compiled scoring policy. Build one with
// [Parse] or [Check]; its exported fields describe the document for display
// and must not be changed after parsing.
type Policy struct {
	// Name, Owner and ChangeNote are the document's name, owner and
	// change_note.
	Name       string
	Owner      string
	ChangeNote string
	// Version is the published version number, set by the caller when the
	// policy is published. 0 is a draft; Score.Why says "draft" then.
	Version int

	// FitRules are the fit rules in document order.
	FitRules []*FitRule
	// HalfLife is engagement.half_life: how long an engagement point takes to
	// lose half its value.
	HalfLife time.Duration
	// EngagementRules are engagement.rules in document order.
	EngagementRules []*EngagementRule
	// MQL holds the qualification thresholds and fast tracks.
	MQL MQL
	// FitGrades and EngagementGrades are the grades, highest threshold first.
	FitGrades        []Grade
	EngagementGrades []Grade
	// Handoff is the routing, answer windows, rejection rules, BANT and
	// accountability of the handoff to sales (DefaultHandoff when the
	// document has no handoff section).
	Handoff Handoff
	// HiddenFromReps lists the fields (as fit rules name them) that lead
	// pages do not show to sales: hidden_from_reps, in document order.
	HiddenFromReps []string
	// PostContact lists the fields sales fills in after contact
	// (post_contact): hidden from sales like HiddenFromReps, and never a
	// feature of the predictive model, for they are known only after the
	// outcome's clock started.
	PostContact []string
	// Outcome is the custom attribute that holds an outcome known from
	// outside Baton (outcome, e.g. "attributes.Converted"): the model's label
	// for a lead without one of its own, never a feature, hidden from sales.
	Outcome string
	// Attributes are the custom attributes the policy expects (attributes):
	// it validates against them as if leads had them, and publishing it
	// defines those no lead has yet, so that a policy publishes on an empty
	// database.
	Attributes []baton.AttributeDef
	// Intake maps the intake's track events and page views to event types
	// (DefaultIntake when the document has no intake section).
	Intake Intake

	// Compiled at parse time.
	maxFit, minFit float64                      // reachable bounds of Fit (upper/lower)
	byEvent        map[string][]*EngagementRule // engagement rules by event type
	fastByEvent    map[string]*FastTrack
	hasEngNeg      bool // some engagement rule has negative points
	hasEngPos      bool // some engagement rule has positive points
	engagementKey  string
	keyPrefix      []byte   // how the binary form of its states begins
	stateNames     []string // the strings its states hold (stateStrings)
	fitReads       FitReads
	readsProps     bool
	hidden         []hiddenField  // HiddenFromReps, PostContact and Outcome with their lines
	attrLines      map[string]int // Attributes' lines
}

// EngagementKey identifies how the policy builds Engagement states: two
// policies with the same key build the same state from the same events, so
// a state built under one serves the other without replaying the events.
func (p *Policy) EngagementKey() string { return p.engagementKey }

// FitReads says which parts of a lead the fit rules read.
type FitReads struct {
	// Fields are the lead fields read, by name, in the order of fieldList
	// (email_domain reads email).
	Fields []string
	// Account is whether a rule reads a field of the lead's account.
	Account bool
	// Attributes is whether a rule reads a custom attribute.
	Attributes bool
}

// FitReads returns what the fit rules read of a lead: a store that rescores
// many leads reads only that.
func (p *Policy) FitReads() FitReads { return p.fitReads }

// ReadsProperties reports whether an engagement rule or fast track has
// conditions on event properties: without, a replay needs no properties.
func (p *Policy) ReadsProperties() bool { return p.readsProps }

// FitRule gives points to a lead whose field meets a condition. Every
// matching fit rule counts.
type FitRule struct {
	Name   string
	Points float64
	// Condition names the field (Condition.Field) and what it must meet.
	Condition Condition
	// Line is the rule's line in the document.
	Line int

	fieldLine int
}

// EngagementRule gives points for each event of a type (and, with Where,
// whose properties meet every condition). Points decay with the policy's
// half-life.
type EngagementRule struct {
	Name  string
	Event string
	// Where are conditions on the event's properties; Condition.Field is the
	// property name. All must hold.
	Where  []*Condition
	Points float64
	// Once makes the rule count one event per lead: the most recent one.
	Once bool
	// Cap, when set, limits the points the rule gives per time window.
	Cap  *Cap
	Line int

	detail string
}

// Cap limits a rule to Points (in absolute value, before decay) per window
// of length Per. Windows are fixed: they start at multiples of Per counted
// from 0001-01-01 00:00 UTC (time.Time.Truncate), so 1d windows are UTC
// days and 7d windows start on Mondays at 00:00 UTC.
type Cap struct {
	Points float64
	Per    time.Duration
}

// MQL holds when a lead qualifies as a Marketing Qualified Lead. A nil
// threshold is not set. With Match "all" every threshold set must hold; with
// "any" one is enough. Independently, a fast track qualifies a lead.
type MQL struct {
	Fit        *float64
	Engagement *float64
	// Combined is a threshold on Fit + Engagement.
	Combined  *float64
	Match     string // MatchAll or MatchAny
	FastTrack []*FastTrack
	Line      int
}

// Values of MQL.Match.
const (
	MatchAll = "all"
	MatchAny = "any"
)

// FastTrack qualifies a lead that did Event (whose properties meet Where)
// within Within before the evaluation time (0: ever), provided its fit is at
// least MinFit (nil: any fit).
type FastTrack struct {
	Event  string
	MinFit *float64
	Within time.Duration
	Where  []*Condition
	Line   int
}

// Grade is a named band: a score gets the first grade (highest Min first)
// whose Min it reaches.
type Grade struct {
	Name string
	Min  float64
	line int
}

// Condition is one test on one value: of a lead, account or attribute field
// for fit rules, of an event property for where clauses. Op is one of
// equals, in, range, contains, regex, missing.
type Condition struct {
	Field string
	Op    string
	// Values holds the value of equals (one) or the list of in.
	Values []Value
	// Min and Max are the inclusive bounds of range; nil is unbounded.
	Min, Max *float64
	// Text is the substring of contains or the expression of regex.
	Text string
	// Missing is the value of missing: true matches a missing value, false
	// a present one.
	Missing bool
	Line    int

	op     opKind
	acc    accessor
	lower  string         // contains, lower case
	re     *regexp.Regexp // regex
	set    map[string]struct{}
	detail string
}

// Value is a scalar of a condition as written: its text, and its number or
// boolean reading when it has one.
type Value struct {
	Text   string
	Num    float64
	IsNum  bool
	Bool   bool
	IsBool bool
}

// Subject is what fit is computed on: a lead and its account (nil when the
// lead has none; account fields are then missing).
type Subject struct {
	Lead    *baton.Lead
	Account *baton.Account
}

// Axis names of a Reason: the domain's (baton.ScoreAxes).
const (
	AxisFit        = baton.AxisFit
	AxisEngagement = baton.AxisEngagement
)

// Reason is one rule's contribution to a score.
type Reason struct {
	Rule string `json:"rule"`
	// Axis is "fit" or "engagement".
	Axis string `json:"axis"`
	// Points are the rule's points: for engagement, decayed to the time of
	// evaluation (by Apply: at the event's own time).
	Points float64 `json:"points"`
	// Detail says what matched, e.g. `title contains "VP"`.
	Detail string `json:"detail"`
	// Events is the number of events the rule counted (engagement only).
	Events int `json:"events,omitempty"`
}

// Score is a lead's evaluation under a policy at one time.
type Score struct {
	Fit             float64 `json:"fit"`
	Engagement      float64 `json:"engagement"`
	FitGrade        string  `json:"fit_grade,omitempty"`
	EngagementGrade string  `json:"engagement_grade,omitempty"`
	// Qualifies is true if the lead meets the MQL thresholds or a fast track.
	Qualifies bool `json:"qualifies"`
	// Why explains Qualifies in one line, e.g.
	// "policy v3: fit 45 >= 40, engagement 32 >= 30".
	Why string `json:"why"`
	// Reasons are the fit then engagement contributions; they sum to
	// Fit + Engagement.
	Reasons []Reason `json:"reasons"`
}

// Schema is what a policy is checked against: the custom attributes known
// and their types. Event types are not checked (any lower_snake_case name).
type Schema struct {
	Attributes map[string]baton.AttrType
}

// SchemaOf makes a Schema from stored attribute definitions.
func SchemaOf(defs []baton.AttributeDef) Schema {
	s := Schema{Attributes: make(map[string]baton.AttrType, len(defs))}
	for _, d := range defs {
		s.Attributes[d.Name] = d.Type
	}
	return s
}
