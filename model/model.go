package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sort"
)

// Model is a trained lead-scoring model: boosted trees on binned features
// followed by a linear calibration of the log-odds. A Model is immutable
// after training or unmarshalling and safe for concurrent use.
type Model struct {
	feats     []feature
	trees     []tree
	base      float64 // initial log-odds of the boosting
	lin       *linear // optional logistic regression
	wTree     float64 // blend: raw = wTree*trees + wLin*linear
	wLin      float64
	slope     float64 // calibration: logit(p) = slope*raw + intercept
	intercept float64

	expected float64 // blended log-odds at the training average, before calibration
	flat     []pnode // all trees, compiled for prediction
	roots    []int32 // index of each tree's root in flat
}

// pnode is a compiled tree node: the right child is always left+1, so the
// walk needs no data-dependent branch. Leaves have feat == -1.
type pnode struct {
	mask  uint64
	value float64
	feat  int32
	left  int32
}

// compile lays the trees out in one slice with sibling children adjacent.
func (m *Model) compile() {
	m.flat = m.flat[:0]
	m.roots = m.roots[:0]
	for t := range m.trees {
		nodes := m.trees[t].Nodes
		root := int32(len(m.flat))
		m.roots = append(m.roots, root)
		m.flat = append(m.flat, pnode{})
		// queue holds (source node, destination slot) pairs.
		type item struct{ src, dst int32 }
		queue := []item{{0, root}}
		for len(queue) > 0 {
			it := queue[0]
			queue = queue[1:]
			n := nodes[it.src]
			p := pnode{mask: n.Mask, value: n.Value, feat: n.Feature, left: -1}
			if n.Feature >= 0 {
				p.left = int32(len(m.flat))
				m.flat = append(m.flat, pnode{}, pnode{})
				queue = append(queue, item{n.Left, p.left}, item{n.Right, p.left + 1})
			}
			m.flat[it.dst] = p
		}
	}
}

// Explanation is one prediction with the factors behind it. BaseLogOdds
// plus the sum of every factor's Contribution equals logit(Probability),
// and BaseProbability plus the sum of their PercentPoints/100 equals
// Probability.
type Explanation struct {
	// Probability is the calibrated P(convert), equal to Predict.
	Probability float64
	// BaseLogOdds is the model's average log-odds over the training leads.
	BaseLogOdds float64
	// BaseProbability is BaseLogOdds as a probability: the model's
	// probability for a lead at the training average, from which the
	// factors' PercentPoints are measured.
	BaseProbability float64
	// Factors are the per-column contributions, largest |Contribution|
	// (and so largest |PercentPoints|) first; columns that did not move the
	// prediction are omitted.
	Factors []Factor
}

// Factor is one input column's contribution to a prediction.
type Factor struct {
	// Feature is the column name.
	Feature string
	// Value is the lead's value for the column, MissingValue if absent.
	Value string
	// Contribution is the change in log-odds due to this column; positive
	// values raise the probability.
	Contribution float64
	// PercentPoints is the column's share, in percentage points, of the
	// difference between Probability and BaseProbability: the shares of
	// all factors add up to it (see the package documentation).
	PercentPoints float64
	// HasThreshold says the trees split this numeric column on the lead's
	// path; Threshold is the split point that weighed most in the
	// Contribution, and Over whether the lead's value is above it (else at
	// most it).
	HasThreshold bool
	Threshold    float64
	Over         bool
}

func (m *Model) finish() {
	for i := range m.feats {
		m.feats[i].buildIndex()
	}
	m.compile()
	t := m.base
	for i := range m.trees {
		t += m.trees[i].Nodes[0].Value
	}
	m.expected = m.wTree * t
	if m.lin != nil {
		l := m.lin.Intercept
		for _, c := range m.lin.Center {
			l += c
		}
		m.expected += m.wLin * l
	}
}

// Features returns the names of the columns the model uses, sorted.
func (m *Model) Features() []string {
	out := make([]string, len(m.feats))
	for i := range m.feats {
		out[i] = m.feats[i].Name
	}
	return out
}

func (m *Model) encodeRow(r Row, bins []uint8, xs []float64) {
	for j := range m.feats {
		bins[j], xs[j] = m.feats[j].encode(r[m.feats[j].Name])
	}
}

// raw returns the blended, uncalibrated log-odds.
func (m *Model) raw(bins []uint8, xs []float64) float64 {
	s := m.wTree * m.treeSum(bins)
	if m.lin != nil {
		l := m.lin.Intercept
		for j := range m.feats {
			l += m.lin.term(j, bins[j], xs[j])
		}
		s += m.wLin * l
	}
	return s
}

