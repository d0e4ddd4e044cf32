package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
)

func cmdPolicy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const use = "usage: baton policy show | validate FILE | backtest FILE [--json] | publish FILE [--now] | default"
	if len(args) == 0 {
		return errors.New(use)
	}
	sub := args[0]
	fs, dsn := newFlags("policy "+sub, stderr)
	asJSON := fs.Bool("json", false, "backtest: print JSON")
	now := fs.Bool("now", false, "publish: rescore every lead before returning instead of in the background")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if sub == "default" {
		_, err := stdout.Write(policy.DefaultDocument())
		return err
	}
	var body []byte
	if sub != "show" {
		if len(pos) != 1 {
			return errors.New(use)
		}
		if body, err = os.ReadFile(pos[0]); err != nil {
			return err
		}
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx = baton.WithActor(ctx, baton.Actor{Name: "cli", Role: baton.RoleSystem, Via: "cli"})
	switch sub {
	case "show":
		d, err := db.CurrentPolicy(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "# policy v%d, published by %s at %s\n%s", d.Version, d.PublishedBy, d.PublishedAt.Format("2006-01-02 15:04"), d.Body)
	case "validate":
		if err := db.ValidatePolicy(ctx, string(body)); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "valid")
	case "publish":
		d, err := db.PublishDocument(ctx, string(body))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "published policy v%d (%s)\n", d.Version, d.Name)
		if *now {
			n, err := db.RescoreAll(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "rescored %d leads\n", n)
		} else {
			fmt.Fprintln(stdout, "every lead is being rescored by the running servers' background workers")
		}
	case "backtest":
		bt, err := db.Backtest(ctx, string(body))
		if err != nil {
			return err
		}
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(bt)
		}
		printBacktest(stdout, bt)
	default:
		return errors.New(use)
	}
	return nil
}

// printBacktest prints the draft and the current policy side by side.
func printBacktest(w io.Writer, bt *baton.Backtest) {
	rate := func(n, d int) string {
		if d == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(d))
	}
	cur := fmt.Sprintf("current v%d", bt.Current.Version)
	if bt.Current.Version == 0 {
		cur = "current (none)"
	}
	fmt.Fprintf(w, "Backtest over %d leads and their events\n\n", bt.Leads)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\tMQL\taccepted\tSQL\twon\taccept rate\twin rate\t\n")
	for _, s := range []struct {
		name string
		side baton.BacktestSide
	}{{cur, bt.Current}, {"draft", bt.Draft}} {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t\n", s.name, s.side.MQL, s.side.Accepted, s.side.SQL, s.side.Won,
			rate(s.side.Accepted, s.side.MQL), rate(s.side.Won, s.side.MQL))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nThe draft makes %d more leads MQL and %d fewer.\n\nBy source:\n", bt.Gained, bt.Lost)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "source\tleads\tMQL now\twon now\tMQL draft\twon draft\t\n")
	for _, r := range bt.Sources {
		src := r.Source
		if src == "" {
			src = "(none)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t\n", src, r.Leads, r.Current.MQL, r.Current.Won, r.Draft.MQL, r.Draft.Won)
	}
	tw.Flush()
	if len(bt.Changes) > 0 {
		fmt.Fprintf(w, "\nLeads that change sides (first %d):\n", min(len(bt.Changes), 10))
		for _, c := range bt.Changes[:min(len(bt.Changes), 10)] {
			side := "becomes MQL"
			if !c.DraftMQL {
				side = "no longer MQL"
			}
			fmt.Fprintf(w, "  lead %d (%s, now %s): %s; fit %.0f -> %.0f\n", c.LeadID, c.Source, c.Stage, side, c.CurrentFit, c.DraftFit)
		}
	}
}

func cmdModelTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dsn := newFlags("model train", stderr)
	holdout := fs.Float64("holdout", 0.2, "share of leads held out to judge the model")
	seed := fs.Uint64("seed", 1, "random seed of the split and the model")
	force := fs.Bool("force", false, "activate even if worse than the active model")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx = baton.WithActor(ctx, baton.Actor{Name: "cli", Role: baton.RoleSystem, Via: "cli"})
	rep, err := db.TrainModel(ctx, *holdout, *seed, *force)
	if err != nil {
		return err
	}
	printTrain(stdout, rep)
	return nil
}

func printTrain(w io.Writer, rep *baton.TrainReport) {
	state := "activated"
	if !rep.Activated {
		state = "stored, not activated"
	}
	fmt.Fprintf(w, "model v%d %s: trained on %d leads (%d converted) in %.2f s\n", rep.Version, state, rep.Rows, rep.Positives, rep.Seconds)
	fmt.Fprintf(w, "held out %d leads: AUC %.4f, log loss %.4f, Brier %.4f, top-10%% precision %.3f (lift %.2f)\n",
		rep.Holdout, rep.New.AUC, rep.New.LogLoss, rep.New.Brier, rep.New.PrecisionTop10, rep.New.LiftTop10)
	day := func(t time.Time) string { return t.Format("2006-01-02") }
	fmt.Fprintf(w, "split by time: trained on outcomes whose clock started %s to %s, held out %s to %s\n",
		day(rep.TrainFrom), day(rep.TrainTo), day(rep.HoldoutFrom), day(rep.HoldoutTo))
	fmt.Fprintf(w, "%d features: %s\n", len(rep.Features), strings.Join(rep.Features, ", "))
	fmt.Fprintln(w, rep.Why)
}
