package api

import (
	"strconv"
	"unicode/utf8"

	"github.com/batonhq/baton"
)

// fastEvents decodes the common case of an event batch, a JSON array of
// plain event objects, in one pass without reflection, several times faster
// than encoding/json. It gives up (ok false) on anything else: escapes in
// strings, nulls, unknown or differently cased keys, wrong types, syntax
// errors, more than baton.MaxEventBatch events. The caller then decodes the
// body with encoding/json, which accepts or refuses it with the exact error.
// So fastEvents never decides what is valid: when it returns ok, its result
// is what encoding/json would give (FuzzFastEvents checks this).
//
// Properties alias body, which must not change while the events are used.
func fastEvents(body []byte) (events []baton.EventInput, ok bool) {
	p := &scanner{b: body}
	p.ws()
	if !p.eat('[') {
		return nil, false
	}
	events = make([]baton.EventInput, 0, min(baton.MaxEventBatch, len(body)/128+1))
	p.ws()
	if p.eat(']') {
		return events, p.end()
	}
	for {
		if len(events) == baton.MaxEventBatch {
			return nil, false
		}
		events = append(events, baton.EventInput{})
		if !p.event(&events[len(events)-1]) {
			return nil, false
		}
		p.ws()
		if p.eat(']') {
			return events, p.end()
		}
		if !p.eat(',') {
			return nil, false
		}
		p.ws()
	}
}

// scanner reads JSON from b at i.
type scanner struct {
	b []byte
	i int
}

func (p *scanner) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *scanner) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// end reports whether only white space is left.
func (p *scanner) end() bool {
	p.ws()
	return p.i == len(p.b)
}

// plainString reads a string without escapes or control characters and
// with valid UTF-8, and returns its content.
func (p *scanner) plainString() ([]byte, bool) {
	if !p.eat('"') {
		return nil, false
	}
	start := p.i
	ascii := true
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			return s, ascii || utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= 0x80:
			ascii = false
		}
		p.i++
	}
	return nil, false
}

// event reads one event object with only the keys of baton.EventInput.
func (p *scanner) event(e *baton.EventInput) bool {
	if !p.eat('{') {
		return false
	}
	p.ws()
	if p.eat('}') {
		return true
	}
	for {
		key, ok := p.plainString()
		if !ok {
			return false
		}
		p.ws()
		if !p.eat(':') {
			return false
		}
		p.ws()
		switch string(key) {
		case "id", "email", "external_id", "type":
			s, ok := p.plainString()
			if !ok {
				return false
			}
			switch string(key) {
			case "id":
				e.ID = string(s)
			case "email":
				e.Email = string(s)
			case "external_id":
				e.ExternalID = string(s)
			default:
				e.Type = string(s)
			}
		case "lead_id":
			n, ok := p.integer()
			if !ok {
				return false
			}
			e.LeadID = n
		case "occurred_at":
			start := p.i
			if _, ok := p.plainString(); !ok {
				return false
			}
			if e.OccurredAt.UnmarshalJSON(p.b[start:p.i]) != nil {
				return false
			}
		case "properties":
			start := p.i
			if !p.value(0) {
				return false
			}
			e.Properties = p.b[start:p.i:p.i]
		default:
			return false
		}
		p.ws()
		if p.eat('}') {
			return true
		}
		if !p.eat(',') {
			return false
		}
		p.ws()
	}
}

// integer reads a JSON number that is an int64 without fraction or exponent.
func (p *scanner) integer() (int64, bool) {
	start := p.i
	p.eat('-')
	digits := p.i
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	if p.i == digits || p.b[digits] == '0' && p.i-digits > 1 {
		return 0, false
	}
	if p.i < len(p.b) && (p.b[p.i] == '.' || p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		return 0, false
	}
	n, err := strconv.ParseInt(string(p.b[start:p.i]), 10, 64)
	return n, err == nil
}

// value skips one well-formed JSON value of at most 200 levels of nesting.
func (p *scanner) value(depth int) bool {
	if depth > 200 || p.i >= len(p.b) {
		return false
	}
	switch c := p.b[p.i]; {
	case c == '{' || c == '[':
		close := byte('}')
		if c == '[' {
			close = ']'
		}
		p.i++
		p.ws()
		if p.eat(close) {
			return true
		}
		for {
			if c == '{' {
				if !p.str() {
					return false
				}
				p.ws()
				if !p.eat(':') {
					return false
				}
				p.ws()
			}
			if !p.value(depth + 1) {
				return false
			}
			p.ws()
			if p.eat(close) {
				return true
			}
			if !p.eat(',') {
				return false
			}
			p.ws()
		}
	case c == '"':
		return p.str()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	}
	return false
}

func (p *scanner) literal(s string) bool {
	if len(p.b)-p.i >= len(s) && string(p.b[p.i:p.i+len(s)]) == s {
		p.i += len(s)
		return true
	}
	return false
}

// str skips a string, escapes included. Like encoding/json's scanner it
// lets any byte from 0x20 through, invalid UTF-8 too.
func (p *scanner) str() bool {
	if !p.eat('"') {
		return false
	}
	for p.i < len(p.b) {
		c := p.b[p.i]
		p.i++
		switch {
		case c == '"':
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if p.i >= len(p.b) {
				return false
			}
			switch p.b[p.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i++
			case 'u':
				if len(p.b)-p.i < 5 {
					return false
				}
				for _, h := range p.b[p.i+1 : p.i+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return false
					}
				}
				p.i += 5
			default:
				return false
			}
		}
	}
	return false
}

// number skips a number of JSON's grammar.
func (p *scanner) number() bool {
	p.eat('-')
	digits := func() int {
		start := p.i
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
		}
		return p.i - start
	}
	if p.eat('0') {
		// a leading zero stands alone
	} else if digits() == 0 {
		return false
	}
	if p.eat('.') && digits() == 0 {
		return false
	}
	if p.eat('e') || p.eat('E') {
		if !p.eat('+') {
			p.eat('-')
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}
