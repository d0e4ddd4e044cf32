package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/model"
)

// TrainModel trains a model on the leads with known outcomes, holding out a
// stratified, seeded share of them; stores it with its metrics and training
// window; and activates it only when its AUC on the held-out leads is not
// below the active model's on the same leads (or force is set).
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
	// Stratified split: shuffle each class with the seed and hold out its share.
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var pos, neg []int
	from, to := examples[0].CreatedAt, examples[0].CreatedAt
	for i, e := range examples {
		if e.Converted {
			pos = append(pos, i)
		} else {
			neg = append(neg, i)
		}
		if e.CreatedAt.Before(from) {
			from = e.CreatedAt
		}
		if e.CreatedAt.After(to) {
			to = e.CreatedAt
		}
	}
	var trainRows, testRows []model.Row
	var trainY, testY []bool
	for _, class := range [][]int{pos, neg} {
		rng.Shuffle(len(class), func(i, j int) { class[i], class[j] = class[j], class[i] })
		cut := int(float64(len(class)) * holdout)
		for k, i := range class {
			if k < cut {
				testRows, testY = append(testRows, examples[i].Row), append(testY, examples[i].Converted)
			} else {
				trainRows, trainY = append(trainRows, examples[i].Row), append(trainY, examples[i].Converted)
			}
		}
	}
	cfg := model.DefaultConfig()
	cfg.Exclude = append(cfg.Exclude, OutcomeAttribute)
	cfg.Seed = int64(seed)
	start := time.Now()
	m, err := model.Train(trainRows, trainY, cfg)
	if err != nil {
		return nil, baton.Errorf(baton.EINVALID, "training failed: %v", err)
	}
	rep := &baton.TrainReport{Rows: len(trainRows), Positives: countTrue(trainY), Holdout: len(testRows), Seconds: time.Since(start).Seconds()}
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
		"precision_top10": rep.New.PrecisionTop10, "lift_top10": rep.New.LiftTop10, "holdout": len(testRows), "train_seconds": rep.Seconds})
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
