package store_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// TestBreachNeverBouncesBack: with on_breach reassign and a window of two
// minutes, two reps who never answer do not pass a lead back and forth: it
// goes from the first to the second, then, with nobody left who has not
// breached it, to their manager, once, with one escalation; when the
// manager breaches too, it waits unassigned in the pool.
func TestBreachNeverBouncesBack(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		w := newHandoffWorld(t, open)
		// One pool: no other route takes the lead when EMEA is exhausted.
		pol := strings.Replace(handoffPolicy, "within: 4h\n    remind_at: 0.75", "within: 2m\n    remind_at: 0.5", 1)
		pol = strings.Replace(pol, "      - name: Rest of world\n        pool: East\n", "", 1)
		if _, err := w.db.PublishDocument(storetest.System(), pol); err != nil {
			t.Fatal(err)
		}
		l := w.mql(t, "pingpong@de.example", "Germany")
		// 25 minutes of nobody answering, a minute at a time.
		for range 25 {
			w.clock.Advance(time.Minute)
			w.runJobs(t)
		}
		var owners []string
		names := map[int64]string{w.emea1.ID: "emea1", w.emea2.ID: "emea2", w.emeaMgr.ID: "manager"}
		breached := 0
		for _, h := range w.handoffs(t, l.ID) {
			owners = append(owners, names[h.OwnerID])
			if h.BreachedAt != nil {
				breached++
			}
		}
		if got := strings.Join(owners, ","); got != "emea1,emea2,manager" && got != "emea2,emea1,manager" {
			t.Fatalf("owners of the lead's handoffs: %s", got)
		}
		if breached != 3 {
			t.Fatalf("%d breaches, want 3", breached)
		}
		if got := notifications(t, w.db, w.emeaMgr, "escalated"); len(got) != 1 {
			t.Fatalf("%d escalations, want one", len(got))
		}
		got, _ := w.db.FindLeadByID(storetest.System(), l.ID)
		if got.OwnerID != nil || got.Stage != baton.StageMQL {
			t.Fatalf("after every breach: %+v", got)
		}
	})
}

// TestRoundRobinPerPoolWithWeights: turns are counted per pool, so two
// routes into one pool share its order; a rep of weight 2 gets two leads for
// every one of the other.
func TestRoundRobinPerPoolWithWeights(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		w := newHandoffWorld(t, open)
		pol := strings.Replace(handoffPolicy, `      - name: EMEA
        when:
          - {field: country, in: [Germany, France]}
        pool: EMEA`, `      - name: Germany
        when:
          - {field: country, equals: Germany}
        pool: EMEA
      - name: France
        when:
          - {field: country, equals: France}
        pool: EMEA`, 1)
		if _, err := w.db.PublishDocument(storetest.System(), pol); err != nil {
			t.Fatal(err)
		}
		seq := 0
		count := func(n int, countries ...string) map[int64]int {
			got := map[int64]int{}
			for i := range n {
				seq++
				l := w.mql(t, fmt.Sprintf("rr%d@x.example", seq), countries[i%len(countries)])
				got[*l.OwnerID]++
			}
			return got
		}
		// Two leads by two routes into EMEA: one each (turns counted per
		// route would give both to the first rep).
		if got := count(2, "Germany", "France"); got[w.emea1.ID] != 1 || got[w.emea2.ID] != 1 {
			t.Fatalf("two leads by two routes: %v", got)
		}
		weighted := strings.Replace(pol, "        pool: EMEA\n      - name: France", "        pool: EMEA\n        weights: {ella.emea@example.com: 2}\n      - name: France", 1)
		if _, err := w.db.PublishDocument(storetest.System(), weighted); err != nil {
			t.Fatal(err)
		}
		if got := count(9, "Germany"); got[w.emea1.ID] != 3 || got[w.emea2.ID] != 6 {
			t.Fatalf("nine leads with Ella at weight 2: Emil %d, Ella %d", got[w.emea1.ID], got[w.emea2.ID])
		}
	})
}
