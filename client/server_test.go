package client_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/api"
	"github.com/batonhq/baton/client"
	"github.com/batonhq/baton/store"
)

// server is a real API server on a fresh SQLite database, with one admin
// and their token.
type server struct {
	url   string
	db    *store.DB
	admin string // the admin's API token
}

func newServer(t *testing.T) *server {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "baton.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Services{Users: db, Leads: db, Accounts: db, Events: db, Opportunities: db,
		Scoring: db, Handoffs: db, Reports: db, Health: db, Audit: db}, slog.New(slog.NewTextHandler(io.Discard, nil))).Handler())
	t.Cleanup(srv.Close)
	sys := baton.WithActor(ctx, baton.SystemActor)
	u := &baton.User{Email: "admin@baton.test", Name: "Admin", Role: baton.RoleAdmin}
	if err := db.CreateUser(sys, u); err != nil {
		t.Fatal(err)
	}
	tok, err := db.CreateToken(sys, u.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	return &server{url: srv.URL, db: db, admin: tok}
}

// as returns a client that sends the token.
func (s *server) as(t *testing.T, token string) *client.ClientWithResponses {
	t.Helper()
	c, err := client.NewClientWithResponses(s.url, client.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+token)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// document returns the OpenAPI document the server serves.
func (s *server) document(t *testing.T) []byte {
	t.Helper()
	resp, err := http.Get(s.url + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("openapi.json: %d %v", resp.StatusCode, err)
	}
	return b
}
