package model

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// EvalResult is one model's line in the RunEval report.
type EvalResult struct {
	AUC            float64 `json:"auc"`
	LogLoss        float64 `json:"log_loss"`
	Brier          float64 `json:"brier"`
	PrecisionTop10 float64 `json:"precision_top10"`
	LiftTop10      float64 `json:"lift_top10"`
	TrainSeconds   float64 `json:"train_seconds"`
	PredictSeconds float64 `json:"predict_seconds"`
	N              int     `json:"n"`
}

// EvalReport is the JSON object printed by RunEval --json: the model's
// figures at the top level, the naive-Bayes baseline nested.
type EvalReport struct {
	EvalResult
	Mode     string     `json:"mode"`
	Baseline EvalResult `json:"baseline"`
}

func resultOf(m Metrics, train, predict time.Duration) EvalResult {
	return EvalResult{
		AUC: m.AUC, LogLoss: m.LogLoss, Brier: m.Brier,
		PrecisionTop10: m.PrecisionTop10, LiftTop10: m.LiftTop10,
		TrainSeconds: train.Seconds(), PredictSeconds: predict.Seconds(), N: m.N,
	}
}

func readCSVFile(path, target string) ([]Row, []bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	rows, labels, err := ReadCSV(f, target)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows, labels, nil
}

// RunEval implements `baton model eval`. Flags:
//
//	--train FILE    training CSV (required)
//	--test FILE     held-out CSV: train on --train, evaluate on --test
//	--cv K          K-fold cross-validation on --train (default 5 when
//	                --test is not given)
//	--target NAME   0/1 outcome column (default Converted)
//	--exclude LIST  comma-separated columns never used as features
//	                (default: XEducationExclusions)
//	--seed N        seed for subsampling and folds (default 1)
//	--json          print one JSON object instead of a table
//
// It reports the model and the naive-Bayes baseline.
func RunEval(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("baton model eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	trainPath := fs.String("train", "", "training CSV with a header row (required)")
	testPath := fs.String("test", "", "held-out CSV to evaluate on")
	cv := fs.Int("cv", 0, "number of cross-validation folds on --train (default 5 without --test)")
	target := fs.String("target", "Converted", "0/1 outcome column")
	exclude := fs.String("exclude", strings.Join(XEducationExclusions, ","), "comma-separated columns never used as features")
	seed := fs.Int64("seed", DefaultConfig().Seed, "random seed")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("model eval: unexpected arguments %q", fs.Args())
	}
	if *trainPath == "" {
		return errors.New("model eval: --train is required")
	}
	if *testPath != "" && *cv != 0 {
		return errors.New("model eval: use either --test or --cv, not both")
	}
	if *testPath == "" && *cv == 0 {
		*cv = 5
	}
	if *testPath == "" && *cv < 2 {
		return fmt.Errorf("model eval: --cv must be at least 2, got %d", *cv)
	}
	cfg := DefaultConfig()
	cfg.Seed = *seed
	cfg.Exclude = nil
	for _, c := range strings.Split(*exclude, ",") {
		if c = strings.TrimSpace(c); c != "" {
			cfg.Exclude = append(cfg.Exclude, c)
		}
	}
	rows, labels, err := readCSVFile(*trainPath, *target)
	if err != nil {
		return fmt.Errorf("model eval: %w", err)
	}

	trainModel := func(r []Row, l []bool) (func(Row) float64, error) {
		m, err := Train(r, l, cfg)
		if err != nil {
			return nil, err
		}
		return m.Predict, nil
	}
	trainNB := func(r []Row, l []bool) (func(Row) float64, error) {
		nb, err := TrainNaiveBayes(r, l, cfg)
		if err != nil {
			return nil, err
		}
		return nb.Predict, nil
	}

	var rep EvalReport
	var where string
	if *testPath != "" {
		testRows, testLabels, err := readCSVFile(*testPath, *target)
		if err != nil {
			return fmt.Errorf("model eval: %w", err)
		}
		if _, err := validate(testRows, testLabels, "test set"); err != nil {
			return fmt.Errorf("model eval: %s: %w", *testPath, err)
		}
		run := func(train func([]Row, []bool) (func(Row) float64, error)) (EvalResult, error) {
			start := time.Now()
			predict, err := train(rows, labels)
			if err != nil {
				return EvalResult{}, err
			}
			trainDur := time.Since(start)
			start = time.Now()
			probs := make([]float64, len(testRows))
			for i, r := range testRows {
				probs[i] = predict(r)
			}
			return resultOf(Evaluate(probs, testLabels), trainDur, time.Since(start)), nil
		}
		if rep.EvalResult, err = run(trainModel); err != nil {
			return fmt.Errorf("model eval: %w", err)
		}
		if rep.Baseline, err = run(trainNB); err != nil {
			return fmt.Errorf("model eval: %w", err)
		}
		rep.Mode = "test"
		where = fmt.Sprintf("trained on %s (%d leads), tested on %s (%d leads)", *trainPath, len(rows), *testPath, len(testRows))
	} else {
		run := func(train func([]Row, []bool) (func(Row) float64, error)) (EvalResult, error) {
			oof, td, pd, err := outOfFoldWith(rows, labels, cfg.Seed, *cv, false, train)
			if err != nil {
				return EvalResult{}, err
			}
			return resultOf(Evaluate(oof, labels), td, pd), nil
		}
		if rep.EvalResult, err = run(trainModel); err != nil {
			return fmt.Errorf("model eval: %w", err)
		}
		if rep.Baseline, err = run(trainNB); err != nil {
			return fmt.Errorf("model eval: %w", err)
		}
		rep.Mode = fmt.Sprintf("cv%d", *cv)
		where = fmt.Sprintf("%d-fold cross-validation on %s (%d leads; times summed over folds)", *cv, *trainPath, len(rows))
	}
	if math.IsNaN(rep.AUC) {
		return errors.New("model eval: AUC undefined (evaluation set has a single outcome)")
	}

	if *asJSON {
		enc := json.NewEncoder(stdout)
		return enc.Encode(rep)
	}
	fmt.Fprintln(stdout, where)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tROC AUC\tlog loss\tBrier\tprecision@top10%\tlift@top10%\ttrain s\tpredict s\t")
	for _, x := range []struct {
		name string
		r    EvalResult
	}{{"boosted trees + logistic", rep.EvalResult}, {"naive Bayes baseline", rep.Baseline}} {
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\t%.4f\t%.2f\t%.3f\t%.3f\t\n",
			x.name, x.r.AUC, x.r.LogLoss, x.r.Brier, x.r.PrecisionTop10, x.r.LiftTop10, x.r.TrainSeconds, x.r.PredictSeconds)
	}
	return tw.Flush()
}
