package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/batonhq/baton"
)

//go:embed migrations
var migrationFS embed.FS

// Backend names which database a DB runs on.
type Backend string

// The backends.
const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

// DB is Baton's storage on SQLite or PostgreSQL. The same SQL serves both
// (placeholders $1.., ON CONFLICT, RETURNING, window functions); where the two
// differ, DB.backend decides.
type DB struct {
	backend Backend
	dsn     string
	opts    Options
	logger  *slog.Logger
	// write serialises writers on SQLite (one connection, BEGIN IMMEDIATE);
	// on PostgreSQL it is the same pool as read.
	write *sql.DB
	read  *sql.DB
	// gate is the turn to write on SQLite, held from begin to commit or
	// rollback: writers wait for it in the order they came (database/sql
	// hands a freed connection to any of its waiters), and the WAL keeper
	// truncates between two turns. nil on PostgreSQL.
	gate chan struct{}
	// writeStmts and readStmts keep the common statements prepared on
	// SQLite (stmtcache.go); nil on PostgreSQL.
	writeStmts, readStmts *stmtCache

	// scorers caches the parsed policies and models by version.
	scorers scorers
	// ahead is the rescore's next chunk, read ahead.
	ahead readAhead
	// queued are event batches waiting for SQLite's writer (event.go).
	queued eventQueue

	// wal keeps SQLite's write-ahead log small (wal.go); nil on PostgreSQL.
	wal *walKeeper
	// lock is the SQLite file's lock file, held while the database is open,
	// so that a restore can tell the database is in use (backup.go).
	lock io.Closer
	// outage is set while writes fail because of the storage (health.go).
	outage atomic.Pointer[outage]
	// counts are what this DB counted for the metrics (stats.go).
	counts counters
	// replicas take the reads that may lag, on PostgreSQL (replica.go);
	// nil without Options.ReadDSNs. reads counts the read transactions by
	// where they ran.
	replicas *replicas
	reads    readCounts

	// Now is the clock. Tests replace it to move time; storage never calls
	// time.Now itself.
	Now func() time.Time
	// TokenLifetime is how long an API token made from now on works:
	// baton.DefaultTokenLifetime when 0, for ever when negative.
	TokenLifetime time.Duration
	// SessionIdle is how long a web session may go without a page before
	// it ends (DefaultSessionIdle when 0).
	SessionIdle time.Duration
	// SecretKey seals webhook secrets at rest (AES-256-GCM, 32 bytes; see
	// secret.go); nil stores them as they are.
	SecretKey []byte
}

// Options tune a database as it is opened; the zero value is the default.
type Options struct {
	// Sync is how SQLite makes a commit durable: SyncNormal (the default)
	// or SyncFull (README, "Durability"). PostgreSQL's is the server's own.
	Sync string
	// WALLimit bounds SQLite's write-ahead log: once it has grown past this
	// many bytes the writer copies it into the database file and truncates
	// it. Zero means DefaultWALLimit; a negative value turns the bound off,
	// leaving only the background passive checkpoints.
	WALLimit int64
	// Logger receives what storage does on its own: checkpoints that fall
	// behind, writes refused by a full or read-only disk. Default
	// slog.Default().
	Logger *slog.Logger
	// NoMmap has SQLite read the database file into its page cache rather
	// than map it: for a one-shot command that writes much and reads
	// little (`baton import`), whose resident memory then does not grow
	// with every page of a large database it touched.
	NoMmap bool
	// ReadDSNs are PostgreSQL streaming replicas of the database (hot
	// standbys), for the reads that may lag (replica.go); PostgreSQL only.
	ReadDSNs []string
	// MaxLag is how far behind the primary a replica may be and still be
	// read from: DefaultMaxLag when 0.
	MaxLag time.Duration
}

// SQLite's durability settings (PRAGMA synchronous).
const (
	// SyncNormal: a commit survives the process being killed; a power
	// loss or an operating system crash may lose the commits of about the
	// last second, since the WAL is flushed to disk at each checkpoint.
	SyncNormal = "normal"
	// SyncFull: every commit is flushed to disk before it is acknowledged,
	// so it survives a power loss too.
	SyncFull = "full"
)

// DefaultWALLimit is the size past which the writer truncates SQLite's WAL.
const DefaultWALLimit = 64 << 20

