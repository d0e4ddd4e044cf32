package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/batonhq/baton"
)

// The SLA's background jobs: reminders before a deadline, breaches at it,
// the check that an accepted lead became an opportunity. JobHandlers is the
// one map of every job kind this package runs.

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

// JobHandlers are the handlers of every job kind storage runs: the one map
// that `baton serve`, the demo and the tests hand to a worker.
func (db *DB) JobHandlers() map[string]baton.JobHandler {
	return map[string]baton.JobHandler{
		ProbeJob:    db.ProbeHandler(),
		RescoreJob:  db.RescoreHandler(),
		RemindJob:   db.RemindHandler(),
		BreachJob:   db.BreachHandler(),
		StaleSALJob: db.StaleSALHandler(),

		AccountRescoreJob: db.AccountRescoreHandler(),
	}
}

// BreachHandler acts on a handoff still open at its deadline: the breach
// move of the lifecycle (baton.VerbBreach), made by the system. A rep
// accepting at the same moment and the sweeper race on the handoff's
// state: exactly one wins. A job of a handoff that is no longer the lead's
// open one has nothing to do.
func (db *DB) BreachHandler() baton.JobHandler {
	return db.subjectJob(func(ctx context.Context, tx *Tx, id int64) error {
		h, err := tx.findHandoff(ctx, id)
		if baton.ErrorCode(err) == baton.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		if h.State != baton.HandoffOpen || h.BreachedAt != nil {
			return nil
		}
		// Lock the lead before the handoff, in the order Accept takes them,
		// so that the two never deadlock.
		l, err := tx.findLead(ctx, h.LeadID, true)
		if err != nil {
			return err
		}
		open, err := tx.openHandoff(ctx, l.ID, h.Kind)
		if err != nil || open == nil || open.ID != h.ID || handoffKind(l.Stage) != h.Kind || (l.Stage != baton.StageMQL && l.Stage != baton.StageSQL) {
			return err
		}
		sys := *tx
		sys.actor = baton.Actor{Name: "SLA sweeper", Role: baton.RoleSystem, Via: "job"}
		_, err = sys.move(ctx, l, baton.StageChange{Verb: baton.VerbBreach, To: l.Stage})
		return err
	})
}

// RemindHandler reminds the rep of a handoff still open at its reminder time.
// A reminder job that runs only at or after the deadline (the server was down
// across it) sends nothing: "0s left" after the fact would mislead the rep,
// and the breach job, due by then too, tells them and their manager instead.
func (db *DB) RemindHandler() baton.JobHandler {
	return db.subjectJob(func(ctx context.Context, tx *Tx, id int64) error {
		h, err := tx.findHandoff(ctx, id)
		if baton.ErrorCode(err) == baton.ENOTFOUND {
			return nil
		} else if err != nil {
			return err // the job is tried again
		}
		if h.State != baton.HandoffOpen || h.RemindedAt != nil {
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
		title, text := "Answer soon: "+leadName(l), fmt.Sprintf("%s left to accept or reject (due %s).", left, h.DueAt.Format("Mon 15:04 MST"))
		if err := tx.inbox(ctx, h.OwnerID, baton.NotifyReminder, l, title, text); err != nil {
			return err
		}
		if err := tx.slackAbout(ctx, baton.SlackReminder, l, title, text, h, []int64{h.OwnerID}); err != nil {
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

// StaleSALHandler reminds the owner of an accepted lead that still has no
// opportunity when the policy's limit passes.
func (db *DB) StaleSALHandler() baton.JobHandler {
	return db.subjectJob(func(ctx context.Context, tx *Tx, id int64) error {
		l, err := tx.findLead(ctx, id, false)
		if baton.ErrorCode(err) == baton.ENOTFOUND {
			return nil
		} else if err != nil {
			return err // the job is tried again
		}
		if l.Stage != baton.StageSAL || l.OwnerID == nil {
			return nil
		}
		if err := tx.inbox(ctx, *l.OwnerID, baton.NotifyStaleSAL, l, "No opportunity yet: "+leadName(l),
			fmt.Sprintf("You accepted this lead on %s and it has no opportunity yet: qualify it, or reject it with a reason.", l.StageChangedAt.Format("2 Jan"))); err != nil {
			return err
		}
		if err := tx.emit(ctx, "lead.stale_sal", l, nil); err != nil {
			return err
		}
		return nil
	})
}
