package baton

import (
	"fmt"
	"slices"
	"strings"
)

// Verb is how a move of the lifecycle is asked for. The API route, the web
// button and the CLI command of a verb all make the same move, and the
// generic transition (StageChange) makes exactly what its verb would.
type Verb string

// The verbs of the lifecycle.
const (
	VerbPromote    Verb = "promote"    // new or recycled to mql: the policy's MQL rule, or marketing by hand
	VerbDisqualify Verb = "disqualify" // marketing drops a lead it has not handed to sales
	VerbClaim      Verb = "claim"      // a development rep pulls an unassigned MQL or a nurtured lead that keeps engaging
	VerbAssign     Verb = "assign"     // a manager gives an unowned lead of their team's pool to a rep
	VerbReassign   Verb = "reassign"   // a manager moves a lead from one of their reps to another
	VerbBreach     Verb = "breach"     // the SLA sweeper: an open handoff passed its deadline
	VerbAccept     Verb = "accept"     // the owner of an open handoff accepts it
	VerbReject     Verb = "reject"     // the owner refuses an MQL or a SAL with an agreed reason
	VerbQualify    Verb = "qualify"    // BANT: a SAL becomes an SQL, or goes back to nurture until its timing
	VerbSendBack   Verb = "send_back"  // the account executive returns an SQL to the development rep
	VerbRecycle    Verb = "recycle"    // the account executive returns an SQL to marketing's nurture
	VerbConvert    Verb = "convert"    // an SQL becomes an opportunity, once
	VerbClose      Verb = "close"      // the opportunity is won or lost
)

// Verbs lists the verbs, in the order of the lifecycle.
var Verbs = []Verb{VerbPromote, VerbDisqualify, VerbClaim, VerbAssign, VerbReassign, VerbBreach, VerbAccept,
	VerbReject, VerbQualify, VerbSendBack, VerbRecycle, VerbConvert, VerbClose}

// Who is who may make a move.
type Who struct {
	// Roles are the roles of the users who may make it. The system (the
	// scoring policy, the SLA sweeper, an operator's command) may make a
	// move only where System is set.
	Roles  []Role
	System bool
	// Owner: a rep may make the move only on a lead they own, a manager
	// only on their team's leads (or, with Pool, an unowned lead of their
	// team's routing pool); an admin and the system on any.
	Owner bool
	Pool  bool
}

// Need is something a move must carry or find true before it is made.
type Need string

// What moves need.
const (
	NeedReason      Need = "reason"       // a reason in words
	NeedRejection   Need = "rejection"    // a reason of the agreed list whose policy outcome is the move's stage; unable_to_reach needs the logged attempts, other a note, duplicate a live lead the rep may read
	NeedBANT        Need = "bant"         // the BANT parts the policy requires (timing later with a date, for the move to nurture)
	NeedOpportunity Need = "opportunity"  // the opportunity's name and amount; a retry with the same idempotency key is the same conversion
	NeedCloseValue  Need = "close_value"  // the value won
	NeedLostReason  Need = "lost_reason"  // why it was lost
	NeedCoolDown    Need = "cool_down"    // a recycled lead's cool-down has passed
	NeedAssignee    Need = "assignee"     // an active user of the team whose role fits the stage
	NeedOpenHandoff Need = "open_handoff" // an open handoff of the stage's kind
	NeedPastDue     Need = "past_due"     // the open handoff's deadline has passed
	NeedUnowned     Need = "unowned"      // the lead has no owner
	NeedPullAllowed Need = "pull_allowed" // the policy lets reps pull such leads (and, from nurture, the lead was there long enough and keeps engaging)
)

// OwnerEffect says what a move does to the lead's owner.
type OwnerEffect string

// What a move does to the owner.
const (
	OwnerKeep      OwnerEffect = ""          // stays
	OwnerRouted    OwnerEffect = "routed"    // chosen by the policy's routes for the new handoff
	OwnerAssignee  OwnerEffect = "assignee"  // the user the move names
	OwnerActor     OwnerEffect = "actor"     // the user who makes it (a claim)
	OwnerQualifier OwnerEffect = "qualifier" // the development rep who qualified the lead
	OwnerCleared   OwnerEffect = "cleared"   // none: the lead is marketing's again
	// OwnerPolicy: as the policy's on_breach says. The breached handoff is
	// closed reassigned (the next rep who has not breached the lead gets a
	// new one, or the manager once when none is left), returned (the lead
	// goes back to the pool) or left open (notify: the rep may still answer).
	OwnerPolicy OwnerEffect = "policy"
)

