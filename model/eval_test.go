package model

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// splitFile writes every fourth data line of the X Education file to a
// test CSV and the rest to a train CSV in dir.
func splitFile(t *testing.T, dir string) (train, test string) {
	t.Helper()
	data, err := os.ReadFile(trainPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	var tr, te strings.Builder
	tr.WriteString(lines[0])
	te.WriteString(lines[0])
	for i, l := range lines[1:] {
		if l == "" {
			continue
		}
		if i%4 == 0 {
			te.WriteString(l)
		} else {
			tr.WriteString(l)
		}
	}
	train, test = filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv")
	if err := os.WriteFile(train, []byte(tr.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(test, []byte(te.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return train, test
}

func TestRunEvalJSON(t *testing.T) {
	train, test := splitFile(t, t.TempDir())
	var out, errOut bytes.Buffer
	if err := RunEval([]string{"--train", train, "--test", test, "--json"}, &out, &errOut); err != nil {
		t.Fatalf("RunEval: %v (stderr %q)", err, errOut.String())
	}
	var got map[string]any
	dec := json.NewDecoder(&out)
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	if dec.More() {
		t.Errorf("more than one JSON value printed")
	}
	for _, k := range []string{"auc", "log_loss", "brier", "precision_top10", "lift_top10", "train_seconds", "predict_seconds"} {
		v, ok := got[k].(float64)
		if !ok {
			t.Errorf("key %q missing or not a number in %v", k, got)
			continue
		}
		if v < 0 {
			t.Errorf("%s = %v < 0", k, v)
		}
	}
	if auc := got["auc"].(float64); auc < 0.85 || auc > 1 {
		t.Errorf("auc = %v, implausible", auc)
	}
	base, ok := got["baseline"].(map[string]any)
	if !ok || base["auc"] == nil {
		t.Errorf("baseline missing: %v", got)
	}
	if n, _ := got["n"].(float64); n < 1500 || n > 1700 {
		t.Errorf("n = %v, want the test-file size", got["n"])
	}
}

func TestRunEvalCV(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := RunEval([]string{"--train", trainPath, "--cv", "5"}, &out, &errOut); err != nil {
		t.Fatalf("RunEval: %v (stderr %q)", err, errOut.String())
	}
	s := out.String()
	t.Log("\n" + s)
	for _, want := range []string{"5-fold", "ROC AUC", "log loss", "Brier", "precision@top10%", "lift@top10%", "train s", "predict s", "naive Bayes"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}

func TestRunEvalErrors(t *testing.T) {
	dir := t.TempDir()
	noPos := filepath.Join(dir, "nopos.csv")
	os.WriteFile(noPos, []byte("a,Converted\nx,0\ny,0\nz,0\n"), 0o644)
	noTarget := filepath.Join(dir, "notarget.csv")
	os.WriteFile(noTarget, []byte("a,b\nx,0\n"), 0o644)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no train", []string{"--cv", "5"}, "--train is required"},
		{"missing file", []string{"--train", filepath.Join(dir, "nope.csv")}, "nope.csv"},
		{"missing target", []string{"--train", noTarget}, `target column "Converted" not found`},
		{"other target missing", []string{"--train", noPos, "--target", "Outcome"}, `target column "Outcome" not found`},
		{"no positives", []string{"--train", noPos, "--cv", "2"}, "no positive labels"},
		{"no positives in test", []string{"--train", trainPath, "--test", noPos}, "no positive labels"},
		{"both modes", []string{"--train", trainPath, "--test", noPos, "--cv", "3"}, "either --test or --cv"},
		{"bad cv", []string{"--train", trainPath, "--cv", "1"}, "at least 2"},
		{"bad flag", []string{"--bogus"}, "bogus"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := RunEval(c.args, &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("RunEval(%q) error = %v, want one containing %q", c.args, err, c.want)
			}
		})
	}
}
