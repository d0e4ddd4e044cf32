package baton

import (
	"context"
	"strings"
	"time"
)

// Account is the company a lead works for: its firmographics.
type Account struct {
	ID int64 `json:"id"`
	// Domain is the company's email and web domain (lower case), unique when
	// present; leads with an email at it link to the account.
	Domain        string    `json:"domain,omitempty"`
	Name          string    `json:"name"`
	Industry      string    `json:"industry,omitempty"`
	Employees     *int64    `json:"employees,omitempty"`
	AnnualRevenue *float64  `json:"annual_revenue,omitempty"`
	Country       string    `json:"country,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Validate normalises the account and checks its fields.
func (a *Account) Validate() error {
	a.Domain = strings.ToLower(strings.TrimSpace(a.Domain))
	a.Domain = strings.TrimPrefix(strings.TrimPrefix(a.Domain, "https://"), "http://")
	a.Domain = strings.TrimPrefix(strings.TrimSuffix(a.Domain, "/"), "www.")
	a.Name = strings.TrimSpace(a.Name)
	a.Industry = strings.TrimSpace(a.Industry)
	a.Country = strings.TrimSpace(a.Country)
	if a.Name == "" {
		return FieldError("name", "required")
	}
	if a.Domain != "" && (!strings.Contains(a.Domain, ".") || strings.ContainsAny(a.Domain, " @/")) {
		return FieldError("domain", "%q is not a domain name", a.Domain)
	}
	for _, f := range []struct{ n, v string }{{"domain", a.Domain}, {"name", a.Name}, {"industry", a.Industry}, {"country", a.Country}} {
		if err := checkText(f.n, f.v, MaxFieldLen); err != nil {
			return err
		}
	}
	if a.Employees != nil && *a.Employees < 0 {
		return FieldError("employees", "must not be negative")
	}
	if a.AnnualRevenue != nil && *a.AnnualRevenue < 0 {
		return FieldError("annual_revenue", "must not be negative")
	}
	return nil
}

// AccountFilter selects accounts. Nil fields do not filter.
type AccountFilter struct {
	ID     *int64
	Domain *string
	Name   *string
	Query  string
	Offset int
	Limit  int
}

// AccountUpdate changes some fields of an account.
type AccountUpdate struct {
	Domain        *string  `json:"domain"`
	Name          *string  `json:"name"`
	Industry      *string  `json:"industry"`
	Employees     *int64   `json:"employees"`
	AnnualRevenue *float64 `json:"annual_revenue"`
	Country       *string  `json:"country"`
}

// AccountService stores accounts.
type AccountService interface {
	// CreateAccount stores a new account. ECONFLICT if its domain is taken.
	CreateAccount(ctx context.Context, a *Account) error
	// ImportAccounts upserts by domain, or by name when there is no domain.
	// Bad rows are reported with Row set to their index in accounts.
	ImportAccounts(ctx context.Context, accounts []*Account) (ImportResult, error)
	FindAccountByID(ctx context.Context, id int64) (*Account, error)
	FindAccounts(ctx context.Context, f AccountFilter) ([]*Account, int, error)
	// UpdateAccount changes some fields, audits each change, and rescores
	// the account's leads where the scoring reads accounts.
	UpdateAccount(ctx context.Context, id int64, upd AccountUpdate) (*Account, error)
	// AccountHistory returns the account's audited changes in time order.
	AccountHistory(ctx context.Context, id int64) ([]AccountChange, error)
}

// AccountChange is one audited change of an account's field.
type AccountChange struct {
	ID        int64     `json:"id"`
	AccountID int64     `json:"account_id"`
	At        time.Time `json:"at"`
	ActorID   *int64    `json:"actor_id,omitempty"`
	ActorName string    `json:"actor"`
	Field     string    `json:"field"`
	From      string    `json:"from,omitempty"`
	To        string    `json:"to,omitempty"`
}

// LeadImport is one row of a lead file from a CRM: the lead and, when the
// file describes the lead's company (its industry, employees, revenue or
// website), the account to make or update and link the lead to. The
// account is found by its domain, else by its name.
type LeadImport struct {
	Lead    *Lead
	Account *Account
}

// personalDomains are mailbox providers' domains: an email at one names a
// person, not their company, so no account is keyed by it.
var personalDomains = map[string]bool{
	"gmail.com": true, "googlemail.com": true, "yahoo.com": true, "ymail.com": true, "outlook.com": true,
	"hotmail.com": true, "live.com": true, "msn.com": true, "icloud.com": true, "me.com": true, "mac.com": true,
	"aol.com": true, "proton.me": true, "protonmail.com": true, "gmx.com": true, "gmx.de": true, "gmx.net": true,
	"web.de": true, "mail.com": true, "yandex.ru": true, "mail.ru": true, "qq.com": true, "163.com": true,
	"zoho.com": true, "fastmail.com": true, "hey.com": true,
}

// PersonalEmailDomain reports whether a domain is a mailbox provider's
// (gmail.com, outlook.com, ...), which names no company.
func PersonalEmailDomain(domain string) bool { return personalDomains[strings.ToLower(domain)] }
