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
	"database/sql"
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

// Password is every demo user's web sign-in password.
const Password = "baton-demo-2026"

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
	l := &loader{db: db, ctx: sys, end: end, realNow: realNow, ids: map[string]int64{}, exts: map[int64]string{}, byID: map[int64]*baton.User{}}
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
			"admin", AdminEmail, "password", Password, "hint", "sign in at / or: baton token create --email "+AdminEmail)
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
	// ids and exts map the X Education external ids to lead ids and back.
	ids       map[string]int64
	exts      map[int64]string
	marketing *baton.User
	byID      map[int64]*baton.User
	toQualify []string // converted leads by creation, for marketing to look at
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
		if u.Role == baton.RoleMarketing {
			l.marketing = u
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
	for _, u := range users {
		if err := db.SetPassword(ctx, u.ID, Password); err != nil {
			return err
		}
	}
	l.agents = map[string]*baton.User{}
	for _, u := range users {
		l.agents[u.Name] = u
		l.byID[u.ID] = u
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
				l.toQualify = append(l.toQualify, ld.ExternalID)
			}
		}
		return nil
	})
	slices.SortFunc(l.toQualify, func(a, b string) int { return l.created[a].Compare(l.created[b]) })
	return err
}

// simulate replays the demo's six months with the clock moved, through the
// same calls as real use. Each day's new leads and events arrive at the end
// of that day, so the policy scores, promotes and routes them as it would
// have; every two hours the reps work their queues (accepting the leads that
// did convert and most others, rejecting the rest with a reason, some late,
// some never so that the SLA sweeper reassigns them), qualify, hand to
// account executives, convert and close; and the background jobs (reminders,
// breaches, stale SALs) run at their time. What is left at "now" is a
// working state: open handoffs, some close to breach and some breached,
// SALs, SQLs, opportunities.
func (l *loader) simulate() error {
	day := func(t time.Time) time.Time { return t.Truncate(24 * time.Hour).Add(24*time.Hour - time.Minute) }
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
	start := l.end.AddDate(0, 0, -181).Truncate(24 * time.Hour)
	handlers := l.db.JobHandlers()
	for t := start; !t.After(l.end); t = t.Add(2 * time.Hour) {
		// The jobs that fell due since run first, each at its own time, as
		// the sweeper would have run them: a reminder before its deadline,
		// a breach at it.
		if err := l.runJobsUntil(t, handlers); err != nil {
			return err
		}
		now := t
		l.db.Now = func() time.Time { return now }
		if d := day(t); t.Add(2*time.Hour).After(d) || t.Add(2*time.Hour).After(l.end) {
			if err := l.arrive(leadsByDay[d], eventsByDay[d]); err != nil {
				return err
			}
			delete(leadsByDay, d)
			delete(eventsByDay, d)
		}
		if err := l.work(); err != nil {
			return fmt.Errorf("sales work at %s: %w", t.Format(time.RFC3339), err)
		}
	}
	return l.morning()
}

// runJobsUntil runs the jobs due up to t in the order they fell due, with
// the clock at each one's due time.
func (l *loader) runJobsUntil(t time.Time, handlers map[string]baton.JobHandler) error {
	kinds := make([]string, 0, len(handlers))
	for k := range handlers {
		kinds = append(kinds, "'"+k+"'")
	}
	q := `SELECT MIN(run_at) FROM jobs WHERE done_at IS NULL AND run_at <= $1 AND kind IN (` + strings.Join(kinds, ",") + `)`
	for {
		var next sql.NullInt64
		if err := l.db.SQL().QueryRowContext(l.ctx, q, t.UnixMicro()).Scan(&next); err != nil {
			return err
		}
		if !next.Valid {
			return nil
		}
		at := time.UnixMicro(next.Int64).UTC()
		l.db.Now = func() time.Time { return at }
		ran, err := l.db.RunDueJob(l.ctx, "demo", handlers)
		if err != nil {
			return err
		}
		if !ran {
			return fmt.Errorf("demo: the job due at %s did not run", at.Format(time.RFC3339))
		}
	}
}

