package csvimport

import (
	"fmt"
	"strings"
	"time"
)

// DateOrder says how a date written with slashes reads: 3/4/2026 is March 4
// in a US file (MonthFirst, the default: Salesforce and HubSpot exports of US
// accounts) and 3 April in most of the world's (DayFirst).
type DateOrder string

// The date orders.
const (
	MonthFirst DateOrder = "mdy"
	DayFirst   DateOrder = "dmy"
)

// ParseDateOrder reads a --date-order flag: mdy (or "", the default) or dmy.
func ParseDateOrder(s string) (DateOrder, error) {
	switch DateOrder(strings.ToLower(strings.TrimSpace(s))) {
	case "", MonthFirst:
		return MonthFirst, nil
	case DayFirst:
		return DayFirst, nil
	}
	return "", fmt.Errorf("date order %q: want mdy (3/4/2026 is March 4) or dmy (3/4/2026 is 3 April)", s)
}

// isoLayouts are the ISO 8601 forms read, with a time zone offset or not
// (fractional seconds read after the seconds whatever the layout); the
// input is upper-cased first, so "t" and "z" read too. Zone names ("PST")
// are not read: Go would make up an offset of zero for most of them.
var isoLayouts = []string{
	time.RFC3339, // 2026-01-01T08:00:00Z, 2026-01-01T08:00:00.000+01:00
	"2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00", "2006-01-02T15:04Z0700",
	"2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05Z0700", "2006-01-02 15:04:05 Z07:00", "2006-01-02 15:04:05 Z0700",
	"2006-01-02 15:04Z07:00", "2006-01-02 15:04Z0700", "2006-01-02 15:04 Z07:00", "2006-01-02 15:04 Z0700",
	"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04",
	time.DateOnly, "2006/01/02",
}

// usTimes are the times that may follow a slashed date, with or without a
// comma between (Salesforce report exports write "1/15/2026, 9:12 AM").
var usTimes = []string{"", " 3:04 PM", " 3:04:05 PM", " 15:04", " 15:04:05", " 3:04PM", " 3:04:05PM"}

// ParseTime reads a date or a time as CRM exports write them:
//
//   - ISO 8601: 2026-01-01, 2026-01-01 08:00, 2026-01-01T08:00:00,
//     2026-01-01T08:00:00+0000, 2026-01-01T08:00:00.000Z, RFC 3339;
//   - slashed dates: 1/1/2026, 01/01/2026, 1/1/2026 8:00 AM,
//     1/1/2026, 08:00, 1/1/2026 20:00:05, read in the given order
//     (month first unless DayFirst); the year has four digits.
//
// A time without an offset is in loc (UTC if nil). The error says what was
// expected, and when the date only reads the other way round, says so.
func ParseTime(s string, order DateOrder, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	u := strings.ToUpper(strings.TrimSpace(s))
	if u == "" {
		return time.Time{}, fmt.Errorf("expected a date, got an empty cell")
	}
	for _, l := range isoLayouts {
		if t, err := time.ParseInLocation(l, u, loc); err == nil {
			return t, nil
		}
	}
	if t, ok := parseSlashed(u, order, loc); ok {
		return t, nil
	}
	msg := fmt.Sprintf("expected a date such as 2026-01-31, 2026-01-31 08:00, 2026-01-31T08:00:00+0000 or %s, got %s",
		map[DateOrder]string{MonthFirst: "1/31/2026 8:00 AM", DayFirst: "31/1/2026 08:00"}[orderOr(order)], quote(s))
	other := DayFirst
	if orderOr(order) == DayFirst {
		other = MonthFirst
	}
	if _, ok := parseSlashed(u, other, loc); ok {
		msg += fmt.Sprintf(" (it reads as a date with day and month swapped: is the file --date-order %s?)", other)
	}
	return time.Time{}, fmt.Errorf("%s", msg)
}

func orderOr(o DateOrder) DateOrder {
	if o == DayFirst {
		return DayFirst
	}
	return MonthFirst
}

func parseSlashed(u string, order DateOrder, loc *time.Location) (time.Time, bool) {
	date := "1/2/2006"
	if orderOr(order) == DayFirst {
		date = "2/1/2006"
	}
	u = strings.Replace(u, ", ", " ", 1)
	for _, tm := range usTimes {
		if t, err := time.ParseInLocation(date+tm, u, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
