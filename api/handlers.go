package api

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// list is the body of every list response; Items is never null.
type list[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

func writeList[T any](w http.ResponseWriter, items []T, total int) {
	if items == nil {
		items = []T{}
	}
	writeJSON(w, http.StatusOK, list[T]{Items: items, Total: total})
}

// health is the body of /healthz and /readyz.
type health struct {
	// Status is "ok", or "unavailable" when the database does not answer
	// or cannot take writes (its disk is full, it is read-only).
	Status   string        `json:"status"`
	Database *baton.Health `json:"database,omitempty"`
}

// health answers /healthz: 200 while the server and its database work, 503
// saying what is wrong when the database does not answer or cannot store
// writes, so that a monitor turns red when the disk fills.
func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	s.writeHealth(w, r, false)
	return nil
}

// ready answers /readyz, for load balancers: like /healthz, and 503 too
// while every place for write requests is taken, so that a balancer sends
// new requests to another instance first.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) error {
	s.writeHealth(w, r, true)
	return nil
}

func (s *Server) writeHealth(w http.ResponseWriter, r *http.Request, ready bool) {
	body, status := health{Status: "ok"}, http.StatusOK
	if s.svc.Health != nil {
		h := s.svc.Health.Health(r.Context())
		body.Database = &h
		if !h.Reachable || !h.Writable {
			body.Status, status = "unavailable", http.StatusServiceUnavailable
		}
	}
	if ready && status == http.StatusOK && s.limiter.full() {
		body.Status, status = "busy", http.StatusServiceUnavailable
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, body)
}

// serveMetrics answers /metrics beside the API to an admin: the metrics
// name routes, loads and failures, which are not for every user. A
// scraper without a token reads them on a listener of their own
// (MetricsHandler).
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	if u := currentUser(r); u == nil || u.Role != baton.RoleAdmin {
		return baton.Errorf(baton.EFORBIDDEN, "the metrics are for admins (or a scraper on baton serve --metrics-addr)")
	}
	s.metrics.handler.ServeHTTP(w, r)
	return nil
}

// MetricsHandler serves the Prometheus metrics without authentication, for
// a listener of their own that only the operator's network reaches (baton
// serve --metrics-addr).
func (s *Server) MetricsHandler() http.Handler { return s.metrics.handler }

func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Write(s.openapi)
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, currentUser(r))
	return nil
}

// Leads.

// leadInput is the body that creates or upserts a lead: the lead's writable
// fields. created_at may date an imported lead back; stage defaults to new.
type leadInput struct {
	Email      string      `json:"email,omitempty"`
	ExternalID string      `json:"external_id,omitempty"`
	Name       string      `json:"name,omitempty"`
	Title      string      `json:"title,omitempty"`
	Phone      string      `json:"phone,omitempty"`
	Company    string      `json:"company,omitempty"`
	Country    string      `json:"country,omitempty"`
	Source     string      `json:"source,omitempty"`
	Campaign   string      `json:"campaign,omitempty"`
	AccountID  *int64      `json:"account_id,omitempty"`
	OwnerID    *int64      `json:"owner_id,omitempty"`
	Stage      baton.Stage `json:"stage,omitempty"`
	Attrs      baton.Attrs `json:"attributes,omitempty"`
	CreatedAt  *time.Time  `json:"created_at,omitempty"`
}

func (in *leadInput) lead() (*baton.Lead, error) {
	if in.Stage != "" {
		if _, err := baton.ParseStage("stage", string(in.Stage)); err != nil {
			return nil, err
		}
	}
	l := &baton.Lead{Email: in.Email, ExternalID: in.ExternalID, Name: in.Name, Title: in.Title, Phone: in.Phone,
		Company: in.Company, Country: in.Country, Source: in.Source, Campaign: in.Campaign,
		AccountID: in.AccountID, OwnerID: in.OwnerID, Stage: in.Stage, Attrs: in.Attrs}
	if in.CreatedAt != nil {
		l.CreatedAt = *in.CreatedAt
	}
	return l, nil
}

type upsertResult struct {
	Created bool        `json:"created"`
	Lead    *baton.Lead `json:"lead"`
}

