package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/deliver"
	"github.com/batonhq/baton/notify"
)

// TestWebhookPayloads delivers the webhooks of a handoff (assigned,
// accepted, converted, won, rejected) to a receiver and checks every body
// against the document's webhooks: its schema, and its event.
func TestWebhookPayloads(t *testing.T) {
	f := newFixture(t)
	d := servedDoc(t, f)
	type delivery struct {
		event string
		body  []byte
	}
	var (
		mu  sync.Mutex
		got []delivery
	)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, delivery{r.Header.Get("Baton-Event"), b})
		mu.Unlock()
	}))
	t.Cleanup(rc.Close)
	ctx := context.Background()
	if err := f.db.SetWebhookAllowPrivate(ctx, true); err != nil {
		t.Fatal(err)
	}
	if err := f.db.CreateWebhook(f.as(admin), &baton.Webhook{URL: rc.URL, Events: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	populate(t, f, d)
	dl := &deliver.Deliverer{Outbox: f.db, Webhook: &notify.Sender{Timeout: 5 * time.Second}, AllowPrivate: true, Name: "test"}
	for {
		n, err := dl.Once(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	hooks := d.raw["webhooks"].(map[string]any)
	events := map[string]bool{}
	for _, dv := range got {
		hook, ok := hooks[dv.event].(map[string]any)
		if !ok {
			t.Errorf("event %s is not among the document's webhooks", dv.event)
			continue
		}
		body := hook["post"].(map[string]any)["requestBody"].(map[string]any)
		schema := body["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)
		var v any
		if err := json.Unmarshal(dv.body, &v); err != nil {
			t.Fatalf("%s: %v", dv.event, err)
		}
		for _, p := range d.check(v, schema) {
			t.Errorf("%s: %s", dv.event, p)
		}
		if e := v.(map[string]any)["event"]; e != dv.event {
			t.Errorf("the body of a %s delivery says event %v", dv.event, e)
		}
		events[dv.event] = true
	}
	for _, e := range []string{"lead.assigned", "lead.accepted", "lead.converted", "lead.won", "lead.rejected"} {
		if !events[e] {
			t.Errorf("no %s delivered (got %v)", e, events)
		}
	}
}
