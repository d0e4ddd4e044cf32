// Package demo loads Baton's bundled demo data into an empty database: the
// CRM data set's sales agents (as reps with their managers and regional
// offices), accounts, products and opportunity history, and the X Education
// leads with their behaviour and known outcomes. Everything goes through the
// same storage calls as real use, so every lead has a true history.
//
// The data files are in data/ (see data/README.md for their sources).
package demo

import (
	"bytes"
	"context"
	"embed"
	"encoding/csv"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/csvimport"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/store"
)

//go:embed data/xeducation/leads-train.csv data/crm/*.csv
var files embed.FS

// AdminEmail is the demo administrator. Every other demo user's email is
// first.last@example.com in lower case.
const AdminEmail = "admin@example.com"

// MarketingEmail is the demo marketer.
const MarketingEmail = "maya.brooks@example.com"

// Load loads the demo into db if it has no users yet, and reports whether it
// did. The leads are dated over the 180 days before db.Now().
func Load(ctx context.Context, db *store.DB, logger *slog.Logger) (bool, error) {
	sys := baton.WithActor(ctx, baton.Actor{Name: "demo", Role: baton.RoleSystem, Via: "demo"})
	if _, n, err := db.FindUsers(sys, baton.UserFilter{Limit: 1}); err != nil {
		return false, err
	} else if n > 0 {
		return false, nil
	}
	start := time.Now()
	realNow := db.Now
	defer func() { db.Now = realNow }()
	end := realNow().UTC()
	l := &loader{db: db, ctx: sys, end: end, realNow: realNow}
	steps := []struct {
		name string
		fn   func() error
	}{
		{"users", l.users}, {"accounts", l.accounts}, {"products", l.products},
		{"opportunities", l.opportunities}, {"leads", l.leads}, {"policy", l.policy}, {"history", l.simulate},
		{"model", l.model},
	}
	for _, s := range steps {
		t := time.Now()
		if err := s.fn(); err != nil {
			return false, fmt.Errorf("%s: %w", s.name, err)
		}
		if logger != nil {
			logger.Info("demo loaded", "part", s.name, "seconds", time.Since(t).Round(time.Millisecond).Seconds())
		}
	}
	if logger != nil {
		logger.Info("demo ready", "seconds", time.Since(start).Round(time.Millisecond).Seconds(),
			"admin", AdminEmail, "hint", "baton token create --email "+AdminEmail)
	}
	return true, nil
}

type loader struct {
	db      *store.DB
	ctx     context.Context
	end     time.Time
	realNow func() time.Time
	sdrs    []*baton.User
	aes     []*baton.User
	agents  map[string]*baton.User // by name
	accts   map[string]int64       // by name
	leadIDs map[string]int64       // converted X Education leads by external id
	created map[string]time.Time
	pending []*baton.Lead
	events  []baton.EventInput
}

func (l *loader) open(name string) io.Reader {
	b, err := files.ReadFile("data/" + name)
	if err != nil {
		panic(err) // embedded at build time: cannot be missing
	}
	return bytes.NewReader(b)
}

