package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/batonhq/baton"
)

func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	use := "usage: baton report " + strings.Join(baton.ReportNames, "|") + " [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--by DIM] [--cohort] [--csv]"
	if len(args) == 0 {
		return fmt.Errorf("%s", use)
	}
	fs, dsn := newFlags("report "+args[0], stderr)
	from := fs.String("from", "", "first day, YYYY-MM-DD")
	to := fs.String("to", "", "day after the last, YYYY-MM-DD")
	by := fs.String("by", "", "breakdown: source, campaign, industry, size, country, team, owner (rejections: week)")
	cohort := fs.Bool("cohort", false, "funnel: by the leads' creation cohort instead of the period's transitions")
	days := fs.Int("days", 0, "stale, stalled: days without progress")
	asCSV := fs.Bool("csv", false, "print CSV")
	if _, err := parse(fs, args[1:]); err != nil {
		return err
	}
	f := baton.ReportFilter{By: *by, Cohort: *cohort, Days: *days}
	for _, d := range []struct {
		name, v string
		dst     *time.Time
	}{{"from", *from, &f.From}, {"to", *to, &f.To}} {
		if d.v != "" {
			t, err := time.Parse("2006-01-02", d.v)
			if err != nil {
				return baton.FieldError(d.name, "want YYYY-MM-DD, not %q", d.v)
			}
			*d.dst = t
		}
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx = baton.WithActor(ctx, baton.Actor{Name: "cli", Role: baton.RoleSystem, Via: "cli"})
	rep, err := db.RunReport(ctx, args[0], f)
	if err != nil {
		return err
	}
	if *asCSV {
		return rep.WriteCSV(stdout)
	}
	fmt.Fprintf(stdout, "%s\n\n", rep.Title)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(rep.Columns, "\t"))
	for _, r := range rep.Rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
	for _, n := range rep.Notes {
		fmt.Fprintln(stdout, "\n"+n)
	}
	return nil
}
