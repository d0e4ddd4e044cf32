package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
)

// Routing and owners: who gets a lead that enters a handoff stage, and the
// one path by which a lead changes owner (routing, assign, reassign,
// claims, breaches, owner_id edits, sends back).

// route finds the rep a lead entering a handoff stage goes to, by the
// policy's ordered routes, and gives it to them with a new handoff. A lead
// that already has an owner of the right role keeps them (unless exclude is
// set). exclude lists reps not to choose: those who breached the lead. With
// nobody available the lead stays unassigned in the pool, and its history
// says why.
func (tx *Tx) route(ctx context.Context, sc *scorer, l *baton.Lead, kind baton.HandoffKind, exclude []int64) (*baton.Handoff, error) {
	cfg := sc.handoffConfig()
	st, role := stageConfig(cfg, kind)
	if l.OwnerID != nil && exclude == nil {
		u, err := tx.findUserByID(ctx, *l.OwnerID)
		if err != nil {
			return nil, err
		}
		if u.Active && u.Role == role && !tx.outOfOffice(ctx, u.ID) {
			return tx.giveTo(ctx, sc, l, u, kind, "existing owner", "", false)
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
		cands, capped, err := tx.candidates(ctx, role, r, exclude)
		if err != nil {
			return nil, err
		}
		pool := poolName(r, role)
		if len(cands) == 0 {
			why := fmt.Sprintf("rule %q: nobody available in %s", r.Name, pool)
			if capped > 0 {
				why = fmt.Sprintf("rule %q: every rep of %s is at the cap of %d leads per %s", r.Name, pool, r.Cap, r.CapPer)
			}
			skipped = append(skipped, why)
			continue
		}
		var u *baton.User
		var why string
		switch r.Method {
		case "least_loaded":
			best, bestN := cands[0], -1
			for _, c := range cands {
				var n int
				if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM handoffs WHERE owner_id = $1 AND state = 'open'`, c.ID).Scan(&n); err != nil {
					return nil, err
				}
				if bestN < 0 || n < bestN {
					best, bestN = c, n
				}
			}
			u, why = best, fmt.Sprintf("rule %q, pool %q, least loaded (%d open)", r.Name, pool, bestN)
		default:
			// Turns are counted per pool, so that two routes into one pool
			// share its order.
			var turn int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO routing_turns (route, turn) VALUES ($1, 1)
				ON CONFLICT (route) DO UPDATE SET turn = routing_turns.turn + 1 RETURNING turn`, string(kind)+":pool:"+pool).Scan(&turn); err != nil {
				return nil, fmt.Errorf("routing turn: %w", err)
			}
			u = weightedPick(cands, r.Weights, turn)
			why = fmt.Sprintf("rule %q, pool %q, round robin turn %d", r.Name, pool, turn)
		}
		if len(skipped) > 0 {
			why += " (" + strings.Join(skipped, "; ") + ")"
		}
		return tx.giveTo(ctx, sc, l, u, kind, why, r.Name, false)
	}
	// Nobody: the lead waits in the pool, and says why.
	reason := "no route matches the lead"
	if len(skipped) > 0 {
		reason = strings.Join(skipped, "; ")
	}
	// A lead handed on (a breach, an SQL from its development rep) does
	// not stay with the one it left: it waits unowned in the pool, where a
	// manager may assign it.
	if l.OwnerID != nil {
		return nil, tx.setOwner(ctx, l, nil, "unassigned: "+reason)
	}
	return nil, tx.addHistory(ctx, baton.HistoryEntry{LeadID: l.ID, At: tx.now, Action: baton.ActionAssigned, Field: "owner_id", Reason: "unassigned: " + reason, Note: string(kind)})
}

// poolName names a route's pool for people.
func poolName(r *policy.Route, role baton.Role) string {
	if r.Pool == "" {
		return "all " + string(role) + "s"
	}
	return r.Pool
}

// weightedPick returns the rep whose turn it is: with weights, a rep of
// weight w gets w turns of every cycle of the weights' sum.
func weightedPick(cands []*baton.User, weights map[string]int, turn int64) *baton.User {
	total := 0
	for _, c := range cands {
		total += weightOf(weights, c)
	}
	slot := int((turn - 1) % int64(total))
	for _, c := range cands {
		if slot -= weightOf(weights, c); slot < 0 {
			return c
		}
	}
	return cands[len(cands)-1]
}

func weightOf(weights map[string]int, u *baton.User) int {
	if w, ok := weights[u.Email]; ok {
		return w
	}
	return 1
}

// candidates lists the active reps of a route's pool who are not out of
// office, not excluded and not at the route's cap, by id; capped counts
// those left out by the cap.
func (tx *Tx) candidates(ctx context.Context, role baton.Role, r *policy.Route, exclude []int64) (_ []*baton.User, capped int, _ error) {
	var w where
	w.add("role = ?", string(role))
	w.add("active = ?", true)
	w.add("(out_of_office_until IS NULL OR out_of_office_until <= ?)", micros(tx.now))
	if r.Pool != "" {
		w.add("team = ?", r.Pool)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE `+w.String()+` ORDER BY id`, w.args...)
	if err != nil {
		return nil, 0, fmt.Errorf("routing candidates: %w", err)
	}
	var out []*baton.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			rows.Close()
			return nil, 0, err
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
		return out, 0, err
	}
	kept := out[:0]
	for _, u := range out {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM handoffs WHERE route = $1 AND owner_id = $2 AND assigned_at > $3`,
			r.Name, u.ID, micros(tx.now.Add(-r.CapPer))).Scan(&n); err != nil {
			return nil, 0, err
		}
		if n < r.Cap {
			kept = append(kept, u)
		} else {
			capped++
		}
	}
	return kept, capped, nil
}

