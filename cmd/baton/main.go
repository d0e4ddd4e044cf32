// Command baton runs Baton, the marketing-to-sales lead handoff: the server,
// migrations, CSV import and export, API tokens, the predictive model and
// background job checks. Run `baton help` for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // time zones everywhere, also where the system has none

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
)

const usage = `Baton: the marketing-to-sales lead handoff.

Usage: baton COMMAND [flags]

Commands:
  serve                         start the web server and background workers
                                (--addr localhost:8080, --db baton.db, --demo;
                                --sqlite-sync, --sqlite-wal-limit, --max-writes,
                                --read-db: baton serve -h)
  migrate                       bring the database schema up to date
  backup FILE                   SQLite: write a consistent copy while Baton runs
  restore FILE [--force]        SQLite: replace the database with a backup
                                (Baton stopped; PostgreSQL: pg_dump, pg_restore)
  import leads|accounts|users|events FILE.csv
                                import a CSV file (--map "Header=field,...", leads: --date-order dmy, --timezone Z)
  lead accept|reject|attempt|qualify|send-back|recycle|convert|close|assign|claim|show ID --as EMAIL
  lead queue --as EMAIL         the handoff, acting as a user (baton lead for the flags)
  report funnel|velocity|sla|rejections|recycled|quality|quality_rules|stale|stalled
                                [--from D] [--to D] [--by DIM] [--cohort] [--csv]
  export leads                  write leads as CSV to standard output (--stage, --source, --layout salesforce|hubspot)
  token create --email EMAIL [--days 90]
                                print a new API token for the user (0 days: it never expires)
  token list [--email E] [--live] | token revoke ID
                                the API tokens (never the tokens themselves);
                                a revoked one answers 401 from then on
  key create --kind write --name N | key create --kind capture --name N --origin https://www.example.com
                                print a new ingest key: write, for Segment's HTTP API
                                destination; capture, for a website's script and forms
  key list | key revoke ID      the ingest keys (never the keys themselves)
  calendar set TEAM FILE.json   a team's working calendar ("*": the default)
  calendar set user:EMAIL FILE.json
                                a rep's own working hours, over their team's
                                (calendar unset TEAM|user:EMAIL removes one)
  webhook add --url U [--events E,..] | rotate ID [--grace 24h] | list | on ID | off ID | deliveries
  slack add --team T --url U | add --user EMAIL --url U | list | on ID | off ID
                                a Slack incoming webhook for a team's or a user's notifications
                                (or $BATON_SLACK_URL: the URL is a secret, kept out of shell history)
  user add --email E --name N --role R [--manager EMAIL]
  user passwd --email E --password P [--keep-tokens]
                                set a user's web sign-in password (revokes their API tokens unless --keep-tokens)
  user away --email E --until 2026-12-24 [--note N] [--as EMAIL]
                                out of office until that day: no leads routed
  user back --email E [--as EMAIL]
                                end an absence early
  policy show | validate FILE | backtest FILE | publish FILE | default
                                the scoring policy: read, check, compare with
                                the current one on past leads, publish
  model eval --train TRAIN.csv [--test TEST.csv | --cv K] [--json]
                                train and judge the predictive model on CSV files
  model train [--holdout 0.2]   train on the database's outcomes; activate if
                                not worse than the active model
  jobs status                   count background jobs by state
  jobs probe --count N          enqueue N probe jobs; --check reports how they ran
  rules                         print the lifecycle table: every legal move, who
                                may make it, what it needs and what it causes
  bench [--leads N] [--only S,..] [--pg URL]
                                measure imports, ingest and the queue at scale,
                                each beside a floor measured in the same run
  version                       print the version

Every command that opens the database takes --db: a file path for SQLite
(default baton.db, or $BATON_DB) or a postgres:// URL.
`

// Version is set at build time with -ldflags "-X main.Version=...".
var Version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the whole program, so that tests can run it in-process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "serve":
		err = cmdServe(ctx, rest, stdout, stderr)
	case "migrate":
		err = cmdMigrate(ctx, rest, stdout, stderr)
	case "backup":
		err = cmdBackup(ctx, rest, stdout, stderr)
	case "restore":
		err = cmdRestore(ctx, rest, stdout, stderr)
	case "import":
		err = cmdImport(ctx, rest, stdout, stderr)
	case "export":
		err = cmdExport(ctx, rest, stdout, stderr)
	case "token":
		err = cmdToken(ctx, rest, stdout, stderr)
	case "key":
		err = cmdKey(ctx, rest, stdout, stderr)
	case "user":
		err = cmdUser(ctx, rest, stdout, stderr)
	case "model":
		err = cmdModel(ctx, rest, stdout, stderr)
	case "lead":
		err = cmdLead(ctx, rest, stdout, stderr)
	case "report":
		err = cmdReport(ctx, rest, stdout, stderr)
	case "calendar":
		err = cmdCalendar(ctx, rest, stdout, stderr)
	case "webhook":
		err = cmdWebhook(ctx, rest, stdout, stderr)
	case "slack":
		err = cmdSlack(ctx, rest, stdout, stderr)
	case "policy":
		err = cmdPolicy(ctx, rest, stdout, stderr)
	case "jobs":
		err = cmdJobs(ctx, rest, stdout, stderr)
	case "rules":
		fmt.Fprint(stdout, baton.RulesMarkdown())
	case "bench":
		err = cmdBench(ctx, rest, stdout, stderr)
	case "bench-floor":
		err = cmdBenchFloor(ctx, rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "baton", Version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "baton: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 2
	} else if err != nil {
		fmt.Fprintln(stderr, "baton:", errorText(err))
		return 1
	}
	return 0
}

