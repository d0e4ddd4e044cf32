package baton

import (
	"context"
	"net/mail"
	"slices"
	"strings"
	"time"
)

// Role is what a user does, and so what they may see and change.
type Role string

// The roles. A sales development rep (SDR) answers MQLs; an account executive
// (AE) works SQLs and opportunities; a manager leads a team of reps.
const (
	RoleAdmin     Role = "admin"
	RoleMarketing Role = "marketing"
	RoleSDR       Role = "sdr"
	RoleAE        Role = "ae"
	RoleManager   Role = "manager"
	// RoleSystem is the actor of automatic changes: the scoring policy, the
	// SLA sweeper, the CLI run by an operator. It is never a user's role.
	RoleSystem Role = "system"
)

// Roles lists the roles a user may have.
var Roles = []Role{RoleAdmin, RoleMarketing, RoleSDR, RoleAE, RoleManager}

// ParseRole returns the role named s, or an EINVALID error naming field.
func ParseRole(field, s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(Roles, r) {
		return "", FieldError(field, "unknown role %q (want one of %v)", s, Roles)
	}
	return r, nil
}

// Words names the role for people, with its article: "a development rep".
func (r Role) Words() string {
	switch r {
	case RoleAdmin:
		return "an admin"
	case RoleMarketing:
		return "marketing"
	case RoleSDR:
		return "a development rep"
	case RoleAE:
		return "an account executive"
	case RoleManager:
		return "a manager"
	case RoleSystem:
		return "the system"
	}
	return "a " + string(r)
}

// Rep reports whether the role works leads it owns (SDR or AE).
func (r Role) Rep() bool { return r == RoleSDR || r == RoleAE }

// User is a person who signs in to Baton or owns leads.
type User struct {
	ID        int64  `json:"id"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	Role      Role   `json:"role"`
	Team      string `json:"team,omitempty"`
	Territory string `json:"territory,omitempty"`
	ManagerID *int64 `json:"manager_id,omitempty"`
	Active    bool   `json:"active"`
	// OutOfOfficeUntil is the return date of the user's latest absence:
	// while it is in the future, routing gives them no leads (see Away).
	// Nil when no absence was set, or it was ended.
	OutOfOfficeUntil *time.Time `json:"out_of_office_until,omitempty"`
	// OutOfOfficeNote is what the absence says to colleagues: why, who
	// covers.
	OutOfOfficeNote string `json:"out_of_office_note,omitempty"`
	// TimeZone is the IANA zone the user reads dates in ("Europe/Berlin");
	// empty: the zone of their working calendar.
	TimeZone  string    `json:"time_zone,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ParseTimeZone checks an IANA time zone name ("" is none) and returns its
// location.
func ParseTimeZone(field, name string) (*time.Location, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, nil
	}
	if strings.EqualFold(name, "local") {
		return nil, FieldError(field, "name the zone, such as Europe/Berlin or America/New_York, not Local")
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, FieldError(field, "unknown time zone %q: want an IANA name such as Europe/Berlin, America/New_York or UTC", name)
	}
	return loc, nil
}

// Away reports whether the user is out of office at now.
func (u *User) Away(now time.Time) bool {
	return u.OutOfOfficeUntil != nil && u.OutOfOfficeUntil.After(now)
}

// Validate normalises the user and checks its fields.
func (u *User) Validate() error {
	email, err := NormalizeEmail(u.Email)
	if err != nil {
		return err
	} else if email == "" {
		return FieldError("email", "required")
	}
	u.Email = email
	u.Name = strings.TrimSpace(u.Name)
	if u.Name == "" {
		return FieldError("name", "required")
	}
	if _, err := ParseRole("role", string(u.Role)); err != nil {
		return err
	}
	if u.ManagerID != nil && u.ID != 0 && *u.ManagerID == u.ID {
		return FieldError("manager_id", "a user cannot be their own manager")
	}
	return nil
}

// UserImport is one user of a bulk import; Manager names the user's manager
// by email or by name.
type UserImport struct {
	User    User
	Manager string
}

