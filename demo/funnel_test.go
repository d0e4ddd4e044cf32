package demo_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// funnelTargets are the demo's proportions, each with the band it must fall
// in (README: "The demo"). They are what a B2B sales floor that answers
// most MQLs looks like: about a quarter of leads become MQLs; sales accepts
// most and qualifies a good half of what it accepts; most SQLs become
// opportunities; a third of closed opportunities are won.
var funnelTargets = []struct {
	name, num, den string // the ratio's two counts
	min, max       float64
}{
	{"MQL rate (MQLs / leads)", `SELECT COUNT(DISTINCT lead_id) FROM lead_history WHERE action = 'stage' AND to_value = 'mql'`, `SELECT COUNT(*) FROM leads`, 0.15, 0.40},
	{"acceptance (SALs / MQLs)", `SELECT COUNT(DISTINCT lead_id) FROM lead_history WHERE action = 'stage' AND to_value = 'sal'`, `SELECT COUNT(DISTINCT lead_id) FROM lead_history WHERE action = 'stage' AND to_value = 'mql'`, 0.55, 0.85},
	{"qualification (SQLs / SALs)", `SELECT COUNT(DISTINCT lead_id) FROM lead_history WHERE action = 'stage' AND to_value = 'sql'`, `SELECT COUNT(DISTINCT lead_id) FROM lead_history WHERE action = 'stage' AND to_value = 'sal'`, 0.40, 0.75},
	{"conversion (opportunities / SQLs)", `SELECT COUNT(DISTINCT lead_id) FROM lead_history WHERE action = 'stage' AND to_value = 'opportunity'`, `SELECT COUNT(DISTINCT lead_id) FROM lead_history WHERE action = 'stage' AND to_value = 'sql'`, 0.65, 0.95},
	{"win rate (won / closed)", `SELECT COUNT(*) FROM leads WHERE stage = 'won'`, `SELECT COUNT(*) FROM leads WHERE stage IN ('won', 'lost')`, 0.20, 0.50},
	{"SLA met (in time / answered)", `SELECT COUNT(*) FROM handoffs WHERE met = 1`, `SELECT COUNT(*) FROM handoffs WHERE state <> 'open'`, 0.50, 0.90},
	{"recycled that came back", `SELECT COUNT(DISTINCT lead_id) FROM lead_history WHERE action = 'stage' AND from_value = 'recycled' AND to_value = 'mql'`, `SELECT COUNT(DISTINCT lead_id) FROM lead_history WHERE action = 'stage' AND to_value = 'recycled'`, 0.05, 0.40},
}

func checkFunnel(t *testing.T, db *store.DB, count func(string, ...any) int) {
	t.Helper()
	for _, f := range funnelTargets {
		num, den := count(f.num), count(f.den)
		r := float64(num) / float64(max(den, 1))
		t.Logf("%-34s %5d / %5d = %.3f (band %.2f-%.2f)", f.name, num, den, r, f.min, f.max)
		if r < f.min || r > f.max {
			t.Errorf("%s is %.3f, outside %.2f-%.2f", f.name, r, f.min, f.max)
		}
	}
	// Stages take from a day to weeks: the slow tenth takes well over the
	// median.
	for _, st := range []string{"sal", "sql", "opportunity"} {
		d := stageDurations(t, db, st)
		if len(d) < 50 {
			t.Errorf("only %d leads left %s", len(d), st)
			continue
		}
		med, p90 := d[len(d)/2], d[len(d)*9/10]
		t.Logf("time in %-12s median %6.1f h, p90 %6.1f h", st, med, p90)
		if p90 < 1.5*med {
			t.Errorf("time in %s: p90 %.1f h is not well above the median %.1f h", st, p90, med)
		}
	}
}

