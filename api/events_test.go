package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

type eventResult struct {
	Created    int              `json:"created"`
	Duplicates int              `json:"duplicates"`
	Rejected   int              `json:"rejected"`
	Errors     []baton.RowError `json:"errors"`
}

func (f *fixture) postEvents(t *testing.T, body string) eventResult {
	t.Helper()
	st, b := f.do(marketing, "POST", "/api/v1/events", body)
	if st != 200 {
		t.Fatalf("POST /api/v1/events: %d %s", st, b)
	}
	var r eventResult
	decodeJSON(t, b, &r)
	if r.Errors == nil {
		t.Errorf("errors is not an array: %s", b)
	}
	return r
}

func TestEvents(t *testing.T) {
	f := newFixture(t)
	l := f.lead(sdrA, baton.StageMQL)
	ext := &baton.Lead{ExternalID: "crm-42", Name: "Ext"}
	if err := f.db.CreateLead(sys(), ext); err != nil {
		t.Fatal(err)
	}
	at := "2025-02-01T10:00:00Z"
	ev := func(id, lead string) string {
		return fmt.Sprintf(`{"id":%q,%s,"type":"page_view","occurred_at":%q,"properties":{"path":"/"}}`, id, lead, at)
	}
	byID := fmt.Sprintf(`"lead_id":%d`, l.ID)
	byEmail := fmt.Sprintf(`"email":%q`, strings.ToUpper(l.Email))
	byExt := `"external_id":"crm-42"`

	t.Run("single object", func(t *testing.T) {
		r := f.postEvents(t, ev("one", byID))
		if r.Created != 1 || r.Rejected != 0 {
			t.Errorf("%+v", r)
		}
	})
	t.Run("duplicate id sent twice", func(t *testing.T) {
		body := "[" + ev("dup", byID) + "]"
		if r := f.postEvents(t, body); r.Created != 1 || r.Duplicates != 0 {
			t.Errorf("first: %+v", r)
		}
		if r := f.postEvents(t, body); r.Created != 0 || r.Duplicates != 1 {
			t.Errorf("resend: %+v", r)
		}
		events, _, err := f.db.FindEvents(sys(), baton.EventFilter{LeadID: &l.ID})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range events {
			if e.ID == "dup" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("event dup stored %d times", n)
		}
	})
	t.Run("lead by id, email and external id", func(t *testing.T) {
		r := f.postEvents(t, "["+ev("k1", byID)+","+ev("k2", byEmail)+",\n"+ev("k3", byExt)+"]")
		if r.Created != 3 || r.Rejected != 0 {
			t.Errorf("%+v", r)
		}
		st, b := f.do(admin, "GET", fmt.Sprintf("/api/v1/events?lead_id=%d&type=page_view", ext.ID), "")
		var list struct {
			Items []baton.Event `json:"items"`
			Total int           `json:"total"`
		}
		decodeJSON(t, b, &list)
		if st != 200 || list.Total != 1 || list.Items[0].ID != "k3" || string(list.Items[0].Properties) != `{"path":"/"}` {
			t.Errorf("events of %d: %d %s", ext.ID, st, b)
		}
	})
	t.Run("unknown lead reported by index", func(t *testing.T) {
		r := f.postEvents(t, "["+ev("g1", byID)+","+ev("b1", `"email":"nobody@nowhere.test"`)+","+ev("g2", byExt)+","+
			ev("b2", `"lead_id":987654`)+","+`{"id":"b3","lead_id":1,"type":"Bad Type","occurred_at":"`+at+`"}`+"]")
		if r.Created != 2 || r.Rejected != 3 || len(r.Errors) != 3 {
			t.Fatalf("%+v", r)
		}
		want := map[int]string{1: "email", 3: "lead_id", 4: "type"}
		for _, e := range r.Errors {
			if want[e.Row] != e.Column {
				t.Errorf("error %+v, want column %q at row %d", e, want[e.Row], e.Row)
			}
		}
	})
	t.Run("empty array", func(t *testing.T) {
		if r := f.postEvents(t, "[]"); r.Created != 0 || r.Rejected != 0 {
			t.Errorf("%+v", r)
		}
	})

	bad := []struct {
		name, body string
		status     int
		field, msg string
	}{
		{"unknown field by index", "[" + ev("u1", byID) + "," + ev("u2", byID) + "," + ev("u3", byID) + `,{"id":"u4","foo":1}]`, 400, "[3].foo", "unknown field"},
		{"unknown field single", `{"id":"x","foo":1}`, 400, "foo", "unknown field"},
		{"wrong type by index", `[{"id":"a","lead_id":"seven"}]`, 400, "[0].lead_id", "expected a number, got string"},
		{"bad time by index", `[` + ev("t1", byID) + `,{"id":"t2","lead_id":1,"type":"x","occurred_at":"soon"}]`, 400, "[1].occurred_at", "RFC 3339"},
		{"element not an object", `[` + ev("n1", byID) + `,7]`, 400, "[1]", "expected an object"},
		{"not an event", `"hello"`, 400, "", "event object or an array"},
		{"malformed array", `[` + ev("m1", byID) + `,`, 400, "", "malformed JSON"},
		{"trailing data", `[]]`, 400, "", "only one JSON value"},
		{"too many", tooMany(), 400, "", "at most 10000"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			st, b := f.do(marketing, "POST", "/api/v1/events", c.body)
			var e apiError
			decodeJSON(t, b, &e)
			if st != c.status || e.Error.Code != "invalid" || e.Error.Field != c.field || !strings.Contains(e.Error.Message, c.msg) {
				t.Errorf("%d %s; want %d field %q message containing %q", st, b, c.status, c.field, c.msg)
			}
		})
	}
}

