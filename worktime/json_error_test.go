package worktime

import (
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// TestParseCalendarBadJSON: a document that is not JSON, is cut short or
// has a value of the wrong type is EINVALID (never an internal error),
// saying the line and column and, for a wrong value, naming the field.
func TestParseCalendarBadJSON(t *testing.T) {
	tests := []struct{ json, field, msg string }{
		{"{\"time_zone\": \"Europe/Berlin\",\n \"hours\": {\"mon-fri\": [\"09:00-17:00\"]", "", "line 2, column 38: the JSON ends before it is complete"},
		{`{"time_zone": "UTC", "hours": {"mon": ["09:00-17:`, "", "line 1, column 50: the JSON ends before it is complete"},
		{"", "", "the calendar is empty"},
		{"  \n ", "", "the calendar is empty"},
		{`{"time_zone": "UTC",}`, "", "line 1, column 21: invalid character '}'"},
		{`{"time_zone": "UTC", "hours": {"mon": ["09:00-17:00"]}} x`, "", "line 1, column 57: invalid character 'x' after top-level value"},
		{`{"time_zone": 5}`, "time_zone", `line 1, column 15: must be a string, such as "Europe/Berlin", not a number`},
		{`{"time_zone": "UTC", "hours": ["mon"]}`, "hours", "line 1, column 31: must be an object of days and their hours"},
		{`{"time_zone": "UTC", "hours": {"mon": [9]}}`, "hours", `line 1, column 40: each span of hours must be a string, such as "09:00-17:00", not a number`},
		{`{"time_zone": "UTC", "hours": {"mon": ["09:00-17:00"]}, "holidays": "2026-12-25"}`, "holidays", "line 1, column 80: must be a list of dates"},
		{`{"time_zone": "UTC", "hours": {"mon": ["09:00-17:00"]}, "holidays": [20261225]}`, "holidays", "each holiday must be a string"},
		{`{"name": ["a"]}`, "name", "line 1, column 10: must be a string, not an array"},
		{`[1]`, "", "the calendar must be a JSON object"},
		{"{\n\t\"time_zone\": \"UTC\",\n\t\"hours\": {\"mon\": [\"09:00-17:00\"]},\n\t\"holidays\": [\"2026-12-25\",]\n}", "", "line 4, column 28: invalid character ']'"},
	}
	for _, tt := range tests {
		_, err := ParseCalendar([]byte(tt.json))
		if baton.ErrorCode(err) != baton.EINVALID || baton.ErrorField(err) != tt.field || !strings.Contains(baton.ErrorMessage(err), tt.msg) {
			t.Errorf("%q: error %v (field %q), want field %q and %q", tt.json, err, baton.ErrorField(err), tt.field, tt.msg)
		}
	}
}

// FuzzParseCalendar: whatever the document, ParseCalendar returns a
// calendar or an EINVALID error, never an internal one, and a calendar it
// returns encodes to a document it reads back.
func FuzzParseCalendar(f *testing.F) {
	for _, s := range []string{
		`{"time_zone": "Europe/Berlin", "hours": {"mon-fri": ["09:00-12:30", "13:30-18:00"]}, "holidays": ["2026-12-25"]}`,
		`{"time_zone": "UTC", "hours": {"fri-mon": ["00:00-24:00"]}}`,
		`{"time_zone": "UTC", "hours": {"mon": ["09:00-17:`,
		`{"time_zone": 5}`, `[1]`, ``, `{"hours": {"mon": [9]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCalendar(data)
		if err != nil {
			if code := baton.ErrorCode(err); code != baton.EINVALID {
				t.Fatalf("%q: error %v of code %s", data, err, code)
			}
			return
		}
		out, err := c.MarshalJSON()
		if err != nil {
			t.Fatalf("%q: encode: %v", data, err)
		}
		if _, err := ParseCalendar(out); err != nil {
			t.Fatalf("%q encodes to %s, which does not parse: %v", data, out, err)
		}
	})
}
