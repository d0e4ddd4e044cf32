package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/model"
)

// TrainModel trains a model on the leads with known outcomes (each as of the
// moment its outcome's clock started: TrainingSet), holding out the newest
// share of them by that moment; stores it with its metrics, training
// window and features; and activates it only when its AUC on the held-out
// leads is not below the active model's on the same leads (or force is
// set). seed drives the model's row sampling.
func (db *DB) TrainModel(ctx context.Context, holdout float64, seed uint64, force bool) (*baton.TrainReport, error) {
	if a, _ := baton.ActorFrom(ctx); !a.CanAdmin() && a.Role != baton.RoleMarketing {
		return nil, baton.Errorf(baton.EFORBIDDEN, "only marketing or an admin may train the model")
	}
	if holdout <= 0 || holdout >= 0.9 {
		return nil, baton.FieldError("holdout", "must be between 0 and 0.9, not %g", holdout)
	}
	examples, err := db.TrainingSet(ctx)
	if err != nil {
		return nil, err
	}
	if len(examples) < 20 {
		return nil, baton.Errorf(baton.EINVALID, "only %d leads have a known outcome: at least 20 are needed", len(examples))
	}
	// Time split: train on the older outcomes, judge on the newer ones, as
	// the model will be used (on leads that come after what it learnt).
	slices.SortStableFunc(examples, func(a, b TrainingExample) int { return a.At.Compare(b.At) })
	cut := len(examples) - int(float64(len(examples))*holdout)
	train, test := examples[:cut], examples[cut:]
	var trainRows, testRows []model.Row
	var trainY, testY []bool
	for _, e := range train {
		trainRows, trainY = append(trainRows, e.Row), append(trainY, e.Converted)
	}
	for _, e := range test {
		testRows, testY = append(testRows, e.Row), append(testY, e.Converted)
	}
	for what, ys := range map[string][]bool{"training": trainY, "held-out": testY} {
		if n := countTrue(ys); n == 0 || n == len(ys) {
			return nil, baton.Errorf(baton.EINVALID, "the %s outcomes (%d, split by time) are all of one kind: more leads need a known outcome", what, len(ys))
		}
	}
	from, to := train[0].At, train[len(train)-1].At
	cfg := model.DefaultConfig()
	cfg.Exclude = append(cfg.Exclude, OutcomeAttribute)
	cfg.Seed = int64(seed)

	start := time.Now()
	m, err := model.Train(trainRows, trainY, cfg)
	if err != nil {
		return nil, baton.Errorf(baton.EINVALID, "training failed: %v", err)
	}
	rep := &baton.TrainReport{Rows: len(trainRows), Positives: countTrue(trainY), Holdout: len(testRows), Seconds: time.Since(start).Seconds(),
		TrainFrom: from, TrainTo: to, HoldoutFrom: test[0].At, HoldoutTo: test[len(test)-1].At, Features: m.Features()}
	predict := func(m *model.Model) baton.ModelMetrics {
		probs := make([]float64, len(testRows))
		for i, r := range testRows {
			probs[i] = m.Predict(r)
		}
		e := model.Evaluate(probs, testY)
		return baton.ModelMetrics{AUC: e.AUC, LogLoss: e.LogLoss, Brier: e.Brier, PrecisionTop10: e.PrecisionTop10, LiftTop10: e.LiftTop10, N: e.N}
	}
	rep.New = predict(m)
	activate := true
	rep.Why = fmt.Sprintf("held-out AUC %.4f on %d leads; no model was active", rep.New.AUC, len(testRows))
	if v, body, err := db.ActiveModelBody(ctx); err == nil {
		old := &model.Model{}
		if err := old.UnmarshalJSON(body); err != nil {
			return nil, fmt.Errorf("active model v%d: %w", v, err)
		}
		om := predict(old)
		rep.Active, rep.ActiveVersion = &om, v
		activate = rep.New.AUC >= om.AUC || force
		rel := ">="
		if rep.New.AUC < om.AUC {
			rel = "<"
		}
		rep.Why = fmt.Sprintf("held-out AUC %.4f %s active v%d's %.4f on the same %d leads", rep.New.AUC, rel, v, om.AUC, len(testRows))
		if !activate {
			rep.Why += ": kept inactive"
		} else if force && rel == "<" {
			rep.Why += ": activated because forced"
		}
	} else if baton.ErrorCode(err) != baton.ENOTFOUND {
		return nil, err
	}
	body, err := m.MarshalJSON()
	if err != nil {
		return nil, err
	}
	metrics, _ := json.Marshal(map[string]any{"auc": rep.New.AUC, "log_loss": rep.New.LogLoss, "brier": rep.New.Brier,
		"precision_top10": rep.New.PrecisionTop10, "lift_top10": rep.New.LiftTop10, "holdout": len(testRows), "train_seconds": rep.Seconds,
		"split": "time", "holdout_from": rep.HoldoutFrom, "holdout_to": rep.HoldoutTo, "features": rep.Features})
	info := &baton.ModelInfo{Rows: rep.Rows, Positives: rep.Positives, WindowFrom: from, WindowTo: to, Metrics: metrics, Note: rep.Why}
	if err := db.SaveModel(ctx, info, body); err != nil {
		return nil, err
	}
	rep.Version = info.Version
	if activate {
		if err := db.ActivateModel(ctx, info.Version); err != nil {
			return nil, err
		}
		rep.Activated = true
	}
	return rep, nil
}

func countTrue(ys []bool) int {
	n := 0
	for _, y := range ys {
		if y {
			n++
		}
	}
	return n
}
