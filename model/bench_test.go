package model

import "testing"

// BenchmarkTrain trains on the full X Education file (6,421 leads).
func BenchmarkTrain(b *testing.B) {
	rows, labels := loadXEducation(b)
	cfg := DefaultConfig()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Train(rows, labels, cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(rows)), "leads/op")
}

// BenchmarkPredict scores the file's leads one at a time on one goroutine
// and reports throughput in leads/s.
func BenchmarkPredict(b *testing.B) {
	rows, labels := loadXEducation(b)
	m, err := Train(rows, labels, DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	n := 0
	var sink float64
	for b.Loop() {
		sink += m.Predict(rows[n%len(rows)])
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "leads/s")
	_ = sink
}

// BenchmarkExplain measures Explain throughput.
func BenchmarkExplain(b *testing.B) {
	rows, labels := loadXEducation(b)
	m, err := Train(rows, labels, DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	n := 0
	for b.Loop() {
		_ = m.Explain(rows[n%len(rows)])
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "leads/s")
}
