package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/csvimport"
	"github.com/batonhq/baton/store"
)

func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dsn := newFlags("import", stderr)
	mapping := fs.String("map", "", `column mapping "CSV header=field,..." (field "-" skips a column)`)
	batch := fs.Int("batch", importBatch, "rows per transaction")
	emailDomain := fs.String("email-domain", csvimport.DefaultEmailDomain, "users: domain of first.last@DOMAIN emails made from names")
	maxErrors := fs.Int("show-errors", 20, "how many bad rows to print (all are counted)")
	dateOrder := fs.String("date-order", "mdy", "leads: how slashed dates read: mdy (3/4/2026 is March 4) or dmy")
	zone := fs.String("timezone", "UTC", "leads: time zone of times without an offset (an IANA name)")
	cpuProfile := fs.String("cpu-profile", "", "write a CPU profile of the import to this file (go tool pprof reads it)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return fmt.Errorf("usage: baton import leads|accounts|users|events FILE.csv [--map ...]")
	}
	kind, path := pos[0], pos[1]
	opt := csvimport.Options{BatchSize: *batch, EmailDomain: *emailDomain}
	if opt.DateOrder, err = csvimport.ParseDateOrder(*dateOrder); err != nil {
		return err
	}
	if opt.Location, err = time.LoadLocation(*zone); err != nil {
		return fmt.Errorf("--timezone: %w", err)
	}
	if *mapping != "" {
		if opt.Map, err = csvimport.ParseMap(*mapping); err != nil {
			return err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var size int64
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	// The Go heap of an import is its batches in flight and the keys seen:
	// a soft limit has the collector keep it near that rather than let it
	// double between collections (a million leads: 286 MB resident at
	// most, 363 MB without it and NoMmap below; measured here). An
	// operator's GOMEMLIMIT wins.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(128 << 20)
	}
	// An import writes much and reads little: its memory need not hold
	// the pages of the database it touched (store.Options.NoMmap).
	db, err := openDBWith(ctx, *dsn, store.Options{NoMmap: true})
	if err != nil {
		return err
	}
	defer db.Close()
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	p := newProgress(stderr, size)
	opt.Progress = p.read
	res, accounts, stats, err := importFile(ctx, db, kind, f, filepath.Base(path), opt, p.stored)
	p.done()
	if err != nil {
		return err
	}
	// Rows the parser refused and rows storage refused, in file order.
	bad := append(append([]baton.RowError(nil), stats.Bad...), res.Errors...)
	sort.SliceStable(bad, func(i, j int) bool { return bad[i].Row < bad[j].Row })
	for i, e := range bad {
		if i == *maxErrors {
			fmt.Fprintf(stderr, "... and %d more bad rows\n", len(bad)-i)
			break
		}
		fmt.Fprintln(stderr, e.Error())
	}
	fmt.Fprintf(stdout, "%d created, %d updated, %d rejected\n", res.Created, res.Updated, stats.BadRows+res.Rejected)
	if accounts.Created+accounts.Updated > 0 {
		fmt.Fprintf(stdout, "accounts: %d created, %d updated\n", accounts.Created, accounts.Updated)
	}
	return nil
}

// importBatch is the CLI's default number of rows per transaction: enough
// that the fixed cost of a transaction (its lookups, its counters, its
// commit) is small beside its rows', few enough that a crash loses little
// and two batches in memory are a few tens of megabytes.
const importBatch = 10000