// tooMany is an array of MaxEventBatch+1 events.
func tooMany() string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range baton.MaxEventBatch + 1 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"e%d","lead_id":1,"type":"page_view","occurred_at":"2025-01-01T00:00:00Z"}`, i)
	}
	b.WriteByte(']')
	return b.String()
}

// TestTimeline checks that the timeline has the lead's creation (with its
// source), its stage moves and its events, in time order.
func TestTimeline(t *testing.T) {
	f := newFixture(t)
	st, b := f.do(admin, "POST", "/api/v1/leads", `{"email":"tl@acme.test","name":"Tim","source":"webinar","owner_id":`+itoa(f.users[sdrA].ID)+`}`)
	if st != 201 {
		t.Fatalf("create: %d %s", st, b)
	}
	var l baton.Lead
	decodeJSON(t, b, &l)
	if st, b := f.do(marketing, "POST", "/api/v1/leads/"+itoa(l.ID)+"/transitions", `{"to":"mql","reason":"asked for a demo"}`); st != 200 {
		t.Fatalf("qualify: %d %s", st, b)
	}
	past := time.Now().Add(-time.Hour).UTC()
	events := fmt.Sprintf(`[{"id":"late","lead_id":%d,"type":"demo_request","occurred_at":%q},{"id":"early","lead_id":%d,"type":"page_view","occurred_at":%q}]`,
		l.ID, past.Add(30*time.Minute).Format(time.RFC3339Nano), l.ID, past.Format(time.RFC3339Nano))
	f.postEvents(t, events)
	if st, b := f.do(sdrA, "POST", "/api/v1/leads/"+itoa(l.ID)+"/transitions", `{"to":"sal","note":"called"}`); st != 200 {
		t.Fatalf("accept: %d %s", st, b)
	}
	st, b = f.do(sdrA, "GET", "/api/v1/leads/"+itoa(l.ID)+"/timeline", "")
	if st != 200 {
		t.Fatalf("timeline: %d %s", st, b)
	}
	var tl struct {
		Items []baton.TimelineItem `json:"items"`
	}
	decodeJSON(t, b, &tl)
	var got []string
	for i, it := range tl.Items {
		if i > 0 && it.At.Before(tl.Items[i-1].At) {
			t.Errorf("item %d at %s is before item %d", i, it.At, i-1)
		}
		switch {
		case it.Kind == "event" && it.Event != nil:
			got = append(got, "event "+it.Event.ID)
		case it.Kind == "history" && it.History != nil:
			got = append(got, string(it.History.Action)+" "+it.History.To)
			if it.History.Action == baton.ActionCreated && !strings.Contains(it.History.Note, "source webinar") {
				t.Errorf("created entry has no source: %+v", it.History)
			}
		default:
			t.Errorf("bad item %+v", it)
		}
	}
	// The lead was created now; its events happened an hour ago. Moving it
	// to mql hands it to its owner.
	want := "event early|event late|created new|stage mql|assigned " + itoa(f.users[sdrA].ID) + "|stage sal"
	if strings.Join(got, "|") != want {
		t.Errorf("timeline %q, want %q", strings.Join(got, "|"), want)
	}
	st, b = f.do(sdrA, "GET", "/api/v1/leads/"+itoa(l.ID)+"/history", "")
	var h struct {
		Items []baton.HistoryEntry `json:"items"`
		Total int                  `json:"total"`
	}
	decodeJSON(t, b, &h)
	if st != 200 || h.Total != 4 || h.Items[2].Action != "assigned" || h.Items[3].From != "mql" || h.Items[3].To != "sal" || h.Items[3].Note != "called" || h.Items[1].Reason != "asked for a demo" {
		t.Errorf("history: %d %s", st, b)
	}
}
