package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
)

// The lifecycle: every move of a lead is one rule of baton.Rules, made by
// Tx.move in the transaction of the door that asked for it (a verb of
// the API, the web and the CLI, the generic transition, the SLA sweeper,
// the scoring policy, the demo). move finds the rule, checks who may
// make it and what it needs, and causes what the rule says, in this order:
//
//	close the open handoff -> change the stage (a compare-and-set, with its
//	history entry) -> the owner (routed, assigned, claimed, ...) and a new
//	handoff -> nurture -> the records (BANT, opportunity, close, merge) ->
//	the accountability check -> notifications -> the webhook event
//
// The verbs (verbs.go) only say which rule they mean; none does anything
// the rule does not.

// ChangeStage makes the move the change asks for (the generic transition):
// exactly what its rule's verb would, with the same needs.
func (db *DB) ChangeStage(ctx context.Context, id int64, c baton.StageChange) (*baton.Lead, error) {
	if c.To == baton.StageOpportunity && c.Opportunity != nil && c.Opportunity.IdempotencyKey != "" {
		// A conversion with an idempotency key is the same conversion
		// however often it is retried, through this door too.
		if _, _, err := db.Convert(ctx, id, *c.Opportunity); err != nil {
			return nil, err
		}
		return db.FindLeadByID(ctx, id)
	}
	l, _, err := db.moveLead(ctx, id, c.Verb, func(*Tx, *baton.Lead) (baton.StageChange, error) { return c, nil })
	return l, err
}

