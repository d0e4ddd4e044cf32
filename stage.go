package baton

import (
	"slices"
)

// Stage is where a lead is in the marketing-to-sales lifecycle.
type Stage string

// The lifecycle stages, in funnel order, then the two side exits.
const (
	StageNew          Stage = "new"          // captured, not yet qualified by marketing
	StageMQL          Stage = "mql"          // marketing qualified: handed to sales, awaiting an answer
	StageSAL          Stage = "sal"          // sales accepted: a rep owns it and must work it
	StageSQL          Stage = "sql"          // sales qualified (BANT): an account executive works it
	StageOpportunity  Stage = "opportunity"  // converted into an opportunity
	StageWon          Stage = "won"          // the opportunity closed won
	StageLost         Stage = "lost"         // the opportunity closed lost
	StageRecycled     Stage = "recycled"     // back to marketing nurture; may become an MQL again
	StageDisqualified Stage = "disqualified" // not a prospect, and never will be
)

// Stages lists every stage in funnel order.
var Stages = []Stage{StageNew, StageMQL, StageSAL, StageSQL, StageOpportunity, StageWon, StageLost, StageRecycled, StageDisqualified}

// ParseStage returns the stage named s, or an EINVALID error naming field.
func ParseStage(field, s string) (Stage, error) {
	st := Stage(s)
	if !slices.Contains(Stages, st) {
		return "", FieldError(field, "unknown stage %q (want one of %v)", s, Stages)
	}
	return st, nil
}

// Open reports whether a lead in this stage can still move forward.
func (s Stage) Open() bool {
	return s != StageWon && s != StageLost && s != StageDisqualified
}

// StageChange asks for one lifecycle move: the generic transition. It makes
// exactly what the rule's verb would, with the same needs, so it carries
// what any verb may need.
type StageChange struct {
	To Stage `json:"to"`
	// Verb picks the rule when several lead from the lead's stage to To
	// (mql to mql: assign, reassign, claim); without it, the first the
	// actor's role may make.
	Verb   Verb   `json:"verb,omitempty"`
	Reason string `json:"reason,omitempty"`
	Note   string `json:"note,omitempty"`
	// From, when set, makes the change a compare-and-set: it fails with
	// ECONFLICT if the lead is no longer in that stage.
	From Stage `json:"from,omitempty"`
	// DuplicateOf is the lead a rejection as duplicate is merged into.
	DuplicateOf int64 `json:"duplicate_of,omitempty"`
	// UserID is the user an assign or reassign gives the lead to.
	UserID int64 `json:"user_id,omitempty"`
	// BANT qualifies a SAL (to sql, or to recycled with timing later).
	BANT *BANT `json:"bant,omitempty"`
	// Opportunity is what a conversion creates; Close what closing records.
	Opportunity *ConvertInput `json:"opportunity,omitempty"`
	Close       *CloseInput   `json:"close,omitempty"`
}
