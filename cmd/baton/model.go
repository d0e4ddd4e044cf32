package main

import (
	"context"
	"fmt"
	"io"

	"github.com/batonhq/baton/model"
)

func cmdModel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "eval" {
		return fmt.Errorf("usage: baton model eval --train TRAIN.csv [--test TEST.csv | --cv K] [--json]")
	}
	return model.RunEval(args[1:], stdout, stderr)
}
