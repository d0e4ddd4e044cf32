package policy

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Day and Week are the units d and w of policy durations.
const (
	Day  = 24 * time.Hour
	Week = 7 * Day
)

var units = map[string]float64{
	"ns": float64(time.Nanosecond), "us": float64(time.Microsecond), "µs": float64(time.Microsecond),
	"ms": float64(time.Millisecond), "s": float64(time.Second), "m": float64(time.Minute),
	"h": float64(time.Hour), "d": float64(Day), "w": float64(Week),
}

// ParseDuration reads a duration in Go syntax (time.ParseDuration) with two
// more units, d (24h) and w (7d): "30d", "2w", "1d12h", "36h".
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	s = strings.TrimSpace(s)
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "0" {
		return 0, nil
	}
	if s == "" {
		return 0, fmt.Errorf("%q is not a duration (e.g. 30d, 2w, 12h)", orig)
	}
	var total float64
	for s != "" {
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("%q is not a duration (e.g. 30d, 2w, 12h)", orig)
		}
		x, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration (e.g. 30d, 2w, 12h)", orig)
		}
		s = s[i:]
		j := 0
		for j < len(s) && !(s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
			j++
		}
		mult, ok := units[s[:j]]
		if !ok {
			if j == 0 {
				return 0, fmt.Errorf("%q needs a unit (ns, us, ms, s, m, h, d, w), e.g. 30d", orig)
			}
			return 0, fmt.Errorf("%q: unknown unit %q (use ns, us, ms, s, m, h, d, w)", orig, s[:j])
		}
		s = s[j:]
		total += x * mult
	}
	if total >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is too long (at most about 292 years)", orig)
	}
	if neg {
		total = -total
	}
	return time.Duration(total), nil
}

// FormatDuration writes d in the largest of the units w, d, h that divides
// it exactly ("30d", "2w", "36h"), or else as time.Duration does.
func FormatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d%Week == 0:
		return strconv.FormatInt(int64(d/Week), 10) + "w"
	case d%Day == 0:
		return strconv.FormatInt(int64(d/Day), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	}
	return d.String()
}
