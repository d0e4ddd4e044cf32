package demo

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/csvimport"
	"github.com/batonhq/baton/store"
)

// The six months of a sales floor the demo plays through Baton's own calls.
// X Education's "Converted" says whether a lead was worth it (good): what a
// rep learns by talking to them. Reps decide with it, as people do, but not
// perfectly: they accept most good leads and some poor ones, qualify most
// good SALs, and opportunities are won or lost. The proportions are set in
// funnelTargets (demo_test.go checks them on the result); durations are
// drawn per lead, so stages take from a day to weeks.

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

// sim is what the simulation remembers of a lead: what sales would find out,
// and the owner's next step.
type sim struct {
	ext      string
	id       int64
	good     bool
	stage    baton.Stage
	owner    *baton.User
	next     time.Time // when the owner's next step is due
	accepted bool      // an SQL's account executive took it
	returned bool      // came back from nurture once
}

// leads reads the X Education leads, gives each the person behind it,
// dates them over the last 180 days, and turns their website visits and
// last activity into events: the visits of the week before the lead filled
// in a form (recorded as it identified itself), its last activity as it did.
func (l *loader) leads() error {
	l.created = map[string]time.Time{}
	used := map[string]bool{}
	_, err := csvimport.Leads(l.open("xeducation/leads-train.csv"), csvimport.Options{}, func(leads []*baton.Lead, _ []int) error {
		for _, ld := range leads {
			h := hash(ld.ExternalID)
			ld.CreatedAt = l.end.Add(-time.Duration(h%(180*24*60)) * time.Minute).Add(-time.Hour)
			p := personOf(ld, l.accountList, used)
			ld.Name, ld.Title, ld.Email, ld.Company = p.name, p.title, p.email, p.company
			l.created[ld.ExternalID] = ld.CreatedAt
			l.pending = append(l.pending, ld)
			visits := 0
			if v, ok := ld.Attrs["TotalVisits"].(float64); ok {
				visits = min(int(v), 10)
			}
			for i := range visits {
				before := time.Duration(1+hash(fmt.Sprint(ld.ExternalID, i))%(7*24*60)) * time.Minute
				l.events = append(l.events, baton.EventInput{ID: fmt.Sprintf("%s-visit-%d", ld.ExternalID, i), ExternalID: ld.ExternalID,
					Type: baton.EventPageView, OccurredAt: ld.CreatedAt.Add(-before)})
			}
			if act, ok := ld.Attrs["Last Activity"].(string); ok {
				typ := activityEvents[act]
				if typ == "" {
					typ = "activity"
				}
				l.events = append(l.events, baton.EventInput{ID: ld.ExternalID + "-last", ExternalID: ld.ExternalID, Type: typ,
					OccurredAt: ld.CreatedAt, Properties: []byte(fmt.Sprintf(`{"activity":%q}`, act))})
			}
		}
		return nil
	})
	return err
}

// day is the last minute of t's day, when that day's leads and events arrive.
func day(t time.Time) time.Time { return t.Truncate(24 * time.Hour).Add(24*time.Hour - time.Minute) }

