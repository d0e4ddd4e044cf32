package csvimport

import (
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/batonhq/baton"
)

// Accounts reads a CSV file of accounts and calls fn with consecutive batches
// of valid accounts; rows[i] is the CSV line of accounts[i]. The name column
// is required. The CRM data set's accounts.csv imports as it is: its revenue
// is in millions of USD. Unknown columns are listed in Stats.Ignored. Bad
// rows never reach fn: they are in Stats.Bad. An error of fn stops reading
// and is returned.
func Accounts(r io.Reader, opt Options, fn func(accounts []*baton.Account, rows []int) error) (Stats, error) {
	var st Stats
	t, err := open(r, opt, accountKind, &st)
	if err != nil {
		return st, err
	}
	if isCRMAccounts(t) {
		if _, mapped := lookupMap(opt.Map, t.headerOf("annual_revenue")); !mapped && !t.has("annual_revenue_musd") {
			i := t.col["annual_revenue"]
			delete(t.col, "annual_revenue")
			t.col["annual_revenue_musd"], t.field[i] = i, "annual_revenue_musd"
		}
	}
	t.ignoreExtra()
	if err := t.require("name"); err != nil {
		return st, err
	}
	if t.has("annual_revenue") && t.has("annual_revenue_musd") {
		return st, &baton.Error{Code: baton.EINVALID, Field: t.headerOf("annual_revenue_musd"),
			Message: "give the revenue once: in USD (annual_revenue) or in millions of USD (annual_revenue_musd)"}
	}
	seen := newKeySet()
	cell := func(rec record, f string) string {
		if i, ok := t.col[f]; ok {
			return strings.TrimSpace(rec.cells[i])
		}
		return ""
	}
	parse := func(rec record) (*baton.Account, *baton.RowError) {
		a := &baton.Account{
			Name:     cell(rec, "name"),
			Domain:   cell(rec, "domain"),
			Industry: cell(rec, "industry"),
			Country:  cell(rec, "country"),
		}
		if s := cell(rec, "employees"); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, t.rowError(rec.line, "employees", "expected a whole number, got %s", quote(s))
			}
			a.Employees = &n
		}
		if s := cell(rec, "annual_revenue"); s != "" {
			f, ok := parseNumber(s)
			if !ok {
				return nil, t.rowError(rec.line, "annual_revenue", "expected a number, got %s", quote(s))
			}
			a.AnnualRevenue = &f
		}
		if s := cell(rec, "annual_revenue_musd"); s != "" {
			f, ok := parseMillions(s)
			if !ok {
				return nil, t.rowError(rec.line, "annual_revenue_musd", "expected a number (millions of USD), got %s", quote(s))
			}
			a.AnnualRevenue = &f
		}
		if err := a.Validate(); err != nil {
			f := baton.ErrorField(err)
			if f == "annual_revenue" && t.has("annual_revenue_musd") {
				f = "annual_revenue_musd"
			}
			return nil, t.rowError(rec.line, f, "%s", baton.ErrorMessage(err))
		}
		ns, key, field := "d", a.Domain, "domain"
		if key == "" {
			ns, key, field = "n", strings.ToLower(a.Name), "name"
		}
		h, first, dup := seen.lookup(ns, key)
		if dup {
			return nil, t.rowError(rec.line, field, "duplicate %s %s: first seen on row %d", field, quote(key), first)
		}
		seen.add(h, rec.line)
		return a, nil
	}
	return st, deliver(t, opt, nil, parse, fn)
}

// isCRMAccounts reports whether the file has the header of the CRM data set's
// accounts.csv.
func isCRMAccounts(t *table) bool {
	if !t.has("annual_revenue") {
		return false
	}
	var hs []string
	for _, h := range t.header {
		hs = append(hs, norm(h))
	}
	for _, h := range crmAccountsHeader {
		if !slices.Contains(hs, h) {
			return false
		}
	}
	return norm(t.headerOf("annual_revenue")) == "revenue"
}

// parseMillions reads a number of millions exactly: "1100.04" is
// 1100.04e6, not 1100.04*1e6 with its rounding error.
func parseMillions(s string) (float64, bool) {
	if _, ok := parseNumber(s); !ok {
		return 0, false
	}
	if !strings.ContainsAny(s, "eEpPxXnN_") { // a plain decimal: shift it
		if f, ok := parseNumber(s + "e6"); ok {
			return f, true
		}
	}
	f, _ := parseNumber(s)
	f *= 1e6
	return f, !math.IsInf(f, 0)
}
