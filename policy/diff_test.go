package policy_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
)

// render writes a diff as one string per line: "+3 text", "-2 text",
// " 4 text" (new line number), "~5" (5 lines folded).
func render(d *baton.PolicyDiff) []string {
	var out []string
	for _, l := range d.Lines {
		switch l.Kind {
		case baton.DiffAdded:
			out = append(out, fmt.Sprintf("+%d %s", l.New, l.Text))
		case baton.DiffRemoved:
			out = append(out, fmt.Sprintf("-%d %s", l.Old, l.Text))
		case baton.DiffSame:
			out = append(out, fmt.Sprintf(" %d %s", l.New, l.Text))
		case baton.DiffFolded:
			out = append(out, fmt.Sprintf("~%d", l.Folded))
		}
	}
	return out
}

func numbered(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	return b.String()
}

func TestDiff(t *testing.T) {
	twenty := numbered(20)
	for _, c := range []struct {
		name     string
		from, to string
		want     []string
		add, rem int
	}{
		{"same", "a\nb\n", "a\nb\n", []string{"~2"}, 0, 0},
		{"both empty", "", "", nil, 0, 0},
		{"from nothing", "", "a\nb", []string{"+1 a", "+2 b"}, 2, 0},
		{"to nothing", "a\n", "", []string{"-1 a"}, 0, 1},
		{"crlf is a line end", "a\r\nb\r\n", "a\nb\n", []string{"~2"}, 0, 0},
		{"one line changed", "name: x\nfit: 20\nmql: 1\n", "name: x\nfit: 30\nmql: 1\n",
			[]string{" 1 name: x", "-2 fit: 20", "+2 fit: 30", " 3 mql: 1"}, 1, 1},
		{"added in the middle", "a\nc\n", "a\nb\nc\n", []string{" 1 a", "+2 b", " 3 c"}, 1, 0},
		{"far apart, folded around", twenty, strings.Replace(strings.Replace(twenty, "line 2\n", "line two\n", 1), "line 19\n", "", 1),
			[]string{" 1 line 1", "-2 line 2", "+2 line two", " 3 line 3", " 4 line 4", " 5 line 5", "~10", " 16 line 16", " 17 line 17", " 18 line 18", "-19 line 19", " 19 line 20"}, 1, 2},
		// A fold of one line would save nothing: the line is shown.
		{"seven between", numbered(9), strings.Replace(strings.Replace(numbered(9), "line 1\n", "one\n", 1), "line 9\n", "nine\n", 1),
			[]string{"-1 line 1", "+1 one", " 2 line 2", " 3 line 3", " 4 line 4", " 5 line 5", " 6 line 6", " 7 line 7", " 8 line 8", "-9 line 9", "+9 nine"}, 2, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := policy.Diff(c.from, c.to)
			got := render(d)
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
			if d.Added != c.add || d.Removed != c.rem {
				t.Errorf("+%d -%d, want +%d -%d", d.Added, d.Removed, c.add, c.rem)
			}
			if d.Changed() != (c.add+c.rem > 0) {
				t.Errorf("changed %v", d.Changed())
			}
		})
	}
}

// lcs is the length of a longest common subsequence, by dynamic programming.
func lcs(a, b []string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for i := range a {
		for j := range b {
			if a[i] == b[j] {
				cur[j+1] = prev[j] + 1
			} else {
				cur[j+1] = max(cur[j], prev[j+1])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// TestDiffIsShortestAndTrue checks random pairs of texts: the diff's old
// lines are the old text and its new lines the new text, in order, and it
// edits no more lines than a longest common subsequence requires.
func TestDiffIsShortestAndTrue(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"a", "b", "c", "d", "fit: 20", ""}
	gen := func() []string {
		xs := make([]string, r.IntN(30))
		for i := range xs {
			xs[i] = words[r.IntN(len(words))]
		}
		return xs
	}
	for range 500 {
		from, to := strings.Join(gen(), "\n"), strings.Join(gen(), "\n")
		// A last line end ends the last line rather than starting another.
		lines := func(s string) []string {
			if s == "" {
				return nil
			}
			return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
		}
		a, b := lines(from), lines(to)
		d := policy.Diff(from, to)
		// Unfolded, the old side is a and the new side b.
		var olds, news []string
		var old, nw int
		for _, l := range d.Lines {
			switch l.Kind {
			case baton.DiffFolded:
				for k := range l.Folded {
					olds, news = append(olds, a[l.Old-1+k]), append(news, b[l.New-1+k])
				}
				old, nw = l.Old+l.Folded-1, l.New+l.Folded-1
				continue
			case baton.DiffSame:
				olds, news = append(olds, l.Text), append(news, l.Text)
				old, nw = l.Old, l.New
			case baton.DiffRemoved:
				olds = append(olds, l.Text)
				old = l.Old
			case baton.DiffAdded:
				news = append(news, l.Text)
				nw = l.New
			}
			if l.Kind != baton.DiffAdded && old != len(olds) || l.Kind != baton.DiffRemoved && nw != len(news) {
				t.Fatalf("%q -> %q: line numbers off at %+v", from, to, l)
			}
		}
		wantA, wantB := a, b
		if strings.Join(olds, "\n") != strings.Join(wantA, "\n") || len(olds) != len(wantA) ||
			strings.Join(news, "\n") != strings.Join(wantB, "\n") || len(news) != len(wantB) {
			t.Fatalf("%q -> %q: the diff does not rebuild the texts: %v", from, to, render(d))
		}
		common := lcs(wantA, wantB)
		if d.Unchanged != common || d.Removed != len(wantA)-common || d.Added != len(wantB)-common {
			t.Fatalf("%q -> %q: +%d -%d =%d, shortest keeps %d", from, to, d.Added, d.Removed, d.Unchanged, common)
		}
	}
}

// TestDiffLarge is a big document with scattered changes: it stays exact
// and quick.
func TestDiffLarge(t *testing.T) {
	from := numbered(20000)
	to := strings.Replace(from, "line 100\n", "line hundred\n", 1)
	to = strings.Replace(to, "line 15000\n", "", 1)
	d := policy.Diff(from, to)
	if d.Added != 1 || d.Removed != 2 || d.Unchanged != 19998 {
		t.Fatalf("+%d -%d =%d", d.Added, d.Removed, d.Unchanged)
	}
	if len(d.Lines) > 20 {
		t.Fatalf("%d lines shown: unchanged runs are not folded", len(d.Lines))
	}
}

// TestDiffBeyondTheLimit is two texts with nothing in common, more than the
// search allows: all of one removed, all of the other added.
func TestDiffBeyondTheLimit(t *testing.T) {
	var a, b strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&a, "a%d\n", i)
		fmt.Fprintf(&b, "b%d\n", i)
	}
	d := policy.Diff(a.String(), b.String())
	if d.Added != 3000 || d.Removed != 3000 || d.Unchanged != 0 {
		t.Fatalf("+%d -%d =%d", d.Added, d.Removed, d.Unchanged)
	}
}
