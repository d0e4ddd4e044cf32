package store_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// TestIngestKeys: only admins make, list and revoke ingest keys; a key
// authenticates until it is revoked; both acts are audited without the key.
func TestIngestKeys(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		tm := storetest.SeedTeam(t, db)
		admin, sam := storetest.As(tm.Admin), storetest.As(tm.SDR1)

		if _, _, err := db.CreateIngestKey(sam, baton.IngestKeyInput{Kind: baton.KeyWrite, Name: "segment"}); baton.ErrorCode(err) != baton.EFORBIDDEN {
			t.Fatalf("an SDR made a key: %v", err)
		}
		for _, tc := range []struct {
			in    baton.IngestKeyInput
			field string
		}{
			{baton.IngestKeyInput{Kind: "read", Name: "x"}, "kind"},
			{baton.IngestKeyInput{Kind: baton.KeyWrite}, "name"},
			{baton.IngestKeyInput{Kind: baton.KeyWrite, Name: "x", Origins: []string{"https://a.test"}}, "origins"},
			{baton.IngestKeyInput{Kind: baton.KeyCapture, Name: "x"}, "origins"},
			{baton.IngestKeyInput{Kind: baton.KeyCapture, Name: "x", Origins: []string{"https://a.test/path"}}, "origins[0]"},
			{baton.IngestKeyInput{Kind: baton.KeyCapture, Name: "x", Origins: []string{"https://a.test", "ftp://b.test"}}, "origins[1]"},
		} {
			if _, _, err := db.CreateIngestKey(admin, tc.in); baton.ErrorField(err) != tc.field {
				t.Errorf("%+v: %v, want an error naming %s", tc.in, err, tc.field)
			}
		}
		write, wk, err := db.CreateIngestKey(admin, baton.IngestKeyInput{Kind: baton.KeyWrite, Name: "Segment prod"})
		if err != nil {
			t.Fatal(err)
		}
		capture, ck, err := db.CreateIngestKey(admin, baton.IngestKeyInput{Kind: baton.KeyCapture, Name: "site",
			Origins: []string{"HTTPS://WWW.Example.test:443", "http://localhost:8080"}})
		if err != nil {
			t.Fatal(err)
		}
		if write[:3] != "bw_" || capture[:3] != "bc_" || len(ck.Origins) != 2 || ck.Origins[0] != "https://www.example.test" {
			t.Fatalf("keys %s %s %+v", write[:3], capture[:3], ck)
		}
		if !ck.AllowsOrigin("https://www.example.test") || ck.AllowsOrigin("https://evil.test") || !ck.AllowsOrigin("http://localhost:8080") {
			t.Fatalf("origins of %+v", ck.Origins)
		}
		got, err := db.AuthenticateIngestKey(t.Context(), write)
		if err != nil || got.ID != wk.ID || got.Kind != baton.KeyWrite {
			t.Fatalf("authenticate write key: %+v %v", got, err)
		}
		if _, err := db.AuthenticateIngestKey(t.Context(), "bw_nobody"); baton.ErrorCode(err) != baton.EUNAUTHORIZED {
			t.Fatalf("unknown key: %v", err)
		}
		// An API token is not an ingest key, nor the reverse.
		if _, err := db.Authenticate(t.Context(), write); baton.ErrorCode(err) != baton.EUNAUTHORIZED {
			t.Fatalf("a write key as an API token: %v", err)
		}
		keys, err := db.FindIngestKeys(admin)
		if err != nil || len(keys) != 2 || keys[0].ID != ck.ID {
			t.Fatalf("list: %v %v", keys, err)
		}
		if _, err := db.FindIngestKeys(sam); baton.ErrorCode(err) != baton.EFORBIDDEN {
			t.Fatalf("an SDR listed keys: %v", err)
		}
		if _, err := db.RevokeIngestKey(sam, wk.ID); baton.ErrorCode(err) != baton.EFORBIDDEN {
			t.Fatalf("an SDR revoked a key: %v", err)
		}
		if k, err := db.RevokeIngestKey(admin, wk.ID); err != nil || !k.Revoked() {
			t.Fatalf("revoke: %+v %v", k, err)
		}
		if _, err := db.AuthenticateIngestKey(t.Context(), write); baton.ErrorCode(err) != baton.EUNAUTHORIZED {
			t.Fatalf("a revoked key: %v", err)
		}
		if _, err := db.RevokeIngestKey(admin, 999); baton.ErrorCode(err) != baton.ENOTFOUND {
			t.Fatalf("revoke a key that is not: %v", err)
		}
		entries, _, err := db.FindAudit(admin, baton.AuditFilter{Action: new("ingest_key.")})
		if err != nil || len(entries) != 3 {
			t.Fatalf("audit: %v %v", entries, err)
		}
		for _, e := range entries {
			if e.TargetKind != "ingest_key" || strings.Contains(e.After, write) || strings.Contains(e.After, capture) {
				t.Fatalf("audit entry %+v", e)
			}
		}
	})
}