// errorText shows a user the message of a Baton error and the whole chain of
// anything else: on the command line the operator is the one who must fix it.
func errorText(err error) string {
	var e *baton.Error
	if errors.As(err, &e) {
		if e.Field != "" {
			return e.Field + ": " + e.Message
		}
		return e.Message
	}
	return err.Error()
}

// newFlags returns a flag set that reports errors to stderr and has --db.
func newFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("baton "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := "baton.db"
	if v, ok := os.LookupEnv("BATON_DB"); ok && v != "" {
		def = v
	}
	dsn := fs.String("db", def, "database: an SQLite file path or a postgres:// URL (env BATON_DB)")
	return fs, dsn
}

// parse parses flags that may come before or after positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// openDB opens and migrates the database.
func openDB(ctx context.Context, dsn string) (*store.DB, error) {
	return openDBWith(ctx, dsn, store.Options{})
}

// openDBWith opens and migrates the database with options.
func openDBWith(ctx context.Context, dsn string, o store.Options) (*store.DB, error) {
	db, err := store.OpenWith(ctx, dsn, o)
	if err != nil {
		return nil, err
	}
	if err := useSecretKey(db); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dsn := newFlags("migrate", stderr)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	db, err := store.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	before, known, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s database %s: schema version %d -> %d\n", db.Backend(), redact(*dsn), before, known)
	return nil
}

// redact hides a password in a database URL.
func redact(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if at := strings.Index(dsn[i+3:], "@"); at >= 0 {
			cred := dsn[i+3 : i+3+at]
			if c := strings.Index(cred, ":"); c >= 0 {
				return dsn[:i+3] + cred[:c] + ":***" + dsn[i+3+at:]
			}
		}
	}
	return dsn
}

func cmdToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	switch {
	case len(args) > 0 && args[0] == "list":
		return cmdTokenList(ctx, args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "revoke":
		return cmdTokenRevoke(ctx, args[1:], stdout, stderr)
	case len(args) == 0 || args[0] != "create":
		return fmt.Errorf("usage: baton token create --email EMAIL [--name NAME] [--days N] | token list [--email EMAIL] [--live] | token revoke ID")
	}
	fs, dsn := newFlags("token create", stderr)
	email := fs.String("email", "", "the user's email")
	name := fs.String("name", "cli", "a name for the token")
	days := fs.Int("days", 90, "how many days it works (0: for ever)")
	if _, err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *email == "" {
		return fmt.Errorf("token create: --email is required")
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	sys := baton.WithActor(ctx, baton.Actor{Name: "cli", Role: baton.RoleSystem, Via: "cli"})
	u, err := db.FindUserByEmail(sys, *email)
	if err != nil {
		return err
	}
	if *days < 0 {
		return fmt.Errorf("token create: --days %d is below 0 (0 makes a token that never expires)", *days)
	}
	db.TokenLifetime = tokenLifetime(*days)
	tok, err := db.CreateToken(sys, u.ID, *name)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

func cmdUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "passwd" {
		return cmdUserPasswd(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && (args[0] == "away" || args[0] == "back") {
		return cmdUserAway(ctx, args[0], args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "add" {
		return fmt.Errorf("usage: baton user add --email EMAIL --name NAME --role ROLE [--team T] [--manager EMAIL]")
	}
	fs, dsn := newFlags("user add", stderr)
	email := fs.String("email", "", "email")
	name := fs.String("name", "", "full name")
	role := fs.String("role", "sdr", "admin, marketing, sdr, ae or manager")
	team := fs.String("team", "", "team")
	manager := fs.String("manager", "", "the manager's email")
	if _, err := parse(fs, args[1:]); err != nil {
		return err
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	sys := baton.WithActor(ctx, baton.Actor{Name: "cli", Role: baton.RoleSystem, Via: "cli"})
	u := &baton.User{Email: *email, Name: *name, Role: baton.Role(*role), Team: *team, Territory: *team}
	if *manager != "" {
		m, err := db.FindUserByEmail(sys, *manager)
		if err != nil {
			return err
		}
		u.ManagerID = &m.ID
	}
	if err := db.CreateUser(sys, u); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "user %d: %s <%s>, %s\n", u.ID, u.Name, u.Email, u.Role)
	return nil
}

func cmdUserPasswd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dsn := newFlags("user passwd", stderr)
	email := fs.String("email", "", "the user's email")
	password := fs.String("password", "", "the new password (at least 10 characters; or $BATON_PASSWORD)")
	keep := fs.Bool("keep-tokens", false, "leave the user's API tokens working (by default a new password revokes them)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *password == "" {
		*password = os.Getenv("BATON_PASSWORD")
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	sys := baton.WithActor(ctx, baton.Actor{Name: "cli", Role: baton.RoleSystem, Via: "cli"})
	u, err := db.FindUserByEmail(sys, *email)
	if err != nil {
		return err
	}
	set, what := db.SetPassword, "their web sessions are ended and their API tokens revoked"
	if *keep {
		set, what = db.SetPasswordKeepTokens, "their web sessions are ended; their API tokens still work"
	}
	if err := set(sys, u.ID, *password); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "password set for %s (%s)\n", u.Email, what)
	return nil
}

// tokenLifetime is the lifetime of API tokens for a number of days; 0 days
// is for ever.
func tokenLifetime(days int) time.Duration {
	if days == 0 {
		return -1
	}
	return time.Duration(days) * 24 * time.Hour
}

// useSecretKey gives the database the key that seals webhook secrets, from
// $BATON_SECRET_KEY (32 bytes in base64), when it is set.
func useSecretKey(db *store.DB) error {
	v := os.Getenv("BATON_SECRET_KEY")
	if v == "" {
		return nil
	}
	key, err := store.ParseSecretKey(v)
	if err != nil {
		return err
	}
	db.SecretKey = key
	return nil
}
