// Package storetest opens real, fresh, migrated databases for tests on every
// backend, and seeds the users that most tests need. Every storage test runs
// through ForEach, so it runs on SQLite and on PostgreSQL.
//
// PostgreSQL tests read BATON_TEST_POSTGRES_URL and get a schema of their own
// that is dropped afterwards; without the variable they skip with a message
// saying how to run them (`make test` starts a throwaway server and sets it).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	_ "embed"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
)

// Policy is the scoring policy of the tests of every package: VPs fit,
// personal addresses count against, pricing pages and webinars engage, a
// demo request fast-tracks. Tests that need a handoff section append one.
//
//go:embed testdata/policy.yaml
var Policy string

// PostgresEnv is the variable that names the PostgreSQL server for tests.
const PostgresEnv = "BATON_TEST_POSTGRES_URL"

// Epoch is the time every test clock starts at.
var Epoch = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// Clock is a test clock: Now returns the set time, Advance moves it.
type Clock struct{ t time.Time }

// NewClock returns a clock at Epoch.
func NewClock() *Clock { return &Clock{t: Epoch} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return c.t }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.t = c.t.Add(d) }

// Set sets the clock.
func (c *Clock) Set(t time.Time) { c.t = t }

// Backend names a backend and opens fresh databases on it.
type Backend struct {
	Name string
	Open func(t testing.TB) *store.DB
}

// Backends lists SQLite and PostgreSQL.
var Backends = []Backend{{"sqlite", SQLite}, {"postgres", Postgres}}

// ForEach runs fn as a subtest on each backend.
func ForEach(t *testing.T, fn func(t *testing.T, open func(testing.TB) *store.DB)) {
	t.Helper()
	for _, b := range Backends {
		t.Run(b.Name, func(t *testing.T) { fn(t, b.Open) })
	}
}

// SQLite opens a fresh migrated SQLite database in a temporary directory.
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	return open(t, filepath.Join(t.TempDir(), "baton.db"))
}

// PostgresURL returns the test server's URL, or skips the test.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(PostgresEnv)
	if u == "" {
		t.Skipf("PostgreSQL tests skipped: set %s=postgres://... (or run `make test`, which starts a throwaway server)", PostgresEnv)
	}
	return u
}

// Postgres opens a fresh migrated database in a new schema of the test
// server, dropped when the test ends.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	dsn := NewPostgresSchema(t)
	return open(t, dsn)
}

