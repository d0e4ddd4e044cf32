package model

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

const trainPath = "../demo/data/xeducation/leads-train.csv"

var (
	loadOnce   sync.Once
	xRows      []Row
	xLabels    []bool
	xLoadError error
)

// loadXEducation reads the repo's X Education training file once.
func loadXEducation(t testing.TB) ([]Row, []bool) {
	t.Helper()
	loadOnce.Do(func() {
		f, err := os.Open(trainPath)
		if err != nil {
			xLoadError = err
			return
		}
		defer f.Close()
		xRows, xLabels, xLoadError = ReadCSV(f, "Converted")
	})
	if xLoadError != nil {
		t.Fatalf("load %s: %v", trainPath, xLoadError)
	}
	return xRows, xLabels
}

// holdout is a seeded stratified 75/25 split with a model trained on the
// 75%, shared by several tests.
type holdout struct {
	trainRows, testRows     []Row
	trainLabels, testLabels []bool
	model                   *Model
}

var (
	holdoutOnce sync.Once
	holdoutVal  holdout
	holdoutErr  error
)

func getHoldout(t testing.TB) *holdout {
	t.Helper()
	rows, labels := loadXEducation(t)
	holdoutOnce.Do(func() {
		h := &holdoutVal
		fold := stratifiedFolds(labels, 4, 42)
		for i := range rows {
			if fold[i] == 0 {
				h.testRows = append(h.testRows, rows[i])
				h.testLabels = append(h.testLabels, labels[i])
			} else {
				h.trainRows = append(h.trainRows, rows[i])
				h.trainLabels = append(h.trainLabels, labels[i])
			}
		}
		h.model, holdoutErr = Train(h.trainRows, h.trainLabels, DefaultConfig())
	})
	if holdoutErr != nil {
		t.Fatal(holdoutErr)
	}
	return &holdoutVal
}

func predictAll(predict func(Row) float64, rows []Row) []float64 {
	out := make([]float64, len(rows))
	for i, r := range rows {
		out[i] = predict(r)
	}
	return out
}

func TestCrossValidatedAUC(t *testing.T) {
	rows, labels := loadXEducation(t)
	m, err := CrossValidate(rows, labels, DefaultConfig(), 5)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("5-fold CV: %+v", m)
	if m.N != len(rows) {
		t.Errorf("N = %d, want %d", m.N, len(rows))
	}
	if m.AUC < 0.90 {
		t.Errorf("5-fold CV AUC = %.4f, want >= 0.90", m.AUC)
	}
}

