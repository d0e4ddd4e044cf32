package model

import (
	"errors"
	"math"
)

// linear is an L2-regularised logistic regression on the same binned
// features as the trees: one weight per bin of every feature (one-hot, with
// "(missing)" and "(other)" as bins of their own) plus, for numeric
// features, a slope on the standardized signed log1p of the value, clipped
// to ±5 standard deviations. Its log-odds are a sum of one term per column,
// so per-column contributions are exact.
type linear struct {
	Intercept float64     `json:"intercept"`
	Bins      [][]float64 `json:"bins"`
	Slope     []float64   `json:"slope"`
	Mu        []float64   `json:"mu"`
	Sd        []float64   `json:"sd"`
	// Center is the training mean of each column's term; contributions
	// are measured from it.
	Center []float64 `json:"center"`
}

// signedLog1p compresses long numeric tails.
func signedLog1p(x float64) float64 {
	if x < 0 {
		return -math.Log1p(-x)
	}
	return math.Log1p(x)
}

func (l *linear) z(j int, bin uint8, x float64) float64 {
	if bin == binMissing || l.Sd[j] == 0 {
		return 0
	}
	z := (signedLog1p(x) - l.Mu[j]) / l.Sd[j]
	return math.Max(-5, math.Min(5, z))
}

// term is column j's additive contribution to the log-odds (uncentered).
func (l *linear) term(j int, bin uint8, x float64) float64 {
	return l.Bins[j][bin] + l.Slope[j]*l.z(j, bin, x)
}

