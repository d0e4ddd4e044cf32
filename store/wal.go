package store

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// walKeeper keeps SQLite's write-ahead log small. A commit only appends to
// the WAL (the writer's automatic checkpoints are off); the WAL is copied
// back into the database file in two ways:
//
//   - every second, a passive checkpoint on a reader connection, by a
//     goroutine of the keeper's: it waits for nobody, so it costs no request
//     anything, and it keeps most of the WAL copied;
//   - once a commit has left the WAL past the limit, the next writer, in its
//     turn (DB.gate) and before its transaction, runs a TRUNCATE checkpoint
//     on the writer's one connection: it copies what the passive ones have
//     not, readers on older snapshots get a second to finish, and the WAL
//     starts over from nothing.
//
// The second is needed under sustained writes: a passive checkpoint then
// never catches up with the frames appended meanwhile, so the WAL can never
// start over and grows without end (9 GB beside a 245 MB database after
// 2,000,000 events, and 12 s to open afterwards). It runs in a writer's
// turn, not in a goroutine of its own, because a goroutine would wait for
// the writer's connection among every request that wants it and be handed
// it at random, while the WAL grows by a batch at every turn it loses.
type walKeeper struct {
	db    *DB
	path  string
	limit int64 // <= 0: no truncation
	quit  chan struct{}
	done  chan struct{}
	ctx   context.Context

	// over is set by a commit that left the WAL past the limit: the next
	// write truncates it first.
	over atomic.Bool
	// size is the WAL's size when last looked at.
	size atomic.Int64

	// mu is held by the writer that truncates; it guards the fields below.
	mu       sync.Mutex
	retryAt  time.Time     // no truncation before this, after one was blocked
	backoff  time.Duration // the wait after a truncation blocked by a reader
	warnedAt time.Time     // warnings are logged at most once a minute
}

// walBusyWait is how long a truncation waits for readers on older snapshots
// before it gives up and leaves it to a later write; writes wait as long.
const walBusyWait = time.Second

func newWALKeeper(db *DB) *walKeeper {
	ctx, cancel := context.WithCancel(context.Background())
	k := &walKeeper{db: db, path: db.dsn + "-wal", limit: db.opts.WALLimit, ctx: ctx,
		quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(k.done)
		defer cancel()
		k.run()
	}()
	return k
}

func (k *walKeeper) stop() {
	close(k.quit)
	<-k.done
}

// committed is told of every commit of the writer: a look at the WAL's
// size (one stat) decides whether the next write truncates it.
func (k *walKeeper) committed() {
	if k.limit > 0 && k.stat() > k.limit {
		k.over.Store(true)
	}
}

// beforeWrite truncates the WAL when a commit left it past the limit. It
// runs in a writer's turn (DB.gate), before its transaction begins, so the
// WAL passes the limit by at most one transaction.
func (k *walKeeper) beforeWrite(ctx context.Context) {
	if !k.over.Load() {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.over.Store(false)
	if time.Now().Before(k.retryAt) {
		return
	}
	size := k.stat()
	if size <= k.limit {
		return
	}
	conn, err := k.db.write.Conn(ctx)
	if err != nil {
		return // the write itself will meet the error
	}
	defer conn.Close()
	start := time.Now()
	conn.ExecContext(ctx, `PRAGMA busy_timeout = `+strconv.FormatInt(walBusyWait.Milliseconds(), 10))
	var busy, frames, copied int
	err = conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &copied)
	conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA busy_timeout = 10000`)
	switch {
	case err != nil:
		if ctx.Err() != nil {
			return
		}
		k.later()
		k.warn("WAL truncation failed", slog.Int64("wal_bytes", size), slog.Any("err", err))
		k.db.Outage(err)
	case busy != 0 && frames < 0:
		// Another connection's checkpoint (another process's passive one)
		// holds the checkpoint lock, which nobody waits for: the next
		// write tries again.
		k.over.Store(true)
	case busy != 0:
		// A reader kept a snapshot older than the last commit for over a
		// second: a backup, an export or a long report. Try again later,
		// waiting longer each time, so that writes are not held up at
		// every commit while it reads.
		k.later()
		k.warn("WAL truncation waited for a long reader and will try again", slog.Int64("wal_bytes", size),
			slog.Int("frames", frames), slog.Int("copied", copied), slog.Duration("retry_in", k.backoff))
	default:
		k.backoff, k.retryAt = 0, time.Time{}
		k.size.Store(0)
		k.db.logger.Debug("WAL truncated", slog.Int64("wal_bytes", size), slog.Duration("took", time.Since(start)))
	}
}

func (k *walKeeper) later() {
	k.backoff = min(max(2*k.backoff, time.Second), 30*time.Second)
	k.retryAt = time.Now().Add(k.backoff)
}

// run is the keeper's goroutine: a passive checkpoint every second.
func (k *walKeeper) run() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-k.quit:
			return
		case <-t.C:
		}
		// A truncation under way does the work: skip this second. A writer
		// that wants to truncate while this runs finds the checkpoint
		// lock taken and leaves it to the next write.
		if !k.mu.TryLock() {
			continue
		}
		k.passive()
		k.mu.Unlock()
	}
}

// passive runs a passive checkpoint on a reader connection; k.mu is held.
func (k *walKeeper) passive() {
	size := k.stat()
	if size == 0 {
		return
	}
	var busy, frames, copied int
	if err := k.db.read.QueryRowContext(k.ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied); err != nil {
		if k.ctx.Err() == nil {
			k.warn("WAL checkpoint failed", slog.Int64("wal_bytes", size), slog.Any("err", err))
			k.db.Outage(err)
		}
		return
	}
	if k.limit > 0 && size > 4*k.limit {
		k.warn("the WAL is falling behind: it is past four times its limit while readers keep old snapshots",
			slog.Int64("wal_bytes", size), slog.Int64("limit", k.limit), slog.Int("frames", frames), slog.Int("copied", copied))
	}
}

// stat returns the WAL's size in bytes (0 when there is none).
func (k *walKeeper) stat() int64 {
	fi, err := os.Stat(k.path)
	if err != nil {
		k.size.Store(0)
		return 0
	}
	k.size.Store(fi.Size())
	return fi.Size()
}

// warn logs at most once a minute; k.mu is held.
func (k *walKeeper) warn(msg string, attrs ...any) {
	if time.Since(k.warnedAt) < time.Minute {
		return
	}
	k.warnedAt = time.Now()
	k.db.logger.Warn(msg, attrs...)
}
