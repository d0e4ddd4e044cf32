package policy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/goccy/go-yaml/ast"

	"github.com/batonhq/baton"
)

// hidden_from_reps: the lead fields a lead's page does not show to sales
// (see the package documentation).

// hiddenField is one entry of hidden_from_reps, post_contact or outcome,
// with its line and the path it was read from.
type hiddenField struct {
	name, path string
	line       int
}

// hidden reads hidden_from_reps onto p.
func (d *decoder) hidden(e entry, p *Policy) {
	for _, h := range d.fieldNames(e, "hidden_from_reps") {
		p.HiddenFromReps = append(p.HiddenFromReps, h.name)
		p.hidden = append(p.hidden, h)
	}
}

// postContact reads post_contact onto p.
func (d *decoder) postContact(e entry, p *Policy) {
	for _, h := range d.fieldNames(e, "post_contact") {
		p.PostContact = append(p.PostContact, h.name)
		p.hidden = append(p.hidden, h)
	}
}

// outcome reads outcome onto p: one attribute.
func (d *decoder) outcome(e entry, p *Policy) {
	s := d.text(e, "outcome", false)
	switch {
	case s == "":
		return
	case !strings.HasPrefix(s, attrPrefix) || strings.TrimSpace(strings.TrimPrefix(s, attrPrefix)) == "":
		d.problem(e.line, "outcome", "expected the custom attribute that holds a known outcome, e.g. attributes.Converted")
		return
	}
	p.Outcome = s
	p.hidden = append(p.hidden, hiddenField{name: s, path: "outcome", line: e.line})
}

// fieldNames reads a list of field names.
func (d *decoder) fieldNames(e entry, key string) []hiddenField {
	if e.val == nil {
		return nil
	}
	seq, ok := e.val.(*ast.SequenceNode)
	if !ok {
		d.problem(e.line, key, "expected a list of fields, e.g. [attributes.Tags, phone]")
		return nil
	}
	var out []hiddenField
	seen := map[string]int{}
	for i, n := range seq.Values {
		path := index(key, i)
		n = d.unwrap(n, path)
		line := lineOf(n)
		s, ok := scalarText(n)
		s = strings.TrimSpace(s)
		switch {
		case !ok || s == "":
			d.problem(line, path, "expected the name of a field, e.g. attributes.Tags")
			continue
		case !hideable(s):
			d.problem(line, path, "unknown field %q; fields are %s", s, fieldList)
			continue
		}
		if l, dup := seen[s]; dup {
			d.problem(line, path, "%s is listed twice (first on line %d)", s, l)
			continue
		}
		seen[s] = line
		out = append(out, hiddenField{name: s, path: path, line: line})
	}
	return out
}

// hideable reports whether a field may be hidden: a lead or account field,
// or attributes.NAME.
func hideable(field string) bool {
	if _, ok := leadFields[field]; ok {
		return true
	}
	a, ok := strings.CutPrefix(field, attrPrefix)
	return ok && strings.TrimSpace(a) != ""
}

// HidesFromReps reports whether the policy hides the field (named as in
// hidden_from_reps: "phone", "attributes.Tags") from sales: it is listed in
// hidden_from_reps or post_contact, or it is the outcome.
func (p *Policy) HidesFromReps(field string) bool {
	for _, h := range p.hidden {
		if h.name == field {
			return true
		}
	}
	return false
}

// NotFeatures returns the fields a predictive model must never learn from,
// as the model's rows name them (attributes by their bare name): the
// post-contact fields and the outcome. A field hidden from reps only for
// privacy (hidden_from_reps) may still be a feature.
func (p *Policy) NotFeatures() []string {
	if p == nil {
		return nil
	}
	var out []string
	for _, f := range append(slices.Clone(p.PostContact), p.Outcome) {
		if a, ok := strings.CutPrefix(f, attrPrefix); ok {
			out = append(out, a)
		} else if f != "" {
			out = append(out, f)
		}
	}
	return out
}

// OutcomeAttribute returns the custom attribute that holds a known outcome
// (outcome, without its attributes. prefix), or "" when the policy names none.
func (p *Policy) OutcomeAttribute() string {
	if p == nil {
		return ""
	}
	return strings.TrimPrefix(p.Outcome, attrPrefix)
}

// hiddenProblems checks the hidden attributes against the schema: a name
// no lead has is most likely misspelt, and a misspelt name would show the
// field it meant to hide.
func (p *Policy) hiddenProblems(d *decoder, s Schema) {
	for _, h := range p.hidden {
		a, ok := strings.CutPrefix(h.name, attrPrefix)
		if !ok {
			continue
		}
		if _, ok := s.Attributes[a]; !ok {
			d.problem(h.line, h.path, "no lead has the attribute %q and the policy does not declare it: a misspelt name hides nothing (known attributes: %s)", a, known(s))
		}
	}
}

