package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestBenchTable checks the verdicts of the bench table: the ratio is
// against the floor whichever way is better, and a row is short of its
// targets when either is missed.
func TestBenchTable(t *testing.T) {
	for _, c := range []struct {
		row     benchRow
		ratio   string
		verdict string
	}{
		{benchRow{Figure: "import", Unit: "rows/s", Value: 60000, Floor: 190000, FloorName: "sqlite3", MinRatio: 0.3}, "0.32", "met"},
		{benchRow{Figure: "import", Unit: "rows/s", Value: 50000, Floor: 190000, FloorName: "sqlite3", MinRatio: 0.3}, "0.26", "SHORT"},
		{benchRow{Figure: "import time", Unit: "s", Value: 19, Lower: true, Limit: 20}, "-", "met"},
		{benchRow{Figure: "import time", Unit: "s", Value: 21, Lower: true, Limit: 20}, "-", "SHORT"},
		{benchRow{Figure: "copy", Unit: "s", Value: 10, Floor: 4, FloorName: "COPY", Lower: true, MinRatio: 0.5, Limit: 15}, "0.40", "SHORT"},
		{benchRow{Figure: "copy", Unit: "s", Value: 6, Floor: 4, FloorName: "COPY", Lower: true, MinRatio: 0.5, Limit: 15}, "0.67", "met"},
		{benchRow{Figure: "rss", Unit: "MB", Value: 120}, "-", ""},
	} {
		var out bytes.Buffer
		if err := writeBenchTable(&out, []benchRow{c.row}); err != nil {
			t.Fatal(err)
		}
		line := strings.Fields(strings.Split(out.String(), "\n")[1])
		if !strings.Contains(strings.Join(line, " "), " "+c.ratio+" ") {
			t.Errorf("%+v: ratio not %s in %q", c.row, c.ratio, line)
		}
		if got := c.row.met(); got != (c.verdict != "SHORT") || c.verdict != "" && line[len(line)-1] != c.verdict {
			t.Errorf("%+v: verdict %q in %q, want %s", c.row, line[len(line)-1], line, c.verdict)
		}
	}
	if got := benchNum(1234567.4); got != "1,234,567" {
		t.Errorf("benchNum(1234567.4) = %s", got)
	}
	if got := benchNum(0.14234); got != "0.142" {
		t.Errorf("benchNum(0.14234) = %s", got)
	}
}