// importFile parses the file and stores it batch by batch: each batch is one
// transaction, so a crash leaves whole batches, and upserts by key make a
// re-run add nothing twice. The file is read and checked in a goroutine of
// its own while the batch before is stored (see pipeline). stored, if set,
// is told the number of rows of each batch stored.
func importFile(ctx context.Context, db *store.DB, kind string, r io.Reader, name string, opt csvimport.Options, stored func(rows int)) (res, accounts baton.ImportResult, stats csvimport.Stats, err error) {
	ctx = baton.WithActor(ctx, baton.Actor{Name: "cli", Role: baton.RoleSystem, Via: "import " + name})
	renumber := func(r baton.ImportResult, rows []int) baton.ImportResult {
		for i := range r.Errors {
			if idx := r.Errors[i].Row; idx >= 0 && idx < len(rows) {
				r.Errors[i].Row = rows[idx]
			}
		}
		return r
	}
	done := func(rows []int) {
		if stored != nil {
			stored(len(rows))
		}
	}
	switch kind {
	case "leads":
		defs, derr := db.AttributeDefs(ctx)
		if derr != nil {
			return res, accounts, stats, derr
		}
		opt.AttrTypes = map[string]baton.AttrType{}
		for _, d := range defs {
			opt.AttrTypes[d.Name] = d.Type
		}
		if opt.Owner, err = findOwner(ctx, db); err != nil {
			return res, accounts, stats, err
		}
		// A CRM file's rows may describe their leads' accounts (import_crm.go).
		stats, err = pipeline(func(fn func([]baton.LeadImport, []int) error) (csvimport.Stats, error) {
			return csvimport.LeadRows(r, opt, fn)
		},
			func(leads []baton.LeadImport, rows []int) error {
				out, acc, err := db.ImportLeadRows(ctx, leads)
				res.Add(renumber(out, rows))
				accounts.Add(acc)
				done(rows)
				return err
			})
	case "accounts":
		stats, err = pipeline(func(fn func([]*baton.Account, []int) error) (csvimport.Stats, error) {
			return csvimport.Accounts(r, opt, fn)
		},
			func(accounts []*baton.Account, rows []int) error {
				out, err := db.ImportAccounts(ctx, accounts)
				res.Add(renumber(out, rows))
				done(rows)
				return err
			})
	case "users":
		stats, err = csvimport.Users(r, opt, func(users []baton.UserImport, rows []int) error {
			out, err := db.ImportUsers(ctx, users)
			res.Add(renumber(out, rows))
			done(rows)
			return err
		})
	case "events":
		stats, err = pipeline(func(fn func([]baton.EventInput, []int) error) (csvimport.Stats, error) {
			return csvimport.Events(r, opt, fn)
		},
			func(events []baton.EventInput, rows []int) error {
				out, err := db.RecordEvents(ctx, events)
				res.Created += out.Created
				res.Rejected += out.Rejected
				res.Add(renumber(baton.ImportResult{Errors: out.Errors}, rows))
				done(rows)
				return err
			})
	default:
		return res, accounts, stats, fmt.Errorf("import: unknown kind %q (want leads, accounts, users or events)", kind)
	}
	return res, accounts, stats, err
}

// errStopped stops a parser whose batches are no longer stored.
var errStopped = errors.New("import stopped")

// pipeline runs parse, which hands batches to its callback, in a goroutine
// of its own, and store on each batch in this one: the next batch is read
// and checked (one core) while this one is written (the other). parse is at
// most one batch ahead, so memory holds two. The first error of store stops
// parse and is returned; else parse's.
func pipeline[T any](parse func(fn func([]T, []int) error) (csvimport.Stats, error), store func([]T, []int) error) (csvimport.Stats, error) {
	type batch struct {
		items []T
		rows  []int
	}
	ch := make(chan batch)
	stop := make(chan struct{})
	var stats csvimport.Stats
	var perr error
	go func() {
		defer close(ch)
		stats, perr = parse(func(items []T, rows []int) error {
			select {
			case ch <- batch{items, rows}:
				return nil
			case <-stop:
				return errStopped
			}
		})
	}()
	var serr error
	for b := range ch {
		if serr == nil {
			if serr = store(b.items, b.rows); serr != nil {
				close(stop)
			}
		}
	}
	if serr != nil {
		return stats, serr
	}
	return stats, perr
}

// progress draws a progress bar on a terminal, with the rows stored and
// their rate, and nothing otherwise. The parser reports bytes read and the
// storer rows stored, from two goroutines.
type progress struct {
	w     io.Writer
	size  int64
	start time.Time
	on    bool

	mu    sync.Mutex
	bytes int64
	rows  int
	last  time.Time
}

func newProgress(w io.Writer, size int64) *progress {
	on := false
	if f, ok := w.(*os.File); ok {
		on = term.IsTerminal(int(f.Fd()))
	}
	return &progress{w: w, size: size, start: time.Now(), on: on}
}

// read records the bytes read so far.
func (p *progress) read(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bytes = n
	p.draw(false)
}

// stored adds rows stored.
func (p *progress) stored(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rows += n
	p.draw(false)
}