func (tx *Tx) outOfOffice(ctx context.Context, userID int64) bool {
	var until sql.NullInt64
	tx.QueryRowContext(ctx, `SELECT out_of_office_until FROM users WHERE id = $1`, userID).Scan(&until)
	return until.Valid && until.Int64 > micros(tx.now)
}

// inTeamPool reports whether an unowned lead in a handoff stage is in a
// routing pool of the acting manager's team: a route of its stage that it
// matches sends leads to that team (or to everyone).
func (tx *Tx) inTeamPool(ctx context.Context, sc *scorer, l *baton.Lead) (bool, error) {
	if l.Stage != baton.StageMQL && l.Stage != baton.StageSQL {
		return false, nil
	}
	me, err := tx.findUserByID(ctx, tx.actor.UserID)
	if err != nil {
		return false, err
	}
	teams, err := tx.managedTeams(ctx, me)
	if err != nil {
		return false, err
	}
	st, _ := stageConfig(sc.handoffConfig(), handoffKind(l.Stage))
	acc, err := tx.accountOf(ctx, l)
	if err != nil {
		return false, err
	}
	subject := policy.Subject{Lead: l, Account: acc}
	for _, r := range st.Routes {
		if r.Match(subject) && (r.Pool == "" || teams[r.Pool]) {
			return true, nil
		}
	}
	return false, nil
}

// managedTeams returns the teams of a manager and of the reps who report to
// them.
func (tx *Tx) managedTeams(ctx context.Context, me *baton.User) (map[string]bool, error) {
	teams := map[string]bool{}
	if me.Team != "" {
		teams[me.Team] = true
	}
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT team FROM users WHERE manager_id = $1 AND team <> ''`, me.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		teams[t] = true
	}
	return teams, rows.Err()
}

// checkAssignee finds the user an assign or a reassign names and checks
// them by baton.CheckAssignee, the rule the pages use to offer users.
func (tx *Tx) checkAssignee(ctx context.Context, l *baton.Lead, r baton.Rule, userID int64) (*baton.User, error) {
	if userID <= 0 {
		return nil, baton.FieldError("user_id", "required: the user who gets the lead")
	}
	u, err := tx.findUserByID(ctx, userID)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return nil, baton.FieldError("user_id", "no user %d", userID)
	} else if err != nil {
		return nil, err
	}
	return u, baton.CheckAssignee(tx.actor, l, u, tx.now)
}

// checkPull checks that the policy lets a rep claim the lead: an unassigned
// MQL where pulls of those are on, or a lead long enough in nurture (or
// new) that keeps engaging. It returns what the history says of it.
func (tx *Tx) checkPull(ctx context.Context, cfg policy.Handoff, l *baton.Lead) (string, error) {
	if l.Stage == baton.StageMQL {
		if !cfg.PullUnassigned {
			return "", baton.Errorf(baton.EFORBIDDEN, "the policy does not let reps claim unassigned MQLs")
		}
		return "", nil
	}
	if cfg.PullAfter == 0 {
		return "", baton.Errorf(baton.EFORBIDDEN, "the policy does not let reps pull leads from nurture")
	}
	if tx.now.Sub(l.StageChangedAt) < cfg.PullAfter {
		return "", baton.Errorf(baton.ECONFLICT, "lead %d has been in %s since %s: it may be pulled after %s",
			l.ID, l.Stage, l.StageChangedAt.Format("2006-01-02"), l.StageChangedAt.Add(cfg.PullAfter).Format("2006-01-02"))
	}
	var recent int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE lead_id = $1 AND occurred_at >= $2`, l.ID, micros(tx.now.AddDate(0, 0, -30))).Scan(&recent); err != nil {
		return "", err
	}
	if recent == 0 {
		return "", baton.Errorf(baton.ECONFLICT, "lead %d has not engaged in the last 30 days: nothing to pull", l.ID)
	}
	return fmt.Sprintf(" (%d events in the last 30 days)", recent), nil
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
	return tx.addHistory(ctx, baton.HistoryEntry{LeadID: l.ID, At: tx.now, Action: baton.ActionAssigned, Field: "owner_id", From: from, To: fmtID(owner), Reason: why})
}

