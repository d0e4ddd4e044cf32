package worktime

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// Clock is a wall-clock time of day in minutes since midnight, from 0
// (00:00) to 1440 (24:00). 24:00 is only meaningful as the end of a [Span].
type Clock int

// At returns the Clock for hour h and minute m; At(24, 0) is 24:00.
func At(h, m int) Clock { return Clock(h*60 + m) }

// Midnight is the end of a day, 24:00.
const Midnight = Clock(24 * 60)

// String returns the clock as "HH:MM".
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// ParseClock parses "HH:MM" (or "H:MM") from 00:00 to 24:00.
func ParseClock(s string) (Clock, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 {
		return 0, fmt.Errorf("%q is not a time of day like 09:30", s)
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("%q is not a time of day between 00:00 and 24:00", s)
	}
	return At(hh, mm), nil
}

// Span is one stretch of working time within a day, from Start (inclusive) to
// End (exclusive), in the calendar's wall-clock time. Start must be before
// End: a span cannot cross midnight (see the package documentation on
// overnight shifts).
type Span struct{ Start, End Clock }

// String returns the span as "HH:MM-HH:MM".
func (s Span) String() string { return s.Start.String() + "-" + s.End.String() }

// ParseSpan parses "HH:MM-HH:MM". It checks the syntax only; [Calendar.Validate]
// checks that Start is before End.
func ParseSpan(s string) (Span, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Span{}, fmt.Errorf("%q is not a span of hours like 09:00-17:00", s)
	}
	start, err := ParseClock(strings.TrimSpace(a))
	if err != nil {
		return Span{}, err
	}
	end, err := ParseClock(strings.TrimSpace(b))
	if err != nil {
		return Span{}, err
	}
	return Span{start, end}, nil
}

// Date is a calendar day without a time zone, as used for holidays.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate parses "YYYY-MM-DD" and checks that the day exists.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date like 2026-12-25", s)
	}
	return DateOf(t), nil
}

// String returns the date as "YYYY-MM-DD".
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// Valid reports whether d is a day that exists (not February 30th).
func (d Date) Valid() bool {
	if d.Month < time.January || d.Month > time.December || d.Day < 1 {
		return false
	}
	return DateOf(time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC)) == d
}

// MarshalText implements encoding.TextMarshaler ("YYYY-MM-DD").
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler ("YYYY-MM-DD").
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Calendar is a team's working time: its hours for each weekday, in the
// wall-clock time of its zone, minus whole-day holidays.
//
// Fill the exported fields and call [Calendar.Validate] (or use
// [ParseCalendar] or JSON/YAML decoding, which validate) before using it; a
// validated calendar is read-only and safe for concurrent use. Validate again
// after changing a field.
type Calendar struct {
	// Name is a label, for people; it has no effect on computation.
	Name string
	// Location is the time zone of the hours and holidays. Validate loads it
	// from TimeZone. A calendar that was never validated computes in UTC.
	Location *time.Location
	// TimeZone is the IANA name of the zone, such as "Europe/Berlin" or "UTC".
	TimeZone string
	// Hours are the working spans of each weekday, sorted and not
	// overlapping (Validate sorts them). A weekday missing from the map is a
	// day off.
	Hours map[time.Weekday][]Span
	// Holidays are whole days off, in the calendar's zone.
	Holidays []Date

	holidays map[Date]struct{} // built by Validate
}

// Always is the 24x7 calendar in UTC: every instant is working time, so
// Add(t, d) is t+d. Use it in tests and for teams without a calendar.
var Always = func() Calendar {
	c := Calendar{Name: "24x7", TimeZone: "UTC", Hours: map[time.Weekday][]Span{}}
	for d := time.Sunday; d <= time.Saturday; d++ {
		c.Hours[d] = []Span{{0, Midnight}}
	}
	if err := c.Validate(); err != nil {
		panic(err)
	}
	return c
}()

var dayKeys = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// Validate checks the calendar and prepares it for use: it loads Location
// from TimeZone, sorts each day's spans and indexes the holidays. Errors are
// baton.FieldError values naming the field at fault ("time_zone",
// "hours.mon", "holidays[2]", ...), using the JSON names.
func (c *Calendar) Validate() error {
	if c.TimeZone == "" && c.Location != nil && c.Location != time.Local {
		c.TimeZone = c.Location.String()
	}
	switch c.TimeZone {
	case "":
		return baton.FieldError("time_zone", "a time zone is required, an IANA name such as Europe/Berlin, or UTC")
	case "Local":
		return baton.FieldError("time_zone", "Local is the server's zone; name the team's zone, such as Europe/Berlin, or UTC")
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return baton.FieldError("time_zone", "unknown time zone %q; use an IANA name such as Europe/Berlin, or UTC", c.TimeZone)
	}
	total := 0
	for wd, spans := range c.Hours {
		if wd < time.Sunday || wd > time.Saturday {
			return baton.FieldError("hours", "%d is not a weekday", int(wd))
		}
		field := "hours." + dayKeys[wd]
		slices.SortFunc(spans, func(a, b Span) int { return int(a.Start - b.Start) })
		for i, s := range spans {
			if s.Start < 0 || s.End > Midnight {
				return baton.FieldError(field, "span %s is outside 00:00-24:00", s)
			}
			if s.Start >= s.End {
				return baton.FieldError(field, "span %s ends before it starts; a span cannot cross midnight, split a night shift into 22:00-24:00 and 00:00-06:00 of the next day", s)
			}
			if i > 0 && spans[i-1].End > s.Start {
				return baton.FieldError(field, "spans %s and %s overlap", spans[i-1], s)
			}
			total += int(s.End - s.Start)
		}
	}
	if total == 0 {
		return baton.FieldError("hours", "an SLA calendar with no working hours would never count any time; give at least one weekday some hours")
	}
	set := make(map[Date]struct{}, len(c.Holidays))
	for i, d := range c.Holidays {
		if !d.Valid() {
			return baton.FieldError(fmt.Sprintf("holidays[%d]", i), "%s is not a date that exists", d)
		}
		set[d] = struct{}{}
	}
	c.Location, c.holidays = loc, set
	return nil
}

// IsHoliday reports whether d is one of the calendar's holidays.
func (c *Calendar) IsHoliday(d Date) bool {
	if c.holidays != nil {
		_, ok := c.holidays[d]
		return ok
	}
	return slices.Contains(c.Holidays, d) // never validated
}

func (c *Calendar) loc() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}
