package baton

import (
	"context"
	"strings"
	"time"
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

// ParseOpportunityStage returns the stage named s (any case).
func ParseOpportunityStage(field, s string) (OpportunityStage, error) {
	st := OpportunityStage(strings.ToLower(strings.TrimSpace(s)))
	switch st {
	case OppProspecting, OppEngaging, OppWon, OppLost:
		return st, nil
	}
	return "", FieldError(field, "unknown opportunity stage %q (want prospecting, engaging, won or lost)", s)
}

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
	EngagedAt  *time.Time       `json:"engaged_at,omitempty"`
	ClosedAt   *time.Time       `json:"closed_at,omitempty"`
	CloseValue float64          `json:"close_value"`
	CreatedAt  time.Time        `json:"created_at"`
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

// OpportunityService stores products and opportunities.
type OpportunityService interface {
	CreateProduct(ctx context.Context, p *Product) error
	FindProducts(ctx context.Context) ([]*Product, error)
	CreateOpportunity(ctx context.Context, o *Opportunity) error
	FindOpportunities(ctx context.Context, f OpportunityFilter) ([]*Opportunity, int, error)
}