// giveTo makes u the lead's owner. With a handoff kind, the lead's open
// handoff (if any is left) is closed as reassigned and a new one opened to
// u with its SLA deadline, reminder and breach jobs.
func (tx *Tx) giveTo(ctx context.Context, sc *scorer, l *baton.Lead, u *baton.User, kind baton.HandoffKind, why, route string, pull bool) (*baton.Handoff, error) {
	if kind == "" {
		return nil, tx.setOwner(ctx, l, &u.ID, why)
	}
	if err := tx.closeOpen(ctx, l.ID, baton.HandoffReassigned); err != nil {
		return nil, err
	}
	st, role := stageConfig(sc.handoffConfig(), kind)
	// The window counts in the rep's own hours, or else their team's.
	cal, err := tx.calendarOf(ctx, u)
	if err != nil {
		return nil, err
	}
	// A lead routed by a rule says which reps of its pool were passed
	// over as out of office.
	if route != "" {
		for _, r := range st.Routes {
			if r.Name != route {
				continue
			}
			note, err := tx.awayNote(ctx, role, r.Pool)
			if err != nil {
				return nil, err
			}
			why += note
			break
		}
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
	} else if err := tx.addHistory(ctx, baton.HistoryEntry{LeadID: l.ID, At: tx.now, Action: baton.ActionAssigned, Field: "owner_id",
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
	return h, nil
}

// breach records that the owner of the lead's open handoff did not answer
// in time and does what the policy's on_breach says: notify (the handoff
// stays open, the rep may still answer late), return (the lead goes back to
// the pool, unassigned) or reassign (the next rep of the pool who has not
// breached this lead gets it; when none is left, the breaching rep's
// manager, once; after that, the pool).
func (tx *Tx) breach(ctx context.Context, sc *scorer, l *baton.Lead, r baton.Rule, n *needs, m *moved) error {
	h := n.handoff
	st, _ := stageConfig(sc.handoffConfig(), h.Kind)
	owner, err := tx.findUserByID(ctx, h.OwnerID)
	if err != nil {
		return err
	}
	state := baton.HandoffOpen
	switch st.OnBreach {
	case baton.BreachReassign:
		state = baton.HandoffReassigned
	case baton.BreachReturn:
		state = baton.HandoffReturned
	}
	// The manager is told once: not when the manager was the one who
	// breached (as the fallback), nor twice for one lead and kind.
	var escalated int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM handoffs WHERE lead_id = $1 AND kind = $2 AND escalated_to IS NOT NULL`, l.ID, string(h.Kind)).Scan(&escalated); err != nil {
		return err
	}
	m.breached, m.answered = owner, h
	m.escalate = owner.ManagerID != nil && escalated == 0
	var escalateTo *int64
	if m.escalate {
		escalateTo = owner.ManagerID
	}
	res, err := tx.ExecContext(ctx, `UPDATE handoffs SET breached_at = $1, state = $2, met = $3, escalated_to = $4 WHERE id = $5 AND state = 'open'`,
		micros(tx.now), string(state), false, nullInt(escalateTo), h.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return baton.Errorf(baton.ECONFLICT, "the handoff of lead %d was answered meanwhile", l.ID)
	}
	h.State = state
	m.data["on_breach"], m.data["breached"] = st.OnBreach, h
	if err := tx.addHistory(ctx, baton.HistoryEntry{LeadID: l.ID, At: tx.now, Action: baton.ActionBreached, Field: "owner_id", From: fmtID(&owner.ID),
		Reason: fmt.Sprintf("no answer from %s within the SLA (due %s)", owner.Name, h.DueAt.Format(time.RFC3339)), Note: st.OnBreach}); err != nil {
		return err
	}
	switch st.OnBreach {
	case baton.BreachReassign:
		breachers, err := tx.breachers(ctx, l.ID, h.Kind)
		if err != nil {
			return err
		}
		if m.handoff, err = tx.route(ctx, sc, l, h.Kind, breachers); err != nil || m.handoff != nil {
			return err
		}
		// The pool has nobody left who has not breached this lead: its
		// manager takes it, once.
		if owner.ManagerID != nil && !slices.Contains(breachers, *owner.ManagerID) {
			mgr, err := tx.findUserByID(ctx, *owner.ManagerID)
			if err != nil {
				return err
			}
			if mgr.Active {
				m.handoff, err = tx.giveTo(ctx, sc, l, mgr, h.Kind, "every rep of the pool breached this lead: to their manager", "", false)
				return err
			}
		}
	case baton.BreachReturn:
		return tx.setOwner(ctx, l, nil, "returned to the pool after an SLA breach")
	}
	return nil
}

// breachers lists who breached a handoff of the lead of that kind.
func (tx *Tx) breachers(ctx context.Context, leadID int64, kind baton.HandoffKind) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT owner_id FROM handoffs WHERE lead_id = $1 AND kind = $2 AND breached_at IS NOT NULL`, leadID, string(kind))
	if err != nil {
		return nil, err
	}
	return scanIDs(rows)
}
