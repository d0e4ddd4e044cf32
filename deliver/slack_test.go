package deliver_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/deliver"
	"github.com/batonhq/baton/notify"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// slackServer stands in for Slack's incoming webhooks: every path is a
// channel; it keeps what each got and answers as Slack does, "ok", or 404
// "no_service" on /gone.
type slackServer struct {
	mu  sync.Mutex
	got map[string][]slackMsg
}

// slackMsg is the part of a Block Kit message the test reads.
type slackMsg struct {
	Text   string `json:"text"`
	Blocks []struct {
		Type    string `json:"type"`
		BlockID string `json:"block_id"`
		Text    *struct {
			Type, Text string
		} `json:"text"`
		Fields []struct {
			Type, Text string
		} `json:"fields"`
		Elements []struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			URL      string `json:"url"`
			Style    string `json:"style"`
			Text     any    `json:"text"`
		} `json:"elements"`
	} `json:"blocks"`
}

func (m slackMsg) header() string {
	if len(m.Blocks) == 0 || m.Blocks[0].Type != "header" || m.Blocks[0].Text == nil || m.Blocks[0].Text.Type != "plain_text" {
		return ""
	}
	return m.Blocks[0].Text.Text
}

// button returns the URL of the button with the action id, "" if none.
func (m slackMsg) button(action string) string {
	for _, b := range m.Blocks {
		if b.Type != "actions" {
			continue
		}
		for _, e := range b.Elements {
			if e.Type == "button" && e.ActionID == action {
				return e.URL
			}
		}
	}
	return ""
}

func (s *slackServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	if r.URL.Path == "/gone" {
		http.Error(w, "no_service", http.StatusNotFound)
		return
	}
	var m slackMsg
	if err := json.Unmarshal(body, &m); err != nil || m.Text == "" || len(m.Blocks) == 0 {
		http.Error(w, "invalid_blocks", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.got[r.URL.Path] = append(s.got[r.URL.Path], m)
	s.mu.Unlock()
	io.WriteString(w, "ok")
}

func (s *slackServer) messages(path string) []slackMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]slackMsg(nil), s.got[path]...)
}

// headers are the header lines of a channel's messages, in order.
func headers(ms []slackMsg) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.header())
	}
	return out
}

