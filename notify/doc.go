// Package notify delivers Baton's notifications: signed webhooks, Slack
// messages and email.
// It is the sending side of an outbox; storage decides what to send and
// when, records each [Attempt] and schedules retries with [Backoff].
//
// # Webhooks
//
// A delivery is a JSON POST with the headers
//
//	Content-Type: application/json
//	Baton-Delivery: <delivery id, the same on every retry>
//	Baton-Event: <event type, e.g. lead.assigned>
//	Baton-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>
//	webhook-id: <the delivery id again>
//	webhook-timestamp: <unix seconds, the same t>
//	webhook-signature: v1,<base64 HMAC-SHA256(key, id + "." + t + "." + body)>
//
// The last three are those of Standard Webhooks, which receivers verify
// with its libraries: the key is the secret's bytes after "whsec_", decoded
// from base64 ([StandardKey]), and the signature [SignStandard]'s.
//
// [Sender.Send] makes one attempt and reports its outcome: 2xx is success;
// network errors, timeouts, 408, 429 and 5xx are worth retrying (honouring
// Retry-After); anything else, redirects included, is not.
//
// # Signatures
//
// [Sign] computes the Baton-Signature header; [Verify] checks it on the
// receiving side, in constant time, and refuses timestamps outside a
// tolerance (five minutes by default) so that a captured request cannot be
// replayed later. While a secret is rotated the sender signs with both
// ([Webhook.OldSecrets]) and the header carries one v1= per secret (and
// webhook-signature one "v1,..." per secret, separated by spaces); Verify
// accepts the header if any of them matches.
//
// # Retries
//
// [Backoff] gives capped exponential delays with equal jitter: base, 2*base,
// 4*base... up to max, each drawn between half and all of its ceiling. Wait
// the larger of Backoff and Attempt.RetryAfter.
//
// # Slack
//
// [SlackMessage] builds the Block Kit message of a [baton.SlackNote], with
// link buttons ([SlackLinks]); [Sender.PostJSON] posts it to an incoming
// webhook, its answer judged as a webhook's.
//
// # Email
//
// [SMTPConfig.Send] sends an [Email] (text, HTML or both) over SMTP with
// github.com/wneessen/go-mail, in plain text, STARTTLS or implicit TLS. A
// stable Email.MessageID lets a retried email be recognised as a duplicate;
// [IsTemporary] tells which failures are worth retrying. Package
// notify/smtptest runs an in-memory SMTP server for tests.
package notify
