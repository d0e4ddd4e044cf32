package csvimport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

func TestParseMap(t *testing.T) {
	tests := []struct {
		spec string
		want map[string]string
		err  string
	}{
		{spec: "Prospect ID=external_id,Lead Source=source", want: map[string]string{"Prospect ID": "external_id", "Lead Source": "source"}},
		{spec: " Prospect ID = EXTERNAL_ID ,, Junk=-,", want: map[string]string{"Prospect ID": "external_id", "Junk": "-"}},
		{spec: "Lead Number=attributes.Lead No", want: map[string]string{"Lead Number": "attributes.Lead No"}},
		{spec: "revenue=annual_revenue_musd,office=team,ts=occurred_at", want: map[string]string{"revenue": "annual_revenue_musd", "office": "team", "ts": "occurred_at"}},
		{spec: "a=b=email", want: map[string]string{"a=b": "email"}},
		{spec: "", want: map[string]string{}},
		{spec: "Prospect ID", err: "is not HEADER=FIELD"},
		{spec: "=email", err: "is not HEADER=FIELD"},
		{spec: "Prospect ID=", err: "is not HEADER=FIELD"},
		{spec: "Prospect ID=externalid", err: `unknown field "externalid"`},
		{spec: "x=attributes.", err: "unknown field"},
		{spec: "A=email,a=name", err: "mapped twice"},
	}
	for _, tc := range tests {
		got, err := ParseMap(tc.spec)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || baton.ErrorCode(err) != baton.EINVALID {
				t.Errorf("ParseMap(%q) error = %v, want %q", tc.spec, err, tc.err)
			}
			continue
		}
		if err != nil || !maps.Equal(got, tc.want) {
			t.Errorf("ParseMap(%q) = %v, %v; want %v", tc.spec, got, err, tc.want)
		}
	}
}

func TestBatchesProgressAndAbort(t *testing.T) {
	in := numbers(24, "1") // 25 data rows, lines 2..26
	var sizes, firstRows []int
	var progress []int64
	stop := errors.New("stop")
	st, err := Leads(strings.NewReader(in), Options{BatchSize: 10, Progress: func(n int64) { progress = append(progress, n) }},
		func(ls []*baton.Lead, rows []int) error {
			sizes, firstRows = append(sizes, len(ls)), append(firstRows, rows[0])
			return nil
		})
	if err != nil || fmt.Sprint(sizes) != "[10 10 5]" || fmt.Sprint(firstRows) != "[2 12 22]" {
		t.Fatalf("sizes %v, first rows %v, err %v", sizes, firstRows, err)
	}
	if len(progress) != 3 || progress[2] != int64(len(in)) || st.Bytes != int64(len(in)) {
		t.Errorf("progress %v, Bytes %d, want it to end at %d", progress, st.Bytes, len(in))
	}
	calls := 0
	_, err = Leads(strings.NewReader(in), Options{BatchSize: 10}, func([]*baton.Lead, []int) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("err %v after %d calls, want stop after 1", err, calls)
	}
}

// failReader fails after its data.
type failReader struct{ r io.Reader }

func (f failReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errors.New("disk on fire")
	}
	return n, err
}

func TestReadErrors(t *testing.T) {
	_, err := Leads(failReader{strings.NewReader("email\na@x.com\nb@x.com\n")}, Options{}, func([]*baton.Lead, []int) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "disk on fire") || !strings.Contains(err.Error(), "line 4") {
		t.Errorf("err = %v, want the read error naming line 4", err)
	}
	// An unclosed quote that swallows the rest of a big file stops at MaxRecordBytes.
	big := io.MultiReader(strings.NewReader("email,name\na@x.com,\"never closed"), bytes.NewReader(make([]byte, MaxRecordBytes+1<<20)))
	_, err = Leads(big, Options{}, func([]*baton.Lead, []int) error { return nil })
	if baton.ErrorCode(err) != baton.EINVALID || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("err = %v, want EINVALID naming line 2", err)
	}
}

func TestManyBadRowsAreCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("email\n")
	for range MaxBad + 5 {
		b.WriteString("bad\n")
	}
	st, err := Leads(strings.NewReader(b.String()), Options{}, func([]*baton.Lead, []int) error { return nil })
	if err != nil || len(st.Bad) != MaxBad || st.BadRows != MaxBad+5 || st.Rows != MaxBad+5 {
		t.Errorf("len(Bad) %d, BadRows %d, Rows %d, err %v", len(st.Bad), st.BadRows, st.Rows, err)
	}
}

// TestMillionLeads streams a generated file of a million leads through Leads
// and checks that memory stays flat.
func TestMillionLeads(t *testing.T) {
	if testing.Short() {
		t.Skip("streams a million rows")
	}
	const n = 1_000_000
	pr, pw := io.Pipe()
	go func() {
		w := bytesWriter{pw: pw}
		w.WriteString("Email,Prospect ID,First Name,Last Name,Lead Source,Country,TotalVisits,Do Not Email,Notes\r\n")
		for i := range n {
			fmt.Fprintf(&w, "lead%d@example.com,p-%d,Ann,Lee %d,Web,India,%d,%s,\"a note, with a comma\"\r\n", i, i, i, i%17, []string{"Yes", "No"}[i%2])
			if w.buf.Len() > 64<<10 {
				w.flush()
			}
		}
		w.flush()
		pw.Close()
	}()
	var got, lastRow int
	var peak uint64
	var ms runtime.MemStats
	start := time.Now()
	st, err := Leads(pr, Options{}, func(ls []*baton.Lead, rows []int) error {
		got += len(ls)
		lastRow = rows[len(rows)-1]
		if got%(100*DefaultBatchSize) == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != n || st.Rows != n || st.BadRows != 0 || lastRow != n+1 {
		t.Fatalf("delivered %d of %d rows (last row %d), bad %v", got, st.Rows, lastRow, st.Bad)
	}
	// The duplicate index (two keys a row, a 12-byte entry each in a hash
	// table) is ~70 MiB here; the rows themselves (82 MiB of text, several
	// hundred MiB as leads) must not stay.
	if peak > 120<<20 {
		t.Errorf("live heap reached %d MiB", peak>>20)
	}
	t.Logf("%d rows, %d MiB read in %v, peak live heap %d MiB", got, st.Bytes>>20, time.Since(start), peak>>20)
}

type bytesWriter struct {
	pw  *io.PipeWriter
	buf bytes.Buffer
}

func (w *bytesWriter) Write(p []byte) (int, error)       { return w.buf.Write(p) }
func (w *bytesWriter) WriteString(s string) (int, error) { return w.buf.WriteString(s) }
func (w *bytesWriter) flush()                            { w.pw.Write(w.buf.Bytes()); w.buf.Reset() }
