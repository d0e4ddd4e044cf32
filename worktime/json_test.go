package worktime

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/goccy/go-yaml"
)

func TestParseCalendar(t *testing.T) {
	c, err := ParseCalendar([]byte(`{"name": "emea", "time_zone": "Europe/Berlin",
		"hours": {"mon-thu": ["13:30-18:00", "09:00-12:30"], "Friday": ["09:00-15:00"], "sun": ["22:00-24:00"]},
		"holidays": ["2026-12-25", "2026-12-26"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Location.String() != "Europe/Berlin" || c.Name != "emea" {
		t.Errorf("got %v %q", c.Location, c.Name)
	}
	if got := c.Hours[time.Wednesday]; len(got) != 2 || got[0] != (Span{At(9, 0), At(12, 30)}) {
		t.Errorf("wednesday = %v", got)
	}
	if got := c.Hours[time.Sunday]; len(got) != 1 || got[0].End != Midnight {
		t.Errorf("sunday = %v", got)
	}
	if _, ok := c.Hours[time.Saturday]; ok {
		t.Error("saturday has hours")
	}
	if !c.IsHoliday(Date{2026, time.December, 26}) {
		t.Error("boxing day is not a holiday")
	}
	out, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"name":"emea","time_zone":"Europe/Berlin","hours":{"mon":["09:00-12:30","13:30-18:00"],"tue":["09:00-12:30","13:30-18:00"],"wed":["09:00-12:30","13:30-18:00"],"thu":["09:00-12:30","13:30-18:00"],"fri":["09:00-15:00"],"sun":["22:00-24:00"]},"holidays":["2026-12-25","2026-12-26"]}`
	if string(out) != want {
		t.Errorf("MarshalJSON = %s\nwant %s", out, want)
	}
	c2, err := ParseCalendar(out)
	if err != nil {
		t.Fatal(err)
	}
	if out2, _ := json.Marshal(c2); string(out2) != want {
		t.Errorf("round trip = %s", out2)
	}
	// Wrapping range.
	c3, err := ParseCalendar([]byte(`{"time_zone": "UTC", "hours": {"fri-mon": ["10:00-11:00"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c3.Hours) != 4 || c3.Hours[time.Tuesday] != nil || c3.Hours[time.Sunday] == nil {
		t.Errorf("fri-mon = %v", c3.Hours)
	}
}

func TestParseCalendarErrors(t *testing.T) {
	tests := []struct{ json, field, msg string }{
		{`{"time_zone": "Mars/Olympus", "hours": {"mon": ["09:00-17:00"]}}`, "time_zone", "unknown time zone"},
		{`{"hours": {"mon": ["09:00-17:00"]}}`, "time_zone", "required"},
		{`{"time_zone": "Local", "hours": {"mon": ["09:00-17:00"]}}`, "time_zone", "server"},
		{`{"time_zone": "UTC", "hours": {"mon": ["17:00-09:00"]}}`, "hours.mon", "ends before it starts"},
		{`{"time_zone": "UTC", "hours": {"mon": ["09:00-09:00"]}}`, "hours.mon", "ends before it starts"},
		{`{"time_zone": "UTC", "hours": {"mon": ["09:00-13:00", "12:00-17:00"]}}`, "hours.mon", "overlap"},
		{`{"time_zone": "UTC", "hours": {"mon": ["9-17"]}}`, "hours.mon[0]", "time of day"},
		{`{"time_zone": "UTC", "hours": {"mon": ["09:00-24:30"]}}`, "hours.mon[0]", "between 00:00 and 24:00"},
		{`{"time_zone": "UTC", "hours": {"mon": ["09:00"]}}`, "hours.mon[0]", "span of hours"},
		{`{"time_zone": "UTC", "hours": {"funday": ["09:00-17:00"]}}`, "hours.funday", "day of the week"},
		{`{"time_zone": "UTC", "hours": {"mon-fri": ["09:00-17:00"], "fri": ["09:00-12:00"]}}`, "hours.", "twice"},
		{`{"time_zone": "UTC", "hours": {}}`, "hours", "no working hours"},
		{`{"time_zone": "UTC"}`, "hours", "no working hours"},
		{`{"time_zone": "UTC", "hours": {"sat": []}}`, "hours", "no working hours"},
		{`{"time_zone": "UTC", "hours": {"mon": ["09:00-17:00"]}, "holidays": ["2026-02-30"]}`, "holidays[0]", "not a date"},
		{`{"time_zone": "UTC", "hours": {"mon": ["09:00-17:00"]}, "holidays": ["2026-12-25", "25/12/2026"]}`, "holidays[1]", "not a date"},
		{`{"time_zone": "UTC", "hours": {"mon": "09:00-17:00"}}`, "hours", "line 1, column 51: each day's hours must be a list of spans"},
	}
	for _, tt := range tests {
		_, err := ParseCalendar([]byte(tt.json))
		if err == nil {
			t.Errorf("%s: no error", tt.json)
			continue
		}
		if baton.ErrorCode(err) != baton.EINVALID || !strings.HasPrefix(baton.ErrorField(err), tt.field) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: error %v (field %q), want field %q and %q", tt.json, err, baton.ErrorField(err), tt.field, tt.msg)
		}
	}
}

func TestValidateStruct(t *testing.T) {
	c := &Calendar{Location: mustLoad(t, "Asia/Tokyo"), Hours: map[time.Weekday][]Span{time.Monday: {{At(9, 0), At(17, 0)}}}}
	if err := c.Validate(); err != nil || c.TimeZone != "Asia/Tokyo" {
		t.Errorf("Validate = %v, TimeZone %q", err, c.TimeZone)
	}
	c.Hours[9] = []Span{{0, 60}}
	if err := c.Validate(); baton.ErrorField(err) != "hours" {
		t.Errorf("weekday 9: %v", err)
	}
	delete(c.Hours, 9)
	c.Holidays = []Date{{2026, 13, 1}}
	if err := c.Validate(); baton.ErrorField(err) != "holidays[0]" {
		t.Errorf("month 13: %v", err)
	}
	if err := (&Calendar{TimeZone: "UTC"}).Validate(); err == nil || !strings.Contains(err.Error(), "no working hours") {
		t.Errorf("empty calendar: %v", err)
	}
}

func TestYAML(t *testing.T) {
	type config struct {
		Calendar Calendar `yaml:"calendar"`
	}
	var cfg config
	err := yaml.Unmarshal([]byte(`
calendar:
  time_zone: America/New_York
  hours:
    mon-fri: ["09:00-17:00"]
  holidays: [2026-12-25]
`), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Calendar
	if c.Location == nil || c.Location.String() != "America/New_York" || len(c.Hours) != 5 || !c.IsHoliday(Date{2026, 12, 25}) {
		t.Fatalf("decoded %+v", c)
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "mon:") || !strings.Contains(string(out), "time_zone: America/New_York") {
		t.Errorf("yaml = %s", out)
	}
	var back config
	if err := yaml.Unmarshal(out, &back); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	err = yaml.Unmarshal([]byte("calendar:\n  time_zone: UTC\n  hours:\n    mon: [\"17:00-09:00\"]\n"), &cfg)
	if baton.ErrorField(err) != "hours.mon" {
		t.Errorf("bad span from yaml: %v", err)
	}
}

func TestClockDate(t *testing.T) {
	if s := At(9, 5).String(); s != "09:05" {
		t.Error(s)
	}
	if c, err := ParseClock("7:30"); err != nil || c != At(7, 30) {
		t.Error(c, err)
	}
	for _, bad := range []string{"", "7", "07:3", "07:60", "-1:00", "25:00", "24:01", "aa:bb", "123:00"} {
		if _, err := ParseClock(bad); err == nil {
			t.Errorf("ParseClock(%q) accepted", bad)
		}
	}
	var d Date
	if err := d.UnmarshalText([]byte("2028-02-29")); err != nil || d != (Date{2028, 2, 29}) {
		t.Error(d, err)
	}
	if b, _ := d.MarshalText(); string(b) != "2028-02-29" {
		t.Error(string(b))
	}
	if (Date{2027, 2, 29}).Valid() || (Date{2027, 0, 1}).Valid() || !(Date{2027, 12, 31}).Valid() {
		t.Error("Valid")
	}
}
