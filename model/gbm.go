package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// node is one node of a regression tree. Leaves have Feature == -1. For a
// split, a row goes left when bit bin(row, Feature) of Mask is set. Value is
// the leaf output for leaves and, for internal nodes, the training-row
// weighted mean of the leaf outputs below it (used for path attribution).
type node struct {
	Feature int32   `json:"f"`
	Left    int32   `json:"l,omitempty"`
	Right   int32   `json:"r,omitempty"`
	Mask    uint64  `json:"m,omitempty"`
	Value   float64 `json:"v"`
	count   int
}

type tree struct {
	Nodes []node `json:"nodes"`
}

type histBin struct {
	g, h float64
	c    int32
}

// builder grows one tree on gradient statistics using per-node histograms
// and the sibling-subtraction trick.
type builder struct {
	x       [][]uint8
	feats   []feature
	offs    []int
	total   int
	g, h    []float64
	cfg     Config
	bufs    [][]histBin
	nodes   []node
	scratch []int32
	order   []int
}

func newBuilder(x [][]uint8, feats []feature, cfg Config) *builder {
	b := &builder{x: x, feats: feats, cfg: cfg}
	b.offs = make([]int, len(feats))
	for j := range feats {
		b.offs[j] = b.total
		b.total += feats[j].nBins()
	}
	b.bufs = make([][]histBin, cfg.MaxDepth+1)
	for d := range b.bufs {
		b.bufs[d] = make([]histBin, b.total)
	}
	b.order = make([]int, maxBins)
	return b
}

func (b *builder) fillHist(hist []histBin, idx []int32) {
	clear(hist)
	g, h := b.g, b.h
	for j, col := range b.x {
		hs := hist[b.offs[j] : b.offs[j]+b.feats[j].nBins()]
		for _, i := range idx {
			hb := &hs[col[i]]
			hb.g += g[i]
			hb.h += h[i]
			hb.c++
		}
	}
}

type split struct {
	feature int
	mask    uint64
	gain    float64
}

func score(g, h, l2 float64) float64 { return g * g / (h + l2) }

// bestSplit searches every feature's histogram for the best gain.
func (b *builder) bestSplit(hist []histBin, G, H float64, C int) split {
	l2 := b.cfg.L2
	minLeaf := int32(b.cfg.MinLeaf)
	C32 := int32(C)
	parent := score(G, H, l2)
	best := split{feature: -1}
	consider := func(j int, mask uint64, gl, hl float64, cl int32) {
		cr := C32 - cl
		if cl < minLeaf || cr < minLeaf {
			return
		}
		gain := score(gl, hl, l2) + score(G-gl, H-hl, l2) - parent
		if gain > best.gain+1e-12 {
			best = split{feature: j, mask: mask, gain: gain}
		}
	}
	for j := range b.feats {
		nb := b.feats[j].nBins()
		hs := hist[b.offs[j] : b.offs[j]+nb]
		if b.feats[j].Numeric {
			miss := hs[binMissing]
			var gl, hl float64
			var cl int32
			var mask uint64
			for t := 1; t < nb-1; t++ {
				gl += hs[t].g
				hl += hs[t].h
				cl += hs[t].c
				mask |= 1 << uint(t)
				if hs[t].c == 0 {
					continue
				}
				consider(j, mask, gl, hl, cl)
				if miss.c > 0 {
					consider(j, mask|1, gl+miss.g, hl+miss.h, cl+miss.c)
				}
			}
			continue
		}
		// Categorical: order the present categories by their mean
		// gradient ratio and scan prefixes of that order.
		ord := b.order[:0]
		for k := 0; k < nb; k++ {
			if hs[k].c > 0 {
				ord = append(ord, k)
			}
		}
		if len(ord) < 2 {
			continue
		}
		slices.SortStableFunc(ord, func(a, c int) int {
			ra := hs[a].g / (hs[a].h + l2)
			rc := hs[c].g / (hs[c].h + l2)
			switch {
			case ra < rc:
				return -1
			case ra > rc:
				return 1
			}
			return 0
		})
		var gl, hl float64
		var cl int32
		var mask uint64
		for _, k := range ord[:len(ord)-1] {
			gl += hs[k].g
			hl += hs[k].h
			cl += hs[k].c
			mask |= 1 << uint(k)
			consider(j, mask, gl, hl, cl)
		}
	}
	return best
}

// grow builds the subtree for idx whose histogram is in hist, at the given
// depth, and returns its node index.
func (b *builder) grow(idx []int32, hist []histBin, depth int) int32 {
	var G, H float64
	// Totals from the first feature's histogram (every row is in exactly
	// one bin of every feature).
	for _, hb := range hist[:b.feats[0].nBins()] {
		G += hb.g
		H += hb.h
	}
	C := len(idx)
	me := int32(len(b.nodes))
	b.nodes = append(b.nodes, node{Feature: -1, Value: -G / (H + b.cfg.L2) * b.cfg.LearningRate, count: C})
	if depth >= b.cfg.MaxDepth || C < 2*b.cfg.MinLeaf {
		return me
	}
	s := b.bestSplit(hist, G, H, C)
	if s.feature < 0 {
		return me
	}
	// Stable partition: left rows first.
	col := b.x[s.feature]
	right := b.scratch[:0]
	nl := 0
	for _, i := range idx {
		if s.mask>>col[i]&1 == 1 {
			idx[nl] = i
			nl++
		} else {
			right = append(right, i)
		}
	}
	copy(idx[nl:], right)
	left, rightIdx := idx[:nl], idx[nl:]
	small, large := left, rightIdx
	if len(small) > len(large) {
		small, large = large, small
	}
	sh := b.bufs[depth+1]
	b.fillHist(sh, small)
	for k := range hist {
		hist[k].g -= sh[k].g
		hist[k].h -= sh[k].h
		hist[k].c -= sh[k].c
	}
	var li, ri int32
	if len(left) <= len(rightIdx) {
		li = b.grow(left, sh, depth+1)
		ri = b.grow(rightIdx, hist, depth+1)
	} else {
		ri = b.grow(rightIdx, sh, depth+1)
		li = b.grow(left, hist, depth+1)
	}
	n := &b.nodes[me]
	n.Feature = int32(s.feature)
	n.Mask = s.mask
	n.Left, n.Right = li, ri
	l, r := b.nodes[li], b.nodes[ri]
	n.Value = (float64(l.count)*l.Value + float64(r.count)*r.Value) / float64(l.count+r.count)
	return me
}

