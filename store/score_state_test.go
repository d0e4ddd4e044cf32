package store

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/batonhq/baton/policy"
)

// TestScoreStateCodec: states are read and written with a faster JSON
// library than encoding/json; the stored text must read back the same either
// way, so that states written by earlier versions (encoding/json) still read
// and anything can read the stored ones.
func TestScoreStateCodec(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 30, 15, 123456000, time.UTC)
	for _, st := range []*scoreState{
		{},
		{Counted: true, Counts: map[string]int{"page_view": 3, "webinar_attended": 1}},
		{Counted: true, Engagement: &policy.Engagement{Key: "abc", AsOf: at,
			Rules: map[string]*policy.RuleState{
				"Pricing": {Sum: 37.5, Events: 2, Last: at, Windows: []policy.CapWindow{{Start: at.Add(-time.Hour), Points: 10}}},
				"Unsub":   {Sum: -30, Events: 1, Last: at.Add(-48 * time.Hour)},
			},
			FastTrack: []policy.FastTrackHit{{Event: "demo_request", At: at, EventID: "e1"}}},
			Counts: map[string]int{"demo_request": 1}},
	} {
		old, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseState(old)
		if err != nil || !reflect.DeepEqual(got, st) {
			t.Errorf("state written by encoding/json %s read back as %+v (%v)", old, got, err)
		}
		var back scoreState
		if err := json.Unmarshal([]byte(st.json()), &back); err != nil || !reflect.DeepEqual(&back, st) {
			t.Errorf("state %s read by encoding/json as %+v (%v)", st.json(), back, err)
		}
	}
	// A state as earlier versions wrote it, with the policy version in the
	// engagement, reads the same without it.
	old := `{"engagement":{"policy_version":3,"key":"k","as_of":"2026-03-01T09:30:15Z","rules":{"W":{"sum":10,"events":2,"last":"2026-03-01T09:30:15Z"}}},"counts":{"x":1},"counted":true}`
	want := &scoreState{Counted: true, Counts: map[string]int{"x": 1}, Engagement: &policy.Engagement{Key: "k", AsOf: at.Truncate(time.Second),
		Rules: map[string]*policy.RuleState{"W": {Sum: 10, Events: 2, Last: at.Truncate(time.Second)}}}}
	if got, err := parseState([]byte(old)); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("an earlier state %s read as %+v (%v)", old, got, err)
	}
	if _, err := parseState([]byte(`{"counts": {"x": "many"}}`)); err == nil {
		t.Error("a malformed state parsed")
	}
}

// TestParseStateForScorer: a state whose engagement the policy in force
// built is read whole; one built by another policy is read without it (it is
// replayed), its counts kept.
func TestParseStateForScorer(t *testing.T) {
	p, err := policy.Parse([]byte("name: t\nengagement:\n  half_life: 10d\n  rules:\n    - {name: W, event: webinar_attended, points: 5}\nmql: {engagement: 5}\n"))
	if err != nil {
		t.Fatal(err)
	}
	sc := &scorer{policy: p, keyField: []byte(`"key":"` + p.EngagementKey() + `"`)}
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		key   string
		fresh bool
	}{{p.EngagementKey(), true}, {"0123456789abcdef01234567", false}} {
		st := &scoreState{Counted: true, Counts: map[string]int{"webinar_attended": 2},
			Engagement: &policy.Engagement{Key: c.key, AsOf: at, Rules: map[string]*policy.RuleState{"W": {Sum: 10, Events: 2, Last: at}}}}
		got, err := sc.parseState([]byte(st.json()))
		if err != nil {
			t.Fatal(err)
		}
		want := *st
		if !c.fresh {
			want.Engagement = nil
		}
		if !reflect.DeepEqual(got, &want) || sc.fresh(got) != c.fresh {
			t.Errorf("key %s: parsed %+v (fresh %v), want %+v", c.key, got, sc.fresh(got), want)
		}
	}
}