// TestIntakeStitching: a visitor's page views before they identify are kept
// pending and recorded on their lead when they identify; a retried message
// is stored once; later messages with the anonymousId or userId go to the
// lead; identify updates traits but not the source; the policy's default
// intake makes a pricing URL a pricing_page_view; old pending events are
// forgotten.
func TestIntakeStitching(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		clock := storetest.NewClock()
		db.Now = clock.Now
		key := baton.IngestKey{Kind: baton.KeyWrite, Name: "segment"}
		ctx := baton.WithActor(t.Context(), key.Actor())
		at := func(d time.Duration) time.Time { return storetest.Epoch.Add(d) }
		page := func(id, anon, user, url string, d time.Duration) baton.IntakeMessage {
			return baton.IntakeMessage{Type: baton.MessagePage, MessageID: id, AnonymousID: anon, UserID: user, URL: url,
				Properties: json.RawMessage(fmt.Sprintf(`{"url":%q}`, url)), Timestamp: at(d), Source: "segment"}
		}
		intake := func(msgs ...baton.IntakeMessage) baton.IntakeResult {
			t.Helper()
			res, err := db.Intake(ctx, msgs)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		res := intake(page("m1", "anon-1", "", "https://www.example.test/pricing", -time.Hour),
			page("m2", "anon-1", "", "https://www.example.test/blog/post", -50*time.Minute),
			page("m1", "anon-1", "", "https://www.example.test/pricing", -time.Hour), // a retry in the same batch
			baton.IntakeMessage{Type: baton.MessageTrack, MessageID: "m3", AnonymousID: "anon-2", Event: "Demo Requested", Timestamp: at(-time.Minute), Source: "segment"},
			baton.IntakeMessage{Type: baton.MessagePage, MessageID: "m4", Timestamp: at(0)},                    // nobody
			baton.IntakeMessage{Type: baton.MessageTrack, MessageID: "m5", AnonymousID: "a", Event: "!!!"},     // no type
			baton.IntakeMessage{Type: baton.MessageIdentify, MessageID: "m6", AnonymousID: "anon-9"},           // no email or user
			baton.IntakeMessage{Type: baton.MessageIdentify, MessageID: "m7", UserID: "u", Email: "not-email"}, // bad email
		)
		if res.Pending != 3 || res.Duplicates != 1 || res.Events != 0 || res.Rejected != 4 {
			t.Fatalf("before anyone identifies: %+v", res)
		}
		wantErr := map[int]string{4: "anonymousId", 5: "event", 6: "userId", 7: "traits.email"}
		for _, e := range res.Errors {
			if wantErr[e.Row] != e.Column {
				t.Errorf("row %d: error on %q (%s), want %q", e.Row, e.Column, e.Message, wantErr[e.Row])
			}
		}
		// The visitor identifies: a lead is made from the traits, and its
		// two page views are recorded on it with their own times.
		clock.Advance(time.Minute)
		res = intake(baton.IntakeMessage{Type: baton.MessageIdentify, MessageID: "m8", AnonymousID: "anon-1", UserID: "user-42",
			Email: "Ada@Example.test", Traits: baton.Traits{Name: "Ada Lovelace", Company: "Analytical"}, Campaign: "launch",
			Timestamp: at(0), Source: "segment"})
		if res.LeadsCreated != 1 || res.Stitched != 2 || res.Pending != 0 {
			t.Fatalf("identify: %+v", res)
		}
		lead, err := leadByEmail(t, db, "ada@example.test")
		if err != nil || lead.ExternalID != "user-42" || lead.Name != "Ada Lovelace" || lead.Source != "segment" || lead.Campaign != "launch" {
			t.Fatalf("the lead: %+v %v", lead, err)
		}
		events, _, err := db.FindEvents(storetest.System(), baton.EventFilter{LeadID: &lead.ID})
		if err != nil || len(events) != 2 || events[1].Type != baton.EventPricingPageView || events[0].Type != baton.EventPageView ||
			!events[1].OccurredAt.Equal(at(-time.Hour)) || events[1].ID != "m1" {
			t.Fatalf("stitched events: %+v %v", events, err)
		}
		// After: the anonymousId and the userId reach the lead; a retry of
		// a stitched message is a duplicate; another visitor stays pending.
		res = intake(page("m9", "anon-1", "", "/pricing/enterprise", 0),
			baton.IntakeMessage{Type: baton.MessageTrack, MessageID: "m10", UserID: "user-42", Event: "Webinar Registered", Timestamp: at(0)},
			page("m1", "anon-1", "", "https://www.example.test/pricing", -time.Hour),
			page("m11", "anon-3", "", "/", 0))
		if res.Events != 2 || res.Duplicates != 1 || res.Pending != 1 || res.Rejected != 0 {
			t.Fatalf("after identify: %+v", res)
		}
		events, _, _ = db.FindEvents(storetest.System(), baton.EventFilter{LeadID: &lead.ID})
		types := map[string]string{}
		for _, e := range events {
			types[e.ID] = e.Type
		}
		if len(events) != 4 || types["m9"] != baton.EventPricingPageView || types["m10"] != baton.EventWebinarRegistered {
			t.Fatalf("events: %v", types)
		}
		// A second identify by userId alone changes traits, not the source,
		// and links a new anonymousId, whose pending event (m3) it claims.
		res = intake(baton.IntakeMessage{Type: baton.MessageIdentify, MessageID: "m12", AnonymousID: "anon-2", UserID: "user-42",
			Traits: baton.Traits{Title: "Countess"}, Timestamp: at(0), Source: "website"})
		if res.LeadsUpdated != 1 || res.Stitched != 1 {
			t.Fatalf("second identify: %+v", res)
		}
		lead, _ = db.FindLeadByID(storetest.System(), lead.ID)
		if lead.Title != "Countess" || lead.Source != "segment" || lead.Name != "Ada Lovelace" {
			t.Fatalf("after the second identify: %+v", lead)
		}
		// A form of a new person links its anonymousId too, and records
		// the form submit.
		res = intake(baton.IntakeMessage{Type: baton.MessageForm, MessageID: "f1", AnonymousID: "anon-3", Email: "bob@example.test",
			Traits: baton.Traits{Name: "Bob"}, Properties: json.RawMessage(`{"form":"demo"}`), Timestamp: at(0), Source: "website"})
		if res.LeadsCreated != 1 || res.Events != 1 || res.Stitched != 1 {
			t.Fatalf("form: %+v", res)
		}
		bob, _ := leadByEmail(t, db, "bob@example.test")
		events, _, _ = db.FindEvents(storetest.System(), baton.EventFilter{LeadID: &bob.ID})
		if len(events) != 2 || events[0].Type+" "+events[1].Type != "page_view form_submit" || bob.Source != "website" {
			t.Fatalf("Bob: %+v %+v", bob, events)
		}
		// Pending events are forgotten AnonymousRetention after they came.
		intake(page("old", "anon-old", "", "/", 0))
		clock.Advance(baton.AnonymousRetention + time.Hour)
		intake(page("new", "anon-new", "", "/", 0))
		res = intake(baton.IntakeMessage{Type: baton.MessageIdentify, MessageID: "m13", AnonymousID: "anon-old", Email: "late@example.test", Timestamp: clock.Now()})
		if res.LeadsCreated != 1 || res.Stitched != 0 {
			t.Fatalf("an identify after the retention: %+v", res)
		}
		// Only the intake's actors and editors of leads may send.
		if _, err := db.Intake(storetest.As(storetest.SeedTeam(t, db).SDR1), nil); baton.ErrorCode(err) != baton.EFORBIDDEN {
			t.Fatalf("an SDR sent intake messages: %v", err)
		}
	})
}

