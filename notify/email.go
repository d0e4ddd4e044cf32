package notify

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"time"

	"github.com/batonhq/baton"
	gomail "github.com/wneessen/go-mail"
)

// SMTPConfig is how to reach the SMTP server that sends Baton's email.
type SMTPConfig struct {
	// Host is the server's name or address.
	Host string
	// Port defaults by TLS mode: 25 for "none", 587 for "starttls", 465 for "tls".
	Port int
	// Username and Password, if Username is set, authenticate with the
	// best mechanism the server offers (never in plain text over "none"
	// except to localhost).
	Username, Password string
	// From is the sender address, "baton@example.com" or
	// "Baton <baton@example.com>".
	From string
	// TLS is "none" (plain text, for local relays and tests), "starttls"
	// (the default: upgrade, and refuse a server that cannot) or "tls"
	// (implicit TLS from the first byte).
	TLS string
	// Timeout bounds connecting and each command; 0 means 30 seconds.
	Timeout time.Duration
}

// Email is one message.
type Email struct {
	// To are the recipients' addresses.
	To []string
	// Subject is the subject line.
	Subject string
	// Text is the plain text body; HTML, if set, is sent as an alternative.
	// At least one of them is required.
	Text, HTML string
	// MessageID, if set, becomes the Message-ID header ("<MessageID>"); give
	// a stable one, such as "delivery-42@baton.example.com", so that a
	// retried email can be recognised as a duplicate. Empty means a random
	// one.
	MessageID string
}

// Validate checks the configuration; errors are baton.FieldError values
// naming "smtp.host", "smtp.tls", ...
func (c SMTPConfig) Validate() error {
	if c.Host == "" {
		return baton.FieldError("smtp.host", "the SMTP host is required")
	}
	if c.Port < 0 || c.Port > 65535 {
		return baton.FieldError("smtp.port", "%d is not a port", c.Port)
	}
	switch c.TLS {
	case "", "none", "starttls", "tls":
	default:
		return baton.FieldError("smtp.tls", "%q is not one of none, starttls, tls", c.TLS)
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		return baton.FieldError("smtp.from", "%q is not an email address", c.From)
	}
	return nil
}

// Send sends e in one SMTP session. A configuration or message error is a
// baton EINVALID error; a delivery error is wrapped as is, and
// [IsTemporary] tells whether retrying may help.
func (c SMTPConfig) Send(ctx context.Context, e Email) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if len(e.To) == 0 {
		return baton.FieldError("to", "an email needs at least one recipient")
	}
	if e.Text == "" && e.HTML == "" {
		return baton.FieldError("text", "an email needs a text or HTML body")
	}
	m := gomail.NewMsg()
	if err := m.From(c.From); err != nil {
		return baton.FieldError("smtp.from", "%v", err)
	}
	if err := m.To(e.To...); err != nil {
		return baton.FieldError("to", "%v", err)
	}
	m.Subject(e.Subject)
	m.SetDate()
	if e.MessageID != "" {
		m.SetMessageIDWithValue(e.MessageID)
	} else {
		m.SetMessageID()
	}
	switch {
	case e.Text != "" && e.HTML != "":
		m.SetBodyString(gomail.TypeTextPlain, e.Text)
		m.AddAlternativeString(gomail.TypeTextHTML, e.HTML)
	case e.Text != "":
		m.SetBodyString(gomail.TypeTextPlain, e.Text)
	default:
		m.SetBodyString(gomail.TypeTextHTML, e.HTML)
	}

	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	opts := []gomail.Option{gomail.WithTimeout(timeout)}
	port := c.Port
	switch c.TLS {
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
		port = orDefault(port, 25)
	case "tls":
		opts = append(opts, gomail.WithSSL())
		port = orDefault(port, 465)
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
		port = orDefault(port, 587)
	}
	opts = append(opts, gomail.WithPort(port))
	if c.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(c.Username), gomail.WithPassword(c.Password))
	}
	client, err := gomail.NewClient(c.Host, opts...)
	if err != nil {
		return baton.Errorf(baton.EINVALID, "smtp: %v", err)
	}
	if err := client.DialAndSendWithContext(ctx, m); err != nil {
		return fmt.Errorf("notify: sending email via %s:%d: %w", c.Host, port, err)
	}
	return nil
}

func orDefault(port, def int) int {
	if port == 0 {
		return def
	}
	return port
}

// IsTemporary reports whether an error from [SMTPConfig.Send] may go away on
// a retry: a connection failure or a 4xx SMTP reply. It is false for nil, for
// invalid configuration or messages, and for permanent (5xx) refusals.
func IsTemporary(err error) bool {
	if err == nil || baton.ErrorCode(err) == baton.EINVALID {
		return false
	}
	var se *gomail.SendError
	if errors.As(err, &se) {
		if se.Reason == gomail.ErrSMTPMailFrom || se.Reason == gomail.ErrSMTPRcptTo || se.Reason == gomail.ErrSMTPData || se.Reason == gomail.ErrSMTPDataClose {
			return se.IsTemp()
		}
	}
	return true
}
