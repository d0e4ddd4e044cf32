package baton

import (
	"context"
	"strings"
	"time"
)

// HandoffKind says who must answer a handoff.
type HandoffKind string

// The kinds of handoff: an MQL to a development rep, an SQL to an account executive.
const (
	HandoffSDR HandoffKind = "sdr"
	HandoffAE  HandoffKind = "ae"
)

// HandoffKinds lists the kinds of handoff.
var HandoffKinds = []HandoffKind{HandoffSDR, HandoffAE}

// HandoffState is where a handoff is: open, or how it was closed.
type HandoffState string

// Handoff states.
const (
	HandoffOpen       HandoffState = "open"       // waiting for the rep's answer
	HandoffAccepted   HandoffState = "accepted"   // the rep accepted in time or late (see Met)
	HandoffRejected   HandoffState = "rejected"   // the rep rejected (or sent back) with a reason
	HandoffReassigned HandoffState = "reassigned" // taken from the rep: breach, a manager, a claim
	HandoffReturned   HandoffState = "returned"   // breached and returned to the pool
	HandoffClosed     HandoffState = "closed"     // the lead left the stage some other way
)

// HandoffStates lists the states of a handoff, open first.
var HandoffStates = []HandoffState{HandoffOpen, HandoffAccepted, HandoffRejected, HandoffReassigned, HandoffReturned, HandoffClosed}

// What the policy's on_breach does when a handoff passes its deadline.
const (
	BreachNotify   = "notify"   // the manager is told; the rep may still answer, late
	BreachReassign = "reassign" // also, the next rep of the pool who has not breached the lead gets it
	BreachReturn   = "return"   // also, the lead goes back to the pool, unassigned
)

// BreachActions lists what on_breach may say.
var BreachActions = []string{BreachNotify, BreachReassign, BreachReturn}

// What the policy's rejection reasons do.
const (
	OutcomeRecycle    = "recycle"    // back to marketing's nurture, with a cool-down
	OutcomeDisqualify = "disqualify" // never a prospect
	OutcomeMerge      = "merge"      // a duplicate: merged into the lead it duplicates
)

// Handoff is one assignment of a lead to a person who must answer within a
// window: its SLA record.
type Handoff struct {
	ID          int64        `json:"id"`
	LeadID      int64        `json:"lead_id"`
	Kind        HandoffKind  `json:"kind"`
	OwnerID     int64        `json:"owner_id"`
	State       HandoffState `json:"state"`
	Why         string       `json:"why"` // which rule, pool and turn chose the owner
	Pull        bool         `json:"pull,omitempty"`
	AssignedAt  time.Time    `json:"assigned_at"`
	DueAt       time.Time    `json:"due_at"`
	RemindAt    time.Time    `json:"remind_at"`
	RemindedAt  *time.Time   `json:"reminded_at,omitempty"`
	AnsweredAt  *time.Time   `json:"answered_at,omitempty"`
	BreachedAt  *time.Time   `json:"breached_at,omitempty"`
	EscalatedTo *int64       `json:"escalated_to,omitempty"`
	// Met says whether the answer came within the window (nil while open).
	Met *bool `json:"met,omitempty"`
	// WorkingSeconds is the working time the answer took.
	WorkingSeconds int64 `json:"working_seconds"`
}

// Reject reasons, in the order a rep sees them.
const (
	ReasonUnableToReach  = "unable_to_reach"
	ReasonInaccurateData = "inaccurate_data"
	ReasonNoBudget       = "no_budget"
	ReasonNoAuthority    = "no_authority"
	ReasonNoNeed         = "no_need"
	ReasonBadTiming      = "bad_timing"
	ReasonNoFit          = "no_fit"
	ReasonDuplicate      = "duplicate"
	ReasonOther          = "other"
)

// RejectReasons lists the reasons a rep may give.
var RejectReasons = []string{ReasonUnableToReach, ReasonInaccurateData, ReasonNoBudget, ReasonNoAuthority, ReasonNoNeed,
	ReasonBadTiming, ReasonNoFit, ReasonDuplicate, ReasonOther}

// Rejection is a rep's refusal of a lead, with the agreed reason.
type Rejection struct {
	Reason      string `json:"reason"`
	Note        string `json:"note,omitempty"`
	DuplicateOf int64  `json:"duplicate_of,omitempty"`
	// From, when set, makes the rejection a compare-and-set: it fails with
	// ECONFLICT if the lead is no longer in that stage (a rep rejecting an
	// MQL that someone else accepted meanwhile).
	From Stage `json:"from,omitempty"`
}

