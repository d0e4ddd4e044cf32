package worktime

import (
	"math/rand/v2"
	"testing"
	"time"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// nineToFive is 09:00-17:00 Monday to Friday in zone.
func nineToFive(t testing.TB, zone string, holidays ...Date) *Calendar {
	t.Helper()
	c := &Calendar{TimeZone: zone, Hours: map[time.Weekday][]Span{}, Holidays: holidays}
	for d := time.Monday; d <= time.Friday; d++ {
		c.Hours[d] = []Span{{At(9, 0), At(17, 0)}}
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

func daily(t testing.TB, zone string, spans ...Span) *Calendar {
	t.Helper()
	c := &Calendar{TimeZone: zone, Hours: map[time.Weekday][]Span{}}
	for d := time.Sunday; d <= time.Saturday; d++ {
		c.Hours[d] = spans
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAdd(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	berlin := mustLoad(t, "Europe/Berlin")
	at := func(loc *time.Location, y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, loc)
	}
	nyCal := nineToFive(t, "America/New_York", Date{2026, time.December, 25})
	lunch := &Calendar{TimeZone: "Europe/Berlin", Hours: map[time.Weekday][]Span{
		time.Monday: {{At(13, 30), At(18, 0)}, {At(9, 0), At(12, 30)}}, // unsorted on purpose
		time.Friday: {{At(9, 0), At(12, 0)}},
	}}
	if err := lunch.Validate(); err != nil {
		t.Fatal(err)
	}
	night := &Calendar{TimeZone: "UTC", Hours: map[time.Weekday][]Span{
		time.Monday:  {{At(22, 0), Midnight}},
		time.Tuesday: {{0, At(6, 0)}},
	}}
	if err := night.Validate(); err != nil {
		t.Fatal(err)
	}
	// 2026-01-02 is a Friday, 2026-01-05 a Monday, 2026-12-25 a Friday.
	tests := []struct {
		name  string
		cal   *Calendar
		start time.Time
		d     time.Duration
		want  time.Time
	}{
		// 1h on Friday, 3h on Monday. (The brief said Monday 11:00, which is
		// Friday 16:00 + 3h.)
		{"friday 16:00 + 4h is monday 12:00", nyCal, at(ny, 2026, 1, 2, 16, 0), 4 * time.Hour, at(ny, 2026, 1, 5, 12, 0)},
		{"friday 16:00 + 3h is monday 11:00", nyCal, at(ny, 2026, 1, 2, 16, 0), 3 * time.Hour, at(ny, 2026, 1, 5, 11, 0)},
		{"runs out at the end of a span", nyCal, at(ny, 2026, 1, 2, 16, 0), time.Hour, at(ny, 2026, 1, 2, 17, 0)},
		{"zero inside hours is start", nyCal, at(ny, 2026, 1, 2, 10, 7), 0, at(ny, 2026, 1, 2, 10, 7)},
		{"zero on saturday is monday 09:00", nyCal, at(ny, 2026, 1, 3, 10, 0), 0, at(ny, 2026, 1, 5, 9, 0)},
		{"zero at 17:00 is next morning", nyCal, at(ny, 2026, 1, 5, 17, 0), 0, at(ny, 2026, 1, 6, 9, 0)},
		{"before hours counts from 09:00", nyCal, at(ny, 2026, 1, 5, 6, 0), 2 * time.Hour, at(ny, 2026, 1, 5, 11, 0)},
		{"negative counts as zero", nyCal, at(ny, 2026, 1, 3, 10, 0), -time.Hour, at(ny, 2026, 1, 5, 9, 0)},
		{"a week of work", nyCal, at(ny, 2026, 1, 5, 9, 0), 40 * time.Hour, at(ny, 2026, 1, 9, 17, 0)},
		{"christmas is skipped", nyCal, at(ny, 2026, 12, 24, 16, 0), 2 * time.Hour, at(ny, 2026, 12, 28, 10, 0)},
		{"start given in another zone", nyCal, at(time.UTC, 2026, 1, 2, 21, 0), 3 * time.Hour, at(ny, 2026, 1, 5, 11, 0)},
		{"lunch break skipped", lunch, at(berlin, 2026, 1, 5, 12, 0), time.Hour, at(berlin, 2026, 1, 5, 14, 0)},
		{"during lunch starts at 13:30", lunch, at(berlin, 2026, 1, 5, 12, 45), 30 * time.Minute, at(berlin, 2026, 1, 5, 14, 0)},
		{"monday rest then friday", lunch, at(berlin, 2026, 1, 5, 17, 0), 2 * time.Hour, at(berlin, 2026, 1, 9, 10, 0)},
		{"night shift over midnight", night, at(time.UTC, 2026, 1, 5, 23, 0), 3 * time.Hour, at(time.UTC, 2026, 1, 6, 2, 0)},
		{"night shift next week", night, at(time.UTC, 2026, 1, 6, 5, 0), 2 * time.Hour, at(time.UTC, 2026, 1, 12, 23, 0)},
		{"always", &Always, at(ny, 2026, 3, 7, 12, 0), 48 * time.Hour, at(ny, 2026, 3, 7, 12, 0).Add(48 * time.Hour)},
		// DST, Europe/Berlin: 2026-03-29 02:00 -> 03:00, 2026-10-25 03:00 -> 02:00.
		{"berlin spring: 24h days, sunday is 23h", daily(t, "Europe/Berlin", Span{0, Midnight}), at(berlin, 2026, 3, 28, 0, 0), 48 * time.Hour, at(berlin, 2026, 3, 30, 1, 0)},
		{"berlin autumn: sunday is 25h", daily(t, "Europe/Berlin", Span{0, Midnight}), at(berlin, 2026, 10, 24, 0, 0), 48 * time.Hour, at(berlin, 2026, 10, 25, 23, 0)},
		{"berlin spring: 09-17 is still 8h", daily(t, "Europe/Berlin", Span{At(9, 0), At(17, 0)}), at(berlin, 2026, 3, 29, 9, 0), 8 * time.Hour, at(berlin, 2026, 3, 29, 17, 0)},
		{"berlin spring: 00-06 is 5h", daily(t, "Europe/Berlin", Span{0, At(6, 0)}), at(berlin, 2026, 3, 29, 0, 0), 5 * time.Hour, at(berlin, 2026, 3, 29, 6, 0)},
		// America/New_York: 2026-03-08 02:00 -> 03:00, 2026-11-01 02:00 -> 01:00.
		{"new york spring: 01-04 is 2h", daily(t, "America/New_York", Span{At(1, 0), At(4, 0)}), at(ny, 2026, 3, 8, 1, 0), 2 * time.Hour, at(ny, 2026, 3, 8, 4, 0)},
		{"new york autumn: 00-03 is 4h", daily(t, "America/New_York", Span{0, At(3, 0)}), at(ny, 2026, 11, 1, 0, 0), 4 * time.Hour, at(ny, 2026, 11, 1, 3, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.cal.Add(tt.start, tt.d)
			if !got.Equal(tt.want) {
				t.Errorf("Add(%v, %v) = %v, want %v", tt.start, tt.d, got, tt.want)
			}
			if got.Location() != tt.start.Location() {
				t.Errorf("result in %v, want start's location %v", got.Location(), tt.start.Location())
			}
			want := max(tt.d, 0)
			if b := tt.cal.Between(tt.start, got); b != want {
				t.Errorf("Between(start, Add(start, d)) = %v, want %v", b, want)
			}
		})
	}
}

func TestBetween(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	c := nineToFive(t, "America/New_York", Date{2026, time.December, 25})
	at := func(m time.Month, d, h int) time.Time { return time.Date(2026, m, d, h, 0, 0, 0, ny) }
	tests := []struct {
		a, b time.Time
		want time.Duration
	}{
		{at(1, 5, 9), at(1, 5, 17), 8 * time.Hour},
		{at(1, 5, 17), at(1, 5, 9), 0},
		{at(1, 5, 12), at(1, 5, 12), 0},
		{at(1, 3, 0), at(1, 4, 23), 0}, // weekend
		{at(1, 2, 16), at(1, 5, 11), 3 * time.Hour},
		{at(12, 24, 0), at(12, 29, 0), 16 * time.Hour}, // thu, (fri holiday), mon
		// 2026 has 261 weekdays; Jan 1 counts (no holiday listed), Dec 25 not.
		{at(1, 1, 0), time.Date(2027, 1, 1, 0, 0, 0, 0, ny), 260 * 8 * time.Hour},
	}
	for _, tt := range tests {
		if got := c.Between(tt.a, tt.b); got != tt.want {
			t.Errorf("Between(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestIsWorkingNextWorking(t *testing.T) {
	c := nineToFive(t, "UTC", Date{2026, time.January, 6})
	at := func(d, h, m int) time.Time { return time.Date(2026, 1, d, h, m, 0, 0, time.UTC) }
	tests := []struct {
		t       time.Time
		working bool
		next    time.Time
	}{
		{at(5, 9, 0), true, at(5, 9, 0)},
		{at(5, 16, 59), true, at(5, 16, 59)},
		{at(5, 17, 0), false, at(7, 9, 0)}, // the 6th is a holiday
		{at(5, 8, 59), false, at(5, 9, 0)},
		{at(3, 12, 0), false, at(5, 9, 0)},
		{at(6, 12, 0), false, at(7, 9, 0)},
	}
	for _, tt := range tests {
		if got := c.IsWorking(tt.t); got != tt.working {
			t.Errorf("IsWorking(%v) = %v", tt.t, got)
		}
		if got := c.NextWorking(tt.t); !got.Equal(tt.next) {
			t.Errorf("NextWorking(%v) = %v, want %v", tt.t, got, tt.next)
		}
	}
}

func TestDSTGap(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	day := func(h, m int) time.Time { return time.Date(2026, 3, 29, h, m, 0, 0, berlin) }
	// 02:30 does not exist on 2026-03-29; time.Date resolves it to 03:30, after
	// 03:00: the span is empty that day and no time is counted or lost.
	c := daily(t, "Europe/Berlin", Span{At(2, 30), At(3, 0)}, Span{At(3, 0), At(4, 0)})
	if got := c.Between(day(0, 0), day(12, 0)); got != time.Hour {
		t.Errorf("Between over the gap = %v, want 1h (03:00-04:00)", got)
	}
	if got := c.Between(day(0, 0).AddDate(0, 0, -1), day(0, 0)); got != 90*time.Minute {
		t.Errorf("Between the day before = %v, want 1h30", got)
	}
	// Overlap after resolution is clipped: 02:00-03:00 becomes 03:00-03:00.
	c2 := daily(t, "Europe/Berlin", Span{At(2, 0), At(3, 0)}, Span{At(3, 0), At(5, 0)})
	if got := c2.Between(day(0, 0), day(12, 0)); got != 2*time.Hour {
		t.Errorf("Between = %v, want 2h", got)
	}
	if got := c2.Add(day(0, 0), 30*time.Minute); !got.Equal(day(3, 30)) {
		t.Errorf("Add = %v, want 03:30 CEST", got)
	}
}

func TestNoWorkingTimeForYears(t *testing.T) {
	c := &Calendar{TimeZone: "UTC", Hours: map[time.Weekday][]Span{time.Monday: {{At(9, 0), At(10, 0)}}}}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for d := start; d.Year() < 2038; d = d.AddDate(0, 0, 1) {
		if d.Weekday() == time.Monday {
			c.Holidays = append(c.Holidays, DateOf(d))
		}
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := c.Add(start, time.Hour); !got.IsZero() {
		t.Errorf("Add = %v, want zero time", got)
	}
	if got := c.NextWorking(start); !got.IsZero() {
		t.Errorf("NextWorking = %v, want zero time", got)
	}
	if c.IsWorking(start) {
		t.Error("IsWorking = true")
	}
	if got := c.Between(start, start.AddDate(12, 0, 0)); got != 0 {
		t.Errorf("Between over the holidays = %v", got)
	}
	if got := c.Between(start, start.AddDate(12, 0, 7)); got != time.Hour {
		t.Errorf("Between to the first Monday of 2038 = %v, want 1h", got)
	}
}

var zones = []string{"UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "America/Santiago", "America/Havana"}

// randomCalendar has 1-3 spans on some days at 15-minute steps, some days
// touching midnight, and random holidays in 2026-2027.
func randomCalendar(t testing.TB, r *rand.Rand) *Calendar {
	for {
		c := &Calendar{TimeZone: zones[r.IntN(len(zones))], Hours: map[time.Weekday][]Span{}}
		for d := time.Sunday; d <= time.Saturday; d++ {
			if r.Float64() < 0.3 {
				continue
			}
			at := Clock(0)
			if r.Float64() < 0.7 {
				at = Clock(r.IntN(48) * 15)
			}
			for n := 1 + r.IntN(3); n > 0 && at < Midnight; n-- {
				end := min(at+Clock(15*(1+r.IntN(40))), Midnight)
				if r.Float64() < 0.2 {
					end = Midnight
				}
				c.Hours[d] = append(c.Hours[d], Span{at, end})
				at = end + Clock(15*r.IntN(8))
			}
		}
		for n := r.IntN(40); n > 0; n-- {
			c.Holidays = append(c.Holidays, DateOf(time.Date(2026, 1, 1+r.IntN(730), 0, 0, 0, 0, time.UTC)))
		}
		if err := c.Validate(); err == nil {
			return c
		}
	}
}

func TestAddBetweenInverse(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i := 0; i < n; i++ {
		c := randomCalendar(t, r)
		startLoc := mustLoad(t, zones[r.IntN(len(zones))])
		start := base.Add(time.Duration(r.Int64N(int64(365 * 24 * time.Hour)))).In(startLoc)
		var d time.Duration
		switch r.IntN(4) {
		case 0:
			d = 0
		case 1:
			d = time.Duration(r.Int64N(int64(8 * time.Hour)))
		case 2:
			d = time.Duration(r.IntN(40)) * 15 * time.Minute
		default:
			d = time.Duration(r.Int64N(int64(500 * time.Hour)))
		}
		end := c.Add(start, d)
		if end.Before(start) || end.IsZero() {
			t.Fatalf("%d: Add(%v, %v) = %v, before start (calendar %+v)", i, start, d, end, c)
		}
		if got := c.Between(start, end); got != d {
			t.Fatalf("%d: Between(%v, Add(.., %v) = %v) = %v (calendar %+v)", i, start, d, end, got, c)
		}
		if d == 0 && !end.Equal(c.NextWorking(start)) {
			t.Fatalf("%d: Add(start, 0) = %v, NextWorking = %v", i, end, c.NextWorking(start))
		}
		if d > 0 && !c.IsWorking(end.Add(-time.Nanosecond)) {
			t.Fatalf("%d: the instant before Add(%v, %v) = %v is not working time", i, start, d, end)
		}
		// Between is additive and Add is monotonic.
		mid := start.Add(time.Duration(r.Int64N(int64(end.Sub(start)) + 1)))
		if a, b := c.Between(start, mid), c.Between(mid, end); a+b != d {
			t.Fatalf("%d: Between(start, mid) + Between(mid, end) = %v + %v, want %v", i, a, b, d)
		}
		if d2 := d / 2; c.Add(start, d2).After(end) {
			t.Fatalf("%d: Add(start, %v) after Add(start, %v)", i, d2, d)
		}
	}
}

// TestAgainstMinutes checks calendars in zones without DST against a
// minute-by-minute reading of the wall clock.
func TestAgainstMinutes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20; i++ {
		c := randomCalendar(t, r)
		c.TimeZone = []string{"UTC", "Asia/Kolkata"}[i%2]
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		working := func(t time.Time) bool {
			l := t.In(c.Location)
			if c.IsHoliday(DateOf(l)) {
				return false
			}
			m := Clock(l.Hour()*60 + l.Minute())
			for _, s := range c.Hours[l.Weekday()] {
				if s.Start <= m && m < s.End {
					return true
				}
			}
			return false
		}
		a := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(365*24*60)) * time.Minute)
		var want time.Duration
		for m := a; m.Before(a.Add(15 * 24 * time.Hour)); m = m.Add(time.Minute) {
			if w := working(m); w != c.IsWorking(m) {
				t.Fatalf("IsWorking(%v) = %v, want %v (calendar %+v)", m, !w, w, c)
			} else if w {
				want += time.Minute
			}
		}
		if got := c.Between(a, a.Add(15*24*time.Hour)); got != want {
			t.Fatalf("Between = %v, counted %v", got, want)
		}
	}
}

func BenchmarkAdd4h(b *testing.B) {
	c := nineToFive(b, "Europe/Berlin", Date{2026, time.December, 25})
	start := time.Date(2026, 3, 27, 15, 0, 0, 0, time.UTC) // a Friday
	for b.Loop() {
		c.Add(start, 4*time.Hour)
	}
}

func BenchmarkAdd400h(b *testing.B) {
	c := nineToFive(b, "Europe/Berlin")
	for d := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == 2026; d = d.AddDate(0, 0, 7) {
		c.Holidays = append(c.Holidays, DateOf(d)) // a holiday a week
	}
	if err := c.Validate(); err != nil {
		b.Fatal(err)
	}
	start := time.Date(2026, 3, 27, 15, 0, 0, 0, time.UTC)
	for b.Loop() {
		c.Add(start, 400*time.Hour)
	}
}

func BenchmarkBetweenYear(b *testing.B) {
	c := nineToFive(b, "America/New_York")
	a := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		c.Between(a, a.AddDate(1, 0, 0))
	}
}
