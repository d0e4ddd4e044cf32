package csvimport

import (
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/batonhq/baton"
)

// Leads reads a CSV file of leads and calls fn with consecutive batches of
// valid leads; rows[i] is the CSV line of leads[i]. Known columns (see the
// package doc) fill the lead's fields; every other column is a custom
// attribute named after its header. Bad rows never reach fn: they are in
// Stats.Bad. An error of fn stops reading and is returned. A file with
// account columns (a CRM export's Industry, employees, revenue, website)
// is refused: LeadRows reads it.
func Leads(r io.Reader, opt Options, fn func(leads []*baton.Lead, rows []int) error) (Stats, error) {
	return leadRows(r, opt, false, func(items []baton.LeadImport, rows []int) error {
		leads := make([]*baton.Lead, 0, len(items)) // fn may keep the batch
		for _, it := range items {
			leads = append(leads, it.Lead)
		}
		return fn(leads, rows)
	})
}

// LeadRows reads a CSV file of leads as Leads does, and with each lead the
// account its row describes, if the file has account columns (see the
// package doc): the lead's company, at the website's domain or else the
// email's (unless a mailbox provider's), with the row's industry,
// employees and annual revenue. Rows without a company or a domain have no
// account.
func LeadRows(r io.Reader, opt Options, fn func(rows []baton.LeadImport, lines []int) error) (Stats, error) {
	return leadRows(r, opt, true, fn)
}

// leadAccountFields are the columns of a lead file that describe its
// company's account.
var leadAccountFields = []string{"industry", "employees", "annual_revenue", "website"}

func leadRows(r io.Reader, opt Options, accounts bool, fn func([]baton.LeadImport, []int) error) (Stats, error) {
	var st Stats
	t, err := open(r, opt, leadKind, &st)
	if err != nil {
		return st, err
	}
	if !t.has("email") && !t.has("external_id") {
		return st, &baton.Error{Code: baton.EINVALID, Field: "email",
			Message: "the file needs an email or an external_id column (or map one with Options.Map)"}
	}
	p := &leadParser{t: t, seen: newKeySet(), opt: opt}
	for _, f := range []string{"email", "external_id", "name", "first_name", "last_name", "title", "phone", "company",
		"country", "source", "campaign", "created_at", "stage", "lead_status", "lifecycle_stage", "owner",
		"industry", "employees", "annual_revenue", "website"} {
		p.cols = append(p.cols, t.idx(f))
	}
	for _, f := range leadAccountFields {
		if t.has(f) {
			if !accounts {
				return st, &baton.Error{Code: baton.EINVALID, Field: t.headerOf(f),
					Message: "an account column: read the file with LeadRows, which makes the leads' accounts"}
			}
			p.account = true
		}
	}
	if t.has("stage") && (t.has("lead_status") || t.has("lifecycle_stage")) {
		f := "lead_status"
		if !t.has(f) {
			f = "lifecycle_stage"
		}
		return st, &baton.Error{Code: baton.EINVALID, Field: t.headerOf(f),
			Message: fmt.Sprintf("both %q and %q give the stage: map one of them away", t.headerOf("stage"), t.headerOf(f))}
	}
	if t.has("owner") && opt.Owner == nil {
		return st, &baton.Error{Code: baton.EINVALID, Field: t.headerOf("owner"),
			Message: "an owner column needs Options.Owner to find the users it names"}
	}
	if len(t.extra) > baton.MaxAttrs {
		return st, &baton.Error{Code: baton.EINVALID, Field: t.header[t.extra[baton.MaxAttrs]],
			Message: fmt.Sprintf("the file has %d custom attribute columns, at most %d allowed", len(t.extra), baton.MaxAttrs)}
	}
	p.attrs = make([]attrCol, len(t.extra))
	for j, i := range t.extra {
		a := &p.attrs[j]
		a.col, a.name, a.header = i, t.name[j], t.header[i]
		if !validName(a.name) {
			return st, &baton.Error{Code: baton.EINVALID, Field: a.header,
				Message: "a custom attribute name must be 1-100 bytes of UTF-8"}
		}
		if typ, ok := opt.AttrTypes[a.name]; ok {
			if typ != baton.AttrString && typ != baton.AttrNumber && typ != baton.AttrBool {
				return st, &baton.Error{Code: baton.EINVALID, Field: a.header, Message: fmt.Sprintf("unknown attribute type %q", typ)}
			}
			a.typ = typ
		}
	}
	var sample []record
	if p.needSample() {
		if sample, err = t.sample(SampleRows); err != nil {
			return st, err
		}
		p.infer(sample)
	}
	return st, deliver(t, opt, sample, p.parse, fn)
}

