package csvimport

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// DefaultBatchSize is the number of rows per batch when Options.BatchSize is 0.
const DefaultBatchSize = 1000

// DefaultEmailDomain is the domain of the emails made up for users that have
// a name but no email column.
const DefaultEmailDomain = "example.com"

// MaxBad is the most bad rows kept in Stats.Bad; Stats.BadRows counts them all,
// so that a file of a million bad rows does not fill memory with errors.
const MaxBad = 10000

// MaxRecordBytes is the longest record read: a longer one (usually an
// unclosed quote swallowing the rest of the file) is a whole-file error.
const MaxRecordBytes = 8 << 20

// SampleRows is the number of data rows read ahead to infer the type of the
// custom attribute columns of a lead file.
const SampleRows = 1000

// Skip is the Options.Map target that drops a column.
const Skip = "-"

// AttrPrefix starts an Options.Map target that imports a lead column as the
// custom attribute named after it: "Lead Number=attributes.lead_number".
const AttrPrefix = "attributes."

// Options says how to read a CSV file. The zero value reads a file whose
// headers are field names or built-in aliases.
type Options struct {
	// Map maps a CSV header (matched trimmed and case-insensitively) to a
	// field name. It overrides the built-in aliases; the target "-" (Skip)
	// drops the column, and for leads "attributes.NAME" imports it as the
	// custom attribute NAME. A header named here that is not in the file is a
	// whole-file error.
	Map map[string]string
	// BatchSize is the number of rows per call of fn (DefaultBatchSize if 0).
	BatchSize int
	// EmailDomain is the domain of first.last@DOMAIN emails made for users
	// when the file has no email column (DefaultEmailDomain if empty).
	EmailDomain string
	// AttrTypes are the custom attribute types storage already knows; a
	// column named here must hold values of that type. The type of any other
	// column is inferred from the first SampleRows data rows.
	AttrTypes map[string]baton.AttrType
	// DateOrder says how slashed dates read (MonthFirst if empty).
	DateOrder DateOrder
	// Location is the time zone of times without an offset (UTC if nil).
	Location *time.Location
	// Owner finds the user a lead file's owner column names (by email, or
	// by full name); its error is the row's. A file with an owner column
	// needs it.
	Owner func(emailOrName string) (userID int64, err error)
	// Progress, if set, is called after every batch and at the end with the
	// number of bytes read so far.
	Progress func(bytesRead int64)
}

func (o Options) batchSize() int {
	if o.BatchSize <= 0 {
		return DefaultBatchSize
	}
	return o.BatchSize
}

func (o Options) emailDomain() string {
	if o.EmailDomain == "" {
		return DefaultEmailDomain
	}
	return o.EmailDomain
}

// Stats says what a reader read.
type Stats struct {
	// Rows is the number of data rows read (good and bad; not the header).
	Rows int
	// Bad holds the first MaxBad bad rows, in file order: Row is the CSV line
	// number, Column the header at fault and Message what was expected.
	Bad []baton.RowError
	// BadRows counts every bad row, including those past MaxBad.
	BadRows int
	// Bytes is the number of bytes read so far.
	Bytes int64
	// Ignored lists the columns that were not imported: unknown columns of
	// accounts and users files, and columns with an empty header.
	Ignored []string
}

func (s *Stats) addBad(e baton.RowError) {
	s.BadRows++
	if len(s.Bad) < MaxBad {
		s.Bad = append(s.Bad, e)
	}
}

// kind describes one kind of file: its fields and their header aliases.
type kind struct {
	name    string
	aliases map[string]string // normalised header -> field; every field maps to itself
	attrs   bool              // Map may target attributes.NAME
}

func newKind(name string, attrs bool, fields map[string][]string) *kind {
	k := &kind{name: name, attrs: attrs, aliases: map[string]string{}}
	for f, as := range fields {
		k.aliases[f] = f
		for _, a := range as {
			k.aliases[norm(a)] = f
		}
	}
	return k
}

func (k *kind) isField(f string) bool {
	_, ok := k.aliases[f]
	return ok && k.aliases[f] == f
}

func (k *kind) fields() []string {
	var fs []string
	for a, f := range k.aliases {
		if a == f {
			fs = append(fs, f)
		}
	}
	sort.Strings(fs)
	return fs
}

