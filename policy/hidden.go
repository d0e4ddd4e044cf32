package policy

import (
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// hidden_from_reps: the lead fields a lead's page does not show to sales
// (see the package documentation).

// hiddenField is one entry of hidden_from_reps, with its line.
type hiddenField struct {
	name string
	line int
}

// hidden reads hidden_from_reps onto p.
func (d *decoder) hidden(e entry, p *Policy) {
	if e.val == nil {
		return
	}
	seq, ok := e.val.(*ast.SequenceNode)
	if !ok {
		d.problem(e.line, "hidden_from_reps", "expected a list of fields, e.g. [attributes.Tags, attributes.Converted]")
		return
	}
	seen := map[string]int{}
	for i, n := range seq.Values {
		path := index("hidden_from_reps", i)
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
		p.HiddenFromReps = append(p.HiddenFromReps, s)
		p.hidden = append(p.hidden, hiddenField{name: s, line: line})
	}
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
// hidden_from_reps: "phone", "attributes.Tags") from sales.
func (p *Policy) HidesFromReps(field string) bool {
	for _, f := range p.HiddenFromReps {
		if f == field {
			return true
		}
	}
	return false
}

// hiddenProblems checks the hidden attributes against the schema: a name
// no lead has is most likely misspelt, and a misspelt name would show the
// field it meant to hide.
func (p *Policy) hiddenProblems(d *decoder, s Schema) {
	for i, h := range p.hidden {
		a, ok := strings.CutPrefix(h.name, attrPrefix)
		if !ok {
			continue
		}
		if _, ok := s.Attributes[a]; !ok {
			d.problem(h.line, index("hidden_from_reps", i), "no lead has the attribute %q: a misspelt name hides nothing (known attributes: %s)", a, known(s))
		}
	}
}