// morning leaves every development rep with work this morning: the newest
// promising leads are qualified by marketing over the last hours, and the
// managers balance them so that each rep without an open handoff gets one.
// Some were assigned hours ago and are close to their deadline.
func (l *loader) morning() error {
	var idle []*baton.User
	for _, rep := range l.sdrs {
		var n int
		if err := l.db.SQL().QueryRowContext(l.ctx, `SELECT COUNT(*) FROM handoffs WHERE owner_id = $1 AND state = 'open'`, rep.ID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			idle = append(idle, rep)
		}
	}
	rows, err := l.db.SQL().QueryContext(l.ctx, `SELECT id FROM leads WHERE stage = 'new' ORDER BY fit DESC, created_at DESC LIMIT $1`, len(idle))
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	mkt := baton.WithActor(l.ctx, baton.Actor{UserID: l.marketing.ID, Name: l.marketing.Name, Role: baton.RoleMarketing, Via: "ui"})
	for i, id := range ids {
		at := l.end.Add(-time.Duration(len(ids)-i) * 20 * time.Minute)
		l.db.Now = func() time.Time { return at }
		if _, err := l.db.ChangeStage(mkt, id, baton.StageChange{To: baton.StageMQL, Reason: "spent 20 minutes on the course pages this morning"}); err != nil {
			return err
		}
		rep := idle[i]
		if rep.ManagerID == nil {
			continue
		}
		mgr := l.byID[*rep.ManagerID]
		ld, err := l.db.FindLeadByID(l.ctx, id)
		if err != nil {
			return err
		}
		if ld.OwnerID != nil && *ld.OwnerID == rep.ID {
			continue
		}
		if _, err := l.db.Assign(baton.WithActor(l.ctx, baton.Actor{Name: mgr.Name, Role: baton.RoleSystem, Via: "ui"}), id, rep.ID, "balancing the morning queue"); err != nil {
			return err
		}
	}
	return nil
}

// arrive imports a day's leads and records its events. Converted leads the
// policy did not promote are qualified by marketing by hand the next day.
func (l *loader) arrive(leads []*baton.Lead, events []baton.EventInput) error {
	if len(leads) > 0 {
		res, err := l.db.ImportLeads(l.ctx, leads)
		if err != nil {
			return err
		} else if res.Rejected > 0 {
			return fmt.Errorf("%d leads rejected: %v", res.Rejected, res.Errors[0])
		}
		for _, ld := range leads {
			l.ids[ld.ExternalID] = ld.ID
			l.exts[ld.ID] = ld.ExternalID
		}
	}
	if len(events) > 0 {
		if _, err := l.db.RecordEvents(l.ctx, events); err != nil {
			return err
		}
	}
	return nil
}

// chance returns a stable number in [0, 1) for a lead and a decision.
func chance(ext, what string) float64 { return float64(hash(ext+what)%10000) / 10000 }

// work is two hours of everyone's work.
func (l *loader) work() error {
	now := l.db.Now()
	mkt := baton.WithActor(l.ctx, baton.Actor{UserID: l.marketing.ID, Name: l.marketing.Name, Role: baton.RoleMarketing, Via: "ui"})
	// Marketing qualifies by hand the converted leads the policy left, a day on.
	for len(l.toQualify) > 0 && now.Sub(l.created[l.toQualify[0]]) >= 24*time.Hour {
		ext := l.toQualify[0]
		l.toQualify = l.toQualify[1:]
		id, ok := l.ids[ext]
		if !ok {
			continue
		}
		ld, err := l.db.FindLeadByID(l.ctx, id)
		if err != nil {
			return err
		}
		if ld.Stage == baton.StageNew {
			if _, err := l.db.ChangeStage(mkt, id, baton.StageChange{To: baton.StageMQL, Reason: "asked for a call back on the chat"}); err != nil {
				return err
			}
		}
	}
	// Reps answer their open handoffs after a delay of their own: most in
	// time, many late, a few never (the sweeper reassigns those).
	type open struct {
		owner, lead, handoff int64
		assigned             int64
	}
	var opens []open
	rows, err := l.db.SQL().QueryContext(l.ctx, `SELECT owner_id, lead_id, id, assigned_at FROM handoffs WHERE state = 'open' ORDER BY id`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var o open
		if err := rows.Scan(&o.owner, &o.lead, &o.handoff, &o.assigned); err != nil {
			rows.Close()
			return err
		}
		opens = append(opens, o)
	}
	rows.Close()
	for _, o := range opens {
		rep := l.byID[o.owner]
		ext := l.exts[o.lead]
		c := chance(ext, fmt.Sprint("answer", o.handoff))
		var delay time.Duration
		switch {
		case c < 0.6:
			delay = time.Duration(30+c*250) * time.Minute // within the window
		case c < 0.85:
			delay = time.Duration(3+(c-0.6)*68) * time.Hour // late
		case c < 0.97:
			delay = time.Duration(20+(c-0.85)*160) * time.Hour // much later
		default:
			continue // never: breached and reassigned
		}
		if now.Sub(time.UnixMicro(o.assigned)) < delay {
			continue
		}
		as := baton.WithActor(l.ctx, baton.ActorOf(rep, "ui"))
		ld, err := l.db.FindLeadByID(as, o.lead)
		if err != nil {
			return err
		}
		if err := l.answer(as, ld, ext); err != nil {
			return fmt.Errorf("%s answering lead %d: %w", rep.Name, o.lead, err)
		}
	}
	// Accepted leads move on.
	type owned struct {
		id, owner int64
	}
	var moving []owned
	rows, err = l.db.SQL().QueryContext(l.ctx, `SELECT id, owner_id, stage, stage_changed_at FROM leads
		WHERE stage IN ('sal', 'sql', 'opportunity') AND owner_id IS NOT NULL ORDER BY id`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var o owned
		var stage string
		var changed int64
		if err := rows.Scan(&o.id, &o.owner, &stage, &changed); err != nil {
			rows.Close()
			return err
		}
		// Only leads whose next step is due are worth a look.
		age := now.Sub(time.UnixMicro(changed))
		_, converted := l.leadIDs[l.exts[o.id]]
		switch {
		case stage == "sal" && converted && age > 3*24*time.Hour,
			stage == "sal" && !converted && age > 6*24*time.Hour && chance(l.exts[o.id], "sal") < 0.75,
			stage == "sql" && age > 2*24*time.Hour,
			stage == "opportunity" && age > 10*24*time.Hour:
			moving = append(moving, o)
		}
	}
	rows.Close()
	for _, o := range moving {
		rep := l.byID[o.owner]
		as := baton.WithActor(l.ctx, baton.ActorOf(rep, "ui"))
		ld, err := l.db.FindLeadByID(as, o.id)
		if err != nil {
			return err
		}
		if err := l.progress(as, rep, ld, l.exts[o.id], now); err != nil {
			return fmt.Errorf("lead %d: %w", o.id, err)
		}
	}
	return nil
}

