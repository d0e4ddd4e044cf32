package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonhq/baton"
)

// Reads that may lag go to PostgreSQL streaming replicas (Options.ReadDSNs):
// the reports, the lead lists and their exports, the event and audit lists,
// the metrics' gauges and the training set. Everything else reads the
// primary: every write and what it reads (it runs in the write's
// transaction), the lead, its timeline and whatever a form shows before a
// change, and any read of a user who wrote in the last ReadPin, so that
// people see their own changes (read-your-writes, per instance: behind a
// balancer without sticky sessions, a user's next request may reach an
// instance that did not see the write, and read a replica).
//
// A checker asks each replica once a second whether it is a standby and
// how far it has replayed the primary's WAL; a replica that does not
// answer, is not in recovery, or lags more than Options.MaxLag is left
// out until a check finds it well again, and its reads go to the
// primary. Health lists the replicas with what is wrong with them, and
// Stats counts the read transactions by where they ran.

// DefaultMaxLag is how far behind the primary a replica may be and still
// be read from.
const DefaultMaxLag = 5 * time.Second

// replicaCheckEvery is how often the checker looks at the replicas.
const replicaCheckEvery = time.Second

// replica is one read-only server of Options.ReadDSNs.
type replica struct {
	name  string // host:port/database, without credentials
	pool  *sql.DB
	state atomic.Pointer[replicaState]
}

// replicaState is what the last check found.
type replicaState struct {
	usable  bool
	lag     time.Duration
	problem string
}

// lsnSample is the primary's WAL position at a moment.
type lsnSample struct {
	at  time.Time
	lsn uint64
}

// replicas are the read pools of a DB and the checker that rates them.
type replicas struct {
	db     *DB
	list   []*replica
	maxLag time.Duration
	// pin is how long a user's lagging reads go to the primary after
	// their last write: the lag bound plus two checks, so that a replica
	// judged fresh enough cannot have missed it.
	pin  time.Duration
	next atomic.Uint64 // round robin over the usable ones

	mu      sync.Mutex
	samples []lsnSample // the primary's positions, oldest first
	// wrote holds, by user id, when the user's last write committed
	// (unix nanoseconds).
	wrote sync.Map

	stop chan struct{}
	done chan struct{}
}

// openReplicas opens a read pool per URL and checks them once; a replica
// down at start is not an error (reads go to the primary until it
// answers), a URL that is not PostgreSQL is.
func (db *DB) openReplicas(ctx context.Context, dsns []string, maxLag time.Duration) error {
	if maxLag <= 0 {
		maxLag = DefaultMaxLag
	}
	rs := &replicas{db: db, maxLag: maxLag, pin: maxLag + 2*replicaCheckEvery, stop: make(chan struct{}), done: make(chan struct{})}
	for _, dsn := range dsns {
		if !IsPostgres(dsn) {
			rs.close()
			return baton.FieldError("read-db", "%q is not a postgres:// URL: replicas are PostgreSQL streaming replicas of --db", redactDSN(dsn))
		}
		pool, err := sql.Open("pgx", dsn)
		if err != nil {
			rs.close()
			return baton.FieldError("read-db", "%s: %v", redactDSN(dsn), err)
		}
		pool.SetMaxOpenConns(20)
		pool.SetMaxIdleConns(20)
		r := &replica{name: redactDSN(dsn), pool: pool}
		r.state.Store(&replicaState{problem: "not checked yet"})
		rs.list = append(rs.list, r)
	}
	db.replicas = rs
	rs.check(ctx)
	go rs.run()
	return nil
}

// run checks the replicas until close.
func (rs *replicas) run() {
	defer close(rs.done)
	t := time.NewTicker(replicaCheckEvery)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-rs.stop; cancel() }()
	for {
		select {
		case <-rs.stop:
			return
		case <-t.C:
			rs.check(ctx)
		}
	}
}

func (rs *replicas) close() {
	if rs.done != nil && rs.db.replicas == rs {
		close(rs.stop)
		<-rs.done
	}
	for _, r := range rs.list {
		r.pool.Close()
	}
}

