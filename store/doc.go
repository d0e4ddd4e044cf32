// Package store is Baton's storage on SQLite (embedded, the default) and
// PostgreSQL (production): one package and the same SQL for both, with
// every difference between them in dialect.go. *DB implements every service
// interface of package baton.
//
// # Transactions
//
// Every public method takes a context carrying the actor (baton.WithActor),
// runs one transaction and checks in it what the actor may see and do, so
// that the API, the web UI, the CLI and the jobs cannot forget to. A write
// transaction (DB.begin) fixes its time once (tx.now, from DB.Now, which
// tests move) and writes the change, its history entry, the report
// aggregates, the jobs it schedules and the notifications it causes
// together: they commit together or not at all. Storage calls made with the
// context of a job handler or of DB.InTx join its transaction.
//
// On SQLite one connection writes, and writers take turns in the order they
// came (DB.gate) before BEGIN IMMEDIATE; readers use a pool of their own and
// never wait for the writer (WAL mode). The WAL is kept small by wal.go. On
// PostgreSQL transactions run side by side: a write locks the rows it reads
// to write back (SELECT ... FOR NO KEY UPDATE), and background claims skip
// rows others hold (FOR UPDATE SKIP LOCKED). A stage change is a compare-and-set
// on the lead's stage and version on both: of two racing moves one wins, the
// other gets ECONFLICT.
//
// # Read replicas
//
// On PostgreSQL, Options.ReadDSNs names streaming replicas (hot standbys).
// The reads that may lag begin with beginLagged instead of beginRead: the
// reports, the lead lists and exports, the event and audit lists, the
// stale-SAL list, the metrics' gauges and the training set. They run on a
// replica that a checker found in recovery and within Options.MaxLag of
// the primary (its lag: the age of the newest primary WAL position it has
// replayed), else on the primary. Everything else, and any read of a user
// who wrote in the last MaxLag plus two checks, reads the primary
// (replica.go). Health lists the replicas; Stats counts the read
// transactions by where they ran.
//
// # The lifecycle
//
// Every move of a lead is a rule of baton.Rules, made by Tx.move
// (lifecycle.go): it finds the rule, checks who may make it (baton.Rule.Allows)
// and what it needs, then closes the open handoff, changes the stage with
// its history entry, gives the lead its owner (route.go: routing, assign,
// reassign, claims, breaches, all through giveTo and setOwner), sets the
// nurture track, stores the records (BANT, the opportunity, the close, a
// merge), schedules the accountability check, notifies and emits the
// webhook event. The verbs of verbs.go (Accept, Reject, Qualify, ...) and
// ChangeStage only say which rule they mean. A lead the actor may not read
// is not found, with the words of one that does not exist.
//
// # Background jobs
//
// Jobs are rows of the jobs table (job.go); a worker claims a due one and
// runs its handler in the claiming transaction, so it runs once. JobHandlers
// (sla.go) is the one map of kinds: the SLA reminder and breach (sla.go),
// the stale-SAL check, rescoring after a publication (rescore.go) or an
// account edit (account.go), and the probe of `baton jobs probe`. The outbox
// (outbox.go) holds what is delivered outside transactions: emails, signed
// webhooks and Slack messages (slack.go), at least once.
//
// # Files
//
//	db.go, dialect.go, wal.go    opening, migrations, transactions; SQLite and PostgreSQL differences; the WAL
//	health.go, backup.go         health and outages (disk full, read-only); backup and restore
//	replica.go                   PostgreSQL read replicas: which reads go there, their lag, the fallback
//	lead.go, history.go          leads, their visibility and edits; the audit trail and timeline
//	lead_import.go               importing leads: the new ones in bulk, the rest as upserts in turn
//	attribute.go, account.go     custom attributes; accounts (edits rescore their leads)
//	event.go                     behavioural events, stored once per sender id
//	intake.go                    ingest keys; Segment's and the website's messages, visitors stitched to leads
//	lifecycle.go, verbs.go       the lifecycle's one function, and the verbs
//	route.go, answer.go          routing and owners; answering handoffs, attempts, merges
//	convert.go, handoff.go       BANT and conversion; handoff records and the rep's queue
//	sla.go, inbox.go, outbox.go  the SLA's jobs; notifications and webhook events; delivery
//	slack.go, secret.go          Slack channels and what they are told; sealed secrets
//	stats.go                     the business metrics: counts tallied at commit, gauges from bounded queries
//	score*.go, rescore.go        scoring leads by the policy and the model, and rescoring them all
//	policy.go, train.go          scoring policies and backtests; training the model
//	report*.go                   the reports and the aggregates written with every change
//	user.go, auth.go, calendar.go users and tokens; sign-in and sessions; working calendars
//	opportunity.go, job.go       opportunities and products; the job queue
package store
