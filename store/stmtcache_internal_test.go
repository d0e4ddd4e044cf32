package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"runtime"
	"testing"
)

// TestStmtCachePrepareWaitsUnlocked: while prepare waits for a connection
// of a pool whose every connection a transaction holds, that transaction
// can still ask the cache for a statement, finish and so free the
// connection. Holding the cache's lock while preparing hung `baton serve`
// for good once four readers and a preparer met so.
func TestStmtCachePrepareWaitsUnlocked(t *testing.T) {
	ctx := context.Background()
	pool, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	pool.SetMaxOpenConns(1)
	c := newStmtCache(pool)
	defer c.close()
	c.get("SELECT 1")
	c.get("SELECT 1") // seen twice: queued
	tx, err := pool.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	prepared := make(chan struct{})
	go func() {
		c.prepare(ctx) // waits for the connection tx holds
		close(prepared)
	}()
	// The readiness signal: the pool counts the preparer as waiting.
	for pool.Stats().WaitCount == 0 {
		runtime.Gosched()
	}
	for range 2 {
		if s := c.get("SELECT 2"); s != nil {
			t.Fatal("SELECT 2 was never prepared, yet the cache has it")
		}
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	<-prepared
	if c.get("SELECT 1") == nil {
		t.Error("SELECT 1 was not prepared once the connection was free")
	}
	c.prepare(ctx)
	if c.get("SELECT 2") == nil {
		t.Error("SELECT 2, asked for while SELECT 1 was being prepared, was not prepared after")
	}
}

// TestStmtCacheSkipsOneOffs: a query asked for once is not prepared (an
// import's INSERT of a batch's literals is never run again); asked for a
// second time, it is.
func TestStmtCacheSkipsOneOffs(t *testing.T) {
	ctx := context.Background()
	pool, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	c := newStmtCache(pool)
	defer c.close()
	c.get("SELECT 1")
	c.prepare(ctx)
	if c.get("SELECT 1") != nil {
		t.Fatal("SELECT 1, asked for once, was prepared")
	}
	c.prepare(ctx)
	if c.get("SELECT 1") == nil {
		t.Fatal("SELECT 1, asked for twice, was not prepared")
	}
	if len(c.once) != 0 {
		t.Errorf("%d queries remembered as seen once, want 0", len(c.once))
	}
}