// draw draws the bar, at most ten times a second unless final.
func (p *progress) draw(final bool) {
	if !p.on || !final && time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	frac := 0.0
	if p.size > 0 {
		frac = min(float64(p.bytes)/float64(p.size), 1)
	}
	const width = 30
	bar := strings.Repeat("=", int(frac*width)) + strings.Repeat(" ", width-int(frac*width))
	took := time.Since(p.start)
	rate := 0.0
	if took > 0 {
		rate = float64(p.rows) / took.Seconds()
	}
	fmt.Fprintf(p.w, "\r[%s] %3.0f%%  %s / %s  %s rows  %s rows/s  %s\033[K", bar, frac*100, mb(p.bytes), mb(p.size),
		thousands(int64(p.rows)), thousands(int64(rate)), took.Round(time.Second))
}

// done leaves the bar's last state on its line: how many rows, how fast.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.on {
		p.draw(true)
		fmt.Fprintln(p.w)
	}
}

// thousands writes n with commas between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func prob(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', 4, 64)
}

func day(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format("2006-01-02")
}

func mb(n int64) string { return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB" }

func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dsn := newFlags("export", stderr)
	stage := fs.String("stage", "", "only leads in this stage")
	source := fs.String("source", "", "only leads from this source")
	layout := fs.String("layout", "baton", "columns: baton (Baton's own), salesforce (a Lead import) or hubspot (a contact import)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "leads" {
		return fmt.Errorf("usage: baton export leads [--stage S] [--source S] [--layout baton|salesforce|hubspot] > leads.csv")
	}
	if _, ok := crmLayouts[*layout]; !ok && *layout != "baton" {
		return fmt.Errorf("export: unknown layout %q (want baton, salesforce or hubspot)", *layout)
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx = baton.WithActor(ctx, baton.Actor{Name: "cli", Role: baton.RoleSystem, Via: "cli"})
	f := baton.LeadFilter{Limit: 1000}
	if *stage != "" {
		st, err := baton.ParseStage("stage", *stage)
		if err != nil {
			return err
		}
		f.Stage = &st
	}
	if *source != "" {
		f.Source = source
	}
	// Lead data leaving Baton is audited, before a row leaves.
	q := url.Values{}
	if f.Stage != nil {
		q.Set("stage", string(*f.Stage))
	}
	if f.Source != nil {
		q.Set("source", *f.Source)
	}
	if *layout != "baton" {
		q.Set("layout", *layout)
	}
	if err := db.RecordExport(ctx, "leads", q.Encode()); err != nil {
		return err
	}
	if *layout != "baton" {
		return exportCRMLeads(ctx, db, *layout, f, stdout)
	}
	return exportLeads(ctx, db, f, stdout)
}

// exportLeads writes leads as CSV (baton.CSVWriter: safe to open in a
// spreadsheet): the fixed fields, then one column per custom attribute. It pages by id so that a million leads stream.
func exportLeads(ctx context.Context, db *store.DB, f baton.LeadFilter, w io.Writer) error {
	defs, err := db.AttributeDefs(ctx)
	if err != nil {
		return err
	}
	cw := baton.NewCSVWriter(w)
	header := []string{"id", "email", "external_id", "name", "title", "phone", "company", "country", "source", "campaign",
		"account_id", "owner_id", "stage", "created_at", "updated_at", "fit", "engagement", "probability", "nurture_track", "nurture_until"}
	for _, d := range defs {
		header = append(header, d.Name)
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	ids := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	return db.EachLead(ctx, f, func(l *baton.Lead) error {
		rec := []string{strconv.FormatInt(l.ID, 10), l.Email, l.ExternalID, l.Name, l.Title, l.Phone, l.Company, l.Country,
			l.Source, l.Campaign, ids(l.AccountID), ids(l.OwnerID), string(l.Stage),
			l.CreatedAt.Format(time.RFC3339), l.UpdatedAt.Format(time.RFC3339),
			strconv.FormatFloat(l.Score.Fit, 'f', -1, 64), strconv.FormatFloat(l.Score.Engagement, 'f', 2, 64), prob(l.Score.Probability),
			l.NurtureTrack, day(l.NurtureUntil)}
		rec = append(rec, attrCells(defs, l.Attrs)...)
		if err := cw.Write(rec); err != nil {
			return err
		}
		cw.Flush()
		return cw.Error()
	})
}
