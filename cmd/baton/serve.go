package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"strings"
	"time"

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
	name := fs.String("name", "", "this instance's name in job and delivery records, the same across restarts (default host:port)")
	sqliteSync := fs.String("sqlite-sync", store.SyncNormal, "SQLite durability: normal (a commit survives a crash of Baton; a power loss may lose about the last second) or full (every commit is on disk before it is acknowledged)")
	walLimit := sizeFlag(fs, "sqlite-wal-limit", store.DefaultWALLimit, "SQLite: truncate the write-ahead log once it passes this size (0: never)")
	maxWrites := fs.Int("max-writes", 0, "write requests worked on at once; more wait up to --write-wait, then get 429 (default 2 per core, at least 4)")
	writeWait := fs.Duration("write-wait", time.Second, "how long a write request waits for its turn before it gets 429")
	bodyBudget := sizeFlag(fs, "body-budget", 128<<20, "memory for request bodies being received at once; past it, requests get 429")
	secureCookies := fs.Bool("secure-cookies", false, "always mark the session cookie Secure (behind a TLS proxy that sends no X-Forwarded-Proto)")
	smtpHost := fs.String("smtp-host", "", "SMTP server for email notifications (none: no email)")
	smtpPort := fs.Int("smtp-port", 587, "SMTP port")
	smtpUser := fs.String("smtp-user", "", "SMTP user name")
	smtpTLS := fs.String("smtp-tls", "starttls", "SMTP TLS: starttls, tls or none")
	smtpFrom := fs.String("smtp-from", "baton@localhost", "the From address of notifications")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS with this certificate (PEM; with --tls-key): cookies are then Secure with the __Host- prefix and answers carry HSTS")
	tlsKey := fs.String("tls-key", "", "the private key of --tls-cert (PEM)")
	cpuProfile := fs.String("cpu-profile", "", "write a CPU profile of the whole run to this file, for go tool pprof (a debugging aid: it costs a few percent)")
	metricsAddr := fs.String("metrics-addr", "", "also serve /metrics without a token on this address, for a scraper (e.g. 127.0.0.1:9090); beside the API /metrics wants an admin's token")
	sessionIdle := fs.Duration("session-idle", store.DefaultSessionIdle, "how long a web session lasts without a page (at most 12h, the length of a session)")
	tokenDays := fs.Int("token-days", 90, "how many days an API token made from now on works (0: for ever)")
	publicURL := fs.String("public-url", "", "where people reach this server's web UI (https://baton.example.com), for the buttons of Slack messages (default: http(s)://the listen address)")
	var readDB urlList
	fs.Var(&readDB, "read-db", "PostgreSQL: a streaming replica (hot standby) of --db for the reads that may lag: reports, lead lists and exports, event and audit lists, metrics (repeat it, or separate URLs by commas, for several)")
	maxLag := fs.Duration("read-db-max-lag", store.DefaultMaxLag, "PostgreSQL: a replica further behind the primary than this is not read from until it catches up (its reads go to --db)")
	webhookAllowPrivate := fs.Bool("webhook-allow-private", false, "let webhooks use plain http and reach loopback, private, link-local and other non-public addresses (by default: https to public addresses only, checked at every connection)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	if *maxLag <= 0 {
		return fmt.Errorf("--read-db-max-lag: %s is not above 0", *maxLag)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpu-profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("--cpu-profile: %w", err)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	opts := store.Options{Sync: *sqliteSync, WALLimit: walLimit.n, Logger: logger, ReadDSNs: readDB, MaxLag: *maxLag}
	if walLimit.n == 0 {
		opts.WALLimit = -1
	}
	var tlsConfig *tls.Config
	switch {
	case (*tlsCert == "") != (*tlsKey == ""):
		return fmt.Errorf("--tls-cert and --tls-key go together: give both, or neither")
	case *tlsCert != "":
		pair, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
		*secureCookies = true
	}
	if *sessionIdle < time.Minute || *sessionIdle > store.SessionTTL {
		return fmt.Errorf("--session-idle: %s is not between 1m and %s", *sessionIdle, store.SessionTTL)
	}
	if *tokenDays < 0 {
		return fmt.Errorf("--token-days: %d is below 0 (0 makes tokens that never expire)", *tokenDays)
	}
	db, err := store.OpenWith(ctx, *dsn, opts)
	if err != nil {
		return err
	}
	if err := useSecretKey(db); err != nil {
		return err
	}
	db.TokenLifetime = tokenLifetime(*tokenDays)
	db.SessionIdle = *sessionIdle
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
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if *name == "" {
		// The same name after a restart lets the instance take back at once
		// the deliveries it had claimed when it stopped; two instances on
		// one host differ by their port.
		host, _ := os.Hostname()
		*name = fmt.Sprintf("%s:%d", host, ln.Addr().(*net.TCPAddr).Port)
	}
	limits := api.Limits{Writes: *maxWrites, WriteWait: *writeWait, BodyBytes: bodyBudget.n}
	handler, metrics := routes(db, logger, *secureCookies, limits)
	if tlsConfig != nil {
		handler = hsts(handler)
	}
	srv := &http.Server{
		TLSConfig:         tlsConfig,
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
	// The metrics for a scraper, on a listener of their own.
	errc := make(chan error, 2)
	var (
		mln  net.Listener
		msrv *http.Server
	)
	if *metricsAddr != "" {
		if mln, err = net.Listen("tcp", *metricsAddr); err != nil {
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", metrics)
		msrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		defer msrv.Close()
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
	// Recorded for every door that creates webhooks, the CLI's included.
	if err := db.SetWebhookAllowPrivate(ctx, *webhookAllowPrivate); err != nil {
		return err
	}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
		ln = tls.NewListener(ln, tlsConfig)
	}
	public := strings.TrimRight(*publicURL, "/")
	if public == "" {
		public = scheme + "://" + ln.Addr().String()
	} else if u, err := url.Parse(public); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--public-url: %q is not an http(s) URL", *publicURL)
	}
	wctx, stopWorkers := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	go func() {
		defer func() { done <- struct{}{} }()
		(&worker.Worker{Jobs: db, Name: *name, Handlers: db.JobHandlers(), Poll: *poll, Concurrency: *workers, Logger: logger}).Run(wctx)
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		(&deliver.Deliverer{Outbox: db, Webhook: &notify.Sender{Timeout: 10 * time.Second}, AllowPrivate: *webhookAllowPrivate, SMTP: smtp, Name: *name, Poll: *poll, Logger: logger,
			PublicURL: public}).Run(wctx)
	}()
	fmt.Fprintf(stdout, "Baton %s on %s://%s (%s database %s)\n", Version, scheme, ln.Addr(), db.Backend(), redact(*dsn))
	for _, r := range readDB {
		fmt.Fprintf(stdout, "reads that may lag on the replica %s\n", redact(r))
	}
	if msrv != nil {
		go func() { errc <- msrv.Serve(mln) }()
		fmt.Fprintf(stdout, "metrics on http://%s/metrics\n", mln.Addr())
	}
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

// urlList is a flag that may be repeated, each value one URL or several
// separated by commas. A comma not followed by a scheme stays in its URL:
// postgres://a:5432,b:5432/baton names two hosts of one server.
type urlList []string

func (l *urlList) String() string { return strings.Join(*l, ",") }

func (l *urlList) Set(v string) error {
	var urls []string
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		if len(urls) > 0 && !strings.Contains(part, "://") {
			urls[len(urls)-1] += "," + part
			continue
		}
		urls = append(urls, part)
	}
	for _, u := range urls {
		if u != "" {
			*l = append(*l, u)
		}
	}
	return nil
}

// routes mounts the JSON API beside the web UI; it also returns the
// metrics without authentication, for --metrics-addr.
func routes(db *store.DB, logger *slog.Logger, secureCookies bool, limits api.Limits) (http.Handler, http.Handler) {
	a := api.New(api.Services{Users: db, Leads: db, Accounts: db, Events: db, Opportunities: db, Scoring: db, Handoffs: db, Reports: db, Health: db, Audit: db, Outbox: db, Stats: db, Intake: db}, logger)
	a.SetLimits(limits)
	apiHandler := a.Handler()
	mux := http.NewServeMux()
	mux.Handle("/api/", apiHandler)
	mux.Handle("/healthz", apiHandler)
	mux.Handle("/readyz", apiHandler)
	mux.Handle("/metrics", apiHandler)
	mux.Handle("/v1/", apiHandler) // Segment's HTTP Tracking API
	mux.Handle("/capture/", apiHandler)
	mux.Handle("/capture.js", apiHandler)
	ui := web.New(web.Services{Users: db, Leads: db, Accounts: db, Events: db, Handoffs: db, Scoring: db, Reports: db, Outbox: db, Calendars: db, Health: db, Audit: db}, db, logger)
	ui.Now = func() time.Time { return db.Now() }
	ui.SecureCookies = secureCookies
	ui.SessionIdle = db.SessionIdle
	mux.Handle("/", ui.Handler())
	return mux, a.MetricsHandler()
}

// hsts tells browsers to come back over HTTPS only, for a year: a server
// started with --tls-cert is one they reach over TLS.
func hsts(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		h.ServeHTTP(w, r)
	})
}
