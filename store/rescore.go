package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/batonhq/baton"
)

// RescoreJob is the kind of the background job that rescores every lead, a
// chunk per run, after a policy is published or a model activated.
const RescoreJob = "rescore"

// rescoreChunk is how many leads one rescore transaction takes (a variable
// for tests only).
var rescoreChunk = 5000

type rescorePayload struct {
	After int64 `json:"after"`
}

// A rescore reads ahead: while the writer stores one chunk, another
// connection (and core) reads the next chunk's leads, states and events on a
// snapshot and computes their scores. The writer then stores each of those
// scores only if the lead's version and score_seq (which every write of its
// scores or scoring state moves) are still the ones they were computed from
// (a guarded write), and computes the others again in its own transaction.
// So a lead changed meanwhile by an event, an edit or a stage change is never
// overwritten with scores of its old self, and the result is the one a
// rescore in the writer alone would give.

// rescoreBatch is one chunk's scores computed on a read snapshot.
type rescoreBatch struct {
	after                       int64 // the chunk is the leads after this id
	policyVersion, modelVersion int   // what computed the scores
	set                         *scoringSet
	items                       []scored
	err                         error
	done                        chan struct{} // closed when the fields above are set
	// taken is set when the writer waits for the batch: the reader then
	// leaves the states it has not written as JSON yet to the writer.
	taken atomic.Bool
}

// readAhead holds the batch being read for the next chunk of a rescore.
type readAhead struct {
	mu   sync.Mutex
	next *rescoreBatch
	wg   sync.WaitGroup // the goroutines reading ahead; Close waits for them
}

// startReadAhead computes the chunk after the lead id after in the
// background, for the next call of rescoreNext.
func (db *DB) startReadAhead(after int64) {
	ra := &db.ahead
	b := &rescoreBatch{after: after, done: make(chan struct{})}
	ra.mu.Lock()
	ra.next = b
	ra.mu.Unlock()
	ra.wg.Add(1)
	go func() {
		defer ra.wg.Done()
		defer close(b.done)
		ctx := baton.WithActor(context.Background(), baton.Actor{Name: "system", Role: baton.RoleSystem, Via: "rescore"})
		b.err = db.readRescore(ctx, b)
	}()
}

// takeReadAhead returns the batch read ahead for the chunk after the lead id
// after, once it is computed, or nil if there is none.
func (db *DB) takeReadAhead(after int64) *rescoreBatch {
	ra := &db.ahead
	ra.mu.Lock()
	b := ra.next
	if b == nil || b.after != after {
		ra.mu.Unlock()
		return nil
	}
	ra.next = nil
	ra.mu.Unlock()
	b.taken.Store(true)
	<-b.done
	return b
}

// readRescore computes a chunk's scores on a read snapshot.
func (db *DB) readRescore(ctx context.Context, b *rescoreBatch) error {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	sc, err := tx.scorer(ctx)
	if err != nil {
		return err
	}
	b.policyVersion, b.modelVersion = sc.policyVersion, sc.modelVersion
	if b.set, err = tx.scoringRows(ctx, sc, `id > $1 ORDER BY id LIMIT $2`, b.after, rescoreChunk); err != nil {
		return err
	}
	if b.items, err = tx.rescoreItems(ctx, sc, b.set); err != nil {
		return err
	}
	// The new states are encoded here, on the reader's core, until
	// the writer is done with the chunk before and waits for this one: it
	// writes the rest itself, so that neither waits for the other.
	for i := range b.items {
		if b.taken.Load() {
			break
		}
		if it := &b.items[i]; !it.same {
			it.coded = it.state.encode()
		}
	}
	return nil
}