// check samples the primary's WAL position, then asks each replica how far
// it has replayed: its lag is the age of the newest sample it has reached.
func (rs *replicas) check(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var cur string
	now := time.Now()
	if err := rs.db.write.QueryRowContext(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&cur); err == nil {
		if lsn, ok := parseLSN(cur); ok {
			rs.mu.Lock()
			rs.samples = append(rs.samples, lsnSample{at: now, lsn: lsn})
			// What is older than twice the bound no longer decides.
			for len(rs.samples) > 1 && now.Sub(rs.samples[1].at) > 2*rs.maxLag {
				rs.samples = rs.samples[1:]
			}
			rs.mu.Unlock()
		}
	}
	for _, r := range rs.list {
		var standby bool
		var replayed sql.NullString
		err := r.pool.QueryRowContext(ctx, `SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text`).Scan(&standby, &replayed)
		s := &replicaState{}
		switch {
		case err != nil:
			s.problem = "does not answer: " + rs.db.problemOf(err)
		case !standby:
			s.problem = "is not a standby (pg_is_in_recovery() is false): promoted, or not a replica of --db"
		default:
			lsn, _ := parseLSN(replayed.String)
			lag, known := rs.lag(lsn, time.Now())
			s.lag = lag
			switch {
			case !known:
				s.problem = "its lag is not known yet (the primary's WAL position could not be read)"
			case lag > rs.maxLag:
				s.problem = fmt.Sprintf("lags %s behind the primary (bound %s)", lag.Round(time.Millisecond), rs.maxLag)
			default:
				s.usable = true
			}
		}
		if old := r.state.Swap(s); old.usable != s.usable {
			if s.usable {
				rs.db.logger.Info("the reads that may lag go to the replica", slog.String("replica", r.name))
			} else {
				rs.db.logger.Warn("not reading from the replica: its reads go to the primary", slog.String("replica", r.name), slog.String("problem", s.problem))
			}
		}
	}
}

// lag is how far behind a replica that replayed the WAL up to lsn is: the
// age of the newest sample of the primary it has reached, or of the
// oldest sample when it has reached none. known is false without samples.
func (rs *replicas) lag(lsn uint64, now time.Time) (lag time.Duration, known bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if len(rs.samples) == 0 {
		return 0, false
	}
	for i := len(rs.samples) - 1; i >= 0; i-- {
		if rs.samples[i].lsn <= lsn {
			if i == len(rs.samples)-1 {
				return 0, true
			}
			return now.Sub(rs.samples[i].at), true
		}
	}
	return now.Sub(rs.samples[0].at), true
}

// pick returns a usable replica for a read of actor a, or nil when the
// read goes to the primary: no replica is usable, or a wrote within the
// pin.
func (rs *replicas) pick(a baton.Actor) *replica {
	if a.UserID != 0 {
		if at, ok := rs.wrote.Load(a.UserID); ok && time.Since(time.Unix(0, at.(int64))) < rs.pin {
			return nil
		}
	}
	n := uint64(len(rs.list))
	start := rs.next.Add(1)
	for i := range n {
		r := rs.list[(start+i)%n]
		if r.state.Load().usable {
			return r
		}
	}
	return nil
}

// committed pins the actor's next lagging reads to the primary.
func (rs *replicas) committed(a baton.Actor) {
	if a.UserID != 0 {
		rs.wrote.Store(a.UserID, time.Now().UnixNano())
	}
}

// failed takes a replica out at once when a read could not begin on it;
// the next check puts it back if it answers.
func (rs *replicas) failed(r *replica, err error) {
	s := &replicaState{problem: "does not answer: " + rs.db.problemOf(err)}
	if old := r.state.Swap(s); old.usable {
		rs.db.logger.Warn("not reading from the replica: its reads go to the primary", slog.String("replica", r.name), slog.String("problem", s.problem))
	}
}

// health is the replicas' part of Health.
func (rs *replicas) health() []baton.ReplicaHealth {
	out := make([]baton.ReplicaHealth, 0, len(rs.list))
	for _, r := range rs.list {
		s := r.state.Load()
		out = append(out, baton.ReplicaHealth{Name: r.name, Used: s.usable, LagSeconds: s.lag.Seconds(), Problem: s.problem})
	}
	return out
}

// beginLagged starts a read-only transaction for a read that may lag (see
// the top of this file): on a replica when one is usable, else on the
// primary as beginRead does.
func (db *DB) beginLagged(ctx context.Context) (*Tx, error) {
	rs := db.replicas
	if rs == nil {
		return db.beginRead(ctx)
	}
	a, ok := baton.ActorFrom(ctx)
	if !ok {
		return nil, baton.Errorf(baton.EUNAUTHORIZED, "no actor: sign in first")
	}
	if tx := db.joined(ctx, a); tx != nil {
		return tx, nil
	}
	if r := rs.pick(a); r != nil {
		tx, err := r.pool.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err == nil {
			db.reads.replica.Add(1)
			return &Tx{Tx: tx, db: db, now: db.Now().UTC(), actor: a, ctx: ctx, pending: &pending{}, readOnly: true}, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("begin: %w", err)
		}
		rs.failed(r, err)
	}
	return db.beginRead(ctx)
}

// readCounts are the read transactions begun, by where they ran.
type readCounts struct {
	primary, replica atomic.Int64
}

// problemOf says in words why a query failed.
func (db *DB) problemOf(err error) string {
	if p, _ := db.explain(err); p != "" {
		return p
	}
	return err.Error()
}

// parseLSN reads a PostgreSQL WAL position, "16/B374D848".
func parseLSN(s string) (uint64, bool) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok {
		return 0, false
	}
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return h<<32 | l, true
}

// redactDSN names a PostgreSQL server for messages: host, port and
// database, without the user and password.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		return "a PostgreSQL URL"
	}
	return u.Host + u.Path
}
