package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
)

var _ baton.HandoffService = (*DB)(nil)

// Job kinds of the handoff.
const (
	RemindJob   = "sla_remind"
	BreachJob   = "sla_breach"
	StaleSALJob = "stale_sal"
)

// handoffConfig is the policy's handoff section, or the default without a policy.
func (sc *scorer) handoffConfig() policy.Handoff {
	if sc.policy != nil {
		return sc.policy.Handoff
	}
	return policy.DefaultHandoff()
}

func stageConfig(cfg policy.Handoff, kind baton.HandoffKind) (policy.Stage, baton.Role) {
	if kind == baton.HandoffAE {
		return cfg.AE, baton.RoleAE
	}
	return cfg.SDR, baton.RoleSDR
}

const handoffColumns = `id, lead_id, kind, owner_id, state, why, pull, assigned_at, due_at, remind_at, reminded_at, answered_at,
	breached_at, escalated_to, met, working_seconds`

func scanHandoff(s interface{ Scan(...any) error }) (*baton.Handoff, error) {
	h, dest, finish := handoffDest()
	if err := s.Scan(dest...); err != nil {
		return nil, err
	}
	finish()
	return h, nil
}

// handoffDest returns a handoff, the destinations to scan handoffColumns
// into, and the function that fills the handoff from them once scanned.
func handoffDest() (*baton.Handoff, []any, func()) {
	var h baton.Handoff
	var assigned, due, remind int64
	var reminded, answered, breached, escalated sql.NullInt64
	var met sql.NullBool
	dest := []any{&h.ID, &h.LeadID, &h.Kind, &h.OwnerID, &h.State, &h.Why, &h.Pull, &assigned, &due, &remind,
		&reminded, &answered, &breached, &escalated, &met, &h.WorkingSeconds}
	return &h, dest, func() {
		h.AssignedAt, h.DueAt, h.RemindAt = fromMicros(assigned), fromMicros(due), fromMicros(remind)
		h.RemindedAt, h.AnsweredAt, h.BreachedAt = fromNullMicros(reminded), fromNullMicros(answered), fromNullMicros(breached)
		h.EscalatedTo = ptrInt(escalated)
		if met.Valid {
			h.Met = &met.Bool
		}
	}
}

// findActionableLead returns a lead the actor is about to answer for. A rep
// who lost a race for it (a manager rejected it, the sweeper reassigned it)
// no longer sees it: that is a conflict, not a permission problem.
func (tx *Tx) findActionableLead(ctx context.Context, id int64) (*baton.Lead, error) {
	l, err := tx.findLead(ctx, id, true)
	if err != nil {
		return nil, err
	}
	ok, err := tx.canSee(ctx, l)
	if err != nil || ok {
		return l, err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM handoffs WHERE lead_id = $1 AND (owner_id = $2 OR owner_id IN (SELECT id FROM users WHERE manager_id = $2))`,
		id, tx.actor.UserID).Scan(&n); err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, baton.Errorf(baton.ECONFLICT, "lead %d was taken from you meanwhile (it is %s now)", id, l.Stage)
	}
	return nil, baton.Errorf(baton.EFORBIDDEN, "lead %d is not yours", id)
}

// openHandoff returns the lead's open handoff of a kind, or nil.
func (tx *Tx) openHandoff(ctx context.Context, leadID int64, kind baton.HandoffKind) (*baton.Handoff, error) {
	h, err := scanHandoff(tx.QueryRowContext(ctx, `SELECT `+handoffColumns+` FROM handoffs WHERE lead_id = $1 AND kind = $2 AND state = $3 ORDER BY id DESC LIMIT 1`,
		leadID, string(kind), baton.HandoffOpen))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return h, err
}

func (tx *Tx) findHandoff(ctx context.Context, id int64) (*baton.Handoff, error) {
	h, err := scanHandoff(tx.QueryRowContext(ctx, `SELECT `+handoffColumns+` FROM handoffs WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baton.Errorf(baton.ENOTFOUND, "no handoff %d", id)
	}
	return h, err
}

