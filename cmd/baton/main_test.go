package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// baton runs the CLI in-process and returns its output.
func baton_(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := baton_(t, args...)
	if code != 0 {
		t.Fatalf("baton %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

const xeducation = "../../demo/data/xeducation/leads-train.csv"

func TestImportXEducationAsItIs(t *testing.T) {
	db := filepath.Join(t.TempDir(), "b.db")
	out := mustRun(t, "import", "leads", xeducation, "--db", db)
	if strings.TrimSpace(out) != "6421 created, 0 updated, 0 rejected" {
		t.Fatalf("import: %q", out)
	}
	// A re-run adds nothing twice.
	out = mustRun(t, "import", "leads", "--db", db, xeducation)
	if strings.TrimSpace(out) != "0 created, 6421 updated, 0 rejected" {
		t.Fatalf("re-run: %q", out)
	}
	csvOut := mustRun(t, "export", "leads", "--db", db, "--source", "Reference")
	lines := strings.Split(strings.TrimSpace(csvOut), "\n")
	if !strings.HasPrefix(lines[0], "id,email,external_id,") || !strings.Contains(lines[0], "TotalVisits") {
		t.Fatalf("export header: %s", lines[0])
	}
	// 380 leads of the file have Lead Source "Reference".
	if got := len(lines) - 1; got != 380 {
		t.Fatalf("exported %d Reference leads, want 380", got)
	}
}

func TestImportReportsBadRows(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "b.db")
	file := filepath.Join(dir, "leads.csv")
	// The first import fixes the type of "seats": a number.
	os.WriteFile(file, []byte("email,seats\nfirst@x.com,1\n"), 0o644)
	mustRun(t, "import", "leads", file, "--db", db)
	body := "\ufeffemail,name,seats\r\nok@x.com,Ok,3\r\nnot-an-email,Bad,4\r\nok2@x.com,Ok2,many\r\nok@x.com,Dup,5\r\nok3@x.com,Ok3,\r\n"
	os.WriteFile(file, []byte(body), 0o644)
	out, errs, code := baton_(t, "import", "leads", file, "--db", db)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if strings.TrimSpace(out) != "2 created, 0 updated, 3 rejected" {
		t.Fatalf("summary %q", out)
	}
	for _, want := range []string{"row 3, column email", "row 4, column seats", "row 5"} {
		if !strings.Contains(errs, want) {
			t.Fatalf("stderr lacks %q:\n%s", want, errs)
		}
	}
	os.WriteFile(file, nil, 0o644)
	if _, errs, code := baton_(t, "import", "leads", file, "--db", db); code != 1 || !strings.Contains(errs, "empty") {
		t.Fatalf("empty file: exit %d, %s", code, errs)
	}
	os.WriteFile(file, []byte("name,phone\nA,1\n"), 0o644)
	if _, errs, code := baton_(t, "import", "leads", file, "--db", db); code != 1 || !strings.Contains(errs, "email") {
		t.Fatalf("missing column: exit %d, %s", code, errs)
	}
	if _, _, code := baton_(t, "import", "widgets", file, "--db", db); code != 1 {
		t.Fatalf("unknown kind: exit %d", code)
	}
}

func getJSON(t *testing.T, url, token string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if v != nil {
		if err := json.NewDecoder(res.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	return res.StatusCode
}

// TestServeDemo is the README's first command as a new user runs it: serve
// with the demo, make a token, read leads and a lead's timeline.
func TestServeDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the whole demo")
	}
	db := filepath.Join(t.TempDir(), "baton.db")
	// serve returns once the server listens, which it does after the demo
	// is loaded: however long that takes on a busy machine.
	base := serve(t, db, "--demo").base
	token := strings.TrimSpace(mustRun(t, "token", "create", "--email", "admin@example.com", "--db", db))
	var list struct {
		Items []baton.Lead `json:"items"`
		Total int          `json:"total"`
	}
	if code := getJSON(t, base+"/api/v1/leads?limit=5", token, &list); code != 200 || len(list.Items) != 5 || list.Total != 6421 {
		t.Fatalf("leads: %d, %d items of %d", code, len(list.Items), list.Total)
	}
	var won struct {
		Items []baton.Lead `json:"items"`
		Total int          `json:"total"`
	}
	getJSON(t, base+"/api/v1/leads?stage=won&limit=1", token, &won)
	// A third or so of closed opportunities are won (README: The demo).
	if won.Total < 100 {
		t.Fatalf("only %d won leads in the demo", won.Total)
	}
	var tl struct {
		Items []baton.TimelineItem `json:"items"`
	}
	getJSON(t, fmt.Sprintf("%s/api/v1/leads/%d/timeline", base, won.Items[0].ID), token, &tl)
	// Its history starts with where the lead came from (visits from
	// before it identified itself may come first on the timeline).
	var first *baton.HistoryEntry
	for _, it := range tl.Items {
		if it.History != nil {
			first = it.History
			break
		}
	}
	if first == nil || first.Action != "created" || first.Reason != "demo" || !strings.Contains(first.Note, "source ") {
		t.Fatalf("history does not start with where the lead came from: %+v", first)
	}
	var stages []string
	for _, it := range tl.Items {
		if it.History != nil && it.History.Action == "stage" {
			stages = append(stages, it.History.To)
		}
	}
	// Some won leads went round nurture first.
	if path := strings.Join(stages, ","); !strings.HasPrefix(path, "mql,sal,") || !strings.HasSuffix(path, ",sql,opportunity,won") {
		t.Fatalf("stages %v", stages)
	}
	// Users from the CRM data set, with their managers.
	var users struct {
		Items []baton.User `json:"items"`
		Total int          `json:"total"`
	}
	getJSON(t, base+"/api/v1/users?limit=100", token, &users)
	if users.Total != 2+35+6 {
		t.Fatalf("%d demo users, want 43", users.Total)
	}
	// Serving the demo again loads nothing twice.
	if loaded, err := reload(db); err != nil || loaded {
		t.Fatalf("demo loaded twice: %v %v", loaded, err)
	}
}

func reload(path string) (bool, error) {
	db, err := store.Open(context.Background(), path)
	if err != nil {
		return false, err
	}
	defer db.Close()
	_, n, err := db.FindUsers(storetest.System(), baton.UserFilter{})
	return n != 43, err
}

// TestThreeInstancesRunEachJobOnce starts three Baton servers on one
// PostgreSQL database, gives them 1,000 due jobs, kills one half-way, and
// checks that every job ran exactly once.
func TestThreeInstancesRunEachJobOnce(t *testing.T) {
	dsn := storetest.NewPostgresSchema(t)
	bin := filepath.Join(t.TempDir(), "baton")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	mustRun(t, "jobs", "probe", "--count", "1000", "--delay-ms", "4", "--db", dsn)
	var procs []*exec.Cmd
	for i := 0; i < 3; i++ {
		cmd := exec.Command(bin, "serve", "--db", dsn, "--addr", "127.0.0.1:0", "--poll", "50ms", "--workers", "2", "--name", fmt.Sprint("instance-", i))
		var logs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs = append(procs, cmd)
		defer func() {
			cmd.Process.Kill()
			cmd.Wait()
		}()
	}
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := storetest.System()
	killed := false
	// Bounded by go test's -timeout only: a busy machine takes longer.
	for {
		s, err := db.JobStats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !killed && s.Done >= 400 {
			// Kill -9 in the middle of the run: its open transactions roll back.
			procs[0].Process.Signal(syscall.SIGKILL)
			killed = true
		}
		if s.Done == 1000 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	r, err := db.Probe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("probe: %+v", r)
	if r.Jobs != 1000 || r.Once != 1000 || r.More != 0 || r.Never != 0 {
		t.Fatalf("probe %+v: want each of 1000 jobs exactly once", r)
	}
	if r.Workers["instance-0"] == 0 || r.Workers["instance-1"] == 0 || r.Workers["instance-2"] == 0 {
		t.Fatalf("not every instance ran jobs: %v", r.Workers)
	}
	if !killed {
		t.Fatal("the kill never happened")
	}
}

// TestThreeInstancesBreachEachHandoffOnce starts three Baton servers on one
// PostgreSQL database with a two-second answer window and 300 MQLs that
// nobody answers, kills one server half-way, and checks that every handoff
// was breached, and its manager told, exactly once.
func TestThreeInstancesBreachEachHandoffOnce(t *testing.T) {
	dsn := storetest.NewPostgresSchema(t)
	bin := filepath.Join(t.TempDir(), "baton")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := storetest.System()
	tm := storetest.SeedTeam(t, db)
	if _, err := db.PublishDocument(ctx, `
name: Fast SLA
fit:
  - {name: Anyone, field: email, missing: false, points: 1}
engagement:
  half_life: 30d
  rules:
    - {name: Demo, event: demo_request, points: 50}
mql:
  fast_track:
    - event: demo_request
handoff:
  sdr:
    within: 2s
    on_breach: notify
`); err != nil {
		t.Fatal(err)
	}
	const leads = 300
	events := make([]baton.EventInput, 0, leads)
	for i := 0; i < leads; i++ {
		l := storetest.MustLead(t, db, &baton.Lead{Email: fmt.Sprintf("l%d@example.net", i)})
		events = append(events, baton.EventInput{ID: "d", LeadID: l.ID, Type: "demo_request", OccurredAt: time.Now()})
	}
	var procs []*exec.Cmd
	for i := 0; i < 3; i++ {
		cmd := exec.Command(bin, "serve", "--db", dsn, "--addr", "127.0.0.1:0", "--poll", "50ms", "--workers", "2", "--name", fmt.Sprint("instance-", i))
		var logs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs = append(procs, cmd)
		defer func() {
			cmd.Process.Kill()
			cmd.Wait()
		}()
	}
	// The demo requests make every lead an MQL, routed to the two SDRs, due in 2 s.
	if res, err := db.RecordEvents(ctx, events); err != nil || res.Created != leads {
		t.Fatalf("events %+v %v", res, err)
	}
	count := func(q string) int {
		var n int
		if err := db.SQL().QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(`SELECT COUNT(*) FROM handoffs`); n != leads {
		t.Fatalf("%d handoffs, want %d", n, leads)
	}
	killed := false
	// Bounded by go test's -timeout only: a busy machine takes longer.
	for {
		breached := count(`SELECT COUNT(*) FROM handoffs WHERE breached_at IS NOT NULL`)
		if !killed && breached >= leads/3 {
			procs[0].Process.Signal(syscall.SIGKILL)
			killed = true
		}
		if breached == leads && count(`SELECT COUNT(*) FROM jobs WHERE done_at IS NULL AND kind = 'sla_breach'`) == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Each breach told the rep once and their manager once.
	if n := count(`SELECT COUNT(*) FROM notifications WHERE kind = 'breached'`); n != leads {
		t.Fatalf("%d breach notices for %d handoffs", n, leads)
	}
	if n := count(`SELECT COUNT(*) FROM notifications WHERE kind = 'escalated'`); n != leads {
		t.Fatalf("%d escalations for %d handoffs", n, leads)
	}
	if n := count(`SELECT COUNT(*) FROM (SELECT lead_id FROM lead_history WHERE action = 'breached' GROUP BY lead_id HAVING COUNT(*) > 1) x`); n != 0 {
		t.Fatalf("%d leads breached more than once", n)
	}
	workers := count(`SELECT COUNT(DISTINCT lease_owner) FROM jobs WHERE kind = 'sla_breach' AND done_at IS NOT NULL`)
	if workers < 2 || !killed {
		t.Fatalf("breaches ran on %d instances (killed: %v)", workers, killed)
	}
	_ = tm
}

// TestLeadCommands works a handoff from the command line, under the acting
// user's rights.
func TestLeadCommands(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.db")
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	tm := storetest.SeedTeam(t, db)
	l := storetest.MustLead(t, db, &baton.Lead{Email: "cli@acme.com", OwnerID: &tm.SDR1.ID})
	if _, err := db.ChangeStage(storetest.As(tm.Marketing), l.ID, baton.StageChange{To: baton.StageMQL, Reason: "trade show"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	id := fmt.Sprint(l.ID)
	if out := mustRun(t, "lead", "queue", "--as", tm.SDR1.Email, "--db", path); !strings.Contains(out, `"due_at"`) || !strings.Contains(out, "cli@acme.com") {
		t.Fatalf("queue: %s", out)
	}
	if _, errs, code := baton_(t, "lead", "accept", id, "--as", tm.SDR2.Email, "--db", path); code != 1 || !strings.Contains(errs, "no lead "+id) {
		t.Fatalf("another rep accepted: %d %s", code, errs)
	}
	if _, errs, code := baton_(t, "lead", "reject", id, "--as", tm.SDR1.Email, "--reason", "unable_to_reach", "--db", path); code != 1 || !strings.Contains(errs, "attempts") {
		t.Fatalf("unable_to_reach without attempts: %d %s", code, errs)
	}
	mustRun(t, "lead", "accept", id, "--as", tm.SDR1.Email, "--db", path)
	mustRun(t, "lead", "attempt", id, "--as", tm.SDR1.Email, "--channel", "call", "--outcome", "connected", "--db", path)
	if _, errs, code := baton_(t, "lead", "qualify", id, "--as", tm.SDR1.Email, "--need", "x", "--db", path); code != 1 || !strings.Contains(errs, "missing budget") {
		t.Fatalf("half a BANT: %d %s", code, errs)
	}
	mustRun(t, "lead", "qualify", id, "--as", tm.SDR1.Email, "--budget", "1000", "--currency", "EUR", "--authority", "decision_maker",
		"--need", "onboarding", "--timing", "immediate", "--db", path)
	first := mustRun(t, "lead", "convert", id, "--as", tm.AE.Email, "--name", "Acme", "--key", "k", "--db", path)
	again := mustRun(t, "lead", "convert", id, "--as", tm.AE.Email, "--name", "Acme", "--key", "k", "--db", path)
	if !strings.Contains(first, `"created": true`) || !strings.Contains(again, `"created": false`) {
		t.Fatalf("convert twice:\n%s\n%s", first, again)
	}
	mustRun(t, "lead", "close", id, "--as", tm.AE.Email, "--won", "--value", "900", "--db", path)
	if out := mustRun(t, "lead", "show", id, "--as", tm.Admin.Email, "--db", path); !strings.Contains(out, `"stage": "won"`) {
		t.Fatalf("show: %s", out)
	}
}

func TestCalendarAndWebhookCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "b.db")
	cal := filepath.Join(dir, "cal.json")
	os.WriteFile(cal, []byte(`{"time_zone": "Europe/Berlin", "hours": {"mon-fri": ["09:00-17:00"]}}`), 0o644)
	mustRun(t, "calendar", "set", "EMEA", cal, "--db", db)
	if out := mustRun(t, "calendar", "list", "--db", db); !strings.Contains(out, "EMEA") || !strings.Contains(out, "Europe/Berlin") {
		t.Fatalf("list: %s", out)
	}
	os.WriteFile(cal, []byte(`{"time_zone": "Europe/Berlin", "hours": {}}`), 0o644)
	if _, errs, code := baton_(t, "calendar", "set", "EMEA", cal, "--db", db); code != 1 || !strings.Contains(errs, "hours") {
		t.Fatalf("a calendar without working hours: %d %s", code, errs)
	}
	out := mustRun(t, "webhook", "add", "--url", "https://hooks.example.com/baton", "--secret", "0123456789abcdef0123", "--events", "lead.rejected", "--db", db)
	if !strings.Contains(out, `"lead.rejected"`) || strings.Contains(out, "0123456789abcdef") {
		t.Fatalf("add: %s", out)
	}
	if _, errs, code := baton_(t, "webhook", "add", "--url", "ftp://x", "--secret", "0123456789abcdef0123", "--db", db); code != 1 || !strings.Contains(errs, "url") {
		t.Fatalf("bad url: %d %s", code, errs)
	}
	mustRun(t, "webhook", "off", "1", "--db", db)
	if out := mustRun(t, "webhook", "list", "--db", db); !strings.Contains(out, `"active": false`) {
		t.Fatalf("list: %s", out)
	}
	// Without --secret Baton makes one and prints it once; rotate prints
	// a new one; neither is listed.
	made := mustRun(t, "webhook", "add", "--url", "https://hooks.example.com/other", "--db", db)
	rotated := mustRun(t, "webhook", "rotate", "2", "--grace", "1h", "--db", db)
	for _, out := range []string{made, rotated} {
		if !strings.Contains(out, `"secret": "whsec_`) {
			t.Fatalf("no secret shown: %s", out)
		}
	}
	if !strings.Contains(rotated, `"old_secret_signs_for": "1h0m0s"`) {
		t.Fatalf("rotate: %s", rotated)
	}
	if out := mustRun(t, "webhook", "list", "--db", db); strings.Contains(out, "whsec_") {
		t.Fatalf("a secret listed: %s", out)
	}
	t.Setenv("BATON_SECRET_KEY", "not a key")
	if _, errs, code := baton_(t, "webhook", "list", "--db", db); code != 1 || !strings.Contains(errs, "BATON_SECRET_KEY must be 32 bytes") {
		t.Fatalf("a bad key: %d %s", code, errs)
	}
}

func TestReportCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "b.db")
	mustRun(t, "import", "leads", xeducation, "--db", db)
	out := mustRun(t, "report", "funnel", "--by", "source", "--csv", "--db", db)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[0], "source,leads,mql") || !strings.Contains(out, "\n(total),6421,") || !strings.Contains(out, "\nGoogle,") {
		t.Fatalf("funnel csv:\n%s", out)
	}
	if out := mustRun(t, "report", "funnel", "--db", db); !strings.Contains(out, "6421") {
		t.Fatalf("funnel table:\n%s", out)
	}
	if _, errs, code := baton_(t, "report", "funnel", "--by", "shoe-size", "--db", db); code != 1 || !strings.Contains(errs, "by") {
		t.Fatalf("bad dimension: %d %s", code, errs)
	}
	if _, errs, code := baton_(t, "report", "funnel", "--from", "yesterday", "--db", db); code != 1 || !strings.Contains(errs, "from") {
		t.Fatalf("bad date: %d %s", code, errs)
	}
}

// TestCSVSafeToOpen: a lead whose name and campaign are formulas comes out
// of `baton export leads` and `baton report --csv` as text, not formulas.
func TestCSVSafeToOpen(t *testing.T) {
	dir := t.TempDir()
	db, in := filepath.Join(dir, "b.db"), filepath.Join(dir, "leads.csv")
	const evil = "email,name,campaign,source\nmallory@example.com,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",@SUM(A1:A9),web\n"
	if err := os.WriteFile(in, []byte(evil), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "import", "leads", in, "--db", db)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "leads"}, `"'=HYPERLINK(""http://evil.example"",""x"")"`},
		{[]string{"export", "leads"}, "'@SUM(A1:A9)"},
		{[]string{"report", "funnel", "--by", "campaign", "--csv"}, "'@SUM(A1:A9)"},
	} {
		out := mustRun(t, append(c.args, "--db", db)...)
		if !strings.Contains(out, c.want) {
			t.Errorf("%v lacks %s:\n%s", c.args, c.want, out)
		}
		if strings.Contains(out, ",=HYPERLINK") || strings.Contains(out, ",@SUM") {
			t.Errorf("%v writes a formula:\n%s", c.args, out)
		}
	}
	// Each `baton export leads` is in the audit log.
	mustRun(t, "export", "leads", "--stage", "new", "--db", db)
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	es, _, err := st.FindAudit(baton.WithActor(context.Background(), baton.SystemActor), baton.AuditFilter{Action: new("lead.export")})
	if err != nil || len(es) != 3 || es[0].Via != "cli" || !strings.Contains(es[0].After, "stage=new") {
		t.Fatalf("the exports' audit entries: %+v %v", es, err)
	}
}