var (
	leadKind = newKind("lead", true, map[string][]string{
		"email":       {"e-mail", "email address", "e-mail address"},
		"external_id": {"external id", "prospect id", "lead id", "record id", "contact id"},
		"name":        {"full name", "full_name"},
		"first_name":  {"first name", "firstname"},
		"last_name":   {"last name", "lastname"},
		"title":       {"job title", "job_title"},
		"phone":       {"phone number", "phone_number"},
		"company":     {"company name", "company_name"},
		"country":     {"country/region"},
		"source":      {"lead source", "lead_source", "original source"},
		"campaign":    {"lead origin", "lead_origin"},
		"created_at":  {"created at", "created date", "create date"},
		"stage":       {},
		// CRM exports: the stage, the owner, the company's account.
		"lead_status":     {"lead status"},
		"lifecycle_stage": {"lifecycle stage"},
		"owner":           {"lead owner", "contact owner", "owner email"},
		"industry":        {},
		"employees":       {"no. of employees", "number of employees"},
		"annual_revenue":  {"annual revenue"},
		"website":         {"website url", "company website"},
	})
	accountKind = newKind("account", false, map[string][]string{
		"name":                {"account", "company", "account name", "account_name"},
		"domain":              {"website"},
		"industry":            {"sector"},
		"employees":           {},
		"annual_revenue":      {"annual revenue", "revenue"},
		"annual_revenue_musd": {},
		"country":             {"office_location"},
	})
	userKind = newKind("user", false, map[string][]string{
		"name":      {"sales_agent", "full name", "full_name"},
		"email":     {"e-mail", "email address", "e-mail address"},
		"role":      {},
		"team":      {"regional_office", "office"},
		"territory": {},
		"manager":   {},
	})
	eventKind = newKind("event", false, map[string][]string{
		"id":          {"event_id", "event id"},
		"lead_id":     {"lead id"},
		"email":       {"e-mail", "email address"},
		"external_id": {"external id"},
		"type":        {"event_type", "event type"},
		"occurred_at": {"occurred at", "timestamp"},
		"properties":  {},
	})
	kinds = []*kind{leadKind, accountKind, userKind, eventKind}
)

// crmAccountsHeader is the header of the CRM data set's accounts.csv; a file
// with these columns reads revenue as millions of USD.
var crmAccountsHeader = []string{"account", "sector", "year_established", "revenue", "employees", "office_location"}

func norm(h string) string { return strings.ToLower(strings.TrimSpace(h)) }

// knownTarget reports whether f is a field of some kind of file, Skip, or an
// attribute target.
func knownTarget(f string) bool {
	if f == Skip || strings.HasPrefix(f, AttrPrefix) && strings.TrimSpace(f[len(AttrPrefix):]) != "" {
		return true
	}
	return slices.ContainsFunc(kinds, func(k *kind) bool { return k.isField(f) })
}

// ParseMap parses a column map given on the command line:
// "Prospect ID=external_id,Lead Source=source". Repeated flags may be joined
// with commas. Headers keep their case (they are matched case-insensitively);
// targets are field names of leads, accounts, users or events, "-" to skip
// a column, or "attributes.NAME". Whether a target fits the kind of file is
// checked when the file is read.
func ParseMap(spec string) (map[string]string, error) {
	m := map[string]string{}
	seen := map[string]string{} // normalised header -> header as given
	for _, part := range strings.Split(spec, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		i := strings.LastIndexByte(part, '=')
		if i < 0 {
			return nil, baton.FieldError("map", "%q is not HEADER=FIELD", strings.TrimSpace(part))
		}
		h, f := strings.TrimSpace(part[:i]), strings.TrimSpace(part[i+1:])
		if h == "" || f == "" {
			return nil, baton.FieldError("map", "%q is not HEADER=FIELD", strings.TrimSpace(part))
		}
		if strings.HasPrefix(strings.ToLower(f), AttrPrefix) {
			f = AttrPrefix + strings.TrimSpace(f[len(AttrPrefix):])
		} else {
			f = strings.ToLower(f)
		}
		if !knownTarget(f) {
			return nil, baton.FieldError("map", "%q: unknown field %q (want %s, %q to skip, or %sNAME)",
				h, f, allFields(), Skip, AttrPrefix)
		}
		if prev, ok := seen[norm(h)]; ok && m[prev] != f {
			return nil, baton.FieldError("map", "column %q is mapped twice (%s and %s)", h, m[prev], f)
		}
		seen[norm(h)] = h
		m[h] = f
	}
	return m, nil
}

func allFields() string {
	var all []string
	for _, k := range kinds {
		for _, f := range k.fields() {
			if !slices.Contains(all, f) {
				all = append(all, f)
			}
		}
	}
	sort.Strings(all)
	return strings.Join(all, ", ")
}

// quote shows a cell in a message, cut short so that errors stay small.
func quote(s string) string {
	const max = 60
	if len(s) > max {
		cut := max
		for cut > 0 && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
			cut--
		}
		return fmt.Sprintf("%q...", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}