// Effects is what a move causes besides the change of stage and its
// history entry, in the order it happens.
type Effects struct {
	// Close is the state the lead's open handoff is closed with; "" leaves
	// it (Open then opens none either).
	Close HandoffState
	// Open is the kind of handoff opened with its SLA deadline, reminder
	// and breach jobs; "" opens none.
	Open  HandoffKind
	Owner OwnerEffect
	// Nurture sets the nurture track and the cool-down before the lead may
	// become an MQL again.
	Nurture bool
	// Record names what the move stores besides the lead: "bant",
	// "opportunity", "close", "merge".
	Record string
	// StaleCheck schedules the check that the accepted lead becomes an
	// opportunity within the policy's limit.
	StaleCheck bool
	// Notify lists who is told in the inbox (and by email where the policy
	// says): "owner" (the new owner), "previous" (the owner before),
	// "manager" (the previous owner's manager), "marketing", "qualifier".
	Notify []string
	// Events are the webhook events emitted, in order (see WebhookEvents):
	// every move emits at least one. "lead.assigned" is left out when the
	// move was to open a handoff and none could be (nobody to route to).
	Events []string
}

// Rule is one legal move of the lifecycle: from a stage, through a verb, to
// a stage; who may make it, what it needs and what it causes. Rules is the
// whole contract; a move that is not a rule is refused, whoever asks.
type Rule struct {
	From, To Stage
	Verb     Verb
	Who      Who
	Needs    []Need
	Effects  Effects
	// What is the move in words, for docs and errors.
	What string
}

// Generic reports whether the generic transition (a StageChange without a
// verb) may pick the rule: moves within a stage and from the pool (claim,
// assign, reassign, breach) are asked for by their verb.
func (r Rule) Generic() bool {
	switch r.Verb {
	case VerbClaim, VerbAssign, VerbReassign, VerbBreach:
		return false
	}
	return true
}

// Need reports whether the rule needs n.
func (r Rule) Need(n Need) bool { return slices.Contains(r.Needs, n) }

var (
	roleMarketers = []Role{RoleMarketing, RoleAdmin}
	roleSDRs      = []Role{RoleSDR, RoleManager, RoleAdmin}
	roleAEs       = []Role{RoleAE, RoleManager, RoleAdmin}
	roleReps      = []Role{RoleSDR, RoleAE, RoleManager, RoleAdmin}
	roleManagers  = []Role{RoleManager, RoleAdmin}
)

