package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
)

// findOwner returns how a lead file's owner column (a CRM export's "Lead
// Owner" or "Contact owner") finds Baton's users: by email, else by full
// name when one user alone has it. A name no user has, or that several
// share, is the row's error: an owner is never dropped or guessed.
func findOwner(ctx context.Context, db *store.DB) (func(string) (int64, error), error) {
	byEmail := map[string]int64{}
	byName := map[string][]int64{}
	for offset := 0; ; offset += 1000 {
		users, _, err := db.FindUsers(ctx, baton.UserFilter{Offset: offset, Limit: 1000})
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			byEmail[strings.ToLower(u.Email)] = u.ID
			n := strings.ToLower(strings.Join(strings.Fields(u.Name), " "))
			byName[n] = append(byName[n], u.ID)
		}
		if len(users) < 1000 {
			break
		}
	}
	return func(s string) (int64, error) {
		if id, ok := byEmail[strings.ToLower(strings.TrimSpace(s))]; ok {
			return id, nil
		}
		switch ids := byName[strings.ToLower(strings.Join(strings.Fields(s), " "))]; len(ids) {
		case 1:
			return ids[0], nil
		case 0:
			return 0, fmt.Errorf("no Baton user has the email or the name %q: import the users first, or skip the column (--map \"HEADER=-\")", s)
		default:
			return 0, fmt.Errorf("%d Baton users are named %q: give the owner's email", len(ids), s)
		}
	}, nil
}
