package worktime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/batonhq/baton"
)

// calendarIn is the decoded form of a calendar: hours keyed by day names or
// day ranges.
type calendarIn struct {
	Name     string              `json:"name" yaml:"name"`
	TimeZone string              `json:"time_zone" yaml:"time_zone"`
	Hours    map[string][]string `json:"hours" yaml:"hours"`
	Holidays []string            `json:"holidays" yaml:"holidays"`
}

// calendarOut is the encoded form, with the days in week order.
type calendarOut struct {
	Name     string   `json:"name,omitempty" yaml:"name,omitempty"`
	TimeZone string   `json:"time_zone" yaml:"time_zone"`
	Hours    hoursOut `json:"hours" yaml:"hours"`
	Holidays []string `json:"holidays,omitempty" yaml:"holidays,omitempty"`
}

type hoursOut struct {
	Mon []string `json:"mon,omitempty" yaml:"mon,omitempty"`
	Tue []string `json:"tue,omitempty" yaml:"tue,omitempty"`
	Wed []string `json:"wed,omitempty" yaml:"wed,omitempty"`
	Thu []string `json:"thu,omitempty" yaml:"thu,omitempty"`
	Fri []string `json:"fri,omitempty" yaml:"fri,omitempty"`
	Sat []string `json:"sat,omitempty" yaml:"sat,omitempty"`
	Sun []string `json:"sun,omitempty" yaml:"sun,omitempty"`
}

// ParseCalendar decodes a calendar from JSON and validates it:
//
//	{"name": "support-emea", "time_zone": "Europe/Berlin",
//	 "hours": {"mon-thu": ["09:00-12:30", "13:30-18:00"], "fri": ["09:00-15:00"]},
//	 "holidays": ["2026-12-25", "2026-12-26"]}
//
// Hours are keyed by day ("mon", "monday", "Mon") or by a range of days
// ("mon-fri"; "fri-mon" wraps over the weekend); a day missing is a day off.
// Spans are "HH:MM-HH:MM", 24:00 allowed as an end. Errors are
// baton.FieldError values naming the field.
//
// A document that is not JSON, or has a value of the wrong type, is refused
// saying where: the line and column, and the field of a wrong value.
func ParseCalendar(data []byte) (*Calendar, error) {
	c := new(Calendar)
	if err := c.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return c, nil
}

// MarshalJSON encodes the calendar in the form ParseCalendar reads, one key
// per working day.
func (c Calendar) MarshalJSON() ([]byte, error) { return json.Marshal(c.out()) }

// UnmarshalJSON decodes the form described at [ParseCalendar] and validates
// the calendar.
func (c *Calendar) UnmarshalJSON(data []byte) error {
	var in calendarIn
	if err := json.Unmarshal(data, &in); err != nil {
		return jsonError(data, err)
	}
	return c.from(in)
}

// jsonError is the EINVALID error of a document json could not decode,
// saying where it went wrong (the line and column of the character at
// fault; for a value of the wrong type, where json stopped reading it: the
// start of a list or object, the end of a string or number) and naming the
// field of a wrong value.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return baton.Errorf(baton.EINVALID, "the calendar is empty: give a JSON object such as %s", example)
	case errors.As(err, &syn):
		// A decoder tells a document cut short from one that goes wrong.
		if derr := json.NewDecoder(bytes.NewReader(data)).Decode(new(json.RawMessage)); errors.Is(derr, io.ErrUnexpectedEOF) {
			line, col := position(data, int64(len(data)))
			return baton.Errorf(baton.EINVALID, "line %d, column %d: the JSON ends before it is complete (is it cut short? a closing }, ] or \" is missing)", line, col)
		}
		line, col := position(data, syn.Offset-1)
		return baton.Errorf(baton.EINVALID, "line %d, column %d: %s", line, col, strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ):
		line, col := position(data, typ.Offset-1)
		kind := typ.Type.Kind()
		var want string
		switch {
		case typ.Field == "":
			return baton.Errorf(baton.EINVALID, "line %d, column %d: the calendar must be a JSON object such as %s, not %s", line, col, example, article(typ.Value))
		case typ.Field == "hours" && kind == reflect.Map:
			want = `an object of days and their hours, such as {"mon-fri": ["09:00-17:00"]}`
		case typ.Field == "hours" && kind == reflect.Slice:
			want = `a list of spans, such as ["09:00-12:30", "13:30-18:00"]`
		case typ.Field == "hours":
			want = `a string, such as "09:00-17:00"`
		case typ.Field == "holidays" && kind == reflect.Slice:
			want = `a list of dates, such as ["2026-12-25"]`
		case typ.Field == "holidays":
			want = `a string, such as "2026-12-25"`
		case typ.Field == "time_zone":
			want = `a string, such as "Europe/Berlin"`
		case kind == reflect.String:
			want = "a string"
		default:
			want = typ.Type.String()
		}
		// The message goes with the field's name, as the other field errors do.
		what := ""
		if typ.Field == "hours" && kind != reflect.Map {
			what = "each day's hours "
			if kind != reflect.Slice {
				what = "each span of hours "
			}
		} else if typ.Field == "holidays" && kind != reflect.Slice {
			what = "each holiday "
		}
		return baton.FieldError(typ.Field, "line %d, column %d: %smust be %s, not %s", line, col, what, want, article(typ.Value))
	}
	return baton.Errorf(baton.EINVALID, "calendar: %v", err)
}

