package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/batonhq/baton"
)

// view is what every template gets: the page's own data in D.
type view struct {
	Title string
	User  *baton.User
	CSRF  string
	Flash string
	Now   time.Time
	// Zone names the viewer's time zone, in which every date is written.
	Zone string
	Err  *formErr
	D    any
}

// formErr is a form's refusal, shown next to the field at fault, with the
// values sent so that the form can be shown again as it was.
type formErr struct {
	Form   string
	LeadID int64
	Field  string
	Msg    string
	Values url.Values
}

// newFormErr makes the formErr of err for a form.
func newFormErr(form string, leadID int64, err error, values url.Values) *formErr {
	return &formErr{Form: form, LeadID: leadID, Field: baton.ErrorField(err), Msg: baton.ErrorMessage(err), Values: values}
}

func parsePages() map[string]*template.Template {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if base == "layout" || base == "parts" {
			continue
		}
		pages[base] = template.Must(template.New(base).Funcs(funcs).ParseFS(templateFS,
			"templates/layout.html", "templates/parts.html", n))
	}
	return pages
}

// render writes a page with the layout, or a bare 500 if the template fails.
func (s *Server) render(w http.ResponseWriter, r *http.Request, c *session, status int, name, title string, d any, errs ...*formErr) {
	v := view{Title: title, Now: s.now(), D: d}
	loc := time.UTC
	if c != nil {
		v.User, v.CSRF = c.User, c.CSRF
		if c.Loc != nil {
			loc = c.Loc
		}
	}
	v.Zone = zoneName(loc, v.Now)
	if m := msgs[r.URL.Query().Get("msg")]; m != "" {
		v.Flash = m
	}
	if len(errs) > 0 {
		v.Err = errs[0]
	}
	var buf bytes.Buffer
	// Dates are written in the viewer's zone: the page's time functions are
	// bound to it for this request.
	t, err := s.pageIn(name, loc)
	if err == nil {
		err = t.ExecuteTemplate(&buf, "layout", v)
	}
	if err != nil {
		s.logger.ErrorContext(r.Context(), "template", slog.String("page", name), slog.Any("err", err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

var funcs = template.FuncMap{
	// The time functions, in UTC until render binds them to the viewer's
	// zone (timeFuncs).
	"when":   func(t time.Time) string { return when(t, time.UTC) },
	"date":   func(t time.Time) string { return dateIn(t, time.UTC) },
	"whenp":  func(t *time.Time) string { return whenPtr(t, time.UTC) },
	"iso":    iso,
	"ago":    ago,
	"sla":    sla,
	"num":    num,
	"pct":    pct,
	"prob":   prob,
	"label":  label,
	"ferr":   ferr,
	"fother": fother,
	"fval":   fval,
	"ferrid": func(form string, id int64, field string) string { return fmt.Sprintf("err-%s-%d-%s", form, id, field) },
	"hasErr": func(e *formErr, form string, id int64) bool { return e != nil && e.Form == form && e.LeadID == id },
	"isRep":  func(r baton.Role) bool { return r.Rep() },
	"stages": func() []baton.Stage { return baton.Stages },
	"add":    func(a, b int) int { return a + b },
	"derefI": func(p *int64) int64 { return deref(p) },
	"derefF": func(p *float64) string {
		if p == nil {
			return ""
		}
		return num(*p)
	},
	"chart": barChart,
	"userName": func(users map[int64]*baton.User, id string) string {
		n, _ := strconv.ParseInt(id, 10, 64)
		if u := users[n]; u != nil {
			return u.Name
		}
		return "user " + id
	},
	"list":   func(xs ...string) []string { return xs },
	"isTrue": func(b *bool) bool { return b != nil && *b },
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
	"signed": func(v float64) string {
		if v > 0 {
			return "+" + num(v)
		}
		return num(v)
	},
	"reasonOptions": reasonOptions,
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// The one way dates are written: "Tue 3 Mar 2026, 14:05" in the viewer's
// zone, and "3 Mar 2026" for a day. The zone is named once per page (in the
// footer), not at every date.
const (
	whenLayout = "Mon 2 Jan 2006, 15:04"
	dateLayout = "2 Jan 2006"
)

// pageKey names a page bound to a zone.
type pageKey struct{ name, zone string }

// pageIn returns the page with its time functions bound to loc. Each is
// cloned once and then kept: a clone is escaped again on its first use,
// and cloning and escaping every page as it was rendered took a third of
// the inbox's time (measured here). A kept one is safe to execute from
// many requests at once. There are as many as pages times the zones of
// the users.
func (s *Server) pageIn(name string, loc *time.Location) (*template.Template, error) {
	k := pageKey{name, loc.String()}
	if t, ok := s.zoned.Load(k); ok {
		return t.(*template.Template), nil
	}
	p, ok := s.pages[name]
	if !ok {
		return nil, fmt.Errorf("no page %q", name)
	}
	t, err := p.Clone()
	if err != nil {
		return nil, err
	}
	t.Funcs(timeFuncs(loc))
	got, _ := s.zoned.LoadOrStore(k, t)
	return got.(*template.Template), nil
}

// timeFuncs are the time functions of a page bound to the viewer's zone.
func timeFuncs(loc *time.Location) template.FuncMap {
	return template.FuncMap{
		"when":  func(t time.Time) string { return when(t, loc) },
		"date":  func(t time.Time) string { return dateIn(t, loc) },
		"whenp": func(t *time.Time) string { return whenPtr(t, loc) },
	}
}

// when formats a moment in loc.
func when(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format(whenLayout)
}

// dateIn formats the day of a moment in loc; a day stored as midnight UTC
// (a date a user typed) is that day wherever the viewer is.
func dateIn(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	if u := t.UTC(); u.Hour() == 0 && u.Minute() == 0 && u.Second() == 0 {
		return u.Format(dateLayout)
	}
	return t.In(loc).Format(dateLayout)
}

func whenPtr(t *time.Time, loc *time.Location) string {
	if t == nil {
		return ""
	}
	return when(*t, loc)
}

// iso is a moment as RFC 3339 in UTC, for <time datetime> and the script
// that keeps countdowns live.
func iso(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// zoneName names a zone for a page's footer: "Europe/Berlin (CET)".
func zoneName(loc *time.Location, now time.Time) string {
	abbr, _ := now.In(loc).Zone()
	if loc.String() == abbr || loc == time.UTC {
		return "UTC"
	}
	return loc.String() + " (" + abbr + ")"
}

// span writes a duration in words: 2d 3h, 3h 5m, 12m.
func span(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	d = d.Round(time.Minute)
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case hours > 0:
		return fmt.Sprintf("%dh %dm", hours, mins)
	}
	return fmt.Sprintf("%dm", mins)
}

// ago says how long ago t was from now.
func ago(now, t time.Time) string {
	if t.After(now) {
		return "in " + span(t.Sub(now))
	}
	return span(now.Sub(t)) + " ago"
}

// slaState is an SLA countdown: its text and its class (ok, soon, breached).
type slaState struct {
	Text, Class string
}

// sla is the countdown of a handoff's deadline: time left, or how long ago
// it was breached. Under an hour left is "soon".
func sla(now time.Time, h *baton.Handoff) slaState {
	if h == nil {
		return slaState{}
	}
	if h.State != baton.HandoffOpen {
		return slaState{Text: string(h.State), Class: "done"}
	}
	left := h.DueAt.Sub(now)
	switch {
	case left <= 0:
		return slaState{Text: "breached " + span(-left) + " ago", Class: "breached"}
	case left < time.Hour:
		return slaState{Text: span(left) + " left", Class: "soon"}
	}
	return slaState{Text: span(left) + " left", Class: "ok"}
}

// num formats a number without trailing zeros: 12, 3.5, 0.25.
func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

// pct formats a ratio of a to b as a percentage.
func pct(a, b int) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(a)/float64(b))
}

// prob formats a probability as a percentage, or a dash without a model.
func prob(p *float64) string {
	if p == nil {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100**p)
}

// label makes a code readable: unable_to_reach -> unable to reach.
func label(s string) string { return strings.ReplaceAll(s, "_", " ") }

// reasonOptions is the <option> of each rejection reason, sel selected, as
// the reject form lists them. Written here rather than by a range in the
// template: the inbox has a reject form on each of its 25 rows, and the
// template's five actions an option (each a call through reflection, then
// an escaper) were a third of the page's rendering. The options of no
// selection, every form's but a refused one's, are written once.
func reasonOptions(sel string) template.HTML {
	if sel == "" {
		return noReasonChosen()
	}
	return writeReasonOptions(sel)
}

var noReasonChosen = sync.OnceValue(func() template.HTML { return writeReasonOptions("") })

func writeReasonOptions(sel string) template.HTML {
	var b strings.Builder
	for _, r := range baton.RejectReasons {
		b.WriteString(`<option value="`)
		b.WriteString(template.HTMLEscapeString(r))
		b.WriteByte('"')
		if r == sel {
			b.WriteString(" selected")
		}
		b.WriteByte('>')
		b.WriteString(template.HTMLEscapeString(label(r)))
		b.WriteString("</option>")
	}
	return template.HTML(b.String())
}

// ferr returns the error of a form's field, if it is the one at fault.
func ferr(e *formErr, form string, id int64, field string) string {
	if e == nil || e.Form != form || e.LeadID != id || e.Field != field {
		return ""
	}
	return e.Msg
}

// fother returns the error of a form when it names none of the form's
// fields (space-separated), to show at the top of the form.
func fother(e *formErr, form string, id int64, fields string) string {
	if e == nil || e.Form != form || e.LeadID != id {
		return ""
	}
	for _, f := range strings.Fields(fields) {
		if f == e.Field {
			return ""
		}
	}
	return e.Msg
}

// fval returns the value a refused form sent for a field.
func fval(e *formErr, form string, id int64, field string) string {
	if e == nil || e.Form != form || e.LeadID != id {
		return ""
	}
	return e.Values.Get(field)
}
