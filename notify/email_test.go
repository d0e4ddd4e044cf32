package notify

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/notify/smtptest"
)

func TestEmail(t *testing.T) {
	srv := smtptest.Start(t)
	cfg := SMTPConfig{Host: srv.Host(), Port: srv.Port(), TLS: "none", From: "Baton <baton@example.com>", Timeout: 5 * time.Second}
	e := Email{
		To:        []string{"ana@example.com", "Bo <bo@example.com>"},
		Subject:   "Lead 42 is yours: accept within 4 working hours",
		Text:      "Acme Corp, Jane Doe, score 87.",
		HTML:      "<p>Acme Corp, <b>Jane Doe</b>, score 87.</p>",
		MessageID: "delivery-42@baton.example.com",
	}
	if err := cfg.Send(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if m.From != "baton@example.com" || strings.Join(m.To, ",") != "ana@example.com,bo@example.com" {
		t.Errorf("envelope %q -> %q", m.From, m.To)
	}
	data := string(m.Data)
	for _, want := range []string{
		"Subject: Lead 42 is yours: accept within 4 working hours",
		"Message-ID: <delivery-42@baton.example.com>",
		"From: \"Baton\" <baton@example.com>",
		"Acme Corp, Jane Doe, score 87.",
		"<b>Jane Doe</b>",
		"multipart/alternative",
	} {
		if !strings.Contains(data, want) {
			t.Errorf("message lacks %q:\n%s", want, data)
		}
	}

	// Text only, no Message-ID given: a random one.
	if err := cfg.Send(context.Background(), Email{To: []string{"ana@example.com"}, Subject: "hi", Text: "plain"}); err != nil {
		t.Fatal(err)
	}
	m = srv.Messages()[1]
	if !strings.Contains(string(m.Data), "Message-ID: <") || strings.Contains(string(m.Data), "multipart") {
		t.Errorf("text-only message:\n%s", m.Data)
	}
}

func TestEmailRefused(t *testing.T) {
	srv := smtptest.Start(t)
	cfg := SMTPConfig{Host: srv.Host(), Port: srv.Port(), TLS: "none", From: "baton@example.com", Timeout: 5 * time.Second}
	e := Email{To: []string{"ana@example.com"}, Subject: "s", Text: "t"}

	srv.Fail(451, "try again later")
	err := cfg.Send(context.Background(), e)
	if err == nil || !IsTemporary(err) {
		t.Errorf("451: %v, temporary %v", err, IsTemporary(err))
	}
	srv.Fail(554, "no")
	err = cfg.Send(context.Background(), e)
	if err == nil || IsTemporary(err) {
		t.Errorf("554: %v, temporary %v", err, IsTemporary(err))
	}
	srv.Fail(0, "")
	if err := cfg.Send(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d messages kept", n)
	}

	// A closed port: a connection error, temporary.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cfg.Port = port
	err = cfg.Send(context.Background(), e)
	if err == nil || !IsTemporary(err) || baton.ErrorCode(err) != baton.EINTERNAL {
		t.Errorf("closed port: %v", err)
	}
	srv.Close()
}

func TestEmailInvalid(t *testing.T) {
	good := SMTPConfig{Host: "127.0.0.1", Port: 2525, TLS: "none", From: "baton@example.com"}
	mail := Email{To: []string{"ana@example.com"}, Text: "t"}
	tests := []struct {
		cfg   func(*SMTPConfig)
		email func(*Email)
		field string
	}{
		{func(c *SMTPConfig) { c.Host = "" }, nil, "smtp.host"},
		{func(c *SMTPConfig) { c.TLS = "ssl" }, nil, "smtp.tls"},
		{func(c *SMTPConfig) { c.Port = 70000 }, nil, "smtp.port"},
		{func(c *SMTPConfig) { c.From = "not an address" }, nil, "smtp.from"},
		{nil, func(e *Email) { e.To = nil }, "to"},
		{nil, func(e *Email) { e.To = []string{"nope"} }, "to"},
		{nil, func(e *Email) { e.Text = "" }, "text"},
	}
	for _, tt := range tests {
		c, e := good, mail
		if tt.cfg != nil {
			tt.cfg(&c)
		}
		if tt.email != nil {
			tt.email(&e)
		}
		err := c.Send(context.Background(), e)
		if baton.ErrorField(err) != tt.field || IsTemporary(err) {
			t.Errorf("want field %q, got %v", tt.field, err)
		}
	}
}

func TestSMTPTestServerClosed(t *testing.T) {
	srv := smtptest.Start(t)
	srv.Close()
	cfg := SMTPConfig{Host: srv.Host(), Port: srv.Port(), TLS: "none", From: "baton@example.com", Timeout: 2 * time.Second}
	if err := cfg.Send(context.Background(), Email{To: []string{"a@example.com"}, Text: "t"}); err == nil {
		t.Error("sent to a closed server")
	}
}