// attrCol is a custom attribute column and its type ("" until known).
type attrCol struct {
	col          int
	name, header string
	typ          baton.AttrType
}

type leadParser struct {
	t       *table
	opt     Options
	account bool  // the file has account columns
	cols    []int // columns of the lead fields, in the order of parse, -1 if absent
	attrs   []attrCol
	seen    *keySet
}

const (
	fEmail = iota
	fExternalID
	fName
	fFirstName
	fLastName
	fTitle
	fPhone
	fCompany
	fCountry
	fSource
	fCampaign
	fCreatedAt
	fStage
	fLeadStatus
	fLifecycle
	fOwner
	fIndustry
	fEmployees
	fRevenue
	fWebsite
)

func (p *leadParser) needSample() bool {
	for _, a := range p.attrs {
		if a.typ == "" {
			return true
		}
	}
	return false
}

// leadCell trims a cell; empty cells and the placeholder "Select" are
// missing. The apostrophe baton.CSVWriter puts before a cell a spreadsheet
// would run as a formula ("'+1 617 555 0101") is taken off, so that
// Baton's exports read back as they were.
func leadCell(s string) string {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "select") {
		return ""
	}
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(s[1])) {
		return s[1:]
	}
	return s
}

// infer sets the type of each untyped attribute column from the sample: a
// number if every value is a plain number (see plainNumber: no leading
// zeros, no exponent, no digits lost, so that zip codes and long ids stay
// text), a bool if every value is
// yes/no/true/false, else a string. A column with no value in the sample
// takes the type of its first value.
func (p *leadParser) infer(sample []record) {
	for j := range p.attrs {
		a := &p.attrs[j]
		if a.typ != "" {
			continue
		}
		num, boo, some := true, true, false
		for _, rec := range sample {
			if rec.bad != nil {
				continue
			}
			v := leadCell(rec.cells[a.col])
			if v == "" {
				continue
			}
			some = true
			if _, ok := plainNumber(v); !ok {
				num = false
			}
			if _, ok := parseBool(v); !ok {
				boo = false
			}
			if !num && !boo {
				break
			}
		}
		switch {
		case !some:
		case num:
			a.typ = baton.AttrNumber
		case boo:
			a.typ = baton.AttrBool
		default:
			a.typ = baton.AttrString
		}
	}
}

func typeOfValue(v string) baton.AttrType {
	if _, ok := plainNumber(v); ok {
		return baton.AttrNumber
	} else if _, ok := parseBool(v); ok {
		return baton.AttrBool
	}
	return baton.AttrString
}

func parseNumber(s string) (float64, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func parseBool(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "yes"), strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "no"), strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

func (p *leadParser) cell(rec record, f int) string {
	if c := p.cols[f]; c >= 0 {
		return leadCell(rec.cells[c])
	}
	return ""
}

func (p *leadParser) parse(rec record) (baton.LeadImport, *baton.RowError) {
	l, bad := p.parseLead(rec)
	if bad != nil {
		return baton.LeadImport{}, bad
	}
	row := baton.LeadImport{Lead: l}
	if p.account {
		if row.Account, bad = p.parseAccount(rec, l); bad != nil {
			return baton.LeadImport{}, bad
		}
	}
	return row, nil
}

