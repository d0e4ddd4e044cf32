package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/batonhq/baton"
)

// afterHistory keeps the reports' aggregates up to date with each audited
// change, in the change's transaction (see report_agg.go for what is kept):
//
//   - created: one query (the lead and its account), the lead's row of
//     report_leads, 26 counter rows (6 dimensions, cohort and period, day
//     and month, and the step owner's cohort) and its row of report_steps,
//     in four statements;
//   - stage: the lead's row read and written back, up to 26 counter rows, 4
//     duration rows and 4 more by owner, a row of report_steps for a move
//     into a stage of the funnel, and for a rejection 8 rejection rows and
//     a row of report_steps, in up to seven statements;
//   - updated source, campaign, country, owner_id or account_id, or a change
//     of owner by the handoff (assigned, breached, nurture): the row read and
//     written back and the lead's cohort counters moved to the new value
//     (account_id reads the account, an owner change the lead's owner_id by
//     its primary key); an owner change at the instant of the lead's latest
//     stage change (the routing of that move) also moves that step's owner
//     counters, a few more rows in the same statement and no query (see
//     leadAgg.setOwner); other entries cost nothing.
//
// A lead with no row yet (created before the reports existed) gets it from
// its whole history the first time it changes.
func (tx *Tx) afterHistory(ctx context.Context, h baton.HistoryEntry) error {
	switch {
	case h.Action == baton.ActionCreated, h.Action == baton.ActionStage, ownerChange(&h):
	case h.Action == baton.ActionUpdated:
		if _, ok := dimOfField(h.Field); !ok {
			return nil
		}
	default:
		return nil
	}
	d := tx.delta()
	account := func(id string) (string, string, error) { return tx.reportAccount(ctx, id) }
	var a *leadAgg
	if h.Action == baton.ActionCreated {
		raw, ind, size, err := tx.reportDims(ctx, h.LeadID)
		if err != nil {
			return err
		}
		a = &leadAgg{}
		a.start(&h, [nDims]string{raw.source, raw.campaign, ind, size, raw.country, raw.owner}, d)
	} else {
		var err error
		if a, err = tx.loadAgg(ctx, h.LeadID); err != nil {
			return err
		}
		if a == nil {
			raw, _, _, err := tx.reportDims(ctx, h.LeadID)
			if err != nil {
				return err
			}
			hist, err := tx.history(ctx, h.LeadID)
			if err != nil {
				return err
			}
			if a, err = replay(raw, hist, account, d); err != nil || a == nil {
				return err
			}
		} else if err := a.apply(&h, account, func(*baton.HistoryEntry) (string, error) {
			raw, _, _, err := tx.reportDims(ctx, h.LeadID)
			return raw.owner, err
		}, d); err != nil {
			return err
		}
	}
	return tx.saveAggs(ctx, []*leadAgg{a})
}

// delta returns the transaction's counters, written once at its commit.
func (tx *Tx) delta() *aggDelta {
	if tx.pending == nil {
		tx.pending = &pending{}
	}
	if tx.pending.delta == nil {
		tx.pending.delta = newAggDelta()
	}
	return tx.pending.delta
}

// reportDims reads the fields of a lead the dimensions come from, with its
// account's industry and size band.
func (tx *Tx) reportDims(ctx context.Context, id int64) (rawDims, string, string, error) {
	var r rawDims
	var owner, account, employees sql.NullInt64
	var industry sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT l.source, l.campaign, l.country, l.owner_id, l.account_id, l.fit_rules, a.industry, a.employees
		FROM leads l LEFT JOIN accounts a ON a.id = l.account_id WHERE l.id = $1`, id).
		Scan(&r.source, &r.campaign, &r.country, &owner, &account, &r.fitRules, &industry, &employees)
	if err != nil {
		return r, "", "", fmt.Errorf("report dimensions of lead %d: %w", id, err)
	}
	r.owner, r.account = fmtID(ptrInt(owner)), fmtID(ptrInt(account))
	return r, industry.String, baton.SizeBand(ptrInt(employees)), nil
}

// reportAccount returns the industry and size band of an account given by
// its id as text ("" or an unknown account: no industry, size unknown).
func (tx *Tx) reportAccount(ctx context.Context, id string) (string, string, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if id == "" || err != nil {
		return "", baton.SizeBand(nil), nil
	}
	var industry string
	var employees sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT industry, employees FROM accounts WHERE id = $1`, n).Scan(&industry, &employees)
	if errors.Is(err, sql.ErrNoRows) {
		return "", baton.SizeBand(nil), nil
	} else if err != nil {
		return "", "", fmt.Errorf("report account %d: %w", n, err)
	}
	return industry, baton.SizeBand(ptrInt(employees)), nil
}

const aggColumns = `lead_id, created_at, source, campaign, industry, size_band, country, owner, stage, stage_at,
	mql_at, sal_at, sql_at, opportunity_at, won_at, lost_at, recycled_at, disqualified_at, returned_at, fit_rules`

