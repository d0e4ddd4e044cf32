package policy

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

func FuzzParse(f *testing.F) {
	f.Add(defaultYAML)
	if b, err := os.ReadFile("testdata/example.yaml"); err == nil {
		f.Add(b)
	}
	for _, s := range []string{
		"", "name: x", "name: t\n" + okFit + "mql: {fit: 10}\n", mqlDoc, engDoc,
		"name: t\nfit: [{name: a, field: attributes.x, range: {min: 1, max: 0}, points: .nan}]\nmql: {}",
		"&a [*a]", "a: &a {b: *a}", "!!binary x", "---\na: 1\n---\nb: 2\n", "name: [\n", "grades: {fit: {A: 1}}",
		"engagement: {half_life: 9999999999w, rules: [{name: a, event: b, points: 1, cap: {points: 1, per: 1ns}}]}",
		"fit:\n  - {name: a, field: attributes., equals: }\n", "mql: {fast_track: [{event: x, where: {a.b: {in: []}}}]}",
	} {
		f.Add([]byte(s))
	}
	lead := &baton.Lead{Email: "a@b.io", Title: "VP", Attrs: baton.Attrs{"x": 1.0, "City": "Pune", "Do Not Email": true}}
	f.Fuzz(func(t *testing.T, data []byte) {
		wd := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("FuzzParse: no result after 10s for %q", data)) })
		defer wd.Stop()
		p, err := Parse(data)
		if err != nil {
			if p != nil {
				t.Fatal("policy and error")
			}
			if _, ok := err.(*ValidationError); !ok {
				t.Fatalf("error %T", err)
			}
			return
		}
		_ = p.Validate(testSchema)
		_ = p.Validate(Schema{})
		s := Subject{Lead: lead}
		st := p.Replay([]*baton.Event{
			{ID: "1", Type: "demo_request", OccurredAt: t0},
			{ID: "2", Type: "page_view", OccurredAt: t0.Add(time.Hour), Properties: []byte(`{"url":"/pricing","a":{"b":1}}`)},
		})
		p.Score(s, st, t0.Add(Day))
	})
}
