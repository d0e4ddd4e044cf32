package baton

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Lead is a person who might buy: who they are (fit) and where they are in the
// lifecycle. What they did lives in Events; how they got here in History.
type Lead struct {
	ID int64 `json:"id"`
	// Email is normalised (trimmed, lower case) and unique when present.
	Email string `json:"email,omitempty"`
	// ExternalID is the lead's id in the system it came from (a form tool, a
	// CRM export), unique when present. A lead has an email or an external id.
	ExternalID string `json:"external_id,omitempty"`
	Name       string `json:"name,omitempty"`
	Title      string `json:"title,omitempty"`
	Phone      string `json:"phone,omitempty"`
	Company    string `json:"company,omitempty"`
	Country    string `json:"country,omitempty"`
	Source     string `json:"source,omitempty"`
	Campaign   string `json:"campaign,omitempty"`
	AccountID  *int64 `json:"account_id,omitempty"`
	OwnerID    *int64 `json:"owner_id,omitempty"`
	Stage      Stage  `json:"stage"`
	// Attrs are the company's own typed fields (string, number or bool).
	Attrs          Attrs     `json:"attributes,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	StageChangedAt time.Time `json:"stage_changed_at"`
	// Version grows by one with every change; UpdateLead with IfVersion uses
	// it to refuse lost updates.
	Version int64 `json:"version"`
	// Score is the lead's current scores (see LeadScore).
	Score LeadScore `json:"score"`
	// NurtureTrack is the marketing nurture track a rejected lead was
	// recycled to; NurtureUntil the end of its cool-down.
	NurtureTrack string     `json:"nurture_track,omitempty"`
	NurtureUntil *time.Time `json:"nurture_until,omitempty"`
}

// Limits on lead fields, so that no input can grow a row without bound.
const (
	MaxFieldLen = 500
	MaxAttrs    = 200
	MaxAttrLen  = 2000
)

// Validate normalises the lead's fields and checks them. It names the first
// field at fault.
func (l *Lead) Validate() error {
	email, err := NormalizeEmail(l.Email)
	if err != nil {
		return err
	}
	l.Email = email
	for _, f := range []struct {
		name string
		v    *string
	}{{"external_id", &l.ExternalID}, {"name", &l.Name}, {"title", &l.Title}, {"phone", &l.Phone},
		{"company", &l.Company}, {"country", &l.Country}, {"source", &l.Source}, {"campaign", &l.Campaign}} {
		*f.v = strings.TrimSpace(*f.v)
		if err := checkText(f.name, *f.v, MaxFieldLen); err != nil {
			return err
		}
	}
	if l.Email == "" && l.ExternalID == "" {
		return FieldError("email", "a lead needs an email or an external_id")
	}
	if l.Stage == "" {
		l.Stage = StageNew
	} else if _, err := ParseStage("stage", string(l.Stage)); err != nil {
		return err
	}
	return l.Attrs.Validate()
}

func checkText(field, v string, max int) error {
	if !utf8.ValidString(v) {
		return FieldError(field, "is not valid UTF-8")
	} else if len(v) > max {
		return FieldError(field, "is %d bytes long, at most %d allowed", len(v), max)
	}
	return nil
}

// Attrs are custom attributes: each value is a string, a float64 or a bool.
type Attrs map[string]any

// AttrType is the type of a custom attribute.
type AttrType string

// The attribute types.
const (
	AttrString AttrType = "string"
	AttrNumber AttrType = "number"
	AttrBool   AttrType = "bool"
)

// TypeOf returns the type of an attribute value, or "" if it has none of the
// allowed types.
func TypeOf(v any) AttrType {
	switch v.(type) {
	case string:
		return AttrString
	case float64:
		return AttrNumber
	case bool:
		return AttrBool
	}
	return ""
}

// Validate checks names, types and sizes of the attributes. JSON numbers
// decoded as float64 are numbers; other numeric Go types are converted.
func (a Attrs) Validate() error {
	if len(a) > MaxAttrs {
		return FieldError("attributes", "has %d attributes, at most %d allowed", len(a), MaxAttrs)
	}
	for k, v := range a {
		field := "attributes." + k
		if strings.TrimSpace(k) == "" || len(k) > 100 || !utf8.ValidString(k) {
			return FieldError("attributes", "attribute name %q must be 1-100 characters", k)
		}
		switch x := v.(type) {
		case int:
			a[k] = float64(x)
		case int64:
			a[k] = float64(x)
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return FieldError(field, "must be a finite number")
			}
		case string:
			if err := checkText(field, x, MaxAttrLen); err != nil {
				return err
			}
		case bool:
		case nil:
			delete(a, k)
		default:
			return FieldError(field, "must be a string, a number or a boolean, not %T", v)
		}
	}
	return nil
}

// AttributeDef fixes the type of a custom attribute the first time it is seen,
// so that a later value of the wrong type is refused instead of mixed in.
type AttributeDef struct {
	Name string   `json:"name"`
	Type AttrType `json:"type"`
}

// CheckAttrs checks each attribute against its definition; attributes with no
// definition are returned as new definitions to store.
func CheckAttrs(defs map[string]AttrType, a Attrs) (newDefs []AttributeDef, err error) {
	for k, v := range a {
		t := TypeOf(v)
		if want, ok := defs[k]; !ok {
			newDefs = append(newDefs, AttributeDef{Name: k, Type: t})
		} else if want != t {
			return nil, FieldError("attributes."+k, "must be a %s, not a %s (%v)", want, t, v)
		}
	}
	return newDefs, nil
}

// LeadFilter selects leads. Nil fields do not filter. A rep's or a manager's
// lists are further limited to what they may see.
type LeadFilter struct {
	ID            *int64
	Stage         *Stage
	OwnerID       *int64
	Source        *string
	Campaign      *string
	AccountID     *int64
	CreatedAfter  *time.Time // inclusive
	CreatedBefore *time.Time // exclusive
	// Unowned keeps only the leads nobody owns (OwnerID must then be nil).
	Unowned bool
	// Query matches a substring of email, name, company or external id.
	Query string
	// Sort orders the list: "created" (newest first, the default),
	// "probability", "fit" or "engagement" (highest first, leads without
	// a probability last), or "name" (A to Z by name, else email).
	Sort string
	// Reverse turns Sort's order around: oldest, lowest or Z first.
	Reverse bool
	Offset  int
	Limit   int
}

// LeadSorts are the orders of LeadFilter.Sort.
var LeadSorts = []string{"created", "probability", "fit", "engagement", "name"}

// SavedView is a user's named lead list: its filters and order, kept as
// the query string of the list's address ("stage=sql&sort=fit"), so that
// opening it is following a link. Only its owner reads it.
type SavedView struct {
	ID        int64     `json:"id"`
	UserID    int64     `json:"user_id"`
	Name      string    `json:"name"`
	Query     string    `json:"query"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Limits of saved views.
const (
	MaxViewName  = 100
	MaxViewQuery = 2000
	MaxViews     = 100 // per user
)

// Validate trims the view's name and checks its name and query.
func (v *SavedView) Validate() error {
	v.Name = strings.TrimSpace(v.Name)
	switch {
	case v.Name == "":
		return FieldError("name", "required: name the view, e.g. \"My SQLs this month\"")
	case utf8.RuneCountInString(v.Name) > MaxViewName:
		return FieldError("name", "is %d characters long, at most %d allowed", utf8.RuneCountInString(v.Name), MaxViewName)
	case len(v.Query) > MaxViewQuery:
		return FieldError("query", "is %d bytes long, at most %d allowed", len(v.Query), MaxViewQuery)
	}
	return checkText("name", v.Name, MaxFieldLen)
}

// SavedViewService keeps each user's saved views; every method works on
// the actor's own views only.
type SavedViewService interface {
	// SaveView stores the view under its name, replacing the actor's view
	// of the same name; EINVALID past MaxViews.
	SaveView(ctx context.Context, v *SavedView) error
	// FindViews lists the actor's views by name.
	FindViews(ctx context.Context) ([]*SavedView, error)
	// DeleteView deletes one of the actor's views; ENOTFOUND for another's.
	DeleteView(ctx context.Context, id int64) error
}

// SALList is the accepted leads awaiting qualification, and the policy's
// accountability limit (handoff.opportunity_within): how long a SAL may go
// without becoming an opportunity.
type SALList struct {
	Leads  []*Lead
	Total  int
	Within time.Duration
}

// HandedOver is a lead a development rep qualified and handed to an
// account executive, as it is now: who has it and where it is. The rep
// may no longer read the lead itself, so it carries only what names it.
type HandedOver struct {
	LeadID         int64     `json:"lead_id"`
	Name           string    `json:"name,omitempty"`
	Email          string    `json:"email,omitempty"`
	Company        string    `json:"company,omitempty"`
	Stage          Stage     `json:"stage"`
	OwnerID        *int64    `json:"owner_id,omitempty"`
	StageChangedAt time.Time `json:"stage_changed_at"`
	QualifiedBy    int64     `json:"qualified_by"`
	QualifiedAt    time.Time `json:"qualified_at"`
}

// Deal is an open opportunity with its lead, for the worklists.
type Deal struct {
	Lead        *Lead        `json:"lead"`
	Opportunity *Opportunity `json:"opportunity"`
}

// WorkService reads the worklists of each role's "my work" page. Each is
// scoped to what the actor may read: a rep's own, a manager's own and
// their team's, everyone's for marketing and admins.
type WorkService interface {
	// SALs lists the SALs, longest accepted first, at most limit of them.
	SALs(ctx context.Context, limit int) (*SALList, error)
	// AwaitingAnswer lists the leads with an open handoff of the kind,
	// soonest deadline first, at most limit, and how many there are.
	AwaitingAnswer(ctx context.Context, kind HandoffKind, limit int) ([]QueueItem, int, error)
	// HandedOver lists the leads the actor (a manager: also their team)
	// qualified to an SQL, latest first, at most limit, and how many.
	HandedOver(ctx context.Context, limit int) ([]HandedOver, int, error)
	// OpenDeals lists the opportunities not closed yet, soonest expected
	// close first (those without a date last), at most limit, and how many.
	OpenDeals(ctx context.Context, limit int) ([]Deal, int, error)
	// ComingBack lists the recycled leads whose cool-down ends before the
	// time (or has ended), soonest first, at most limit, and how many.
	ComingBack(ctx context.Context, before time.Time, limit int) ([]*Lead, int, error)
	// LeadChoices lists the sources and campaigns of the leads, for filters.
	LeadChoices(ctx context.Context) (sources, campaigns []string, err error)
}

// LeadUpdate changes some fields of a lead. Nil fields are left alone; an
// empty string clears a field. Attrs are merged: a nil value removes one.
type LeadUpdate struct {
	Email      *string `json:"email"`
	ExternalID *string `json:"external_id"`
	Name       *string `json:"name"`
	Title      *string `json:"title"`
	Phone      *string `json:"phone"`
	Company    *string `json:"company"`
	Country    *string `json:"country"`
	Source     *string `json:"source"`
	Campaign   *string `json:"campaign"`
	AccountID  *int64  `json:"account_id"`
	OwnerID    *int64  `json:"owner_id"`
	Attrs      Attrs   `json:"attributes"`
	// IfVersion, when set, refuses the update with ECONFLICT if the lead has
	// changed since the caller read it.
	IfVersion *int64 `json:"if_version"`
}

// Apply sets the update's fields on l and returns the changes it made.
func (u LeadUpdate) Apply(l *Lead) []FieldChange {
	var ch []FieldChange
	set := func(field string, dst *string, v *string) {
		if v != nil && strings.TrimSpace(*v) != *dst {
			ch = append(ch, FieldChange{Field: field, From: *dst, To: strings.TrimSpace(*v)})
			*dst = strings.TrimSpace(*v)
		}
	}
	if u.Email != nil && strings.ToLower(strings.TrimSpace(*u.Email)) != l.Email {
		e := strings.ToLower(strings.TrimSpace(*u.Email))
		ch = append(ch, FieldChange{Field: "email", From: l.Email, To: e})
		l.Email = e
	}
	set("external_id", &l.ExternalID, u.ExternalID)
	set("name", &l.Name, u.Name)
	set("title", &l.Title, u.Title)
	set("phone", &l.Phone, u.Phone)
	set("company", &l.Company, u.Company)
	set("country", &l.Country, u.Country)
	set("source", &l.Source, u.Source)
	set("campaign", &l.Campaign, u.Campaign)
	setID := func(field string, dst **int64, v *int64) {
		if v == nil {
			return
		}
		var nv *int64
		if *v != 0 {
			nv = new(int64)
			*nv = *v
		}
		if idString(*dst) != idString(nv) {
			ch = append(ch, FieldChange{Field: field, From: idString(*dst), To: idString(nv)})
			*dst = nv
		}
	}
	setID("account_id", &l.AccountID, u.AccountID)
	setID("owner_id", &l.OwnerID, u.OwnerID)
	for k, v := range u.Attrs {
		old, had := l.Attrs[k]
		if v == nil {
			if had {
				ch = append(ch, FieldChange{Field: "attributes." + k, From: fmt.Sprint(old), To: ""})
				delete(l.Attrs, k)
			}
			continue
		}
		if !had || old != v {
			from := ""
			if had {
				from = fmt.Sprint(old)
			}
			if l.Attrs == nil {
				l.Attrs = Attrs{}
			}
			ch = append(ch, FieldChange{Field: "attributes." + k, From: from, To: fmt.Sprint(v)})
			l.Attrs[k] = v
		}
	}
	return ch
}

func idString(p *int64) string {
	if p == nil {
		return ""
	}
	return fmt.Sprint(*p)
}

// FieldChange is one field's old and new value.
type FieldChange struct {
	Field, From, To string
}

// HistoryEntry is one audited change of a lead: who, when, what, from, to, why.
type HistoryEntry struct {
	ID        int64     `json:"id"`
	LeadID    int64     `json:"lead_id"`
	At        time.Time `json:"at"`
	ActorID   *int64    `json:"actor_id,omitempty"`
	ActorName string    `json:"actor"`
	Action    Action    `json:"action"`
	Field     string    `json:"field,omitempty"`
	From      string    `json:"from,omitempty"`
	To        string    `json:"to,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	Note      string    `json:"note,omitempty"`
}

// Action is what a history entry records.
type Action string

// History actions.
const (
	ActionCreated  Action = "created"  // the lead was captured (Reason says how)
	ActionUpdated  Action = "updated"  // a field changed
	ActionStage    Action = "stage"    // a move of the lifecycle
	ActionAssigned Action = "assigned" // the owner changed, or a handoff was opened to the same owner
	ActionAccepted Action = "accepted" // an account executive accepted an SQL
	ActionBreached Action = "breached" // an answer window passed
	ActionNurture  Action = "nurture"  // the lead went to a nurture track
	ActionAttempt  Action = "attempt"  // a contact attempt was logged
	ActionMerged   Action = "merged"   // a duplicate was merged into this lead
	ActionNote     Action = "note"     // a note was written
)

// Actions lists the history actions.
var Actions = []Action{ActionCreated, ActionUpdated, ActionStage, ActionAssigned, ActionAccepted, ActionBreached,
	ActionNurture, ActionAttempt, ActionMerged, ActionNote}

// The kinds of a timeline item.
const (
	TimelineHistory = "history"
	TimelineEvent   = "event"
)

// TimelineKinds lists the values of TimelineItem.Kind.
var TimelineKinds = []string{TimelineHistory, TimelineEvent}

// TimelineItem is one entry of a lead's timeline: a history entry or an event.
type TimelineItem struct {
	At      time.Time     `json:"at"`
	Kind    string        `json:"kind"` // TimelineHistory or TimelineEvent
	History *HistoryEntry `json:"history,omitempty"`
	Event   *Event        `json:"event,omitempty"`
}

// RowError is one bad row of a bulk input (a CSV row or an array element),
// with the column or field at fault and what was expected.
type RowError struct {
	Row     int    `json:"row"`
	Column  string `json:"column,omitempty"`
	Message string `json:"message"`
}

func (e RowError) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("row %d, column %s: %s", e.Row, e.Column, e.Message)
	}
	return fmt.Sprintf("row %d: %s", e.Row, e.Message)
}

// ImportResult counts what a bulk write did; Errors holds every rejected row.
type ImportResult struct {
	Created  int        `json:"created"`
	Updated  int        `json:"updated"`
	Rejected int        `json:"rejected"`
	Errors   []RowError `json:"errors,omitempty"`
}

// Add adds another result's counts and errors to r.
func (r *ImportResult) Add(o ImportResult) {
	r.Created += o.Created
	r.Updated += o.Updated
	r.Rejected += o.Rejected
	r.Errors = append(r.Errors, o.Errors...)
}

// LeadService stores leads, their history and their lifecycle.
type LeadService interface {
	// CreateLead stores a new lead. ECONFLICT if its email or external id is taken.
	CreateLead(ctx context.Context, l *Lead) error
	// UpsertLead creates the lead, or updates the one with the same email (or,
	// failing that, external id). It reports whether it created one.
	UpsertLead(ctx context.Context, l *Lead) (created bool, err error)
	// ImportLeads upserts a batch in one transaction. Bad rows are reported
	// with Row set to their index in leads, and the good ones land.
	ImportLeads(ctx context.Context, leads []*Lead) (ImportResult, error)
	// FindLeadByID returns ENOTFOUND if there is no such lead, EFORBIDDEN if
	// the actor may not see it.
	FindLeadByID(ctx context.Context, id int64) (*Lead, error)
	FindLeads(ctx context.Context, f LeadFilter) ([]*Lead, int, error)
	UpdateLead(ctx context.Context, id int64, upd LeadUpdate) (*Lead, error)
	// ChangeStage makes one lifecycle move, checked by StageChange.Check, as a
	// compare-and-set on the current stage: of two racing changes one wins and
	// the other gets ECONFLICT.
	ChangeStage(ctx context.Context, id int64, c StageChange) (*Lead, error)
	// Timeline returns the lead's history and events in time order.
	Timeline(ctx context.Context, id int64) ([]TimelineItem, error)
	// History returns the lead's history entries in time order.
	History(ctx context.Context, id int64) ([]HistoryEntry, error)
	// AddNote writes a note on the lead's timeline; whoever may see the lead may.
	AddNote(ctx context.Context, id int64, text string) error
}