func (s *Server) listLeads(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	f := baton.LeadFilter{Stage: q.stage("stage"), OwnerID: q.id("owner_id"), Source: q.str("source"),
		Campaign: q.str("campaign"), AccountID: q.id("account_id"),
		CreatedAfter: q.time("created_after"), CreatedBefore: q.time("created_before")}
	if v := q.str("q"); v != nil {
		f.Query = *v
	}
	if v := q.str("sort"); v != nil {
		// The API's orders are its documented ones: storage sorts the
		// web list by name too, which the API does not promise (yet).
		if !slices.Contains(leadSorts, *v) {
			return baton.FieldError("sort", "unknown order %q (want %s)", *v, strings.Join(leadSorts, ", "))
		}
		f.Sort = *v
	}
	f.Offset, f.Limit = q.page()
	if q.err != nil {
		return q.err
	}
	leads, total, err := s.svc.Leads.FindLeads(r.Context(), f)
	if err != nil {
		return err
	}
	if leads, err = s.visibleLeads(r.Context(), leads); err != nil {
		return err
	}
	writeList(w, leads, total)
	return nil
}

func (s *Server) createLead(w http.ResponseWriter, r *http.Request) error {
	var in leadInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	l, err := in.lead()
	if err != nil {
		return err
	}
	if err := s.svc.Leads.CreateLead(r.Context(), l); err != nil {
		return err
	}
	return s.writeLead(w, r, http.StatusCreated, l)
}

func (s *Server) upsertLead(w http.ResponseWriter, r *http.Request) error {
	var in leadInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	l, err := in.lead()
	if err != nil {
		return err
	}
	created, err := s.svc.Leads.UpsertLead(r.Context(), l)
	if err != nil {
		return err
	}
	p, err := s.hiding(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, upsertResult{Created: created, Lead: p.VisibleLead(l)})
	return nil
}

func (s *Server) getLead(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	l, err := s.svc.Leads.FindLeadByID(r.Context(), id)
	if err != nil {
		return err
	}
	return s.writeLead(w, r, http.StatusOK, l)
}

func (s *Server) updateLead(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var upd baton.LeadUpdate
	if err := decode(w, r, &upd); err != nil {
		return err
	}
	l, err := s.svc.Leads.UpdateLead(r.Context(), id, upd)
	if err != nil {
		return err
	}
	return s.writeLead(w, r, http.StatusOK, l)
}

func (s *Server) leadTimeline(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	items, err := s.svc.Leads.Timeline(r.Context(), id)
	if err != nil {
		return err
	}
	p, err := s.hiding(r.Context())
	if err != nil {
		return err
	}
	items = p.VisibleTimeline(items)
	writeList(w, items, len(items))
	return nil
}

func (s *Server) leadHistory(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	items, err := s.svc.Leads.History(r.Context(), id)
	if err != nil {
		return err
	}
	p, err := s.hiding(r.Context())
	if err != nil {
		return err
	}
	items = p.VisibleHistory(items)
	writeList(w, items, len(items))
	return nil
}

func (s *Server) changeStage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var c baton.StageChange
	if err := decode(w, r, &c); err != nil {
		return err
	}
	if _, err := baton.ParseStage("to", string(c.To)); err != nil {
		return err
	}
	if c.From != "" {
		if _, err := baton.ParseStage("from", string(c.From)); err != nil {
			return err
		}
	}
	if c.Opportunity != nil {
		key, err := idempotencyKey(r)
		if err != nil {
			return err
		}
		c.Opportunity.IdempotencyKey = key
	}
	l, err := s.svc.Leads.ChangeStage(r.Context(), id, c)
	if err != nil {
		return err
	}
	return s.writeLead(w, r, http.StatusOK, l)
}

// Accounts.

// accountInput is the body that creates an account.
type accountInput struct {
	Domain        string   `json:"domain,omitempty"`
	Name          string   `json:"name"`
	Industry      string   `json:"industry,omitempty"`
	Employees     *int64   `json:"employees,omitempty"`
	AnnualRevenue *float64 `json:"annual_revenue,omitempty"`
	Country       string   `json:"country,omitempty"`
}

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	f := baton.AccountFilter{Domain: q.str("domain"), Name: q.str("name")}
	if v := q.str("q"); v != nil {
		f.Query = *v
	}
	f.Offset, f.Limit = q.page()
	if q.err != nil {
		return q.err
	}
	accounts, total, err := s.svc.Accounts.FindAccounts(r.Context(), f)
	if err != nil {
		return err
	}
	writeList(w, accounts, total)
	return nil
}

