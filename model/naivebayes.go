package model

import "math"

// NaiveBayes is the baseline model: categorical naive Bayes with Laplace
// (add-one) smoothing over the same bins the main model uses (categorical
// values with rare ones grouped, numbers in quantile bins, missing as its
// own value). It is safe for concurrent use.
type NaiveBayes struct {
	feats []feature
	prior float64     // log P(pos) - log P(neg)
	ratio [][]float64 // per feature, per bin: log P(bin|pos) - log P(bin|neg)
}

// TrainNaiveBayes fits the baseline on rows, honouring cfg.Exclude and the
// binning settings. It fails on the same bad inputs as Train.
func TrainNaiveBayes(rows []Row, labels []bool, cfg Config) (*NaiveBayes, error) {
	pos, err := validate(rows, labels, "naive Bayes")
	if err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	feats, x, _, err := prepare(rows, cfg, "naive Bayes")
	if err != nil {
		return nil, err
	}
	neg := len(rows) - pos
	nb := &NaiveBayes{feats: feats, prior: math.Log(float64(pos) / float64(neg))}
	nb.ratio = make([][]float64, len(feats))
	for j := range feats {
		k := feats[j].nBins()
		cp := make([]float64, k)
		cn := make([]float64, k)
		for i, b := range x[j] {
			if labels[i] {
				cp[b]++
			} else {
				cn[b]++
			}
		}
		r := make([]float64, k)
		for b := range r {
			r[b] = math.Log((cp[b]+1)/(float64(pos)+float64(k))) - math.Log((cn[b]+1)/(float64(neg)+float64(k)))
		}
		nb.ratio[j] = r
	}
	return nb, nil
}

// Predict returns the naive-Bayes probability that the lead converts.
func (nb *NaiveBayes) Predict(r Row) float64 {
	s := nb.prior
	for j := range nb.feats {
		s += nb.ratio[j][nb.feats[j].bin(r[nb.feats[j].Name])]
	}
	return sigmoid(s)
}