// EmailFromName makes the email first.last@domain from a person's name, for
// imports that have names but no emails (such as the CRM data set).
func EmailFromName(name, domain string) string {
	parts := strings.Fields(strings.ToLower(name))
	for i, p := range parts {
		parts[i] = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
				return r
			}
			return -1
		}, p)
	}
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), ".") + "@" + domain
}

// UserFilter selects users. Nil fields do not filter.
type UserFilter struct {
	ID        *int64
	Email     *string
	Role      *Role
	Team      *string
	ManagerID *int64
	Offset    int
	Limit     int
}

// UserUpdate changes some fields of a user. Nil fields are left alone.
type UserUpdate struct {
	Name      *string `json:"name"`
	Role      *Role   `json:"role"`
	Team      *string `json:"team"`
	Territory *string `json:"territory"`
	ManagerID *int64  `json:"manager_id"`
	Active    *bool   `json:"active"`
}

// Token is an API token as Baton lists it. The token itself is never
// kept, only its hash: whoever made it saw it once.
type Token struct {
	ID     int64  `json:"id"`
	UserID int64  `json:"user_id"`
	Name   string `json:"name"`
	// CreatedBy is the user who made the token: its owner, or an admin for
	// them. Nil when the system made it (`baton token create`) or the token
	// is older than this record.
	CreatedBy *int64 `json:"created_by,omitempty"`
	// CreatedVia is the door it was made through: ui, api, cli ("" when
	// not recorded).
	CreatedVia string    `json:"created_via,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	// LastUsedAt is when the token last authenticated a request, to the
	// minute (it is written at most once a minute); nil: never.
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	// RevokedAt is when the token was revoked, and RevokedBy by whom (nil:
	// the system); a revoked token authenticates nothing.
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	RevokedBy *int64     `json:"revoked_by,omitempty"`
	// ExpiresAt is when the token stops working by itself; nil: never (a
	// token made before tokens expired, or by a server told they never do).
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Revoked reports whether the token was revoked.
func (t *Token) Revoked() bool { return t.RevokedAt != nil }

// Expired reports whether the token has expired at now.
func (t *Token) Expired(now time.Time) bool { return t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) }

// DefaultTokenLifetime is how long an API token works unless the server is
// told otherwise (baton serve --token-lifetime).
const DefaultTokenLifetime = 90 * 24 * time.Hour

// TokenUseResolution is how precisely a token's last use is recorded: a
// token used many times a minute is written once a minute.
const TokenUseResolution = time.Minute

// MaxTokenName is the longest name of an API token, in characters.
const MaxTokenName = 100

// TokenFilter selects API tokens. Nil fields do not filter.
type TokenFilter struct {
	UserID *int64
	// Revoked: true lists only revoked tokens, false only live ones.
	Revoked *bool
	Offset  int
	Limit   int
}

// UserCalendarPrefix starts the name of a rep's own working calendar, which
// counts the SLA windows of the handoffs opened to them instead of their
// team's: "user:anna@example.com" beside team names such as "EMEA". (A team
// whose name starts with it cannot have a calendar.)
const UserCalendarPrefix = "user:"

// MaxAbsence is the longest out of office Baton accepts. A return date
// further away is more likely a slip of the year than a sabbatical; a rep
// gone for longer is made inactive instead.
const MaxAbsence = 365 * 24 * time.Hour

// maxAbsenceNote is the longest note of an absence, in characters.
const maxAbsenceNote = 500

// OutOfOffice is an absence to set: when the user is back, and a note.
type OutOfOffice struct {
	// Until is when the user is back: an RFC 3339 time, or a day
	// (YYYY-MM-DD), which is the start of that day in the user's working
	// calendar's time zone.
	Until string `json:"until"`
	// Note says why, or who covers; at most 500 characters.
	Note string `json:"note,omitempty"`
}

// Return checks the absence at now and returns its return time and its
// trimmed note; a day is read in loc (UTC if nil). A return that is not
// after now, or more than MaxAbsence after it, is refused naming "until".
func (o OutOfOffice) Return(now time.Time, loc *time.Location) (time.Time, string, error) {
	if loc == nil {
		loc = time.UTC
	}
	s := strings.TrimSpace(o.Until)
	if s == "" {
		return time.Time{}, "", FieldError("until", "required: when you are back, an RFC 3339 time or a day (YYYY-MM-DD)")
	}
	until, err := time.Parse(time.RFC3339, s)
	if err != nil {
		day, derr := time.ParseInLocation(time.DateOnly, s, loc)
		if derr != nil {
			return time.Time{}, "", FieldError("until", "%q is neither an RFC 3339 time nor a day (YYYY-MM-DD)", o.Until)
		}
		until = day
	}
	until = until.UTC()
	switch {
	case !until.After(now):
		return time.Time{}, "", FieldError("until", "%s is in the past: give the day you are back", s)
	case until.Sub(now) > MaxAbsence:
		return time.Time{}, "", FieldError("until", "%s is more than %d days away; for a longer absence make the user inactive", s, int(MaxAbsence/(24*time.Hour)))
	}
	note := strings.TrimSpace(o.Note)
	if n := len([]rune(note)); n > maxAbsenceNote {
		return time.Time{}, "", FieldError("note", "%d characters: at most %d", n, maxAbsenceNote)
	}
	return until, note, nil
}

// UserService stores users and their API tokens.
type UserService interface {
	// CreateUser stores a new user. ECONFLICT if the email is taken.
	CreateUser(ctx context.Context, u *User) error
	// FindUserByID returns ENOTFOUND if there is no such user.
	FindUserByID(ctx context.Context, id int64) (*User, error)
	// FindUserByEmail returns ENOTFOUND if there is no such user.
	FindUserByEmail(ctx context.Context, email string) (*User, error)
	FindUsers(ctx context.Context, f UserFilter) ([]*User, int, error)
	UpdateUser(ctx context.Context, id int64, upd UserUpdate) (*User, error)
	// ImportUsers upserts users by email. A manager named by email or name
	// that does not exist yet is created with the manager role. Bad rows are
	// reported with Row set to their index in users.
	ImportUsers(ctx context.Context, users []UserImport) (ImportResult, error)
	// CreateToken makes a new API token for the user and returns it in clear;
	// only its hash is stored.
	CreateToken(ctx context.Context, userID int64, name string) (string, error)
	// Authenticate returns the user who owns the token, or EUNAUTHORIZED
	// for an unknown or revoked token or an inactive user. It records when
	// the token was last used, to the minute.
	Authenticate(ctx context.Context, token string) (*User, error)
	// FindTokens lists API tokens, live ones first, newest first: anyone's
	// for an admin, the caller's own for anyone else (a filter naming
	// another user is EFORBIDDEN).
	FindTokens(ctx context.Context, f TokenFilter) ([]*Token, int, error)
	// RevokeToken revokes a token: from then on it authenticates nothing.
	// Its owner or an admin may; anyone else's is ENOTFOUND. A revoked
	// token is returned as it is.
	RevokeToken(ctx context.Context, id int64) (*Token, error)
	// SetOutOfOffice marks the user away until the absence's return date
	// (replacing any absence set before): routing gives them no leads until
	// then. The user may set their own, their manager theirs, an admin
	// anyone's: ENOTFOUND if there is no such user, EFORBIDDEN for anyone
	// else.
	SetOutOfOffice(ctx context.Context, userID int64, o OutOfOffice) (*User, error)
	// EndOutOfOffice ends the user's absence now (clearing its return date
	// and note), with the rights of SetOutOfOffice; a user without one is
	// left as they are.
	EndOutOfOffice(ctx context.Context, userID int64) (*User, error)
	// SetTimeZone sets the zone a user reads dates in ("" follows their
	// working calendar): the user themselves or an admin.
	SetTimeZone(ctx context.Context, userID int64, zone string) (*User, error)
}

// NormalizeEmail trims and lower-cases an email address and checks its form.
// An empty string stays empty (no email).
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", nil
	}
	if plainEmail(s) {
		// What parseEmail accepts as it is: an import normalises each of
		// its many emails twice, and net/mail takes microseconds.
		return s, nil
	}
	return parseEmail(s)
}

// parseEmail checks the form of a trimmed, lower-case email address.
func parseEmail(s string) (string, error) {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", FieldError("email", "%q is not an email address", s)
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || !strings.Contains(s[at+1:], ".") {
		return "", FieldError("email", "%q is not an email address", s)
	}
	return s, nil
}

// plainEmail reports whether s is an address of the plainest form, which
// NormalizeEmail would return unchanged: lower-case letters, digits, '.',
// '_', '+' and '-' before the @ and letters, digits and '-' after it, in
// dot-separated parts none of which is empty, with two parts at least
// after the @.
func plainEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return false
	}
	dots, prev := 0, byte('.')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
		case c == '_' || c == '+':
			if i > at {
				return false
			}
		case c == '.':
			if prev == '.' || prev == '@' {
				return false
			}
			if i > at {
				dots++
			}
		case c == '@':
			if i != at || prev == '.' {
				return false
			}
		default:
			return false
		}
		prev = c
	}
	return prev != '.' && dots > 0
}

// EmailDomain returns the part of a normalised email after the @.
func EmailDomain(email string) string {
	if at := strings.LastIndexByte(email, '@'); at >= 0 {
		return email[at+1:]
	}
	return ""
}

// Actor is who makes a change: a user, or the system.
type Actor struct {
	UserID int64
	Name   string
	Role   Role
	// Via says through what the change came: "api", "ui", "import
	// leads.csv", "demo", ... It is the reason recorded when a lead is created.
	Via string
}

// SystemActor is the actor of automatic changes and operator commands.
var SystemActor = Actor{Name: "system", Role: RoleSystem}

// ActorOf returns the actor for a user acting through via.
func ActorOf(u *User, via string) Actor {
	return Actor{UserID: u.ID, Name: u.Name, Role: u.Role, Via: via}
}

// System reports whether the actor is the system rather than a user.
func (a Actor) System() bool { return a.Role == RoleSystem }

// SeesAllLeads reports whether the actor reads every lead without scoping.
func (a Actor) SeesAllLeads() bool {
	return a.Role == RoleSystem || a.Role == RoleAdmin || a.Role == RoleMarketing
}

// CanActOnOwner reports whether the actor may act on a lead owned by ownerID;
// inTeam says whether that owner reports to the actor.
func (a Actor) CanActOnOwner(ownerID int64, inTeam bool) bool {
	switch a.Role {
	case RoleSystem, RoleAdmin:
		return true
	case RoleManager:
		return ownerID == a.UserID || inTeam
	case RoleSDR, RoleAE:
		return ownerID != 0 && ownerID == a.UserID
	}
	return false
}

// CanSetAbsence reports whether the actor may set or end u's out of office:
// their own, that of a user who reports to them (a manager), anyone's (an
// admin, the system).
func (a Actor) CanSetAbsence(u *User) bool {
	switch {
	case a.Role == RoleSystem || a.Role == RoleAdmin:
		return true
	case a.UserID != 0 && a.UserID == u.ID:
		return true
	case a.Role == RoleManager:
		return u.ManagerID != nil && *u.ManagerID == a.UserID
	}
	return false
}

// CanEditLeads reports whether the actor may create and edit lead data and
// send events.
func (a Actor) CanEditLeads() bool {
	return a.Role == RoleSystem || a.Role == RoleAdmin || a.Role == RoleMarketing
}

// CanAdmin reports whether the actor may manage users, accounts and settings.
func (a Actor) CanAdmin() bool { return a.Role == RoleSystem || a.Role == RoleAdmin }

type actorKey struct{}

// WithActor returns a context that carries the actor of the changes made with it.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor carried by ctx. A context without one has no
// rights at all: storage refuses it with EUNAUTHORIZED.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}
