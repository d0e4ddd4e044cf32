package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/api"
	"github.com/batonhq/baton/demo"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/worker"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dsn := newFlags("serve", stderr)
	addr := fs.String("addr", "localhost:8080", "address to listen on")
	withDemo := fs.Bool("demo", false, "load the bundled demo data into an empty database")
	workers := fs.Int("workers", 2, "background jobs run at once by this instance")
	poll := fs.Duration("poll", time.Second, "how often an idle worker looks for due jobs")
	name := fs.String("name", "", "this instance's name in job records (default host-pid)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	db, err := store.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	// Migrations are applied on start; a schema newer than this binary stops it.
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	if *withDemo {
		loaded, err := demo.Load(ctx, db, logger)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if !loaded {
			logger.Info("demo: the database already has data; not loading the demo again")
		}
	}
	if *name == "" {
		host, _ := os.Hostname()
		*name = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           routes(db, logger),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
	wctx, stopWorkers := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		(&worker.Worker{Jobs: db, Name: *name, Handlers: handlers(db), Poll: *poll, Concurrency: *workers, Logger: logger}).Run(wctx)
	}()
	fmt.Fprintf(stdout, "Baton %s on http://%s (%s database %s)\n", Version, ln.Addr(), db.Backend(), redact(*dsn))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = srv.Shutdown(shut)
	}
	stopWorkers()
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// handlers are the background job kinds this binary runs.
func handlers(db *store.DB) map[string]baton.JobHandler {
	return map[string]baton.JobHandler{
		store.ProbeJob:   db.ProbeHandler(),
		store.RescoreJob: db.RescoreHandler(),
	}
}

// routes mounts the JSON API beside the landing page.
func routes(db *store.DB, logger *slog.Logger) http.Handler {
	apiHandler := api.New(api.Services{Users: db, Leads: db, Accounts: db, Events: db, Opportunities: db, Scoring: db}, logger).Handler()
	mux := http.NewServeMux()
	mux.Handle("/api/", apiHandler)
	mux.Handle("/healthz", apiHandler)
	mux.Handle("/metrics", apiHandler)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "Baton: the marketing-to-sales lead handoff.\n\nJSON API: /api/v1 (OpenAPI document at /api/v1/openapi.json)\nCreate a token with: baton token create --email admin@example.com")
	})
	return mux
}