// Rules is the lifecycle: every legal move, in one place.
var Rules = []Rule{
	{From: StageNew, To: StageMQL, Verb: VerbPromote, Who: Who{Roles: roleMarketers, System: true}, Needs: []Need{NeedReason},
		Effects: Effects{Open: HandoffSDR, Owner: OwnerRouted, Notify: []string{"owner"}, Events: []string{"lead.mql", "lead.assigned"}},
		What:    "marketing qualifies the lead (by the policy's MQL rule, or by hand with a reason); it is routed to a development rep"},
	{From: StageRecycled, To: StageMQL, Verb: VerbPromote, Who: Who{Roles: roleMarketers, System: true}, Needs: []Need{NeedReason, NeedCoolDown},
		Effects: Effects{Open: HandoffSDR, Owner: OwnerRouted, Notify: []string{"owner"}, Events: []string{"lead.mql", "lead.assigned"}},
		What:    "a nurtured lead is qualified again, once its cool-down has passed"},
	{From: StageNew, To: StageDisqualified, Verb: VerbDisqualify, Who: Who{Roles: roleMarketers, System: true}, Needs: []Need{NeedReason},
		Effects: Effects{Events: []string{"lead.disqualified"}},
		What:    "marketing disqualifies the lead (spam, student, competitor, ...)"},
	{From: StageRecycled, To: StageDisqualified, Verb: VerbDisqualify, Who: Who{Roles: roleMarketers, System: true}, Needs: []Need{NeedReason},
		Effects: Effects{Events: []string{"lead.disqualified"}},
		What:    "marketing disqualifies a nurtured lead"},

	{From: StageMQL, To: StageMQL, Verb: VerbClaim, Who: Who{Roles: []Role{RoleSDR}}, Needs: []Need{NeedUnowned, NeedPullAllowed},
		Effects: Effects{Open: HandoffSDR, Owner: OwnerActor, Events: []string{"lead.assigned"}},
		What:    "a development rep claims an unassigned MQL, where the policy allows it"},
	{From: StageNew, To: StageMQL, Verb: VerbClaim, Who: Who{Roles: []Role{RoleSDR}}, Needs: []Need{NeedUnowned, NeedPullAllowed},
		Effects: Effects{Open: HandoffSDR, Owner: OwnerActor, Events: []string{"lead.mql", "lead.assigned"}},
		What:    "a development rep pulls a lead that has waited long enough and keeps engaging, where the policy allows it"},
	{From: StageRecycled, To: StageMQL, Verb: VerbClaim, Who: Who{Roles: []Role{RoleSDR}}, Needs: []Need{NeedUnowned, NeedPullAllowed},
		Effects: Effects{Open: HandoffSDR, Owner: OwnerActor, Events: []string{"lead.mql", "lead.assigned"}},
		What:    "a development rep pulls a nurtured lead that keeps engaging, where the policy allows it"},

	{From: StageMQL, To: StageMQL, Verb: VerbAssign, Who: Who{Roles: roleManagers, System: true, Pool: true}, Needs: []Need{NeedUnowned, NeedAssignee},
		Effects: Effects{Close: HandoffReassigned, Open: HandoffSDR, Owner: OwnerAssignee, Notify: []string{"owner"}, Events: []string{"lead.assigned"}},
		What:    "a manager gives an unassigned MQL of their team's pool to one of their development reps"},
	{From: StageSQL, To: StageSQL, Verb: VerbAssign, Who: Who{Roles: roleManagers, System: true, Pool: true}, Needs: []Need{NeedUnowned, NeedAssignee},
		Effects: Effects{Close: HandoffReassigned, Open: HandoffAE, Owner: OwnerAssignee, Notify: []string{"owner"}, Events: []string{"lead.assigned"}},
		What:    "a manager gives an unassigned SQL of their team's pool to one of their account executives"},
	{From: StageMQL, To: StageMQL, Verb: VerbReassign, Who: Who{Roles: roleManagers, System: true, Owner: true}, Needs: []Need{NeedAssignee},
		Effects: Effects{Close: HandoffReassigned, Open: HandoffSDR, Owner: OwnerAssignee, Notify: []string{"owner", "previous"}, Events: []string{"lead.assigned"}},
		What:    "a manager moves an MQL to another development rep of the team, with a new answer window"},
	{From: StageSAL, To: StageSAL, Verb: VerbReassign, Who: Who{Roles: roleManagers, System: true, Owner: true}, Needs: []Need{NeedAssignee},
		Effects: Effects{Owner: OwnerAssignee, Notify: []string{"owner", "previous"}, Events: []string{"lead.reassigned"}},
		What:    "a manager moves an accepted lead to another development rep of the team"},
	{From: StageSQL, To: StageSQL, Verb: VerbReassign, Who: Who{Roles: roleManagers, System: true, Owner: true}, Needs: []Need{NeedAssignee},
		Effects: Effects{Close: HandoffReassigned, Open: HandoffAE, Owner: OwnerAssignee, Notify: []string{"owner", "previous"}, Events: []string{"lead.assigned"}},
		What:    "a manager moves an SQL to another account executive of the team, with a new answer window"},
	{From: StageOpportunity, To: StageOpportunity, Verb: VerbReassign, Who: Who{Roles: roleManagers, System: true, Owner: true}, Needs: []Need{NeedAssignee},
		Effects: Effects{Owner: OwnerAssignee, Notify: []string{"owner", "previous"}, Events: []string{"lead.reassigned"}},
		What:    "a manager moves an opportunity to another account executive of the team"},
	{From: StageMQL, To: StageMQL, Verb: VerbBreach, Who: Who{System: true}, Needs: []Need{NeedOpenHandoff, NeedPastDue},
		Effects: Effects{Open: HandoffSDR, Owner: OwnerPolicy, Notify: []string{"owner", "previous", "manager"}, Events: []string{"lead.breached"}},
		What:    "the development rep did not answer within the SLA: the breach is recorded, the manager told, and by policy the lead goes to the next rep, the pool, or stays"},
	{From: StageSQL, To: StageSQL, Verb: VerbBreach, Who: Who{System: true}, Needs: []Need{NeedOpenHandoff, NeedPastDue},
		Effects: Effects{Open: HandoffAE, Owner: OwnerPolicy, Notify: []string{"owner", "previous", "manager"}, Events: []string{"lead.breached"}},
		What:    "the account executive did not answer within the SLA"},

	{From: StageMQL, To: StageSAL, Verb: VerbAccept, Who: Who{Roles: roleSDRs, Owner: true}, Needs: []Need{NeedOpenHandoff},
		Effects: Effects{Close: HandoffAccepted, StaleCheck: true, Events: []string{"lead.accepted"}},
		What:    "the development rep accepts the lead: the handoff is met or late, and the accountability clock starts"},
	{From: StageSQL, To: StageSQL, Verb: VerbAccept, Who: Who{Roles: roleAEs, Owner: true}, Needs: []Need{NeedOpenHandoff},
		Effects: Effects{Close: HandoffAccepted, Events: []string{"lead.accepted"}},
		What:    "the account executive accepts the SQL"},
	{From: StageMQL, To: StageRecycled, Verb: VerbReject, Who: Who{Roles: roleSDRs, Owner: true}, Needs: []Need{NeedRejection},
		Effects: Effects{Close: HandoffRejected, Owner: OwnerCleared, Nurture: true, Notify: []string{"marketing"}, Events: []string{"lead.rejected"}},
		What:    "the development rep rejects the lead with a reason whose outcome is recycle: back to nurture"},
	{From: StageMQL, To: StageDisqualified, Verb: VerbReject, Who: Who{Roles: roleSDRs, Owner: true}, Needs: []Need{NeedRejection},
		Effects: Effects{Close: HandoffRejected, Record: "merge", Notify: []string{"marketing"}, Events: []string{"lead.rejected"}},
		What:    "the development rep rejects the lead with a reason whose outcome is disqualify (a duplicate is merged into the lead it duplicates)"},
	{From: StageSAL, To: StageRecycled, Verb: VerbReject, Who: Who{Roles: roleSDRs, Owner: true}, Needs: []Need{NeedRejection},
		Effects: Effects{Owner: OwnerCleared, Nurture: true, Notify: []string{"marketing"}, Events: []string{"lead.rejected"}},
		What:    "the development rep gives up on an accepted lead: back to nurture"},
	{From: StageSAL, To: StageDisqualified, Verb: VerbReject, Who: Who{Roles: roleSDRs, Owner: true}, Needs: []Need{NeedRejection},
		Effects: Effects{Record: "merge", Notify: []string{"marketing"}, Events: []string{"lead.rejected"}},
		What:    "the development rep disqualifies an accepted lead"},
	{From: StageSAL, To: StageSQL, Verb: VerbQualify, Who: Who{Roles: roleSDRs, Owner: true}, Needs: []Need{NeedBANT},
		Effects: Effects{Record: "bant", Open: HandoffAE, Owner: OwnerRouted, Notify: []string{"owner"}, Events: []string{"lead.qualified", "lead.assigned"}},
		What:    "the development rep qualifies the lead with BANT: it is routed to an account executive"},
	{From: StageSAL, To: StageRecycled, Verb: VerbQualify, Who: Who{Roles: roleSDRs, Owner: true}, Needs: []Need{NeedBANT},
		Effects: Effects{Record: "bant", Owner: OwnerCleared, Nurture: true, Notify: []string{"marketing"}, Events: []string{"lead.recycled"}},
		What:    "the development rep qualifies the lead with timing later: back to nurture until that date"},
	{From: StageSQL, To: StageSAL, Verb: VerbSendBack, Who: Who{Roles: roleAEs, Owner: true}, Needs: []Need{NeedReason},
		Effects: Effects{Close: HandoffRejected, Owner: OwnerQualifier, Notify: []string{"owner"}, Events: []string{"lead.sent_back"}},
		What:    "the account executive sends the lead back to the development rep who qualified it"},
	{From: StageSQL, To: StageRecycled, Verb: VerbRecycle, Who: Who{Roles: roleAEs, Owner: true}, Needs: []Need{NeedReason},
		Effects: Effects{Close: HandoffRejected, Owner: OwnerCleared, Nurture: true, Notify: []string{"marketing"}, Events: []string{"lead.recycled"}},
		What:    "the account executive returns the lead to nurture"},
	{From: StageSQL, To: StageOpportunity, Verb: VerbConvert, Who: Who{Roles: roleAEs, Owner: true}, Needs: []Need{NeedOpportunity},
		Effects: Effects{Close: HandoffAccepted, Record: "opportunity", Notify: []string{"qualifier"}, Events: []string{"lead.converted"}},
		What:    "the account executive converts the lead into an opportunity, once however often it is retried"},
	{From: StageOpportunity, To: StageWon, Verb: VerbClose, Who: Who{Roles: roleReps, Owner: true}, Needs: []Need{NeedCloseValue},
		Effects: Effects{Record: "close", Events: []string{"lead.won"}},
		What:    "the opportunity is won, with its value"},
	{From: StageOpportunity, To: StageLost, Verb: VerbClose, Who: Who{Roles: roleReps, Owner: true}, Needs: []Need{NeedLostReason},
		Effects: Effects{Record: "close", Events: []string{"lead.lost"}},
		What:    "the opportunity is lost, with why"},
}

