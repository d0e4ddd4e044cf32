package store_test

import (
	"reflect"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/storetest"
)

// TestImportAccountsLikeOneByOne imports a batch of accounts in one world
// and the same accounts one per batch in another, the row-by-row way: the
// same accounts are created and updated, the same rows refused, the same
// leads linked. The batch has every case the look-ups read ahead must get
// right: a domain and a name that two rows share, a name that matches two
// stored accounts (the older wins), and a rename, after which a row without
// a domain must find the account by its new name.
func TestImportAccountsLikeOneByOne(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB) *store.DB) {
		world := func() *store.DB {
			db, _ := importWorld(t, open) // Acme (acme.com), Globex (globex.com)
			for _, a := range []*baton.Account{{Name: "Initech"}, {Name: "initech", Domain: "initech.io"}, {Name: "Umbrella"}} {
				if err := db.CreateAccount(storetest.System(), a); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.ImportLeads(importActor(), []*baton.Lead{{Email: "a@hooli.com"}, {Email: "b@hooli.com"}, {Email: "c@piedpiper.com"}}); err != nil {
				t.Fatal(err)
			}
			return db
		}
		batch := func() []*baton.Account {
			emp := int64(40)
			return []*baton.Account{
				{Name: "Acme Corp", Domain: "ACME.com", Industry: "hardware"}, // update by domain, renamed
				{Name: "acme corp", Industry: "robots"},                       // by its new name
				{Name: "INITECH", Country: "US"},                              // two stored: the older
				{Name: "Hooli", Domain: "hooli.com", Employees: &emp},         // new, takes two leads
				{Name: "Hooli XYZ", Domain: "hooli.com"},                      // the one just made
				{Name: "Pied Piper", Domain: "piedpiper.com"},                 // new
				{Name: "pied piper"},                                          // the one just made, by name
				{Name: "Vandelay"},                                            // new, no domain
				{Name: "VANDELAY", Industry: "import/export"},                 // the one just made
				{Name: ""},                                     // refused
				{Name: "Bad", Domain: "not a domain"},          // refused
				{Name: "umbrella", Domain: "umbrella.example"}, // new: a domain is the key
			}
		}
		one, bulk := world(), world()
		var want baton.ImportResult
		for i, a := range batch() {
			res, err := one.ImportAccounts(importActor(), []*baton.Account{a})
			if err != nil {
				t.Fatalf("row %d: %v", i, err)
			}
			for k := range res.Errors {
				res.Errors[k].Row = i
			}
			want.Add(res)
		}
		got, err := bulk.ImportAccounts(importActor(), batch())
		if err != nil {
			t.Fatal(err)
		}
		if want.Created != 4 || want.Updated != 6 || want.Rejected != 2 {
			t.Fatalf("one by one: %+v, want 4 created, 6 updated, 2 rejected", want)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("batch: %+v\nwant %+v", got, want)
		}
		accounts := func(db *store.DB) []*baton.Account {
			all, _, err := db.FindAccounts(storetest.System(), baton.AccountFilter{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			return all
		}
		wa, ga := accounts(one), accounts(bulk)
		if len(wa) != 9 {
			t.Fatalf("%d accounts one by one, want 9", len(wa))
		}
		if !reflect.DeepEqual(ga, wa) {
			for i := range max(len(wa), len(ga)) {
				if i >= len(wa) || i >= len(ga) || !reflect.DeepEqual(ga[i], wa[i]) {
					t.Errorf("account %d differs:\n got %+v\nwant %+v", i, at(ga, i), at(wa, i))
				}
			}
		}
		sameWorlds(t, one, bulk)
	})
}

func at(as []*baton.Account, i int) any {
	if i < len(as) {
		return *as[i]
	}
	return nil
}