// HidesFrom reports whether hidden_from_reps applies to users of the role:
// the people who work leads (development reps, account executives and
// their managers) do not see the fields it lists; marketing, admins and
// the system do.
func HidesFrom(r baton.Role) bool { return r.Rep() || r == baton.RoleManager }

// LeadFieldNames are the profile fields of a lead, as policies name them.
var LeadFieldNames = []string{"email", "name", "title", "phone", "company", "country", "source", "campaign"}

// hidesAny reports whether the policy hides anything. A nil policy hides
// nothing.
func (p *Policy) hidesAny() bool { return p != nil && len(p.hidden) > 0 }

// VisibleLead returns the lead as sales may see it: a copy without the
// fields and attributes the policy hides (the original is left alone), or
// the lead itself when nothing is hidden.
func (p *Policy) VisibleLead(l *baton.Lead) *baton.Lead {
	if !p.hidesAny() || l == nil {
		return l
	}
	c := *l
	fields := map[string]*string{"email": &c.Email, "name": &c.Name, "title": &c.Title, "phone": &c.Phone,
		"company": &c.Company, "country": &c.Country, "source": &c.Source, "campaign": &c.Campaign}
	for _, f := range LeadFieldNames {
		if p.HidesFromReps(f) {
			*fields[f] = ""
		}
	}
	if l.Attrs != nil {
		c.Attrs = baton.Attrs{}
		for k, v := range l.Attrs {
			if !p.HidesFromReps(attrPrefix + k) {
				c.Attrs[k] = v
			}
		}
	}
	return &c
}

// VisibleAccount returns the account without the fields the policy hides.
func (p *Policy) VisibleAccount(a *baton.Account) *baton.Account {
	if !p.hidesAny() || a == nil {
		return a
	}
	c := *a
	for f, clear := range map[string]func(){
		"account.name":           func() { c.Name = "" },
		"account.domain":         func() { c.Domain = "" },
		"account.industry":       func() { c.Industry = "" },
		"account.country":        func() { c.Country = "" },
		"account.employees":      func() { c.Employees = nil },
		"account.annual_revenue": func() { c.AnnualRevenue = nil },
	} {
		if p.HidesFromReps(f) {
			clear()
		}
	}
	return &c
}

// VisibleHistory drops the history entries that change a hidden field.
func (p *Policy) VisibleHistory(entries []baton.HistoryEntry) []baton.HistoryEntry {
	if !p.hidesAny() {
		return entries
	}
	out := entries[:0:0]
	for _, e := range entries {
		if e.Field == "" || !p.HidesFromReps(e.Field) {
			out = append(out, e)
		}
	}
	return out
}

// VisibleTimeline drops the timeline's history entries that change a
// hidden field.
func (p *Policy) VisibleTimeline(items []baton.TimelineItem) []baton.TimelineItem {
	if !p.hidesAny() {
		return items
	}
	out := items[:0:0]
	for _, it := range items {
		if it.History == nil || it.History.Field == "" || !p.HidesFromReps(it.History.Field) {
			out = append(out, it)
		}
	}
	return out
}

// lastParsed memoises the last document ParseCached parsed: parsing one
// takes milliseconds (the default policy, about 3 ms) and the doors that
// hide fields read the policy in force, which rarely changes. It is keyed
// by the document's text, so that servers on different databases share it
// safely; the policy it holds is only read.
var lastParsed struct {
	sync.Mutex
	body string
	p    *Policy
}

// HidingFor returns the policy in force whose hidden_from_reps applies to a
// user of the role, or nil when nothing is hidden from them (they are not
// sales, or no policy is published). current reads the policy in force
// (baton.ScoringService.CurrentPolicy); the document is parsed once per
// text (ParseCached).
func HidingFor(ctx context.Context, role baton.Role, current func(context.Context) (*baton.PolicyDoc, error)) (*Policy, error) {
	if !HidesFrom(role) {
		return nil, nil
	}
	doc, err := current(ctx)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	p, err := ParseCached(doc.Body)
	if err != nil {
		return nil, fmt.Errorf("policy v%d in force: %w", doc.Version, err)
	}
	return p, nil
}

// ParseCached is Parse for a document read again and again: it returns the
// policy parsed last time when the text is the same. The policy returned
// must not be changed.
func ParseCached(body string) (*Policy, error) {
	lastParsed.Lock()
	defer lastParsed.Unlock()
	if lastParsed.p != nil && lastParsed.body == body {
		return lastParsed.p, nil
	}
	p, err := Parse([]byte(body))
	if err != nil {
		return nil, err
	}
	lastParsed.body, lastParsed.p = body, p
	return p, nil
}
