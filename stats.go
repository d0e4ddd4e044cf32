package baton

import (
	"context"
	"time"
)

// Stats are the business numbers Baton exports as metrics (/metrics), read
// when a scraper asks.
//
// The counters (Counts) are this instance's since it started, as Prometheus
// counters are: sum them across instances. The gauges are read from the
// database with bounded queries, so every instance reports the same value:
// take one (max) across instances.
type Stats struct {
	Counts Counts
	// Handoffs open now, and those of them past their deadline whose
	// breach has not been swept yet, by kind (sdr, ae).
	OpenHandoffs, PastDueHandoffs map[HandoffKind]int
	// SLA over the handoffs assigned in the last SLAWindow and answered or
	// breached since: how many, and how many of them met their window.
	SLADecided, SLAMet map[HandoffKind]int
	// Jobs due and not done, by kind, and how long the oldest of each
	// kind has been due.
	JobsDue       map[string]int
	JobsOldestDue map[string]time.Duration
	// Outbox messages waiting to be sent (pending) and given up (dead), by
	// channel (email, webhook, slack).
	OutboxPending, OutboxDead map[string]int
	// Rescoring after a publication or a model's activation: whether one
	// runs, and how far it is through the leads (by id), 0 to 1.
	Rescoring       bool
	RescoreProgress float64
	// The policy and model in force (0: none).
	PolicyVersion, ModelVersion int
	// The read replicas (PostgreSQL with --read-db), as Health has them.
	Replicas []ReplicaHealth
}

// SLAWindow is the period the SLA met ratio of Stats looks back on.
const SLAWindow = 30 * 24 * time.Hour

// Counts are what an instance counted since it started.
type Counts struct {
	// MQLsPromoted counts the moves into mql from new or recycled.
	MQLsPromoted int64
	// Events counts the events sent, by result: created, duplicate,
	// rejected.
	Events map[string]int64
	// Breaches counts the handoffs that passed their deadline, by kind.
	Breaches map[HandoffKind]int64
	// Deliveries counts the outbox's delivery attempts by channel and
	// result: delivered, failed (to be retried), dead (given up).
	Deliveries map[DeliveryCount]int64
	// Reads counts the read transactions by where they ran: primary, or
	// replica (the reads that may lag, with --read-db).
	Reads map[string]int64
}

// DeliveryCount is the key of Counts.Deliveries.
type DeliveryCount struct {
	Channel, Result string
}

// StatsService reads the numbers of Stats.
type StatsService interface {
	Stats(ctx context.Context) (*Stats, error)
}
