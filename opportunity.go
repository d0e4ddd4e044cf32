package baton

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Product is something the company sells.
type Product struct {
	ID     int64   `json:"id"`
	Name   string  `json:"name"`
	Series string  `json:"series,omitempty"`
	Price  float64 `json:"price"`
}

// OpportunityStage is where a deal is, as in the CRM data set.
type OpportunityStage string

// Opportunity stages.
const (
	OppProspecting OpportunityStage = "prospecting"
	OppEngaging    OpportunityStage = "engaging"
	OppWon         OpportunityStage = "won"
	OppLost        OpportunityStage = "lost"
)

// OpportunityStages lists the opportunity stages, open ones first.
var OpportunityStages = []OpportunityStage{OppProspecting, OppEngaging, OppWon, OppLost}

// ParseOpportunityStage returns the stage named s (any case).
func ParseOpportunityStage(field, s string) (OpportunityStage, error) {
	st := OpportunityStage(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(OpportunityStages, st) {
		return st, nil
	}
	return "", FieldError(field, "unknown opportunity stage %q (want prospecting, engaging, won or lost)", s)
}

// Open reports whether a deal in the stage is still being worked.
func (s OpportunityStage) Open() bool { return s == OppProspecting || s == OppEngaging }

// Opportunity is a deal being worked, made from an SQL or imported from a CRM.
type Opportunity struct {
	ID         int64            `json:"id"`
	ExternalID string           `json:"external_id,omitempty"`
	LeadID     *int64           `json:"lead_id,omitempty"`
	AccountID  *int64           `json:"account_id,omitempty"`
	OwnerID    *int64           `json:"owner_id,omitempty"`
	Product    string           `json:"product,omitempty"`
	Name       string           `json:"name"`
	Stage      OpportunityStage `json:"stage"`
	Amount     float64          `json:"amount"`
	// ExpectedClose is the day the deal should close (midnight UTC), nil
	// when nobody said.
	ExpectedClose *time.Time `json:"expected_close,omitempty"`
	EngagedAt     *time.Time `json:"engaged_at,omitempty"`
	ClosedAt      *time.Time `json:"closed_at,omitempty"`
	CloseValue    float64    `json:"close_value"`
	CreatedAt     time.Time  `json:"created_at"`
}

// OpportunityFilter selects opportunities.
type OpportunityFilter struct {
	OwnerID   *int64
	AccountID *int64
	LeadID    *int64
	Stage     *OpportunityStage
	Offset    int
	Limit     int
}

// OpportunityUpdate changes some fields of an open opportunity; nil fields
// are left alone.
type OpportunityUpdate struct {
	Name    *string  `json:"name"`
	Amount  *float64 `json:"amount"`
	Product *string  `json:"product"`
	// ExpectedClose is a day (its time of day is dropped), today or later.
	ExpectedClose *time.Time `json:"expected_close"`
}

// Validate trims the update's text and checks its values against the day
// of now (UTC, as a conversion's expected close is checked): a name is
// required, an amount is not negative, an expected close is not past.
// Each error names its field.
func (u *OpportunityUpdate) Validate(now time.Time) error {
	if u.Name != nil {
		n := strings.TrimSpace(*u.Name)
		u.Name = &n
		if n == "" {
			return FieldError("name", "required: the opportunity's name")
		}
		if err := checkText("name", n, MaxFieldLen); err != nil {
			return err
		}
	}
	if u.Product != nil {
		p := strings.TrimSpace(*u.Product)
		u.Product = &p
		if err := checkText("product", p, MaxFieldLen); err != nil {
			return err
		}
	}
	if u.Amount != nil && (*u.Amount < 0 || math.IsNaN(*u.Amount) || math.IsInf(*u.Amount, 0)) {
		return FieldError("amount", "must be a number of at least 0")
	}
	if u.ExpectedClose != nil {
		d := u.ExpectedClose.UTC().Truncate(24 * time.Hour)
		u.ExpectedClose = &d
		if d.Before(now.UTC().Truncate(24 * time.Hour)) {
			return FieldError("expected_close", "%s is in the past: an opportunity closes from today on", d.Format("2006-01-02"))
		}
	}
	return nil
}

// Why an opportunity was lost, in the order a rep sees them.
const (
	LostPrice      = "price"       // they found it too expensive
	LostCompetitor = "competitor"  // they bought from someone else
	LostNoDecision = "no_decision" // they stayed with what they had
	LostTiming     = "timing"      // not now
	LostNoBudget   = "no_budget"   // the money was not there
	LostOther      = "other"       // said in the note
)

// LostReasons lists the reasons an opportunity may be lost for.
var LostReasons = []string{LostPrice, LostCompetitor, LostNoDecision, LostTiming, LostNoBudget, LostOther}

// maxLostReason is the longest reason a close records (the lifecycle's
// limit on a move's reason).
const maxLostReason = 500

// LostReason returns what a lost opportunity records as its reason: one of
// LostReasons, followed by the note when there is one ("price: 20% over
// their budget"). other needs the note. The error names the field at fault
// (reason or note).
func LostReason(reason, note string) (string, error) {
	reason, note = strings.TrimSpace(reason), strings.TrimSpace(note)
	switch {
	case reason == "":
		return "", FieldError("reason", "required: say why it was lost (%s)", strings.Join(LostReasons, ", "))
	case !slices.Contains(LostReasons, reason):
		return "", FieldError("reason", "unknown reason %q (want one of %s)", reason, strings.Join(LostReasons, ", "))
	case reason == LostOther && note == "":
		return "", FieldError("note", "the reason other needs a note saying why it was lost")
	case note == "":
		return reason, nil
	}
	if !utf8.ValidString(note) {
		return "", FieldError("note", "is not valid UTF-8")
	}
	text := reason + ": " + note
	if len(text) > maxLostReason {
		return "", FieldError("note", "is %d bytes long, at most %d allowed", len(note), maxLostReason-len(reason)-2)
	}
	return text, nil
}

// OpportunityService stores products and opportunities.
type OpportunityService interface {
	CreateProduct(ctx context.Context, p *Product) error
	FindProducts(ctx context.Context) ([]*Product, error)
	CreateOpportunity(ctx context.Context, o *Opportunity) error
	FindOpportunities(ctx context.Context, f OpportunityFilter) ([]*Opportunity, int, error)
	// UpdateOpportunity changes some fields of an open opportunity, as the
	// lead's moves are made: by the owner of its lead (of the opportunity
	// when it has no lead), their manager, or an admin. Each change is
	// written to the lead's history in the same transaction. A product
	// must be one of the products when there are any; a closed
	// opportunity is ECONFLICT.
	UpdateOpportunity(ctx context.Context, id int64, u OpportunityUpdate) (*Opportunity, error)
}
