// Package worktime computes with working calendars, the clocks of SLA windows:
// "an SDR accepts or rejects an MQL within 4 working hours" is measured in the
// team's hours, in its time zone, without its holidays.
//
// It is pure computation, with no I/O beyond loading time zones from the
// system (or embedded) tz database.
//
// # Calendars
//
// A [Calendar] gives, for each weekday, the working [Span]s in wall-clock
// time (09:00-12:30 and 13:30-18:00), a time zone, and whole-day holidays.
// Build one with a struct literal and [Calendar.Validate], or decode it from
// JSON ([ParseCalendar]) or YAML:
//
//	{"time_zone": "America/New_York",
//	 "hours": {"mon-fri": ["09:00-17:00"]},
//	 "holidays": ["2026-12-25"]}
//
// Validate refuses unknown zones, spans that end before they start, overlapping
// spans, impossible holidays and a calendar with no working hours at all (it
// would never count any time). [Always] is 24x7 in UTC.
//
// # Windows
//
// [Calendar.Add] gives the deadline of a window: the instant when a duration of
// working time has passed after its start. A window opened outside working
// hours starts counting at the next working instant. [Calendar.Between] gives
// the working time between two instants; the two are inverse:
// Between(start, Add(start, d)) == d. [Calendar.IsWorking] and
// [Calendar.NextWorking] answer the obvious questions.
//
// The computation walks whole working intervals, a day at a time, never
// minute by minute: an Add of 4 hours takes well under a microsecond, one of
// 400 hours (ten weeks) a few microseconds, with no allocation. If there is no
// working time at all for about ten years (a calendar made only of holidays),
// Add and NextWorking return the zero time.Time rather than loop.
//
// # Daylight saving time
//
// Spans are wall-clock times in the calendar's zone. Each span's ends are
// turned into instants with time.Date, and a span lasts the real time that
// elapses between them. DST transitions usually happen at night, so a
// 09:00-17:00 span is 8 hours on the transition day too; a span that contains
// the transition (00:00-06:00 in Europe/Berlin on the last Sunday of March)
// is an hour shorter, or longer in autumn. A wall-clock time in the
// spring-forward gap resolves as time.Date does (an hour later); intervals
// are clipped so that they never overlap.
//
// # Overnight shifts
//
// A span cannot cross midnight. A night shift from 22:00 to 06:00 is two
// spans: 22:00-24:00 on the first day and 00:00-06:00 on the next. Working
// intervals that touch (Monday 24:00 and Tuesday 00:00) count as one stretch
// of working time, so the result is the same.
package worktime
