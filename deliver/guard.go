package deliver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"github.com/batonhq/baton"
)

// The errors a delivery log shows for a webhook that got no HTTP answer.
// They say what kind of failure it was and nothing more: the raw error of a
// dial names addresses and ports, and a webhook pointed at the inside would
// otherwise map the operator's network for whoever reads the log.
const (
	ErrBlocked     = "blocked: address not allowed"
	ErrRefused     = "connection refused"
	ErrTimeout     = "timeout"
	ErrTLS         = "TLS error"
	ErrDNS         = "DNS lookup failed"
	ErrClosed      = "connection closed"
	ErrUnreachable = "network unreachable"
	ErrCancelled   = "cancelled"
	ErrConnection  = "connection failed"
)

// errBlocked is what the dialer's Control returns for an address that is
// not public.
var errBlocked = errors.New(ErrBlocked)

// refuseInside is the dialer's Control: it runs after the host name was
// resolved, with the very address about to be connected to, so a name that
// resolves (or is rebound between two lookups) to an inside address is
// refused all the same.
func refuseInside(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !baton.PublicAddr(ap.Addr()) {
		return errBlocked
	}
	return nil
}

// newClient returns the HTTP client of webhook deliveries. It follows no
// redirect (a moved endpoint is updated by its owner, and a POST must not
// turn into a GET elsewhere), uses no proxy (the proxy's address would be
// the one checked), and, unless allowPrivate, connects only to public
// addresses. Its errors are the generic ones above.
func newClient(allowPrivate bool, resolver *net.Resolver) *http.Client {
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Resolver: resolver}
	if !allowPrivate {
		dialer.Control = refuseInside
	}
	t := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport:     genericErrors{t},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// genericErrors turns a round trip's error into one of the generic ones and
// notes it on the request's context (see withNote), for the delivery log.
type genericErrors struct{ rt http.RoundTripper }

func (g genericErrors) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := g.rt.RoundTrip(r)
	if err == nil {
		return resp, nil
	}
	msg := generic(err)
	if n, ok := r.Context().Value(noteKey{}).(*note); ok {
		n.err = msg
	}
	return nil, errors.New(msg)
}

// note carries the generic error of a delivery's round trip back to the
// Deliverer: notify.Sender keeps only the text of the error, which names the
// URL too.
type note struct{ err string }

type noteKey struct{}

func withNote(ctx context.Context) (context.Context, *note) {
	n := &note{}
	return context.WithValue(ctx, noteKey{}, n), n
}

// generic names the kind of a round trip's failure.
func generic(err error) string {
	var (
		dns     *net.DNSError
		verify  *tls.CertificateVerificationError
		record  tls.RecordHeaderError
		alert   tls.AlertError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
		timeout interface{ Timeout() bool }
	)
	switch {
	case errors.Is(err, errBlocked):
		return ErrBlocked
	case errors.As(err, &dns):
		return ErrDNS
	case errors.Is(err, context.Canceled):
		return ErrCancelled
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &timeout) && timeout.Timeout():
		return ErrTimeout
	case errors.As(err, &verify), errors.As(err, &record), errors.As(err, &alert),
		errors.As(err, &unknown), errors.As(err, &host), errors.As(err, &invalid):
		return ErrTLS
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return ErrClosed
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return ErrUnreachable
	}
	return ErrConnection
}
