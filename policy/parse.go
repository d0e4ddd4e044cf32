package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/bincode"
)

// Limits of a policy document.
const (
	// MaxSize is the largest document accepted, in bytes.
	MaxSize = 1 << 20
	// MaxRules is the most rules of each kind (fit, engagement).
	MaxRules = 1000
)

// Parse reads a policy document and checks everything that does not depend
// on the lead schema. On failure the error is a [*ValidationError] listing
// every problem found, with its line. Use [Check] to check attributes too.
func Parse(data []byte) (*Policy, error) {
	p, probs := parse(data)
	if len(probs) > 0 {
		return nil, newValidationError(probs)
	}
	return p, nil
}

// Check parses a document and validates it against s, listing the problems
// of both steps together. It is Parse followed by Validate.
func Check(data []byte, s Schema) (*Policy, error) {
	p, probs := parse(data)
	if p != nil {
		probs = append(probs, p.schemaProblems(s)...)
	}
	if len(probs) > 0 {
		return nil, newValidationError(probs)
	}
	return p, nil
}

type decoder struct {
	probs []Problem
}

func (d *decoder) problem(line int, field, format string, args ...any) {
	d.probs = append(d.probs, Problem{Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
}

func isNil(n ast.Node) bool {
	if n == nil {
		return true
	}
	v := reflect.ValueOf(n)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

func lineOf(n ast.Node) int {
	if isNil(n) {
		return 0
	}
	t := n.GetToken()
	if t == nil || t.Position == nil {
		return 0
	}
	return t.Position.Line
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// unwrap strips anchors and refuses aliases and tags; nil means no value.
func (d *decoder) unwrap(n ast.Node, path string) ast.Node {
	for !isNil(n) {
		switch x := n.(type) {
		case *ast.AnchorNode:
			n = x.Value
		case *ast.AliasNode:
			d.problem(lineOf(n), path, "YAML aliases (*name) are not supported: write the value out")
			return nil
		case *ast.TagNode:
			d.problem(lineOf(n), path, "YAML tags (!name) are not supported")
			return nil
		case *ast.NullNode:
			return nil
		default:
			return n
		}
	}
	return nil
}

type entry struct {
	key  string
	line int
	val  ast.Node // unwrapped; nil for a null value
}

// mapping reads a mapping node in document order, refusing duplicate keys.
func (d *decoder) mapping(n ast.Node, path string, line int) ([]entry, bool) {
	n = d.unwrap(n, path)
	var vals []*ast.MappingValueNode
	switch m := n.(type) {
	case *ast.MappingNode:
		vals = m.Values
	case *ast.MappingValueNode:
		vals = []*ast.MappingValueNode{m}
	case nil:
		d.problem(line, path, "expected a mapping (key: value), got nothing")
		return nil, false
	default:
		d.problem(lineOf(n), path, "expected a mapping (key: value), got %s", describeNode(n))
		return nil, false
	}
	out := make([]entry, 0, len(vals))
	first := map[string]int{}
	for _, mv := range vals {
		if isNil(mv) {
			continue
		}
		k := d.unwrap(mv.Key, path)
		key, ok := scalarText(k)
		if !ok {
			if _, merge := k.(*ast.MergeKeyNode); merge {
				d.problem(lineOf(k), path, "merge keys (<<) are not supported")
			} else {
				d.problem(lineOf(mv), path, "a key must be a plain name")
			}
			continue
		}
		kl := lineOf(k)
		if l, dup := first[key]; dup {
			d.problem(kl, join(path, key), "appears twice (first on line %d)", l)
			continue
		}
		first[key] = kl
		out = append(out, entry{key: key, line: kl, val: d.unwrap(mv.Value, join(path, key))})
	}
	return out, true
}

// records calls fn with each mapping of the list e holds at path: the
// item's path, its line and its fields (of keys; an item with others is a
// problem and skipped). A value that is not a list is the problem expected.
func (d *decoder) records(e entry, path, expected string, keys []string, fn func(path string, line int, m map[string]entry)) {
	seq, ok := e.val.(*ast.SequenceNode)
	if !ok {
		d.problem(e.line, path, "%s", expected)
		return
	}
	for i, n := range seq.Values {
		p := index(path, i)
		n = d.unwrap(n, p)
		line := lineOf(n)
		if m, ok := d.fields(n, p, line, keys...); ok {
			fn(p, line, m)
		}
	}
}

// fields reads a mapping with a fixed set of keys: unknown keys are problems.
func (d *decoder) fields(n ast.Node, path string, line int, allowed ...string) (map[string]entry, bool) {
	es, ok := d.mapping(n, path, line)
	if !ok {
		return nil, false
	}
	m := make(map[string]entry, len(es))
	for _, e := range es {
		if !slices.Contains(allowed, e.key) {
			d.problem(e.line, join(path, e.key), "unknown field %q (allowed here: %s)", e.key, strings.Join(allowed, ", "))
			continue
		}
		m[e.key] = e
	}
	return m, true
}

func describeNode(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode, *ast.LiteralNode:
		return "text"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "a number"
	case *ast.BoolNode:
		return "a boolean"
	}
	return "a " + strings.ToLower(n.Type().String())
}

// scalarText returns the text of a scalar as written (strings unquoted).
func scalarText(n ast.Node) (string, bool) {
	switch x := n.(type) {
	case *ast.StringNode:
		return x.Value, true
	case *ast.LiteralNode:
		if x.Value == nil {
			return "", true
		}
		return x.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		if t := n.GetToken(); t != nil {
			return t.Value, true
		}
	}
	return "", false
}

// text reads a required or optional piece of text.
func (d *decoder) text(e entry, path string, required bool) string {
	if e.val == nil {
		if required {
			d.problem(e.line, path, "required")
		}
		return ""
	}
	s, ok := scalarText(e.val)
	if !ok {
		d.problem(lineOf(e.val), path, "expected text, got %s", describeNode(e.val))
		return ""
	}
	s = strings.TrimSpace(s)
	if required && s == "" {
		d.problem(e.line, path, "required")
	}
	return s
}

// number reads a finite number.
func (d *decoder) number(e entry, path string) (float64, bool) {
	var f float64
	switch x := e.val.(type) {
	case *ast.IntegerNode:
		switch v := x.Value.(type) {
		case int64:
			f = float64(v)
		case uint64:
			f = float64(v)
		default:
			d.problem(e.line, path, "expected a number")
			return 0, false
		}
	case *ast.FloatNode:
		f = x.Value
	case *ast.NanNode:
		d.problem(e.line, path, "must be a number, not NaN")
		return 0, false
	case *ast.InfinityNode:
		d.problem(e.line, path, "must be a finite number, not %s", x.GetToken().Value)
		return 0, false
	case nil:
		d.problem(e.line, path, "required: a number")
		return 0, false
	default:
		if s, ok := scalarText(e.val); ok {
			d.problem(e.line, path, "expected a number, got %q", s)
		} else {
			d.problem(e.line, path, "expected a number, got %s", describeNode(e.val))
		}
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		d.problem(e.line, path, "must be a finite number")
		return 0, false
	}
	return f, true
}

func (d *decoder) optNumber(m map[string]entry, key, path string) *float64 {
	e, ok := m[key]
	if !ok {
		return nil
	}
	f, ok := d.number(e, join(path, key))
	if !ok {
		return nil
	}
	return &f
}

func (d *decoder) boolean(e entry, path string) bool {
	b, ok := e.val.(*ast.BoolNode)
	if !ok {
		d.problem(e.line, path, "expected true or false")
		return false
	}
	return b.Value
}

// duration reads a positive duration (Go syntax plus d and w).
func (d *decoder) duration(e entry, path string) time.Duration {
	switch e.val.(type) {
	case *ast.IntegerNode, *ast.FloatNode:
		if f, ok := d.number(e, path); ok && f <= 0 {
			d.problem(e.line, path, "must be positive, e.g. 30d, 12h or 2w")
		} else if ok {
			d.problem(e.line, path, "needs a unit, e.g. 30d, 12h or 2w")
		}
		return 0
	}
	s := d.text(e, path, true)
	if s == "" {
		return 0
	}
	dur, err := ParseDuration(s)
	if err != nil {
		d.problem(e.line, path, "%v", err)
		return 0
	}
	if dur <= 0 {
		d.problem(e.line, path, "must be positive, got %s", s)
		return 0
	}
	return dur
}

// value reads a scalar of equals or in.
func (d *decoder) value(n ast.Node, path string, line int) (Value, bool) {
	switch x := n.(type) {
	case nil:
		d.problem(line, path, "expected a value, got nothing")
		return Value{}, false
	case *ast.IntegerNode, *ast.FloatNode:
		f, ok := d.number(entry{line: lineOf(n), val: n}, path)
		if !ok {
			return Value{}, false
		}
		s, _ := scalarText(n)
		return Value{Text: s, Num: f, IsNum: true}, true
	case *ast.BoolNode:
		s, _ := scalarText(n)
		return Value{Text: s, Bool: x.Value, IsBool: true}, true
	case *ast.NanNode, *ast.InfinityNode:
		d.problem(lineOf(n), path, "must be a finite number")
		return Value{}, false
	}
	s, ok := scalarText(n)
	if !ok {
		d.problem(lineOf(n), path, "expected a single value, got %s", describeNode(n))
		return Value{}, false
	}
	v := Value{Text: s}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "true":
		v.Bool, v.IsBool = true, true
	case "no", "false":
		v.IsBool = true
	}
	return v, true
}

var ruleKeys = []string{"name", "field", "points", "equals", "in", "range", "contains", "regex", "missing"}
var whereKeys = opNames

// condition reads the one operator of a rule or a where entry into c.
func (d *decoder) condition(m map[string]entry, path string, line int, c *Condition) {
	var found []string
	for _, k := range opNames {
		if _, ok := m[k]; ok {
			found = append(found, k)
		}
	}
	if len(found) == 0 {
		d.problem(line, path, "no condition: give one of %s", strings.Join(opNames, ", "))
		return
	}
	if len(found) > 1 {
		d.problem(m[found[1]].line, join(path, found[1]), "a rule has one condition, this one has %s: write one rule per condition",
			strings.Join(found, " and "))
		return
	}
	e := m[found[0]]
	p := join(path, found[0])
	c.Op, c.Line = found[0], e.line
	op := opOf(found[0])
	switch op {
	case opEquals:
		v, ok := d.value(e.val, p, e.line)
		if !ok {
			return
		}
		c.Values = []Value{v}
	case opIn:
		seq, ok := e.val.(*ast.SequenceNode)
		if !ok {
			d.problem(e.line, p, "expected a list, e.g. [a, b]")
			return
		}
		if len(seq.Values) == 0 {
			d.problem(e.line, p, "the list is empty")
			return
		}
		bad := false
		for i, n := range seq.Values {
			v, ok := d.value(d.unwrap(n, index(p, i)), index(p, i), e.line)
			bad = bad || !ok
			c.Values = append(c.Values, v)
		}
		if bad {
			return
		}
		if len(c.Values) >= bigIn {
			c.set = make(map[string]struct{}, len(c.Values))
			for _, v := range c.Values {
				c.set[strings.ToLower(v.Text)] = struct{}{}
			}
		}
	case opRange:
		r, ok := d.fields(e.val, p, e.line, "min", "max")
		if !ok {
			return
		}
		c.Min, c.Max = d.optNumber(r, "min", p), d.optNumber(r, "max", p)
		_, hasMin := r["min"]
		_, hasMax := r["max"]
		if !hasMin && !hasMax {
			d.problem(e.line, p, "give min, max or both")
			return
		}
		if c.Min != nil && c.Max != nil && *c.Min > *c.Max {
			d.problem(e.line, p, "min %s is above max %s", fmtNum(*c.Min), fmtNum(*c.Max))
			return
		}
		if (hasMin && c.Min == nil) || (hasMax && c.Max == nil) {
			return
		}
	case opContains:
		c.Text = d.text(e, p, true)
		if c.Text == "" {
			return
		}
		c.lower = strings.ToLower(c.Text)
	case opRegex:
		c.Text = d.text(e, p, true)
		if c.Text == "" {
			return
		}
		re, err := regexp.Compile(c.Text)
		if err != nil {
			d.problem(e.line, p, "bad regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
			return
		}
		c.re = re
	case opMissing:
		c.Missing = d.boolean(e, p)
		if _, ok := e.val.(*ast.BoolNode); !ok {
			return
		}
	}
	c.op = op
	c.detail = c.describe()
}

// checkType reports a condition that cannot apply to a value of type typ.
func (d *decoder) checkType(c *Condition, typ, path, what string) {
	if c.op == 0 {
		return
	}
	p := join(path, c.Op)
	switch c.op {
	case opRange:
		if typ != "number" {
			d.problem(c.Line, p, "range needs a number, and %s is a %s", what, typ)
		}
	case opContains, opRegex:
		if typ != "string" {
			d.problem(c.Line, p, "%s needs text, and %s is a %s", c.Op, what, typ)
		}
	case opEquals, opIn:
		for _, v := range c.Values {
			switch {
			case typ == "number" && !v.IsNum:
				d.problem(c.Line, p, "%s is a number, %q is not", what, v.Text)
			case typ == "bool" && !v.IsBool:
				d.problem(c.Line, p, "%s is a boolean (true/false), %q is not", what, v.Text)
			}
		}
	}
}

func parse(data []byte) (*Policy, []Problem) {
	d := &decoder{}
	if len(data) > MaxSize {
		d.problem(0, "", "the document is %d bytes, at most %d allowed", len(data), MaxSize)
		return nil, d.probs
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		line := 0
		var se *yaml.SyntaxError
		if errors.As(err, &se) {
			if t := se.GetToken(); t != nil && t.Position != nil {
				line = t.Position.Line
			}
			d.problem(line, "", "YAML syntax: %s", se.GetMessage())
		} else {
			d.problem(line, "", "YAML syntax: %v", err)
		}
		return nil, d.probs
	}
	var body ast.Node
	for i, doc := range f.Docs {
		if isNil(doc) || isNil(doc.Body) {
			continue
		}
		if body != nil {
			d.problem(lineOf(doc.Body), "", "one policy per document: remove the second YAML document (document %d)", i+1)
			return nil, d.probs
		}
		body = doc.Body
	}
	if body == nil {
		d.problem(1, "", "the document is empty")
		return nil, d.probs
	}
	top, ok := d.fields(body, "", 1, "name", "owner", "change_note", "fit", "engagement", "mql", "grades", "handoff", "hidden_from_reps", "post_contact", "outcome", "attributes", "intake")
	if !ok {
		return nil, d.probs
	}
	p := &Policy{Handoff: DefaultHandoff(), Intake: DefaultIntake()}
	if e, ok := top["handoff"]; ok {
		d.handoff(e, p)
	}
	if e, ok := top["intake"]; ok {
		d.intake(e, p)
	}
	if e, ok := top["attributes"]; ok {
		d.attributes(e, p)
	}
	if e, ok := top["hidden_from_reps"]; ok {
		d.hidden(e, p)
	}
	if e, ok := top["post_contact"]; ok {
		d.postContact(e, p)
	}
	if e, ok := top["outcome"]; ok {
		d.outcome(e, p)
	}
	if e, ok := top["name"]; ok {
		p.Name = d.text(e, "name", true)
	} else {
		d.problem(1, "name", "required: the policy's name")
	}
	if e, ok := top["owner"]; ok {
		p.Owner = d.text(e, "owner", false)
	}
	if e, ok := top["change_note"]; ok {
		p.ChangeNote = d.text(e, "change_note", false)
	}
	names := map[string]int{} // rule name -> line
	ruleName := func(m map[string]entry, path string, line int) string {
		e, ok := m["name"]
		if !ok {
			d.problem(line, join(path, "name"), "required: every rule has a name (reasons and stored state refer to it)")
			return ""
		}
		n := d.text(e, join(path, "name"), true)
		if n == "" {
			return ""
		}
		if l, dup := names[n]; dup {
			d.problem(e.line, join(path, "name"), "rule name %q is used twice (first on line %d)", n, l)
		} else {
			names[n] = e.line
		}
		return n
	}
	rulePoints := func(m map[string]entry, path string, line int) float64 {
		e, ok := m["points"]
		if !ok {
			d.problem(line, join(path, "points"), "required")
			return 0
		}
		f, ok := d.number(e, join(path, "points"))
		if ok && f == 0 {
			d.problem(e.line, join(path, "points"), "0 points does nothing: remove the rule or give it points")
		}
		return f
	}

	// fit
	if e, ok := top["fit"]; ok && e.val != nil {
		d.records(e, "fit", "expected a list of rules", ruleKeys, func(path string, line int, m map[string]entry) {
			r := &FitRule{Line: line}
			r.Name = ruleName(m, path, line)
			r.Points = rulePoints(m, path, line)
			c := &r.Condition
			if fe, ok := m["field"]; ok {
				c.Field = d.text(fe, join(path, "field"), true)
				r.fieldLine = fe.line
				if f, ok := leadFields[c.Field]; ok {
					c.acc = accessor{kind: f.kind}
				} else if a, ok := strings.CutPrefix(c.Field, attrPrefix); ok && a != "" {
					c.acc = accessor{kind: fAttr, name: a}
				} else if c.Field != "" {
					d.problem(fe.line, join(path, "field"), "unknown field %q; fields are %s", c.Field, fieldList)
				}
			} else {
				d.problem(line, join(path, "field"), "required: the field the rule tests")
			}
			d.condition(m, path, line, c)
			if f, ok := leadFields[c.Field]; ok {
				d.checkType(c, string(f.typ), path, c.Field)
			}
			p.FitRules = append(p.FitRules, r)
		})
	}

	// engagement
	if e, ok := top["engagement"]; ok {
		m, ok := d.fields(e.val, "engagement", e.line, "half_life", "rules")
		if ok {
			if he, ok := m["half_life"]; ok {
				p.HalfLife = d.duration(he, "engagement.half_life")
			} else {
				d.problem(e.line, "engagement.half_life", "required: how long engagement points take to lose half their value, e.g. 30d")
			}
			if re, ok := m["rules"]; ok && re.val != nil {
				d.records(re, "engagement.rules", "expected a list of rules", []string{"name", "event", "where", "points", "once", "cap"}, func(path string, line int, rm map[string]entry) {
					r := &EngagementRule{Line: line}
					r.Name = ruleName(rm, path, line)
					r.Points = rulePoints(rm, path, line)
					r.Event = d.eventType(rm, path, line)
					r.Where = d.where(rm, path)
					if oe, ok := rm["once"]; ok {
						r.Once = d.boolean(oe, join(path, "once"))
					}
					if ce, ok := rm["cap"]; ok {
						cp := join(path, "cap")
						cm, ok := d.fields(ce.val, cp, ce.line, "points", "per")
						if ok {
							r.Cap = &Cap{}
							if pe, ok := cm["points"]; !ok {
								d.problem(ce.line, join(cp, "points"), "required: the most points per window")
							} else if f, ok := d.number(pe, join(cp, "points")); ok {
								if f <= 0 {
									d.problem(pe.line, join(cp, "points"), "must be positive")
								}
								r.Cap.Points = f
							}
							if pe, ok := cm["per"]; !ok {
								d.problem(ce.line, join(cp, "per"), "required: the window, e.g. 7d")
							} else {
								r.Cap.Per = d.duration(pe, join(cp, "per"))
							}
							if r.Once {
								d.problem(ce.line, cp, "a rule with once: true counts one event; a cap adds nothing")
							}
						}
					}
					p.EngagementRules = append(p.EngagementRules, r)
				})
			}
		}
	}

	// mql
	if e, ok := top["mql"]; ok {
		p.MQL.Line = e.line
		m, ok := d.fields(e.val, "mql", e.line, "fit", "engagement", "combined", "match", "fast_track")
		if ok {
			p.MQL.Fit = d.optNumber(m, "fit", "mql")
			p.MQL.Engagement = d.optNumber(m, "engagement", "mql")
			p.MQL.Combined = d.optNumber(m, "combined", "mql")
			p.MQL.Match = MatchAll
			if me, ok := m["match"]; ok {
				switch s := d.text(me, "mql.match", true); s {
				case MatchAll, MatchAny, "":
					if s != "" {
						p.MQL.Match = s
					}
				default:
					d.problem(me.line, "mql.match", "must be all or any, not %q", s)
				}
			}
			if fe, ok := m["fast_track"]; ok && fe.val != nil {
				seen := map[string]int{}
				d.records(fe, "mql.fast_track", "expected a list", []string{"event", "min_fit", "within", "where"}, func(path string, line int, fm map[string]entry) {
					ft := &FastTrack{Line: line}
					ft.Event = d.eventType(fm, path, line)
					if l, dup := seen[ft.Event]; dup && ft.Event != "" {
						d.problem(line, join(path, "event"), "fast track on %s is given twice (first on line %d)", ft.Event, l)
					}
					seen[ft.Event] = line
					ft.MinFit = d.optNumber(fm, "min_fit", path)
					if we, ok := fm["within"]; ok {
						ft.Within = d.duration(we, join(path, "within"))
					}
					ft.Where = d.where(fm, path)
					p.MQL.FastTrack = append(p.MQL.FastTrack, ft)
				})
			}
		}
	} else {
		d.problem(1, "mql", "required: when a lead becomes an MQL (thresholds or a fast track)")
	}

	// grades
	if e, ok := top["grades"]; ok {
		m, ok := d.fields(e.val, "grades", e.line, "fit", "engagement")
		if ok {
			p.FitGrades = d.grades(m, "fit")
			p.EngagementGrades = d.grades(m, "engagement")
		}
	}

	if len(p.FitRules) > MaxRules {
		d.problem(top["fit"].line, "fit", "%d rules, at most %d allowed", len(p.FitRules), MaxRules)
	}
	if len(p.EngagementRules) > MaxRules {
		d.problem(top["engagement"].line, "engagement.rules", "%d rules, at most %d allowed", len(p.EngagementRules), MaxRules)
	}
	p.compile()
	d.crossChecks(p)
	return p, d.probs
}

func (d *decoder) eventType(m map[string]entry, path string, line int) string {
	e, ok := m["event"]
	if !ok {
		d.problem(line, join(path, "event"), "required: the event type")
		return ""
	}
	s := d.text(e, join(path, "event"), true)
	if s != "" && !baton.ValidEventType(s) {
		d.problem(e.line, join(path, "event"), "%q is not an event type (lower_snake_case, e.g. pricing_page_view)", s)
		return ""
	}
	return s
}

func (d *decoder) where(m map[string]entry, path string) []*Condition {
	e, ok := m["where"]
	if !ok {
		return nil
	}
	wp := join(path, "where")
	es, ok := d.mapping(e.val, wp, e.line)
	if !ok {
		return nil
	}
	var out []*Condition
	for _, we := range es {
		pp := join(wp, we.key)
		om, ok := d.fields(we.val, pp, we.line, whereKeys...)
		if !ok {
			continue
		}
		c := &Condition{Field: we.key, acc: accessor{kind: fProperty, name: we.key}}
		d.condition(om, pp, we.line, c)
		out = append(out, c)
	}
	return out
}

func (d *decoder) grades(m map[string]entry, axis string) []Grade {
	e, ok := m[axis]
	if !ok {
		return nil
	}
	path := "grades." + axis
	es, ok := d.mapping(e.val, path, e.line)
	if !ok {
		return nil
	}
	var out []Grade
	for i, ge := range es {
		gp := join(path, ge.key)
		if strings.TrimSpace(ge.key) == "" {
			d.problem(ge.line, gp, "a grade needs a name")
			continue
		}
		f, ok := d.number(ge, gp)
		if !ok {
			continue
		}
		if i > 0 && len(out) > 0 && f >= out[len(out)-1].Min {
			d.problem(ge.line, gp, "grades go from the highest threshold to the lowest: %s (%s) must be below %s (%s)",
				ge.key, fmtNum(f), out[len(out)-1].Name, fmtNum(out[len(out)-1].Min))
		}
		out = append(out, Grade{Name: ge.key, Min: f, line: ge.line})
	}
	if len(out) == 0 {
		d.problem(e.line, path, "no grades")
	}
	return out
}

// compile builds the indexes and bounds used by the engine.
func (p *Policy) compile() {
	for _, r := range p.FitRules {
		if r.Points > 0 {
			p.maxFit += r.Points
		} else {
			p.minFit += r.Points
		}
	}
	p.byEvent = map[string][]*EngagementRule{}
	for _, r := range p.EngagementRules {
		p.byEvent[r.Event] = append(p.byEvent[r.Event], r)
		if r.Points > 0 {
			p.hasEngPos = true
		} else if r.Points < 0 {
			p.hasEngNeg = true
		}
		r.detail = r.describe(p.HalfLife)
	}
	p.fastByEvent = map[string]*FastTrack{}
	for _, f := range p.MQL.FastTrack {
		p.fastByEvent[f.Event] = f
		p.readsProps = p.readsProps || len(f.Where) > 0
	}
	for _, r := range p.EngagementRules {
		p.readsProps = p.readsProps || len(r.Where) > 0
	}
	p.engagementKey = p.keyOfEngagement()
	p.keyPrefix = bincode.AppendString(nil, p.engagementKey)
	p.stateNames = p.stateStrings()
	p.fitReads = p.readsOfFit()
}

// readsOfFit computes FitReads.
func (p *Policy) readsOfFit() FitReads {
	var r FitReads
	read := map[fieldKind]bool{}
	for _, rule := range p.FitRules {
		k := rule.Condition.acc.kind
		switch {
		case k == fEmailDomain:
			read[fEmail] = true
		case k >= fAccDomain && k <= fAccCountry:
			r.Account = true
		case k == fAttr:
			r.Attributes = true
		default:
			read[k] = true
		}
	}
	for _, f := range []struct {
		kind fieldKind
		name string
	}{{fEmail, "email"}, {fName, "name"}, {fTitle, "title"}, {fPhone, "phone"}, {fCompany, "company"},
		{fCountry, "country"}, {fSource, "source"}, {fCampaign, "campaign"}} {
		if read[f.kind] {
			r.Fields = append(r.Fields, f.name)
		}
	}
	return r
}

// keyOfEngagement digests everything an Engagement state depends on: the
// half-life, the engagement rules and the fast tracks' events and
// conditions (not names of documents, lines, fit rules, thresholds or
// grades).
func (p *Policy) keyOfEngagement() string {
	h := sha256.New()
	conds := func(cs []*Condition) {
		for _, c := range cs {
			fmt.Fprintf(h, " where %q %q %v %v %v %q %v", c.Field, c.Op, c.Values, ptrText(c.Min), ptrText(c.Max), c.Text, c.Missing)
		}
	}
	fmt.Fprintf(h, "half_life %d\n", p.HalfLife)
	for _, r := range p.EngagementRules {
		fmt.Fprintf(h, "rule %q %q %v once %v", r.Name, r.Event, r.Points, r.Once)
		if r.Cap != nil {
			fmt.Fprintf(h, " cap %v per %d", r.Cap.Points, r.Cap.Per)
		}
		conds(r.Where)
		h.Write([]byte{'\n'})
	}
	for _, f := range p.MQL.FastTrack {
		fmt.Fprintf(h, "fast %q within %d", f.Event, f.Within)
		conds(f.Where)
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

func ptrText(f *float64) string {
	if f == nil {
		return "-"
	}
	return strconv.FormatFloat(*f, 'g', -1, 64)
}

func (r *EngagementRule) describe(hl time.Duration) string {
	var b strings.Builder
	b.WriteString(r.Event)
	for i, c := range r.Where {
		if i == 0 {
			b.WriteString(" where ")
		} else {
			b.WriteString(" and ")
		}
		b.WriteString(c.describe())
	}
	b.WriteString(", ")
	b.WriteString(fmtNum(r.Points))
	b.WriteString(" points each")
	if r.Once {
		b.WriteString(", once (latest counts)")
	}
	if r.Cap != nil {
		fmt.Fprintf(&b, ", at most %s per %s", fmtNum(r.Cap.Points), FormatDuration(r.Cap.Per))
	}
	if hl > 0 {
		fmt.Fprintf(&b, ", half-life %s", FormatDuration(hl))
	}
	return b.String()
}

// crossChecks finds contradictions between parts of the document.
func (d *decoder) crossChecks(p *Policy) {
	q := &p.MQL
	if q.Line == 0 {
		return
	}
	none := q.Fit == nil && q.Engagement == nil && q.Combined == nil
	if none && len(q.FastTrack) == 0 {
		d.problem(q.Line, "mql", "no threshold (fit, engagement, combined) and no fast_track: no lead can ever qualify")
	}
	if none && q.Match == MatchAny && len(q.FastTrack) > 0 {
		d.problem(q.Line, "mql.match", "match: any needs at least one threshold (fit, engagement, combined)")
	}
	if q.Fit != nil && *q.Fit > p.maxFit {
		d.problem(q.Line, "mql.fit", "threshold %s is above the highest reachable fit %s (every positive fit rule matching)",
			fmtNum(*q.Fit), fmtNum(p.maxFit))
	}
	if q.Engagement != nil && *q.Engagement > 0 && !p.hasEngPos {
		d.problem(q.Line, "mql.engagement", "threshold %s can never be met: no engagement rule gives positive points", fmtNum(*q.Engagement))
	}
	if q.Combined != nil && !p.hasEngPos && *q.Combined > p.maxFit {
		d.problem(q.Line, "mql.combined", "threshold %s is above the highest reachable fit %s and no engagement rule gives positive points",
			fmtNum(*q.Combined), fmtNum(p.maxFit))
	}
	if q.Match == MatchAll && q.Combined != nil && q.Fit != nil && q.Engagement != nil && *q.Combined <= *q.Fit+*q.Engagement {
		d.problem(q.Line, "mql.combined", "with match: all, combined %s is implied by fit %s + engagement %s: raise it or remove it",
			fmtNum(*q.Combined), fmtNum(*q.Fit), fmtNum(*q.Engagement))
	}
	if q.Match == MatchAny {
		// A threshold every lead meets makes every lead an MQL.
		if q.Fit != nil && *q.Fit <= p.minFit {
			d.problem(q.Line, "mql.fit", "with match: any, fit threshold %s is met by every lead (lowest fit is %s): every lead would qualify",
				fmtNum(*q.Fit), fmtNum(p.minFit))
		}
		if q.Engagement != nil && *q.Engagement <= 0 && !p.hasEngNeg {
			d.problem(q.Line, "mql.engagement", "with match: any, engagement threshold %s is met by every lead: every lead would qualify",
				fmtNum(*q.Engagement))
		}
	}
	for i, f := range q.FastTrack {
		if f.MinFit != nil && *f.MinFit > p.maxFit {
			d.problem(f.Line, index("mql.fast_track", i)+".min_fit", "min_fit %s is above the highest reachable fit %s",
				fmtNum(*f.MinFit), fmtNum(p.maxFit))
		}
	}
	for _, g := range p.FitGrades {
		if g.Min > p.maxFit {
			d.problem(g.line, "grades.fit."+g.Name, "threshold %s is above the highest reachable fit %s: no lead can get this grade",
				fmtNum(g.Min), fmtNum(p.maxFit))
		}
	}
	if len(p.EngagementGrades) > 0 && !p.hasEngPos && p.EngagementGrades[0].Min > 0 {
		d.problem(p.EngagementGrades[0].line, "grades.engagement", "no engagement rule gives positive points: grade %s can never be reached", p.EngagementGrades[0].Name)
	}
}
