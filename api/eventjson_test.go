package api

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// FuzzFastEvents checks fastEvents against encoding/json: whenever the fast
// decoder accepts a body, encoding/json accepts it too and gives the same
// events.
func FuzzFastEvents(f *testing.F) {
	for _, s := range []string{
		`[]`, ` [ ] `, `[{}]`,
		`[{"id":"a","lead_id":7,"type":"page_view","occurred_at":"2025-01-01T10:00:00Z","properties":{"a":[1,2.5e-3,true,null,"x\"y\u00e9"]}}]`,
		`[{"id":"b","email":"X@Y.test","external_id":"é","type":"t","occurred_at":"2025-01-01T10:00:00.123456+02:00"},{"id":"c","lead_id":-0}]`,
		`[{"id":"a","id":"b","properties":1,"properties":{}}]`, `[{"lead_id":1.5}]`, `[{"lead_id":01}]`, `[{"lead_id":1e3}]`,
		`[{"ID":"a"}]`, `[{"id":"a\n"}]`, `[{"id":null}]`, `[null]`, `[{"properties":nul}]`, `[{"properties":[1,]}]`,
		`[{"occurred_at":"2025-13-01T00:00:00Z"}]`, `[{"occurred_at":"2025-01-01 00:00:00Z"}]`, `[{"properties":-}]`,
		`[{"properties":{"a":"\ud800"}}] x`, "[{\"id\":\"\xff\"}]", "[{\"properties\":\"\xff\"}]", `[{"lead_id":9223372036854775808}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := fastEvents(body)
		if !ok {
			return
		}
		slow, err := arrayEvents(body)
		if err != nil {
			t.Fatalf("fastEvents accepts %q, encoding/json says %v", body, err)
		}
		if len(fast) != len(slow) {
			t.Fatalf("%q: %d events, encoding/json %d", body, len(fast), len(slow))
		}
		for i := range fast {
			a, b := fast[i], slow[i]
			if !a.OccurredAt.Equal(b.OccurredAt) || a.OccurredAt.Location().String() != b.OccurredAt.Location().String() ||
				!bytes.Equal(a.Properties, b.Properties) || (a.Properties == nil) != (b.Properties == nil) {
				t.Fatalf("%q: event %d: %+v, encoding/json %+v", body, i, a, b)
			}
			a.OccurredAt, b.OccurredAt, a.Properties, b.Properties = time.Time{}, time.Time{}, nil, nil
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("%q: event %d: %+v, encoding/json %+v", body, i, a, b)
			}
		}
	})
}

// TestFastEventsTakesTheBatch checks that the benchmark's kind of batch
// takes the fast path.
func TestFastEventsTakesTheBatch(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("[\n")
	for i := range 3 {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `  {"id": "e%d", "external_id": "ext-%d", "type": "pricing_page_view", "occurred_at": "2025-03-01T09:00:00Z", "properties": {"path": "/pricing", "seconds": %d}}`, i, i, i)
	}
	b.WriteString("\n]\n")
	events, ok := fastEvents(b.Bytes())
	if !ok || len(events) != 3 || events[2].ExternalID != "ext-2" || string(events[1].Properties) != `{"path": "/pricing", "seconds": 1}` {
		t.Fatalf("%v %+v", ok, events)
	}
	if _, ok := fastEvents([]byte("[" + string(bytes.Repeat([]byte(`{},`), baton.MaxEventBatch)) + "{}]")); ok {
		t.Errorf("fastEvents takes more than %d events", baton.MaxEventBatch)
	}
}