// Relation is how the actor stands to the lead a move is asked on.
type Relation struct {
	// OwnerID is the lead's owner (0: none).
	OwnerID int64
	// InTeam says the owner reports to the actor (a manager).
	InTeam bool
	// InPool says the unowned lead is in a routing pool of the actor's team.
	InPool bool
}

// Allows returns nil if the actor may make the rule's move on a lead they
// stand to as rel, or the EFORBIDDEN error that says why not.
func (r Rule) Allows(a Actor, rel Relation) error {
	if a.System() {
		if !r.Who.System {
			return Errorf(EFORBIDDEN, "%s is made by a person, not by the system", r.Verb)
		}
		return nil
	}
	if !slices.Contains(r.Who.Roles, a.Role) {
		return Errorf(EFORBIDDEN, "%s may not %s a lead from %s to %s", a.Role.Words(), verbWords(r.Verb), r.From, r.To)
	}
	switch {
	case !(r.Who.Owner || r.Who.Pool):
		return nil
	case r.Who.Pool && rel.OwnerID == 0:
		if a.Role == RoleAdmin || rel.InPool {
			return nil
		}
		return Errorf(EFORBIDDEN, "a manager assigns only unassigned leads of their own team's pool")
	case r.Who.Owner && rel.OwnerID == 0:
		return Errorf(EFORBIDDEN, "nobody owns the lead: it must be assigned before it can be %s", pastTense(r.Verb))
	case r.Who.Owner && a.CanActOnOwner(rel.OwnerID, rel.InTeam):
		return nil
	}
	return Errorf(EFORBIDDEN, "only the lead's owner (or their manager) may %s it", verbWords(r.Verb))
}

