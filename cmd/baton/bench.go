package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/batonhq/baton/internal/leadgen"
)

// benchSections are the parts of `baton bench`, in the order they run.
// Each measures what a user meets (a policy in force, HTTP from another
// process) beside a floor measured in the same run: the ratio between them
// is the figure, since a busy machine slows both.
var benchSections = []benchSection{benchImportSQLite, benchImportPostgres, ingestSection, benchQueue, benchPGInstances}

// benchSection is one part of `baton bench`.
type benchSection struct {
	Name  string // as --only names it
	About string // a line for `baton bench -h`
	// Postgres sections need --pg and are skipped without it.
	Postgres bool
	Run      func(ctx context.Context, b *bench) ([]benchRow, error)
}

// benchRow is one figure of the table: Baton's value beside its floor.
type benchRow struct {
	Figure string  // what was measured: "import 1,000,000 leads (SQLite)"
	Unit   string  // of Value and Floor: "rows/s", "s", "ms p99"
	Value  float64 // Baton's figure
	// Floor is the same work done the plainest way the machine allows
	// (sqlite3 .import, COPY, a bare endpoint), measured in the same run;
	// FloorName says how. Zero: the figure has no floor, only a limit.
	Floor     float64
	FloorName string
	// Lower says that less is better (seconds, latencies): the ratio is then
	// Floor/Value, else Value/Floor; either way 1 is the floor's speed.
	Lower bool
	// MinRatio and Limit are the targets, when set: the ratio at least
	// MinRatio, the value within Limit (at most, or at least when !Lower).
	MinRatio float64
	Limit    float64
	Note     string
}

// ratio is the row's value against its floor, 1 at the floor's speed; 0
// without a floor.
func (r benchRow) ratio() float64 {
	if r.Floor == 0 || r.Value == 0 {
		return 0
	}
	if r.Lower {
		return r.Floor / r.Value
	}
	return r.Value / r.Floor
}

// met says whether the row reaches its targets.
func (r benchRow) met() bool {
	if r.MinRatio > 0 && r.ratio() < r.MinRatio {
		return false
	}
	if r.Limit > 0 && (r.Lower && r.Value > r.Limit || !r.Lower && r.Value < r.Limit) {
		return false
	}
	return true
}