// simulate replays the demo's six months with the clock moved, through the
// same calls as real use, a week per transaction (store.Batch: every call
// still reads the clock, it only saves the commits). Each day's new leads
// and events arrive at the end of that day, so the policy scores, promotes
// and routes them as it would have; every two hours the reps work their
// queues and the background jobs (reminders, breaches, stale SALs) that fell
// due run at their time. What is left at "now" is a working state: open
// handoffs, some close to breach and some breached, SALs, SQLs and
// opportunities in flight.
func (l *loader) simulate() error {
	l.sims = map[int64]*sim{}
	l.byExt = map[string]*sim{}
	leadsByDay := map[time.Time][]*baton.Lead{}
	for _, ld := range l.pending {
		leadsByDay[day(ld.CreatedAt)] = append(leadsByDay[day(ld.CreatedAt)], ld)
	}
	l.eventsByDay = map[time.Time][]baton.EventInput{}
	for _, e := range l.events {
		// Visits before the lead identified itself arrive with it.
		d := day(e.OccurredAt)
		if c := day(l.created[e.ExternalID]); c.After(d) {
			d = c
		}
		l.eventsByDay[d] = append(l.eventsByDay[d], e)
	}
	handlers := l.db.JobHandlers()
	start := l.end.AddDate(0, 0, -181).Truncate(24 * time.Hour)
	outer := l.ctx
	const week = 7 * 24 * time.Hour
	if err := l.addCRMSync(start); err != nil {
		return err
	}
	for d := start; !d.After(l.end); d = d.Add(week) {
		if err := l.stop.Err(); err != nil {
			return err
		}
		err := l.db.Batch(outer, func(ctx context.Context, tx *store.Tx) error {
			l.ctx, l.tx = ctx, tx
			for t := d; t.Before(d.Add(week)) && !t.After(l.end); t = t.Add(2 * time.Hour) {
				if err := l.runJobsUntil(t, handlers); err != nil {
					return err
				}
				now := t
				l.db.Now = func() time.Time { return now }
				if last := day(t); t.Add(2*time.Hour).After(last) || t.Add(2*time.Hour).After(l.end) {
					if err := l.arrive(leadsByDay[last], l.eventsByDay[last]); err != nil {
						return err
					}
					delete(leadsByDay, last)
					delete(l.eventsByDay, last)
				}
				if err := l.work(now); err != nil {
					return fmt.Errorf("sales work at %s: %w", now.Format(time.RFC3339), err)
				}
				if err := l.deliverDue(); err != nil {
					return err
				}
			}
			return nil
		})
		l.ctx, l.tx = outer, nil
		if err != nil {
			return err
		}
	}
	if err := l.morning(); err != nil {
		return err
	}
	return l.endCRMSync()
}