func verbWords(v Verb) string { return strings.ReplaceAll(string(v), "_", " ") }

// RulesFor returns the rules of a verb from a stage.
func RulesFor(from Stage, v Verb) []Rule {
	var out []Rule
	for _, r := range Rules {
		if r.From == from && r.Verb == v {
			out = append(out, r)
		}
	}
	return out
}

// FindRule returns the rule of the verb from one stage to another. Without a
// verb, it is the first generic rule from the stage to the other that the
// actor's role may make (the generic transition), or else the first. The error is ECONFLICT naming
// the stages, and what the verb could do from there, when there is none.
func FindRule(from Stage, v Verb, to Stage, a Actor) (Rule, error) {
	var first *Rule
	for i, r := range Rules {
		if r.From != from || r.To != to || (v != "" && r.Verb != v) {
			continue
		}
		if v == "" && !r.Generic() {
			continue
		}
		if v != "" || a.System() && r.Who.System || slices.Contains(r.Who.Roles, a.Role) {
			return r, nil
		}
		if first == nil {
			first = &Rules[i]
		}
	}
	if first != nil {
		return *first, nil
	}
	if v != "" {
		var tos []string
		for _, r := range RulesFor(from, v) {
			tos = append(tos, string(r.To))
		}
		if len(tos) == 0 {
			return Rule{}, &Error{Code: ECONFLICT, Field: "stage", Message: fmt.Sprintf("a lead that is %s cannot be %s", from, pastTense(v))}
		}
		return Rule{}, &Error{Code: ECONFLICT, Field: "to", Message: fmt.Sprintf("%s moves a lead that is %s to %s, not to %s", verbWords(v), from, strings.Join(tos, " or "), to)}
	}
	return Rule{}, &Error{Code: ECONFLICT, Field: "stage", Message: fmt.Sprintf("a lead cannot move from %s to %s", from, to)}
}

