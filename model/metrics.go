package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"
	"time"
)

// Metrics summarises probabilistic predictions against outcomes.
type Metrics struct {
	// AUC is the ROC area under curve (ties count one half).
	AUC float64
	// LogLoss is the mean negative log-likelihood (probabilities clipped
	// to [1e-15, 1-1e-15]).
	LogLoss float64
	// Brier is the mean squared error of the probabilities.
	Brier float64
	// PrecisionTop10 is the conversion rate among the 10% highest-scored
	// leads (rounded up to a whole lead).
	PrecisionTop10 float64
	// LiftTop10 is PrecisionTop10 divided by the overall conversion rate.
	LiftTop10 float64
	// N is the number of predictions.
	N int
}

// Evaluate computes Metrics. probs and labels must have equal length;
// extra elements of the longer one are ignored.
func Evaluate(probs []float64, labels []bool) Metrics {
	n := min(len(probs), len(labels))
	m := Metrics{N: n}
	if n == 0 {
		return m
	}
	pos := 0
	for i := 0; i < n; i++ {
		p := math.Min(math.Max(probs[i], 1e-15), 1-1e-15)
		y := 0.0
		if labels[i] {
			y = 1
			pos++
			m.LogLoss -= math.Log(p)
		} else {
			m.LogLoss -= math.Log(1 - p)
		}
		m.Brier += (probs[i] - y) * (probs[i] - y)
	}
	m.LogLoss /= float64(n)
	m.Brier /= float64(n)

	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	// Descending by probability; ties broken by index for determinism.
	sort.SliceStable(order, func(a, b int) bool { return probs[order[a]] > probs[order[b]] })

	// AUC via average ranks (Mann-Whitney U).
	if pos > 0 && pos < n {
		var rankSumPos float64
		for i := 0; i < n; {
			j := i
			for j+1 < n && probs[order[j+1]] == probs[order[i]] {
				j++
			}
			// Ranks in ascending order: positions i..j descending map to
			// ascending ranks n-j .. n-i (1-based).
			avg := float64(n-j+n-i) / 2
			for k := i; k <= j; k++ {
				if labels[order[k]] {
					rankSumPos += avg
				}
			}
			i = j + 1
		}
		np, nn := float64(pos), float64(n-pos)
		m.AUC = (rankSumPos - np*(np+1)/2) / (np * nn)
	} else {
		m.AUC = math.NaN()
	}

	top := (n + 9) / 10
	hits := 0
	for _, i := range order[:top] {
		if labels[i] {
			hits++
		}
	}
	m.PrecisionTop10 = float64(hits) / float64(top)
	if pos > 0 {
		m.LiftTop10 = m.PrecisionTop10 / (float64(pos) / float64(n))
	}
	return m
}

// Bin is one row of a reliability (calibration) table.
type Bin struct {
	// Lo and Hi bound the predicted probabilities in the bin [Lo, Hi).
	Lo, Hi float64
	// N is the number of predictions in the bin.
	N int
	// MeanPredicted is the mean predicted probability in the bin.
	MeanPredicted float64
	// ObservedRate is the fraction of positive outcomes in the bin.
	ObservedRate float64
}

// Reliability splits [0, 1] into the given number of equal-width bins
// (10 if bins <= 0) and reports, per bin, the mean predicted probability
// against the observed positive rate.
func Reliability(probs []float64, labels []bool, bins int) []Bin {
	if bins <= 0 {
		bins = 10
	}
	out := make([]Bin, bins)
	for b := range out {
		out[b].Lo = float64(b) / float64(bins)
		out[b].Hi = float64(b+1) / float64(bins)
	}
	n := min(len(probs), len(labels))
	for i := 0; i < n; i++ {
		b := int(probs[i] * float64(bins))
		b = max(0, min(bins-1, b))
		out[b].N++
		out[b].MeanPredicted += probs[i]
		if labels[i] {
			out[b].ObservedRate++
		}
	}
	for b := range out {
		if out[b].N > 0 {
			out[b].MeanPredicted /= float64(out[b].N)
			out[b].ObservedRate /= float64(out[b].N)
		}
	}
	return out
}