func (l *loader) users() error {
	db, ctx := l.db, l.ctx
	for _, u := range []*baton.User{
		{Email: AdminEmail, Name: "Ada Admin", Role: baton.RoleAdmin},
		{Email: MarketingEmail, Name: "Maya Brooks", Role: baton.RoleMarketing, Team: "Marketing"},
	} {
		if err := db.CreateUser(ctx, u); err != nil {
			return err
		}
	}
	var all []baton.UserImport
	if _, err := csvimport.Users(l.open("crm/sales_teams.csv"), csvimport.Options{}, func(users []baton.UserImport, _ []int) error {
		all = append(all, users...)
		return nil
	}); err != nil {
		return err
	}
	// In each manager's team, alternate development reps (who answer MQLs)
	// and account executives (who close SQLs).
	seen := map[string]int{}
	for i := range all {
		if seen[all[i].Manager]%2 == 0 {
			all[i].User.Role = baton.RoleSDR
		} else {
			all[i].User.Role = baton.RoleAE
		}
		seen[all[i].Manager]++
	}
	res, err := db.ImportUsers(ctx, all)
	if err != nil {
		return err
	} else if res.Rejected > 0 {
		return fmt.Errorf("%d users rejected: %v", res.Rejected, res.Errors)
	}
	users, _, err := db.FindUsers(ctx, baton.UserFilter{Limit: 1000})
	if err != nil {
		return err
	}
	l.agents = map[string]*baton.User{}
	for _, u := range users {
		l.agents[u.Name] = u
		switch u.Role {
		case baton.RoleSDR:
			l.sdrs = append(l.sdrs, u)
		case baton.RoleAE:
			l.aes = append(l.aes, u)
		case baton.RoleManager:
			// Managers sit in their team's regional office.
			team, _, err := db.FindUsers(ctx, baton.UserFilter{ManagerID: &u.ID, Limit: 1})
			if err == nil && len(team) > 0 {
				if _, err := db.UpdateUser(ctx, u.ID, baton.UserUpdate{Team: &team[0].Team, Territory: &team[0].Territory}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// domainOf makes a web domain from a company name: "Acme Corporation" is
// acmecorporation.com.
func domainOf(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String() + ".com"
}

func (l *loader) accounts() error {
	var all []*baton.Account
	if _, err := csvimport.Accounts(l.open("crm/accounts.csv"), csvimport.Options{}, func(as []*baton.Account, _ []int) error {
		for _, a := range as {
			a.Domain = domainOf(a.Name)
		}
		all = append(all, as...)
		return nil
	}); err != nil {
		return err
	}
	if _, err := l.db.ImportAccounts(l.ctx, all); err != nil {
		return err
	}
	l.accts = map[string]int64{}
	for _, a := range all {
		l.accts[a.Name] = a.ID
	}
	return nil
}

// records reads a small embedded CSV file whole.
func (l *loader) records(name string) ([]map[string]string, error) {
	r := csv.NewReader(l.open(name))
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	out := make([]map[string]string, 0, len(rows))
	for _, row := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			m[h] = row[i]
		}
		out = append(out, m)
	}
	return out, nil
}

func (l *loader) products() error {
	rows, err := l.records("crm/products.csv")
	if err != nil {
		return err
	}
	for _, r := range rows {
		price, _ := strconv.ParseFloat(r["sales_price"], 64)
		if err := l.db.CreateProduct(l.ctx, &baton.Product{Name: r["product"], Series: r["series"], Price: price}); err != nil {
			return err
		}
	}
	return nil
}

// opportunities loads the CRM pipeline: 8,800 deals of 2016-2017, shifted so
// that the newest falls just before the demo's "now", in one transaction.
func (l *loader) opportunities() error {
	rows, err := l.records("crm/sales_pipeline.csv")
	if err != nil {
		return err
	}
	prices := map[string]float64{}
	prods, _ := l.db.FindProducts(l.ctx)
	for _, p := range prods {
		prices[p.Name] = p.Price
	}
	var latest time.Time
	day := func(s string) *time.Time {
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return nil
		}
		return &t
	}
	for _, r := range rows {
		for _, k := range []string{"engage_date", "close_date"} {
			if t := day(r[k]); t != nil && t.After(latest) {
				latest = *t
			}
		}
	}
	shift := l.end.Truncate(24*time.Hour).AddDate(0, 0, -1).Sub(latest)
	return l.db.InTx(l.ctx, func(ctx context.Context) error {
		for _, r := range rows {
			product := r["product"]
			if product == "GTXPro" { // the pipeline's spelling of "GTX Pro"
				product = "GTX Pro"
			}
			stage, err := baton.ParseOpportunityStage("deal_stage", r["deal_stage"])
			if err != nil {
				return err
			}
			o := &baton.Opportunity{ExternalID: r["opportunity_id"], Product: product, Stage: stage, Amount: prices[product]}
			o.Name = product
			if a := r["account"]; a != "" {
				o.Name = a + " - " + product
				if id, ok := l.accts[a]; ok {
					o.AccountID = &id
				}
			}
			if u := l.agents[r["sales_agent"]]; u != nil {
				o.OwnerID = &u.ID
			}
			if t := day(r["engage_date"]); t != nil {
				e := t.Add(shift)
				o.EngagedAt, o.CreatedAt = &e, e
			}
			if t := day(r["close_date"]); t != nil {
				c := t.Add(shift)
				o.ClosedAt = &c
			}
			if o.CreatedAt.IsZero() {
				o.CreatedAt = l.end.AddDate(0, 0, -int(hash(o.ExternalID)%30))
			}
			o.CloseValue, _ = strconv.ParseFloat(r["close_value"], 64)
			if err := l.db.CreateOpportunity(ctx, o); err != nil {
				return fmt.Errorf("opportunity %s: %w", o.ExternalID, err)
			}
		}
		return nil
	})
}

func hash(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

// activityEvents maps the X Education "Last Activity" to an event type.
var activityEvents = map[string]string{
	"Email Opened":                 baton.EventEmailOpen,
	"Email Link Clicked":           baton.EventEmailClick,
	"Page Visited on Website":      baton.EventPageView,
	"Form Submitted on Website":    baton.EventFormSubmit,
	"Converted to Lead":            baton.EventFormSubmit,
	"Unsubscribed":                 baton.EventUnsubscribe,
	"Olark Chat Conversation":      "chat_conversation",
	"SMS Sent":                     "sms_sent",
	"Had a Phone Conversation":     "phone_conversation",
	"Email Bounced":                "email_bounced",
	"Email Received":               "email_received",
	"Approached upfront":           "approached",
	"Visited Booth in Tradeshow":   "tradeshow_visit",
	"View in browser link Clicked": baton.EventEmailClick,
	"Email Marked Spam":            "email_spam",
	"Resubscribed to emails":       "resubscribed",
}

// leads reads the X Education leads, dates them over the last 180 days, and
// turns their website visits and last activity into events.
func (l *loader) leads() error {
	l.leadIDs = map[string]int64{}
	l.created = map[string]time.Time{}
	_, err := csvimport.Leads(l.open("xeducation/leads-train.csv"), csvimport.Options{}, func(leads []*baton.Lead, _ []int) error {
		for _, ld := range leads {
			h := hash(ld.ExternalID)
			ld.CreatedAt = l.end.Add(-time.Duration(h%(180*24*60)) * time.Minute).Add(-time.Hour)
			ld.Name = "Prospect " + ld.ExternalID[:8]
			l.created[ld.ExternalID] = ld.CreatedAt
			l.pending = append(l.pending, ld)
			visits := 0
			if v, ok := ld.Attrs["TotalVisits"].(float64); ok {
				visits = min(int(v), 10)
			}
			for i := 0; i < visits; i++ {
				l.events = append(l.events, baton.EventInput{ID: fmt.Sprintf("%s-visit-%d", ld.ExternalID, i), ExternalID: ld.ExternalID,
					Type: baton.EventPageView, OccurredAt: ld.CreatedAt.Add(time.Duration(i+1) * 7 * time.Hour)})
			}
			if act, ok := ld.Attrs["Last Activity"].(string); ok {
				typ := activityEvents[act]
				if typ == "" {
					typ = "activity"
				}
				l.events = append(l.events, baton.EventInput{ID: ld.ExternalID + "-last", ExternalID: ld.ExternalID, Type: typ,
					OccurredAt: ld.CreatedAt.Add(80 * time.Hour), Properties: []byte(fmt.Sprintf(`{"activity":%q}`, act))})
			}
			if ld.Attrs["Converted"] == 1.0 {
				l.leadIDs[ld.ExternalID] = 0
			}
		}
		return nil
	})
	return err
}

// action is one step of the demo's history, run with the clock at its time.
type action struct {
	at time.Time
	fn func(ctx context.Context) error
}

// simulate replays the demo's six months with the clock moved: each day's new
// leads and events arrive at the end of that day (so the policy scores and
// promotes them as it would have), and each converted lead walks through the
// funnel to won as sales worked it.
func (l *loader) simulate() error {
	var acts []action
	day := func(t time.Time) time.Time {
		d := t.Truncate(24 * time.Hour).Add(24*time.Hour - time.Minute)
		if d.After(l.end) {
			d = l.end
		}
		return d
	}
	leadsByDay := map[time.Time][]*baton.Lead{}
	for _, ld := range l.pending {
		leadsByDay[day(ld.CreatedAt)] = append(leadsByDay[day(ld.CreatedAt)], ld)
	}
	eventsByDay := map[time.Time][]baton.EventInput{}
	for _, e := range l.events {
		if !e.OccurredAt.After(l.end) { // the future has not happened yet
			eventsByDay[day(e.OccurredAt)] = append(eventsByDay[day(e.OccurredAt)], e)
		}
	}
	for d, leads := range leadsByDay {
		acts = append(acts, action{d, func(ctx context.Context) error {
			res, err := l.db.ImportLeads(ctx, leads)
			if err != nil {
				return err
			} else if res.Rejected > 0 {
				return fmt.Errorf("%d leads rejected: %v", res.Rejected, res.Errors[0])
			}
			for _, ld := range leads {
				if _, ok := l.leadIDs[ld.ExternalID]; ok {
					l.leadIDs[ld.ExternalID] = ld.ID
				}
			}
			return nil
		}})
	}
	for d, events := range eventsByDay {
		acts = append(acts, action{d.Add(time.Second), func(ctx context.Context) error {
			_, err := l.db.RecordEvents(ctx, events)
			return err
		}})
	}
	exts := make([]string, 0, len(l.leadIDs))
	for ext := range l.leadIDs {
		exts = append(exts, ext)
	}
	slices.Sort(exts) // the same demo every time
	for _, ext := range exts {
		acts = append(acts, l.walk(ext)...)
	}
	slices.SortStableFunc(acts, func(a, b action) int { return a.at.Compare(b.at) })
	for _, a := range acts {
		at := a.at
		l.db.Now = func() time.Time { return at }
		if err := l.db.InTx(l.ctx, a.fn); err != nil {
			return err
		}
	}
	return nil
}

// walk is how sales worked a lead that converted: qualified a day after it
// came (unless the policy had already made it an MQL), accepted, qualified
// with BANT, converted by an account executive, won. A recent lead is still
// on its way.
func (l *loader) walk(ext string) []action {
	sdr := l.sdrs[int(hash(ext))%len(l.sdrs)]
	ae := l.aes[int(hash(ext+"ae"))%len(l.aes)]
	at := l.created[ext].Add(time.Hour)
	id := func() int64 { return l.leadIDs[ext] }
	move := func(from, to baton.Stage, reason string, owner *baton.User) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			ld, err := l.db.FindLeadByID(ctx, id())
			if err != nil {
				return err
			}
			if ld.Stage != from {
				return nil // the policy got there first
			}
			if owner != nil {
				if _, err := l.db.UpdateLead(ctx, ld.ID, baton.LeadUpdate{OwnerID: &owner.ID}); err != nil {
					return err
				}
			}
			_, err = l.db.ChangeStage(ctx, ld.ID, baton.StageChange{To: to, Reason: reason})
			return err
		}
	}
	steps := []struct {
		days     float64
		from, to baton.Stage
		reason   string
		owner    *baton.User
	}{
		{1, baton.StageNew, baton.StageMQL, "demo: asked for a call back", nil},
		{0.2, baton.StageMQL, baton.StageSAL, "", sdr},
		{3, baton.StageSAL, baton.StageSQL, "", nil},
		{2, baton.StageSQL, baton.StageOpportunity, "", ae},
		{10, baton.StageOpportunity, baton.StageWon, "enrolled", nil},
	}
	var acts []action
	for _, s := range steps {
		at = at.Add(time.Duration(s.days * 24 * float64(time.Hour)))
		if at.After(l.end) {
			break
		}
		acts = append(acts, action{at, move(s.from, s.to, s.reason, s.owner)})
	}
	return acts
}

// policy declares the leads' custom attributes and publishes the default
// policy before any lead arrives, so that every lead is scored as it comes.
func (l *loader) policy() error {
	types := map[string]baton.AttrType{}
	for _, ld := range l.pending {
		for k, v := range ld.Attrs {
			types[k] = baton.TypeOf(v)
		}
	}
	defs := make([]baton.AttributeDef, 0, len(types))
	for k, t := range types {
		defs = append(defs, baton.AttributeDef{Name: k, Type: t})
	}
	if err := l.db.DefineAttributes(l.ctx, defs); err != nil {
		return err
	}
	_, err := l.db.PublishDocument(l.ctx, string(policy.DefaultDocument()))
	return err
}

// model trains the predictive model on the leads' known outcomes, activates
// it, and scores every lead with it.
func (l *loader) model() error {
	l.db.Now = l.realNow
	if _, err := l.db.TrainModel(l.ctx, 0.2, 1, false); err != nil {
		return err
	}
	_, err := l.db.RescoreAll(l.ctx)
	return err
}