func (b *builder) build(idx []int32) tree {
	b.nodes = nil
	if cap(b.scratch) < len(idx) {
		b.scratch = make([]int32, 0, len(idx))
	}
	b.fillHist(b.bufs[0], idx)
	b.grow(idx, b.bufs[0], 0)
	return tree{Nodes: b.nodes}
}

// leafBinned returns the output of t for row i of the bin matrix.
func (t *tree) leafBinned(x [][]uint8, i int) float64 {
	k := int32(0)
	for {
		n := &t.Nodes[k]
		if n.Feature < 0 {
			return n.Value
		}
		if n.Mask>>x[n.Feature][i]&1 == 1 {
			k = n.Left
		} else {
			k = n.Right
		}
	}
}

func validate(rows []Row, labels []bool, what string) (pos int, err error) {
	if len(rows) != len(labels) {
		return 0, fmt.Errorf("model: %s: %d rows but %d labels (lengths must match)", what, len(rows), len(labels))
	}
	if len(rows) == 0 {
		return 0, fmt.Errorf("model: %s: no training rows", what)
	}
	if len(rows) == 1 {
		return 0, fmt.Errorf("model: %s: only one training row; need at least two with both outcomes", what)
	}
	for _, y := range labels {
		if y {
			pos++
		}
	}
	if pos == 0 {
		return 0, fmt.Errorf("model: %s: no positive labels (no converted leads) among %d rows", what, len(rows))
	}
	if pos == len(rows) {
		return 0, fmt.Errorf("model: %s: no negative labels (every one of %d leads converted)", what, len(rows))
	}
	return pos, nil
}

// prepare infers the usable features and bins the rows.
func prepare(rows []Row, cfg Config, what string) ([]feature, [][]uint8, [][]float64, error) {
	cols := candidateColumns(rows, cfg.Exclude)
	var feats []feature
	for _, c := range cols {
		if f, ok := inferFeature(c, rows, cfg.MaxBins, cfg.MinCategoryCount); ok {
			feats = append(feats, f)
		}
	}
	if len(feats) == 0 {
		return nil, nil, nil, fmt.Errorf("model: %s: no usable feature columns: all %d candidate columns (after %d exclusions) are missing or constant", what, len(cols), len(cfg.Exclude))
	}
	x, xs := binRows(feats, rows)
	return feats, x, xs, nil
}

// Train fits P(label) on rows: boosted trees blended with a logistic
// regression (see the package documentation).
// It returns an error for empty or single-row input, input without both
// outcomes, mismatched lengths, and when no column is usable. Columns that
// are entirely missing or constant are dropped silently.
func Train(rows []Row, labels []bool, cfg Config) (*Model, error) {
	pos, err := validate(rows, labels, "train")
	if err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	feats, x, xs, err := prepare(rows, cfg, "train")
	if err != nil {
		return nil, err
	}
	n := len(rows)
	y := make([]float64, n)
	for i, l := range labels {
		if l {
			y[i] = 1
		}
	}
	base := math.Log(float64(pos) / float64(n-pos))
	F := make([]float64, n)
	for i := range F {
		F[i] = base
	}
	b := newBuilder(x, feats, cfg)
	b.g = make([]float64, n)
	b.h = make([]float64, n)
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eed_ba70_c0ffee))
	perm := make([]int32, n)
	for i := range perm {
		perm[i] = int32(i)
	}
	k := n
	if cfg.Subsample < 1 {
		k = int(math.Round(cfg.Subsample * float64(n)))
		if k < 2*cfg.MinLeaf {
			k = min(n, 2*cfg.MinLeaf)
		}
	}
	idx := make([]int32, k)
	trees := make([]tree, 0, cfg.Rounds)
	for range cfg.Rounds {
		for i := range F {
			p := sigmoid(F[i])
			b.g[i] = p - y[i]
			b.h[i] = math.Max(p*(1-p), 1e-12)
		}
		if k < n {
			for i := 0; i < k; i++ {
				j := i + rng.IntN(n-i)
				perm[i], perm[j] = perm[j], perm[i]
			}
			copy(idx, perm[:k])
			slices.Sort(idx)
		} else {
			copy(idx, perm)
		}
		t := b.build(idx)
		for i := range F {
			F[i] += t.leafBinned(x, i)
		}
		trees = append(trees, t)
	}
	m := &Model{feats: feats, trees: trees, base: base, slope: 1, wTree: 1}
	if cfg.LinearWeight > 0 {
		lin, err := trainLinear(feats, x, xs, y, cfg.LinearL2)
		if err != nil {
			return nil, err
		}
		m.lin = lin
		m.wTree, m.wLin = 1-cfg.LinearWeight, cfg.LinearWeight
	}
	m.finish()
	return m, nil
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

func logit(p float64) float64 { return math.Log(p / (1 - p)) }
