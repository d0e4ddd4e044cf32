package baton

import (
	"fmt"
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

// Transition is one legal move of the lifecycle and what it needs.
type Transition struct {
	From, To Stage
	// Roles are the roles that may make the move by hand. The system actor
	// (the scoring policy, the SLA sweeper) may make any move.
	Roles []Role
	// Owner means a rep may make it only on a lead they own; a manager only on
	// their team's leads.
	Owner bool
	// NeedsReason and NeedsNote say what the move must carry.
	NeedsReason bool
	NeedsNote   bool
	// What is a short description of the move, for docs and errors.
	What string
}

var sales = []Role{RoleSDR, RoleManager, RoleAdmin}
var closers = []Role{RoleAE, RoleManager, RoleAdmin}
var owners = []Role{RoleSDR, RoleAE, RoleManager, RoleAdmin}
var marketers = []Role{RoleMarketing, RoleAdmin}

// Transitions is the whole lifecycle: every legal move, in one place. A move
// that is not here is illegal, whoever asks.
var Transitions = []Transition{
	{From: StageNew, To: StageMQL, Roles: marketers, NeedsReason: true, What: "marketing qualifies the lead (by the policy's MQL rule, or by hand with a reason)"},
	{From: StageRecycled, To: StageMQL, Roles: marketers, NeedsReason: true, What: "a nurtured lead is qualified again"},
	{From: StageNew, To: StageDisqualified, Roles: marketers, NeedsReason: true, What: "marketing disqualifies the lead (spam, student, competitor, ...)"},
	{From: StageRecycled, To: StageDisqualified, Roles: marketers, NeedsReason: true, What: "marketing disqualifies a nurtured lead"},
	{From: StageMQL, To: StageSAL, Roles: sales, Owner: true, What: "the rep accepts the lead"},
	{From: StageMQL, To: StageRecycled, Roles: sales, Owner: true, NeedsReason: true, What: "the rep rejects the lead back to nurture"},
	{From: StageMQL, To: StageDisqualified, Roles: sales, Owner: true, NeedsReason: true, What: "the rep rejects and disqualifies the lead"},
	{From: StageSAL, To: StageRecycled, Roles: sales, Owner: true, NeedsReason: true, What: "the rep gives up on an accepted lead, back to nurture"},
	{From: StageSAL, To: StageDisqualified, Roles: sales, Owner: true, NeedsReason: true, What: "the rep disqualifies an accepted lead"},
	{From: StageSAL, To: StageSQL, Roles: sales, Owner: true, What: "the rep qualifies the lead (BANT)"},
	{From: StageSQL, To: StageSAL, Roles: closers, Owner: true, NeedsReason: true, What: "the account executive sends the lead back"},
	{From: StageSQL, To: StageOpportunity, Roles: closers, Owner: true, What: "the account executive converts the lead into an opportunity"},
	{From: StageSQL, To: StageRecycled, Roles: closers, Owner: true, NeedsReason: true, What: "the account executive returns the lead to nurture"},
	{From: StageOpportunity, To: StageWon, Roles: owners, Owner: true, What: "the opportunity is won"},
	{From: StageOpportunity, To: StageLost, Roles: owners, Owner: true, NeedsReason: true, What: "the opportunity is lost"},
}

// FindTransition returns the legal move from one stage to another, or an
// ECONFLICT error naming both stages when there is none.
func FindTransition(from, to Stage) (Transition, error) {
	for _, t := range Transitions {
		if t.From == from && t.To == to {
			return t, nil
		}
	}
	return Transition{}, &Error{Code: ECONFLICT, Field: "stage",
		Message: fmt.Sprintf("a lead cannot move from %s to %s", from, to)}
}

// StageChange asks for one lifecycle move.
type StageChange struct {
	To     Stage  `json:"to"`
	Reason string `json:"reason,omitempty"`
	Note   string `json:"note,omitempty"`
	// From, when set, makes the change a compare-and-set: it fails with
	// ECONFLICT if the lead is no longer in that stage.
	From Stage `json:"from,omitempty"`
}

// Check returns the transition a lead in stage from may make for this change
// made by actor a on a lead owned by ownerID, or the error that forbids it.
// inTeam reports whether ownerID is in the team of a (for managers).
func (c StageChange) Check(a Actor, from Stage, ownerID int64, inTeam bool) (Transition, error) {
	if _, err := ParseStage("to", string(c.To)); err != nil {
		return Transition{}, err
	}
	if c.From != "" && c.From != from {
		return Transition{}, &Error{Code: ECONFLICT, Field: "from",
			Message: fmt.Sprintf("the lead is %s, not %s: someone changed it first", from, c.From)}
	}
	t, err := FindTransition(from, c.To)
	if err != nil {
		return t, err
	}
	if !a.System() {
		if !slices.Contains(t.Roles, a.Role) {
			return t, Errorf(EFORBIDDEN, "a %s may not move a lead from %s to %s", a.Role, from, c.To)
		}
		if t.Owner && !a.CanActOnOwner(ownerID, inTeam) {
			return t, Errorf(EFORBIDDEN, "only the lead's owner (or their manager) may move it from %s to %s", from, c.To)
		}
	}
	if t.NeedsReason && c.Reason == "" {
		return t, FieldError("reason", "moving a lead from %s to %s needs a reason", from, c.To)
	}
	if t.NeedsNote && c.Note == "" {
		return t, FieldError("note", "moving a lead from %s to %s needs a note", from, c.To)
	}
	return t, nil
}