func (p *leadParser) parseLead(rec record) (*baton.Lead, *baton.RowError) {
	t := p.t
	l := &baton.Lead{
		Email:      p.cell(rec, fEmail),
		ExternalID: p.cell(rec, fExternalID),
		Name:       p.cell(rec, fName),
		Title:      p.cell(rec, fTitle),
		Phone:      p.cell(rec, fPhone),
		Company:    p.cell(rec, fCompany),
		Country:    p.cell(rec, fCountry),
		Source:     p.cell(rec, fSource),
		Campaign:   p.cell(rec, fCampaign),
		Stage:      baton.Stage(strings.ToLower(p.cell(rec, fStage))),
	}
	if l.Name == "" {
		l.Name = strings.TrimSpace(p.cell(rec, fFirstName) + " " + p.cell(rec, fLastName))
	}
	if l.Email == "" && l.ExternalID == "" {
		f := "email"
		if !t.has(f) {
			f = "external_id"
		}
		return nil, t.rowError(rec.line, f, "a lead needs an email or an external_id")
	}
	if l.Email != "" {
		email, err := baton.NormalizeEmail(l.Email)
		if err != nil {
			return nil, t.rowError(rec.line, "email", "expected an email address, got %s", quote(l.Email))
		}
		l.Email = email
	}
	if s := p.cell(rec, fCreatedAt); s != "" {
		at, err := ParseTime(s, p.opt.DateOrder, p.opt.Location)
		if err != nil {
			return nil, t.rowError(rec.line, "created_at", "%s", err.Error())
		}
		l.CreatedAt = at
	}
	if lc, ls := p.cell(rec, fLifecycle), p.cell(rec, fLeadStatus); lc != "" || ls != "" {
		st, field, err := crmStage(lc, ls)
		if err != nil {
			return nil, t.rowError(rec.line, field, "%s", err.Error())
		}
		l.Stage = st
	}
	if s := p.cell(rec, fOwner); s != "" {
		id, err := p.opt.Owner(s)
		if err != nil {
			return nil, t.rowError(rec.line, "owner", "%s", err.Error())
		}
		l.OwnerID = &id
	}
	for j := range p.attrs {
		a := &p.attrs[j]
		v := leadCell(rec.cells[a.col])
		if v == "" {
			continue
		}
		if a.typ == "" { // no value in the sample: the first value decides
			a.typ = typeOfValue(v)
		}
		if l.Attrs == nil {
			l.Attrs = make(baton.Attrs, len(p.attrs))
		}
		switch a.typ {
		case baton.AttrNumber:
			f, msg := numberCell(v)
			if msg != "" {
				return nil, &baton.RowError{Row: rec.line, Column: a.header, Message: "expected " + msg}
			}
			l.Attrs[a.name] = f
		case baton.AttrBool:
			b, ok := parseBool(v)
			if !ok {
				return nil, &baton.RowError{Row: rec.line, Column: a.header, Message: "expected yes/no/true/false, got " + quote(v)}
			}
			l.Attrs[a.name] = b
		default:
			l.Attrs[a.name] = v
		}
	}
	if err := l.Validate(); err != nil {
		return nil, &baton.RowError{Row: rec.line, Column: p.columnOf(baton.ErrorField(err)), Message: baton.ErrorMessage(err)}
	}
	var he, hx uint64
	if l.Email != "" {
		var first int
		var dup bool
		if he, first, dup = p.seen.lookup("e", l.Email); dup {
			return nil, t.rowError(rec.line, "email", "duplicate email %s: first seen on row %d", quote(l.Email), first)
		}
	}
	if l.ExternalID != "" {
		var first int
		var dup bool
		if hx, first, dup = p.seen.lookup("x", l.ExternalID); dup {
			return nil, t.rowError(rec.line, "external_id", "duplicate external_id %s: first seen on row %d", quote(l.ExternalID), first)
		}
	}
	if l.Email != "" {
		p.seen.add(he, rec.line)
	}
	if l.ExternalID != "" {
		p.seen.add(hx, rec.line)
	}
	return l, nil
}