// leadByEmail finds the one lead with the email.
func leadByEmail(t *testing.T, db *store.DB, email string) (*baton.Lead, error) {
	t.Helper()
	leads, _, err := db.FindLeads(storetest.System(), baton.LeadFilter{Query: email})
	if err != nil {
		return nil, err
	}
	for _, l := range leads {
		if l.Email == email {
			return l, nil
		}
	}
	return nil, fmt.Errorf("no lead %s", email)
}

// TestIntakeRace: identifies of one new person sent at once make one lead;
// each is stored, or refused with ECONFLICT for the sender to retry, never
// an internal error.
func TestIntakeRace(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		key := baton.IngestKey{Kind: baton.KeyWrite, Name: "segment"}
		ctx := baton.WithActor(t.Context(), key.Actor())
		const n = 8
		errs := make(chan error, n)
		for i := range n {
			go func() {
				_, err := db.Intake(ctx, []baton.IntakeMessage{{Type: baton.MessageIdentify, MessageID: fmt.Sprint("i", i),
					AnonymousID: fmt.Sprint("anon-", i), Email: "race@example.test", Traits: baton.Traits{Name: fmt.Sprint("R", i)}}})
				errs <- err
			}()
		}
		conflicts := 0
		for range n {
			if err := <-errs; baton.ErrorCode(err) == baton.ECONFLICT {
				conflicts++
			} else if err != nil {
				t.Errorf("identify: %v", err)
			}
		}
		t.Logf("%d of %d identifies refused with ECONFLICT", conflicts, n)
		leads, _, err := db.FindLeads(storetest.System(), baton.LeadFilter{Query: "race@example.test"})
		if err != nil || len(leads) != 1 {
			t.Fatalf("leads: %v %v", leads, err)
		}
	})
}