const nAggColumns = 20

// loadAgg reads a lead's row of report_leads, or nil if it has none.
func (tx *Tx) loadAgg(ctx context.Context, id int64) (*leadAgg, error) {
	a, err := scanAgg(tx.QueryRowContext(ctx, `SELECT `+aggColumns+` FROM report_leads WHERE lead_id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("report row of lead %d: %w", id, err)
	}
	return a, nil
}

// loadAggs reads the rows of report_leads of the leads with the given ids
// (those that have one).
func (tx *Tx) loadAggs(ctx context.Context, ids []int64) (map[int64]*leadAgg, error) {
	out := map[int64]*leadAgg{}
	err := tx.db.idLists(ids, func(list string, args []any) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+aggColumns+` FROM report_leads WHERE lead_id IN `+list, args...)
		if err != nil {
			return fmt.Errorf("report rows: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAgg(rows)
			if err != nil {
				return err
			}
			out[a.id] = a
		}
		return rows.Err()
	})
	return out, err
}

func scanAgg(row interface{ Scan(...any) error }) (*leadAgg, error) {
	a := &leadAgg{}
	var at [nReached + 1]sql.NullInt64
	dest := []any{&a.id, &a.created}
	for i := range a.dims {
		dest = append(dest, &a.dims[i])
	}
	dest = append(dest, &a.stage, &a.stageAt)
	for i := range at {
		dest = append(dest, &at[i])
	}
	dest = append(dest, &a.rules)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	for i := range a.reached {
		a.reached[i] = at[i].Int64
	}
	a.returned = at[nReached].Int64
	return a, nil
}

// setFitRules records the fit rules that now fire for leads, moving their
// cohort counts to the new rules (rules by lead id; leads whose rules did
// not change are not in it).
func (tx *Tx) setFitRules(ctx context.Context, rules map[int64]string) error {
	if len(rules) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(rules))
	for id := range rules {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	aggs, err := tx.loadAggs(ctx, ids)
	if err != nil {
		return err
	}
	d := tx.delta()
	changed := make([]*leadAgg, 0, len(aggs))
	for _, id := range ids {
		// A lead with no row gets one from its history, with these rules,
		// the first time it changes.
		if a := aggs[id]; a != nil && a.rules != rules[id] {
			a.setRules(rules[id], d)
			changed = append(changed, a)
		}
	}
	return tx.saveAggs(ctx, changed)
}

func nullMicrosOf(us int64) any {
	if us == 0 {
		return nil
	}
	return us
}

// appendRow appends the lead's row of report_leads, in the order of
// aggColumns.
func (a *leadAgg) appendRow(args []any) []any {
	args = append(args, a.id, a.created)
	for _, v := range a.dims {
		args = append(args, v)
	}
	args = append(args, string(a.stage), a.stageAt)
	for _, v := range a.reached {
		args = append(args, nullMicrosOf(v))
	}
	return append(args, nullMicrosOf(a.returned), a.rules)
}

// saveAggs writes lead rows of report_leads (insert or replace).
func (tx *Tx) saveAggs(ctx context.Context, aggs []*leadAgg) error {
	const chunk = 500
	for len(aggs) > 0 {
		n := min(len(aggs), chunk)
		var b strings.Builder
		b.WriteString(`INSERT INTO report_leads (` + aggColumns + `) VALUES `)
		tx.db.placeholders(&b, n, nAggColumns, 1)
		b.WriteString(` ON CONFLICT (lead_id) DO UPDATE SET source = excluded.source, campaign = excluded.campaign,
			industry = excluded.industry, size_band = excluded.size_band, country = excluded.country, owner = excluded.owner,
			stage = excluded.stage, stage_at = excluded.stage_at, mql_at = excluded.mql_at, sal_at = excluded.sal_at,
			sql_at = excluded.sql_at, opportunity_at = excluded.opportunity_at, won_at = excluded.won_at,
			lost_at = excluded.lost_at, recycled_at = excluded.recycled_at, disqualified_at = excluded.disqualified_at,
			returned_at = excluded.returned_at, fit_rules = excluded.fit_rules`)
		args := make([]any, 0, n*nAggColumns)
		for _, a := range aggs[:n] {
			args = a.appendRow(args)
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("save report rows: %w", err)
		}
		aggs = aggs[n:]
	}
	return nil
}

// flushDelta adds the collected counter changes to the counter tables, in
// both grains (day and month), with multi-row upserts.
func (tx *Tx) flushDelta(ctx context.Context, d *aggDelta) error {
	type dailyRow struct {
		kind         byte
		dim          int
		grain        byte
		day          int64
		value, stage string
	}
	daily := make(map[dailyRow]int64, 2*len(d.daily))
	for k, n := range d.daily {
		daily[dailyRow{k.kind, k.dim, 'd', k.day, k.value, k.stage}] += n
		daily[dailyRow{k.kind, k.dim, 'm', monthOf(k.day), k.value, k.stage}] += n
	}
	var rows [][]any
	for k, n := range daily {
		if n != 0 {
			rows = append(rows, []any{string(k.kind), dimNames[k.dim], string(k.grain), k.day, k.value, k.stage, n})
		}
	}
	if err := tx.upsertCounters(ctx, "report_daily", "kind, dim, grain, day, value, stage", rows); err != nil {
		return err
	}
	type durationRow struct {
		grain  byte
		day    int64
		kind   string
		bucket int
	}
	durations := make(map[durationRow]int64, 2*len(d.durations))
	type ownerDurationRow struct {
		owner string
		durationRow
	}
	owners := make(map[ownerDurationRow]int64, 2*len(d.durations))
	for k, n := range d.durations {
		for _, r := range []durationRow{{'d', k.day, k.kind, k.bucket}, {'m', monthOf(k.day), k.kind, k.bucket}} {
			durations[r] += n
			owners[ownerDurationRow{k.owner, r}] += n
		}
	}
	rows = rows[:0]
	for k, n := range durations {
		if n != 0 {
			rows = append(rows, []any{string(k.grain), k.day, k.kind, k.bucket, n})
		}
	}
	if err := tx.upsertCounters(ctx, "report_durations", "grain, day, kind, bucket", rows); err != nil {
		return err
	}
	rows = rows[:0]
	for k, n := range owners {
		if n != 0 {
			rows = append(rows, []any{k.owner, string(k.grain), k.day, k.kind, k.bucket, n})
		}
	}
	if err := tx.upsertCounters(ctx, "report_owner_durations", "owner, grain, day, kind, bucket", rows); err != nil {
		return err
	}
	rows = rows[:0]
	for k, n := range d.steps {
		if n != 0 {
			rows = append(rows, []any{k.step, k.at, k.owner, k.lead, n})
		}
	}
	if err := tx.upsertCounters(ctx, "report_steps", "step, at, owner, lead_id", rows); err != nil {
		return err
	}
	type rejectionRow struct {
		dim                     string
		grain                   byte
		day                     int64
		value, reason, from, to string
	}
	rejections := make(map[rejectionRow]int64, 8*len(d.rejections))
	for k, n := range d.rejections {
		for _, grain := range []byte{'d', 'm'} {
			day := k.day
			if grain == 'm' {
				day = monthOf(day)
			}
			rejections[rejectionRow{"", grain, day, "", k.reason, k.from, k.to}] += n
			rejections[rejectionRow{baton.DimSource, grain, day, k.source, k.reason, k.from, k.to}] += n
			rejections[rejectionRow{baton.DimCampaign, grain, day, k.campaign, k.reason, k.from, k.to}] += n
			rejections[rejectionRow{baton.DimOwner, grain, day, k.owner, k.reason, k.from, k.to}] += n
		}
	}
	rows = rows[:0]
	for k, n := range rejections {
		if n != 0 {
			rows = append(rows, []any{k.dim, string(k.grain), k.day, k.value, k.reason, k.from, k.to, n})
		}
	}
	return tx.upsertCounters(ctx, "report_rejections", "dim, grain, day, value, reason, from_stage, to_stage", rows)
}

// upsertCounters adds each row's last value (n) to the counter keyed by the
// others, creating it if needed. The rows are written in the order of their
// keys: two transactions that count under the same keys (on PostgreSQL,
// writers run side by side) then lock the counters in the same order, and
// one waits for the other instead of deadlocking with it.
func (tx *Tx) upsertCounters(ctx context.Context, table, key string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	slices.SortFunc(rows, compareKeys)
	cols := len(rows[0])
	chunk := 4000 / cols
	for len(rows) > 0 {
		n := min(len(rows), chunk)
		var b strings.Builder
		b.WriteString(`INSERT INTO ` + table + ` (` + key + `, n) VALUES `)
		tx.db.placeholders(&b, n, cols, 1)
		b.WriteString(` ON CONFLICT (` + key + `) DO UPDATE SET n = ` + table + `.n + excluded.n`)
		args := make([]any, 0, n*cols)
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("update %s: %w", table, err)
		}
		rows = rows[n:]
	}
	return nil
}

// compareKeys orders two counter rows by their key columns (all but the
// last), each a string or an integer.
func compareKeys(a, b []any) int {
	for i := range len(a) - 1 {
		var c int
		switch x := a[i].(type) {
		case string:
			c = strings.Compare(x, b[i].(string))
		case int64:
			c = cmp.Compare(x, b[i].(int64))
		case int:
			c = cmp.Compare(x, b[i].(int))
		default:
			c = strings.Compare(fmt.Sprint(x), fmt.Sprint(b[i]))
		}
		if c != 0 {
			return c
		}
	}
	return 0
}