func (s *Server) createAccount(w http.ResponseWriter, r *http.Request) error {
	var in accountInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	a := &baton.Account{Domain: in.Domain, Name: in.Name, Industry: in.Industry, Employees: in.Employees,
		AnnualRevenue: in.AnnualRevenue, Country: in.Country}
	if err := s.svc.Accounts.CreateAccount(r.Context(), a); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a)
	return nil
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	a, err := s.svc.Accounts.FindAccountByID(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) updateAccount(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var upd baton.AccountUpdate
	if err := decode(w, r, &upd); err != nil {
		return err
	}
	a, err := s.svc.Accounts.UpdateAccount(r.Context(), id, upd)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// Users.

// userInput is the body that creates a user.
type userInput struct {
	Email     string     `json:"email"`
	Name      string     `json:"name"`
	Role      baton.Role `json:"role"`
	Team      string     `json:"team,omitempty"`
	Territory string     `json:"territory,omitempty"`
	ManagerID *int64     `json:"manager_id,omitempty"`
}

type tokenInput struct {
	Name string `json:"name,omitempty"`
}

type tokenResult struct {
	Token string `json:"token"`
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	f := baton.UserFilter{Role: q.role("role"), Team: q.str("team"), ManagerID: q.id("manager_id"), Email: q.str("email")}
	f.Offset, f.Limit = q.page()
	if q.err != nil {
		return q.err
	}
	users, total, err := s.svc.Users.FindUsers(r.Context(), f)
	if err != nil {
		return err
	}
	writeList(w, users, total)
	return nil
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	var in userInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	role, err := baton.ParseRole("role", string(in.Role))
	if err != nil {
		return err
	}
	u := &baton.User{Email: in.Email, Name: in.Name, Role: role, Team: in.Team, Territory: in.Territory, ManagerID: in.ManagerID}
	if err := s.svc.Users.CreateUser(r.Context(), u); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, u)
	return nil
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	u, err := s.svc.Users.FindUserByID(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var upd baton.UserUpdate
	if err := decode(w, r, &upd); err != nil {
		return err
	}
	if upd.Role != nil {
		role, err := baton.ParseRole("role", string(*upd.Role))
		if err != nil {
			return err
		}
		upd.Role = &role
	}
	u, err := s.svc.Users.UpdateUser(r.Context(), id, upd)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

// setOutOfOffice marks a user away until a return date.
func (s *Server) setOutOfOffice(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in baton.OutOfOffice
	if err := decode(w, r, &in); err != nil {
		return err
	}
	u, err := s.svc.Users.SetOutOfOffice(r.Context(), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

// timeZoneInput is the zone a user reads dates in.
type timeZoneInput struct {
	TimeZone string `json:"time_zone"`
}

func (s *Server) setTimeZone(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in timeZoneInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	u, err := s.svc.Users.SetTimeZone(r.Context(), id, in.TimeZone)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

// endOutOfOffice ends a user's absence now.
func (s *Server) endOutOfOffice(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	u, err := s.svc.Users.EndOutOfOffice(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in tokenInput
	if r.ContentLength != 0 {
		body, err := readBody(w, r, maxBody)
		if err != nil {
			return err
		}
		if len(body) > 0 {
			if err := decodeBytes(body, &in, ""); err != nil {
				return err
			}
		}
	}
	token, err := s.svc.Users.CreateToken(r.Context(), id, in.Name)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, tokenResult{Token: token})
	return nil
}

// listTokens lists API tokens: storage keeps a caller who is not an admin
// to their own.
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	f := baton.TokenFilter{UserID: q.id("user_id")}
	if _, ok := q.get("revoked"); ok {
		revoked := q.boolean("revoked")
		f.Revoked = &revoked
	}
	f.Offset, f.Limit = q.page()
	if q.err != nil {
		return q.err
	}
	tokens, total, err := s.svc.Users.FindTokens(r.Context(), f)
	if err != nil {
		return err
	}
	writeList(w, tokens, total)
	return nil
}

// revokeToken revokes an API token at once.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	t, err := s.svc.Users.RevokeToken(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// Events, opportunities, products.

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	f := baton.EventFilter{LeadID: q.id("lead_id"), Type: q.str("type"), After: q.time("after")}
	f.Offset, f.Limit = q.page()
	if q.err != nil {
		return q.err
	}
	events, total, err := s.svc.Events.FindEvents(r.Context(), f)
	if err != nil {
		return err
	}
	writeList(w, events, total)
	return nil
}

func (s *Server) listOpportunities(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	f := baton.OpportunityFilter{OwnerID: q.id("owner_id"), AccountID: q.id("account_id"), LeadID: q.id("lead_id"), Stage: q.oppStage("stage")}
	f.Offset, f.Limit = q.page()
	if q.err != nil {
		return q.err
	}
	opps, total, err := s.svc.Opportunities.FindOpportunities(r.Context(), f)
	if err != nil {
		return err
	}
	writeList(w, opps, total)
	return nil
}

func (s *Server) listProducts(w http.ResponseWriter, r *http.Request) error {
	products, err := s.svc.Opportunities.FindProducts(r.Context())
	if err != nil {
		return err
	}
	writeList(w, products, len(products))
	return nil
}