func TestBeatsNaiveBayesOnHoldout(t *testing.T) {
	h := getHoldout(t)
	nb, err := TrainNaiveBayes(h.trainRows, h.trainLabels, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	mm := Evaluate(predictAll(h.model.Predict, h.testRows), h.testLabels)
	bm := Evaluate(predictAll(nb.Predict, h.testRows), h.testLabels)
	t.Logf("held-out 25%%: model %+v", mm)
	t.Logf("held-out 25%%: naive Bayes %+v", bm)
	for _, c := range []struct {
		name          string
		model, base   float64
		higherIsBette bool
	}{
		{"AUC", mm.AUC, bm.AUC, true},
		{"log loss", mm.LogLoss, bm.LogLoss, false},
		{"Brier", mm.Brier, bm.Brier, false},
	} {
		if c.higherIsBette && c.model <= c.base || !c.higherIsBette && c.model >= c.base {
			t.Errorf("%s: model %.4f does not beat naive Bayes %.4f", c.name, c.model, c.base)
		}
	}
}

func TestReliability(t *testing.T) {
	h := getHoldout(t)
	probs := predictAll(h.model.Predict, h.testRows)
	bins := Reliability(probs, h.testLabels, 5)
	if len(bins) != 5 {
		t.Fatalf("got %d bins, want 5", len(bins))
	}
	total, checked := 0, 0
	for _, b := range bins {
		total += b.N
		t.Logf("[%.1f,%.1f) n=%4d predicted=%.3f observed=%.3f", b.Lo, b.Hi, b.N, b.MeanPredicted, b.ObservedRate)
		if b.N < 100 {
			continue
		}
		checked++
		if d := math.Abs(b.MeanPredicted - b.ObservedRate); d > 0.08 {
			t.Errorf("bin [%.1f,%.1f): |predicted %.3f - observed %.3f| = %.3f > 0.08", b.Lo, b.Hi, b.MeanPredicted, b.ObservedRate, d)
		}
	}
	if total != len(probs) {
		t.Errorf("bins hold %d predictions, want %d", total, len(probs))
	}
	if checked < 3 {
		t.Errorf("only %d bins with >= 100 rows; predictions not spread out", checked)
	}
}

func TestReliabilityBins(t *testing.T) {
	bins := Reliability([]float64{0, 0.1, 0.5, 0.99, 1}, []bool{false, false, true, true, true}, 2)
	want := []Bin{
		{Lo: 0, Hi: 0.5, N: 2, MeanPredicted: 0.05, ObservedRate: 0},
		{Lo: 0.5, Hi: 1, N: 3, MeanPredicted: (0.5 + 0.99 + 1) / 3, ObservedRate: 1},
	}
	for i := range want {
		if math.Abs(bins[i].MeanPredicted-want[i].MeanPredicted) > 1e-12 || bins[i].N != want[i].N ||
			bins[i].ObservedRate != want[i].ObservedRate || bins[i].Lo != want[i].Lo || bins[i].Hi != want[i].Hi {
			t.Errorf("bin %d = %+v, want %+v", i, bins[i], want[i])
		}
	}
}

func TestExplanationSumsToLogit(t *testing.T) {
	h := getHoldout(t)
	m := h.model
	rows := append(slices.Clone(h.testRows), Row{}, Row{"Lead Source": "never seen before", "TotalVisits": "1e9"})
	for i, r := range rows {
		e := m.Explain(r)
		p := m.Predict(r)
		if e.Probability != p {
			t.Fatalf("row %d: Explain probability %v != Predict %v", i, e.Probability, p)
		}
		sum := e.BaseLogOdds
		for _, f := range e.Factors {
			sum += f.Contribution
		}
		if d := math.Abs(sum - logit(p)); d > 1e-9 {
			t.Fatalf("row %d: base %v + contributions = %v, logit(p) = %v (diff %g)", i, e.BaseLogOdds, sum, logit(p), d)
		}
		for k := 1; k < len(e.Factors); k++ {
			if math.Abs(e.Factors[k].Contribution) > math.Abs(e.Factors[k-1].Contribution) {
				t.Fatalf("row %d: factors not sorted by |contribution|: %+v", i, e.Factors)
			}
		}
		// The percentage points add up to the move from the base, keep
		// the contributions' signs, and come in the same order.
		points := 100 * e.BaseProbability
		for k, f := range e.Factors {
			points += f.PercentPoints
			if f.PercentPoints*f.Contribution <= 0 {
				t.Fatalf("row %d: factor %+v: points and contribution of different signs", i, f)
			}
			if k > 0 && math.Abs(f.PercentPoints) > math.Abs(e.Factors[k-1].PercentPoints) {
				t.Fatalf("row %d: factors not sorted by |percent points|: %+v", i, e.Factors)
			}
		}
		if d := math.Abs(points - 100*p); d > 1e-9 || e.BaseProbability != sigmoid(e.BaseLogOdds) {
			t.Fatalf("row %d: base %v%% + points = %v%%, probability %v%% (diff %g)", i, 100*e.BaseProbability, points, 100*p, d)
		}
		seen := map[string]bool{}
		for _, f := range e.Factors {
			if f.HasThreshold {
				x, err := strconv.ParseFloat(f.Value, 64)
				if err != nil || f.Over != (x > f.Threshold) {
					t.Fatalf("row %d: factor %+v: the value is not on the threshold's side it says", i, f)
				}
			}
			if seen[f.Feature] {
				t.Fatalf("row %d: feature %q appears twice", i, f.Feature)
			}
			seen[f.Feature] = true
			if f.Value == "" {
				t.Fatalf("row %d: empty value for %q", i, f.Feature)
			}
		}
	}
	// A concrete lead: its Lead Source factor names the raw value.
	e := m.Explain(Row{"Lead Source": "Google", "Lead Origin": "API"})
	found := false
	for _, f := range e.Factors {
		if f.Feature == "Lead Source" {
			found = f.Value == "Google"
		}
	}
	if !found {
		t.Errorf("no factor Lead Source = Google in %+v", e.Factors)
	}
	// The explanation of a missing value says so.
	e = m.Explain(Row{})
	for _, f := range e.Factors {
		if f.Value != MissingValue {
			t.Errorf("empty row: factor %+v, want value %q", f, MissingValue)
		}
	}
}

func TestDeterministic(t *testing.T) {
	h := getHoldout(t)
	cfg := DefaultConfig()
	again, err := Train(h.trainRows, h.trainLabels, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Seed = 99
	other, err := Train(h.trainRows, h.trainLabels, cfg)
	if err != nil {
		t.Fatal(err)
	}
	differs := 0
	for i, r := range h.testRows {
		if a, b := h.model.Predict(r), again.Predict(r); a != b {
			t.Fatalf("row %d: same seed gives %v and %v", i, a, b)
		}
		if h.model.Predict(r) != other.Predict(r) {
			differs++
		}
	}
	if differs == 0 {
		t.Errorf("a different seed changed no prediction; is the seed used?")
	}
}

func TestJSONRoundTrip(t *testing.T) {
	h := getHoldout(t)
	data, err := json.Marshal(h.model)
	if err != nil {
		t.Fatal(err)
	}
	var back Model
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	for i, r := range h.testRows {
		if a, b := h.model.Predict(r), back.Predict(r); a != b {
			t.Fatalf("row %d: prediction %v after round trip, want %v", i, b, a)
		}
		ea, eb := h.model.Explain(r), back.Explain(r)
		if ea.BaseLogOdds != eb.BaseLogOdds || !slices.Equal(ea.Factors, eb.Factors) {
			t.Fatalf("row %d: explanation changed after round trip", i)
		}
	}
	if !slices.Equal(h.model.Features(), back.Features()) {
		t.Errorf("features %v after round trip, want %v", back.Features(), h.model.Features())
	}
	data2, err := json.Marshal(&back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, data2) {
		t.Errorf("re-marshalled model differs")
	}
	for _, bad := range []string{
		`{}`,
		`not json`,
		`{"format":"baton-gbm/1","features":[]}`,
		`{"format":"baton-gbm/1","features":[{"name":"a","numeric":true}],"trees":[{"nodes":[{"f":3,"l":1,"r":2,"v":0}]}]}`,
		`{"format":"baton-gbm/1","features":[{"name":"a","numeric":true}],"trees":[{"nodes":[{"f":0,"l":0,"r":0,"v":0}]}]}`,
	} {
		var m Model
		if err := json.Unmarshal([]byte(bad), &m); err == nil {
			t.Errorf("Unmarshal(%s) succeeded, want error", bad)
		}
	}
}

func TestExclusionsNotUsed(t *testing.T) {
	h := getHoldout(t)
	feats := h.model.Features()
	for _, ex := range append(slices.Clone(XEducationExclusions), "Converted") {
		if slices.Contains(feats, ex) {
			t.Errorf("Features() contains excluded column %q", ex)
		}
	}
	for _, want := range []string{"Lead Source", "Total Time Spent on Website", "Last Activity"} {
		if !slices.Contains(feats, want) {
			t.Errorf("Features() = %v lacks %q", feats, want)
		}
	}
	// Changing post-contact columns changes nothing.
	for i, r := range h.testRows[:200] {
		changed := Row{}
		for k, v := range r {
			changed[k] = v
		}
		changed["Tags"] = "Closed by Horizzon"
		changed["Lead Quality"] = "High in Relevance"
		changed["Last Notable Activity"] = "SMS Sent"
		changed["Asymmetrique Activity Score"] = "99"
		if a, b := h.model.Predict(r), h.model.Predict(changed); a != b {
			t.Fatalf("row %d: changing excluded columns moved prediction %v -> %v", i, a, b)
		}
	}
	// Without the exclusions the leaky columns would be picked up, so the
	// checks above are meaningful.
	cfg := DefaultConfig()
	cfg.Exclude = []string{"Prospect ID", "Lead Number"}
	cfg.Rounds = 5
	m, err := Train(h.trainRows, h.trainLabels, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(m.Features(), "Tags") {
		t.Errorf("without exclusions Features() = %v lacks Tags", m.Features())
	}
}

func TestCaseFoldingAndUnseenValues(t *testing.T) {
	m := getHoldout(t).model
	base := Row{"Lead Origin": "Landing Page Submission", "TotalVisits": "3", "Total Time Spent on Website": "600"}
	with := func(k, v string) Row {
		r := Row{k: v}
		for kk, vv := range base {
			if kk != k {
				r[kk] = vv
			}
		}
		return r
	}
	for _, c := range []struct{ name, a, b string }{
		{"Lead Source", "google", "Google"},
		{"Lead Source", "  Google ", "GOOGLE"},
		{"Specialization", "Select", ""},
		{"Specialization", "select", "  "},
		{"TotalVisits", "", "not a number"},
	} {
		if pa, pb := m.Predict(with(c.name, c.a)), m.Predict(with(c.name, c.b)); pa != pb {
			t.Errorf("%s: %q -> %v but %q -> %v; want equal", c.name, c.a, pa, c.b, pb)
		}
	}
	for _, r := range []Row{nil, {}, with("Lead Source", "Some New Source ü"), with("Country", strings.Repeat("x", 500))} {
		if p := m.Predict(r); !(p > 0 && p < 1) {
			t.Errorf("Predict(%v) = %v, want a probability", r, p)
		}
	}
}

func TestTrainErrors(t *testing.T) {
	row := func(v string) Row { return Row{"a": v, "b": "x" + v} }
	many := func(n int, labels func(i int) bool) ([]Row, []bool) {
		var rows []Row
		var ls []bool
		for i := 0; i < n; i++ {
			rows = append(rows, row(string(rune('0'+i%10))))
			ls = append(ls, labels(i))
		}
		return rows, ls
	}
	allNeg, negLabels := many(50, func(int) bool { return false })
	allPos, posLabels := many(50, func(int) bool { return true })
	mixed, mixedLabels := many(50, func(i int) bool { return i%2 == 0 })
	missingRows := make([]Row, 50)
	for i := range missingRows {
		missingRows[i] = Row{"a": "", "b": "Select"}
	}
	constRows := make([]Row, 50)
	for i := range constRows {
		constRows[i] = Row{"a": "same"}
	}
	onlyExcluded := make([]Row, 50)
	for i := range onlyExcluded {
		onlyExcluded[i] = Row{"Tags": string(rune('a' + i%3))}
	}
	cases := []struct {
		name   string
		rows   []Row
		labels []bool
		want   string
	}{
		{"zero rows", nil, nil, "no training rows"},
		{"one row", []Row{row("1")}, []bool{true}, "only one training row"},
		{"no positives", allNeg, negLabels, "no positive labels"},
		{"no negatives", allPos, posLabels, "no negative labels"},
		{"length mismatch", mixed, mixedLabels[:10], "50 rows but 10 labels"},
		{"all columns missing", missingRows, mixedLabels, "no usable feature columns"},
		{"constant column", constRows, mixedLabels, "no usable feature columns"},
		{"only excluded columns", onlyExcluded, mixedLabels, "no usable feature columns"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Train(c.rows, c.labels, DefaultConfig())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Train error = %v, want one containing %q", err, c.want)
			}
			_, err = TrainNaiveBayes(c.rows, c.labels, DefaultConfig())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("TrainNaiveBayes error = %v, want one containing %q", err, c.want)
			}
		})
	}
	if _, err := CrossValidate(mixed, mixedLabels, DefaultConfig(), 1); err == nil {
		t.Errorf("CrossValidate with 1 fold succeeded")
	}
}