var rejectReasons = []string{baton.ReasonNoNeed, baton.ReasonBadTiming, baton.ReasonNoBudget, baton.ReasonUnableToReach,
	baton.ReasonNoFit, baton.ReasonInaccurateData, baton.ReasonNoAuthority, baton.ReasonOther}

func (l *loader) reason(ext, when string) baton.Rejection {
	r := rejectReasons[hash(ext+when)%uint32(len(rejectReasons))]
	rej := baton.Rejection{Reason: r}
	if r == baton.ReasonOther {
		rej.Note = "a student looking for free material"
	}
	return rej
}

// answer is a rep's answer to a handoff.
func (l *loader) answer(as context.Context, ld *baton.Lead, ext string) error {
	_, converted := l.leadIDs[ext]
	if ld.Stage == baton.StageSQL || converted || chance(ext, "accept") < 0.45 {
		_, err := l.db.Accept(as, ld.ID)
		return err
	}
	return l.reject(as, ld.ID, ext, "mql")
}

func (l *loader) reject(as context.Context, id int64, ext, when string) error {
	r := l.reason(ext, when)
	if r.Reason == baton.ReasonUnableToReach {
		for i := 0; i < 3; i++ {
			if err := l.db.LogAttempt(as, id, &baton.Attempt{Channel: []string{baton.ChannelCall, baton.ChannelEmail, baton.ChannelCall}[i], Outcome: "no_answer"}); err != nil {
				return err
			}
		}
	}
	_, err := l.db.Reject(as, id, r)
	return err
}

// progress moves an owned lead on: a SAL is qualified (or, if it will not
// convert, rejected or left waiting); an SQL's AE converts it; an
// opportunity is won.
func (l *loader) progress(as context.Context, rep *baton.User, ld *baton.Lead, ext string, now time.Time) error {
	_, converted := l.leadIDs[ext]
	age := now.Sub(ld.StageChangedAt)
	switch ld.Stage {
	case baton.StageSAL:
		switch {
		case converted && age > 3*24*time.Hour:
			if err := l.db.LogAttempt(as, ld.ID, &baton.Attempt{Channel: baton.ChannelMeeting, Outcome: "held", Note: "discovery call"}); err != nil {
				return err
			}
			budget := float64(500 + hash(ext)%2500)
			timing := baton.TimingImmediate
			if chance(ext, "timing") < 0.3 {
				timing = baton.TimingThisQuarter
			}
			_, err := l.db.Qualify(as, ld.ID, baton.BANT{BudgetAmount: &budget, BudgetCurrency: "INR", BudgetConfirmed: true,
				Authority: baton.AuthorityDecisionMaker, DecisionMaker: "the learner", Need: "a course to change careers", Timing: timing})
			return err
		case !converted && age > 6*24*time.Hour && chance(ext, "sal") < 0.75:
			return l.reject(as, ld.ID, ext, "sal")
		}
	case baton.StageSQL:
		if age > 2*24*time.Hour {
			_, _, err := l.db.Convert(as, ld.ID, baton.ConvertInput{Name: "Enrolment " + ext[:8], Amount: float64(500 + hash(ext)%2500), IdempotencyKey: "demo-" + ext})
			return err
		}
	case baton.StageOpportunity:
		if age > 10*24*time.Hour {
			_, err := l.db.CloseLead(as, ld.ID, baton.CloseInput{Won: true, Value: float64(500 + hash(ext)%2500), Reason: "enrolled"})
			return err
		}
	}
	return nil
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
	// X Education's sales floor works Monday to Saturday, 9 to 7, in India:
	// answer windows count those hours only.
	if err := l.db.SetCalendar(l.ctx, store.DefaultCalendar, []byte(`{"name": "India office", "time_zone": "Asia/Kolkata",
		"hours": {"mon-sat": ["09:00-19:00"]}, "holidays": ["2026-01-26", "2026-08-15", "2026-10-02", "2026-11-08"]}`)); err != nil {
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