// stageDurations returns, sorted, the hours leads spent in a stage before
// their next move.
func stageDurations(t *testing.T, db *store.DB, stage string) []float64 {
	t.Helper()
	rows, err := db.SQL().Query(`SELECT h.at - (SELECT MAX(p.at) FROM lead_history p WHERE p.lead_id = h.lead_id AND p.action = 'stage' AND p.to_value = $1 AND p.at <= h.at)
		FROM lead_history h WHERE h.action = 'stage' AND h.from_value = $1`, stage)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []float64
	for rows.Next() {
		var micros int64
		if err := rows.Scan(&micros); err != nil {
			t.Fatal(err)
		}
		out = append(out, float64(micros)/3.6e9)
	}
	slices.Sort(out)
	return out
}

// checkPeople: demo leads are people with names, titles and work emails at
// the CRM data set's companies (or personal addresses, for students and
// people between jobs).
func checkPeople(t *testing.T, count func(string, ...any) int) {
	t.Helper()
	leads := count(`SELECT COUNT(*) FROM leads`)
	for _, c := range []struct {
		what     string
		q        string
		min, max float64
	}{
		{"named", `SELECT COUNT(*) FROM leads WHERE name <> '' AND name NOT LIKE 'Prospect %'`, 1, 1},
		{"with an email", `SELECT COUNT(*) FROM leads WHERE email LIKE '%_@_%.%'`, 1, 1},
		{"with a title", `SELECT COUNT(*) FROM leads WHERE title <> ''`, 0.4, 0.9},
		{"linked to a CRM account", `SELECT COUNT(*) FROM leads l JOIN accounts a ON a.id = l.account_id WHERE l.company = a.name`, 0.4, 0.8},
		{"with a personal address", `SELECT COUNT(*) FROM leads WHERE email LIKE '%@gmail.com' OR email LIKE '%@yahoo.com' OR email LIKE '%@outlook.com' OR email LIKE '%@hotmail.com'`, 0.2, 0.6},
	} {
		n := count(c.q)
		r := float64(n) / float64(leads)
		t.Logf("leads %-26s %5d (%.2f)", c.what, n, r)
		if r < c.min || r > c.max {
			t.Errorf("leads %s: %.2f, want %.2f-%.2f", c.what, r, c.min, c.max)
		}
	}
}