// treeSum returns the boosted trees' log-odds.
func (m *Model) treeSum(bins []uint8) float64 {
	s := m.base
	flat := m.flat
	for _, k := range m.roots {
		for {
			n := &flat[k]
			if n.feat < 0 {
				s += n.value
				break
			}
			k = n.left + 1 - int32(n.mask>>(bins[n.feat]&63)&1)
		}
	}
	return s
}

// Predict returns the calibrated probability that the lead converts.
func (m *Model) Predict(r Row) float64 {
	var bstack [64]uint8
	var xstack [64]float64
	var bins []uint8
	var xs []float64
	if nf := len(m.feats); nf <= len(bstack) {
		bins, xs = bstack[:nf], xstack[:nf]
	} else {
		bins, xs = make([]uint8, nf), make([]float64, nf)
	}
	m.encodeRow(r, bins, xs)
	return sigmoid(m.slope*m.raw(bins, xs) + m.intercept)
}

// Explain returns the prediction for r with per-column reasons. Reasons use
// path attribution (Saabas): at every split on the path through every tree,
// the change in the node's expected value is credited to the split's
// column; the changes telescope, so BaseLogOdds + sum(Contributions) equals
// logit(Probability) up to floating-point rounding. Each contribution is
// then turned into percentage points at one rate, the sigmoid's average
// slope between BaseLogOdds and the lead's log-odds, so that the points add
// up to Probability - BaseProbability (see the package documentation).
func (m *Model) Explain(r Row) Explanation {
	nf := len(m.feats)
	bins, xs := make([]uint8, nf), make([]float64, nf)
	m.encodeRow(r, bins, xs)
	contrib := make([]float64, nf)
	used := make([]bool, nf)
	// cuts[j*maxBins+t] credits the numeric split of feature j that sends
	// bins 1..t left with the changes it made on the lead's path.
	cuts := make([]float64, nf*maxBins)
	raw := m.base
	for t := range m.trees {
		nodes := m.trees[t].Nodes
		k := int32(0)
		for {
			n := &nodes[k]
			if n.Feature < 0 {
				raw += n.Value
				break
			}
			if n.Mask>>bins[n.Feature]&1 == 1 {
				k = n.Left
			} else {
				k = n.Right
			}
			d := nodes[k].Value - n.Value
			contrib[n.Feature] += d
			used[n.Feature] = true
			if f := &m.feats[n.Feature]; f.Numeric && bins[n.Feature] != binMissing {
				if c, ok := numericCut(n.Mask, f.nBins()); ok {
					cuts[int(n.Feature)*maxBins+int(c)] += d
				}
			}
		}
	}
	raw *= m.wTree
	for j := range contrib {
		contrib[j] *= m.wTree
	}
	if m.lin != nil {
		l := m.lin.Intercept
		for j := range m.feats {
			t := m.lin.term(j, bins[j], xs[j])
			l += t
			contrib[j] += m.wLin * (t - m.lin.Center[j])
			used[j] = true
		}
		raw += m.wLin * l
	}
	e := Explanation{
		Probability: sigmoid(m.slope*raw + m.intercept),
		BaseLogOdds: m.slope*m.expected + m.intercept,
	}
	e.BaseProbability = sigmoid(e.BaseLogOdds)
	for j, c := range contrib {
		if !used[j] || c == 0 {
			continue
		}
		f := Factor{
			Feature:      m.feats[j].Name,
			Value:        display(r[m.feats[j].Name]),
			Contribution: m.slope * c,
		}
		f.Threshold, f.Over, f.HasThreshold = m.threshold(cuts, j, bins[j], f.Contribution)
		e.Factors = append(e.Factors, f)
	}
	sort.SliceStable(e.Factors, func(a, b int) bool {
		return math.Abs(e.Factors[a].Contribution) > math.Abs(e.Factors[b].Contribution)
	})
	var sum float64
	for _, f := range e.Factors {
		sum += f.Contribution
	}
	rate := 100 * pointsPerLogOdds(e.BaseLogOdds, sum, e.Probability-e.BaseProbability)
	for i := range e.Factors {
		e.Factors[i].PercentPoints = rate * e.Factors[i].Contribution
	}
	return e
}

// pointsPerLogOdds is the rate at which a lead's log-odds contributions
// become probability: the sigmoid's average slope between the base log-odds
// l0 and the lead's, l0 + sum, which moves the probability by dp. It is
// positive (the sigmoid rises), so every factor keeps its sign, and
// rate*sum = dp, so the factors add up. When the contributions cancel out
// the rate is the slope at the midpoint, its limit.
func pointsPerLogOdds(l0, sum, dp float64) float64 {
	if math.Abs(sum) < 1e-6 {
		p := sigmoid(l0 + sum/2)
		return p * (1 - p)
	}
	return dp / sum
}