// trainLinear fits the regression by Newton's method on the sparse design.
func trainLinear(feats []feature, bins [][]uint8, xs [][]float64, y []float64, l2 float64) (*linear, error) {
	n := len(y)
	nf := len(feats)
	l := &linear{
		Bins:   make([][]float64, nf),
		Slope:  make([]float64, nf),
		Mu:     make([]float64, nf),
		Sd:     make([]float64, nf),
		Center: make([]float64, nf),
	}
	// Column layout: 0 intercept, then every feature's bins, then slopes.
	offs := make([]int, nf)
	d := 1
	for j := range feats {
		offs[j] = d
		d += feats[j].nBins()
		l.Bins[j] = make([]float64, feats[j].nBins())
	}
	slopeCol := make([]int, nf)
	for j := range feats {
		slopeCol[j] = -1
		if !feats[j].Numeric {
			continue
		}
		var s, ss float64
		cnt := 0
		for i := 0; i < n; i++ {
			if bins[j][i] != binMissing {
				t := signedLog1p(xs[j][i])
				s += t
				ss += t * t
				cnt++
			}
		}
		if cnt > 1 {
			mu := s / float64(cnt)
			l.Mu[j] = mu
			l.Sd[j] = math.Sqrt(math.Max(0, ss/float64(cnt)-mu*mu))
		}
		if l.Sd[j] > 0 {
			slopeCol[j] = d
			d++
		}
	}
	// Sparse rows: column indices and values.
	type entry struct {
		col int
		val float64
	}
	nnz := 1 + nf
	for j := range feats {
		if slopeCol[j] >= 0 {
			nnz++
		}
	}
	design := make([]entry, n*nnz)
	for i := 0; i < n; i++ {
		e := design[i*nnz : (i+1)*nnz]
		e[0] = entry{0, 1}
		k := 1
		for j := range feats {
			e[k] = entry{offs[j] + int(bins[j][i]), 1}
			k++
			if slopeCol[j] >= 0 {
				e[k] = entry{slopeCol[j], l.z(j, bins[j][i], xs[j][i])}
				k++
			}
		}
	}
	w := make([]float64, d)
	var pos float64
	for _, v := range y {
		pos += v
	}
	w[0] = math.Log(pos / (float64(n) - pos))
	objective := func(w []float64) float64 {
		var obj float64
		for i := 0; i < n; i++ {
			var eta float64
			for _, e := range design[i*nnz : (i+1)*nnz] {
				eta += w[e.col] * e.val
			}
			// log(1+exp(eta)) - y*eta, computed stably.
			if eta > 0 {
				obj += eta + math.Log1p(math.Exp(-eta)) - y[i]*eta
			} else {
				obj += math.Log1p(math.Exp(eta)) - y[i]*eta
			}
		}
		for k := 1; k < d; k++ {
			obj += 0.5 * l2 * w[k] * w[k]
		}
		return obj
	}
	grad := make([]float64, d)
	hess := make([]float64, d*d)
	step := make([]float64, d)
	trial := make([]float64, d)
	obj := objective(w)
	for iter := 0; iter < 50; iter++ {
		clear(grad)
		clear(hess)
		for i := 0; i < n; i++ {
			e := design[i*nnz : (i+1)*nnz]
			var eta float64
			for _, a := range e {
				eta += w[a.col] * a.val
			}
			p := sigmoid(eta)
			r := p - y[i]
			h := p * (1 - p)
			for _, a := range e {
				grad[a.col] += r * a.val
				row := hess[a.col*d:]
				ha := h * a.val
				for _, b := range e {
					row[b.col] += ha * b.val
				}
			}
		}
		for k := 0; k < d; k++ {
			reg := l2
			if k == 0 {
				reg = 1e-9
			} else {
				grad[k] += l2 * w[k]
			}
			hess[k*d+k] += reg
		}
		copy(step, grad)
		if !choleskySolve(hess, step, d) {
			return nil, errors.New("model: logistic regression: singular Hessian")
		}
		// Backtracking line search on the penalised objective.
		t := 1.0
		var newObj float64
		for {
			for k := range w {
				trial[k] = w[k] - t*step[k]
			}
			newObj = objective(trial)
			if newObj <= obj || t < 1e-6 {
				break
			}
			t /= 2
		}
		copy(w, trial)
		maxStep := 0.0
		for _, s := range step {
			maxStep = math.Max(maxStep, math.Abs(t*s))
		}
		done := obj-newObj < 1e-10*(1+math.Abs(obj)) || maxStep < 1e-8
		obj = newObj
		if done {
			break
		}
	}
	l.Intercept = w[0]
	for j := range feats {
		copy(l.Bins[j], w[offs[j]:offs[j]+feats[j].nBins()])
		if slopeCol[j] >= 0 {
			l.Slope[j] = w[slopeCol[j]]
		}
	}
	for j := range feats {
		var s float64
		for i := 0; i < n; i++ {
			s += l.term(j, bins[j][i], xs[j][i])
		}
		l.Center[j] = s / float64(n)
	}
	return l, nil
}

// choleskySolve solves A x = b in place (b becomes x) for a symmetric
// positive-definite d×d matrix A stored row-major; A is overwritten.
func choleskySolve(a, b []float64, d int) bool {
	for j := 0; j < d; j++ {
		s := a[j*d+j]
		for k := 0; k < j; k++ {
			s -= a[j*d+k] * a[j*d+k]
		}
		if s <= 0 || math.IsNaN(s) {
			return false
		}
		ljj := math.Sqrt(s)
		a[j*d+j] = ljj
		for i := j + 1; i < d; i++ {
			s := a[i*d+j]
			for k := 0; k < j; k++ {
				s -= a[i*d+k] * a[j*d+k]
			}
			a[i*d+j] = s / ljj
		}
	}
	for i := 0; i < d; i++ {
		s := b[i]
		for k := 0; k < i; k++ {
			s -= a[i*d+k] * b[k]
		}
		b[i] = s / a[i*d+i]
	}
	for i := d - 1; i >= 0; i-- {
		s := b[i]
		for k := i + 1; k < d; k++ {
			s -= a[k*d+i] * b[k]
		}
		b[i] = s / a[i*d+i]
	}
	return true
}
