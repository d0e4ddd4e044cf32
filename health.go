package baton

import (
	"context"
	"time"
)

// Health is the state of the storage as /healthz and /readyz report it.
type Health struct {
	Backend string `json:"backend"`
	// Reachable says a query answered; Writable that writes can be stored
	// now (not full, not read-only, not a read-only replica).
	Reachable bool `json:"reachable"`
	Writable  bool `json:"writable"`
	// Problem says why not, for the person on call; Since is when it began.
	Problem string     `json:"problem,omitempty"`
	Since   *time.Time `json:"since,omitempty"`
	// SQLite only: the write-ahead log's size and the free space of the file
	// system that holds the database.
	WALBytes  *int64 `json:"wal_bytes,omitempty"`
	FreeBytes *int64 `json:"free_bytes,omitempty"`
	// PostgreSQL with --read-db: the streaming replicas that take the
	// reads that may lag, and whether each is read from now.
	Replicas []ReplicaHealth `json:"replicas,omitempty"`
}

// ReplicaHealth is the state of one read replica. One not used (down, not
// a standby, or lagging past the bound) has its reads served by the
// primary: the instance still works, so it stays ready.
type ReplicaHealth struct {
	// Name is the replica's host, port and database.
	Name string `json:"name"`
	// Used says the replica takes reads now; Problem says why not.
	Used bool `json:"used"`
	// LagSeconds is how far behind the primary it was at the last check.
	LagSeconds float64 `json:"lag_seconds"`
	Problem    string  `json:"problem,omitempty"`
}

// HealthService reports the storage's health and tells an outage of the
// storage from a bug.
type HealthService interface {
	// Health checks the database now.
	Health(ctx context.Context) Health
	// Outage returns an EUNAVAILABLE *Error that names the cause when err
	// comes from the storage being unable to write (its disk is full, its
	// file or file system is read-only, it cannot be reached), and nil for
	// any other error.
	Outage(err error) error
}
