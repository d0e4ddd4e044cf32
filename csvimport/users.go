package csvimport

import (
	"io"
	"strings"

	"github.com/batonhq/baton"
)

// Users reads a CSV file of users and calls fn with consecutive batches of
// valid users; rows[i] is the CSV line of users[i]. The name column is
// required. Without an email column each user's email is made from their
// name (first.last@Options.EmailDomain); the role defaults to sdr and the
// territory to the team. The CRM data set's sales_teams.csv
// (sales_agent,manager,regional_office) imports as it is. Unknown columns are
// listed in Stats.Ignored. Bad rows never reach fn: they are in Stats.Bad. An
// error of fn stops reading and is returned.
func Users(r io.Reader, opt Options, fn func(users []baton.UserImport, rows []int) error) (Stats, error) {
	var st Stats
	t, err := open(r, opt, userKind, &st)
	if err != nil {
		return st, err
	}
	t.ignoreExtra()
	if err := t.require("name"); err != nil {
		return st, err
	}
	domain := opt.emailDomain()
	seen := newKeySet()
	cell := func(rec record, f string) string {
		if i, ok := t.col[f]; ok {
			return strings.TrimSpace(rec.cells[i])
		}
		return ""
	}
	emailField := "email"
	if !t.has("email") {
		emailField = "name" // the email is made from the name
	}
	parse := func(rec record) (baton.UserImport, *baton.RowError) {
		u := baton.UserImport{
			User: baton.User{
				Name:      cell(rec, "name"),
				Email:     cell(rec, "email"),
				Team:      cell(rec, "team"),
				Territory: cell(rec, "territory"),
				Active:    true,
			},
			Manager: cell(rec, "manager"),
		}
		if u.User.Name == "" {
			return u, t.rowError(rec.line, "name", "expected the user's name")
		}
		if !t.has("email") {
			u.User.Email = baton.EmailFromName(u.User.Name, domain)
		}
		if u.User.Email == "" {
			return u, t.rowError(rec.line, "email", "expected the user's email")
		}
		email, err := baton.NormalizeEmail(u.User.Email)
		if err != nil {
			return u, t.rowError(rec.line, emailField, "expected an email address, got %s", quote(u.User.Email))
		}
		u.User.Email = email
		u.User.Role = baton.RoleSDR
		if s := cell(rec, "role"); s != "" {
			role, err := baton.ParseRole("role", s)
			if err != nil {
				return u, t.rowError(rec.line, "role", "%s", baton.ErrorMessage(err))
			}
			u.User.Role = role
		}
		if u.User.Territory == "" {
			u.User.Territory = u.User.Team
		}
		if err := u.User.Validate(); err != nil {
			f := baton.ErrorField(err)
			if f == "email" {
				f = emailField
			}
			return u, t.rowError(rec.line, f, "%s", baton.ErrorMessage(err))
		}
		h, first, dup := seen.lookup("e", u.User.Email)
		if dup {
			return u, t.rowError(rec.line, emailField, "duplicate email %s: first seen on row %d", quote(u.User.Email), first)
		}
		seen.add(h, rec.line)
		return u, nil
	}
	return st, deliver(t, opt, nil, parse, fn)
}
