// Package smtptest runs an in-process SMTP server for tests: it listens on
// 127.0.0.1, accepts every message without TLS or authentication, and keeps
// what it received in memory.
//
//	srv := smtptest.Start(t)
//	cfg := notify.SMTPConfig{Host: srv.Host(), Port: srv.Port(), TLS: "none", From: "baton@example.com"}
//	... send ...
//	msgs := srv.Messages()
//
// The server is closed when the test ends.
package smtptest

import (
	"bytes"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
)

// Message is one message received: the envelope sender and recipients and
// the raw message (headers and body, CRLF line ends).
type Message struct {
	From string
	To   []string
	Data []byte
}

// Server is a running test SMTP server.
type Server struct {
	// Addr is the listening address, "127.0.0.1:port".
	Addr string

	srv  *smtp.Server
	ln   net.Listener
	mu   sync.Mutex
	msgs []Message
	fail *smtp.SMTPError
}

// Start starts a server on 127.0.0.1 on a free port and closes it when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: %v", err)
	}
	s := &Server{Addr: l.Addr().String(), ln: l}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{srv: s}, nil
	}))
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	go s.srv.Serve(l)
	t.Cleanup(func() { s.Close() })
	return s
}

// Host returns the host to connect to, "127.0.0.1".
func (s *Server) Host() string { h, _, _ := net.SplitHostPort(s.Addr); return h }

// Port returns the port to connect to.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr)
	n, _ := strconv.Atoi(p)
	return n
}

// Messages returns a copy of the messages received so far, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.msgs))
	for i, m := range s.msgs {
		out[i] = Message{From: m.From, To: append([]string(nil), m.To...), Data: bytes.Clone(m.Data)}
	}
	return out
}

// Fail makes the server refuse every following message at the DATA command
// with the SMTP reply code (such as 451 for a temporary failure or 550 for a
// permanent one) and message. Fail(0, "") accepts messages again.
func (s *Server) Fail(code int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		s.fail = nil
		return
	}
	s.fail = &smtp.SMTPError{Code: code, Message: message}
}

// Close stops the server; later connections are refused. It may be called
// more than once.
func (s *Server) Close() error {
	s.ln.Close() // even if Serve has not started yet
	s.srv.Close()
	return nil
}

type session struct {
	srv *Server
	msg Message
}

func (s *session) Reset()        { s.msg = Message{} }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.msg.From = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	if s.srv.fail != nil {
		return s.srv.fail
	}
	s.msg.Data = data
	s.srv.msgs = append(s.srv.msgs, s.msg)
	s.msg = Message{}
	return nil
}
