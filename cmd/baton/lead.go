package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/batonhq/baton"
)

const leadUsage = `usage: baton lead ACTION ID --as EMAIL [flags]
  accept ID                       answer the lead's open handoff: an MQL becomes a SAL
  reject ID --reason R [--note N] [--duplicate-of ID]
  attempt ID --channel call|email|meeting --outcome O [--note N]
  qualify ID --budget 25000 --currency EUR --authority decision_maker --need "..." --timing immediate
  send-back ID --reason R
  recycle ID --reason R            an SQL back to marketing's nurture
  convert ID --name N [--amount A] [--product P] [--key IDEMPOTENCY-KEY]
  close ID --won|--lost [--value V] [--reason R]
  assign ID --to EMAIL [--note N]
  claim ID
  show ID                         the lead, its score and its SLA records as JSON
  queue --as EMAIL                the leads awaiting EMAIL's answer, soonest deadline first`

// cmdLead runs the handoff from the command line, acting as a user: the same
// rules apply as in the API and the UI.
func cmdLead(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(leadUsage)
	}
	action := args[0]
	fs, dsn := newFlags("lead "+action, stderr)
	as := fs.String("as", "", "the email of the user who acts")
	reason := fs.String("reason", "", "reject, send-back, close: the reason")
	note := fs.String("note", "", "a note")
	dup := fs.Int64("duplicate-of", 0, "reject duplicate: the lead this one duplicates")
	channel := fs.String("channel", "call", "attempt: call, email or meeting")
	outcome := fs.String("outcome", "", "attempt: what happened (no_answer, voicemail, connected, ...)")
	budget := fs.Float64("budget", -1, "qualify: the budget amount")
	currency := fs.String("currency", "", "qualify: the budget's currency")
	authority := fs.String("authority", "", "qualify: decision_maker, influencer or none")
	need := fs.String("need", "", "qualify: the need")
	timing := fs.String("timing", "", "qualify: immediate, this_quarter or later")
	timingDate := fs.String("timing-date", "", "qualify: for timing later, YYYY-MM-DD")
	name := fs.String("name", "", "convert: the opportunity's name")
	amount := fs.Float64("amount", 0, "convert: the amount")
	product := fs.String("product", "", "convert: the product")
	key := fs.String("key", "", "convert: an idempotency key (a retry with it converts once)")
	won := fs.Bool("won", false, "close: won")
	lost := fs.Bool("lost", false, "close: lost")
	value := fs.Float64("value", 0, "close: the close value")
	to := fs.String("to", "", "assign: the email of the rep")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if *as == "" {
		return fmt.Errorf("lead %s: --as EMAIL is required: the CLI acts as a user, under that user's rights", action)
	}
	var id int64
	if action != "queue" {
		if len(pos) != 1 {
			return errors.New(leadUsage)
		}
		if id, err = strconv.ParseInt(pos[0], 10, 64); err != nil {
			return fmt.Errorf("lead %s: %q is not a lead id", action, pos[0])
		}
	}
	db, err := openDB(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	sys := baton.WithActor(ctx, baton.Actor{Name: "cli", Role: baton.RoleSystem, Via: "cli"})
	u, err := db.FindUserByEmail(sys, *as)
	if err != nil {
		return err
	}
	ctx = baton.WithActor(ctx, baton.ActorOf(u, "cli"))
	var out any
	switch action {
	case "accept":
		out, err = db.Accept(ctx, id)
	case "reject":
		out, err = db.Reject(ctx, id, baton.Rejection{Reason: *reason, Note: *note, DuplicateOf: *dup})
	case "attempt":
		a := &baton.Attempt{Channel: *channel, Outcome: *outcome, Note: *note}
		err, out = db.LogAttempt(ctx, id, a), a
	case "qualify":
		b := baton.BANT{BudgetCurrency: *currency, BudgetConfirmed: *budget >= 0, Authority: *authority, Need: *need, Timing: *timing}
		if *budget >= 0 {
			b.BudgetAmount = budget
		}
		if *timingDate != "" {
			d, perr := time.Parse("2006-01-02", *timingDate)
			if perr != nil {
				return baton.FieldError("timing-date", "want YYYY-MM-DD, not %q", *timingDate)
			}
			b.TimingDate = &d
		}
		out, err = db.Qualify(ctx, id, b)
	case "send-back":
		out, err = db.SendBack(ctx, id, *reason)
	case "recycle":
		out, err = db.Recycle(ctx, id, *reason)
	case "convert":
		var created bool
		var o *baton.Opportunity
		o, created, err = db.Convert(ctx, id, baton.ConvertInput{Name: *name, Amount: *amount, Product: *product, IdempotencyKey: *key})
		out = map[string]any{"opportunity": o, "created": created}
	case "close":
		if *won == *lost {
			return fmt.Errorf("lead close: give --won or --lost")
		}
		out, err = db.CloseLead(ctx, id, baton.CloseInput{Won: *won, Value: *value, Reason: *reason})
	case "assign":
		t, ferr := db.FindUserByEmail(sys, *to)
		if ferr != nil {
			return ferr
		}
		out, err = db.Assign(ctx, id, t.ID, *note)
	case "claim":
		out, err = db.Claim(ctx, id)
	case "show":
		l, lerr := db.FindLeadByID(ctx, id)
		if lerr != nil {
			return lerr
		}
		hs, herr := db.Handoffs(ctx, id)
		if herr != nil {
			return herr
		}
		ex, _ := db.ExplainScore(ctx, id)
		out = map[string]any{"lead": l, "score": ex, "handoffs": hs}
	case "queue":
		out, err = db.Queue(ctx, "")
	default:
		return fmt.Errorf("lead: unknown action %q\n%s", action, leadUsage)
	}
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