// runJobsUntil runs the jobs due up to t in the order they fell due, with
// the clock at each one's due time.
func (l *loader) runJobsUntil(t time.Time, handlers map[string]baton.JobHandler) error {
	kinds := make([]string, 0, len(handlers))
	for k := range handlers {
		kinds = append(kinds, "'"+k+"'")
	}
	slices.Sort(kinds)
	q := `SELECT MIN(run_at) FROM jobs WHERE done_at IS NULL AND run_at <= $1 AND kind IN (` + strings.Join(kinds, ",") + `)`
	for {
		var next sql.NullInt64
		if err := l.tx.QueryRowContext(l.ctx, q, t.UnixMicro()).Scan(&next); err != nil {
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

// arrive imports a day's leads and records its events.
func (l *loader) arrive(leads []*baton.Lead, events []baton.EventInput) error {
	if len(leads) > 0 {
		res, err := l.db.ImportLeads(l.ctx, leads)
		if err != nil {
			return err
		} else if res.Rejected > 0 {
			return fmt.Errorf("%d leads rejected: %v", res.Rejected, res.Errors[0])
		}
		for _, ld := range leads {
			s := &sim{ext: ld.ExternalID, id: ld.ID, good: ld.Attrs["Converted"] == 1.0, stage: baton.StageNew}
			l.sims[ld.ID], l.byExt[ld.ExternalID] = s, s
			if l.handPicked(ld) {
				l.toQualify = append(l.toQualify, s)
			}
		}
	}
	if len(events) > 0 {
		if _, err := l.db.RecordEvents(l.ctx, events); err != nil {
			return err
		}
	}
	return nil
}

// handPicked says whether marketing would look at a lead the policy left
// by hand: it talked to us (chat, text, call) and read the course pages
// for a while, or came through the lead form. What is known before contact
// only: marketing cannot know how a lead will end.
func (l *loader) handPicked(ld *baton.Lead) bool {
	act, _ := ld.Attrs["Last Activity"].(string)
	secs, _ := ld.Attrs["Total Time Spent on Website"].(float64)
	talked := act == "Olark Chat Conversation" || act == "SMS Sent" || act == "Had a Phone Conversation"
	return talked && secs >= 900
}

// chance returns a stable number in [0, 1) for a lead and a decision.
func chance(ext, what string) float64 { return float64(hash(ext+what)%10000) / 10000 }

// wait draws a duration for a lead and a decision: lo at least, and on
// average lo+mean, with a long tail (exponential), so that stage durations
// spread as they do on a real floor.
func wait(ext, what string, lo, mean time.Duration) time.Duration {
	u := chance(ext, what)
	return lo + time.Duration(-math.Log(1-u*0.999)*float64(mean))
}

// openHandoff is an answer a rep owes.
type openHandoff struct {
	owner, lead, id int64
	kind            string
	assigned        time.Time
}

// work is two hours of everyone's work.
func (l *loader) work(now time.Time) error {
	mkt := baton.WithActor(l.ctx, baton.Actor{UserID: l.marketing.ID, Name: l.marketing.Name, Role: baton.RoleMarketing, Via: "ui"})
	// Marketing qualifies by hand, a day on, the leads it picked that the
	// policy left.
	for len(l.toQualify) > 0 && now.Sub(l.created[l.toQualify[0].ext]) >= 24*time.Hour {
		s := l.toQualify[0]
		l.toQualify = l.toQualify[1:]
		if stage, err := l.stageOf(s.id); err != nil {
			return err
		} else if stage == baton.StageNew {
			if _, err := l.db.ChangeStage(mkt, s.id, baton.StageChange{To: baton.StageMQL, Reason: "asked for a call back on the chat"}); err != nil {
				return err
			}
		}
	}
	// Reps answer their open handoffs after a delay of their own, longer
	// the more they have open: most in time, many late, a few never (the
	// sweeper reassigns those). Breaches gather on the busiest reps. (The
	// kinds, every kind there is, let SQLite read the handoffs_open index
	// instead of every handoff.)
	rows, err := l.tx.QueryContext(l.ctx, `SELECT owner_id, lead_id, id, kind, assigned_at FROM handoffs WHERE state = 'open' AND kind IN ($1, $2) ORDER BY id`,
		string(baton.HandoffSDR), string(baton.HandoffAE))
	if err != nil {
		return err
	}
	var opens []openHandoff
	load := map[int64]int{}
	for rows.Next() {
		var o openHandoff
		var at int64
		if err := rows.Scan(&o.owner, &o.lead, &o.id, &o.kind, &at); err != nil {
			rows.Close()
			return err
		}
		o.assigned = time.UnixMicro(at).UTC()
		opens = append(opens, o)
		load[o.owner]++
	}
	rows.Close()
	for _, o := range opens {
		s := l.sims[o.lead]
		if s == nil {
			continue
		}
		c := chance(s.ext, fmt.Sprint("answer", o.id))
		var delay time.Duration
		switch {
		case c < 0.74:
			delay = time.Duration(15+c*180) * time.Minute
		case c < 0.88:
			delay = time.Duration(4+(c-0.74)*150) * time.Hour
		case c < 0.97:
			delay = time.Duration(30+(c-0.88)*500) * time.Hour
		case o.kind == string(baton.HandoffAE):
			delay = 40 * time.Hour // account executives answer in the end
		default:
			continue // never: breached and reassigned
		}
		rep := l.byID[o.owner]
		delay = time.Duration(float64(delay) * repPace(rep) * (1 + float64(load[o.owner])/3))
		if now.Sub(o.assigned) < delay {
			continue
		}
		if err := l.answer(baton.WithActor(l.ctx, baton.ActorOf(rep, "ui")), rep, s, o.kind, now); err != nil {
			return fmt.Errorf("%s answering lead %d: %w", rep.Name, o.lead, err)
		}
	}
	// Accepted leads move on when their owner's next step is due.
	for _, s := range l.owned {
		if s.next.IsZero() || s.next.After(now) {
			continue
		}
		s.next = time.Time{}
		as := baton.WithActor(l.ctx, baton.ActorOf(s.owner, "ui"))
		if err := l.progress(as, s, now); err != nil {
			return fmt.Errorf("lead %d: %w", s.id, err)
		}
	}
	l.owned = slices.DeleteFunc(l.owned, func(s *sim) bool { return s.next.IsZero() })
	return nil
}

// repPace is how much slower than the floor's pace a rep answers: some
// reps carry other work (events, onboarding, a second territory), and
// their queue backs up.
func repPace(rep *baton.User) float64 {
	return []float64{0.6, 0.8, 1, 1, 1.4, 2.6}[hash(rep.Name+"pace")%6]
}

// stageOf reads a lead's stage as stored.
func (l *loader) stageOf(id int64) (baton.Stage, error) {
	var st string
	err := l.tx.QueryRowContext(l.ctx, `SELECT stage FROM leads WHERE id = $1`, id).Scan(&st)
	return baton.Stage(st), err
}

// schedule sets a lead's next step.
func (l *loader) schedule(s *sim, owner *baton.User, at time.Time) {
	s.owner, s.next = owner, at
	l.owned = append(l.owned, s)
}

var (
	recycleReasons = []string{baton.ReasonBadTiming, baton.ReasonNoBudget, baton.ReasonUnableToReach, baton.ReasonNoAuthority, baton.ReasonOther}
	poorReasons    = []string{baton.ReasonNoNeed, baton.ReasonNoFit, baton.ReasonUnableToReach, baton.ReasonInaccurateData, baton.ReasonNoBudget, baton.ReasonBadTiming, baton.ReasonNoAuthority}
	lostReasons    = []string{baton.LostPrice, baton.LostCompetitor, baton.LostNoDecision, baton.LostTiming, baton.LostNoBudget}
)

// answer is a rep's answer to a handoff: an account executive takes the
// SQL; a development rep accepts most good leads and some poor ones, and
// rejects the rest with a reason.
func (l *loader) answer(as context.Context, rep *baton.User, s *sim, kind string, now time.Time) error {
	if kind == string(baton.HandoffAE) {
		if _, err := l.db.Accept(as, s.id); err != nil {
			return err
		}
		s.accepted = true
		l.schedule(s, rep, now.Add(wait(s.ext, "convert", 20*time.Hour, 3*24*time.Hour)))
		return nil
	}
	accept := 0.42
	if s.good {
		accept = 0.9
	}
	if chance(s.ext, fmt.Sprint("accept", s.returned)) < accept {
		if _, err := l.db.Accept(as, s.id); err != nil {
			return err
		}
		s.stage = baton.StageSAL
		l.schedule(s, rep, now.Add(wait(s.ext, fmt.Sprint("sal", s.returned), 30*time.Hour, 6*24*time.Hour)))
		return nil
	}
	return l.reject(as, s, "mql", now)
}

// reject rejects a lead with a reason: poor leads for any reason, good ones
// for timing, budget or reach (they go to nurture, and some come back).
func (l *loader) reject(as context.Context, s *sim, when string, now time.Time) error {
	list := poorReasons
	if s.good {
		list = recycleReasons
	}
	rej := baton.Rejection{Reason: list[hash(s.ext+when)%uint32(len(list))]}
	if rej.Reason == baton.ReasonOther {
		rej.Note = "wants to start after the exams"
	}
	if rej.Reason == baton.ReasonUnableToReach {
		for i, ch := range []string{baton.ChannelCall, baton.ChannelEmail, baton.ChannelCall} {
			if err := l.db.LogAttempt(as, s.id, &baton.Attempt{Channel: ch, Outcome: "no_answer", Note: fmt.Sprintf("attempt %d", i+1)}); err != nil {
				return err
			}
		}
	}
	ld, err := l.db.Reject(as, s.id, rej)
	if err != nil {
		return err
	}
	s.stage = ld.Stage
	// Some recycled leads come back: weeks later they read the pricing page
	// and ask again, and the policy makes them MQLs once more.
	back := 0.12
	if s.good {
		back = 0.5
	}
	if ld.Stage == baton.StageRecycled && !s.returned && chance(s.ext, "back") < back {
		s.returned = true
		at := now.Add(wait(s.ext, "back-at", 34*24*time.Hour, 20*24*time.Hour))
		for i, typ := range []string{baton.EventEmailClick, baton.EventPageView, baton.EventFormSubmit} {
			e := baton.EventInput{ID: fmt.Sprintf("%s-back-%d", s.ext, i), ExternalID: s.ext, Type: typ, OccurredAt: at.Add(time.Duration(i) * 20 * time.Minute)}
			if typ == baton.EventPageView {
				e.Properties = []byte(`{"url": "https://xeducation.example/pricing"}`)
			}
			l.eventsByDay[day(e.OccurredAt)] = append(l.eventsByDay[day(e.OccurredAt)], e)
		}
	}
	return nil
}

// progress is an owner's next step on a lead: a SAL is qualified, rejected
// or left waiting; an accepted SQL becomes an opportunity or is left; an
// opportunity is won or lost.
func (l *loader) progress(as context.Context, s *sim, now time.Time) error {
	ext := s.ext
	pick := func(good, poor float64, what string) bool {
		if s.good {
			return chance(ext, fmt.Sprint(what, s.returned)) < good
		}
		return chance(ext, fmt.Sprint(what, s.returned)) < poor
	}
	amount := float64(500 + hash(ext)%2500)
	switch {
	case s.stage == baton.StageSAL:
		switch c := chance(ext, fmt.Sprint("sal-step", s.returned)); {
		case pick(0.8, 0.14, "qualify"):
			if err := l.db.LogAttempt(as, s.id, &baton.Attempt{Channel: baton.ChannelMeeting, Outcome: "held", Note: "discovery call"}); err != nil {
				return err
			}
			timing := baton.TimingImmediate
			if chance(ext, "timing") < 0.3 {
				timing = baton.TimingThisQuarter
			}
			if _, err := l.db.Qualify(as, s.id, baton.BANT{BudgetAmount: &amount, BudgetCurrency: "USD", BudgetConfirmed: true,
				Authority: baton.AuthorityDecisionMaker, DecisionMaker: "the learner's manager", Need: "upskilling the team in data", Timing: timing}); err != nil {
				return err
			}
			s.stage = baton.StageSQL
		case c < 0.95:
			return l.reject(as, s, "sal", now)
		default:
			// Left waiting: the stale-SAL sweep and sales ops see it.
		}
	case s.stage == baton.StageSQL && s.accepted:
		if pick(0.9, 0.6, "convert") {
			if _, _, err := l.db.Convert(as, s.id, baton.ConvertInput{Name: s.ext[:8] + " - Data Science team licence", Amount: amount, IdempotencyKey: "demo-" + ext}); err != nil {
				return err
			}
			s.stage = baton.StageOpportunity
			l.schedule(s, s.owner, now.Add(wait(ext, "close", 7*24*time.Hour, 25*24*time.Hour)))
		}
	case s.stage == baton.StageOpportunity:
		in := baton.CloseInput{Won: pick(0.42, 0.08, "won"), Value: amount, Reason: "signed the licence"}
		if !in.Won {
			in.Value, in.Reason = 0, lostReasons[hash(ext+"lost")%uint32(len(lostReasons))]
		}
		if _, err := l.db.CloseLead(as, s.id, in); err != nil {
			return err
		}
		s.stage = baton.StageWon
		if !in.Won {
			s.stage = baton.StageLost
		}
	}
	return nil
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
