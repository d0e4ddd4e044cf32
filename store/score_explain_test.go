package store_test

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// TestExplainScorePercentPoints: with a model in force, a lead's
// explanation gives every factor in percentage points that add up to its
// probability less the base probability, largest first, each with its
// words; a number the trees split on says the side of the split the lead
// is on.
func TestExplainScorePercentPoints(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		publish(t, db, testPolicy)
		big := &baton.Account{Name: "Initech", Domain: "initech.com", Employees: ptr(int64(2822)), Industry: "Software"}
		if err := db.CreateAccount(storetest.System(), big); err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for i := range 80 {
			converted := i%3 == 0
			minutes := float64(20 + i%9*10)
			if converted {
				minutes = float64(600 + i%7*100)
			}
			if i%11 == 1 { // some overlap
				minutes = 700
			}
			l := &baton.Lead{Email: fmt.Sprintf("l%d@co%d.test", i, i%4), Source: []string{"webinar", "content"}[i%2],
				Attrs: baton.Attrs{store.OutcomeAttribute: map[bool]float64{true: 1, false: 0}[converted],
					"Total Time Spent on Website": minutes, "Lead Source": []string{"Google", "Direct Traffic", "Olark Chat"}[i%3]}}
			if i%4 == 0 {
				l.AccountID = &big.ID
			}
			storetest.MustLead(t, db, l)
			if converted || i%5 == 0 {
				for j := range 1 + i%3 {
					mustEvents(t, db, event(fmt.Sprintf("v%d-%d", i, j), l.ID, baton.EventPageView, clock.Now().Add(-time.Hour)))
				}
			}
			ids = append(ids, l.ID)
		}
		if rep, err := db.TrainModel(storetest.System(), 0.25, 1, true); err != nil || !rep.Activated {
			t.Fatalf("train: %+v %v", rep, err)
		}
		if _, err := db.RescoreAll(storetest.System()); err != nil {
			t.Fatal(err)
		}
		thresholds := 0
		for _, id := range ids {
			ex, err := db.ExplainScore(storetest.System(), id)
			if err != nil || ex.Score.Probability == nil || len(ex.Factors) == 0 {
				t.Fatalf("explain lead %d: %+v %v", id, ex, err)
			}
			p := *ex.Score.Probability
			if b := 1 / (1 + math.Exp(-ex.BaseLogOdds)); math.Abs(b-ex.BaseProbability) > 1e-12 {
				t.Fatalf("lead %d: base probability %v, base log-odds %v", id, ex.BaseProbability, ex.BaseLogOdds)
			}
			sum := 100 * ex.BaseProbability
			for k, f := range ex.Factors {
				sum += f.PercentPoints
				if k > 0 && math.Abs(f.PercentPoints) > math.Abs(ex.Factors[k-1].PercentPoints) {
					t.Fatalf("lead %d: factors not sorted by |percent points|: %+v", id, ex.Factors)
				}
				if f.PercentPoints*f.Contribution <= 0 || f.Text == "" || f.Text != f.Words() {
					t.Fatalf("lead %d: factor %+v", id, f)
				}
				if f.Threshold != nil {
					thresholds++
					x, err := strconv.ParseFloat(f.Value, 64)
					// Counts of events say the count itself.
					says := strings.HasPrefix(f.Feature, "events.") || x == *f.Threshold ||
						strings.Contains(f.Text, map[bool]string{true: " over ", false: " at most "}[f.Over])
					if err != nil || f.Over != (x > *f.Threshold) || !says {
						t.Fatalf("lead %d: factor %+v: the threshold does not tell the value's side", id, f)
					}
				}
			}
			if d := math.Abs(sum - 100*p); d > 1e-9 {
				t.Fatalf("lead %d: base %v%% + points = %v%%, probability %v%%", id, 100*ex.BaseProbability, sum, 100*p)
			}
		}
		if thresholds == 0 {
			t.Errorf("no factor of %d leads names a split point", len(ids))
		}
		// The words of a lead with an account, visits and a source.
		ex, err := db.ExplainScore(storetest.System(), ids[0])
		if err != nil {
			t.Fatal(err)
		}
		texts := map[string]string{}
		for _, f := range ex.Factors {
			texts[f.Feature] = f.Text
		}
		for feature, want := range map[string]string{"Lead Source": "Lead Source is Google", "events.page_view": "1 website page view",
			"account.employees": "company of 2,822 employees", "source": "source is webinar", "email_domain": "email at co0.test"} {
			// Lead Source decides the outcome here, so the model uses it.
			if got, ok := texts[feature]; (ok || feature == "Lead Source") && got != want {
				t.Errorf("lead 0: %s says %q, want %q (%v)", feature, got, want, texts)
			}
		}
		if !strings.HasPrefix(texts["Total Time Spent on Website"], "Total Time Spent on Website ") {
			t.Errorf("lead 0: time on site says %q (%v)", texts["Total Time Spent on Website"], texts)
		}
		// ExplainScores, which reads the leads in one query, says what
		// ExplainScore says of each, in the order asked, a lead twice too.
		asked := append([]int64{ids[5], ids[0]}, ids...)
		all, err := db.ExplainScores(storetest.System(), asked)
		if err != nil || len(all) != len(asked) {
			t.Fatalf("explain scores: %d of %d, %v", len(all), len(asked), err)
		}
		for i, id := range asked {
			one, err := db.ExplainScore(storetest.System(), id)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(all[i], one) {
				t.Fatalf("lead %d: ExplainScores says\n%+v\nExplainScore\n%+v", id, all[i], one)
			}
		}
		// A lead the actor may not see is one that does not exist.
		tm := storetest.SeedTeam(t, db)
		if _, err := db.ExplainScores(storetest.As(tm.SDR1), ids[:2]); baton.ErrorCode(err) != baton.ENOTFOUND {
			t.Fatalf("a rep explaining leads not theirs: %v", err)
		}
		if _, err := db.ExplainScores(storetest.System(), []int64{ids[0], 1 << 40}); baton.ErrorCode(err) != baton.ENOTFOUND {
			t.Fatalf("explaining a lead that does not exist: %v", err)
		}
	})
}
