package store_test

import (
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// TestDefaultPolicyPublishesOnAnEmptyDatabase: the shipped policy declares
// the attributes it expects, and publishing it defines them.
func TestDefaultPolicyPublishesOnAnEmptyDatabase(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		db := open(t)
		doc, err := db.PublishDocument(storetest.System(), string(policy.DefaultDocument()))
		if err != nil {
			t.Fatal(err)
		}
		if doc.Version != 1 {
			t.Fatalf("published as v%d", doc.Version)
		}
		defs, err := db.AttributeDefs(storetest.System())
		if err != nil {
			t.Fatal(err)
		}
		types := map[string]baton.AttrType{}
		for _, d := range defs {
			types[d.Name] = d.Type
		}
		for name, want := range map[string]baton.AttrType{"Total Time Spent on Website": baton.AttrNumber, "Do Not Email": baton.AttrBool, "Tags": baton.AttrString} {
			if types[name] != want {
				t.Errorf("attribute %q is %q, want %q", name, types[name], want)
			}
		}
	})
}