// parseAccount makes the account a row describes, or nil: named after the
// lead's company (else its domain), at the website's domain, else the
// email's unless a mailbox provider's.
func (p *leadParser) parseAccount(rec record, l *baton.Lead) (*baton.Account, *baton.RowError) {
	t := p.t
	a := &baton.Account{Name: l.Company, Industry: p.cell(rec, fIndustry)}
	if s := p.cell(rec, fWebsite); s != "" {
		a.Domain = websiteDomain(s)
	} else if d := baton.EmailDomain(l.Email); d != "" && !baton.PersonalEmailDomain(d) {
		a.Domain = d
	}
	if s := p.cell(rec, fEmployees); s != "" {
		f, ok := amount(s)
		if !ok || f != float64(int64(f)) || f < 0 {
			return nil, t.rowError(rec.line, "employees", "expected a whole number of employees, got %s", quote(s))
		}
		n := int64(f)
		a.Employees = &n
	}
	if s := p.cell(rec, fRevenue); s != "" {
		f, ok := amount(s)
		if !ok || f < 0 {
			return nil, t.rowError(rec.line, "annual_revenue", "expected an amount such as 58000000 or 58,000,000.00, got %s", quote(s))
		}
		a.AnnualRevenue = &f
	}
	if a.Name == "" {
		a.Name = a.Domain
	}
	if a.Name == "" {
		// Firmographics of no company would be lost: the row is refused.
		for _, f := range []int{fIndustry, fEmployees, fRevenue} {
			if p.cell(rec, f) != "" {
				return nil, t.rowError(rec.line, leadAccountFields[f-fIndustry], "the row has no company, website or company email to make an account of")
			}
		}
		return nil, nil
	}
	if err := a.Validate(); err != nil {
		f := baton.ErrorField(err)
		switch f {
		case "name":
			f = "company"
		case "domain":
			f = "website"
			if !t.has(f) {
				f = "email"
			}
		}
		return nil, t.rowError(rec.line, f, "account: %s", baton.ErrorMessage(err))
	}
	return a, nil
}

// websiteDomain is the domain of a website cell: "https://www.acme.com/about"
// is acme.com.
func websiteDomain(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if _, rest, ok := strings.Cut(s, "://"); ok {
		s = rest
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimPrefix(s, "www.")
}

// columnOf maps a field named by Lead.Validate back to its header.
func (p *leadParser) columnOf(field string) string {
	if name, ok := strings.CutPrefix(field, "attributes."); ok {
		for _, a := range p.attrs {
			if a.name == name {
				return a.header
			}
		}
		return field
	}
	if field == "name" && !p.t.has("name") && p.t.has("first_name") {
		return p.t.headerOf("first_name")
	}
	return p.t.headerOf(field)
}

// keySet remembers the keys seen in a file and the row of each. It keeps a
// 64-bit hash per key rather than the key, so a million-row file costs tens
// of megabytes, not hundreds. Two different keys of a million-row file share
// a hash (and the second is wrongly called a duplicate) with odds of about 1
// in 30 million.
type keySet struct {
	seed maphash.Seed
	rows map[uint64]uint32
}

func newKeySet() *keySet { return &keySet{seed: maphash.MakeSeed(), rows: map[uint64]uint32{}} }

// lookup returns the hash of a key in a namespace and, if it was seen, the
// row where.
func (k *keySet) lookup(ns, key string) (h uint64, row int, seen bool) {
	var mh maphash.Hash
	mh.SetSeed(k.seed)
	mh.WriteString(ns)
	mh.WriteByte(0)
	mh.WriteString(key)
	h = mh.Sum64()
	r, seen := k.rows[h]
	return h, int(r), seen
}

// add remembers the row of a key by the hash lookup returned.
func (k *keySet) add(h uint64, row int) { k.rows[h] = uint32(min(row, math.MaxUint32)) }
