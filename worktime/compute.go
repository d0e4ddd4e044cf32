package worktime

import "time"

// maxIdleDays bounds the search for working time: after this many consecutive
// days without any (about ten years), Add and NextWorking give up.
const maxIdleDays = 3660

// walk calls fn with the working intervals [s, e) that end after t, in order,
// until fn returns false or, if until is not zero, until the intervals start
// after until. Intervals are built one day at a time from the
// day's spans, starting the day before t's date in the calendar's zone (so
// that no interval containing t is missed whatever the zone rules). It
// returns false if it gave up after maxIdleDays days without working time
// (only when until is zero).
//
// Each span's ends are wall-clock times turned into instants by time.Date,
// so a span is the real time elapsed between them: 09:00-17:00 is 8 hours on
// a DST day unless the transition falls inside it. A wall-clock time in a
// spring-forward gap resolves as time.Date does (an hour later); if that puts
// a span's start at or after its end, or before the end of the previous
// span, the interval is clipped, so intervals never overlap.
func (c *Calendar) walk(t, until time.Time, fn func(s, e time.Time) bool) bool {
	loc := c.loc()
	y, m, d := t.In(loc).Date()
	day := time.Date(y, m, d-1, 0, 0, 0, 0, time.UTC) // civil date, UTC carries no DST
	var last time.Time
	if !until.IsZero() {
		y, m, d := until.In(loc).Date()
		last = time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
	}
	var prevEnd time.Time
	idle := 0
	for {
		found := false
		if spans := c.spans(day.Weekday()); len(spans) > 0 {
			dy, dm, dd := day.Date()
			if !c.IsHoliday(Date{dy, dm, dd}) {
				for _, sp := range spans {
					s := time.Date(dy, dm, dd, 0, int(sp.Start), 0, 0, loc)
					e := time.Date(dy, dm, dd, 0, int(sp.End), 0, 0, loc)
					if s.Before(prevEnd) {
						s = prevEnd
					}
					if !e.After(s) {
						continue
					}
					prevEnd, found = e, true
					if e.After(t) && !fn(s, e) {
						return true
					}
				}
			}
		}
		if !last.IsZero() {
			if !day.Before(last) {
				return true
			}
		} else if found {
			idle = 0
		} else if idle++; idle > maxIdleDays {
			return false
		}
		day = day.Add(24 * time.Hour)
	}
}

func (c *Calendar) spans(wd time.Weekday) []Span {
	return c.Hours[wd]
}

// Add returns the instant at which d of working time has passed after start:
// the SLA deadline of a window of length d opened at start.
//
// A window opened outside working hours starts counting at the next working
// instant, so Add(start, 0) is NextWorking(start). A window that runs out
// exactly at the end of a span is due at that end (Friday 16:00 + 1h with
// 09:00-17:00 is Friday 17:00, not Monday 09:00). A negative d counts as 0.
//
// The result is in start's location. Add and Between are inverse:
// Between(start, Add(start, d)) == d for every d >= 0. If there is no working
// time for about ten years after start (only possible with years of
// holidays), Add returns the zero time.Time; check IsZero.
func (c *Calendar) Add(start time.Time, d time.Duration) time.Time {
	start = start.Round(0) // wall clock only
	if d < 0 {
		d = 0
	}
	var res time.Time
	ok := c.walk(start, time.Time{}, func(s, e time.Time) bool {
		if s.Before(start) {
			s = start
		}
		if avail := e.Sub(s); d > avail {
			d -= avail
			return true
		}
		res = s.Add(d)
		return false
	})
	if !ok {
		return time.Time{}
	}
	return res.In(start.Location())
}

// Between returns the working time between a and b: the part of [a, b) that
// falls in working intervals. It is 0 if b is not after a.
func (c *Calendar) Between(a, b time.Time) time.Duration {
	a, b = a.Round(0), b.Round(0)
	if !b.After(a) {
		return 0
	}
	var sum time.Duration
	c.walk(a, b, func(s, e time.Time) bool {
		if !s.Before(b) {
			return false
		}
		if s.Before(a) {
			s = a
		}
		if e.After(b) {
			e = b
		}
		sum += e.Sub(s)
		return true
	})
	return sum
}

// IsWorking reports whether t is working time. Spans include their start and
// exclude their end: with 09:00-17:00, 09:00 is working and 17:00 is not.
func (c *Calendar) IsWorking(t time.Time) bool {
	t = t.Round(0)
	working := false
	c.walk(t, time.Time{}, func(s, e time.Time) bool {
		working = !s.After(t)
		return false
	})
	return working
}

// NextWorking returns t if it is working time, else the start of the next
// working interval, in t's location. It returns the zero time.Time if there
// is no working time for about ten years after t.
func (c *Calendar) NextWorking(t time.Time) time.Time {
	t = t.Round(0)
	var res time.Time
	if !c.walk(t, time.Time{}, func(s, e time.Time) bool {
		res = s
		return false
	}) {
		return time.Time{}
	}
	if res.Before(t) {
		return t
	}
	return res.In(t.Location())
}
