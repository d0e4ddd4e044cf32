package policy

import "testing"

// TestIntakeProblems: a bad intake section is refused with the field and
// line at fault.
func TestIntakeProblems(t *testing.T) {
	head := "name: t\n" + okFit + "mql: {fit: 0}\n"
	for _, tc := range []struct {
		name, doc, field, msg string
	}{
		{"unknown field", head + "intake:\n  pagez: [] #!\n", "intake.pagez", "unknown field"},
		{"track not a type", head + "intake:\n  track:\n    Demo Requested: Demo Request #!\n", "intake.track.Demo Requested", "not an event type"},
		{"track empty", head + "intake:\n  track:\n    Demo Requested: #!\n", "intake.track.Demo Requested", "required"},
		{"pages not a list", head + "intake:\n  pages: {path: /pricing} #!\n", "intake.pages", "expected a list"},
		{"page without path", head + "intake:\n  pages:\n    - {event: pricing_page_view} #!\n", "intake.pages[0].path", "required"},
		{"page path not a path", head + "intake:\n  pages:\n    - {path: pricing, event: pricing_page_view} #!\n", "intake.pages[0].path", "start it with /"},
		{"page without event", head + "intake:\n  pages:\n    - {path: /pricing} #!\n", "intake.pages[0].event", "required"},
		{"page bad event", head + "intake:\n  pages:\n    - {path: /pricing, event: Pricing} #!\n", "intake.pages[0].event", "not an event type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			checkProblem(t, err, tc.doc, tc.field, tc.msg)
		})
	}
}

// TestIntakeMapping: track names by the map, else in snake case; pages by
// the first path that matches, else page_view; DefaultIntake without a
// section.
func TestIntakeMapping(t *testing.T) {
	p, err := Parse([]byte("name: t\n" + okFit + "mql: {fit: 0}\n" + `intake:
  track:
    Demo Requested: demo_request
  pages:
    - {path: /docs/*, event: docs_view}
    - {path: "*/pricing*", event: pricing_page_view}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, want string }{
		{"Demo Requested", "demo_request"}, {"Trial Started", "trial_started"}, {"  Plan: Upgraded (annual) ", "plan_upgraded_annual"},
		{"Ordered", "ordered"}, {"2FA enabled", "event_2fa_enabled"}, {"démo", "d_mo"},
	} {
		if got, ok := p.Intake.TrackEvent(tc.name); !ok || got != tc.want {
			t.Errorf("track %q: %q %v, want %q", tc.name, got, ok, tc.want)
		}
	}
	if got, ok := p.Intake.TrackEvent("!!!"); ok {
		t.Errorf("track !!!: %q, want none", got)
	}
	for _, tc := range []struct{ url, want string }{
		{"https://www.example.com/pricing?plan=growth", "pricing_page_view"}, {"/de/pricing/", "pricing_page_view"},
		{"https://www.example.com/pricing-faq", "pricing_page_view"}, {"/docs/api", "docs_view"}, {"/docs", "page_view"},
		{"https://www.example.com/", "page_view"}, {"", "page_view"},
	} {
		if got := p.Intake.PageEvent(tc.url); got != tc.want {
			t.Errorf("page %q: %q, want %q", tc.url, got, tc.want)
		}
	}
	d, err := Parse([]byte("name: t\n" + okFit + "mql: {fit: 0}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ url, want string }{
		{"/pricing", "pricing_page_view"}, {"/en/pricing/enterprise", "pricing_page_view"}, {"/pricing-faq", "page_view"}, {"/blog", "page_view"},
	} {
		if got := d.Intake.PageEvent(tc.url); got != tc.want {
			t.Errorf("default intake, page %q: %q, want %q", tc.url, got, tc.want)
		}
	}
}