// Validate checks what a rejection needs by itself: a known reason, a note
// for other, the lead duplicated for duplicate. Attempts are checked by storage.
func (r *Rejection) Validate() error {
	r.Reason = strings.TrimSpace(r.Reason)
	r.Note = strings.TrimSpace(r.Note)
	switch {
	case r.Reason == "":
		return FieldError("reason", "required: say which agreed criterion the lead does not meet (%s)", strings.Join(RejectReasons, ", "))
	case !contains(RejectReasons, r.Reason):
		return FieldError("reason", "unknown reason %q (want one of %s)", r.Reason, strings.Join(RejectReasons, ", "))
	case r.Reason == ReasonOther && r.Note == "":
		return FieldError("note", "the reason other needs a note saying what is wrong")
	case r.Reason == ReasonDuplicate && r.DuplicateOf <= 0:
		return FieldError("duplicate_of", "the reason duplicate needs the id of the lead this one duplicates")
	case r.Reason != ReasonDuplicate && r.DuplicateOf != 0:
		return FieldError("duplicate_of", "only the reason duplicate names another lead")
	case r.From != "" && r.From != StageMQL && r.From != StageSAL:
		return FieldError("from", "only an MQL or a SAL can be rejected, not %q", r.From)
	}
	return checkText("note", r.Note, 2000)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Attempt channels.
const (
	ChannelCall    = "call"
	ChannelEmail   = "email"
	ChannelMeeting = "meeting"
)

// AttemptChannels lists the channels of a contact attempt.
var AttemptChannels = []string{ChannelCall, ChannelEmail, ChannelMeeting}

// Attempt is one logged try to reach a lead.
type Attempt struct {
	ID      int64     `json:"id"`
	LeadID  int64     `json:"lead_id"`
	UserID  int64     `json:"user_id"`
	Channel string    `json:"channel"`
	Outcome string    `json:"outcome"` // e.g. no_answer, voicemail, connected, bounced, held
	At      time.Time `json:"at"`
	Note    string    `json:"note,omitempty"`
}

// Validate checks an attempt; a zero At means now.
func (a *Attempt) Validate(now time.Time) error {
	if !contains(AttemptChannels, a.Channel) {
		return FieldError("channel", "unknown channel %q (want one of %s)", a.Channel, strings.Join(AttemptChannels, ", "))
	}
	a.Outcome = strings.TrimSpace(a.Outcome)
	if a.Outcome == "" {
		return FieldError("outcome", "required, e.g. no_answer, voicemail, connected")
	}
	if a.At.IsZero() {
		a.At = now
	} else if a.At.After(now.Add(time.Minute)) {
		return FieldError("at", "an attempt cannot be in the future")
	}
	if err := checkText("outcome", a.Outcome, 100); err != nil {
		return err
	}
	return checkText("note", a.Note, 2000)
}

// BANT authority and timing values.
const (
	AuthorityDecisionMaker = "decision_maker"
	AuthorityInfluencer    = "influencer"
	AuthorityNone          = "none"
	TimingImmediate        = "immediate"
	TimingThisQuarter      = "this_quarter"
	TimingLater            = "later"
)

// BANTAuthorities lists the values of BANT.Authority; BANTTimings those of
// BANT.Timing.
var (
	BANTAuthorities = []string{AuthorityDecisionMaker, AuthorityInfluencer, AuthorityNone}
	BANTTimings     = []string{TimingImmediate, TimingThisQuarter, TimingLater}
)

// BANT is the qualification of an accepted lead: budget, authority, need, timing.
type BANT struct {
	BudgetAmount    *float64   `json:"budget_amount,omitempty"`
	BudgetCurrency  string     `json:"budget_currency,omitempty"`
	BudgetConfirmed bool       `json:"budget_confirmed"`
	Authority       string     `json:"authority,omitempty"`
	DecisionMaker   string     `json:"decision_maker,omitempty"` // who decides
	Need            string     `json:"need,omitempty"`
	Timing          string     `json:"timing,omitempty"`
	TimingDate      *time.Time `json:"timing_date,omitempty"`
}

// Missing returns the required parts the record lacks, and checks the values
// that are given.
func (b *BANT) Missing(required []string) ([]string, error) {
	if b.BudgetAmount != nil && *b.BudgetAmount < 0 {
		return nil, FieldError("budget_amount", "must not be negative")
	}
	if b.Authority != "" && !contains(BANTAuthorities, b.Authority) {
		return nil, FieldError("authority", "unknown authority %q (want one of %s)", b.Authority, strings.Join(BANTAuthorities, ", "))
	}
	if b.Timing != "" && !contains(BANTTimings, b.Timing) {
		return nil, FieldError("timing", "unknown timing %q (want one of %s)", b.Timing, strings.Join(BANTTimings, ", "))
	}
	if b.Timing == TimingLater && b.TimingDate == nil {
		return nil, FieldError("timing_date", "timing later needs the date to come back to the lead")
	}
	var missing []string
	for _, part := range required {
		switch part {
		case "budget":
			if b.BudgetAmount == nil || strings.TrimSpace(b.BudgetCurrency) == "" {
				missing = append(missing, "budget (amount and currency)")
			}
		case "authority":
			if b.Authority == "" || b.Authority == AuthorityNone {
				missing = append(missing, "authority (a decision maker or an influencer)")
			}
		case "need":
			if strings.TrimSpace(b.Need) == "" {
				missing = append(missing, "need")
			}
		case "timing":
			if b.Timing == "" {
				missing = append(missing, "timing")
			}
		}
	}
	return missing, nil
}

// ConvertInput is the opportunity an SQL becomes.
type ConvertInput struct {
	Name          string     `json:"name"`
	AccountID     *int64     `json:"account_id,omitempty"`
	Product       string     `json:"product,omitempty"`
	Amount        float64    `json:"amount"`
	ExpectedClose *time.Time `json:"expected_close,omitempty"`
	// IdempotencyKey makes a retried conversion return the first one's opportunity.
	IdempotencyKey string `json:"-"`
}

// CloseInput closes an opportunity won or lost.
type CloseInput struct {
	Won    bool    `json:"won"`
	Value  float64 `json:"value"`
	Reason string  `json:"reason,omitempty"`
}

// QueueItem is a lead awaiting the caller's answer, with its deadline.
type QueueItem struct {
	Lead    *Lead    `json:"lead"`
	Handoff *Handoff `json:"handoff"`
}

// The kinds of in-app notification.
const (
	NotifyAssigned   = "assigned"   // a lead awaits the user's answer, or was given to them
	NotifyReminder   = "reminder"   // the answer window is running out
	NotifyBreached   = "breached"   // the user's answer window passed
	NotifyEscalated  = "escalated"  // someone the user manages breached the SLA
	NotifyReassigned = "reassigned" // the user's lead was given to someone else
	NotifyRejected   = "rejected"   // a rep rejected a lead (for marketing)
	NotifySentBack   = "sent_back"  // an account executive sent an SQL back
	NotifyConverted  = "converted"  // the user's SQL became an opportunity
	NotifyStaleSAL   = "stale_sal"  // an accepted lead still has no opportunity
)

// NotificationKinds lists the kinds of Notification.Kind.
var NotificationKinds = []string{NotifyAssigned, NotifyReminder, NotifyBreached, NotifyEscalated, NotifyReassigned,
	NotifyRejected, NotifySentBack, NotifyConverted, NotifyStaleSAL}

// Notification is one message in a user's in-app inbox.
type Notification struct {
	ID        int64      `json:"id"`
	UserID    int64      `json:"user_id"`
	Kind      string     `json:"kind"` // one of NotificationKinds
	LeadID    *int64     `json:"lead_id,omitempty"`
	Title     string     `json:"title"`
	Body      string     `json:"body,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at,omitempty"`
}

// HandoffService runs the handoff from marketing to sales.
type HandoffService interface {
	// Accept makes an MQL a SAL owned by the rep who answers its open handoff
	// (an AE accepting an SQL handoff keeps it an SQL).
	Accept(ctx context.Context, leadID int64) (*Lead, error)
	// Reject refuses a lead with an agreed reason: it is recycled to nurture,
	// disqualified or merged into the lead it duplicates, as the policy says.
	Reject(ctx context.Context, leadID int64, r Rejection) (*Lead, error)
	LogAttempt(ctx context.Context, leadID int64, a *Attempt) error
	Attempts(ctx context.Context, leadID int64) ([]Attempt, error)
	// Qualify makes a SAL an SQL with its BANT record and routes it to an AE.
	Qualify(ctx context.Context, leadID int64, b BANT) (*Lead, error)
	// SendBack returns an SQL to the development rep who qualified it.
	SendBack(ctx context.Context, leadID int64, reason string) (*Lead, error)
	// Recycle returns an SQL to marketing's nurture, with a reason.
	Recycle(ctx context.Context, leadID int64, reason string) (*Lead, error)
	// Convert makes an SQL an opportunity; a retry with the same key returns
	// the same opportunity and created false.
	Convert(ctx context.Context, leadID int64, in ConvertInput) (*Opportunity, bool, error)
	// CloseLead closes the lead's opportunity won or lost.
	CloseLead(ctx context.Context, leadID int64, in CloseInput) (*Lead, error)
	// Assign gives a lead to another rep (managers and admins).
	Assign(ctx context.Context, leadID, userID int64, note string) (*Lead, error)
	// Claim lets a rep pull an unassigned MQL, or a nurtured lead that keeps
	// engaging, when the policy allows it.
	Claim(ctx context.Context, leadID int64) (*Lead, error)
	// Queue returns the caller's leads awaiting an answer, soonest deadline first.
	Queue(ctx context.Context, sort string) ([]QueueItem, error)
	// QueuePage is limit items of the queue from offset on, in the order of
	// sort, and how many the whole queue holds: what a page shows.
	QueuePage(ctx context.Context, sort string, offset, limit int) ([]QueueItem, int, error)
	Handoffs(ctx context.Context, leadID int64) ([]Handoff, error)
	Notifications(ctx context.Context, unreadOnly bool, limit int) ([]Notification, error)
	MarkRead(ctx context.Context, id int64) error
	// StaleSALs lists accepted leads with no opportunity past the policy's limit.
	StaleSALs(ctx context.Context) ([]*Lead, error)
}