// IsPostgres reports whether dsn names a PostgreSQL database rather than an
// SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open opens the database named by dsn with the default options: a
// postgres:// URL, or else the path of an SQLite file (created if missing).
// It does not migrate; call Migrate.
func Open(ctx context.Context, dsn string) (*DB, error) {
	return OpenWith(ctx, dsn, Options{})
}

// OpenWith opens the database named by dsn with options.
func OpenWith(ctx context.Context, dsn string, o Options) (*DB, error) {
	switch o.Sync {
	case "":
		o.Sync = SyncNormal
	case SyncNormal, SyncFull:
	default:
		return nil, baton.FieldError("sqlite-sync", "%q: want %s or %s", o.Sync, SyncNormal, SyncFull)
	}
	if o.WALLimit == 0 {
		o.WALLimit = DefaultWALLimit
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	db := &DB{dsn: dsn, opts: o, logger: o.Logger, Now: time.Now}
	var err error
	if IsPostgres(dsn) {
		db.backend = Postgres
		if db.write, err = sql.Open("pgx", dsn); err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		db.write.SetMaxOpenConns(20)
		db.write.SetMaxIdleConns(20)
		db.read = db.write
	} else {
		db.backend = SQLite
		if err := sqliteFileProblem(dsn); err != nil {
			return nil, err
		}
		if db.lock, err = lockFile(dsn); err != nil {
			return nil, err
		}
		// busy_timeout comes first so that the pragmas after it wait for locks.
		// mmap_size: pages of the database file are read through a memory
		// map rather than copied into each connection's page cache.
		pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(" + strings.ToUpper(o.Sync) + ")&_pragma=foreign_keys(ON)&_pragma=cache_size(-65536)&_pragma=temp_store(MEMORY)&_pragma=journal_size_limit(67108864)&_pragma=mmap_size(4294967296)"
		if o.NoMmap {
			pragmas = strings.Replace(pragmas, "mmap_size(4294967296)", "mmap_size(0)", 1)
		}
		file := "file:" + (&url.URL{Path: dsn}).EscapedPath()
		// Writers take the lock at BEGIN: a deferred transaction that reads and
		// then writes fails with SQLITE_BUSY under contention, whatever the timeout.
		// The writer never checkpoints at a commit: the WAL keeper does
		// (wal.go), so that a commit only appends to the WAL.
		if db.write, err = sql.Open("sqlite", file+"?_txlock=immediate&"+pragmas+"&_pragma=wal_autocheckpoint(0)"); err != nil {
			db.lock.Close()
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		db.write.SetMaxOpenConns(1)
		db.write.SetMaxIdleConns(1)
		db.write.SetConnMaxLifetime(0)
		// A reader's page cache is emptied whenever the writer has committed
		// since its last transaction: under writes a large one only costs
		// allocating and freeing pages (a rescore spent a fifth of its
		// reading there), so readers keep 2 MB.
		if db.read, err = sql.Open("sqlite", file+"?"+strings.Replace(pragmas, "cache_size(-65536)", "cache_size(-2048)", 1)); err != nil {
			db.write.Close()
			db.lock.Close()
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		db.read.SetMaxOpenConns(4)
		db.read.SetMaxIdleConns(4)
	}
	if err := db.write.PingContext(ctx); err != nil {
		db.Close()
		if db.backend == SQLite {
			return nil, sqliteOpenError(dsn, err)
		}
		return nil, fmt.Errorf("open %s database: %w", db.backend, err)
	}
	if db.backend == SQLite {
		db.gate = make(chan struct{}, 1)
		db.wal = newWALKeeper(db)
		db.writeStmts, db.readStmts = newStmtCache(db.write), newStmtCache(db.read)
	}
	if len(o.ReadDSNs) > 0 {
		if db.backend != Postgres {
			db.Close()
			return nil, baton.FieldError("read-db", "replicas need a PostgreSQL --db: SQLite has no streaming replicas")
		}
		if err := db.openReplicas(ctx, o.ReadDSNs, o.MaxLag); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

// Backend returns which database this is.
func (db *DB) Backend() Backend { return db.backend }

// Close closes the database.
func (db *DB) Close() error {
	db.ahead.wg.Wait()
	if db.wal != nil {
		db.wal.stop()
		db.wal = nil
	}
	if db.replicas != nil {
		db.replicas.close()
		db.replicas = nil
	}
	db.writeStmts.close()
	db.readStmts.close()
	err := db.write.Close()
	if db.read != db.write {
		if err2 := db.read.Close(); err == nil {
			err = err2
		}
	}
	// The lock file goes last: while it is held, no restore replaces the
	// file under the connections.
	if db.lock != nil {
		db.lock.Close()
		db.lock = nil
	}
	return err
}

// SQL returns the underlying write pool, for benchmarks and tests that need
// raw access.
func (db *DB) SQL() *sql.DB { return db.write }

// migrations returns the embedded migration files of the backend, in order.
func (db *DB) migrations() ([]string, error) {
	dir := path.Join("migrations", string(db.backend))
	names, err := fs.Glob(migrationFS, dir+"/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	return names, nil
}

// SchemaVersion returns the version of the newest migration applied (0 for an
// empty database) and the newest this binary knows. A database that holds
// tables but none of Baton's is refused.
func (db *DB) SchemaVersion(ctx context.Context) (have, known int, err error) {
	names, err := db.migrations()
	if err != nil {
		return 0, 0, err
	}
	if known, err = migrationVersion(names[len(names)-1]); err != nil {
		return 0, 0, err
	}
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("schema version: %w", err)
	}
	defer conn.Close()
	have, err = db.appliedVersion(ctx, conn)
	return have, known, err
}

// appliedVersion returns the newest migration applied, or 0 for an empty
// database. A database that holds tables but no schema_migrations is not
// Baton's: it is refused (EINVALID) rather than migrated into what would
// look like an empty Baton database.
func (db *DB) appliedVersion(ctx context.Context, conn *sql.Conn) (int, error) {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
	if db.backend == Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`
	}
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	var tables []string
	ours := false
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return 0, fmt.Errorf("schema version: %w", err)
		}
		tables = append(tables, name)
		ours = ours || name == "schema_migrations"
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	if len(tables) == 0 {
		return 0, nil
	}
	if !ours {
		shown := tables[:min(len(tables), 5)]
		more := ""
		if len(tables) > len(shown) {
			more = fmt.Sprintf(" and %d more", len(tables)-len(shown))
		}
		return 0, &baton.Error{Code: baton.EINVALID, Message: fmt.Sprintf("%s is not a Baton database: it holds the tables %s%s and no schema_migrations; point --db at a Baton database or at a new, empty one",
			db.name(), strings.Join(shown, ", "), more)}
	}
	var v sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return int(v.Int64), nil
}

// name names the database for messages: the SQLite file, or the PostgreSQL
// host and database, without credentials.
func (db *DB) name() string {
	if db.backend == SQLite {
		return db.dsn
	}
	if u, err := url.Parse(db.dsn); err == nil {
		return "the PostgreSQL database " + strings.TrimPrefix(u.Path, "/") + " on " + u.Host
	}
	return "the PostgreSQL database"
}

// migrationVersion reads the version from a migration's file name, "0004_x.sql".
func migrationVersion(name string) (int, error) {
	base := path.Base(name)
	n, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("migration %s: the name must start with its version number", base)
	}
	return n, nil
}

// ErrSchemaTooNew is returned by Migrate and CheckSchema when the database was
// migrated by a newer Baton than this one.
var ErrSchemaTooNew = errors.New("the database schema is newer than this Baton knows: upgrade Baton")

// Migrate applies the migrations the database has not had yet, each in its own
// transaction. On PostgreSQL an advisory lock keeps two instances starting
// together from racing.
func (db *DB) Migrate(ctx context.Context) error {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if db.backend == Postgres {
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7261011)`); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(7261011)`)
	}
	current, err := db.appliedVersion(ctx, conn)
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	have := sql.NullInt64{Int64: int64(current), Valid: true}
	names, err := db.migrations()
	if err != nil {
		return err
	}
	known, err := migrationVersion(names[len(names)-1])
	if err != nil {
		return err
	}
	if int(have.Int64) > known {
		return fmt.Errorf("migrate: database at version %d, this Baton knows %d: %w", have.Int64, known, ErrSchemaTooNew)
	}
	for _, name := range names {
		version, err := migrationVersion(name)
		if err != nil {
			return err
		}
		if version <= int(have.Int64) {
			continue
		}
		body, err := fs.ReadFile(migrationFS, name)
		if err != nil {
			return err
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			version, path.Base(name), micros(db.Now())); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: %w", name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
	}
	return nil
}

// CheckSchema returns an error unless the database is exactly at the version
// this binary knows: older needs `baton migrate`, newer needs a newer Baton.
func (db *DB) CheckSchema(ctx context.Context) error {
	have, known, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if have > known {
		return fmt.Errorf("database at schema version %d, this Baton knows %d: %w", have, known, ErrSchemaTooNew)
	} else if have < known {
		return fmt.Errorf("database at schema version %d, this Baton needs %d: run `baton migrate`", have, known)
	}
	return nil
}

// Tx is one transaction with its time fixed at its start and the actor who
// makes its changes.
type Tx struct {
	*sql.Tx
	db    *DB
	now   time.Time
	actor baton.Actor
	// nested is set when the transaction was joined, not begun, here.
	nested bool
	// turn is held while the transaction writes on SQLite (DB.gate).
	turn bool
	// readOnly is set for a transaction begun by beginRead.
	readOnly bool
	// stmts is the pool's statement cache (nil: none).
	stmts *stmtCache
	// batch is set on a transaction begun by Batch: the calls that join it
	// each read the clock.
	batch bool
	// ctx is the context the transaction was begun with; pending holds what
	// is written once, just before the commit, whatever joined it.
	ctx     context.Context
	pending *pending
	// hooks are the active webhooks, read by the first event emitted and
	// shared with the transactions that join this one.
	hooks *hookCache
	// slackSubs are the active Slack channels, read and shared alike.
	slackSubs *slackCache
	// conn is the connection of a PostgreSQL write transaction, held for
	// its length so that COPY (copyRows) can run in it.
	conn *sql.Conn
}

// pending is work a transaction does once at its commit: the reports'
// counters add up over every change of the transaction and are written
// then, instead of one upsert of the same rows per change (which on
// PostgreSQL leaves a chain of row versions that each later update walks).
type pending struct {
	delta *aggDelta
	// tally is what the transaction counted for the metrics, added to
	// DB.counts once it has committed.
	tally *tally
}

// txKey carries an open transaction in a context (see JobHandler): storage
// calls made with that context join it instead of starting their own.
type txKey struct{}

// joined returns the transaction carried by ctx, if it belongs to db.
func (db *DB) joined(ctx context.Context, a baton.Actor) *Tx {
	if outer, ok := ctx.Value(txKey{}).(*Tx); ok && outer.db == db {
		now := outer.now
		if outer.batch {
			now = db.Now().UTC()
		}
		return &Tx{Tx: outer.Tx, db: db, now: now, batch: outer.batch, actor: a, nested: true, readOnly: outer.readOnly, stmts: outer.stmts, ctx: outer.ctx, pending: outer.pending, hooks: outer.hooks, slackSubs: outer.slackSubs, conn: outer.conn}
	}
	return nil
}

// begin starts a write transaction for the actor carried by ctx. Without an
// actor it fails with EUNAUTHORIZED.
func (db *DB) begin(ctx context.Context) (*Tx, error) {
	a, ok := baton.ActorFrom(ctx)
	if !ok {
		return nil, baton.Errorf(baton.EUNAUTHORIZED, "no actor: sign in first")
	}
	if tx := db.joined(ctx, a); tx != nil {
		return tx, nil
	}
	if db.gate != nil {
		select {
		case db.gate <- struct{}{}:
		case <-ctx.Done():
			return nil, fmt.Errorf("begin: %w", ctx.Err())
		}
	}
	return db.beginTurn(ctx, a)
}

// beginTurn is begin for the actor a once the caller holds the SQLite
// writer's turn (DB.gate), which the transaction then gives back.
func (db *DB) beginTurn(ctx context.Context, a baton.Actor) (*Tx, error) {
	turn := db.gate != nil
	if turn {
		db.wal.beforeWrite(ctx)
		db.writeStmts.prepare(ctx)
	}
	var conn *sql.Conn
	var tx *sql.Tx
	var err error
	if db.backend == Postgres {
		if conn, err = db.write.Conn(ctx); err == nil {
			if tx, err = conn.BeginTx(ctx, nil); err != nil {
				conn.Close()
			}
		}
	} else {
		tx, err = db.write.BeginTx(ctx, nil)
	}
	if err != nil {
		if turn {
			<-db.gate
		}
		return nil, fmt.Errorf("begin: %w", err)
	}
	return &Tx{Tx: tx, db: db, now: db.Now().UTC(), actor: a, ctx: ctx, pending: &pending{}, turn: turn, stmts: db.writeStmts, hooks: &hookCache{}, slackSubs: &slackCache{}, conn: conn}, nil
}

// beginRead starts a read-only transaction: on SQLite it reads a consistent
// snapshot from the read pool without blocking the writer.
func (db *DB) beginRead(ctx context.Context) (*Tx, error) {
	a, ok := baton.ActorFrom(ctx)
	if !ok {
		return nil, baton.Errorf(baton.EUNAUTHORIZED, "no actor: sign in first")
	}
	if tx := db.joined(ctx, a); tx != nil {
		return tx, nil
	}
	db.readStmts.prepare(ctx)
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: db.backend == Postgres})
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	db.reads.primary.Add(1)
	return &Tx{Tx: tx, db: db, now: db.Now().UTC(), actor: a, ctx: ctx, pending: &pending{}, readOnly: true, stmts: db.readStmts}, nil
}

// Commit commits the transaction; a joined transaction is committed by its
// owner, so here it does nothing.
func (tx *Tx) Commit() error {
	if tx.nested {
		return nil
	}
	if p := tx.pending; p != nil && p.delta != nil && !p.delta.empty() {
		if err := tx.flushDelta(tx.ctx, p.delta); err != nil {
			return err
		}
		p.delta = nil
	}
	err := tx.Tx.Commit()
	if p := tx.pending; err == nil && p != nil && p.tally != nil {
		tx.db.counts.add(p.tally)
		p.tally = nil
	}
	// Told before the next writer's turn, so that it truncates the WAL if
	// this commit left it past the limit.
	if !tx.readOnly {
		tx.db.wrote(err)
		if rs := tx.db.replicas; rs != nil && err == nil {
			rs.committed(tx.actor)
		}
	}
	tx.endTurn()
	return err
}

// endTurn lets the next writer in, and gives the connection of a
// PostgreSQL write transaction back to the pool.
func (tx *Tx) endTurn() {
	if tx.turn {
		tx.turn = false
		<-tx.db.gate
	}
	if tx.conn != nil {
		tx.conn.Close()
		tx.conn = nil
	}
}

// Rollback rolls the transaction back, unless it is joined: then the error
// that made the caller give up reaches the owner, which rolls back.
func (tx *Tx) Rollback() error {
	if tx.nested {
		return nil
	}
	err := tx.Tx.Rollback()
	tx.endTurn()
	return err
}

// micros converts a time to the stored form: microseconds since the epoch.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros converts the stored form back to a UTC time.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return micros(*t)
}

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func ptrInt(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	x := v.Int64
	return &x
}

// where builds a WHERE clause from conditions with numbered arguments.
type where struct {
	conds []string
	args  []any
}

// add appends a condition; each "?" in it becomes the next $n.
func (w *where) add(cond string, args ...any) {
	for _, a := range args {
		w.args = append(w.args, a)
		cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(w.args)), 1)
	}
	w.conds = append(w.conds, cond)
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return "1=1"
	}
	return strings.Join(w.conds, " AND ")
}

// limitClause returns the LIMIT/OFFSET tail with a default and a ceiling.
func limitClause(offset, limit int) string {
	if limit <= 0 || limit > 1000 {
		if limit <= 0 {
			limit = 50
		} else {
			limit = 1000
		}
	}
	if offset < 0 {
		offset = 0
	}
	return fmt.Sprintf(" LIMIT %d OFFSET %d", limit, offset)
}

// InTx runs fn in one write transaction: every storage call fn makes with the
// context it is given joins it, and they commit together or not at all. Bulk
// work (the demo, imports of related rows) uses it to avoid a commit per row.
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return db.inTx(ctx, func(ctx context.Context, _ *Tx) error { return fn(ctx) }, false)
}

// Batch runs fn in one write transaction, as InTx, for a replay of many
// moves at different moments (the demo's simulation): with each set, every
// call that joins it reads the clock (db.Now) when it starts, as it would
// in a transaction of its own. fn also gets the transaction, to read what
// it wrote so far. The moves' meaning is the same; they cost one commit.
func (db *DB) Batch(ctx context.Context, fn func(ctx context.Context, tx *Tx) error) error {
	return db.inTx(ctx, fn, true)
}

func (db *DB) inTx(ctx context.Context, fn func(ctx context.Context, tx *Tx) error, batch bool) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if batch && !tx.nested {
		tx.batch = true
	}
	if err := fn(context.WithValue(ctx, txKey{}, tx), tx); err != nil {
		return err
	}
	return tx.Commit()
}
