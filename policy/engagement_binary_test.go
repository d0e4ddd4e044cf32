package policy

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// TestEngagementBinary: a state built from events reads back from its
// binary form as the same state, keeps scoring as the original does when
// more events come, begins with its policy's key prefix, and every shorter
// cut of it is an error.
func TestEngagementBinary(t *testing.T) {
	p := mustParse(t, engDoc)
	r := rand.New(rand.NewPCG(1, 2))
	types := []string{"demo_request", "unsubscribe", "webinar_attended", "page_view", "form_submit"}
	props := []string{"", `{"url":"/pricing"}`, `{"utm":{"source":"LinkedIn"},"plan":3}`}
	for n := range 20 {
		st := p.NewEngagement()
		for i := range n * 3 {
			at := t0.Add(time.Duration(r.Int64N(int64(60 * Day))))
			p.Apply(st, ev(string(rune('a'+i)), types[r.IntN(len(types))], at, props[r.IntN(len(props))]))
		}
		b, err := st.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, p.keyPrefix) {
			t.Fatalf("state of %d events does not begin with the policy's key prefix", n*3)
		}
		var back Engagement
		if err := back.UnmarshalBinary(b); err != nil {
			t.Fatalf("state of %d events: %v", n*3, err)
		}
		if !reflect.DeepEqual(&back, st) {
			t.Fatalf("state of %d events read back as\n%+v, want\n%+v", n*3, back, *st)
		}
		more := ev("z", "page_view", t0.Add(61*Day), `{"url":"/pricing"}`)
		p.Apply(st, more)
		p.Apply(&back, more)
		now := t0.Add(70 * Day)
		if a, _ := p.Engagement(st, now); a != func() float64 { c, _ := p.Engagement(&back, now); return c }() {
			t.Errorf("state of %d events scores differently after its binary round trip", n*3)
		}
		for i := range len(b) {
			if err := new(Engagement).UnmarshalBinary(b[:i]); err == nil {
				t.Fatalf("state of %d events cut to %d of %d bytes read", n*3, i, len(b))
			}
		}
		if err := new(Engagement).UnmarshalBinary(append(b, 0)); err == nil {
			t.Errorf("state of %d events with a byte more read", n*3)
		}
	}
}

// FuzzEngagementBinary: any bytes either fail to read or read as a state
// whose binary form reads back as the same state.
func FuzzEngagementBinary(f *testing.F) {
	p := mustParse(f, engDoc)
	st := p.NewEngagement()
	p.Apply(st, ev("1", "demo_request", t0, ""))
	p.Apply(st, ev("2", "page_view", t0.Add(Day), `{"url":"/pricing"}`))
	b, _ := st.MarshalBinary()
	f.Add(b)
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var e Engagement
		if err := e.UnmarshalBinary(data); err != nil {
			return
		}
		again, err := e.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var back Engagement
		if err := back.UnmarshalBinary(again); err != nil || !reflect.DeepEqual(&back, &e) {
			t.Fatalf("%x read as %+v, written as %x, read back as %+v (%v)", data, e, again, back, err)
		}
	})
}
