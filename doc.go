// Package baton holds the domain of Baton, the system that runs the handoff of
// leads from marketing to sales (the Sales Accepted Lead process): leads,
// accounts, events, users, the lifecycle and its rules, errors, and the
// service interfaces that storage implements.
//
// It imports only the standard library. Storage (package store), the JSON API
// (package api), CSV import (package csvimport), the predictive model (package
// model) and the command line (cmd/baton) depend on it, never the reverse.
//
// # Lifecycle
//
// A lead moves new -> mql -> sal -> sql -> opportunity -> won | lost, and may
// leave to recycled (marketing nurture, may become an MQL again) or
// disqualified. [Rules] is every legal move: from a stage, by a [Verb], to a
// stage, with who may make it ([Rule.Allows]), what it needs and what it
// causes ([Effects]); storage applies it, and [Moves] tells a page which
// moves a viewer may make. Every move is audited as a [HistoryEntry].
//
// # Errors
//
// Every error meant for a user is an [*Error] with a code (EINVALID,
// ENOTFOUND, ...), a readable message and, for bad input, the field at fault.
// The API maps codes to HTTP statuses in one table.
//
// # Actors
//
// Every storage call carries an [Actor] in its context ([WithActor]): the user
// making the change, or [SystemActor] for automatic changes. Storage checks
// what the actor may see and do, so the API and the CLI cannot forget to.
package baton
