package baton

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// CSVWriter writes CSV that is safe to open in a spreadsheet: every export
// and report of Baton goes through it. A cell that a spreadsheet would run
// as a formula (one that begins with =, +, -, @, a tab or a carriage
// return, which some read past) is written as text, behind an apostrophe,
// as OWASP advises for CSV injection; a cell that is a number ("-12.5")
// is one, not a formula, and is left as it is.
type CSVWriter struct {
	w *csv.Writer
}

// NewCSVWriter returns a CSVWriter writing to w.
func NewCSVWriter(w io.Writer) *CSVWriter { return &CSVWriter{w: csv.NewWriter(w)} }

// Write writes one record, each cell made safe.
func (c *CSVWriter) Write(record []string) error {
	safe := make([]string, len(record))
	for i, v := range record {
		safe[i] = SafeCSVCell(v)
	}
	return c.w.Write(safe)
}

// WriteAll writes the records and flushes.
func (c *CSVWriter) WriteAll(records [][]string) error {
	for _, r := range records {
		if err := c.Write(r); err != nil {
			return err
		}
	}
	c.w.Flush()
	return c.w.Error()
}

// Flush writes what is buffered.
func (c *CSVWriter) Flush() { c.w.Flush() }

// Error reports an error of an earlier Write or Flush.
func (c *CSVWriter) Error() error { return c.w.Error() }

// SafeCSVCell returns the cell as CSVWriter writes it.
func SafeCSVCell(v string) string {
	if v == "" || !strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return v
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return v
	}
	return "'" + v
}