// route finds the rep a lead in a handoff stage goes to, by the policy's
// ordered routes, and assigns it. A lead that already has an owner of the
// right role keeps them. exclude lists reps not to choose (the one who just
// breached). With nobody available the lead stays unassigned in the pool.
func (tx *Tx) route(ctx context.Context, sc *scorer, l *baton.Lead, kind baton.HandoffKind, exclude ...int64) (*baton.Handoff, error) {
	cfg := sc.handoffConfig()
	st, role := stageConfig(cfg, kind)
	if l.OwnerID != nil && len(exclude) == 0 {
		u, err := tx.findUserByID(ctx, *l.OwnerID)
		if err != nil {
			return nil, err
		}
		if u.Active && u.Role == role && !tx.outOfOffice(ctx, u.ID) {
			return tx.assign(ctx, l, u, kind, st, "existing owner", "", false)
		}
	}
	acc, err := tx.accountOf(ctx, l)
	if err != nil {
		return nil, err
	}
	subject := policy.Subject{Lead: l, Account: acc}
	var skipped []string
	for _, r := range st.Routes {
		if !r.Match(subject) {
			continue
		}
		cands, err := tx.candidates(ctx, role, r, exclude)
		if err != nil {
			return nil, err
		}
		pool := r.Pool
		if pool == "" {
			pool = "all " + string(role) + "s"
		}
		if len(cands) == 0 {
			skipped = append(skipped, fmt.Sprintf("rule %q: nobody available in %s", r.Name, pool))
			continue
		}
		var u *baton.User
		var why string
		switch r.Method {
		case "least_loaded":
			best, bestN := cands[0], -1
			for _, c := range cands {
				var n int
				if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM handoffs WHERE owner_id = $1 AND state = $2`, c.ID, baton.HandoffOpen).Scan(&n); err != nil {
					return nil, err
				}
				if bestN < 0 || n < bestN {
					best, bestN = c, n
				}
			}
			u, why = best, fmt.Sprintf("rule %q, pool %q, least loaded (%d open)", r.Name, pool, bestN)
		default:
			var turn int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO routing_turns (route, turn) VALUES ($1, 1)
				ON CONFLICT (route) DO UPDATE SET turn = routing_turns.turn + 1 RETURNING turn`, string(kind)+":"+r.Name).Scan(&turn); err != nil {
				return nil, fmt.Errorf("routing turn: %w", err)
			}
			u = cands[int((turn-1)%int64(len(cands)))]
			why = fmt.Sprintf("rule %q, pool %q, round robin turn %d", r.Name, pool, turn)
		}
		return tx.assign(ctx, l, u, kind, st, why, r.Name, false)
	}
	// Nobody: the lead waits in the pool, and says why.
	reason := "no route matches the lead"
	if len(skipped) > 0 {
		reason = strings.Join(skipped, "; ")
	}
	if l.OwnerID != nil && len(exclude) > 0 {
		if err := tx.setOwner(ctx, l, nil, "unassigned: "+reason); err != nil {
			return nil, err
		}
	} else {
		if err := tx.addHistory(ctx, baton.HistoryEntry{LeadID: l.ID, At: tx.now, Action: "assigned", Field: "owner_id", Reason: "unassigned: " + reason, Note: string(kind)}); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// candidates lists the active reps of a route's pool who are not out of
// office and not at the route's cap, by id.
func (tx *Tx) candidates(ctx context.Context, role baton.Role, r *policy.Route, exclude []int64) ([]*baton.User, error) {
	var w where
	w.add("role = ?", string(role))
	w.add("active = ?", true)
	w.add("(out_of_office_until IS NULL OR out_of_office_until <= ?)", micros(tx.now))
	if r.Pool != "" {
		w.add("team = ?", r.Pool)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE `+w.String()+` ORDER BY id`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("routing candidates: %w", err)
	}
	var out []*baton.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		skip := false
		for _, id := range exclude {
			skip = skip || id == u.ID
		}
		if !skip {
			out = append(out, u)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || r.Cap == 0 {
		return out, err
	}
	kept := out[:0]
	for _, u := range out {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM handoffs WHERE route = $1 AND owner_id = $2 AND assigned_at > $3`,
			r.Name, u.ID, micros(tx.now.Add(-r.CapPer))).Scan(&n); err != nil {
			return nil, err
		}
		if n < r.Cap {
			kept = append(kept, u)
		}
	}
	return kept, nil
}

func (tx *Tx) outOfOffice(ctx context.Context, userID int64) bool {
	var until sql.NullInt64
	tx.QueryRowContext(ctx, `SELECT out_of_office_until FROM users WHERE id = $1`, userID).Scan(&until)
	return until.Valid && until.Int64 > micros(tx.now)
}

// setOwner changes a lead's owner as a compare-and-set on its version, with
// its history entry.
func (tx *Tx) setOwner(ctx context.Context, l *baton.Lead, owner *int64, why string) error {
	from := fmtID(l.OwnerID)
	res, err := tx.ExecContext(ctx, `UPDATE leads SET owner_id = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4`,
		nullInt(owner), micros(tx.now), l.ID, l.Version)
	if err != nil {
		return fmt.Errorf("assign lead %d: %w", l.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return baton.Errorf(baton.ECONFLICT, "lead %d changed while it was being assigned: try again", l.ID)
	}
	l.OwnerID = owner
	l.Version++
	return tx.addHistory(ctx, baton.HistoryEntry{LeadID: l.ID, At: tx.now, Action: "assigned", Field: "owner_id", From: from, To: fmtID(owner), Reason: why})
}

// assign opens a handoff of the lead to u with its SLA deadline, makes u the
// owner, schedules the reminder and the breach, and tells u.
func (tx *Tx) assign(ctx context.Context, l *baton.Lead, u *baton.User, kind baton.HandoffKind, st policy.Stage, why, route string, pull bool) (*baton.Handoff, error) {
	cal, err := tx.calendarFor(ctx, u.Team)
	if err != nil {
		return nil, err
	}
	h := &baton.Handoff{LeadID: l.ID, Kind: kind, OwnerID: u.ID, State: baton.HandoffOpen, Why: why, Pull: pull, AssignedAt: tx.now}
	h.DueAt = cal.Add(tx.now, st.Within)
	h.RemindAt = cal.Add(tx.now, time.Duration(float64(st.Within)*st.RemindAt))
	if err := tx.QueryRowContext(ctx, `INSERT INTO handoffs (lead_id, kind, owner_id, state, why, route, pull, assigned_at, due_at, remind_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		l.ID, string(kind), u.ID, h.State, why, route, pull, micros(tx.now), micros(h.DueAt), micros(h.RemindAt)).Scan(&h.ID); err != nil {
		return nil, fmt.Errorf("open handoff: %w", err)
	}
	if l.OwnerID == nil || *l.OwnerID != u.ID {
		id := u.ID
		if err := tx.setOwner(ctx, l, &id, why); err != nil {
			return nil, err
		}
	} else if err := tx.addHistory(ctx, baton.HistoryEntry{LeadID: l.ID, At: tx.now, Action: "assigned", Field: "owner_id",
		From: fmtID(l.OwnerID), To: fmtID(l.OwnerID), Reason: why}); err != nil {
		return nil, err
	}
	subject := strconv.FormatInt(h.ID, 10)
	if st.RemindAt > 0 {
		if err := tx.enqueueJob(ctx, &baton.Job{Kind: RemindJob, Subject: subject, RunAt: h.RemindAt}); err != nil {
			return nil, err
		}
	}
	if err := tx.enqueueJob(ctx, &baton.Job{Kind: BreachJob, Subject: subject, RunAt: h.DueAt}); err != nil {
		return nil, err
	}
	what := "MQL"
	if kind == baton.HandoffAE {
		what = "SQL"
	}
	if err := tx.inbox(ctx, u.ID, "assigned", l, fmt.Sprintf("New %s: %s", what, leadName(l)),
		fmt.Sprintf("Accept or reject by %s (%s).", h.DueAt.Format("Mon 2 Jan 15:04 MST"), why)); err != nil {
		return nil, err
	}
	return h, tx.emit(ctx, "lead.assigned", l, map[string]any{"handoff": h})
}

func leadName(l *baton.Lead) string {
	switch {
	case l.Name != "" && l.Company != "":
		return l.Name + " (" + l.Company + ")"
	case l.Name != "":
		return l.Name
	case l.Email != "":
		return l.Email
	}
	return "lead " + strconv.FormatInt(l.ID, 10)
}

// answer closes a handoff with the rep's answer, recording whether it came
// within the window and how much working time it took.
func (tx *Tx) answer(ctx context.Context, h *baton.Handoff, state string) error {
	owner, err := tx.findUserByID(ctx, h.OwnerID)
	if err != nil {
		return err
	}
	cal, err := tx.calendarFor(ctx, owner.Team)
	if err != nil {
		return err
	}
	met := !tx.now.After(h.DueAt)
	taken := cal.Between(h.AssignedAt, tx.now)
	res, err := tx.ExecContext(ctx, `UPDATE handoffs SET state = $1, answered_at = $2, met = $3, working_seconds = $4 WHERE id = $5 AND state = $6`,
		state, micros(tx.now), met, int64(taken/time.Second), h.ID, baton.HandoffOpen)
	if err != nil {
		return fmt.Errorf("answer handoff %d: %w", h.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return baton.Errorf(baton.ECONFLICT, "the handoff of lead %d was closed meanwhile", h.LeadID)
	}
	h.State, h.Met, h.WorkingSeconds = state, &met, int64(taken/time.Second)
	now := tx.now
	h.AnsweredAt = &now
	return nil
}

// closeOpen closes every open handoff of a lead that leaves the handoff
// stages some other way (merged, disqualified by marketing, ...).
func (tx *Tx) closeOpen(ctx context.Context, leadID int64, state string) error {
	_, err := tx.ExecContext(ctx, `UPDATE handoffs SET state = $1, answered_at = $2 WHERE lead_id = $3 AND state = $4`,
		state, micros(tx.now), leadID, baton.HandoffOpen)
	return err
}

// mayAnswer reports whether the actor may answer for the owner of a handoff:
// the owner, their manager, an admin, or the system.
func (tx *Tx) mayAnswer(ctx context.Context, ownerID int64) (bool, error) {
	inTeam, err := tx.inTeam(ctx, ownerID)
	if err != nil {
		return false, err
	}
	return tx.actor.CanActOnOwner(ownerID, inTeam), nil
}

// Accept answers the lead's open handoff: an MQL becomes a SAL owned by the
// rep (whose accountability clock starts); an AE accepting an SQL keeps it an SQL.
func (db *DB) Accept(ctx context.Context, leadID int64) (_ *baton.Lead, err error) {
	defer raceConflict(&err)
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	l, err := tx.findActionableLead(ctx, leadID)
	if err != nil {
		return nil, err
	}
	sc, err := tx.scorer(ctx)
	if err != nil {
		return nil, err
	}
	if err := tx.accept(ctx, sc, l, ""); err != nil {
		return nil, err
	}
	return l, tx.Commit()
}

// note is the note of a move to sal made with ChangeStage, kept in the history.
func (tx *Tx) accept(ctx context.Context, sc *scorer, l *baton.Lead, note string) error {
	kind := baton.HandoffSDR
	switch l.Stage {
	case baton.StageMQL:
	case baton.StageSQL:
		kind = baton.HandoffAE
	default:
		return &baton.Error{Code: baton.ECONFLICT, Field: "stage", Message: fmt.Sprintf("lead %d is %s: only an MQL or an SQL awaiting an answer can be accepted", l.ID, l.Stage)}
	}
	h, err := tx.openHandoff(ctx, l.ID, kind)
	if err != nil {
		return err
	}
	if h == nil {
		if l.OwnerID == nil {
			return baton.Errorf(baton.ECONFLICT, "lead %d is not assigned to anyone: claim it first", l.ID)
		}
		if kind == baton.HandoffAE {
			return baton.Errorf(baton.ECONFLICT, "lead %d has no open handoff to accept", l.ID)
		}
	} else if ok, err := tx.mayAnswer(ctx, h.OwnerID); err != nil {
		return err
	} else if !ok {
		return baton.Errorf(baton.EFORBIDDEN, "lead %d is assigned to someone else", l.ID)
	}
	if h != nil {
		if err := tx.answer(ctx, h, baton.HandoffAccepted); err != nil {
			return err
		}
	}
	if kind == baton.HandoffSDR {
		if err := tx.changeStage(ctx, l, baton.StageChange{To: baton.StageSAL, Note: note}); err != nil {
			return err
		}
		cfg := sc.handoffConfig()
		if cfg.OpportunityWithin > 0 {
			if err := tx.enqueueJob(ctx, &baton.Job{Kind: StaleSALJob, Subject: strconv.FormatInt(l.ID, 10), RunAt: tx.now.Add(cfg.OpportunityWithin)}); err != nil {
				return err
			}
		}
	} else if err := tx.addHistory(ctx, baton.HistoryEntry{LeadID: l.ID, At: tx.now, Action: "accepted", Note: "the account executive accepted the SQL"}); err != nil {
		return err
	}
	return tx.emit(ctx, "lead.accepted", l, map[string]any{"handoff": h})
}

// Reject refuses an MQL or a SAL with an agreed reason.
func (db *DB) Reject(ctx context.Context, leadID int64, r baton.Rejection) (_ *baton.Lead, err error) {
	defer raceConflict(&err)
	if err := r.Validate(); err != nil {
		return nil, err
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	l, err := tx.findActionableLead(ctx, leadID)
	if err != nil {
		return nil, err
	}
	sc, err := tx.scorer(ctx)
	if err != nil {
		return nil, err
	}
	if err := tx.reject(ctx, sc, l, r, ""); err != nil {
		return nil, err
	}
	return l, tx.Commit()
}

// reject refuses the lead; to, when set, overrides the policy's outcome of
// the reason (recycled or disqualified).
func (tx *Tx) reject(ctx context.Context, sc *scorer, l *baton.Lead, r baton.Rejection, to baton.Stage) error {
	if r.From != "" && r.From != l.Stage {
		return &baton.Error{Code: baton.ECONFLICT, Field: "from", Message: fmt.Sprintf("lead %d is %s, not %s: someone changed it first", l.ID, l.Stage, r.From)}
	}
	if l.Stage != baton.StageMQL && l.Stage != baton.StageSAL {
		return &baton.Error{Code: baton.ECONFLICT, Field: "stage", Message: fmt.Sprintf("lead %d is %s: only an MQL or a SAL can be rejected (an SQL is sent back)", l.ID, l.Stage)}
	}
	cfg := sc.handoffConfig()
	if r.Reason == baton.ReasonUnableToReach {
		var n int
		since := tx.now.AddDate(0, 0, -cfg.Rejection.AttemptDays)
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM attempts WHERE lead_id = $1 AND at >= $2`, l.ID, micros(since)).Scan(&n); err != nil {
			return err
		}
		if n < cfg.Rejection.Attempts {
			return baton.FieldError("reason", "unable_to_reach needs %d logged contact attempts in the last %d days; lead %d has %d",
				cfg.Rejection.Attempts, cfg.Rejection.AttemptDays, l.ID, n)
		}
	}
	h, err := tx.openHandoff(ctx, l.ID, baton.HandoffSDR)
	if err != nil {
		return err
	}
	outcome := cfg.Rejection.Outcomes[r.Reason]
	var survivor *baton.Lead
	if r.Reason == baton.ReasonDuplicate {
		if r.DuplicateOf == l.ID {
			return baton.FieldError("duplicate_of", "a lead cannot duplicate itself")
		}
		if survivor, err = tx.findLead(ctx, r.DuplicateOf, true); baton.ErrorCode(err) == baton.ENOTFOUND {
			return baton.FieldError("duplicate_of", "no lead %d", r.DuplicateOf)
		} else if err != nil {
			return err
		}
		if survivor.Stage == baton.StageDisqualified {
			return baton.FieldError("duplicate_of", "lead %d is disqualified: name the live lead", survivor.ID)
		}
		outcome = "disqualify"
	}
	if to == "" || survivor != nil {
		to = baton.StageRecycled
		if outcome == "disqualify" {
			to = baton.StageDisqualified
		}
	}
	if h != nil {
		if ok, err := tx.mayAnswer(ctx, h.OwnerID); err != nil {
			return err
		} else if !ok {
			return baton.Errorf(baton.EFORBIDDEN, "lead %d is assigned to someone else", l.ID)
		}
		if err := tx.answer(ctx, h, baton.HandoffRejected); err != nil {
			return err
		}
	}
	if err := tx.changeStage(ctx, l, baton.StageChange{To: to, Reason: r.Reason, Note: r.Note}); err != nil {
		return err
	}
	track := ""
	if to == baton.StageRecycled {
		track = strings.ReplaceAll(cfg.Rejection.Track, "{reason}", r.Reason)
		until := tx.now.Add(cfg.Rejection.CoolDown)
		if _, err := tx.ExecContext(ctx, `UPDATE leads SET nurture_until = $1, nurture_track = $2, owner_id = NULL WHERE id = $3`,
			micros(until), track, l.ID); err != nil {
			return err
		}
		l.OwnerID = nil
		if err := tx.addHistory(ctx, baton.HistoryEntry{LeadID: l.ID, At: tx.now, Action: "nurture", Field: "nurture_track", To: track,
			Reason: r.Reason, Note: "may become an MQL again after " + until.Format("2006-01-02")}); err != nil {
			return err
		}
	}
	if survivor != nil {
		if err := tx.merge(ctx, sc, l, survivor); err != nil {
			return err
		}
	}
	// Marketing sees every rejection with its reason.
	if err := tx.inboxRole(ctx, baton.RoleMarketing, "rejected", l, fmt.Sprintf("Rejected by sales: %s", leadName(l)),
		fmt.Sprintf("%s rejected the lead: %s. %s", tx.actor.Name, r.Reason, r.Note)); err != nil {
		return err
	}
	return tx.emit(ctx, "lead.rejected", l, map[string]any{"reason": r.Reason, "note": r.Note, "outcome": to, "nurture_track": track, "duplicate_of": r.DuplicateOf})
}

// merge moves a duplicate's events and a copy of its history to the lead it
// duplicates, and rescores the survivor.
func (tx *Tx) merge(ctx context.Context, sc *scorer, dup, survivor *baton.Lead) error {
	if _, err := tx.ExecContext(ctx, `UPDATE events SET lead_id = $1 WHERE lead_id = $2 AND client_id NOT IN (SELECT client_id FROM events WHERE lead_id = $1)`,
		survivor.ID, dup.ID); err != nil {
		return fmt.Errorf("merge events: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO lead_history (lead_id, at, actor_id, actor_name, action, field, from_value, to_value, reason, note)
		SELECT $1, at, actor_id, actor_name, action, field, from_value, to_value, reason, note || $2 FROM lead_history WHERE lead_id = $3 ORDER BY id`,
		survivor.ID, fmt.Sprintf(" [from lead %d]", dup.ID), dup.ID); err != nil {
		return fmt.Errorf("merge history: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE leads SET merged_into = $1 WHERE id = $2`, survivor.ID, dup.ID); err != nil {
		return err
	}
	if err := tx.addHistory(ctx, baton.HistoryEntry{LeadID: survivor.ID, At: tx.now, Action: baton.ActionMerged, From: strconv.FormatInt(dup.ID, 10),
		Reason: baton.ReasonDuplicate, Note: fmt.Sprintf("lead %d was a duplicate of this one: its events and history are here now", dup.ID)}); err != nil {
		return err
	}
	// Engagement from the moved events: rebuild the survivor's from all its events.
	if _, err := tx.ExecContext(ctx, `UPDATE leads SET score_state = '{}', score_seq = score_seq + 1 WHERE id = $1`, survivor.ID); err != nil {
		return err
	}
	all, err := tx.eventsBetween(ctx, survivor.ID, survivor.ID)
	if err != nil {
		return err
	}
	return tx.rescoreLead(ctx, sc, survivor, all[survivor.ID])
}

// LogAttempt records a contact attempt on the lead's timeline.
func (db *DB) LogAttempt(ctx context.Context, leadID int64, a *baton.Attempt) (err error) {
	defer raceConflict(&err)
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	l, err := tx.findVisibleLead(ctx, leadID, false)
	if err != nil {
		return err
	}
	if tx.actor.Role == baton.RoleMarketing {
		return baton.Errorf(baton.EFORBIDDEN, "contact attempts are logged by sales")
	}
	if err := a.Validate(tx.now); err != nil {
		return err
	}
	a.LeadID, a.UserID = l.ID, tx.actor.UserID
	if err := tx.QueryRowContext(ctx, `INSERT INTO attempts (lead_id, user_id, channel, outcome, at, note) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		l.ID, nullInt(nonZero(a.UserID)), a.Channel, a.Outcome, micros(a.At), a.Note).Scan(&a.ID); err != nil {
		return fmt.Errorf("log attempt: %w", err)
	}
	if err := tx.addHistory(ctx, baton.HistoryEntry{LeadID: l.ID, At: a.At, Action: "attempt", Field: a.Channel, To: a.Outcome, Note: a.Note}); err != nil {
		return err
	}
	return tx.Commit()
}

func nonZero(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// Attempts lists a lead's contact attempts, oldest first.
func (db *DB) Attempts(ctx context.Context, leadID int64) ([]baton.Attempt, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.findVisibleLead(ctx, leadID, false); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, lead_id, user_id, channel, outcome, at, note FROM attempts WHERE lead_id = $1 ORDER BY at, id`, leadID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []baton.Attempt{}
	for rows.Next() {
		var a baton.Attempt
		var uid sql.NullInt64
		var at int64
		if err := rows.Scan(&a.ID, &a.LeadID, &uid, &a.Channel, &a.Outcome, &at, &a.Note); err != nil {
			return nil, err
		}
		a.UserID, a.At = uid.Int64, fromMicros(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// Qualify makes a SAL an SQL with its BANT record and routes it to an
// account executive; with timing "later" the policy may send it back to
// nurture until that date instead.
func (db *DB) Qualify(ctx context.Context, leadID int64, b baton.BANT) (_ *baton.Lead, err error) {
	defer raceConflict(&err)
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	l, err := tx.findVisibleLead(ctx, leadID, true)
	if err != nil {
		return nil, err
	}
	sc, err := tx.scorer(ctx)
	if err != nil {
		return nil, err
	}
	if l.Stage != baton.StageSAL {
		return nil, &baton.Error{Code: baton.ECONFLICT, Field: "stage", Message: fmt.Sprintf("lead %d is %s: only an accepted lead (sal) can be qualified", l.ID, l.Stage)}
	}
	cfg := sc.handoffConfig()
	if b.Timing == baton.TimingLater && cfg.NurtureLater && b.TimingDate != nil {
		if _, err := b.Missing(nil); err != nil {
			return nil, err
		}
		if err := tx.changeStage(ctx, l, baton.StageChange{To: baton.StageRecycled, Reason: baton.ReasonBadTiming, Note: "timing later: back on " + b.TimingDate.Format("2006-01-02")}); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE leads SET nurture_until = $1, nurture_track = $2, owner_id = NULL WHERE id = $3`,
			micros(*b.TimingDate), "later: "+b.TimingDate.Format("2006-01-02"), l.ID); err != nil {
			return nil, err
		}
		l.OwnerID = nil
		return l, tx.Commit()
	}
	missing, err := b.Missing(cfg.BANT)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		return nil, baton.FieldError("bant", "an SQL needs %s: missing %s", strings.Join(cfg.BANT, ", "), strings.Join(missing, ", "))
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO bant (lead_id, budget_amount, budget_currency, budget_confirmed, authority, decision_maker, need, timing, timing_date, qualified_by, qualified_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (lead_id) DO UPDATE SET budget_amount = excluded.budget_amount, budget_currency = excluded.budget_currency,
		budget_confirmed = excluded.budget_confirmed, authority = excluded.authority, decision_maker = excluded.decision_maker,
		need = excluded.need, timing = excluded.timing, timing_date = excluded.timing_date, qualified_by = excluded.qualified_by,
		qualified_at = excluded.qualified_at`,
		l.ID, nullFloat(b.BudgetAmount), b.BudgetCurrency, b.BudgetConfirmed, b.Authority, b.DecisionMaker, b.Need, b.Timing,
		nullMicros(b.TimingDate), nullInt(l.OwnerID), micros(tx.now)); err != nil {
		return nil, fmt.Errorf("save BANT: %w", err)
	}
	if err := tx.changeStage(ctx, l, baton.StageChange{To: baton.StageSQL, Note: bantNote(b)}); err != nil {
		return nil, err
	}
	return l, tx.Commit()
}

func bantNote(b baton.BANT) string {
	var parts []string
	if b.BudgetAmount != nil {
		parts = append(parts, fmt.Sprintf("budget %.0f %s", *b.BudgetAmount, b.BudgetCurrency))
	}
	if b.Authority != "" {
		parts = append(parts, "authority "+b.Authority)
	}
	if b.Need != "" {
		parts = append(parts, "need: "+b.Need)
	}
	if b.Timing != "" {
		parts = append(parts, "timing "+b.Timing)
	}
	return strings.Join(parts, "; ")
}

// BANTOf returns a lead's BANT record, or ENOTFOUND.
func (db *DB) BANTOf(ctx context.Context, leadID int64) (*baton.BANT, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.findVisibleLead(ctx, leadID, false); err != nil {
		return nil, err
	}
	var b baton.BANT
	var amount sql.NullFloat64
	var date sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT budget_amount, budget_currency, budget_confirmed, authority, decision_maker, need, timing, timing_date FROM bant WHERE lead_id = $1`, leadID).
		Scan(&amount, &b.BudgetCurrency, &b.BudgetConfirmed, &b.Authority, &b.DecisionMaker, &b.Need, &b.Timing, &date)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, baton.Errorf(baton.ENOTFOUND, "lead %d has no BANT record", leadID)
	} else if err != nil {
		return nil, err
	}
	if amount.Valid {
		b.BudgetAmount = &amount.Float64
	}
	b.TimingDate = fromNullMicros(date)
	return &b, nil
}

// SendBack returns an SQL to the development rep who qualified it.
func (db *DB) SendBack(ctx context.Context, leadID int64, reason string) (_ *baton.Lead, err error) {
	defer raceConflict(&err)
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	l, err := tx.findVisibleLead(ctx, leadID, true)
	if err != nil {
		return nil, err
	}
	if err := tx.sendBack(ctx, l, reason); err != nil {
		return nil, err
	}
	return l, tx.Commit()
}

func (tx *Tx) sendBack(ctx context.Context, l *baton.Lead, reason string) error {
	if strings.TrimSpace(reason) == "" {
		return baton.FieldError("reason", "required: say why the lead goes back")
	}
	if l.Stage != baton.StageSQL {
		return &baton.Error{Code: baton.ECONFLICT, Field: "stage", Message: fmt.Sprintf("lead %d is %s: only an SQL can be sent back", l.ID, l.Stage)}
	}
	h, err := tx.openHandoff(ctx, l.ID, baton.HandoffAE)
	if err != nil {
		return err
	}
	if h != nil {
		if ok, err := tx.mayAnswer(ctx, h.OwnerID); err != nil {
			return err
		} else if !ok {
			return baton.Errorf(baton.EFORBIDDEN, "lead %d is assigned to someone else", l.ID)
		}
		if err := tx.answer(ctx, h, baton.HandoffRejected); err != nil {
			return err
		}
	}
	if err := tx.changeStage(ctx, l, baton.StageChange{To: baton.StageSAL, Reason: reason}); err != nil {
		return err
	}
	var sdr sql.NullInt64
	tx.QueryRowContext(ctx, `SELECT qualified_by FROM bant WHERE lead_id = $1`, l.ID).Scan(&sdr)
	if sdr.Valid {
		id := sdr.Int64
		if err := tx.setOwner(ctx, l, &id, "sent back by "+tx.actor.Name+": "+reason); err != nil {
			return err
		}
		if err := tx.inbox(ctx, id, "sent_back", l, "Sent back: "+leadName(l), tx.actor.Name+" sent the SQL back: "+reason); err != nil {
			return err
		}
	}
	return nil
}

// Convert makes an SQL an opportunity, once: a retry with the same
// idempotency key returns the opportunity of the first call.
func (db *DB) Convert(ctx context.Context, leadID int64, in baton.ConvertInput) (*baton.Opportunity, bool, error) {
	if strings.TrimSpace(in.Name) == "" {
		return nil, false, baton.FieldError("name", "required: the opportunity's name")
	}
	if in.Amount < 0 {
		return nil, false, baton.FieldError("amount", "must not be negative")
	}
	if o, err := db.opportunityByKey(ctx, leadID, in.IdempotencyKey); err != nil || o != nil {
		return o, false, err
	}
	o, err := db.convert(ctx, leadID, in)
	if err != nil && in.IdempotencyKey != "" && baton.ErrorCode(err) == baton.ECONFLICT {
		// A concurrent retry with the same key won: return its opportunity.
		if o2, err2 := db.opportunityByKey(ctx, leadID, in.IdempotencyKey); err2 == nil && o2 != nil {
			return o2, false, nil
		}
	}
	return o, err == nil, err
}

func (db *DB) opportunityByKey(ctx context.Context, leadID int64, key string) (*baton.Opportunity, error) {
	if key == "" {
		return nil, nil
	}
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var id, lead sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT id, lead_id FROM opportunities WHERE idempotency_key = $1`, key).Scan(&id, &lead)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if lead.Int64 != leadID {
		return nil, &baton.Error{Code: baton.ECONFLICT, Field: "Idempotency-Key", Message: "this idempotency key was used to convert another lead"}
	}
	if _, err := tx.findVisibleLead(ctx, leadID, false); err != nil {
		return nil, err
	}
	opps, _, err := db.FindOpportunities(ctx, baton.OpportunityFilter{LeadID: &leadID, Limit: 100})
	if err != nil {
		return nil, err
	}
	for _, o := range opps {
		if o.ID == id.Int64 {
			return o, nil
		}
	}
	return nil, nil
}

func (db *DB) convert(ctx context.Context, leadID int64, in baton.ConvertInput) (*baton.Opportunity, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	l, err := tx.findVisibleLead(ctx, leadID, true)
	if err != nil {
		return nil, err
	}
	if l.Stage != baton.StageSQL {
		return nil, &baton.Error{Code: baton.ECONFLICT, Field: "stage", Message: fmt.Sprintf("lead %d is %s: only an SQL can be converted", l.ID, l.Stage)}
	}
	h, err := tx.openHandoff(ctx, l.ID, baton.HandoffAE)
	if err != nil {
		return nil, err
	}
	if err := tx.changeStage(ctx, l, baton.StageChange{To: baton.StageOpportunity, Note: in.Name}); err != nil {
		return nil, err
	}
	if h != nil {
		// Converting answers the handoff too.
		if err := tx.answer(ctx, h, baton.HandoffAccepted); err != nil {
			return nil, err
		}
	}
	acc := in.AccountID
	if acc == nil {
		acc = l.AccountID
	}
	o := &baton.Opportunity{LeadID: &l.ID, AccountID: acc, OwnerID: l.OwnerID, Product: in.Product, Name: in.Name,
		Stage: baton.OppProspecting, Amount: in.Amount, CreatedAt: tx.now}
	if err := tx.createOpportunity(ctx, o); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE opportunities SET idempotency_key = $1, expected_close = $2 WHERE id = $3`,
		nullString(in.IdempotencyKey), nullMicros(in.ExpectedClose), o.ID); err != nil {
		if isUniqueViolation(err) {
			return nil, baton.Errorf(baton.ECONFLICT, "this idempotency key was used already")
		}
		return nil, err
	}
	if err := tx.emit(ctx, "lead.converted", l, map[string]any{"opportunity": o}); err != nil {
		return nil, err
	}
	var sdr sql.NullInt64
	tx.QueryRowContext(ctx, `SELECT qualified_by FROM bant WHERE lead_id = $1`, l.ID).Scan(&sdr)
	if sdr.Valid {
		if err := tx.inbox(ctx, sdr.Int64, "converted", l, "Converted: "+leadName(l), "Your SQL became the opportunity "+in.Name+"."); err != nil {
			return nil, err
		}
	}
	return o, tx.Commit()
}

// CloseLead closes a lead's opportunity won or lost.
func (db *DB) CloseLead(ctx context.Context, leadID int64, in baton.CloseInput) (_ *baton.Lead, err error) {
	defer raceConflict(&err)
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	l, err := tx.findVisibleLead(ctx, leadID, true)
	if err != nil {
		return nil, err
	}
	to, stage := baton.StageLost, baton.OppLost
	if in.Won {
		to, stage = baton.StageWon, baton.OppWon
	}
	if in.Value < 0 {
		return nil, baton.FieldError("value", "must not be negative")
	}
	reason := in.Reason
	if in.Won && reason == "" {
		reason = "won"
	}
	if err := tx.changeStage(ctx, l, baton.StageChange{To: to, Reason: reason}); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE opportunities SET stage = $1, close_value = $2, closed_at = $3 WHERE lead_id = $4 AND stage IN ('prospecting', 'engaging')`,
		string(stage), in.Value, micros(tx.now), l.ID); err != nil {
		return nil, err
	}
	if err := tx.emit(ctx, "lead."+string(to), l, map[string]any{"value": in.Value, "reason": in.Reason}); err != nil {
		return nil, err
	}
	return l, tx.Commit()
}

// Assign gives a lead to another rep. A manager may assign their team's
// leads to their team; an admin anyone's to anyone.
func (db *DB) Assign(ctx context.Context, leadID, userID int64, note string) (_ *baton.Lead, err error) {
	defer raceConflict(&err)
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if tx.actor.Role != baton.RoleManager && !tx.actor.CanAdmin() {
		return nil, baton.Errorf(baton.EFORBIDDEN, "only a manager or an admin may reassign a lead")
	}
	l, err := tx.findLead(ctx, leadID, true)
	if err != nil {
		return nil, err
	}
	u, err := tx.findUserByID(ctx, userID)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return nil, baton.FieldError("user_id", "no user %d", userID)
	} else if err != nil {
		return nil, err
	}
	if !u.Active || !u.Role.Rep() {
		return nil, baton.FieldError("user_id", "%s is not an active rep", u.Name)
	}
	if tx.actor.Role == baton.RoleManager {
		inTeam, err := tx.inTeam(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		owned := l.OwnerID == nil
		if !owned {
			if owned, err = tx.inTeam(ctx, *l.OwnerID); err != nil {
				return nil, err
			}
		}
		if !inTeam || !owned {
			return nil, baton.Errorf(baton.EFORBIDDEN, "a manager reassigns leads within their own team")
		}
	}
	why := "reassigned by " + tx.actor.Name
	if note != "" {
		why += ": " + note
	}
	sc, err := tx.scorer(ctx)
	if err != nil {
		return nil, err
	}
	kind := baton.HandoffKind("")
	switch l.Stage {
	case baton.StageMQL:
		kind = baton.HandoffSDR
	case baton.StageSQL:
		kind = baton.HandoffAE
	}
	if kind != "" {
		if _, err := tx.ExecContext(ctx, `UPDATE handoffs SET state = $1, answered_at = $2 WHERE lead_id = $3 AND state = $4`,
			baton.HandoffReassigned, micros(tx.now), l.ID, baton.HandoffOpen); err != nil {
			return nil, err
		}
		st, _ := stageConfig(sc.handoffConfig(), kind)
		if _, err := tx.assign(ctx, l, u, kind, st, why, "", false); err != nil {
			return nil, err
		}
	} else if err := tx.setOwner(ctx, l, &u.ID, why); err != nil {
		return nil, err
	}
	return l, tx.Commit()
}

// Claim lets a rep pull a lead: an unassigned MQL, or a lead in nurture for
// longer than the policy's pull_after that keeps engaging.
func (db *DB) Claim(ctx context.Context, leadID int64) (_ *baton.Lead, err error) {
	defer raceConflict(&err)
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if tx.actor.Role != baton.RoleSDR {
		return nil, baton.Errorf(baton.EFORBIDDEN, "only a development rep claims leads")
	}
	l, err := tx.findLead(ctx, leadID, true)
	if err != nil {
		return nil, err
	}
	sc, err := tx.scorer(ctx)
	if err != nil {
		return nil, err
	}
	cfg := sc.handoffConfig()
	me, err := tx.findUserByID(ctx, tx.actor.UserID)
	if err != nil {
		return nil, err
	}
	why := "pulled by " + me.Name
	switch {
	case l.Stage == baton.StageMQL && l.OwnerID == nil:
		if !cfg.PullUnassigned {
			return nil, baton.Errorf(baton.EFORBIDDEN, "the policy does not let reps claim unassigned MQLs")
		}
	case (l.Stage == baton.StageRecycled || l.Stage == baton.StageNew) && l.OwnerID == nil:
		if cfg.PullAfter == 0 {
			return nil, baton.Errorf(baton.EFORBIDDEN, "the policy does not let reps pull leads from nurture")
		}
		if tx.now.Sub(l.StageChangedAt) < cfg.PullAfter {
			return nil, baton.Errorf(baton.ECONFLICT, "lead %d has been in %s since %s: it may be pulled after %s",
				l.ID, l.Stage, l.StageChangedAt.Format("2006-01-02"), l.StageChangedAt.Add(cfg.PullAfter).Format("2006-01-02"))
		}
		var recent int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE lead_id = $1 AND occurred_at >= $2`, l.ID, micros(tx.now.AddDate(0, 0, -30))).Scan(&recent); err != nil {
			return nil, err
		}
		if recent == 0 {
			return nil, baton.Errorf(baton.ECONFLICT, "lead %d has not engaged in the last 30 days: nothing to pull", l.ID)
		}
		sys := *tx
		sys.actor = baton.Actor{Name: me.Name, Role: baton.RoleSystem, Via: "pull"}
		sys.noRoute = true
		if err := sys.changeStage(ctx, l, baton.StageChange{To: baton.StageMQL, Reason: fmt.Sprintf("%s (%d events in the last 30 days)", why, recent)}); err != nil {
			return nil, err
		}
	default:
		return nil, baton.Errorf(baton.ECONFLICT, "lead %d is %s and assigned: only an unassigned MQL or a nurtured lead can be claimed", l.ID, l.Stage)
	}
	if _, err := tx.assign(ctx, l, me, baton.HandoffSDR, cfg.SDR, why, "", true); err != nil {
		return nil, err
	}
	return l, tx.Commit()
}

// Queue returns the caller's leads awaiting their answer: soonest deadline
// first, or most likely to buy first with sort "probability".
func (db *DB) Queue(ctx context.Context, sort string) ([]baton.QueueItem, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	order := "h.due_at, h.id"
	switch sort {
	case "", "deadline":
	case "probability":
		order = "l.probability IS NULL, l.probability DESC, h.due_at"
	case "fit":
		order = "l.fit DESC, h.due_at"
	default:
		return nil, baton.FieldError("sort", "unknown order %q (want deadline, probability or fit)", sort)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+prefix("h.", handoffColumns)+`, `+prefix("l.", leadColumns)+`
		FROM handoffs h JOIN leads l ON l.id = h.lead_id
		WHERE h.owner_id = $1 AND h.state = $2 ORDER BY `+order+` LIMIT 500`, tx.actor.UserID, baton.HandoffOpen)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	defer rows.Close()
	out := []baton.QueueItem{}
	for rows.Next() {
		// One row holds the handoff's columns, then the lead's: the
		// handoff's times are filled once the row is scanned.
		h, hdest, finish := handoffDest()
		l, err := scanLead(scanFunc(func(dest ...any) error {
			if err := rows.Scan(append(hdest, dest...)...); err != nil {
				return err
			}
			finish()
			return nil
		}))
		if err != nil {
			return nil, err
		}
		out = append(out, baton.QueueItem{Lead: l, Handoff: h})
	}
	return out, rows.Err()
}

// Handoffs lists a lead's handoffs, oldest first.
func (db *DB) Handoffs(ctx context.Context, leadID int64) ([]baton.Handoff, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.findVisibleLead(ctx, leadID, false); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+handoffColumns+` FROM handoffs WHERE lead_id = $1 ORDER BY id`, leadID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []baton.Handoff{}
	for rows.Next() {
		h, err := scanHandoff(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *h)
	}
	return out, rows.Err()
}

// StaleSALs lists the accepted leads the actor may see that have had no
// opportunity for longer than the policy allows.
func (db *DB) StaleSALs(ctx context.Context) ([]*baton.Lead, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	sc, err := tx.scorer(ctx)
	if err != nil {
		return nil, err
	}
	var w where
	tx.scope(&w, "")
	w.add("stage = ?", string(baton.StageSAL))
	w.add("stage_changed_at < ?", micros(tx.now.Add(-sc.handoffConfig().OpportunityWithin)))
	rows, err := tx.QueryContext(ctx, `SELECT `+leadColumns+` FROM leads WHERE `+w.String()+` ORDER BY stage_changed_at LIMIT 1000`, w.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*baton.Lead{}
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// subjectJob makes the handler of a job whose subject is the id of what it
// acts on: fn runs in a transaction of its own, committed when fn returns nil
// (a job with nothing left to do returns nil before writing anything).
func (db *DB) subjectJob(fn func(ctx context.Context, tx *Tx, id int64) error) baton.JobHandler {
	return func(ctx context.Context, j *baton.Job) error {
		tx, err := db.begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		id, _ := strconv.ParseInt(j.Subject, 10, 64)
		if err := fn(ctx, tx, id); err != nil {
			return err
		}
		return tx.Commit()
	}
}

// RemindHandler reminds the rep of a handoff still open at its reminder time.
// A reminder job that runs only at or after the deadline (the server was down
// across it) sends nothing: "0s left" after the fact would mislead the rep,
// and the breach job, due by then too, tells them and their manager instead.
func (db *DB) RemindHandler() baton.JobHandler {
	return db.subjectJob(func(ctx context.Context, tx *Tx, id int64) error {
		h, err := tx.findHandoff(ctx, id)
		if err != nil || h.State != baton.HandoffOpen || h.RemindedAt != nil {
			return nil // answered, reassigned or gone: nothing to remind
		}
		if !tx.now.Before(h.DueAt) {
			return nil // too late to remind: the breach job deals with it
		}
		if _, err := tx.ExecContext(ctx, `UPDATE handoffs SET reminded_at = $1 WHERE id = $2`, micros(tx.now), id); err != nil {
			return err
		}
		l, err := tx.findLead(ctx, h.LeadID, false)
		if err != nil {
			return err
		}
		left := h.DueAt.Sub(tx.now).Round(time.Minute)
		if err := tx.inbox(ctx, h.OwnerID, "reminder", l, "Answer soon: "+leadName(l), fmt.Sprintf("%s left to accept or reject (due %s).", left, h.DueAt.Format("Mon 15:04 MST"))); err != nil {
			return err
		}
		if err := tx.emailUser(ctx, h.OwnerID, "reminder", l, "Reminder: "+leadName(l)+" awaits your answer",
			fmt.Sprintf("Lead %d awaits your answer: %s left (due %s).", l.ID, left, h.DueAt.Format(time.RFC1123))); err != nil {
			return err
		}
		if err := tx.emit(ctx, "lead.reminder", l, map[string]any{"handoff": h}); err != nil {
			return err
		}
		return nil
	})
}

// BreachHandler acts on a handoff still open at its deadline: the breach is
// recorded, the rep's manager is told, and by policy the lead goes to the
// next rep or back to the pool. A rep accepting at the same moment and the
// sweeper race on the handoff's state: exactly one wins.
func (db *DB) BreachHandler() baton.JobHandler {
	return db.subjectJob(func(ctx context.Context, tx *Tx, id int64) error {
		h, err := tx.findHandoff(ctx, id)
		if err != nil || h.State != baton.HandoffOpen || h.BreachedAt != nil {
			return nil
		}
		sc, err := tx.scorer(ctx)
		if err != nil {
			return err
		}
		st, _ := stageConfig(sc.handoffConfig(), h.Kind)
		owner, err := tx.findUserByID(ctx, h.OwnerID)
		if err != nil {
			return err
		}
		state := baton.HandoffOpen // "notify": the rep may still answer, late
		switch st.OnBreach {
		case "reassign":
			state = baton.HandoffReassigned
		case "return":
			state = baton.HandoffReturned
		}
		// Lock the lead before the handoff, in the order Accept takes them,
		// so that the two never deadlock.
		l, err := tx.findLead(ctx, h.LeadID, true)
		if err != nil {
			return err
		}
		met := false
		res, err := tx.ExecContext(ctx, `UPDATE handoffs SET breached_at = $1, state = $2, met = $3, escalated_to = $4 WHERE id = $5 AND state = $6`,
			micros(tx.now), state, met, nullInt(owner.ManagerID), id, baton.HandoffOpen)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil // answered at the same moment
		}
		if err := tx.addHistory(ctx, baton.HistoryEntry{LeadID: l.ID, At: tx.now, Action: "breached", Field: "owner_id", From: fmtID(&owner.ID),
			Reason: fmt.Sprintf("no answer from %s within the SLA (due %s)", owner.Name, h.DueAt.Format(time.RFC3339)), Note: st.OnBreach}); err != nil {
			return err
		}
		if err := tx.inbox(ctx, owner.ID, "breached", l, "SLA breached: "+leadName(l), "The time to answer has passed."); err != nil {
			return err
		}
		if owner.ManagerID != nil {
			body := fmt.Sprintf("%s did not answer lead %d (%s) within the SLA, due %s.", owner.Name, l.ID, leadName(l), h.DueAt.Format(time.RFC1123))
			if err := tx.inbox(ctx, *owner.ManagerID, "escalated", l, "Escalation: "+owner.Name+" breached the SLA", body); err != nil {
				return err
			}
			if err := tx.emailUser(ctx, *owner.ManagerID, "escalated", l, "Escalation: "+owner.Name+" missed the SLA on "+leadName(l), body); err != nil {
				return err
			}
		}
		if err := tx.emit(ctx, "lead.breached", l, map[string]any{"handoff": h, "on_breach": st.OnBreach}); err != nil {
			return err
		}
		switch st.OnBreach {
		case "reassign":
			if _, err := tx.route(ctx, sc, l, h.Kind, owner.ID); err != nil {
				return err
			}
		case "return":
			if err := tx.setOwner(ctx, l, nil, "returned to the pool after an SLA breach"); err != nil {
				return err
			}
		}
		return nil
	})
}

// StaleSALHandler reminds the owner of an accepted lead that still has no
// opportunity when the policy's limit passes.
func (db *DB) StaleSALHandler() baton.JobHandler {
	return db.subjectJob(func(ctx context.Context, tx *Tx, id int64) error {
		l, err := tx.findLead(ctx, id, false)
		if err != nil || l.Stage != baton.StageSAL || l.OwnerID == nil {
			return nil
		}
		if err := tx.inbox(ctx, *l.OwnerID, "stale_sal", l, "No opportunity yet: "+leadName(l),
			fmt.Sprintf("You accepted this lead on %s and it has no opportunity yet: qualify it, or reject it with a reason.", l.StageChangedAt.Format("2 Jan"))); err != nil {
			return err
		}
		if err := tx.emit(ctx, "lead.stale_sal", l, nil); err != nil {
			return err
		}
		return nil
	})
}

// inbox puts a notification in a user's in-app inbox.
func (tx *Tx) inbox(ctx context.Context, userID int64, kind string, l *baton.Lead, title, body string) error {
	var lead any
	if l != nil {
		lead = l.ID
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO notifications (user_id, kind, lead_id, title, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		userID, kind, lead, title, body, micros(tx.now)); err != nil {
		return fmt.Errorf("notify user %d: %w", userID, err)
	}
	return nil
}

// inboxRole notifies every active user of a role.
func (tx *Tx) inboxRole(ctx context.Context, role baton.Role, kind string, l *baton.Lead, title, body string) error {
	var lead any
	if l != nil {
		lead = l.ID
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO notifications (user_id, kind, lead_id, title, body, created_at)
		SELECT id, $1, $2, $3, $4, $5 FROM users WHERE role = $6 AND active = $7`, kind, lead, title, body, micros(tx.now), string(role), true)
	return err
}

// emailUser queues an email to a user in the outbox, when email is on.
func (tx *Tx) emailUser(ctx context.Context, userID int64, kind string, l *baton.Lead, subject, text string) error {
	var on string
	if err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'email'`).Scan(&on); errors.Is(err, sql.ErrNoRows) || on != "on" {
		return nil
	} else if err != nil {
		return err
	}
	u, err := tx.findUserByID(ctx, userID)
	if err != nil {
		return err
	}
	payload, _ := json.Marshal(map[string]any{"subject": subject, "text": text, "lead_id": l.ID})
	return tx.outbox(ctx, "email", u.Email, kind, subject, payload)
}

// emit queues the event for every active webhook that subscribes to it.
func (tx *Tx) emit(ctx context.Context, event string, l *baton.Lead, data map[string]any) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, events FROM webhooks WHERE active = $1`, true)
	if err != nil {
		return err
	}
	var targets []string
	for rows.Next() {
		var id int64
		var events string
		if err := rows.Scan(&id, &events); err != nil {
			rows.Close()
			return err
		}
		if events == "*" || contains(strings.Split(events, ","), event) {
			targets = append(targets, strconv.FormatInt(id, 10))
		}
	}
	rows.Close()
	if len(targets) == 0 {
		return rows.Err()
	}
	payload, err := json.Marshal(map[string]any{"event": event, "occurred_at": tx.now, "actor": tx.actor.Name, "lead": l, "data": data})
	if err != nil {
		return err
	}
	for _, t := range targets {
		if err := tx.outbox(ctx, "webhook", t, event, "", payload); err != nil {
			return err
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.TrimSpace(x) == s {
			return true
		}
	}
	return false
}

// outbox writes one message to deliver, in the transaction of the change.
func (tx *Tx) outbox(ctx context.Context, channel, target, event, subject string, payload []byte) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (channel, target, event, subject, payload, created_at, next_at) VALUES ($1, $2, $3, $4, $5, $6, $6)`,
		channel, target, event, subject, string(payload), micros(tx.now)); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// Notifications lists the caller's in-app notifications, newest first.
func (db *DB) Notifications(ctx context.Context, unreadOnly bool, limit int) ([]baton.Notification, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	q := `SELECT id, user_id, kind, lead_id, title, body, created_at, read_at FROM notifications WHERE user_id = $1`
	if unreadOnly {
		q += ` AND read_at IS NULL`
	}
	rows, err := tx.QueryContext(ctx, q+` ORDER BY id DESC`+limitClause(0, limit), tx.actor.UserID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []baton.Notification{}
	for rows.Next() {
		var n baton.Notification
		var lead, read sql.NullInt64
		var created int64
		if err := rows.Scan(&n.ID, &n.UserID, &n.Kind, &lead, &n.Title, &n.Body, &created, &read); err != nil {
			return nil, err
		}
		n.LeadID, n.CreatedAt, n.ReadAt = ptrInt(lead), fromMicros(created), fromNullMicros(read)
		out = append(out, n)
	}
	return out, rows.Err()
}

// MarkRead marks one of the caller's notifications read.
func (db *DB) MarkRead(ctx context.Context, id int64) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE notifications SET read_at = $1 WHERE id = $2 AND user_id = $3 AND read_at IS NULL`, micros(tx.now), id, tx.actor.UserID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return baton.Errorf(baton.ENOTFOUND, "no unread notification %d of yours", id)
	}
	return tx.Commit()
}