func pastTense(v Verb) string {
	switch v {
	case VerbSendBack:
		return "sent back"
	case VerbBreach:
		return "breached"
	case VerbClose:
		return "closed"
	case VerbQualify:
		return "qualified"
	case VerbPromote:
		return "promoted to MQL"
	}
	w := verbWords(v)
	if strings.HasSuffix(w, "e") {
		return w + "d"
	}
	return w + "ed"
}

// MayMake reports whether some rule of the verb lets the actor's role make
// it (on some lead).
func MayMake(a Actor, v Verb) bool {
	for _, r := range Rules {
		if r.Verb == v && (a.System() && r.Who.System || !a.System() && slices.Contains(r.Who.Roles, a.Role)) {
			return true
		}
	}
	return false
}

// Moves returns the rules from the lead's stage that the actor may make by
// hand, for a page to offer them; the needs are checked when a move is made.
func Moves(a Actor, from Stage, rel Relation) []Rule {
	var out []Rule
	for _, r := range Rules {
		if r.From != from || r.Verb == VerbBreach {
			continue
		}
		if r.Allows(a, rel) == nil && !(r.Need(NeedUnowned) && rel.OwnerID != 0) {
			out = append(out, r)
		}
	}
	return out
}

// CanMake reports whether the actor may make a verb on the lead by hand
// (from its stage to any stage).
func CanMake(a Actor, from Stage, rel Relation, v Verb) bool {
	for _, r := range Moves(a, from, rel) {
		if r.Verb == v {
			return true
		}
	}
	return false
}

// RulesMarkdown renders the lifecycle table as Markdown, for the README
// (a test keeps the README's copy the same) and `baton rules`.
func RulesMarkdown() string {
	var b strings.Builder
	b.WriteString("| from | verb | to | who | needs | causes |\n|---|---|---|---|---|---|\n")
	for _, r := range Rules {
		who := make([]string, 0, len(r.Who.Roles)+1)
		for _, role := range r.Who.Roles {
			who = append(who, string(role))
		}
		if r.Who.System {
			who = append(who, "system")
		}
		scope := ""
		switch {
		case r.Who.Pool:
			scope = " (their team's pool)"
		case r.Who.Owner:
			scope = " (the owner, their manager)"
		}
		needs := make([]string, len(r.Needs))
		for i, n := range r.Needs {
			needs[i] = string(n)
		}
		var causes []string
		e := r.Effects
		if e.Close != "" {
			causes = append(causes, "handoff "+string(e.Close))
		}
		if e.Open != "" {
			causes = append(causes, "new "+string(e.Open)+" handoff")
		}
		if e.Owner != OwnerKeep {
			causes = append(causes, "owner: "+string(e.Owner))
		}
		if e.Nurture {
			causes = append(causes, "nurture track and cool-down")
		}
		if e.Record != "" {
			causes = append(causes, "records "+e.Record)
		}
		if e.StaleCheck {
			causes = append(causes, "opportunity check")
		}
		if len(e.Notify) > 0 {
			causes = append(causes, "tells "+strings.Join(e.Notify, ", "))
		}
		if len(e.Events) > 0 {
			causes = append(causes, "`"+strings.Join(e.Events, "`, `")+"`")
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s%s | %s | %s |\n", r.From, r.Verb, r.To, strings.Join(who, ", "), scope,
			strings.Join(needs, ", "), strings.Join(causes, "; "))
	}
	return b.String()
}