// numericCut returns the last bin t of a numeric split whose mask sends
// bins 1..t left (with or without the missing bin 0), and false for a mask
// of another shape (a model decoded from elsewhere).
func numericCut(mask uint64, nBins int) (uint8, bool) {
	m := mask &^ 1
	if m == 0 || m&(m+2) != 0 { // not exactly bits 1..t
		return 0, false
	}
	t := 63 - bits.LeadingZeros64(m)
	if t >= nBins-1 {
		return 0, false
	}
	return uint8(t), true
}

// threshold picks, for numeric feature j whose value fell in bin b, the
// split point of the path that moved the lead's log-odds most in the
// direction of its contribution c, and says which side of it the lead is
// on: bin t holds the values at most Edges[t-1].
func (m *Model) threshold(cuts []float64, j int, b uint8, c float64) (float64, bool, bool) {
	f := &m.feats[j]
	if !f.Numeric || b == binMissing {
		return 0, false, false
	}
	best, bestCredit := 0, 0.0
	for t, d := range cuts[j*maxBins : (j+1)*maxBins] {
		credit := d * m.wTree * m.slope
		if c < 0 {
			credit = -credit
		}
		if credit > bestCredit {
			best, bestCredit = t, credit
		}
	}
	if best == 0 {
		return 0, false, false
	}
	return f.Edges[best-1], int(b) > best, true
}

const modelFormat = "baton-gbm/1"

type modelJSON struct {
	Format       string    `json:"format"`
	Base         float64   `json:"base"`
	Slope        float64   `json:"slope"`
	Intercept    float64   `json:"intercept"`
	TreeWeight   float64   `json:"tree_weight"`
	LinearWeight float64   `json:"linear_weight"`
	Features     []feature `json:"features"`
	Trees        []tree    `json:"trees"`
	Linear       *linear   `json:"linear,omitempty"`
}

// MarshalJSON encodes the model; UnmarshalJSON of the result predicts
// identically.
func (m *Model) MarshalJSON() ([]byte, error) {
	return json.Marshal(modelJSON{
		Format:       modelFormat,
		Base:         m.base,
		Slope:        m.slope,
		Intercept:    m.intercept,
		TreeWeight:   m.wTree,
		LinearWeight: m.wLin,
		Features:     m.feats,
		Trees:        m.trees,
		Linear:       m.lin,
	})
}

// UnmarshalJSON decodes a model written by MarshalJSON, checking that it is
// well formed.
func (m *Model) UnmarshalJSON(data []byte) error {
	var j modelJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("model: decode: %w", err)
	}
	if j.Format != modelFormat {
		return fmt.Errorf("model: decode: unknown format %q (want %q)", j.Format, modelFormat)
	}
	if len(j.Features) == 0 {
		return errors.New("model: decode: no features")
	}
	for i, f := range j.Features {
		if f.nBins() > maxBins {
			return fmt.Errorf("model: decode: feature %d (%q) has %d bins, max %d", i, f.Name, f.nBins(), maxBins)
		}
		if f.Numeric && !sort.Float64sAreSorted(f.Edges) {
			return fmt.Errorf("model: decode: feature %d (%q) has unsorted edges", i, f.Name)
		}
	}
	for t, tr := range j.Trees {
		if len(tr.Nodes) == 0 {
			return fmt.Errorf("model: decode: tree %d is empty", t)
		}
		for k, n := range tr.Nodes {
			if n.Feature < 0 {
				continue
			}
			if int(n.Feature) >= len(j.Features) {
				return fmt.Errorf("model: decode: tree %d node %d: feature %d out of range", t, k, n.Feature)
			}
			if int(n.Left) <= k || int(n.Right) <= k || int(n.Left) >= len(tr.Nodes) || int(n.Right) >= len(tr.Nodes) {
				return fmt.Errorf("model: decode: tree %d node %d: bad child index", t, k)
			}
		}
	}
	if l := j.Linear; l != nil {
		nf := len(j.Features)
		if len(l.Bins) != nf || len(l.Slope) != nf || len(l.Mu) != nf || len(l.Sd) != nf || len(l.Center) != nf {
			return errors.New("model: decode: linear part does not match the features")
		}
		for i, f := range j.Features {
			if len(l.Bins[i]) != f.nBins() {
				return fmt.Errorf("model: decode: linear weights for feature %q have %d bins, want %d", f.Name, len(l.Bins[i]), f.nBins())
			}
		}
	}
	*m = Model{feats: j.Features, trees: j.Trees, base: j.Base, lin: j.Linear,
		wTree: j.TreeWeight, wLin: j.LinearWeight, slope: j.Slope, intercept: j.Intercept}
	m.finish()
	return nil
}
