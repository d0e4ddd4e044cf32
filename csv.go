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
// or a phone number ("+1 617 555 0101") is not a formula that can do harm
// and is left as it is.
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
	if phoneLike(v) {
		return v
	}
	return "'" + v
}

// phoneLike says whether v is an international phone number ("+1 (617)
// 555-0101"): a plus, a digit, then only digits, spaces, parentheses,
// dots, slashes and dashes. A spreadsheet may compute one but cannot call
// anything from it (no name, no function, no reference), and a CRM that
// imports the file would keep an apostrophe before it: it is left as it is.
func phoneLike(v string) bool {
	if len(v) < 2 || v[0] != '+' || v[1] < '0' || v[1] > '9' {
		return false
	}
	for i := 2; i < len(v); i++ {
		if c := v[i]; !(c >= '0' && c <= '9' || strings.IndexByte(" ()./-", c) >= 0) {
			return false
		}
	}
	return true
}