// stratifiedFolds assigns each row to one of k folds, keeping the positive
// rate of every fold close to the overall one. The assignment depends only
// on labels and seed.
func stratifiedFolds(labels []bool, k int, seed int64) []int {
	rng := rand.New(rand.NewPCG(uint64(seed), 0xf01d5))
	var pos, neg []int
	for i, y := range labels {
		if y {
			pos = append(pos, i)
		} else {
			neg = append(neg, i)
		}
	}
	fold := make([]int, len(labels))
	next := 0
	for _, group := range [][]int{pos, neg} {
		rng.Shuffle(len(group), func(a, b int) { group[a], group[b] = group[b], group[a] })
		for _, i := range group {
			fold[i] = next % k
			next++
		}
	}
	return fold
}

// CrossValidate runs stratified k-fold cross-validation with folds seeded by
// cfg.Seed and returns metrics on the pooled out-of-fold predictions.
func CrossValidate(rows []Row, labels []bool, cfg Config, k int) (Metrics, error) {
	oof, err := outOfFold(rows, labels, cfg, k)
	if err != nil {
		return Metrics{}, err
	}
	return Evaluate(oof, labels), nil
}

// outOfFold returns out-of-fold model predictions for every row.
func outOfFold(rows []Row, labels []bool, cfg Config, k int) ([]float64, error) {
	oof, _, _, err := outOfFoldWith(rows, labels, cfg.Seed, k, true, func(r []Row, l []bool) (func(Row) float64, error) {
		m, err := Train(r, l, cfg)
		if err != nil {
			return nil, err
		}
		return m.Predict, nil
	})
	return oof, err
}

// outOfFoldWith trains with train on every k-1 folds and predicts the held
// out fold. It returns the pooled predictions and the training and
// prediction time summed over folds (meaningful when parallel is false).
func outOfFoldWith(rows []Row, labels []bool, seed int64, k int, parallel bool,
	train func([]Row, []bool) (func(Row) float64, error)) (oof []float64, trainDur, predictDur time.Duration, err error) {
	if _, err := validate(rows, labels, "cross-validate"); err != nil {
		return nil, 0, 0, err
	}
	if k < 2 {
		return nil, 0, 0, fmt.Errorf("model: cross-validate: need at least 2 folds, got %d", k)
	}
	if k > len(rows) {
		return nil, 0, 0, fmt.Errorf("model: cross-validate: %d folds but only %d rows", k, len(rows))
	}
	fold := stratifiedFolds(labels, k, seed)
	oof = make([]float64, len(rows))
	errs := make([]error, k)
	trainDurs := make([]time.Duration, k)
	predictDurs := make([]time.Duration, k)
	workers := 1
	if parallel {
		workers = max(1, runtime.GOMAXPROCS(0))
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, workers)
	for f := 0; f < k; f++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var tr []Row
			var tl []bool
			for i := range rows {
				if fold[i] != f {
					tr = append(tr, rows[i])
					tl = append(tl, labels[i])
				}
			}
			start := time.Now()
			predict, err := train(tr, tl)
			trainDurs[f] = time.Since(start)
			if err != nil {
				errs[f] = fmt.Errorf("fold %d of %d: %w", f+1, k, err)
				return
			}
			start = time.Now()
			for i := range rows {
				if fold[i] == f {
					oof[i] = predict(rows[i])
				}
			}
			predictDurs[f] = time.Since(start)
		}()
	}
	wg.Wait()
	for f := range errs {
		if errs[f] != nil {
			return nil, 0, 0, errs[f]
		}
		trainDur += trainDurs[f]
		predictDur += predictDurs[f]
	}
	return oof, trainDur, predictDur, nil
}
