package web

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// BenchmarkInboxRender renders a development rep's inbox page of 25 rows,
// each with its score's reasons and the accept and reject forms, from data
// made here: the template's share of a page, without storage.
func BenchmarkInboxRender(b *testing.B) {
	s := &Server{logger: slog.New(slog.NewTextHandler(io.Discard, nil)), pages: parsePages()}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	rep := &baton.User{ID: 7, Name: "Rep", Email: "rep@example.com", Role: baton.RoleSDR, Active: true}
	d := inboxPage{Sort: "deadline", Pager: pager{Page: 1, Pages: 27, Total: 664, Next: "/inbox?page=2"}}
	for i := range inboxPer {
		id := int64(1000 + i)
		l := &baton.Lead{ID: id, Name: "Jonas Novak", Company: "Account 479", Title: "Founder", Source: "paid_search", Stage: baton.StageMQL, OwnerID: &rep.ID}
		h := &baton.Handoff{ID: id, LeadID: id, Kind: baton.HandoffSDR, OwnerID: rep.ID, DueAt: now.Add(time.Duration(i) * time.Hour)}
		sv := &scoreView{Score: baton.LeadScore{Fit: 30, Engagement: 1}, Top: []ruleRow{
			{Rule: "US", Detail: `country equals "US"`, Points: 30},
			{Rule: "Visit", Detail: "page_view, 1 points each, at most 10 per 1w, half-life 30d", Points: 1}}}
		d.Rows = append(d.Rows, inboxRow{Lead: l, Handoff: h, SLA: sla(now, h), Score: sv, Can: offer{Accept: true, Reject: true, Attempt: true}})
	}
	c := &session{User: rep, CSRF: "_3c9V9c9qGmNFtKHe0jm0nlobA5NKOHR0-zAye-jO7o", Loc: time.UTC}
	r := httptest.NewRequest("GET", "/inbox", nil)
	for b.Loop() {
		w := httptest.NewRecorder()
		s.render(w, r, c, 200, "inbox", "Inbox", d)
		if w.Code != 200 {
			b.Fatalf("inbox: %d", w.Code)
		}
	}
}
