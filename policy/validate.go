package policy

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/batonhq/baton"
)

// Problem is one thing wrong with a policy document.
type Problem struct {
	// Line is the 1-based line of the document at fault, 0 if unknown.
	Line int `json:"line"`
	// Field is the path of the value at fault, e.g. "fit[2].range" or
	// "engagement.rules[0].cap.per"; empty for the document as a whole.
	Field   string `json:"field"`
	Message string `json:"message"`
}

// String writes the problem as "line 12: fit[0].range: min 5 is above max 3".
func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// ValidationError lists every problem of a policy document, in line order.
// Its Unwrap returns a *baton.Error with code EINVALID, so that
// baton.ErrorCode(err) is baton.EINVALID and the API answers 400.
type ValidationError struct {
	Problems []Problem
}

func newValidationError(probs []Problem) *ValidationError {
	slices.SortStableFunc(probs, func(a, b Problem) int { return cmp.Compare(a.Line, b.Line) })
	return &ValidationError{Problems: probs}
}

// Error lists all problems, one per line.
func (e *ValidationError) Error() string {
	return "policy: " + e.message()
}

func (e *ValidationError) message() string {
	var b strings.Builder
	if len(e.Problems) == 1 {
		b.WriteString("1 problem: ")
	} else {
		fmt.Fprintf(&b, "%d problems:", len(e.Problems))
	}
	for i, p := range e.Problems {
		if len(e.Problems) > 1 {
			b.WriteString("\n  ")
		} else if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Unwrap returns the error as a baton EINVALID error naming the first
// problem's field.
func (e *ValidationError) Unwrap() error {
	be := &baton.Error{Code: baton.EINVALID, Message: e.message()}
	if len(e.Problems) > 0 {
		be.Field = e.Problems[0].Field
	}
	return be
}

// Validate checks the policy against the lead schema: every attributes.NAME
// rule must name a known attribute, with a condition fit for its type (range
// on numbers; contains and regex on text; equals and in with values of the
// attribute's type), and so must every attributes.NAME that
// hidden_from_reps lists. It returns a *ValidationError listing every
// problem, or nil.
func (p *Policy) Validate(s Schema) error {
	if probs := p.schemaProblems(s); len(probs) > 0 {
		return newValidationError(probs)
	}
	return nil
}

func (p *Policy) schemaProblems(s Schema) []Problem {
	d := &decoder{}
	s = p.withDeclared(d, s)
	for i, r := range p.FitRules {
		c := &r.Condition
		path := index("fit", i)
		for _, h := range p.hidden {
			if h.name == c.Field && h.path != "" && !strings.HasPrefix(h.path, "hidden_from_reps") {
				d.problem(r.fieldLine, join(path, "field"), "%s is named in %s: it is known only after contact, so a rule on it would score leads by how they ended", c.Field, h.path)
			}
		}
		if c.acc.kind != fAttr {
			continue
		}
		typ, ok := s.Attributes[c.acc.name]
		if !ok {
			d.problem(r.fieldLine, join(path, "field"), "no lead has the attribute %q (known attributes: %s)", c.acc.name, known(s))
			continue
		}
		d.checkType(c, string(typ), path, c.Field)
	}
	for _, st := range []struct {
		name string
		s    Stage
	}{{"sdr", p.Handoff.SDR}, {"ae", p.Handoff.AE}} {
		for i, r := range st.s.Routes {
			for j, c := range r.When {
				if c.acc.kind != fAttr {
					continue
				}
				path := index(join(index("handoff."+st.name+".routes", i), "when"), j)
				typ, ok := s.Attributes[c.acc.name]
				if !ok {
					d.problem(c.Line, join(path, "field"), "no lead has the attribute %q", c.acc.name)
					continue
				}
				d.checkType(c, string(typ), path, c.Field)
			}
		}
	}
	p.hiddenProblems(d, s)
	return d.probs
}

func known(s Schema) string {
	names := make([]string, 0, len(s.Attributes))
	for n := range s.Attributes {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(names) == 0 {
		return "none"
	}
	if len(names) > 20 {
		return strings.Join(names[:20], ", ") + fmt.Sprintf(" and %d more", len(names)-20)
	}
	return strings.Join(names, ", ")
}