// moveLead makes one move on a lead the actor may see, in a transaction of
// its own: change builds the move from the lead as it is now. A verb the
// actor's role never makes is refused before the lead is looked at.
func (db *DB) moveLead(ctx context.Context, id int64, verb baton.Verb, change func(tx *Tx, l *baton.Lead) (baton.StageChange, error)) (_ *baton.Lead, _ *moved, err error) {
	defer raceConflict(&err)
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback()
	if err := mayMake(tx.actor, verb); err != nil {
		return nil, nil, err
	}
	l, err := tx.findActionableLead(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	c, err := change(tx, l)
	if err != nil {
		return nil, nil, err
	}
	m, err := tx.move(ctx, l, c)
	if err != nil {
		return nil, nil, err
	}
	return l, m, tx.Commit()
}

// moved is what a move made besides changing the lead.
type moved struct {
	rule        baton.Rule
	handoff     *baton.Handoff // opened
	answered    *baton.Handoff // closed
	opportunity *baton.Opportunity
	data        map[string]any // of the webhook event
	previous    *int64         // the owner before
	track       string
	// breached is the owner whose handoff a breach closed; escalate says
	// their manager is told (not when the manager was the owner).
	breached *baton.User
	escalate bool
}

// changeStage makes the move c on l, for callers that need nothing of it
// but the lead (the scoring policy's promotion).
func (tx *Tx) changeStage(ctx context.Context, l *baton.Lead, c baton.StageChange) error {
	_, err := tx.move(ctx, l, c)
	return err
}

// move makes the move c on l, which the caller read for update: the one
// function every door of the lifecycle calls.
func (tx *Tx) move(ctx context.Context, l *baton.Lead, c baton.StageChange) (*moved, error) {
	if c.To == "" && c.Verb == "" {
		return nil, baton.FieldError("to", "required: the stage to move the lead to")
	}
	if c.To != "" {
		if _, err := baton.ParseStage("to", string(c.To)); err != nil {
			return nil, err
		}
	}
	if c.Verb != "" && !containsVerb(c.Verb) {
		return nil, baton.FieldError("verb", "unknown verb %q (want one of %s)", c.Verb, verbList())
	}
	// A verb the actor's role never makes is refused the same for every
	// lead, before anything tells whether the lead exists.
	if err := mayMake(tx.actor, c.Verb); err != nil {
		return nil, err
	}
	sc, err := tx.scorer(ctx)
	if err != nil {
		return nil, err
	}
	// An unowned lead the actor may not read is theirs to act on only by
	// the verbs that take leads from the pool; to anything else it is not
	// found, before anything tells its stage.
	if l.OwnerID == nil && !tx.actor.SeesAllLeads() {
		switch c.Verb {
		case baton.VerbClaim:
			// The pool of leads to claim is open to development reps.
		case baton.VerbAssign:
			if in, err := tx.inTeamPool(ctx, sc, l); err != nil {
				return nil, err
			} else if !in {
				return nil, notFound(l.ID)
			}
		default:
			return nil, notFound(l.ID)
		}
	}
	if c.From != "" && c.From != l.Stage {
		return nil, &baton.Error{Code: baton.ECONFLICT, Field: "from",
			Message: fmt.Sprintf("the lead is %s, not %s: someone changed it first", l.Stage, c.From)}
	}
	cfg := sc.handoffConfig()
	if c.To == "" {
		c.To = l.Stage
	}
	rule, err := baton.FindRule(l.Stage, c.Verb, c.To, tx.actor)
	if err != nil {
		return nil, err
	}
	rel, err := tx.relation(ctx, sc, l)
	if err != nil {
		return nil, err
	}
	if err := rule.Allows(tx.actor, rel); err != nil {
		return nil, err
	}
	m := &moved{rule: rule, data: map[string]any{}, previous: l.OwnerID}
	n, err := tx.checkNeeds(ctx, cfg, l, rule, &c)
	if err != nil {
		return nil, err
	}
	kind := handoffKind(rule.From)
	if rule.Effects.Close != "" && n.handoff != nil {
		state := rule.Effects.Close
		if state == baton.HandoffReassigned {
			err = tx.closeHandoff(ctx, n.handoff, state)
		} else {
			err = tx.answer(ctx, n.handoff, state)
		}
		if err != nil {
			return nil, err
		}
		m.answered = n.handoff
		m.data["handoff"] = n.handoff
	}
	if rule.From != rule.To {
		if err := tx.setStage(ctx, l, rule.To, c.Reason, stageNote(rule, c)); err != nil {
			return nil, err
		}
	} else if rule.Verb == baton.VerbAccept {
		if err := tx.addHistory(ctx, baton.HistoryEntry{LeadID: l.ID, At: tx.now, Action: baton.ActionAccepted, Note: "the account executive accepted the SQL"}); err != nil {
			return nil, err
		}
	}
	if err := tx.ownerEffect(ctx, sc, l, rule, c, n, m); err != nil {
		return nil, err
	}
	if rule.Effects.Nurture {
		if err := tx.nurture(ctx, cfg, l, rule, c, m); err != nil {
			return nil, err
		}
	}
	if err := tx.record(ctx, sc, l, rule, c, n, m); err != nil {
		return nil, err
	}
	if rule.Effects.StaleCheck && cfg.OpportunityWithin > 0 {
		if err := tx.enqueueJob(ctx, &baton.Job{Kind: StaleSALJob, Subject: strconv.FormatInt(l.ID, 10), RunAt: tx.now.Add(cfg.OpportunityWithin)}); err != nil {
			return nil, err
		}
	}
	if err := tx.notify(ctx, l, rule, c, m, kind); err != nil {
		return nil, err
	}
	m.data["move"] = map[string]any{"verb": rule.Verb, "from": rule.From, "to": rule.To}
	for _, e := range rule.Effects.Events {
		if e == eventAssigned && rule.Effects.Open != "" && m.handoff == nil {
			continue // nobody to route to: no handoff was opened
		}
		if err := tx.emit(ctx, e, l, m.data); err != nil {
			return nil, err
		}
	}
	tx.count(func(t *tally) {
		if rule.To == baton.StageMQL && rule.From != baton.StageMQL {
			t.MQLsPromoted++
		}
		if rule.Verb == baton.VerbBreach {
			inc(&t.Breaches, kind, 1)
		}
	})
	return m, nil
}

const eventAssigned = "lead.assigned"

// mayMake refuses a verb the actor's role never makes.
func mayMake(a baton.Actor, v baton.Verb) error {
	if v == "" || baton.MayMake(a, v) {
		return nil
	}
	if a.System() {
		return baton.Errorf(baton.EFORBIDDEN, "%s is made by a person, not by the system", v)
	}
	return baton.Errorf(baton.EFORBIDDEN, "%s may not %s leads", a.Role.Words(), strings.ReplaceAll(string(v), "_", " "))
}

func containsVerb(v baton.Verb) bool {
	for _, x := range baton.Verbs {
		if x == v {
			return true
		}
	}
	return false
}

func verbList() string {
	s := make([]string, len(baton.Verbs))
	for i, v := range baton.Verbs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// handoffKind is the kind of handoff a lead in the stage answers.
func handoffKind(s baton.Stage) baton.HandoffKind {
	if s == baton.StageSQL || s == baton.StageOpportunity {
		return baton.HandoffAE
	}
	return baton.HandoffSDR
}

// stageNote is the note of the history entry of a change of stage.
func stageNote(r baton.Rule, c baton.StageChange) string {
	switch {
	case r.Verb == baton.VerbQualify && c.BANT != nil && r.To == baton.StageSQL:
		return bantNote(*c.BANT)
	case r.Verb == baton.VerbQualify && c.BANT != nil && c.BANT.TimingDate != nil:
		return "timing later: back on " + c.BANT.TimingDate.Format("2006-01-02")
	case r.Verb == baton.VerbConvert && c.Opportunity != nil:
		return c.Opportunity.Name
	}
	return c.Note
}

// relation is how the actor stands to the lead.
func (tx *Tx) relation(ctx context.Context, sc *scorer, l *baton.Lead) (baton.Relation, error) {
	var rel baton.Relation
	if l.OwnerID != nil {
		rel.OwnerID = *l.OwnerID
		inTeam, err := tx.inTeam(ctx, rel.OwnerID)
		if err != nil {
			return rel, err
		}
		rel.InTeam = inTeam
		return rel, nil
	}
	if tx.actor.Role == baton.RoleManager {
		in, err := tx.inTeamPool(ctx, sc, l)
		if err != nil {
			return rel, err
		}
		rel.InPool = in
	}
	return rel, nil
}

// needs is what the checks of a move found.
type needs struct {
	handoff  *baton.Handoff // the open handoff of the lead's stage
	assignee *baton.User
	survivor *baton.Lead // of a merge
	outcome  string      // of a rejection: recycle, disqualify or merge
	pullWhy  string
}

// checkNeeds checks what the rule needs, and fills what the checks found.
func (tx *Tx) checkNeeds(ctx context.Context, cfg policy.Handoff, l *baton.Lead, r baton.Rule, c *baton.StageChange) (*needs, error) {
	n := &needs{}
	var err error
	if n.handoff, err = tx.openHandoff(ctx, l.ID, handoffKind(r.From)); err != nil {
		return nil, err
	}
	c.Reason, c.Note = strings.TrimSpace(c.Reason), strings.TrimSpace(c.Note)
	if err := checkLength("note", c.Note, 2000); err != nil {
		return nil, err
	}
	if err := checkLength("reason", c.Reason, 500); err != nil {
		return nil, err
	}
	for _, need := range r.Needs {
		switch need {
		case baton.NeedReason:
			if c.Reason == "" {
				return nil, baton.FieldError("reason", "required: say why the lead goes from %s to %s", r.From, r.To)
			}
		case baton.NeedRejection:
			if err := tx.checkRejection(ctx, cfg, l, r, c, n); err != nil {
				return nil, err
			}
		case baton.NeedBANT:
			if err := checkBANT(cfg, r, c); err != nil {
				return nil, err
			}
		case baton.NeedOpportunity:
			o := c.Opportunity
			switch {
			case o == nil:
				return nil, baton.FieldError("opportunity", "required: the opportunity the SQL becomes (name, amount, product, expected_close)")
			case strings.TrimSpace(o.Name) == "":
				return nil, baton.FieldError("name", "required: the opportunity's name")
			case o.Amount < 0:
				return nil, baton.FieldError("amount", "must not be negative")
			case o.ExpectedClose != nil && o.ExpectedClose.Before(tx.now.Truncate(24*time.Hour)):
				return nil, baton.FieldError("expected_close", "%s is in the past: an opportunity closes from today on", o.ExpectedClose.Format("2006-01-02"))
			}
		case baton.NeedCloseValue:
			if c.Close == nil || c.Close.Value <= 0 {
				return nil, baton.FieldError("value", "required: the value won, above 0")
			}
		case baton.NeedLostReason:
			if c.Close != nil && c.Close.Reason != "" {
				c.Reason = strings.TrimSpace(c.Close.Reason)
			}
			if c.Close != nil && c.Close.Value < 0 {
				return nil, baton.FieldError("value", "must not be negative")
			}
			if c.Reason == "" {
				return nil, baton.FieldError("reason", "required: say why the opportunity was lost")
			}
		case baton.NeedCoolDown:
			until, err := tx.nurtureUntil(ctx, l.ID)
			if err != nil {
				return nil, err
			}
			if until.After(tx.now) {
				return nil, baton.Errorf(baton.ECONFLICT, "lead %d is in its nurture cool-down until %s", l.ID, until.Format(time.RFC3339))
			}
		case baton.NeedAssignee:
			if n.assignee, err = tx.checkAssignee(ctx, l, r, c.UserID); err != nil {
				return nil, err
			}
		case baton.NeedOpenHandoff:
			// A lead an operator imported at a later stage has an owner but
			// no handoff: its owner may still accept it, without an SLA.
			if n.handoff == nil && !(r.Verb == baton.VerbAccept && l.OwnerID != nil && r.From == baton.StageMQL) {
				return nil, baton.Errorf(baton.ECONFLICT, "lead %d has no open handoff to answer", l.ID)
			}
		case baton.NeedPastDue:
			if n.handoff == nil || tx.now.Before(n.handoff.DueAt) {
				return nil, baton.Errorf(baton.ECONFLICT, "lead %d's handoff is not past its deadline", l.ID)
			}
		case baton.NeedUnowned:
			if l.OwnerID != nil {
				return nil, baton.Errorf(baton.ECONFLICT, "lead %d is assigned: only an unassigned lead can be %s", l.ID, verbPast(r.Verb))
			}
		case baton.NeedPullAllowed:
			if n.pullWhy, err = tx.checkPull(ctx, cfg, l); err != nil {
				return nil, err
			}
		}
	}
	return n, nil
}

func verbPast(v baton.Verb) string {
	switch v {
	case baton.VerbClaim:
		return "claimed"
	case baton.VerbAssign:
		return "assigned"
	}
	return string(v)
}

func checkLength(field, s string, max int) error {
	if len(s) > max {
		return baton.FieldError(field, "is %d bytes long, at most %d allowed", len(s), max)
	}
	return nil
}

// checkRejection checks a rejection: a reason of the agreed list whose
// policy outcome is the rule's stage, the logged attempts of
// unable_to_reach, the note of other, and the live lead a duplicate names,
// which the rep must be able to read.
func (tx *Tx) checkRejection(ctx context.Context, cfg policy.Handoff, l *baton.Lead, r baton.Rule, c *baton.StageChange, n *needs) error {
	rej := baton.Rejection{Reason: c.Reason, Note: c.Note, DuplicateOf: c.DuplicateOf}
	if err := rej.Validate(); err != nil {
		return err
	}
	c.Reason, c.Note = rej.Reason, rej.Note
	n.outcome = cfg.Rejection.Outcomes[rej.Reason]
	if rej.Reason == baton.ReasonDuplicate {
		n.outcome = "merge"
	}
	want := baton.StageRecycled
	if n.outcome == "disqualify" || n.outcome == "merge" {
		want = baton.StageDisqualified
	}
	if r.To != want {
		return baton.FieldError("reason", "the policy's outcome of %s is %s: the lead goes to %s, not %s", rej.Reason, n.outcome, want, r.To)
	}
	if rej.Reason == baton.ReasonUnableToReach {
		h, err := tx.currentHandoff(ctx, l.ID)
		if err != nil {
			return err
		}
		since := tx.now.AddDate(0, 0, -cfg.Rejection.AttemptDays)
		if h != nil && h.AssignedAt.After(since) {
			since = h.AssignedAt
		}
		var count int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM attempts WHERE lead_id = $1 AND at >= $2`, l.ID, micros(since)).Scan(&count); err != nil {
			return err
		}
		if count < cfg.Rejection.Attempts {
			return baton.FieldError("reason", "unable_to_reach needs %d logged contact attempts in the last %d days (since the lead was handed over); lead %d has %d",
				cfg.Rejection.Attempts, cfg.Rejection.AttemptDays, l.ID, count)
		}
	}
	if rej.Reason == baton.ReasonDuplicate {
		if rej.DuplicateOf == l.ID {
			return baton.FieldError("duplicate_of", "a lead cannot duplicate itself")
		}
		s, err := tx.findVisibleLead(ctx, rej.DuplicateOf, true)
		if baton.ErrorCode(err) == baton.ENOTFOUND {
			return baton.FieldError("duplicate_of", "no lead %d", rej.DuplicateOf)
		} else if err != nil {
			return err
		}
		if s.Stage == baton.StageDisqualified {
			return baton.FieldError("duplicate_of", "lead %d is disqualified: name the live lead", s.ID)
		}
		n.survivor = s
	}
	return nil
}

// checkBANT checks a qualification: to sql, the parts the policy requires;
// to recycled, timing later with its date, where the policy sends such
// leads back to nurture.
func checkBANT(cfg policy.Handoff, r baton.Rule, c *baton.StageChange) error {
	if c.BANT == nil {
		return baton.FieldError("bant", "required: the qualification (%s)", strings.Join(cfg.BANT, ", "))
	}
	later := c.BANT.Timing == baton.TimingLater && cfg.NurtureLater
	if r.To == baton.StageRecycled {
		if !later {
			return baton.FieldError("timing", "a lead goes back to nurture from qualification only with timing later and its date, where the policy says so")
		}
		_, err := c.BANT.Missing(nil)
		return err
	}
	if later {
		return baton.FieldError("timing", "timing later sends the lead back to nurture until %s, not to sql", dateOf(c.BANT.TimingDate))
	}
	missing, err := c.BANT.Missing(cfg.BANT)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return baton.FieldError("bant", "an SQL needs %s: missing %s", strings.Join(cfg.BANT, ", "), strings.Join(missing, ", "))
	}
	return nil
}

func dateOf(t *time.Time) string {
	if t == nil {
		return "its date"
	}
	return t.Format("2006-01-02")
}

// setStage changes the stage as a compare-and-set on the stage and version,
// with its history entry.
func (tx *Tx) setStage(ctx context.Context, l *baton.Lead, to baton.Stage, reason, note string) error {
	from := l.Stage
	res, err := tx.ExecContext(ctx, `UPDATE leads SET stage = $1, stage_changed_at = $2, updated_at = $2, version = version + 1
		WHERE id = $3 AND stage = $4 AND version = $5`, string(to), micros(tx.now), l.ID, string(from), l.Version)
	if err != nil {
		return fmt.Errorf("change stage of lead %d: %w", l.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return baton.Errorf(baton.ECONFLICT, "lead %d changed while you worked on it: reload and try again", l.ID)
	}
	l.Stage, l.StageChangedAt, l.UpdatedAt = to, tx.now, tx.now
	l.Version++
	return tx.addHistory(ctx, baton.HistoryEntry{LeadID: l.ID, At: tx.now, Action: baton.ActionStage,
		Field: "stage", From: string(from), To: string(to), Reason: reason, Note: note})
}

// ownerEffect gives the lead the owner the rule says, opening the new
// handoff where it opens one.
func (tx *Tx) ownerEffect(ctx context.Context, sc *scorer, l *baton.Lead, r baton.Rule, c baton.StageChange, n *needs, m *moved) error {
	var err error
	switch r.Effects.Owner {
	case baton.OwnerRouted:
		m.handoff, err = tx.route(ctx, sc, l, r.Effects.Open, nil)
	case baton.OwnerAssignee:
		why := "assigned by " + tx.actor.Name
		if r.Verb == baton.VerbReassign {
			why = "reassigned by " + tx.actor.Name
		}
		if c.Note != "" {
			why += ": " + c.Note
		}
		m.handoff, err = tx.giveTo(ctx, sc, l, n.assignee, r.Effects.Open, why, "", false)
	case baton.OwnerActor:
		var me *baton.User
		if me, err = tx.findUserByID(ctx, tx.actor.UserID); err == nil {
			m.handoff, err = tx.giveTo(ctx, sc, l, me, r.Effects.Open, "pulled by "+me.Name+n.pullWhy, "", true)
		}
	case baton.OwnerQualifier:
		var sdr sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT qualified_by FROM bant WHERE lead_id = $1`, l.ID).Scan(&sdr); err != nil && err != sql.ErrNoRows {
			return err
		}
		if sdr.Valid {
			id := sdr.Int64
			err = tx.setOwner(ctx, l, &id, "sent back by "+tx.actor.Name+": "+c.Reason)
		}
	case baton.OwnerCleared:
		if l.OwnerID != nil {
			err = tx.setOwner(ctx, l, nil, "back to marketing: "+string(r.To))
		}
	case baton.OwnerPolicy:
		err = tx.breach(ctx, sc, l, r, n, m)
	}
	if err == nil && m.handoff != nil {
		m.data["handoff"] = m.handoff
	}
	return err
}

// nurture sets the track and the cool-down of a lead that goes back to
// marketing: by the reason of a rejection, the timing of a qualification,
// the account executive's reason.
func (tx *Tx) nurture(ctx context.Context, cfg policy.Handoff, l *baton.Lead, r baton.Rule, c baton.StageChange, m *moved) error {
	until := tx.now.Add(cfg.Rejection.CoolDown)
	reason := c.Reason
	track := strings.ReplaceAll(cfg.Rejection.Track, "{reason}", reason)
	switch r.Verb {
	case baton.VerbQualify:
		until, reason = *c.BANT.TimingDate, baton.ReasonBadTiming
		track = "later: " + until.Format("2006-01-02")
	case baton.VerbRecycle:
		track = strings.ReplaceAll(cfg.Rejection.Track, "{reason}", "returned by the account executive")
	}
	if _, err := tx.ExecContext(ctx, `UPDATE leads SET nurture_until = $1, nurture_track = $2 WHERE id = $3`, micros(until), track, l.ID); err != nil {
		return err
	}
	m.track = track
	l.NurtureTrack, l.NurtureUntil = track, &until
	m.data["nurture_track"], m.data["nurture_until"] = track, until
	return tx.addHistory(ctx, baton.HistoryEntry{LeadID: l.ID, At: tx.now, Action: baton.ActionNurture, Field: "nurture_track", To: track,
		Reason: reason, Note: "may become an MQL again after " + until.Format("2006-01-02")})
}

// nurtureUntil returns the end of a recycled lead's cool-down (zero if none).
func (tx *Tx) nurtureUntil(ctx context.Context, id int64) (time.Time, error) {
	var until sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT nurture_until FROM leads WHERE id = $1`, id).Scan(&until); err != nil {
		return time.Time{}, err
	}
	if !until.Valid {
		return time.Time{}, nil
	}
	return fromMicros(until.Int64), nil
}

// record stores what the move carries besides the lead.
func (tx *Tx) record(ctx context.Context, sc *scorer, l *baton.Lead, r baton.Rule, c baton.StageChange, n *needs, m *moved) error {
	switch r.Effects.Record {
	case "bant":
		// The qualifier is the owner before the move (it routes the SQL
		// to an account executive): the one a send-back returns it to.
		return tx.saveBANT(ctx, l, *c.BANT, m.previous)
	case "opportunity":
		o, err := tx.convert(ctx, l, *c.Opportunity)
		m.opportunity = o
		m.data["opportunity"] = o
		return err
	case "close":
		value, stage := 0.0, baton.OppLost
		if r.To == baton.StageWon {
			stage = baton.OppWon
		}
		if c.Close != nil {
			value = c.Close.Value
		}
		m.data["value"], m.data["reason"] = value, c.Reason
		_, err := tx.ExecContext(ctx, `UPDATE opportunities SET stage = $1, close_value = $2, closed_at = $3 WHERE lead_id = $4 AND stage IN ('prospecting', 'engaging')`,
			string(stage), value, micros(tx.now), l.ID)
		return err
	case "merge":
		if n.survivor == nil {
			break
		}
		return tx.merge(ctx, sc, l, n.survivor)
	}
	return nil
}

// notify tells the people the rule names.
func (tx *Tx) notify(ctx context.Context, l *baton.Lead, r baton.Rule, c baton.StageChange, m *moved, kind baton.HandoffKind) error {
	if r.Verb == baton.VerbReject || r.Effects.Record == "merge" {
		m.data["reason"], m.data["note"], m.data["outcome"], m.data["duplicate_of"] = c.Reason, c.Note, r.To, c.DuplicateOf
		if _, ok := m.data["nurture_track"]; !ok {
			m.data["nurture_track"] = ""
		}
	}
	for _, who := range r.Effects.Notify {
		switch who {
		case "owner":
			if m.handoff != nil {
				what := "MQL"
				if m.handoff.Kind == baton.HandoffAE {
					what = "SQL"
				}
				title := fmt.Sprintf("New %s: %s", what, leadName(l))
				text := fmt.Sprintf("Accept or reject by %s (%s).", m.handoff.DueAt.Format("Mon 2 Jan 15:04 MST"), m.handoff.Why)
				if err := tx.inbox(ctx, m.handoff.OwnerID, baton.NotifyAssigned, l, title, text); err != nil {
					return err
				}
				kind := baton.SlackNewMQL
				if m.handoff.Kind == baton.HandoffAE {
					kind = baton.SlackNewSQL
				}
				if err := tx.slackAbout(ctx, kind, l, title, text, m.handoff, []int64{m.handoff.OwnerID}); err != nil {
					return err
				}
			} else if r.Verb == baton.VerbSendBack && l.OwnerID != nil {
				if err := tx.inbox(ctx, *l.OwnerID, baton.NotifySentBack, l, "Sent back: "+leadName(l), tx.actor.Name+" sent the SQL back: "+c.Reason); err != nil {
					return err
				}
			} else if l.OwnerID != nil && r.Effects.Open == "" && r.Effects.Owner == baton.OwnerAssignee {
				if err := tx.inbox(ctx, *l.OwnerID, baton.NotifyAssigned, l, "Yours now: "+leadName(l), tx.actor.Name+" gave you this lead."); err != nil {
					return err
				}
			}
		case "previous":
			switch {
			case r.Verb == baton.VerbBreach && m.breached != nil:
				if err := tx.inbox(ctx, m.breached.ID, baton.NotifyBreached, l, "SLA breached: "+leadName(l), "The time to answer has passed."); err != nil {
					return err
				}
			case m.previous != nil && (l.OwnerID == nil || *l.OwnerID != *m.previous):
				if err := tx.inbox(ctx, *m.previous, baton.NotifyReassigned, l, "Reassigned: "+leadName(l), tx.actor.Name+" gave this lead to someone else."); err != nil {
					return err
				}
			}
		case "manager":
			if b := m.breached; b != nil && b.ManagerID != nil && m.escalate {
				body := fmt.Sprintf("%s did not answer lead %d (%s) within the SLA, due %s.", b.Name, l.ID, leadName(l), m.answered.DueAt.Format(time.RFC1123))
				if err := tx.inbox(ctx, *b.ManagerID, baton.NotifyEscalated, l, "Escalation: "+b.Name+" breached the SLA", body); err != nil {
					return err
				}
				if err := tx.emailUser(ctx, *b.ManagerID, "escalated", l, "Escalation: "+b.Name+" missed the SLA on "+leadName(l), body); err != nil {
					return err
				}
			}
		case "marketing":
			title, body := "Back to nurture: "+leadName(l), fmt.Sprintf("%s sent the lead back to nurture (%s). %s", tx.actor.Name, m.track, c.Reason)
			if r.Verb == baton.VerbReject {
				title, body = "Rejected by sales: "+leadName(l), fmt.Sprintf("%s rejected the lead: %s. %s", tx.actor.Name, c.Reason, c.Note)
			}
			if err := tx.inboxRole(ctx, baton.RoleMarketing, baton.NotifyRejected, l, title, body); err != nil {
				return err
			}
			if r.Verb == baton.VerbReject {
				if err := tx.slackRejection(ctx, l, title, body, m.previous); err != nil {
					return err
				}
			}
		case "qualifier":
			var sdr sql.NullInt64
			if err := tx.QueryRowContext(ctx, `SELECT qualified_by FROM bant WHERE lead_id = $1`, l.ID).Scan(&sdr); err != nil && err != sql.ErrNoRows {
				return err
			}
			if sdr.Valid && m.opportunity != nil {
				if err := tx.inbox(ctx, sdr.Int64, baton.NotifyConverted, l, "Converted: "+leadName(l), "Your SQL became the opportunity "+m.opportunity.Name+"."); err != nil {
					return err
				}
			}
		}
	}
	if r.Verb == baton.VerbBreach && m.breached != nil {
		people := []int64{m.breached.ID}
		if m.breached.ManagerID != nil && m.escalate {
			people = append(people, *m.breached.ManagerID)
		}
		text := m.breached.Name + " did not answer within the SLA."
		if m.answered != nil {
			text = fmt.Sprintf("%s did not answer within the SLA (due %s).", m.breached.Name, m.answered.DueAt.Format("Mon 2 Jan 15:04 MST"))
		}
		if m.handoff != nil {
			text += " The lead went to the next rep."
		}
		if err := tx.slackAbout(ctx, baton.SlackBreach, l, "SLA breached: "+leadName(l), text, nil, people); err != nil {
			return err
		}
	}
	return nil
}
