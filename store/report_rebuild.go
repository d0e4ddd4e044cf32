package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"github.com/batonhq/baton"
)

// RebuildReports recomputes every report aggregate from lead_history, in one
// write transaction, and returns the number of leads replayed. Run it once
// after upgrading a database that has leads from before the reports existed
// (until then those leads join the reports as they change), or to repair the
// aggregates. Admins and the system only. It reads the history a chunk of
// leads at a time and keeps only the counters in memory.
func (db *DB) RebuildReports(ctx context.Context) (int, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() {
		return 0, baton.Errorf(baton.EFORBIDDEN, "only an admin may rebuild the reports")
	}
	for _, t := range []string{"report_leads", "report_daily", "report_durations", "report_owner_durations", "report_rejections", "report_steps"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t); err != nil {
			return 0, fmt.Errorf("rebuild reports: %w", err)
		}
	}
	accounts, err := tx.reportAccounts(ctx)
	if err != nil {
		return 0, err
	}
	account := func(id string) (string, string, error) {
		if a, ok := accounts[id]; ok {
			return a[0], a[1], nil
		}
		return "", baton.SizeBand(nil), nil
	}
	d := newAggDelta()
	var after int64
	total := 0
	for {
		ids, raws, err := tx.rawDimsAfter(ctx, after, 2000)
		if err != nil {
			return 0, err
		}
		if len(ids) == 0 {
			break
		}
		hist, err := tx.historyBetween(ctx, ids[0], ids[len(ids)-1])
		if err != nil {
			return 0, err
		}
		aggs := make([]*leadAgg, 0, len(ids))
		for i, id := range ids {
			a, err := replay(raws[i], hist[id], account, d)
			if err != nil {
				return 0, err
			}
			if a != nil {
				aggs = append(aggs, a)
			}
		}
		if err := tx.saveAggs(ctx, aggs); err != nil {
			return 0, err
		}
		total += len(aggs)
		after = ids[len(ids)-1]
	}
	if err := tx.flushDelta(ctx, d); err != nil {
		return 0, err
	}
	return total, tx.Commit()
}

// reportAccounts returns every account's industry and size band by id.
func (tx *Tx) reportAccounts(ctx context.Context) (map[string][2]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, industry, employees FROM accounts`)
	if err != nil {
		return nil, fmt.Errorf("report accounts: %w", err)
	}
	defer rows.Close()
	out := map[string][2]string{}
	for rows.Next() {
		var id int64
		var ind string
		var emp sql.NullInt64
		if err := rows.Scan(&id, &ind, &emp); err != nil {
			return nil, err
		}
		out[strconv.FormatInt(id, 10)] = [2]string{ind, baton.SizeBand(ptrInt(emp))}
	}
	return out, rows.Err()
}

// rawDimsAfter returns up to limit leads after the id, in id order, with the
// fields their dimensions come from.
func (tx *Tx) rawDimsAfter(ctx context.Context, after int64, limit int) ([]int64, []rawDims, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, source, campaign, country, owner_id, account_id, fit_rules FROM leads
		WHERE id > $1 ORDER BY id LIMIT `+strconv.Itoa(limit), after)
	if err != nil {
		return nil, nil, fmt.Errorf("report leads: %w", err)
	}
	defer rows.Close()
	var ids []int64
	var raws []rawDims
	for rows.Next() {
		var id int64
		var r rawDims
		var owner, account sql.NullInt64
		if err := rows.Scan(&id, &r.source, &r.campaign, &r.country, &owner, &account, &r.fitRules); err != nil {
			return nil, nil, err
		}
		r.owner, r.account = fmtID(ptrInt(owner)), fmtID(ptrInt(account))
		ids = append(ids, id)
		raws = append(raws, r)
	}
	return ids, raws, rows.Err()
}

// historyBetween returns the history of the leads with ids in [first, last],
// each lead's in time order.
func (tx *Tx) historyBetween(ctx context.Context, first, last int64) (map[int64][]baton.HistoryEntry, error) {
	rows, err := tx.QueryContext(ctx, `SELECT lead_id, at, action, field, from_value, to_value, reason
		FROM lead_history WHERE lead_id >= $1 AND lead_id <= $2 ORDER BY lead_id, at, id`, first, last)
	if err != nil {
		return nil, fmt.Errorf("report history: %w", err)
	}
	defer rows.Close()
	out := map[int64][]baton.HistoryEntry{}
	for rows.Next() {
		var h baton.HistoryEntry
		var at int64
		if err := rows.Scan(&h.LeadID, &at, &h.Action, &h.Field, &h.From, &h.To, &h.Reason); err != nil {
			return nil, err
		}
		h.At = fromMicros(at)
		out[h.LeadID] = append(out[h.LeadID], h)
	}
	return out, rows.Err()
}
