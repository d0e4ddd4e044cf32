package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// maxLimit is the largest page a list returns; storage caps it there too.
const maxLimit = 1000

// query reads the query parameters of a request and remembers the first
// bad one, so that a handler reads them all and checks once.
type query struct {
	v   url.Values
	err error
}

func newQuery(r *http.Request) *query { return &query{v: r.URL.Query()} }

func (q *query) fail(name, format string, args ...any) {
	if q.err == nil {
		q.err = baton.FieldError(name, format, args...)
	}
}

func (q *query) get(name string) (string, bool) {
	if !q.v.Has(name) {
		return "", false
	}
	return strings.TrimSpace(q.v.Get(name)), true
}

// str returns the parameter, or nil if absent or empty.
func (q *query) str(name string) *string {
	s, ok := q.get(name)
	if !ok || s == "" {
		return nil
	}
	return &s
}

// id returns the parameter as a positive integer id, or nil if absent.
func (q *query) id(name string) *int64 {
	s, ok := q.get(name)
	if !ok || s == "" {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		q.fail(name, "%q is not an id (a positive integer)", s)
		return nil
	}
	return &n
}

// time returns the parameter as an RFC 3339 time or a YYYY-MM-DD date (UTC
// midnight), or nil if absent.
func (q *query) time(name string) *time.Time {
	s, ok := q.get(name)
	if !ok || s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		if t, err = time.Parse(time.DateOnly, s); err != nil {
			q.fail(name, "%q is not a time (RFC 3339, such as 2025-01-31T09:30:00Z, or a date YYYY-MM-DD)", s)
			return nil
		}
	}
	t = t.UTC()
	return &t
}

// stage returns the parameter as a lead stage, or nil if absent.
func (q *query) stage(name string) *baton.Stage {
	s, ok := q.get(name)
	if !ok || s == "" {
		return nil
	}
	st, err := baton.ParseStage(name, s)
	if err != nil {
		if q.err == nil {
			q.err = err
		}
		return nil
	}
	return &st
}

// role returns the parameter as a user role, or nil if absent.
func (q *query) role(name string) *baton.Role {
	s, ok := q.get(name)
	if !ok || s == "" {
		return nil
	}
	r, err := baton.ParseRole(name, s)
	if err != nil {
		if q.err == nil {
			q.err = err
		}
		return nil
	}
	return &r
}

// oppStage returns the parameter as an opportunity stage, or nil if absent.
func (q *query) oppStage(name string) *baton.OpportunityStage {
	s, ok := q.get(name)
	if !ok || s == "" {
		return nil
	}
	st, err := baton.ParseOpportunityStage(name, s)
	if err != nil {
		if q.err == nil {
			q.err = err
		}
		return nil
	}
	return &st
}

// page returns the offset and limit parameters: limit 1 to maxLimit
// (default 50), offset from 0.
func (q *query) page() (offset, limit int) {
	limit = q.limit()
	if s, ok := q.get("offset"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			q.fail("offset", "%q is not an offset (an integer from 0)", s)
		} else {
			offset = n
		}
	}
	return offset, limit
}

// limit returns the limit parameter: 1 to maxLimit (default 50).
func (q *query) limit() int {
	s, ok := q.get("limit")
	if !ok {
		return 50
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		q.fail("limit", "%q is not a page size (an integer from 1 to %d)", s, maxLimit)
		return 50
	}
	return n
}

// boolean returns the parameter as true or false (false if absent or empty).
func (q *query) boolean(name string) bool {
	s, ok := q.get(name)
	if !ok || s == "" {
		return false
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		q.fail(name, "%q is not a boolean (true or false)", s)
		return false
	}
	return b
}

// pathID returns the {id} of the route's pattern as a positive integer.
func pathID(r *http.Request) (int64, error) {
	s := r.PathValue("id")
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, baton.FieldError("id", "%q is not an id (a positive integer)", s)
	}
	return n, nil
}
