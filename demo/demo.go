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
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

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
	// The load's calls get a context that is never cancelled: with a
	// cancellable one the SQLite driver and database/sql start two
	// goroutines per statement to watch it, and the load runs some 200,000
	// statements (measured: about a second of CPU). The load stops instead
	// between its steps and between the history's weeks when ctx ends.
	sys := baton.WithActor(context.WithoutCancel(ctx), baton.Actor{Name: "demo", Role: baton.RoleSystem, Via: "demo"})
	if _, n, err := db.FindUsers(sys, baton.UserFilter{Limit: 1}); err != nil {
		return false, err
	} else if n > 0 {
		return false, nil
	}
	start := time.Now()
	// The load makes much short-lived garbage and keeps little: collecting
	// less often saves CPU the history needs (measured: ready about 1.5 s
	// sooner, peak RSS 365 MB instead of 325 MB). Restored once loaded.
	defer debug.SetGCPercent(debug.SetGCPercent(250))
	realNow := db.Now
	defer func() { db.Now = realNow }()
	end := realNow().UTC()
	l := &loader{db: db, ctx: sys, stop: ctx, end: end, realNow: realNow, byID: map[int64]*baton.User{}}
	steps := []struct {
		name string
		fn   func() error
	}{
		{"users", l.users}, {"accounts", l.accounts}, {"products", l.products},
		{"opportunities", l.opportunities}, {"leads", l.leads}, {"policy", l.policy}, {"history", l.simulate},
		{"model", l.model}, {"passwords", l.setPasswords},
	}
	for _, s := range steps {
		t := time.Now()
		if err := ctx.Err(); err != nil {
			return false, err
		}
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
	db          *store.DB
	ctx         context.Context
	stop        context.Context // ends when the load should stop
	end         time.Time
	realNow     func() time.Time
	sdrs        []*baton.User
	aes         []*baton.User
	agents      map[string]*baton.User // by name
	accts       map[string]int64       // by name
	accountList []*baton.Account       // in file order
	created     map[string]time.Time
	pending     []*baton.Lead
	events      []baton.EventInput
	marketing   *baton.User
	byID        map[int64]*baton.User
	// Every user, and the password they share once hashed.
	everyone []*baton.User
	password store.Password
	hashing  *errgroup.Group
	// The simulation's memory (simulate.go): its leads by id and external
	// id, the ones with an owner's next step, the events still to come by
	// day, the leads marketing picked to qualify by hand, and the day's
	// transaction.
	sims        map[int64]*sim
	byExt       map[string]*sim
	owned       []*sim
	eventsByDay map[time.Time][]baton.EventInput
	toQualify   []*sim
	tx          *store.Tx
	crmSync     int64 // the CRM sync webhook (webhook.go)
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
	// Every demo user has the same, published password: it is hashed
	// once, on the other core while the history plays, and stored for
	// everyone at the end (setPasswords). A salt of each user's own would
	// protect nothing here, and hashing 43 times took 2.7 s of CPU.
	l.hashing = &errgroup.Group{}
	l.hashing.Go(func() (err error) {
		l.password, err = store.HashPassword(ctx, Password)
		return err
	})
	l.everyone = users
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

// setPasswords stores the users' passwords once hashed.
func (l *loader) setPasswords() error {
	if err := l.hashing.Wait(); err != nil {
		return err
	}
	for _, u := range l.everyone {
		if err := l.db.SetHashedPassword(l.ctx, u.ID, l.password); err != nil {
			return err
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
	l.accts, l.accountList = map[string]int64{}, all
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