// rescoreNext rescores, in tx, the chunk of leads after the lead id after,
// from the scores read ahead for it if there are, and starts reading the
// chunk after it. It returns the chunk's last lead id and its size.
func (db *DB) rescoreNext(ctx context.Context, tx *Tx, after int64) (int64, int, error) {
	b := db.takeReadAhead(after)
	if b == nil || b.err != nil {
		// No read ahead (the first chunk, or another process ran the last),
		// or it failed: compute here. A failure that lasts fails here too.
		last, n, err := tx.rescoreChunk(ctx, after, rescoreChunk)
		if err == nil && n == rescoreChunk {
			db.startReadAhead(last)
		}
		return last, n, err
	}
	n := len(b.set.leads)
	if n == 0 {
		return after, 0, nil
	}
	last := b.set.leads[n-1].ID
	if n == rescoreChunk {
		db.startReadAhead(last)
	}
	sc, err := tx.scorer(ctx)
	if err != nil {
		return 0, 0, err
	}
	if sc.policyVersion != b.policyVersion || sc.modelVersion != b.modelVersion {
		// A version published since the snapshot: score by it.
		return tx.rescoreChunk(ctx, after, rescoreChunk)
	}
	missed, err := tx.storeScores(ctx, b.items, true)
	if err != nil {
		return 0, 0, err
	}
	written := b.items
	if len(missed) > 0 {
		skip := make(map[int64]bool, len(missed))
		for _, id := range missed {
			skip[id] = true
		}
		written = make([]scored, 0, len(b.items))
		for _, it := range b.items {
			if !skip[it.lead.ID] {
				written = append(written, it)
			}
		}
	}
	// Leads changed since the snapshot are scored again as they are now,
	// before any lead is promoted: every lead row this transaction locks is
	// locked before the report rows a promotion updates, as a transaction
	// recording events locks them, so that the two cannot deadlock.
	err = tx.db.idLists(missed, func(list string, args []any) error {
		set, err := tx.scoringRows(ctx, sc, `id IN `+list+` ORDER BY id`, args...)
		if err != nil || len(set.leads) == 0 {
			return err
		}
		items, err := tx.rescoreItems(ctx, sc, set)
		if err != nil {
			return err
		}
		if _, err := tx.storeScores(ctx, items, false); err != nil {
			return err
		}
		written = append(written, items...)
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	return last, n, tx.promoteAll(ctx, written)
}

// RescoreHandler rescores the next chunk of leads after the one in the job's
// payload, and enqueues the job for the chunk after it in the same
// transaction: an interrupted rescore resumes where it stopped, and leads
// always say which version scored them.
func (db *DB) RescoreHandler() baton.JobHandler {
	return db.chunkedJob(func(ctx context.Context, tx *Tx, _ string, after int64) (int64, int, error) {
		return db.rescoreNext(ctx, tx, after)
	})
}

// chunkedJob makes the handler of a job that works through leads in id
// order, a chunk a run: chunk does the leads after the id in the payload in
// the job's transaction and returns the last id and how many it did; a full
// chunk enqueues the job of the next one in the same transaction, so that
// an interrupted run resumes where it stopped.
func (db *DB) chunkedJob(chunk func(ctx context.Context, tx *Tx, subject string, after int64) (last int64, n int, err error)) baton.JobHandler {
	return func(ctx context.Context, j *baton.Job) error {
		var p rescorePayload
		if len(j.Payload) > 0 {
			if err := json.Unmarshal(j.Payload, &p); err != nil {
				return fmt.Errorf("%s payload: %w", j.Kind, err)
			}
		}
		tx, err := db.begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		last, n, err := chunk(ctx, tx, j.Subject, p.After)
		if err != nil {
			return err
		}
		if n == rescoreChunk {
			next, _ := json.Marshal(rescorePayload{After: last})
			if err := tx.enqueueJob(ctx, &baton.Job{Kind: j.Kind, Subject: j.Subject, Payload: next}); err != nil {
				return err
			}
		}
		return tx.Commit()
	}
}

// RescoreAll rescores every lead now, a chunk per transaction, and returns
// how many it scored. Publishing does this through RescoreJob instead; the
// rescore jobs waiting when RescoreAll began are done once it is (every lead
// was then scored under their policy or a newer one), so that `baton policy
// publish --now` does not leave the servers to rescore every lead again.
func (db *DB) RescoreAll(ctx context.Context) (int, error) {
	pending, err := func() ([]int64, error) {
		tx, err := db.beginRead(ctx)
		if err != nil {
			return nil, err
		}
		defer tx.Rollback()
		rows, err := tx.QueryContext(ctx, `SELECT id FROM jobs WHERE kind = $1 AND done_at IS NULL`, RescoreJob)
		if err != nil {
			return nil, err
		}
		return scanIDs(rows)
	}()
	if err != nil {
		return 0, fmt.Errorf("rescore: %w", err)
	}
	n, err := db.rescoreEvery(ctx)
	if err != nil || len(pending) == 0 {
		return n, err
	}
	err = db.InTx(ctx, func(ctx context.Context) error {
		tx, err := db.begin(ctx)
		if err != nil {
			return err
		}
		return db.idLists(pending, func(list string, args []any) error {
			q := `SELECT id FROM jobs WHERE done_at IS NULL AND id IN ` + list
			if db.backend == Postgres {
				q += ` FOR UPDATE SKIP LOCKED` // one a server runs is left to end by itself
			}
			_, err := tx.ExecContext(ctx, `UPDATE jobs SET done_at = `+strconv.FormatInt(micros(tx.now), 10)+` WHERE id IN (`+q+`)`, args...)
			return err
		})
	})
	if err != nil {
		return n, fmt.Errorf("rescore: the jobs it did: %w", err)
	}
	return n, nil
}

// rescoreEvery rescores every lead, a chunk per transaction.
func (db *DB) rescoreEvery(ctx context.Context) (int, error) {
	var after int64
	total := 0
	for {
		var last int64
		var n int
		err := db.InTx(ctx, func(ctx context.Context) error {
			tx, err := db.begin(ctx)
			if err != nil {
				return err
			}
			last, n, err = db.rescoreNext(ctx, tx, after)
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < rescoreChunk {
			return total, nil
		}
		after = last
	}
}

// rescoreChunk rescores up to limit leads with ids above after in tx.
func (tx *Tx) rescoreChunk(ctx context.Context, after int64, limit int) (int64, int, error) {
	sc, err := tx.scorer(ctx)
	if err != nil {
		return 0, 0, err
	}
	set, err := tx.rescoreWhere(ctx, sc, `id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return 0, 0, err
	}
	if len(set.leads) == 0 {
		return after, 0, nil
	}
	return set.leads[len(set.leads)-1].ID, len(set.leads), nil
}

// rescoreWhere scores the leads that cond selects (see scoringRows) in tx,
// stores their scores and returns them.
func (tx *Tx) rescoreWhere(ctx context.Context, sc *scorer, cond string, args ...any) (*scoringSet, error) {
	set, err := tx.scoringRows(ctx, sc, cond, args...)
	if err != nil || len(set.leads) == 0 {
		return set, err
	}
	items, err := tx.rescoreItems(ctx, sc, set)
	if err != nil {
		return nil, err
	}
	return set, tx.saveScores(ctx, items)
}

// rescoreItems computes the scores of leads read with their states: fit from
// the fields, engagement replayed from the stored events when the policy's
// engagement rules differ from those that built the state.
func (tx *Tx) rescoreItems(ctx context.Context, sc *scorer, set *scoringSet) ([]scored, error) {
	leads, states := set.leads, set.states
	// A fresh state stays as it is: only the scores are written.
	same := make([]bool, len(states))
	for i, st := range states {
		same[i] = sc.active() && sc.fresh(st)
	}
	if sc.active() {
		if err := tx.rebuildStates(ctx, sc, leads, states); err != nil {
			return nil, err
		}
	}
	var accounts map[int64]*baton.Account
	if sc.model != nil || sc.policy != nil && sc.policy.FitReads().Account {
		var err error
		if accounts, err = tx.accountsOf(ctx, leads); err != nil {
			return nil, err
		}
	}
	items := make([]scored, 0, len(leads))
	for i, l := range leads {
		st := states[i]
		if !sc.active() {
			*st = scoreState{}
		}
		var acc *baton.Account
		if l.AccountID != nil {
			acc = accounts[*l.AccountID]
		}
		score, ps := sc.evaluate(l, acc, st, tx.now)
		items = append(items, scored{lead: l, score: score, ps: ps, state: st, same: same[i], rules: sc.fitRules(ps), old: set.rules[i], seq: set.seqs[i]})
	}
	return items, nil
}
