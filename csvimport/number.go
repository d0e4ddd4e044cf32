package csvimport

import (
	"math"
	"strconv"
	"strings"
)

// maxExactInt is the largest integer a float64 holds exactly (2^53): past it
// neighbouring integers share a value, so a longer id would lose digits.
const maxExactInt = 1 << 53

// plainNumber reads a number written as a person writes one: an optional
// minus, digits without leading zeros, and an optional fraction ("12",
// "-0.5", "58000000.25"). It refuses what would not come back the same
// (a zip code "02134", a 20-digit id, more than float64's digits), and
// what people rarely mean as a quantity ("1e5", "+5", ".5", "0x1F",
// "Inf"), so that inference keeps such columns as text.
func plainNumber(s string) (float64, bool) {
	t := strings.TrimPrefix(s, "-")
	whole, frac, dot := strings.Cut(t, ".")
	if !digits(whole) || dot && !digits(frac) || len(whole) > 1 && whole[0] == '0' {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	if !dot {
		n, err := strconv.ParseInt(s, 10, 64)
		return f, err == nil && n <= maxExactInt && n >= -maxExactInt
	}
	// A fraction must survive the trip: "0.1" does, "0.12345678901234567" not.
	frac = strings.TrimRight(frac, "0")
	want := strings.TrimPrefix(s, "-")
	want = want[:len(whole)]
	if frac != "" {
		want += "." + frac
	}
	return f, strconv.FormatFloat(math.Abs(f), 'f', -1, 64) == want
}

// digits reports whether s is one or more ASCII digits.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// numberCell reads a cell of a column already known to hold numbers: a
// plain number, or another way of writing one that loses nothing ("1e5",
// "+5"). A run of digits that is not plain ("02134", an id past 2^53) is
// refused: as a number it would lose digits. The message says why.
func numberCell(s string) (float64, string) {
	if f, ok := plainNumber(s); ok {
		return f, ""
	}
	if digits(strings.TrimLeft(s, "+-")) {
		return 0, "a number without leading zeros and at most 2^53 (9007199254740992); as a number " + quote(s) + " would lose digits"
	}
	if f, ok := parseNumber(s); ok {
		return f, ""
	}
	return 0, "a number, got " + quote(s)
}

// amount reads a money amount or a count of a CRM file: a plain number,
// with thousands separators ("58,000,000") and a leading "$" allowed, as
// report exports write them.
func amount(s string) (float64, bool) {
	t := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "$"))
	if strings.Contains(t, ",") {
		whole, frac, dot := strings.Cut(t, ".")
		groups := strings.Split(whole, ",")
		for i, g := range groups {
			if !digits(g) || i > 0 && len(g) != 3 || i == 0 && (len(g) > 3 || g[0] == '0') {
				return 0, false
			}
		}
		t = strings.Join(groups, "")
		if dot {
			t += "." + frac
		}
	}
	return plainNumber(t)
}

// FormatNumber writes a number as plain decimals, never with an exponent
// ("58000000", not "5.8e+07"), the shortest text that reads back the same.
func FormatNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
