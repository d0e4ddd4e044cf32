package policy

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"github.com/batonhq/baton"
)

// Intake says which event type each message of the intake records (the
// intake section): Segment's track events by name, page views by their
// URL's path.
//
//	intake:
//	  track:                        # track event name: event type
//	    Demo Requested: demo_request
//	  pages:                        # the first path that matches wins
//	    - {path: "/pricing*", event: pricing_page_view}
//
// A track event not in track records its name in lower_snake_case ("Signed
// Up" is signed_up); a page no path matches is a page_view. A path is
// matched against the whole path of the page's URL, a trailing / ignored
// on both; * matches any run of characters, / included. Without an intake section, DefaultIntake.
type Intake struct {
	// Track maps track event names, as sent, to event types.
	Track map[string]string
	// Pages are the page rules in document order.
	Pages []PageRule
}

// PageRule records pages whose URL path matches Path as Event.
type PageRule struct {
	Path  string
	Event string
	Line  int

	re *regexp.Regexp
}

// PageViewEvent is the event type of a page no page rule matches.
const PageViewEvent = "page_view"

// DefaultIntake is the intake of a policy without an intake section (and of
// a database with no policy published): pricing pages are
// pricing_page_view, the other pages page_view, track events their names.
func DefaultIntake() Intake {
	return Intake{Pages: []PageRule{
		{Path: "*/pricing", Event: "pricing_page_view", re: globRE("*/pricing")},
		{Path: "*/pricing/*", Event: "pricing_page_view", re: globRE("*/pricing/*")},
	}}
}

// globRE compiles a path pattern: * is any run of characters.
func globRE(pattern string) *regexp.Regexp {
	parts := strings.Split(pattern, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile(`^` + strings.Join(parts, `.*`) + `$`)
}

// TrackEvent returns the event type of a track event named name, and false
// when there is none (a name with no letter or digit).
func (in *Intake) TrackEvent(name string) (string, bool) {
	if t, ok := in.Track[name]; ok {
		return t, true
	}
	t := snakeCase(name)
	return t, baton.ValidEventType(t)
}

// PageEvent returns the event type of a view of the page at rawURL (a URL
// or a path).
func (in *Intake) PageEvent(rawURL string) string {
	path := rawURL
	if u, err := url.Parse(rawURL); err == nil {
		path = u.Path
	}
	if path == "" {
		path = "/"
	}
	path = strings.TrimSuffix(path, "/")
	for _, r := range in.Pages {
		if r.re.MatchString(path) {
			return r.Event
		}
	}
	return PageViewEvent
}

// snakeCase writes an event name as an event type: letters and digits kept
// (lower case, ASCII), every other run a single _, none at the ends, and a
// name that starts with a digit prefixed with event_.
func snakeCase(name string) string {
	var b strings.Builder
	under := false
	for _, r := range name {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			under = false
			b.WriteRune(unicode.ToLower(r))
		default:
			under = true
		}
	}
	s := b.String()
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		s = "event_" + s
	}
	if len(s) > 64 {
		s = strings.TrimRight(s[:64], "_")
	}
	return s
}

// intake reads the intake section.
func (d *decoder) intake(e entry, p *Policy) {
	m, ok := d.fields(e.val, "intake", e.line, "track", "pages")
	if !ok {
		return
	}
	in := Intake{}
	if te, ok := m["track"]; ok && te.val != nil {
		es, _ := d.mapping(te.val, "intake.track", te.line)
		in.Track = make(map[string]string, len(es))
		for _, x := range es {
			path := join("intake.track", x.key)
			t := d.text(x, path, true)
			if t != "" && !baton.ValidEventType(t) {
				d.problem(x.line, path, "%q is not an event type (lower_snake_case, e.g. demo_request)", t)
				continue
			}
			in.Track[x.key] = t
		}
	}
	if pe, ok := m["pages"]; ok && pe.val != nil {
		d.records(pe, "intake.pages", "expected a list of {path, event}", []string{"path", "event"}, func(path string, line int, rm map[string]entry) {
			r := PageRule{Line: line}
			if xe, ok := rm["path"]; ok {
				r.Path = d.text(xe, join(path, "path"), true)
				if r.Path != "" && !strings.HasPrefix(r.Path, "/") && !strings.HasPrefix(r.Path, "*") {
					d.problem(xe.line, join(path, "path"), "%q is not a path: start it with / (or *), like /pricing*", r.Path)
				}
			} else {
				d.problem(line, join(path, "path"), "required: the URL path the rule matches, like /pricing*")
			}
			r.Event = d.eventType(rm, path, line)
			r.re = globRE(strings.TrimSuffix(r.Path, "/"))
			in.Pages = append(in.Pages, r)
		})
	}
	p.Intake = in
}
