package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/storetest"
)

// TestAcceptLink: the accept button of a Slack message opens the lead page
// with the accept button in front, only for the rep it was sent to, while
// it lasts and the handoff is open; it never accepts anything by itself, and
// without a session it leads to the sign-in first.
func TestAcceptLink(t *testing.T) {
	w := newWorld(t)
	sys := storetest.System()
	key, err := w.db.AcceptLinkKey(sys)
	if err != nil {
		t.Fatal(err)
	}
	l := w.sam[0]
	hs, err := w.db.Handoffs(sys, l.ID)
	if err != nil || len(hs) != 1 || hs[0].State != baton.HandoffOpen {
		t.Fatalf("handoffs: %+v %v", hs, err)
	}
	link := func(a baton.AcceptLink) string { return fmt.Sprintf("/leads/%d?accept=%s", l.ID, a.Sign(key)) }
	good := baton.AcceptLink{LeadID: l.ID, HandoffID: hs[0].ID, UserID: w.tm.SDR1.ID, Expires: w.clock.Now().Add(time.Hour)}
	const asked = "Accept this lead?"

	// Without a session: the sign-in, which comes back to the same link.
	anon := w.client(t)
	if st, _ := anon.get(link(good)); st != http.StatusSeeOther {
		t.Fatalf("without a session: %d", st)
	}

	sam := w.signedIn(t, w.tm.SDR1)
	st, body := sam.get(link(good))
	if st != 200 {
		t.Fatalf("the link: %d", st)
	}
	mustContain(t, body, asked, `action="/leads/`+fmt.Sprint(l.ID)+`/accept"`, "autofocus")
	if got, _ := w.db.FindLeadByID(sys, l.ID); got.Stage != baton.StageMQL {
		t.Fatalf("opening the link moved the lead to %s", got.Stage)
	}

	other := good
	other.LeadID = w.sam[1].ID
	expired := good
	expired.Expires = w.clock.Now().Add(-time.Minute)
	forged := link(good)
	forged = forged[:len(forged)-2] + map[bool]string{true: "AA", false: "AB"}[strings.HasSuffix(forged, "AB")]
	for _, tc := range []struct {
		name, path, note string
	}{
		{"expired", link(expired), "This accept link has expired"},
		{"forged", forged, "This accept link is not valid"},
		{"another lead's", link(other), "This accept link is not valid"},
		{"garbage", fmt.Sprintf("/leads/%d?accept=%s", l.ID, url.QueryEscape("<script>")), "This accept link is not valid"},
	} {
		st, body := sam.get(tc.path)
		if st != 200 {
			t.Fatalf("%s: %d", tc.name, st)
		}
		mustNotContain(t, body, asked)
		mustContain(t, body, tc.note)
	}

	// For another rep of the team (their manager, say) it asks nothing.
	mgr := w.signedIn(t, w.tm.Manager1)
	st, body = mgr.get(link(good))
	if st != 200 {
		t.Fatalf("the manager opens the rep's link: %d", st)
	}
	mustNotContain(t, body, asked)
	mustContain(t, body, "sent to someone else")

	// Accepted by the button, the link asks no more.
	resp, _ := sam.post(fmt.Sprintf("/leads/%d/accept", l.ID), url.Values{"back": {"lead"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("accept: %d", resp.StatusCode)
	}
	if got, _ := w.db.FindLeadByID(sys, l.ID); got.Stage != baton.StageSAL {
		t.Fatalf("after the button: %s", got.Stage)
	}
	st, body = sam.get(link(good))
	mustNotContain(t, body, asked)
	mustContain(t, body, "no longer open to you")
	if st != 200 {
		t.Fatalf("after accepting: %d", st)
	}
}

// TestAdminSlack: an admin adds a team's and a rep's Slack channel on the
// webhooks page, sees them by hint only, turns one off; a refused form names
// its field and does not show the URL again.
func TestAdminSlack(t *testing.T) {
	w := newWorld(t)
	if err := w.db.SetWebhookAllowPrivate(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	admin := w.signedIn(t, w.tm.Admin)
	const secret = "https://hooks.slack.com/services/T0123/B0456/s3cr3t-token"
	resp, _ := admin.post("/admin/slack", url.Values{"for": {"team"}, "team": {"East"}, "url": {secret}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add the team's: %d", resp.StatusCode)
	}
	resp, _ = admin.post("/admin/slack", url.Values{"for": {fmt.Sprintf("user:%d", w.tm.SDR1.ID)}, "url": {"https://hooks.slack.com/services/T0123/B0789/other"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add the rep's: %d", resp.StatusCode)
	}
	st, body := admin.get("/admin/webhooks")
	if st != 200 {
		t.Fatalf("webhooks page: %d", st)
	}
	mustContain(t, body, "team East", w.tm.SDR1.Name, "hooks.slack.com/services/T0123/B0456/…", "Slack channels")
	mustNotContain(t, body, "s3cr3t")
	resp, body = admin.post("/admin/slack", url.Values{"for": {"team"}, "team": {"East"}, "url": {"http://hooks.slack.com/services/T9/B9/s3cr3t-too"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("plain http: %d", resp.StatusCode)
	}
	mustContain(t, body, "https")
	mustNotContain(t, body, "s3cr3t-too")
	cs, err := w.db.FindSlackChannels(storetest.As(w.tm.Admin))
	if err != nil || len(cs) != 2 {
		t.Fatalf("channels: %+v %v", cs, err)
	}
	resp, _ = admin.post(fmt.Sprintf("/admin/slack/%d/active", cs[0].ID), url.Values{"active": {"false"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("turn off: %d", resp.StatusCode)
	}
	if cs, _ = w.db.FindSlackChannels(storetest.As(w.tm.Admin)); cs[0].Active || !cs[1].Active {
		t.Fatalf("after turning one off: %+v %+v", cs[0], cs[1])
	}
	// Not for anyone else.
	sam := w.signedIn(t, w.tm.SDR1)
	if resp, _ := sam.post("/admin/slack", url.Values{"for": {"team"}, "team": {"East"}, "url": {secret}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a rep adds a channel: %d", resp.StatusCode)
	}
}
