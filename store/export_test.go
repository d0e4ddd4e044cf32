package store

import (
	"context"

	"github.com/batonhq/baton"
)

// ReadAhead reads the chunk of a rescore after the lead id after, as the
// writer does for the next chunk while it writes one, and returns once it is
// read: a test changes leads between the read and the write.
func (db *DB) ReadAhead(after int64) {
	db.startReadAhead(after)
	db.WaitReadAhead()
}

// WaitReadAhead waits until the chunk being read ahead, if any, is read.
func (db *DB) WaitReadAhead() {
	db.ahead.mu.Lock()
	b := db.ahead.next
	db.ahead.mu.Unlock()
	if b != nil {
		<-b.done
	}
}

// SetRescoreChunk makes rescores take n leads a transaction until the
// returned function restores the size.
func SetRescoreChunk(n int) (restore func()) {
	old := rescoreChunk
	rescoreChunk = n
	return func() { rescoreChunk = old }
}

// SetAccountRescoreNow makes account edits rescore at most n leads in their
// own transaction (more by a job) until the returned function restores it.
func SetAccountRescoreNow(n int) (restore func()) {
	old := accountRescoreNow
	accountRescoreNow = n
	return func() { accountRescoreNow = old }
}

// StateCounts returns the behaviour counts kept in a stored scoring state.
func StateCounts(stored []byte) (map[string]int, error) {
	st, err := parseState(stored)
	if err != nil {
		return nil, err
	}
	return st.Counts, nil
}

// PendingEvents is a batch of events checked, its leads found and scored
// on a reader, as RecordEvents does before the writer's turn.
type PendingEvents struct{ b *eventBatch }

// Prescore checks a batch of events, finds their leads and scores them on
// a reader, and returns it with the number of leads it scored.
func (db *DB) Prescore(ctx context.Context, in []baton.EventInput) (*PendingEvents, int, error) {
	b := &eventBatch{in: in, invalid: make([]error, len(in)), resolved: true}
	var err error
	if b.valid, b.ids, err = db.checkAndResolve(ctx, in, b.invalid); err != nil {
		return nil, 0, err
	}
	if err := db.prescore(ctx, b); err != nil {
		return nil, 0, err
	}
	return &PendingEvents{b}, len(b.pre), nil
}

// StoreTogether stores pending batches in one turn of the writer, as the
// queue does with the batches waiting behind it.
func (db *DB) StoreTogether(ctx context.Context, batches ...*PendingEvents) error {
	a, _ := baton.ActorFrom(ctx)
	group := make([]*queuedBatch, len(batches))
	for i, p := range batches {
		group[i] = &queuedBatch{eventBatch: p.b, ctx: ctx, done: make(chan struct{})}
	}
	db.gate <- struct{}{}
	return db.recordTurn(ctx, a, group)
}
