package baton_test

import (
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

func TestCSVWriterDefusesFormulas(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"Acme", "Acme"},
		{"=HYPERLINK(\"http://evil.example\",\"x\")", "'=HYPERLINK(\"http://evil.example\",\"x\")"},
		{"@SUM(A1:A9)", "'@SUM(A1:A9)"},
		{"+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"},
		{"-2+3", "'-2+3"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"-12.5", "-12.5"}, // a number is not a formula
		{"+7", "+7"},
		{"+1 (617) 555-0101", "+1 (617) 555-0101"}, // a phone number: nothing to call
		{"+49 30/1234.56", "+49 30/1234.56"},
		{"+1 617 SUM(A1)", "'+1 617 SUM(A1)"},
		{"+1+cmd", "'+1+cmd"},
		{"+ 1", "'+ 1"},
		{"1e3", "1e3"},
		{"a=b", "a=b"}, // only the first character counts
	} {
		if got := baton.SafeCSVCell(c.in); got != c.want {
			t.Errorf("SafeCSVCell(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	var b strings.Builder
	w := baton.NewCSVWriter(&b)
	if err := w.WriteAll([][]string{{"name", "fit"}, {"=1+1", "-10"}}); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "name,fit\n'=1+1,-10\n"; got != want {
		t.Fatalf("CSV %q, want %q", got, want)
	}
}
