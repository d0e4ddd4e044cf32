package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/batonhq/baton/demo"
	"github.com/batonhq/baton/storetest"
)

// BenchmarkDemoLoad times the whole demo load (`baton serve --demo` before
// it listens), with its floor in the same run: a fresh database migrated
// and opened, which every load pays. Run with -benchtime 2x:
//
//	go test -run '^$' -bench DemoLoad -benchtime 2x ./demo
func BenchmarkDemoLoad(b *testing.B) {
	b.Run("floor-open", func(b *testing.B) {
		for b.Loop() {
			storetest.SQLite(b)
		}
	})
	b.Run("demo", func(b *testing.B) {
		for b.Loop() {
			db := storetest.SQLite(b)
			db.Now = func() time.Time { return time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC) }
			if ok, err := demo.Load(context.Background(), db, nil); err != nil || !ok {
				b.Fatal(ok, err)
			}
		}
	})
}
