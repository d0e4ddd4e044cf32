package model

import (
	"fmt"
	"math"
	"testing"
)

// TestPointsPerLogOdds: the rate turns contributions into probability
// that adds up to the move, is positive, and has its limit when the
// contributions cancel out.
func TestPointsPerLogOdds(t *testing.T) {
	for _, c := range []struct{ l0, sum float64 }{
		{-2.94, 5}, {-2.94, -3}, {0, 1e-9}, {1.5, 0}, {-1, 4e-7}, {3, -8},
	} {
		dp := sigmoid(c.l0+c.sum) - sigmoid(c.l0)
		r := pointsPerLogOdds(c.l0, c.sum, dp)
		if r <= 0 || r > 0.25 {
			t.Errorf("rate(%v, %v) = %v, want in (0, 1/4]", c.l0, c.sum, r)
		}
		if d := math.Abs(r*c.sum - dp); d > 1e-12 {
			t.Errorf("rate(%v, %v) * sum = %v, want %v", c.l0, c.sum, r*c.sum, dp)
		}
	}
	// Equal contributions get equal points, whatever their order: two of
	// +4 log-odds from a 5% base share the move to 99.4% equally, where
	// "without this one" would give each 25 points of a 94-point move.
	l0 := logit(0.05)
	dp := sigmoid(l0+8) - sigmoid(l0)
	r := pointsPerLogOdds(l0, 8, dp)
	if each := 100 * r * 4; math.Abs(2*each-100*dp) > 1e-9 || each < 47 {
		t.Errorf("each of two equal factors: %v points of %v", each, 100*dp)
	}
}

// TestNumericCut: only a split that sends bins 1..t left (the missing bin
// either way) has a threshold.
func TestNumericCut(t *testing.T) {
	for _, c := range []struct {
		mask  uint64
		nBins int
		want  uint8
		ok    bool
	}{
		{0b10, 5, 1, true},
		{0b11, 5, 1, true},
		{0b1110, 5, 3, true},
		{0b1111, 5, 3, true},
		{0b11110, 5, 0, false}, // every present bin left: no split
		{0b1010, 5, 0, false},
		{0b1100, 5, 0, false},
		{0b1, 5, 0, false},
		{0, 5, 0, false},
	} {
		got, ok := numericCut(c.mask, c.nBins)
		if got != c.want || ok != c.ok {
			t.Errorf("numericCut(%b, %d) = %d, %v; want %d, %v", c.mask, c.nBins, got, ok, c.want, c.ok)
		}
	}
}

// TestExplainThreshold: on data whose outcome turns at a number, the
// factor of that column names a split point near it, and the side of it
// the lead is on.
func TestExplainThreshold(t *testing.T) {
	var rows []Row
	var labels []bool
	for i := range 400 {
		x := float64(i % 100)
		rows = append(rows, Row{"minutes": fmt.Sprint(x), "noise": fmt.Sprint(i % 7)})
		labels = append(labels, (x >= 60) != (i%10 == 0)) // mostly over 59.5, some noise
	}
	cfg := DefaultConfig()
	cfg.Rounds = 50
	m, err := Train(rows, labels, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		value string
		over  bool
	}{{"85", true}, {"20", false}} {
		var f *Factor
		e := m.Explain(Row{"minutes": c.value, "noise": "3"})
		for i := range e.Factors {
			if e.Factors[i].Feature == "minutes" {
				f = &e.Factors[i]
			}
		}
		if f == nil || !f.HasThreshold || f.Over != c.over || f.Threshold < 50 || f.Threshold > 65 {
			t.Errorf("minutes = %s: factor %+v, want a threshold near 59 with over = %v", c.value, f, c.over)
		}
		if c.over && f != nil && f.PercentPoints <= 0 || !c.over && f != nil && f.PercentPoints >= 0 {
			t.Errorf("minutes = %s: %v points", c.value, f.PercentPoints)
		}
	}
	// A missing number has no threshold to be on a side of.
	for _, f := range m.Explain(Row{}).Factors {
		if f.HasThreshold {
			t.Errorf("missing value: factor %+v has a threshold", f)
		}
	}
}
