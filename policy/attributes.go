package policy

import (
	"maps"

	"github.com/batonhq/baton"
)

// attributes: the custom attributes a policy expects, with their types
// (see the package documentation).

// attributes reads the attributes section onto p: NAME: string, number or
// bool.
func (d *decoder) attributes(e entry, p *Policy) {
	if e.val == nil {
		return
	}
	es, ok := d.mapping(e.val, "attributes", e.line)
	if !ok {
		return
	}
	p.attrLines = map[string]int{}
	for _, a := range es {
		path := join("attributes", a.key)
		t := baton.AttrType(d.text(a, path, true))
		switch t {
		case baton.AttrString, baton.AttrNumber, baton.AttrBool:
		case "":
			continue
		default:
			d.problem(a.line, path, "unknown type %q: want string, number or bool", t)
			continue
		}
		p.Attributes = append(p.Attributes, baton.AttributeDef{Name: a.key, Type: t})
		p.attrLines[a.key] = a.line
	}
}

// withDeclared returns the schema with the attributes the policy declares,
// and the problems of declarations that contradict the leads' own types.
func (p *Policy) withDeclared(d *decoder, s Schema) Schema {
	if len(p.Attributes) == 0 {
		return s
	}
	out := Schema{Attributes: maps.Clone(s.Attributes)}
	if out.Attributes == nil {
		out.Attributes = map[string]baton.AttrType{}
	}
	for _, a := range p.Attributes {
		if t, ok := s.Attributes[a.Name]; ok && t != a.Type {
			d.problem(p.attrLines[a.Name], join("attributes", a.Name), "leads already have %q as a %s, not a %s", a.Name, t, a.Type)
			continue
		}
		out.Attributes[a.Name] = a.Type
	}
	return out
}

// Undeclared returns the attributes the policy declares that the schema
// does not have yet: what publishing it defines.
func (p *Policy) Undeclared(s Schema) []baton.AttributeDef {
	var out []baton.AttributeDef
	for _, a := range p.Attributes {
		if _, ok := s.Attributes[a.Name]; !ok {
			out = append(out, a)
		}
	}
	return out
}