// example is a calendar, for messages.
const example = `{"time_zone": "Europe/Berlin", "hours": {"mon-fri": ["09:00-17:00"]}}`

// article puts "a" or "an" before a JSON kind as json names it ("number",
// "array", "object").
func article(kind string) string {
	if kind != "" && strings.ContainsRune("aeiou", rune(kind[0])) {
		return "an " + kind
	}
	return "a " + kind
}

// position returns the line and column (from 1, in characters) of a byte
// offset of data.
func position(data []byte, offset int64) (line, col int) {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line = 1 + bytes.Count(before, []byte("\n"))
	if i := bytes.LastIndexByte(before, '\n'); i >= 0 {
		before = before[i+1:]
	}
	return line, 1 + utf8.RuneCount(before)
}

// MarshalYAML encodes the calendar for YAML libraries that accept a
// value to encode in its place (goccy/go-yaml, yaml.v2), in the same form as
// JSON.
func (c Calendar) MarshalYAML() (any, error) { return c.out(), nil }

// UnmarshalYAML decodes the calendar for YAML libraries that pass a decode
// function (goccy/go-yaml, yaml.v2), in the same form as JSON, and validates
// it.
func (c *Calendar) UnmarshalYAML(unmarshal func(any) error) error {
	var in calendarIn
	if err := unmarshal(&in); err != nil {
		return baton.Errorf(baton.EINVALID, "calendar: %v", err)
	}
	return c.from(in)
}

func (c Calendar) out() calendarOut {
	o := calendarOut{Name: c.Name, TimeZone: c.TimeZone}
	if o.TimeZone == "" && c.Location != nil {
		o.TimeZone = c.Location.String()
	}
	days := [7]*[]string{&o.Hours.Sun, &o.Hours.Mon, &o.Hours.Tue, &o.Hours.Wed, &o.Hours.Thu, &o.Hours.Fri, &o.Hours.Sat}
	for wd, spans := range c.Hours {
		if wd < time.Sunday || wd > time.Saturday {
			continue
		}
		for _, s := range spans {
			*days[wd] = append(*days[wd], s.String())
		}
	}
	for _, d := range c.Holidays {
		o.Holidays = append(o.Holidays, d.String())
	}
	return o
}

func (c *Calendar) from(in calendarIn) error {
	n := Calendar{Name: in.Name, TimeZone: in.TimeZone, Hours: map[time.Weekday][]Span{}}
	for key, list := range in.Hours {
		field := "hours." + key
		days, err := parseDays(key)
		if err != nil {
			return baton.FieldError(field, "%v", err)
		}
		var spans []Span
		for i, s := range list {
			sp, err := ParseSpan(s)
			if err != nil {
				return baton.FieldError(fmt.Sprintf("%s[%d]", field, i), "%v", err)
			}
			spans = append(spans, sp)
		}
		for _, wd := range days {
			if _, dup := n.Hours[wd]; dup {
				return baton.FieldError(field, "%s is given hours twice", dayKeys[wd])
			}
			n.Hours[wd] = append([]Span(nil), spans...)
		}
	}
	for i, s := range in.Holidays {
		d, err := ParseDate(s)
		if err != nil {
			return baton.FieldError(fmt.Sprintf("holidays[%d]", i), "%v", err)
		}
		n.Holidays = append(n.Holidays, d)
	}
	if err := n.Validate(); err != nil {
		return err
	}
	*c = n
	return nil
}

// parseDays parses "mon", "Monday" or a range "mon-fri".
func parseDays(key string) ([]time.Weekday, error) {
	a, b, isRange := strings.Cut(key, "-")
	first, err := parseDay(a)
	if err != nil {
		return nil, err
	}
	if !isRange {
		return []time.Weekday{first}, nil
	}
	last, err := parseDay(b)
	if err != nil {
		return nil, err
	}
	days := []time.Weekday{first}
	for d := first; d != last; {
		d = (d + 1) % 7
		days = append(days, d)
	}
	return days, nil
}

func parseDay(s string) (time.Weekday, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) >= 3 {
		for wd := time.Sunday; wd <= time.Saturday; wd++ {
			if strings.HasPrefix(strings.ToLower(wd.String()), s) {
				return wd, nil
			}
		}
	}
	return 0, fmt.Errorf("%q is not a day of the week like mon or a range like mon-fri", s)
}
