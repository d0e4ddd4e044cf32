package demo

import (
	"strconv"
	"time"

	"github.com/batonhq/baton"
)

// The demo's CRM sync: a webhook that tells the CRM of each SQL and each
// opportunity's fate, as a sales-ops team would set one up, so that the
// admin's delivery log has months of history. The receiver is imagined
// (Baton here reaches no network): the simulation claims each due message
// as the deliverer does and records the answer a busy receiver gives, a few
// failures retried later among them. At the end the webhook is switched off,
// so that the running demo does not try a host that is not there.
const (
	crmSyncURL = "https://crm.example.com/hooks/baton"
	// One delivery in crmFailEvery fails at its first try (the receiver
	// answers 503 or times out); the retry goes through.
	crmFailEvery = 25
)

var crmSyncEvents = []string{"lead.qualified", "lead.converted", "lead.won", "lead.lost", "lead.rejected"}

// addCRMSync creates the webhook at the start of the simulation.
func (l *loader) addCRMSync(at time.Time) error {
	l.db.Now = func() time.Time { return at }
	w := &baton.Webhook{URL: crmSyncURL, Events: crmSyncEvents}
	if err := l.db.CreateWebhook(l.ctx, w); err != nil {
		return err
	}
	l.crmSync = w.ID
	return nil
}

// deliverDue delivers the webhook messages due at the clock's time, through
// the outbox's claims and answers.
func (l *loader) deliverDue() error {
	for {
		msgs, err := l.db.ClaimOutboxOf(l.ctx, "webhook", "demo", 200, time.Minute)
		if err != nil || len(msgs) == 0 {
			return err
		}
		for _, m := range msgs {
			if err := l.db.FinishOutbox(l.ctx, m, crmAnswer(m)); err != nil {
				return err
			}
		}
	}
}

// crmAnswer is the imagined receiver's answer to a delivery: mostly 200 in
// a few hundred milliseconds; for one message in crmFailEvery, a 503 or a
// timeout at the first try.
func crmAnswer(m baton.OutboxMessage) baton.DeliveryResult {
	h := hash(strconv.FormatInt(m.ID, 10))
	took := time.Duration(80+h%400) * time.Millisecond
	if m.Attempts == 0 && h%crmFailEvery == 0 {
		if h%2 == 0 {
			return baton.DeliveryResult{Status: 503, Error: "503 Service Unavailable", Duration: took, Retry: true}
		}
		return baton.DeliveryResult{Error: "timeout: no answer in 10s", Duration: 10 * time.Second, Retry: true}
	}
	return baton.DeliveryResult{Status: 200, Duration: took, OK: true}
}

// endCRMSync delivers what is due and switches the webhook off.
func (l *loader) endCRMSync() error {
	if err := l.deliverDue(); err != nil {
		return err
	}
	return l.db.SetWebhookActive(l.ctx, l.crmSync, false)
}
