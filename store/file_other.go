//go:build !linux

package store

import "io"

// On systems other than Linux, Baton does not look at the file system
// itself: SQLite's own errors say what went wrong, and restores cannot tell
// whether the database is in use.

func fileProblem(path string) string               { return "" }
func sqliteFileProblem(path string) error          { return nil }
func freeBytes(dir string) (int64, bool)           { return 0, false }
func lockFile(path string) (io.Closer, error)      { return io.NopCloser(nil), nil }
func lockExclusive(path string) (io.Closer, error) { return io.NopCloser(nil), nil }