// bench is what sections share: where to work, the baton binary, the data
// sets already made.
type bench struct {
	Dir   string // a directory for databases and files, removed at the end unless --dir
	Exe   string // this baton binary, to run as another process
	Leads int    // the size of the lead data set (--leads)
	PG    string // a PostgreSQL URL of a database the bench may fill (--pg), or ""
	Log   io.Writer
}

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	leads := fs.Int("leads", 1000000, "leads in the data set the figures are measured on")
	only := fs.String("only", "", "run only these sections, comma-separated (default all)")
	dir := fs.String("dir", "", "work here and keep the files (default a temporary directory, removed)")
	pg := fs.String("pg", "", "a postgres:// URL of an empty database the PostgreSQL sections may fill (default: they are skipped)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: baton bench [--leads N] [--only S,...] [--pg URL] [--dir DIR]\n\nSections:\n")
		for _, s := range benchSections {
			fmt.Fprintf(stderr, "  %-12s %s\n", s.Name, s.About)
		}
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *leads < 1 {
		return fmt.Errorf("--leads: at least 1, not %d", *leads)
	}
	var want []string
	if *only != "" {
		want = strings.Split(*only, ",")
		for _, w := range want {
			if !slices.ContainsFunc(benchSections, func(s benchSection) bool { return s.Name == w }) {
				return fmt.Errorf("--only: no section %q (baton bench -h lists them)", w)
			}
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	b := &bench{Dir: *dir, Exe: exe, Leads: *leads, PG: *pg, Log: stderr}
	if b.Dir == "" {
		if b.Dir, err = os.MkdirTemp("", "baton-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(b.Dir)
	} else if err := os.MkdirAll(b.Dir, 0o755); err != nil {
		return err
	}
	var rows []benchRow
	for _, s := range benchSections {
		if want != nil && !slices.Contains(want, s.Name) {
			continue
		}
		if s.Postgres && b.PG == "" {
			fmt.Fprintf(stderr, "bench: %s skipped: it needs --pg\n", s.Name)
			continue
		}
		fmt.Fprintf(stderr, "bench: %s...\n", s.Name)
		got, err := s.Run(ctx, b)
		if err != nil {
			return fmt.Errorf("%s: %w", s.Name, err)
		}
		rows = append(rows, got...)
	}
	return writeBenchTable(stdout, rows)
}

// writeBenchTable prints the rows as a table: figure, Baton, floor, ratio,
// target and whether it is met.
func writeBenchTable(w io.Writer, rows []benchRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tbaton\tfloor\tratio\ttarget\t\t")
	for _, r := range rows {
		floor, ratio := "-", "-"
		if r.Floor != 0 {
			floor, ratio = benchNum(r.Floor)+" "+r.FloorName, fmt.Sprintf("%.2f", r.ratio())
		}
		var target []string
		if r.MinRatio > 0 {
			target = append(target, fmt.Sprintf("ratio >= %.2f", r.MinRatio))
		}
		if r.Limit > 0 {
			op := ">="
			if r.Lower {
				op = "<="
			}
			target = append(target, op+" "+benchNum(r.Limit))
		}
		verdict := ""
		if len(target) > 0 {
			verdict = "met"
			if !r.met() {
				verdict = "SHORT"
			}
		}
		fmt.Fprintf(tw, "%s\t%s %s\t%s\t%s\t%s\t%s\t%s\n", r.Figure, benchNum(r.Value), r.Unit, floor, ratio, strings.Join(target, ", "), verdict, r.Note)
	}
	return tw.Flush()
}

// benchNum writes a figure with three significant digits and thousands
// separated: 1,865 and 0.142 and 19.4.
func benchNum(v float64) string {
	if v >= 1000 || v <= -1000 {
		s := strconv.FormatInt(int64(v+0.5), 10)
		var b strings.Builder
		for i, c := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		return b.String()
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// LeadsCSV is the path of a CSV file of n made-up leads (internal/leadgen,
// seed 1: the same file every run), made once per bench.
func (b *bench) LeadsCSV(n int) (string, error) {
	path := filepath.Join(b.Dir, fmt.Sprintf("leads-%d.csv", n))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	f, err := os.Create(path + ".part")
	if err != nil {
		return "", err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := leadgen.Write(w, n, 1, 1000, 4); err != nil {
		f.Close()
		return "", err
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		return "", err
	}
	return path, os.Rename(path+".part", path)
}

// benchRun is how a command run by Run went: its wall time, CPU time and
// peak resident memory.
type benchRun struct {
	Wall, CPU time.Duration
	PeakRSS   int64 // bytes
	Output    []byte
}

// Run runs the baton binary with args as another process and measures it.
// A command that fails is an error with its output.
func (b *bench) Run(ctx context.Context, args ...string) (benchRun, error) {
	return b.RunCommand(ctx, exec.CommandContext(ctx, b.Exe, args...))
}

// RunCommand runs cmd (sqlite3, psql, a floor) and measures it.
func (b *bench) RunCommand(ctx context.Context, cmd *exec.Cmd) (benchRun, error) {
	start := time.Now()
	out, err := cmd.CombinedOutput()
	r := benchRun{Wall: time.Since(start), Output: out}
	if ps := cmd.ProcessState; ps != nil {
		r.CPU = ps.UserTime() + ps.SystemTime()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			r.PeakRSS = ru.Maxrss * 1024 // kilobytes on Linux
		}
	}
	if err != nil {
		return r, fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	return r, nil
}

// benchServer is a `baton serve` started by Serve, as another process.
type benchServer struct {
	URL    string // http://127.0.0.1:PORT
	cmd    *exec.Cmd
	out    *os.File
	exited chan error
}

// Serve starts `baton serve --db db` with extra flags on a free port, as
// another process, and returns once /readyz answers 200 (waiting as long
// as it takes: ctx bounds it). Stop it with Stop.
func (b *bench) Serve(ctx context.Context, db string, flags ...string) (*benchServer, error) {
	return b.Listen(ctx, append([]string{"serve", "--db", db}, flags...)...)
}

// Listen runs the baton binary with args and --addr on a free port, as
// another process, and returns once its /readyz answers 200, as Serve does:
// for servers other than `baton serve` (a floor).
func (b *bench) Listen(ctx context.Context, args ...string) (*benchServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	out, err := os.CreateTemp(b.Dir, "serve-*.log")
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, b.Exe, slices.Concat(args, []string{"--addr", addr})...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, err
	}
	s := &benchServer{URL: "http://" + addr, cmd: cmd, out: out, exited: make(chan error, 1)}
	go func() { s.exited <- cmd.Wait() }()
	for {
		resp, err := http.Get(s.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case err := <-s.exited:
			log, _ := os.ReadFile(out.Name())
			out.Close()
			return nil, fmt.Errorf("baton %s exited before it was ready: %v\n%s", args[0], err, log)
		case <-ctx.Done():
			<-s.exited // CommandContext kills it
			out.Close()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop ends the server (SIGTERM: it shuts down as it would in
// production) and waits for it to exit.
func (s *benchServer) Stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	<-s.exited
	s.out.Close()
}

// CPUTime is the server's CPU time so far, user and system (Linux; 0
// elsewhere): read before and after a window, it is what the server spent
// in it, which a figure taken on a shared machine needs beside its timings.
func (s *benchServer) CPUTime() time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The fields after the command's name, which is in parentheses and
	// may hold spaces: utime and stime are the 12th and 13th, in ticks of
	// 1/100 s (USER_HZ, 100 on every Linux Go runs on).
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// loadAverage is the machine's load average over the last minute, as
// /proc/loadavg has it ("" elsewhere).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// PeakRSS is the server's peak resident memory so far, in bytes (Linux; 0
// elsewhere).
func (s *benchServer) PeakRSS() int64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
