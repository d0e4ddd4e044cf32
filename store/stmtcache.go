package store

import (
	"context"
	"database/sql"
	"hash/maphash"
	"sync"
)

// stmtCache keeps the prepared statements of the queries a pool runs again
// and again. The SQLite driver parses every query it is given afresh:
// without the cache, parsing was a third of the CPU of a lifecycle move
// (measured with the pure-Go driver Baton used before).
// PostgreSQL's driver keeps its own statement cache, so only SQLite pools
// have one.
//
// A query seen in two transactions is prepared before the next transaction
// begins, while this goroutine holds no connection: preparing on the pool
// from inside a transaction would wait for a connection that the
// transaction itself holds (the SQLite writer has one). A query seen once
// is only remembered (by a hash): one-off queries (an IN list or a
// multi-row INSERT of a length seen once) are common on an import, a few
// a batch, and each kept prepared, a program of hundreds of rows, held
// memory to no use (an import of a million leads grew by tens of
// megabytes of them). At most maxStmts are kept, and past that queries
// are parsed each time as before.
//
// A parameter compared with the condition of a partial index (handoffs_open
// is WHERE state = 'open') makes SQLite expire the prepared statement at
// every new binding, to plan again whether the index applies: such values
// are written into the query (state = 'open'), not bound.
type stmtCache struct {
	pool *sql.DB
	mu   sync.Mutex
	// queued holds the queries to prepare (true) and those being
	// prepared (false).
	queued map[string]bool
	stmts  map[string]*sql.Stmt
	// once holds the hashes of the queries seen once, at most maxOnce
	// (then it starts again).
	once   map[uint64]struct{}
	closed bool
}

const (
	maxStmts = 512
	maxOnce  = 4096
)

func newStmtCache(pool *sql.DB) *stmtCache {
	return &stmtCache{pool: pool, queued: map[string]bool{}, stmts: map[string]*sql.Stmt{}, once: map[uint64]struct{}{}}
}

// seed makes the hashes of once: the process's own, so that no query can
// be made to collide with another everywhere.
var seed = maphash.MakeSeed()

// get returns the pool's prepared statement for q, or nil when it has none
// yet (q is then queued to be prepared).
func (c *stmtCache) get(q string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.stmts[q]; ok {
		return s
	}
	if _, ok := c.queued[q]; !ok && len(c.stmts)+len(c.queued) < maxStmts {
		h := maphash.String(seed, q)
		if _, seen := c.once[h]; !seen {
			if len(c.once) == maxOnce {
				clear(c.once)
			}
			c.once[h] = struct{}{}
			return nil
		}
		delete(c.once, h)
		c.queued[q] = true
	}
	return nil
}

// prepare prepares the queued queries on the pool. The caller must hold no
// connection of the pool. The lock is not held while preparing: preparing
// waits for a connection of the pool, and the transactions holding them
// all may be waiting in get for the lock (four readers doing so left
// `baton serve` hung for good, measured here under 50 readers).
func (c *stmtCache) prepare(ctx context.Context) {
	if c == nil {
		return
	}
	c.mu.Lock()
	var todo []string
	for q, waiting := range c.queued {
		if waiting {
			c.queued[q] = false // being prepared: get does not queue it again
			todo = append(todo, q)
		}
	}
	c.mu.Unlock()
	for _, q := range todo {
		s, err := c.pool.PrepareContext(ctx, q)
		c.mu.Lock()
		delete(c.queued, q)
		switch {
		case err != nil: // the query reports its error where it runs
		case c.closed:
			s.Close()
		default:
			c.stmts[q] = s
		}
		c.mu.Unlock()
	}
}

func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.stmts {
		s.Close()
	}
	clear(c.stmts)
	clear(c.queued)
	clear(c.once)
	c.closed = true
}

// stmt returns the transaction's use of the cached statement for q, or nil.
func (tx *Tx) stmt(ctx context.Context, q string) *sql.Stmt {
	s := tx.stmts.get(q)
	if s == nil {
		return nil
	}
	return tx.Tx.StmtContext(ctx, s)
}

// QueryContext runs a query in the transaction, through a prepared statement
// when the query is a common one.
func (tx *Tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if s := tx.stmt(ctx, q); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return tx.Tx.QueryContext(ctx, q, args...)
}

// QueryRowContext is QueryContext for one row.
func (tx *Tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if s := tx.stmt(ctx, q); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return tx.Tx.QueryRowContext(ctx, q, args...)
}

// ExecContext runs a statement in the transaction, prepared when common.
func (tx *Tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if s := tx.stmt(ctx, q); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return tx.Tx.ExecContext(ctx, q, args...)
}

// PrepareContext prepares a statement for the transaction: the cached one
// when the query is a common one (closing it leaves the cache's alone).
func (tx *Tx) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	if s := tx.stmt(ctx, q); s != nil {
		return s, nil
	}
	return tx.Tx.PrepareContext(ctx, q)
}
