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
	"github.com/batonhq/baton/deliver"
	"github.com/batonhq/baton/demo"
	"github.com/batonhq/baton/notify"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/web"
	"github.com/batonhq/baton/worker"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dsn := newFlags("serve", stderr)
	addr := fs.String("addr", "localhost:8080", "address to listen on")
	withDemo := fs.Bool("demo", false, "load the bundled demo data into an empty database")
	workers := fs.Int("workers", 2, "background jobs run at once by this instance")
	poll := fs.Duration("poll", time.Second, "how often an idle worker looks for due jobs")
	name := fs.String("name", "", "this instance's name in job records (default host-pid)")
	secureCookies := fs.Bool("secure-cookies", false, "always mark the session cookie Secure (behind a TLS proxy that sends no X-Forwarded-Proto)")
	smtpHost := fs.String("smtp-host", "", "SMTP server for email notifications (none: no email)")
	smtpPort := fs.Int("smtp-port", 587, "SMTP port")
	smtpUser := fs.String("smtp-user", "", "SMTP user name")
	smtpTLS := fs.String("smtp-tls", "starttls", "SMTP TLS: starttls, tls or none")
	smtpFrom := fs.String("smtp-from", "baton@localhost", "the From address of notifications")
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
		Handler:           routes(db, logger, *secureCookies),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
	var smtp *notify.SMTPConfig
	if *smtpHost != "" {
		smtp = &notify.SMTPConfig{Host: *smtpHost, Port: *smtpPort, Username: *smtpUser, Password: os.Getenv("BATON_SMTP_PASSWORD"), From: *smtpFrom, TLS: *smtpTLS}
		if err := smtp.Validate(); err != nil {
			return err
		}
	}
	if err := db.SetEmail(ctx, smtp != nil); err != nil {
		return err
	}
	wctx, stopWorkers := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	go func() {
		defer func() { done <- struct{}{} }()
		(&worker.Worker{Jobs: db, Name: *name, Handlers: handlers(db), Poll: *poll, Concurrency: *workers, Logger: logger}).Run(wctx)
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		(&deliver.Deliverer{Outbox: db, Webhook: &notify.Sender{Timeout: 10 * time.Second}, SMTP: smtp, Name: *name, Poll: *poll, Logger: logger}).Run(wctx)
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
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// handlers are the background job kinds this binary runs.
func handlers(db *store.DB) map[string]baton.JobHandler {
	return map[string]baton.JobHandler{
		store.ProbeJob:    db.ProbeHandler(),
		store.RescoreJob:  db.RescoreHandler(),
		store.RemindJob:   db.RemindHandler(),
		store.BreachJob:   db.BreachHandler(),
		store.StaleSALJob: db.StaleSALHandler(),
	}
}

// routes mounts the JSON API beside the landing page.
func routes(db *store.DB, logger *slog.Logger, secureCookies bool) http.Handler {
	apiHandler := api.New(api.Services{Users: db, Leads: db, Accounts: db, Events: db, Opportunities: db, Scoring: db, Handoffs: db, Reports: db}, logger).Handler()
	mux := http.NewServeMux()
	mux.Handle("/api/", apiHandler)
	mux.Handle("/healthz", apiHandler)
	mux.Handle("/metrics", apiHandler)
	ui := web.New(web.Services{Users: db, Leads: db, Accounts: db, Events: db, Handoffs: db, Scoring: db, Reports: db, Outbox: db, Calendars: db}, db, logger)
	ui.Now = func() time.Time { return db.Now() }
	ui.SecureCookies = secureCookies
	mux.Handle("/", ui.Handler())
	return mux
}