// NewPostgresSchema creates an empty schema on the test server and returns a
// URL whose connections use it; the schema is dropped when the test ends.
func NewPostgresSchema(t testing.TB) string {
	t.Helper()
	name, u := newPostgres(t, "SCHEMA")
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// ReplicaEnv is the variable that names a hot standby of the test server
// (scripts/with-postgres.sh --replica starts both and sets it).
const ReplicaEnv = "BATON_TEST_POSTGRES_REPLICA_URL"

// NewReplicaSchema creates an empty schema on the test server, as
// NewPostgresSchema does, and returns its URL and the URL of the same
// schema on the server's hot standby. Without a standby it skips the test,
// or fails it under BATON_REQUIRE_REPLICA (`make replica` sets it).
func NewReplicaSchema(t testing.TB) (primary, replica string) {
	t.Helper()
	r := os.Getenv(ReplicaEnv)
	if r == "" || os.Getenv(PostgresEnv) == "" {
		if os.Getenv("BATON_REQUIRE_REPLICA") != "" {
			t.Fatalf("%s is not set: run under scripts/with-postgres.sh --replica", ReplicaEnv)
		}
		t.Skipf("replica tests skipped: run under scripts/with-postgres.sh --replica (or `make replica`), which sets %s", ReplicaEnv)
	}
	primary = NewPostgresSchema(t)
	p, err := url.Parse(primary)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", p.Query().Get("search_path"))
	u.RawQuery = q.Encode()
	return primary, u.String()
}

// CaughtUp waits until the hot standby has replayed everything the
// primary had written when it was called.
func CaughtUp(t testing.TB, primary, standby *sql.DB) {
	t.Helper()
	var lsn string
	if err := primary.QueryRow(`SELECT pg_current_wal_lsn()::text`).Scan(&lsn); err != nil {
		t.Fatal(err)
	}
	for {
		var done bool
		if err := standby.QueryRow(`SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn`, lsn).Scan(&done); err != nil {
			t.Fatal(err)
		}
		if done {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// NewPostgresDatabase creates an empty database on the test server and
// returns its URL; the database is dropped when the test ends. Tests that
// need a whole database (pg_dump, pg_restore) use it; others use a schema.
func NewPostgresDatabase(t testing.TB) string {
	t.Helper()
	name, u := newPostgres(t, "DATABASE")
	u.Path = "/" + name
	return u.String()
}

// newPostgres creates a SCHEMA or DATABASE of a random name on the test
// server, dropped when the test ends, and returns its name and the
// server's URL.
func newPostgres(t testing.TB, kind string) (string, *url.URL) {
	t.Helper()
	base := PostgresURL(t)
	var b [6]byte
	rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE ` + kind + ` ` + name); err != nil {
		t.Fatalf("create %s: %v", strings.ToLower(kind), err)
	}
	drop := `DROP SCHEMA ` + name + ` CASCADE`
	if kind == "DATABASE" {
		drop = `DROP DATABASE ` + name + ` WITH (FORCE)`
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		db.Exec(drop)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return name, u
}

func open(t testing.TB, dsn string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// System returns a context whose actor is the system.
func System() context.Context { return baton.WithActor(context.Background(), baton.SystemActor) }

// As returns a context whose actor is the user.
func As(u *baton.User) context.Context {
	return baton.WithActor(context.Background(), baton.ActorOf(u, "test"))
}

// Team is a set of users of every role: two managers with one SDR each, an
// AE under the first manager, marketing and an admin.
type Team struct {
	Admin, Marketing, Manager1, Manager2, SDR1, SDR2, AE *baton.User
}

// Users returns the team's users, each once.
func (tm *Team) Users() []*baton.User {
	return []*baton.User{tm.Admin, tm.Marketing, tm.Manager1, tm.Manager2, tm.SDR1, tm.SDR2, tm.AE}
}

// SeedTeam creates a Team.
func SeedTeam(t testing.TB, db *store.DB) *Team {
	t.Helper()
	ctx := System()
	mk := func(email, name string, role baton.Role, mgr *baton.User) *baton.User {
		u := &baton.User{Email: email, Name: name, Role: role, Team: "East", Territory: "East"}
		if mgr != nil {
			u.ManagerID = &mgr.ID
		}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatalf("seed %s: %v", email, err)
		}
		return u
	}
	tm := &Team{}
	tm.Admin = mk("admin@example.com", "Ada Admin", baton.RoleAdmin, nil)
	tm.Marketing = mk("mia.marketing@example.com", "Mia Marketing", baton.RoleMarketing, nil)
	tm.Manager1 = mk("max.manager@example.com", "Max Manager", baton.RoleManager, nil)
	tm.Manager2 = mk("nora.manager@example.com", "Nora Manager", baton.RoleManager, nil)
	tm.SDR1 = mk("sam.sdr@example.com", "Sam Sdr", baton.RoleSDR, tm.Manager1)
	tm.SDR2 = mk("sue.sdr@example.com", "Sue Sdr", baton.RoleSDR, tm.Manager2)
	tm.AE = mk("alex.ae@example.com", "Alex Ae", baton.RoleAE, tm.Manager1)
	return tm
}

// MustLead creates a lead as the system and fails the test on error.
func MustLead(t testing.TB, db *store.DB, l *baton.Lead) *baton.Lead {
	t.Helper()
	if err := db.CreateLead(System(), l); err != nil {
		t.Fatalf("create lead %s: %v", l.Email, err)
	}
	return l
}
