package main

import (
	"context"
	"fmt"
	"io"

	"github.com/batonhq/baton/model"
)

func cmdModel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	switch {
	case len(args) > 0 && args[0] == "eval":
		return model.RunEval(args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "train":
		return cmdModelTrain(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("usage: baton model eval --train TRAIN.csv [--test TEST.csv | --cv K] [--json] | baton model train [--holdout 0.2]")
}
