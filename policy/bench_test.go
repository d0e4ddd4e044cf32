package policy

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// benchSubjects are demo-like leads, half with an account.
func benchSubjects() []Subject {
	rng := rand.New(rand.NewPCG(3, 4))
	out := make([]Subject, 1024)
	for i := range out {
		out[i] = randomSubject(rng)
	}
	return out
}

// BenchmarkFit scores fit with the default policy (14 rules).
func BenchmarkFit(b *testing.B) {
	p := Default()
	subs := benchSubjects()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.Fit(subs[i&1023])
		i++
	}
}

// BenchmarkFitPoints is Fit without reasons.
func BenchmarkFitPoints(b *testing.B) {
	p := Default()
	subs := benchSubjects()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.FitPoints(subs[i&1023])
		i++
	}
}

// BenchmarkApply applies one event to a lead's state.
func BenchmarkApply(b *testing.B) {
	p := Default()
	rng := rand.New(rand.NewPCG(5, 6))
	events := randomEvents(rng, 1024)
	st := &Engagement{}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e := events[i&1023]
		e.OccurredAt = t0.Add(time.Duration(i) * time.Minute) // in order, as live
		p.Apply(st, e)
		i++
	}
}

// BenchmarkScore is a full score: fit, engagement of a state with several
// rules, grades, MQL and Why.
func BenchmarkScore(b *testing.B) {
	p := Default()
	p.Version = 3
	subs := benchSubjects()
	rng := rand.New(rand.NewPCG(8, 9))
	states := make([]*Engagement, 64)
	for i := range states {
		states[i] = p.Replay(randomEvents(rng, 20))
	}
	now := t0.Add(60 * Day)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.Score(subs[i&1023], states[i&63], now)
		i++
	}
}

// BenchmarkReplay rebuilds a state from 20 events.
func BenchmarkReplay(b *testing.B) {
	p := Default()
	events := randomEvents(rand.New(rand.NewPCG(1, 1)), 20)
	b.ReportAllocs()
	for b.Loop() {
		p.Replay(events)
	}
}

// BenchmarkScoreTo is Score reusing the reasons slice, as a batch rescoring does.
func BenchmarkScoreTo(b *testing.B) {
	p := Default()
	p.Version = 3
	subs := benchSubjects()
	rng := rand.New(rand.NewPCG(8, 9))
	states := make([]*Engagement, 64)
	for i := range states {
		states[i] = p.Replay(randomEvents(rng, 20))
	}
	now := t0.Add(60 * Day)
	var sc Score
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.ScoreTo(&sc, subs[i&1023], states[i&63], now)
		i++
	}
}

// BenchmarkScoreMillion scores 1,000,000 leads (fit, engagement, MQL) the
// way a rescoring job would, and reports the time per lead.
func BenchmarkScoreMillion(b *testing.B) {
	p := Default()
	subs := benchSubjects()
	rng := rand.New(rand.NewPCG(8, 9))
	states := make([]*Engagement, 64)
	for i := range states {
		states[i] = p.Replay(randomEvents(rng, 20))
	}
	now := t0.Add(60 * Day)
	var sc Score
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		for i := range 1_000_000 {
			p.ScoreTo(&sc, subs[i&1023], states[i&63], now)
		}
		b.ReportMetric(float64(time.Since(start).Nanoseconds())/1e6, "ns/lead")
	}
}

var _ = baton.EventPageView
