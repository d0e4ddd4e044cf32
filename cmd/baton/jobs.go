package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store"
)

func cmdJobs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "status" && args[0] != "probe") {
		return fmt.Errorf("usage: baton jobs status | baton jobs probe --count N [--delay-ms D] | baton jobs probe --check")
	}
	fs, dsn := newFlags("jobs "+args[0], stderr)
	count := fs.Int("count", 100, "probe: how many probe jobs to enqueue")
	delay := fs.Int("delay-ms", 0, "probe: how long each probe job takes")
	check := fs.Bool("check", false, "probe: report how the probe jobs ran instead of enqueuing")
	if _, err := parse(fs, args[1:]); err != nil {
		return err
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx = baton.WithActor(ctx, baton.Actor{Name: "cli", Role: baton.RoleSystem, Via: "cli"})
	switch {
	case args[0] == "status":
		s, err := db.JobStats(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "due %d, waiting %d, done %d, dead %d\n", s.Due, s.Waiting, s.Done, s.Dead)
	case *check:
		r, err := db.Probe(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "probe jobs %d: ran once %d, never %d, more than once %d\n", r.Jobs, r.Once, r.Never, r.More)
		names := make([]string, 0, len(r.Workers))
		for w := range r.Workers {
			names = append(names, w)
		}
		sort.Strings(names)
		for _, w := range names {
			fmt.Fprintf(stdout, "  %s ran %d\n", w, r.Workers[w])
		}
		if r.More > 0 {
			return fmt.Errorf("%d probe jobs ran more than once", r.More)
		}
	default:
		payload, _ := json.Marshal(map[string]int{"delay_ms": *delay})
		for i := 0; i < *count; i++ {
			if err := db.EnqueueJob(ctx, &baton.Job{Kind: store.ProbeJob, Payload: payload}); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "enqueued %d probe jobs\n", *count)
	}
	return nil
}
