package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Webhook is a receiver of deliveries.
type Webhook struct {
	// URL is the http or https endpoint the deliveries are POSTed to.
	URL string
	// Secret is the HMAC key of the Baton-Signature header; the
	// webhook-signature header's key is StandardKey(Secret).
	Secret []byte
	// OldSecrets are also signed with, one v1= each, while receivers move
	// from an old secret to Secret. Usually empty.
	OldSecrets [][]byte
}

// Delivery is one event to deliver. Send the same ID on every retry of the
// same event so that receivers can deduplicate.
type Delivery struct {
	// ID identifies the delivery; it is sent as Baton-Delivery and
	// webhook-id.
	ID string
	// Event is the event type, such as "lead.assigned"; sent as Baton-Event.
	Event string
	// Body is the JSON payload, sent as is and signed.
	Body []byte
}

// Attempt is the outcome of one delivery attempt, to be recorded and used to
// schedule the next.
type Attempt struct {
	// Status is the HTTP status of the response, 0 if there was none.
	Status int
	// Err says what went wrong, "" on success.
	Err string
	// Duration is how long the attempt took.
	Duration time.Duration
	// Retry is true if trying again later may succeed: network errors,
	// timeouts, 408, 429 and 5xx. Other statuses, 3xx (redirects are not
	// followed) and 4xx, will not be retried.
	Retry bool
	// RetryAfter is the delay the receiver asked for with a Retry-After
	// header (seconds or HTTP date) on a retryable response, else 0. Wait at
	// least this long, and cap it to your own maximum.
	RetryAfter time.Duration
	// Response is the start of the response body (up to 1 KiB), for the
	// delivery log.
	Response string
}

// OK reports whether the delivery succeeded (a 2xx response).
func (a Attempt) OK() bool { return a.Err == "" && a.Status >= 200 && a.Status < 300 }

// DefaultTimeout is the time an attempt may take when Sender.Timeout is 0.
const DefaultTimeout = 10 * time.Second

// UserAgent is the User-Agent of webhook requests.
const UserAgent = "Baton-Webhook/1"

// defaultClient does not follow redirects: a webhook endpoint that moved
// must be updated by its owner, and a POST must not turn into a GET
// elsewhere.
var defaultClient = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Sender delivers webhooks. The zero Sender is ready to use; it is safe for
// concurrent use.
type Sender struct {
	// Client sends the requests; nil means a client that does not follow
	// redirects. Its own Timeout, if any, also applies.
	Client *http.Client
	// Now gives the signing time; nil means time.Now.
	Now func() time.Time
	// Timeout bounds each attempt, connection to end of response headers
	// and the first KiB of body; 0 means DefaultTimeout.
	Timeout time.Duration
}

// Send makes one attempt to deliver d to w: a JSON POST with the headers
// Content-Type, Baton-Delivery, Baton-Event and Baton-Signature (see [Sign]),
// and those of Standard Webhooks, webhook-id (d.ID), webhook-timestamp and
// webhook-signature (see [SignStandard]), signed at the same time.
// It never returns an error: the outcome, retryable or not, is in the
// Attempt. A cancelled ctx gives a retryable Attempt: the delivery did not
// happen and should be tried again later.
func (s *Sender) Send(ctx context.Context, w Webhook, d Delivery) Attempt {
	began := time.Now()
	a := s.send(ctx, w, d)
	a.Duration = time.Since(began)
	return a
}

func (s *Sender) send(ctx context.Context, w Webhook, d Delivery) Attempt {
	at := s.now()
	secrets := append([][]byte{w.Secret}, w.OldSecrets...)
	keys := make([][]byte, len(secrets))
	for i, s := range secrets {
		keys[i] = StandardKey(s)
	}
	h := http.Header{}
	h.Set("Baton-Delivery", d.ID)
	h.Set("Baton-Event", d.Event)
	h.Set("Baton-Signature", sign(at, d.Body, secrets...))
	h.Set(HeaderWebhookID, d.ID)
	h.Set(HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10))
	h.Set(HeaderWebhookSignature, SignStandard(d.ID, at, d.Body, keys...))
	return s.post(ctx, w.URL, d.Body, h)
}

// PostJSON makes one attempt to POST body as JSON to url, without Baton's
// headers: for endpoints that take a message as it is, such as Slack's
// incoming webhooks. The outcome is judged as Send's.
func (s *Sender) PostJSON(ctx context.Context, url string, body []byte) Attempt {
	began := time.Now()
	a := s.post(ctx, url, body, nil)
	a.Duration = time.Since(began)
	return a
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// post makes one JSON POST with the extra header and judges its answer.
func (s *Sender) post(ctx context.Context, target string, body []byte, header http.Header) Attempt {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Attempt{Err: fmt.Sprintf("webhook URL %q is not an http or https URL", target)}
	}
	now := s.now
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	client := s.Client
	if client == nil {
		client = defaultClient
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return Attempt{Err: err.Error()}
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)

	resp, err := client.Do(req)
	if err != nil {
		msg := err.Error()
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			msg = fmt.Sprintf("timed out after %s: %v", timeout, err)
		}
		return Attempt{Err: msg, Retry: true}
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	a := Attempt{Status: resp.StatusCode, Response: string(head)}
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return a
	case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500:
		a.Retry = true
		a.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), now())
	}
	a.Err = "HTTP " + resp.Status
	if resp.Status == "" {
		a.Err = "HTTP " + strconv.Itoa(resp.StatusCode)
	}
	return a
}

// retryAfter parses a Retry-After value, delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(365*24*time.Hour/time.Second) {
			n = int64(365 * 24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
