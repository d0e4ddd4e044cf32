package csvimport

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/batonhq/baton"
)

// counter counts the bytes read and refuses to read on when one record has
// grown past MaxRecordBytes.
type counter struct {
	r    io.Reader
	n    int64
	mark int64 // n when the last record ended
}

var errTooLong = errors.New("record too long")

func (c *counter) Read(p []byte) (int, error) {
	if c.n-c.mark > MaxRecordBytes {
		return 0, errTooLong
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// record is one data row: its cells, its line, or why it is bad.
type record struct {
	cells []string
	line  int
	bad   *baton.RowError
}

// table is an open CSV file whose header has been read and resolved.
type table struct {
	cr      *csv.Reader
	cnt     *counter
	stats   *Stats
	header  []string       // trimmed headers
	field   []string       // per column: field name, "" for an extra column, Skip to drop
	col     map[string]int // field -> column
	extra   []int          // columns that are not fields (attributes, properties, or ignored)
	name    []string       // per extra column: its attribute or property name
	endLine int            // line of the end of the last record
}

// open reads and resolves the header. Errors are whole-file errors.
func open(r io.Reader, opt Options, k *kind, st *Stats) (*table, error) {
	cnt := &counter{r: r}
	br := bufio.NewReaderSize(cnt, 64<<10)
	if b, err := br.Peek(3); err == nil && string(b) == "\uFEFF" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	t := &table{cr: cr, cnt: cnt, stats: st, col: map[string]int{}}
	hdr, err := cr.Read()
	st.Bytes = cnt.n
	if err == io.EOF {
		return nil, baton.Errorf(baton.EINVALID, "empty file: no header row")
	} else if err != nil {
		return nil, t.fatal(err, 1)
	}
	line, _ := cr.FieldPos(len(hdr) - 1)
	t.endLine = line
	cnt.mark = cnt.n
	t.header = make([]string, len(hdr))
	byName := map[string]int{}
	for i, h := range hdr {
		h = strings.TrimSpace(h)
		t.header[i] = h
		if h == "" {
			continue
		}
		if j, ok := byName[norm(h)]; ok {
			return nil, &baton.Error{Code: baton.EINVALID, Field: h,
				Message: fmt.Sprintf("the header appears twice (columns %d and %d)", j+1, i+1)}
		}
		byName[norm(h)] = i
	}
	// Fields from the map first, then from the aliases.
	t.field = make([]string, len(hdr))
	mapped := make([]bool, len(hdr))
	for h, f := range opt.Map {
		i, ok := byName[norm(h)]
		if !ok {
			return nil, &baton.Error{Code: baton.EINVALID, Field: strings.TrimSpace(h),
				Message: "the column map names a column that is not in the file"}
		}
		switch {
		case f == Skip || k.isField(f):
		case k.attrs && strings.HasPrefix(f, AttrPrefix) && strings.TrimSpace(f[len(AttrPrefix):]) != "":
			f = ""
		default:
			return nil, &baton.Error{Code: baton.EINVALID, Field: t.header[i],
				Message: fmt.Sprintf("mapped to %q, which is not a %s field (want one of %s)", f, k.name, strings.Join(k.fields(), ", "))}
		}
		t.field[i], mapped[i] = f, true
	}
	for i, h := range t.header {
		if mapped[i] {
			continue
		}
		if h == "" {
			t.field[i] = Skip
			st.Ignored = append(st.Ignored, fmt.Sprintf("(column %d, no header)", i+1))
			continue
		}
		t.field[i] = k.aliases[norm(h)]
	}
	for i, f := range t.field {
		switch f {
		case Skip:
		case "":
			t.extra = append(t.extra, i)
			name := t.header[i]
			if mf, ok := lookupMap(opt.Map, t.header[i]); ok && strings.HasPrefix(mf, AttrPrefix) {
				name = strings.TrimSpace(mf[len(AttrPrefix):])
			}
			t.name = append(t.name, name)
		default:
			if j, ok := t.col[f]; ok {
				return nil, &baton.Error{Code: baton.EINVALID, Field: t.header[i],
					Message: fmt.Sprintf("both %q and %q are the %s field", t.header[j], t.header[i], f)}
			}
			t.col[f] = i
		}
	}
	return t, nil
}

func lookupMap(m map[string]string, h string) (string, bool) {
	for k, f := range m {
		if norm(k) == norm(h) {
			return f, true
		}
	}
	return "", false
}

// ignoreExtra drops the extra columns, listing them in Stats.Ignored.
func (t *table) ignoreExtra() {
	for _, i := range t.extra {
		t.stats.Ignored = append(t.stats.Ignored, t.header[i])
	}
	t.extra, t.name = nil, nil
}

// has reports whether the file has a column for the field.
func (t *table) has(f string) bool { _, ok := t.col[f]; return ok }

// idx returns the column of a field, or -1.
func (t *table) idx(f string) int {
	if i, ok := t.col[f]; ok {
		return i
	}
	return -1
}

// header name of the column of a field, or the field name itself.
func (t *table) headerOf(f string) string {
	if i, ok := t.col[f]; ok {
		return t.header[i]
	}
	return f
}

// require returns a whole-file error unless the file has a column for f.
func (t *table) require(f string) error {
	if !t.has(f) {
		return &baton.Error{Code: baton.EINVALID, Field: f, Message: "required column is missing"}
	}
	return nil
}

// fatal turns an error that stops reading into an error naming the line.
func (t *table) fatal(err error, line int) error {
	if errors.Is(err, errTooLong) {
		return baton.Errorf(baton.EINVALID, "line %d: a record longer than %d bytes (an unclosed quote?)", line, MaxRecordBytes)
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return baton.Errorf(baton.EINVALID, "line %d: %v", pe.StartLine, pe.Err)
	}
	return fmt.Errorf("csvimport: reading line %d: %w", line, err)
}

// next reads the next data row. It returns io.EOF at the end; a row that
// cannot be parsed or has the wrong number of fields comes back bad.
func (t *table) next() (record, error) {
	cells, err := t.cr.Read()
	t.stats.Bytes = t.cnt.n
	if err == io.EOF {
		return record{}, io.EOF
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) && !errors.Is(err, errTooLong) && pe.Err != nil {
		t.stats.Rows++
		t.endLine = pe.Line
		t.cnt.mark = t.cnt.n
		return record{line: pe.StartLine, bad: &baton.RowError{Row: pe.StartLine,
			Message: fmt.Sprintf("cannot read the row: %v at line %d, column %d", pe.Err, pe.Line, pe.Column)}}, nil
	} else if err != nil {
		return record{}, t.fatal(err, t.endLine+1)
	}
	t.stats.Rows++
	t.cnt.mark = t.cnt.n
	line, _ := t.cr.FieldPos(0)
	t.endLine, _ = t.cr.FieldPos(len(cells) - 1)
	rec := record{cells: cells, line: line}
	if len(cells) != len(t.header) {
		rec.bad = &baton.RowError{Row: line,
			Message: fmt.Sprintf("has %d fields, header has %d", len(cells), len(t.header))}
	}
	return rec, nil
}

// sample reads up to n rows ahead.
func (t *table) sample(n int) ([]record, error) {
	var recs []record
	for len(recs) < n {
		rec, err := t.next()
		if err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// rowError returns a bad row naming the column of a field.
func (t *table) rowError(line int, field, format string, args ...any) *baton.RowError {
	return &baton.RowError{Row: line, Column: t.headerOf(field), Message: fmt.Sprintf(format, args...)}
}

// deliver parses the pending rows and then the rest of the file, and hands
// the good rows to fn in batches.
func deliver[T any](t *table, opt Options, pending []record, parse func(record) (T, *baton.RowError), fn func([]T, []int) error) error {
	size := opt.batchSize()
	var batch []T
	var rows []int
	flush := func() error {
		if len(batch) > 0 {
			if err := fn(batch, rows); err != nil {
				return err
			}
			batch, rows = nil, nil
		}
		if opt.Progress != nil {
			opt.Progress(t.stats.Bytes)
		}
		return nil
	}
	handle := func(rec record) error {
		if rec.bad == nil {
			v, bad := parse(rec)
			if bad == nil {
				if batch == nil {
					batch, rows = make([]T, 0, size), make([]int, 0, size)
				}
				batch, rows = append(batch, v), append(rows, rec.line)
				if len(batch) >= size {
					return flush()
				}
				return nil
			}
			rec.bad = bad
		}
		t.stats.addBad(*rec.bad)
		return nil
	}
	for i := range pending {
		if err := handle(pending[i]); err != nil {
			return err
		}
		pending[i] = record{} // let the sample go as it is used
	}
	for {
		rec, err := t.next()
		if err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		if err := handle(rec); err != nil {
			return err
		}
	}
	return flush()
}

// validText reports whether a header can be an attribute or property name.
func validName(s string) bool {
	return s != "" && len(s) <= 100 && utf8.ValidString(s)
}
