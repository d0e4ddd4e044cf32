package baton

import (
	"context"
	"io"
	"strconv"
	"time"
)

// AuditEntry is one row of the audit log: who did what to which target,
// when, from where, and the fields it changed. Storage writes it in the
// transaction of the act itself, so an act that fails leaves none, and
// never changes or deletes it. Secrets (passwords, their hashes, API
// tokens, webhook secrets) are never in it.
type AuditEntry struct {
	ID int64     `json:"id"`
	At time.Time `json:"at"`
	// ActorID is the user who acted; nil for the system, and for a
	// sign-in that found no user.
	ActorID   *int64 `json:"actor_id,omitempty"`
	ActorName string `json:"actor_name"`
	// Via is the door the act came through: ui, api, cli, system, job.
	Via string `json:"via"`
	// Action names the act: "user.create", "token.revoke", "signin.failure".
	Action string `json:"action"`
	// TargetKind and TargetID name what was acted on ("user", 7); TargetID
	// is 0 for a target without an id (a team's calendar, an unknown email).
	TargetKind string `json:"target_kind"`
	TargetID   int64  `json:"target_id"`
	// Before and After are JSON objects of the changed fields, empty when
	// there is nothing to show.
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	// Addr is the client address of the request, when known.
	Addr string `json:"addr,omitempty"`
}

// AuditActions are the actions the audit log records.
var AuditActions = []string{
	"user.create", "user.update", "user.password", "user.away",
	"token.create", "token.revoke", "ingest_key.create", "ingest_key.revoke",
	"webhook.create", "webhook.toggle", "webhook.rotate", "slack.create", "slack.toggle",
	"calendar.set", "calendar.delete",
	"policy.draft", "policy.publish",
	"model.train", "model.activate",
	"signin.success", "signin.failure", "signin.throttled", "signout", "signout.everywhere",
	"lead.export", "lead.import", "account.import",
}

// AuditFilter selects audit entries; nil and zero fields select all.
type AuditFilter struct {
	// Action matches actions that begin with it: "user." for every user act.
	Action     *string
	ActorID    *int64
	TargetKind *string
	TargetID   *int64
	// From and To bound the entries' time: From inclusive, To exclusive.
	From, To *time.Time
	Offset   int
	Limit    int
}

// AuditService reads the audit log.
type AuditService interface {
	// FindAudit returns the entries of the filter, newest first, and how
	// many match in all. Only an admin may: EFORBIDDEN otherwise.
	FindAudit(ctx context.Context, f AuditFilter) ([]*AuditEntry, int, error)
	// RecordExport records that the actor is exporting lead data (action
	// lead.export): what ("leads") and the filter of the export, as the
	// address's query string. Anyone may record their own; it is written
	// before the export starts, so that no export goes without a trace.
	RecordExport(ctx context.Context, what, filter string) error
}

type clientAddrKey struct{}

// WithClientAddr returns a context that carries the client address of the
// request it serves, for the audit log.
func WithClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientAddrKey{}, addr)
}

// ClientAddrFrom returns the client address carried by ctx, or "".
func ClientAddrFrom(ctx context.Context) string {
	addr, _ := ctx.Value(clientAddrKey{}).(string)
	return addr
}

// AuditCSVHeader is the header row of the audit log's CSV export.
var AuditCSVHeader = []string{"id", "at", "actor_id", "actor_name", "via", "action", "target_kind", "target_id", "before", "after", "addr"}

// WriteAuditCSV writes audit entries as CSV, header first, through
// CSVWriter: the API's and the web's export.
func WriteAuditCSV(w io.Writer, entries []*AuditEntry) error {
	c := NewCSVWriter(w)
	if err := c.Write(AuditCSVHeader); err != nil {
		return err
	}
	for _, e := range entries {
		actor := ""
		if e.ActorID != nil {
			actor = strconv.FormatInt(*e.ActorID, 10)
		}
		if err := c.Write([]string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339Nano), actor, e.ActorName, e.Via,
			e.Action, e.TargetKind, strconv.FormatInt(e.TargetID, 10), e.Before, e.After, e.Addr}); err != nil {
			return err
		}
	}
	c.Flush()
	return c.Error()
}