// TestTokenLifetimeAndReset: `baton token create --days` sets how long the
// token works (0: for ever; below 0 refused), `baton token list` shows when
// it ends, and `baton user passwd` revokes the user's tokens unless told
// --keep-tokens.
func TestTokenLifetimeAndReset(t *testing.T) {
	db := filepath.Join(t.TempDir(), "b.db")
	mustRun(t, "user", "add", "--email", "ops@example.com", "--name", "Ops", "--role", "admin", "--db", db)
	if _, errs, code := baton_(t, "token", "create", "--email", "ops@example.com", "--days", "-1", "--db", db); code != 1 || !strings.Contains(errs, "--days") {
		t.Fatalf("negative days: %d %s", code, errs)
	}
	mustRun(t, "token", "create", "--email", "ops@example.com", "--name", "week", "--days", "7", "--db", db)
	mustRun(t, "token", "create", "--email", "ops@example.com", "--name", "forever", "--days", "0", "--db", db)
	out := mustRun(t, "token", "list", "--db", db)
	week := time.Now().UTC().AddDate(0, 0, 7).Format(time.DateOnly)
	if !strings.Contains(out, "EXPIRES") || !regexp.MustCompile(`(?m)^2 .*forever .* never `).MatchString(out) ||
		!regexp.MustCompile(`(?m)^1 .*week .* `+week+`T`).MatchString(out) {
		t.Fatalf("the week's token ends on %s, the other never:\n%s", week, out)
	}
	out = mustRun(t, "user", "passwd", "--email", "ops@example.com", "--password", "a long passphrase", "--keep-tokens", "--db", db)
	if !strings.Contains(out, "still work") {
		t.Fatalf("passwd --keep-tokens: %s", out)
	}
	if out := mustRun(t, "token", "list", "--live", "--db", db); strings.Count(out, "ops@example.com") != 2 {
		t.Fatalf("kept tokens revoked:\n%s", out)
	}
	mustRun(t, "user", "passwd", "--email", "ops@example.com", "--password", "another passphrase", "--db", db)
	if out := mustRun(t, "token", "list", "--live", "--db", db); strings.Contains(out, "ops@example.com") {
		t.Fatalf("a reset leaves tokens working:\n%s", out)
	}
}