// TestSlack moves the clock through a handoff with Slack channels for the
// team and for each person, on a real HTTP server standing in for Slack:
// each of the moments (new MQL, reminder, breach, SQL handed over,
// rejection) reaches the channels of the people told and once the team's,
// as a Block Kit message whose buttons open the lead and, while a handoff
// is open, accept it through a signed link for its owner. A channel Slack
// no longer has is not retried, and the log says why.
func TestSlack(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		sys := storetest.System()
		tm := storetest.SeedTeam(t, db) // everyone is in team East
		slack := &slackServer{got: map[string][]slackMsg{}}
		srv := httptest.NewServer(slack)
		defer srv.Close()
		if err := db.SetWebhookAllowPrivate(context.Background(), true); err != nil {
			t.Fatal(err)
		}
		if _, err := db.PublishDocument(sys, e2ePolicy); err != nil {
			t.Fatal(err)
		}
		add := func(c *baton.SlackChannel) {
			t.Helper()
			if err := db.CreateSlackChannel(sys, c); err != nil {
				t.Fatal(err)
			}
		}
		add(&baton.SlackChannel{Team: "East", URL: srv.URL + "/east"})
		add(&baton.SlackChannel{Team: "East", URL: srv.URL + "/gone"})
		add(&baton.SlackChannel{Team: "West", URL: srv.URL + "/west"})
		for _, u := range []*baton.User{tm.SDR1, tm.SDR2, tm.AE, tm.Marketing} {
			add(&baton.SlackChannel{UserID: &u.ID, URL: srv.URL + "/" + strings.ToLower(strings.Fields(u.Name)[0])})
		}
		d := &deliver.Deliverer{Outbox: db, Webhook: &notify.Sender{Timeout: 2 * time.Second}, AllowPrivate: true, Name: "t",
			PublicURL: "https://baton.example.com/", Now: clock.Now}
		handlers := db.JobHandlers()
		tick := func() {
			t.Helper()
			for {
				ran, err := db.RunDueJob(sys, "t", handlers)
				if err != nil {
					t.Fatal(err)
				}
				if !ran {
					break
				}
			}
			for {
				n, err := d.Once(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					break
				}
			}
		}
		key, err := db.AcceptLinkKey(sys)
		if err != nil {
			t.Fatal(err)
		}
		// acceptOf checks a message's accept button: a link to the lead
		// page whose token names the lead, the open handoff and its owner,
		// for four hours.
		acceptOf := func(m slackMsg, l *baton.Lead) baton.AcceptLink {
			t.Helper()
			u, err := url.Parse(m.button("accept_lead"))
			if err != nil || u.Host != "baton.example.com" || u.Path != "/leads/"+itoa(l.ID) {
				t.Fatalf("accept button %q of %q", m.button("accept_lead"), m.header())
			}
			link, err := baton.ParseAcceptLink(key, u.Query().Get("accept"), clock.Now())
			if err != nil {
				t.Fatalf("accept link of %q: %v", m.header(), err)
			}
			hs, _ := db.Handoffs(sys, l.ID)
			open := hs[len(hs)-1]
			if link.LeadID != l.ID || link.HandoffID != open.ID || link.UserID != open.OwnerID || open.State != baton.HandoffOpen ||
				!link.Expires.Equal(clock.Now().Add(baton.DefaultAcceptLinkTTL).Truncate(time.Second)) {
				t.Fatalf("accept link %+v; the open handoff %+v", link, open)
			}
			return link
		}
		channelOf := map[int64]string{tm.SDR1.ID: "/sam", tm.SDR2.ID: "/sue"}

		// A new MQL: to its rep and to the team, with both buttons.
		a := storetest.MustLead(t, db, &baton.Lead{Email: "vp@acme.com", Name: "Vera Page", Title: "VP Sales", Company: "Acme"})
		mustEvents(t, db, baton.EventInput{ID: "a1", LeadID: a.ID, Type: baton.EventPricingPageView, OccurredAt: clock.Now()},
			baton.EventInput{ID: "a2", LeadID: a.ID, Type: baton.EventPricingPageView, OccurredAt: clock.Now()})
		tick()
		hs, _ := db.Handoffs(sys, a.ID)
		first := hs[0].OwnerID
		mine := slack.messages(channelOf[first])
		if len(mine) != 1 || !strings.HasPrefix(mine[0].header(), ":inbox_tray: New MQL: Vera Page (Acme)") {
			t.Fatalf("the rep's channel after a new MQL: %q", headers(mine))
		}
		if link := acceptOf(mine[0], a); link.UserID != first {
			t.Fatalf("the accept link is for user %d, not the rep %d", link.UserID, first)
		}
		if open := mine[0].button("open_lead"); open != "https://baton.example.com/leads/"+itoa(a.ID) {
			t.Fatalf("open button %q", open)
		}
		if !strings.Contains(mine[0].Text, "Accept or reject by") || len(mine[0].Blocks) != 4 || mine[0].Blocks[1].Type != "section" ||
			!strings.Contains(mine[0].Blocks[1].Fields[0].Text, "Vera Page") || !strings.Contains(mine[0].Blocks[1].Fields[2].Text, "<!date^") {
			t.Fatalf("the message: %+v", mine[0])
		}

		// Reminder at 75%, then the breach: to the rep, the next rep gets a
		// new MQL; the team sees each once.
		clock.Advance(3*time.Hour + time.Minute)
		tick()
		mine = slack.messages(channelOf[first])
		if len(mine) != 2 || !strings.HasPrefix(mine[1].header(), ":hourglass_flowing_sand: Answer soon") {
			t.Fatalf("the rep's channel after the reminder: %q", headers(mine))
		}
		acceptOf(mine[1], a)
		clock.Advance(time.Hour)
		tick()
		mine = slack.messages(channelOf[first])
		if len(mine) != 3 || !strings.HasPrefix(mine[2].header(), ":rotating_light: SLA breached") || mine[2].button("accept_lead") != "" ||
			mine[2].button("open_lead") == "" {
			t.Fatalf("the rep's channel after the breach: %q", headers(mine))
		}
		hs, _ = db.Handoffs(sys, a.ID)
		second := hs[1].OwnerID
		theirs := slack.messages(channelOf[second])
		if len(theirs) != 1 || !strings.HasPrefix(theirs[0].header(), ":inbox_tray: New MQL") || acceptOf(theirs[0], a).UserID != second {
			t.Fatalf("the next rep's channel: %q", headers(theirs))
		}

		// Qualified: the SQL is handed over to the account executive.
		as := storetest.As
		users := map[int64]*baton.User{tm.SDR1.ID: tm.SDR1, tm.SDR2.ID: tm.SDR2}
		if _, err := db.Accept(as(users[second]), a.ID); err != nil {
			t.Fatal(err)
		}
		budget := 40000.0
		if _, err := db.Qualify(as(users[second]), a.ID, baton.BANT{BudgetAmount: &budget, BudgetCurrency: "USD", Authority: baton.AuthorityDecisionMaker,
			Need: "replace spreadsheets", Timing: baton.TimingImmediate}); err != nil {
			t.Fatal(err)
		}
		tick()
		alex := slack.messages("/alex")
		if len(alex) != 1 || !strings.HasPrefix(alex[0].header(), ":handshake: SQL handed over: Vera Page") || acceptOf(alex[0], a).UserID != tm.AE.ID {
			t.Fatalf("the AE's channel: %q", headers(alex))
		}

		// Rejected: to marketing and to the team; the name is escaped.
		b := storetest.MustLead(t, db, &baton.Lead{Email: "ops@globex.com", Name: "<!channel> & Co", Title: "VP Ops"})
		mustEvents(t, db, baton.EventInput{ID: "b1", LeadID: b.ID, Type: baton.EventPricingPageView, OccurredAt: clock.Now()},
			baton.EventInput{ID: "b2", LeadID: b.ID, Type: baton.EventPricingPageView, OccurredAt: clock.Now()})
		hb, _ := db.Handoffs(sys, b.ID)
		if _, err := db.Reject(as(users[hb[0].OwnerID]), b.ID, baton.Rejection{Reason: baton.ReasonNoNeed, Note: "happy with their vendor"}); err != nil {
			t.Fatal(err)
		}
		tick()
		mia := slack.messages("/mia")
		if len(mia) != 1 || !strings.HasPrefix(mia[0].header(), ":leftwards_arrow_with_hook: Rejected by sales") || mia[0].button("accept_lead") != "" {
			t.Fatalf("marketing's channel: %q", headers(mia))
		}
		if f := mia[0].Blocks[1].Fields[0].Text; !strings.Contains(f, "&lt;!channel&gt; &amp; Co") || strings.Contains(f, "<!channel>") {
			t.Fatalf("the lead's name is not escaped: %q", f)
		}

		// The team's channel got each moment once; another team's nothing.
		count := map[string]int{}
		for _, h := range headers(slack.messages("/east")) {
			count[strings.SplitN(h, ":", 3)[1]]++
		}
		want := map[string]int{"inbox_tray": 3, "hourglass_flowing_sand": 1, "rotating_light": 1, "handshake": 1, "leftwards_arrow_with_hook": 1}
		if len(count) != len(want) {
			t.Fatalf("the team's channel: %q", headers(slack.messages("/east")))
		}
		for k, n := range want {
			if count[k] != n {
				t.Fatalf("the team's channel has %d of %s, want %d: %q", count[k], k, n, headers(slack.messages("/east")))
			}
		}
		if w := slack.messages("/west"); len(w) != 0 {
			t.Fatalf("another team's channel: %q", headers(w))
		}

		// The channel Slack does not have: each message tried once, dead,
		// with Slack's word for why.
		cs, _ := db.FindSlackChannels(sys)
		gone := cs[1].ID // the second added
		log, err := db.Deliveries(sys, baton.DeliveryFilter{Channel: "slack", Target: itoa(gone), Limit: 100})
		if err != nil || len(log) != 7 {
			t.Fatalf("the log of /gone: %d attempts, %v", len(log), err)
		}
		for _, a := range log {
			if a.State != "dead" || a.Status != 404 || a.Error != "HTTP 404 Not Found: no_service" {
				t.Fatalf("an attempt to /gone: %+v", a)
			}
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