// checkBreachesCluster: breaches gather on some reps (those whose queues
// back up) rather than spreading evenly: the quarter of reps who breach
// most breach well over the quarter who breach least.
func checkBreachesCluster(t *testing.T, db *store.DB) {
	t.Helper()
	rows, err := db.SQL().Query(`SELECT COUNT(*), SUM(CASE WHEN breached_at IS NOT NULL THEN 1 ELSE 0 END)
		FROM handoffs WHERE kind = 'sdr' GROUP BY owner_id HAVING COUNT(*) >= 20`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var rates []float64
	for rows.Next() {
		var n, breached int
		if err := rows.Scan(&n, &breached); err != nil {
			t.Fatal(err)
		}
		rates = append(rates, float64(breached)/float64(n))
	}
	if len(rates) < 8 {
		t.Fatalf("only %d reps with 20 handoffs", len(rates))
	}
	slices.Sort(rates)
	mean := func(rs []float64) float64 {
		sum := 0.0
		for _, r := range rs {
			sum += r
		}
		return sum / float64(len(rs))
	}
	q := len(rates) / 4
	low, high := mean(rates[:q]), mean(rates[len(rates)-q:])
	t.Logf("breach rate per rep: %.2f", rates)
	t.Logf("breach rate: the quarter of reps who breach most %.3f, least %.3f", high, low)
	if high < 1.5*low {
		t.Errorf("breaches spread evenly: %.3f vs %.3f", high, low)
	}
}

// checkModel: the model trained on the demo's outcomes, point in time and
// judged on the newest, has a plausible held-out AUC, and the probabilities
// it gives leads spread out rather than sitting at 0 and 1.
func checkModel(t *testing.T, db *store.DB) {
	t.Helper()
	var raw string
	if err := db.SQL().QueryRow(`SELECT metrics FROM models WHERE active`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var m struct {
		AUC         float64 `json:"auc"`
		Holdout     int     `json:"holdout"`
		Split       string  `json:"split"`
		HoldoutFrom string  `json:"holdout_from"`
	}
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatal(err)
	}
	t.Logf("model: held-out AUC %.3f on the newest %d outcomes (split %s, from %s)", m.AUC, m.Holdout, m.Split, m.HoldoutFrom)
	if m.AUC < 0.70 || m.AUC > 0.95 || m.Split != "time" {
		t.Errorf("held-out AUC %.3f (split %q): want 0.70-0.95 on a time split", m.AUC, m.Split)
	}
	var probs []float64
	rows, err := db.SQL().Query(`SELECT probability FROM leads WHERE probability IS NOT NULL AND stage IN ('new', 'mql')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var p float64
		if err := rows.Scan(&p); err != nil {
			t.Fatal(err)
		}
		probs = append(probs, p)
	}
	slices.Sort(probs)
	if len(probs) < 100 {
		t.Fatalf("%d open leads with a probability", len(probs))
	}
	q := func(f float64) float64 { return probs[int(f*float64(len(probs)-1))] }
	extreme := 0
	for _, p := range probs {
		if p < 0.01 || p > 0.99 {
			extreme++
		}
	}
	t.Logf("probabilities of %d open leads: p10 %.3f, median %.3f, p90 %.3f; %d below 1%% or above 99%%", len(probs), q(0.1), q(0.5), q(0.9), extreme)
	if q(0.9)-q(0.1) < 0.2 || float64(extreme) > 0.05*float64(len(probs)) {
		t.Errorf("probabilities do not spread: p10 %.3f, p90 %.3f, %d extreme", q(0.1), q(0.9), extreme)
	}
}

// checkDeliveries: the admin's delivery log has the CRM sync webhook's
// months of history: many deliveries, nearly all answered 200, the few
// failures retried and delivered, and the webhook switched off at the end.
func checkDeliveries(t *testing.T, db *store.DB) {
	t.Helper()
	sys := storetest.System()
	hooks, err := db.FindWebhooks(sys)
	if err != nil || len(hooks) != 1 || hooks[0].Active {
		t.Fatalf("the demo's webhooks: %+v %v (want one, switched off)", hooks, err)
	}
	log, err := db.Deliveries(sys, baton.DeliveryFilter{Channel: "webhook", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var ok, failed, retried int
	first, last := time.Time{}, time.Time{}
	failedMsg := map[int64]bool{}
	for _, a := range log {
		if first.IsZero() || a.At.Before(first) {
			first = a.At
		}
		if a.At.After(last) {
			last = a.At
		}
		if a.Result == baton.AttemptDelivered {
			ok++
		} else {
			failed++
			failedMsg[a.OutboxID] = true
		}
	}
	for _, a := range log {
		if failedMsg[a.OutboxID] && a.Result == baton.AttemptDelivered {
			retried++
		}
	}
	// The log shows the newest 1,000; all of them span the months played.
	var all int
	var since int64
	if err := db.SQL().QueryRow(`SELECT COUNT(*), MIN(at) FROM deliveries`).Scan(&all, &since); err != nil {
		t.Fatal(err)
	}
	t.Logf("webhook deliveries: %d since %s; the newest %d: %d delivered, %d failed (%d of them delivered on a retry), %s .. %s",
		all, time.UnixMicro(since).UTC().Format(time.DateOnly), len(log), ok, failed, retried, first.Format(time.DateOnly), last.Format(time.DateOnly))
	if ok < 300 || failed == 0 || float64(failed)/float64(ok+failed) > 0.1 || retried == 0 || last.Sub(time.UnixMicro(since)) < 90*24*time.Hour {
		t.Errorf("want at least 300 deliveries over three months, a few (under 10%%) failures, retried and delivered")
	}
}
