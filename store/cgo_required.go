//go:build !cgo

package store

// The SQLite driver is SQLite's C code (sqlite_driver.go): without cgo the
// build stops here, with the reason as its first error.
var _ int = "Baton needs cgo to build SQLite: install a C compiler (gcc) and leave CGO_ENABLED at 1"
