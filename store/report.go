package store

import (
	"context"

	"github.com/batonhq/baton"
)

// afterHistory keeps the reports' aggregates up to date with each audited
// change, in the change's transaction.
func (tx *Tx) afterHistory(ctx context.Context, h baton.HistoryEntry) error {
	return nil
}