func TestAllMissingColumnDropped(t *testing.T) {
	h := getHoldout(t)
	rows := make([]Row, len(h.trainRows))
	for i, r := range h.trainRows {
		c := Row{"Empty Column": "", "Unanswered": "Select"}
		for k, v := range r {
			c[k] = v
		}
		rows[i] = c
	}
	cfg := DefaultConfig()
	cfg.Rounds = 20
	m, err := Train(rows, h.trainLabels, cfg)
	if err != nil {
		t.Fatalf("Train with an all-missing column: %v", err)
	}
	for _, f := range m.Features() {
		if f == "Empty Column" || f == "Unanswered" {
			t.Errorf("all-missing column %q kept as a feature", f)
		}
	}
	if !slices.Contains(m.Features(), "Lead Source") {
		t.Errorf("Features() = %v lacks Lead Source", m.Features())
	}
}

func TestEvaluate(t *testing.T) {
	cases := []struct {
		name            string
		probs           []float64
		labels          []bool
		auc, prec, lift float64
	}{
		{"perfect", []float64{0.9, 0.8, 0.2, 0.1}, []bool{true, true, false, false}, 1, 1, 2},
		{"inverted", []float64{0.1, 0.2, 0.8, 0.9}, []bool{true, true, false, false}, 0, 0, 0},
		{"all tied", []float64{0.5, 0.5, 0.5, 0.5}, []bool{true, false, true, false}, 0.5, 1, 2},
		{"one swap", []float64{0.9, 0.7, 0.8, 0.1}, []bool{true, true, false, false}, 0.75, 1, 2},
	}
	for _, c := range cases {
		m := Evaluate(c.probs, c.labels)
		if math.Abs(m.AUC-c.auc) > 1e-12 || m.PrecisionTop10 != c.prec || math.Abs(m.LiftTop10-c.lift) > 1e-12 || m.N != len(c.probs) {
			t.Errorf("%s: got %+v, want AUC %v precision %v lift %v", c.name, m, c.auc, c.prec, c.lift)
		}
	}
	m := Evaluate([]float64{1, 0}, []bool{true, false})
	if m.LogLoss > 1e-12 || m.Brier != 0 {
		t.Errorf("perfect confident predictions: %+v", m)
	}
	m = Evaluate([]float64{0.5, 0.5}, []bool{true, false})
	if math.Abs(m.LogLoss-math.Ln2) > 1e-12 || m.Brier != 0.25 {
		t.Errorf("coin flips: %+v", m)
	}
}

func TestStratifiedFolds(t *testing.T) {
	_, labels := loadXEducation(t)
	fold := stratifiedFolds(labels, 5, 7)
	var n, pos [5]int
	for i, f := range fold {
		n[f]++
		if labels[i] {
			pos[f]++
		}
	}
	for f := range n {
		if n[f] < len(labels)/5-1 || n[f] > len(labels)/5+1 {
			t.Errorf("fold %d has %d rows", f, n[f])
		}
		rate := float64(pos[f]) / float64(n[f])
		if math.Abs(rate-0.385) > 0.01 {
			t.Errorf("fold %d positive rate %.3f", f, rate)
		}
	}
	if !slices.Equal(fold, stratifiedFolds(labels, 5, 7)) {
		t.Errorf("folds not deterministic")
	}
}
