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
