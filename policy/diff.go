package policy

import (
	"strings"

	"github.com/batonhq/baton"
)

// DiffContext is how many unchanged lines a diff shows on each side of a
// change; longer runs of unchanged lines are folded.
const DiffContext = 3

// maxDiffEdits bounds the work of a diff: texts that differ in more lines
// than this (after their common start and end) are shown as the one block
// removed and the other added, which is still a true diff, only a coarse one.
// Policies are edited by hand, a few lines at a time.
const maxDiffEdits = 1000

// Diff compares two documents line by line (a shortest edit script, Myers's
// algorithm), with the unchanged runs far from any change folded. Line ends
// may be "\n" or "\r\n".
func Diff(from, to string) *baton.PolicyDiff {
	a, b := splitLines(from), splitLines(to)
	d := &baton.PolicyDiff{Lines: []baton.DiffLine{}}
	var all []baton.DiffLine
	for _, op := range editScript(a, b) {
		l := baton.DiffLine{Kind: op.kind}
		switch op.kind {
		case baton.DiffSame:
			l.Old, l.New, l.Text = op.i+1, op.j+1, a[op.i]
			d.Unchanged++
		case baton.DiffRemoved:
			l.Old, l.Text = op.i+1, a[op.i]
			d.Removed++
		case baton.DiffAdded:
			l.New, l.Text = op.j+1, b[op.j]
			d.Added++
		}
		all = append(all, l)
	}
	d.Lines = fold(all, DiffContext)
	return d
}

// splitLines returns the lines of a text without their ends; a last line
// end does not start another line.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.TrimSuffix(s, "\n")
	return strings.Split(s, "\n")
}

// op is one step of an edit script: keep a[i] (= b[j]), remove a[i], or
// add b[j].
type op struct {
	kind baton.DiffKind
	i, j int
}

// editScript returns the steps that turn a into b.
func editScript(a, b []string) []op {
	// The common start and end are kept as they are; the search runs on
	// what lies between, on line numbers rather than strings.
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	ids := map[string]int{}
	intern := func(xs []string) []int {
		out := make([]int, len(xs))
		for i, x := range xs {
			id, ok := ids[x]
			if !ok {
				id = len(ids)
				ids[x] = id
			}
			out[i] = id
		}
		return out
	}
	ma, mb := intern(a[pre:len(a)-suf]), intern(b[pre:len(b)-suf])
	ops := make([]op, 0, len(a)+len(b))
	for i := range pre {
		ops = append(ops, op{baton.DiffSame, i, i})
	}
	mid, ok := myers(ma, mb, maxDiffEdits)
	if !ok {
		mid = mid[:0]
		for i := range ma {
			mid = append(mid, op{baton.DiffRemoved, i, 0})
		}
		for j := range mb {
			mid = append(mid, op{baton.DiffAdded, 0, j})
		}
	}
	for _, o := range mid {
		o.i += pre
		o.j += pre
		ops = append(ops, o)
	}
	for k := range suf {
		ops = append(ops, op{baton.DiffSame, len(a) - suf + k, len(b) - suf + k})
	}
	return ops
}

// myers returns a shortest edit script from a to b, or false when it needs
// more than limit edits.
func myers(a, b []int, limit int) ([]op, bool) {
	n, m := len(a), len(b)
	if n+m == 0 {
		return nil, true
	}
	most := min(n+m, limit)
	off := most + 1
	v := make([]int, 2*most+3)
	// trace[d] is v[-d-1 .. d+1] as it was before round d: what the
	// backtrack needs to find where each round's path came from.
	var trace [][]int
	for d := 0; d <= most; d++ {
		trace = append(trace, append([]int(nil), v[off-d-1:off+d+2]...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || k != d && v[off+k-1] < v[off+k+1] {
				x = v[off+k+1] // down: add b[y-1]
			} else {
				x = v[off+k-1] + 1 // right: remove a[x-1]
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			v[off+k] = x
			if x >= n && y >= m {
				return backtrack(trace, n, m), true
			}
		}
	}
	return nil, false
}

func backtrack(trace [][]int, n, m int) []op {
	var rev []op
	x, y := n, m
	for d := len(trace) - 1; d >= 0; d-- {
		v := trace[d]
		at := func(k int) int { return v[k+d+1] }
		k := x - y
		var pk int
		if k == -d || k != d && at(k-1) < at(k+1) {
			pk = k + 1
		} else {
			pk = k - 1
		}
		px := at(pk)
		py := px - pk
		for x > px && y > py {
			x, y = x-1, y-1
			rev = append(rev, op{baton.DiffSame, x, y})
		}
		if d > 0 {
			if x == px {
				rev = append(rev, op{baton.DiffAdded, px, py})
			} else {
				rev = append(rev, op{baton.DiffRemoved, px, py})
			}
		}
		x, y = px, py
	}
	out := make([]op, len(rev))
	for i, o := range rev {
		out[len(rev)-1-i] = o
	}
	return out
}

// fold keeps ctx unchanged lines around each change and folds the rest of
// every unchanged run into one line. Folding a single line saves nothing,
// so such a line is shown.
func fold(lines []baton.DiffLine, ctx int) []baton.DiffLine {
	out := make([]baton.DiffLine, 0, len(lines))
	for i := 0; i < len(lines); {
		if lines[i].Kind != baton.DiffSame {
			out = append(out, lines[i])
			i++
			continue
		}
		j := i
		for j < len(lines) && lines[j].Kind == baton.DiffSame {
			j++
		}
		keepHead, keepTail := ctx, ctx
		if i == 0 {
			keepHead = 0
		}
		if j == len(lines) {
			keepTail = 0
		}
		if n := j - i; n-keepHead-keepTail <= 1 {
			out = append(out, lines[i:j]...)
		} else {
			out = append(out, lines[i:i+keepHead]...)
			first := lines[i+keepHead]
			out = append(out, baton.DiffLine{Kind: baton.DiffFolded, Old: first.Old, New: first.New, Folded: n - keepHead - keepTail})
			out = append(out, lines[j-keepTail:j]...)
		}
		i = j
	}
	return out
}
