package model

import (
	"os"
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

func TestCrossValidatedAUC(t *testing.T) {
	rows, labels := loadXEducation(t)
	m, err := CrossValidate(rows, labels, DefaultConfig(), 5)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("5-fold CV: %+v", m)
	if m.AUC < 0.90 {
		t.Errorf("5-fold CV AUC = %.4f, want >= 0.90", m.AUC)
	}
}
