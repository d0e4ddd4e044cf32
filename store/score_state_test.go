package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	fastjson "github.com/goccy/go-json"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
)

// TestScoreStateCodec: states are stored in a binary form and read back the
// same; states that earlier versions stored as JSON (encoding/json) still
// read; a damaged state is an error, never a panic or a different state.
func TestScoreStateCodec(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 30, 15, 123456789, time.UTC)
	for _, st := range []*scoreState{
		{},
		{Counted: true, Counts: map[string]int{"page_view": 3, "webinar_attended": 1}},
		{Engagement: &policy.Engagement{Key: "k"}},
		{Counted: true, Engagement: &policy.Engagement{Key: "abc", AsOf: at,
			Rules: map[string]*policy.RuleState{
				"Pricing": {Sum: 37.5, Events: 2, Last: at, Windows: []policy.CapWindow{{Start: at.Add(-time.Hour), Points: 10}}},
				"Unsub":   {Sum: -30, Events: 1, Last: at.Add(-48 * time.Hour)},
				"Never":   {},
			},
			FastTrack: []policy.FastTrackHit{{Event: "demo_request", At: at, EventID: "e1"}, {Event: "trial", At: at.Add(time.Nanosecond)}}},
			Counts: map[string]int{"demo_request": 1}},
	} {
		coded := st.encode()
		if got, err := parseState(coded); err != nil || !reflect.DeepEqual(got, st) {
			t.Errorf("state %+v read back as %+v (%v)", st, got, err)
		}
		if again := st.encode(); !bytes.Equal(again, coded) {
			t.Errorf("state %+v encoded twice differs: % x, % x", st, coded, again)
		}
		old, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := parseState(old); err != nil || !reflect.DeepEqual(got, st) {
			t.Errorf("state written by encoding/json %s read back as %+v (%v)", old, got, err)
		}
		// Every cut of a state, and every byte of it changed, reads as an
		// error or as some state, but never panics.
		for i := range coded {
			if _, err := parseState(coded[:i+1]); err == nil && i+1 < len(coded) && len(coded[:i+1]) > 2 {
				t.Errorf("state %+v cut to %d of %d bytes parsed", st, i+1, len(coded))
			}
			damaged := bytes.Clone(coded)
			damaged[i] ^= 0xff
			parseState(damaged)
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
	for _, bad := range []string{`{"counts": {"x": "many"}}`, "\x02\x00\x00", "\x01\x00\x00junk"} {
		if _, err := parseState([]byte(bad)); err == nil {
			t.Errorf("a malformed state %q parsed", bad)
		}
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
	sc := &scorer{policy: p}
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		key   string
		fresh bool
	}{{p.EngagementKey(), true}, {"0123456789abcdef01234567", false}} {
		st := &scoreState{Counted: true, Counts: map[string]int{"webinar_attended": 2},
			Engagement: &policy.Engagement{Key: c.key, AsOf: at, Rules: map[string]*policy.RuleState{"W": {Sum: 10, Events: 2, Last: at}}}}
		want := *st
		if !c.fresh {
			want.Engagement = nil
		}
		old, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		for form, stored := range map[string][]byte{"binary": st.encode(), "JSON": old} {
			got, err := sc.parseState(stored)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, &want) || sc.fresh(got) != c.fresh {
				t.Errorf("key %s, %s: parsed %+v (fresh %v), want %+v", c.key, form, got, sc.fresh(got), want)
			}
		}
	}
}

// BenchmarkScoreState reads and writes back the state of a lead that the
// default policy scored after 40 events, as every event of a lead does in
// the write transaction: in the binary form stored now, and in the JSON
// that earlier versions stored (with the faster JSON library they used).
func BenchmarkScoreState(b *testing.B) {
	p := policy.Default()
	sc := &scorer{policy: p}
	types := []string{"page_view", "page_view", "email_open", "email_click", "form_submit", "chat_conversation",
		"demo_request", "unsubscribe", "email_bounced"}
	var events []*baton.Event
	at := time.Date(2026, 11, 25, 11, 16, 42, 820760805, time.UTC)
	for i := range 40 {
		events = append(events, &baton.Event{ID: fmt.Sprint("ev-", i), Type: types[i%len(types)],
			OccurredAt: at.Add(-time.Duration(i*i) * time.Hour), Properties: json.RawMessage(`{"url":"https://example.com/pricing"}`)})
	}
	st := &scoreState{Engagement: p.Replay(events)}
	b.Run("binary", func(b *testing.B) {
		stored := st.encode()
		for b.Loop() {
			got, err := sc.parseState(stored)
			if err != nil || got.Engagement == nil {
				b.Fatal(err)
			}
			stored = got.encode()
		}
		b.ReportMetric(float64(len(stored)), "stored-bytes")
	})
	b.Run("json", func(b *testing.B) {
		stored, err := fastjson.Marshal(st)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			var got scoreState
			if err := fastjson.Unmarshal(stored, &got); err != nil {
				b.Fatal(err)
			}
			if stored, err = fastjson.Marshal(&got); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(stored)), "stored-bytes")
	})
}
