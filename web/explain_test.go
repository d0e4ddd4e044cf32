package web_test

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// TestModelReasonsAsTheAPISaysThem: with a model in force, a rep reads on
// a lead's page and on its inbox card the three reasons that move its
// probability most, in the words and percentage points the API answers
// them (which add up to the probability less the base); a reason on a
// field hidden from sales is on neither.
func TestModelReasonsAsTheAPISaysThem(t *testing.T) {
	w, lead := modelWorld(t)
	sys := storetest.System()

	// What the API answers Sam, whose lead it is, and marketing.
	explain := func(u *baton.User) (baton.ScoreExplanation, string) {
		token, err := w.db.CreateToken(sys, u.ID, "explain")
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/leads/%d/score", w.srv.URL, lead.ID), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var ex baton.ScoreExplanation
		if err := json.Unmarshal(b, &ex); err != nil || resp.StatusCode != 200 || ex.Score.Probability == nil {
			t.Fatalf("%s's explanation: %d %s", u.Name, resp.StatusCode, b)
		}
		return ex, string(b)
	}
	full, _ := explain(w.tm.Marketing)
	ex, raw := explain(w.tm.SDR1)
	if strings.Contains(raw, "Referral Rank") || ex.HiddenFactors != 1 || len(ex.Factors) != len(full.Factors)-1 {
		t.Fatalf("Sam's explanation names the hidden Referral Rank (marketing's has %d factors): %s", len(full.Factors), raw)
	}
	p := *ex.Score.Probability
	points := 100*ex.BaseProbability + ex.HiddenPercentPoints
	for _, f := range ex.Factors {
		points += f.PercentPoints
	}
	if math.Abs(points-100*p) > 1e-6 {
		t.Fatalf("base %v%%, factors and hidden ones add up to %v%%, probability %v%%", 100*ex.BaseProbability, points, 100*p)
	}
	// The three largest, as a page writes them.
	var want []string
	for _, f := range ex.Factors {
		if len(want) < 3 && math.Abs(f.PercentPoints) >= 0.05 {
			want = append(want, fmt.Sprintf(`">%s</span> %s<`, signedPercent(f.PercentPoints), f.Text))
		}
	}
	if len(want) < 3 || !strings.Contains(strings.Join(want, "\n"), "Total Time Spent on Website") {
		t.Fatalf("the reasons to find: %v", want)
	}

	sam := w.signedIn(t, w.tm.SDR1)
	_, page := sam.get(leadPath(lead))
	reasons := between(page, `<ul class="factors">`, `</ul>`)
	inbox := func() string {
		_, body := sam.get("/inbox")
		return between(body, fmt.Sprintf(`id="lead-%d"`, lead.ID), `<div class="actions">`)
	}()
	for where, part := range map[string]string{"the lead's page": reasons, "the inbox card": inbox} {
		text := html.UnescapeString(part)
		at := -1
		for _, r := range want {
			i := strings.Index(text, r)
			if i < 0 || i < at {
				t.Fatalf("%s lacks %q after the larger ones:\n%s", where, r, text)
			}
			at = i
		}
		if n := strings.Count(text, `<span class="pp `); n != 3 {
			t.Errorf("%s shows %d reasons, want 3:\n%s", where, n, text)
		}
		mustNotContain(t, text, "Referral Rank")
	}
	mustNotContain(t, page, "Referral Rank")
	mustContain(t, page, fmt.Sprintf("A typical lead scores %.0f%%; this one %.0f%%.", 100*ex.BaseProbability, 100*p), "1 more on fields hidden from sales.")
}

// modelWorld is the world with a model in force, trained on leads whose
// outcome follows their time on site, pages per visit and a "Referral
// Rank" the policy hides from sales; it returns Sam's first lead, which
// has all three.
func modelWorld(t *testing.T) (*world, *baton.Lead) {
	t.Helper()
	w := newWorld(t)
	sys := storetest.System()
	// Leads with known outcomes: those who spent long on the site, viewed
	// more pages, and whose hidden "Referral Rank" is high converted.
	for i := range 120 {
		converted := i%3 == 0
		minutes, rank, views := float64(30+i%10*20), float64(1+i%4), float64(1+i%3)
		if converted {
			minutes, rank, views = float64(700+i%9*50), float64(7+i%3), float64(3+i%4)
		}
		if i%10 == 1 {
			minutes = 800
		}
		storetest.MustLead(t, w.db, &baton.Lead{Email: fmt.Sprintf("known%d@co%d.test", i, i%5), Attrs: baton.Attrs{
			store.OutcomeAttribute: map[bool]float64{true: 1, false: 0}[converted], "Total Time Spent on Website": minutes,
			"Lead Source": []string{"Google", "Direct Traffic", "Olark Chat", "Google"}[i%4], "Referral Rank": rank,
			"Page Views Per Visit": views, "Do Not Email": i%5 == 2}})
	}
	if _, err := w.db.PublishDocument(sys, testPolicy+"hidden_from_reps: [attributes.Referral Rank]\n"); err != nil {
		t.Fatal(err)
	}
	lead := w.sam[0]
	if _, err := w.db.UpdateLead(sys, lead.ID, baton.LeadUpdate{Attrs: baton.Attrs{"Total Time Spent on Website": 1532.0,
		"Lead Source": "Google", "Referral Rank": 8.0, "Page Views Per Visit": 4.5, "Do Not Email": false}}); err != nil {
		t.Fatal(err)
	}
	if rep, err := w.db.TrainModel(sys, 0.25, 1, true); err != nil || !rep.Activated {
		t.Fatalf("train: %+v %v", rep, err)
	}
	if _, err := w.db.RescoreAll(sys); err != nil {
		t.Fatal(err)
	}
	return w, lead
}

// signedPercent writes percentage points as the pages do: +12.3%, −4%.
func signedPercent(v float64) string {
	s := strings.TrimSuffix(fmt.Sprintf("%.1f", math.Abs(v)), ".0")
	if v < 0 {
		return "−" + s + "%"
	}
	return "+" + s + "%"
}

// TestModelReasonsInBrowser: the model's reasons on the lead's page and on
// its inbox card read as three lines of words and percent in Chromium, and
// both pages pass axe-core and fit the width at 1440 and 390 px.
func TestModelReasonsInBrowser(t *testing.T) {
	ctx := browser(t)
	axe := axeSource(t)
	w, lead := modelWorld(t)
	p := &page{t: t, ctx: ctx, url: w.srv.URL}
	p.signIn(w.tm.SDR1)
	p.open(leadPath(lead))
	if s := p.text("ul.factors"); strings.Count(s, "%") != 3 || !strings.Contains(s, "Total Time Spent on Website") || strings.Contains(s, "Referral") {
		t.Fatalf("the lead's reasons read %q", s)
	}
	p.auditWidths("the lead's page with the model's reasons", axe)
	p.open("/inbox")
	card := fmt.Sprintf("#lead-%d .model-reasons", lead.ID)
	if s := p.text(card); strings.Count(s, "%") != 3 || !strings.Contains(s, "The model’s top reasons") || strings.Contains(s, "Referral") {
		t.Fatalf("the card's reasons read %q", s)
	}
	p.auditWidths("the inbox with the model's reasons", axe)
}
