package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/api"
	"github.com/batonhq/baton/store"
)

// The roles of the fixture's users, and the two callers without a user.
const (
	none      = "none"      // no Authorization header
	bad       = "bad"       // a token nobody has
	admin     = "admin"     //
	marketing = "marketing" //
	sdrA      = "sdrA"      // an SDR in manager's team
	sdrB      = "sdrB"      // an SDR in managerN's team
	ae        = "ae"        // an account executive with no manager
	manager   = "manager"   // manages sdrA
	managerN  = "managerN"  // manages sdrB
)

// callers lists the columns of the role matrix, in order.
var callers = []string{none, bad, admin, marketing, sdrA, sdrB, ae, manager, managerN}

// fixture is an API server on a fresh, migrated SQLite database with a user
// of every role and a token for each.
type fixture struct {
	t      testing.TB
	db     *store.DB
	srv    *httptest.Server
	users  map[string]*baton.User
	tokens map[string]string
	seq    atomic.Int64
}

// sys is a context that acts as the system, for seeding.
func sys() context.Context { return baton.WithActor(context.Background(), baton.SystemActor) }

func openDB(t testing.TB, dir string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(dir, "baton.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	db := openDB(t, t.TempDir())
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, ok := t.(*testing.T); ok && testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	srv := httptest.NewServer(api.New(api.Services{Users: db, Leads: db, Accounts: db, Events: db, Opportunities: db, Scoring: db, Handoffs: db, Reports: db, Health: db, Audit: db, Outbox: db, Stats: db, Intake: db}, logger).Handler())
	t.Cleanup(srv.Close)
	f := &fixture{t: t, db: db, srv: srv, users: map[string]*baton.User{}, tokens: map[string]string{none: "", bad: "bt_nobody-has-this-token"}}
	mk := func(key string, role baton.Role, mgr string) {
		u := &baton.User{Email: strings.ToLower(key) + "@baton.test", Name: key, Role: role}
		if mgr != "" {
			u.ManagerID = &f.users[mgr].ID
		}
		if err := db.CreateUser(sys(), u); err != nil {
			t.Fatalf("create user %s: %v", key, err)
		}
		tok, err := db.CreateToken(sys(), u.ID, "test")
		if err != nil {
			t.Fatalf("create token %s: %v", key, err)
		}
		f.users[key], f.tokens[key] = u, tok
	}
	mk(admin, baton.RoleAdmin, "")
	mk(marketing, baton.RoleMarketing, "")
	mk(manager, baton.RoleManager, "")
	mk(managerN, baton.RoleManager, "")
	mk(sdrA, baton.RoleSDR, manager)
	mk(sdrB, baton.RoleSDR, managerN)
	mk(ae, baton.RoleAE, "")
	return f
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// as is a context that acts as the user of key, for seeding.
func (f *fixture) as(key string) context.Context {
	return baton.WithActor(context.Background(), baton.ActorOf(f.users[key], "test"))
}

// n returns a number unique in the fixture, for unique emails and domains.
func (f *fixture) n() int64 { return f.seq.Add(1) }

// lead stores a lead owned by the user of key ("" for none) in the stage,
// as the system.
func (f *fixture) lead(owner string, stage baton.Stage) *baton.Lead {
	f.t.Helper()
	n := f.n()
	l := &baton.Lead{Email: fmt.Sprintf("lead%d@acme%d.test", n, n), Name: fmt.Sprintf("Lead %d", n), Source: "web", Stage: stage}
	if owner != "" {
		l.OwnerID = &f.users[owner].ID
	}
	if err := f.db.CreateLead(sys(), l); err != nil {
		f.t.Fatalf("create lead: %v", err)
	}
	return l
}

// do sends a request as the caller and returns the status and body.
func (f *fixture) do(caller, method, path, body string) (int, []byte) {
	f.t.Helper()
	return f.send(f.t, caller, method, path, body)
}

// send is do for the test t, such as a subtest or a fuzz input.
func (f *fixture) send(t testing.TB, caller, method, path, body string) (int, []byte) {
	t.Helper()
	return f.sendHeader(t, caller, method, path, body, nil)
}

// sendHeader is send with more request headers.
func (f *fixture) sendHeader(t testing.TB, caller, method, path, body string, header map[string]string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if tok := f.tokens[caller]; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// decodeJSON decodes a response body into v, failing the test if it is not JSON.
func decodeJSON(t testing.TB, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("response is not JSON (%v): %s", err, b)
	}
}

// apiError is the decoded error of a response.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

func itoa(n int64) string { return fmt.Sprint(n) }
