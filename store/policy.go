package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
)

// Scoring is the ScoringService of the database.
func (db *DB) Scoring() baton.ScoringService { return db }

func canPublish(a baton.Actor) bool {
	return a.Role == baton.RoleMarketing || a.Role == baton.RoleAdmin || a.Role == baton.RoleSystem
}

// checkPolicy parses and validates a document against the stored custom
// attributes, turning every problem into one EINVALID error that lists them.
func (tx *Tx) checkPolicy(ctx context.Context, body string) (*policy.Policy, error) {
	defs, err := tx.attrDefs(ctx)
	if err != nil {
		return nil, err
	}
	p, err := policy.Check([]byte(body), policy.Schema{Attributes: defs})
	if err != nil {
		var ve *policy.ValidationError
		if errors.As(err, &ve) {
			return nil, ve
		}
		return nil, err
	}
	return p, nil
}

// ValidatePolicy checks a document without storing it.
func (db *DB) ValidatePolicy(ctx context.Context, body string) error {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if !canPublish(tx.actor) {
		return baton.Errorf(baton.EFORBIDDEN, "only marketing or an admin may validate the policy")
	}
	_, err = tx.checkPolicy(ctx, body)
	return err
}

// bodySHA is the hex SHA-256 of a document: what an editor and a
// publisher send back to say which text they saw, and the key of the kept
// backtests.
func bodySHA(body string) string {
	h := sha256.Sum256([]byte(body))
	return hex.EncodeToString(h[:])
}

// latestBacktest is the SQL of the newest kept backtest of a text ($n: its SHA).
const latestBacktest = `(SELECT MAX(id) FROM policy_backtests WHERE body_sha = %s)`

// SaveDraft stores a valid policy document as a draft, with the last
// backtest run on that very text, if any.
func (db *DB) SaveDraft(ctx context.Context, body string) (*baton.PolicyDoc, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if !canPublish(tx.actor) {
		return nil, baton.Errorf(baton.EFORBIDDEN, "only marketing or an admin may draft the policy")
	}
	p, err := tx.checkPolicy(ctx, body)
	if err != nil {
		return nil, err
	}
	d := &baton.PolicyDoc{Name: p.Name, Owner: p.Owner, ChangeNote: p.ChangeNote, Body: body, CreatedBy: tx.actor.Name, CreatedAt: tx.now, SHA256: bodySHA(body)}
	var bt sql.NullInt64
	if err := tx.QueryRowContext(ctx, `INSERT INTO policies (name, owner, change_note, body, created_by, created_at, backtest_id)
		VALUES ($1, $2, $3, $4, $5, $6, `+fmt.Sprintf(latestBacktest, "$7")+`) RETURNING id, backtest_id`,
		d.Name, d.Owner, d.ChangeNote, body, d.CreatedBy, micros(tx.now), d.SHA256).Scan(&d.ID, &bt); err != nil {
		return nil, fmt.Errorf("save draft: %w", err)
	}
	if err := tx.attachBacktest(ctx, d, bt); err != nil {
		return nil, err
	}
	if err := tx.audit(ctx, "policy.draft", "policy", d.ID, nil, auditPolicy(d)); err != nil {
		return nil, err
	}
	return d, tx.Commit()
}

// UpdateDraft replaces the document of a draft. base, when not empty, is
// the SHA-256 of the text the editor started from: a draft changed since is
// refused rather than overwritten. The draft keeps its last backtest, which
// is then out of date, unless the new text was backtested too.
func (db *DB) UpdateDraft(ctx context.Context, id int64, body, base string) (*baton.PolicyDoc, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if !canPublish(tx.actor) {
		return nil, baton.Errorf(baton.EFORBIDDEN, "only marketing or an admin may edit a draft of the policy")
	}
	d, _, err := tx.findPolicy(ctx, id)
	if err != nil {
		return nil, err
	}
	if d.Version != 0 {
		return nil, baton.Errorf(baton.ECONFLICT, "policy %d is published as v%d and stays as it was: save your text as a new draft", d.ID, d.Version)
	}
	if base != "" && base != d.SHA256 {
		return nil, draftChanged(d)
	}
	p, err := tx.checkPolicy(ctx, body)
	if err != nil {
		return nil, err
	}
	if body != d.Body {
		if err := tx.audit(ctx, "policy.draft", "policy", d.ID, auditPolicy(d),
			map[string]any{"name": p.Name, "change_note": p.ChangeNote, "sha256": bodySHA(body)}); err != nil {
			return nil, err
		}
		sha := bodySHA(body)
		res, err := tx.ExecContext(ctx, `UPDATE policies SET name = $1, owner = $2, change_note = $3, body = $4, updated_by = $5, updated_at = $6,
			backtest_id = COALESCE(`+fmt.Sprintf(latestBacktest, "$7")+`, backtest_id)
			WHERE id = $8 AND version IS NULL AND body = $9`,
			p.Name, p.Owner, p.ChangeNote, body, tx.actor.Name, micros(tx.now), sha, d.ID, d.Body)
		if err != nil {
			return nil, fmt.Errorf("update draft %d: %w", d.ID, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil, baton.Errorf(baton.ECONFLICT, "draft %d was changed or published meanwhile: open it again", d.ID)
		}
	}
	d, bt, err := tx.findPolicy(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := tx.attachBacktest(ctx, d, bt); err != nil {
		return nil, err
	}
	return d, tx.Commit()
}

// draftChanged is the refusal of an edit or a publish based on an older
// text of the draft.
func draftChanged(d *baton.PolicyDoc) error {
	by := ""
	if d.UpdatedBy != "" {
		by = " by " + d.UpdatedBy
	}
	return baton.Errorf(baton.ECONFLICT, "draft %d was edited%s after you opened it: open it again to see the change", d.ID, by)
}

// checkNote checks a publisher's change note against the note of the
// version in force (prev, "" for none).
func checkNote(note string, prev *baton.PolicyDoc) (string, error) {
	note = strings.TrimSpace(note)
	if note == "" {
		return "", baton.FieldError("change_note", "required: say what this version changes and why")
	}
	if n := utf8.RuneCountInString(note); n > baton.MaxChangeNote {
		return "", baton.FieldError("change_note", "the note is %d characters, at most %d allowed", n, baton.MaxChangeNote)
	}
	if prev != nil && sameNote(note, prev.ChangeNote) {
		return "", baton.FieldError("change_note", "this is the note of v%d unchanged: say what this version changes", prev.Version)
	}
	return note, nil
}

// sameNote reports whether two notes say the same, but for case and spacing.
func sameNote(a, b string) bool {
	return strings.EqualFold(strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " "))
}

// PublishPolicy makes a draft the next published version, with the
// publisher's change note, and enqueues the rescoring of every lead under
// it, in one transaction. The row then records who published it, when and
// with which note, and never changes again.
func (db *DB) PublishPolicy(ctx context.Context, in baton.PolicyPublish) (*baton.PolicyDoc, error) {
	return db.publish(ctx, in, true)
}

// publish publishes a draft. strict requires the publisher's note (the API
// and the UI); otherwise the note is the document's own change_note, unless
// it repeats the version in force's, in which case the version has none.
func (db *DB) publish(ctx context.Context, in baton.PolicyPublish, strict bool) (*baton.PolicyDoc, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if !canPublish(tx.actor) {
		return nil, baton.Errorf(baton.EFORBIDDEN, "only marketing or an admin may publish the policy")
	}
	d, bt, err := tx.findPolicy(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	if d.Version != 0 {
		return nil, baton.Errorf(baton.ECONFLICT, "policy %d is already published as v%d", d.ID, d.Version)
	}
	prev, err := tx.currentPolicy(ctx)
	if err != nil {
		return nil, err
	}
	note := in.ChangeNote
	if strict {
		if note, err = checkNote(note, prev); err != nil {
			return nil, err
		}
	} else if note = strings.TrimSpace(note); prev != nil && sameNote(note, prev.ChangeNote) {
		note = ""
	}
	if in.SHA256 != "" && in.SHA256 != d.SHA256 {
		return nil, draftChanged(d)
	}
	// Validate again: custom attributes may have changed since the draft.
	pol, err := tx.checkPolicy(ctx, d.Body)
	if err != nil {
		return nil, err
	}
	// The attributes it expects and no lead has yet are defined with it.
	defs, err := tx.attrDefs(ctx)
	if err != nil {
		return nil, err
	}
	if missing := pol.Undeclared(policy.Schema{Attributes: defs}); len(missing) > 0 {
		if err := tx.db.DefineAttributes(context.WithValue(ctx, txKey{}, tx), missing); err != nil {
			return nil, err
		}
	}
	var max sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM policies`).Scan(&max); err != nil {
		return nil, err
	}
	d.Version = int(max.Int64) + 1
	res, err := tx.ExecContext(ctx, `UPDATE policies SET version = $1, published_by = $2, published_at = $3, change_note = $4 WHERE id = $5 AND version IS NULL AND body = $6`,
		d.Version, tx.actor.Name, micros(tx.now), note, d.ID, d.Body)
	if isUniqueViolation(err) {
		return nil, baton.Errorf(baton.ECONFLICT, "another policy was published at the same moment: try again")
	} else if err != nil {
		return nil, fmt.Errorf("publish policy: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, baton.Errorf(baton.ECONFLICT, "policy %d was edited or published meanwhile: open it again", d.ID)
	}
	now := tx.now
	d.PublishedBy, d.PublishedAt, d.Current, d.ChangeNote = tx.actor.Name, &now, true, note
	if err := tx.attachBacktest(ctx, d, bt); err != nil {
		return nil, err
	}
	if err := tx.enqueueJob(ctx, &baton.Job{Kind: RescoreJob, Subject: fmt.Sprintf("policy v%d", d.Version)}); err != nil {
		return nil, err
	}
	if err := tx.audit(ctx, "policy.publish", "policy", d.ID, nil, auditPolicy(d)); err != nil {
		return nil, err
	}
	return d, tx.Commit()
}

// auditPolicy is a policy document as the audit log records it: which
// version and text (by its SHA-256) with its change note, not the text.
func auditPolicy(d *baton.PolicyDoc) map[string]any {
	return map[string]any{"name": d.Name, "version": d.Version, "change_note": d.ChangeNote, "sha256": d.SHA256}
}

// PublishDocument validates, drafts and publishes a document at once: the CLI
// and the demo use it. The version's note is the document's change_note,
// unless that repeats the note of the version in force (a document copied
// from it and not updated): the version then has no note rather than a
// wrong one.
func (db *DB) PublishDocument(ctx context.Context, body string) (*baton.PolicyDoc, error) {
	d, err := db.SaveDraft(ctx, body)
	if err != nil {
		return nil, err
	}
	return db.publish(ctx, baton.PolicyPublish{ID: d.ID, ChangeNote: d.ChangeNote, SHA256: d.SHA256}, false)
}

// PreviewPublish says what publishing a draft would do: its version number,
// the leads rescored and whether their events are replayed, and its diff
// against the version in force. It changes nothing.
func (db *DB) PreviewPublish(ctx context.Context, id int64) (*baton.PublishPreview, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if !canPublish(tx.actor) {
		return nil, baton.Errorf(baton.EFORBIDDEN, "only marketing or an admin may publish the policy")
	}
	d, bt, err := tx.findPolicy(ctx, id)
	if err != nil {
		return nil, err
	}
	if d.Version != 0 {
		return nil, baton.Errorf(baton.ECONFLICT, "policy %d is already published as v%d", d.ID, d.Version)
	}
	if err := tx.attachBacktest(ctx, d, bt); err != nil {
		return nil, err
	}
	draft, err := tx.checkPolicy(ctx, d.Body)
	if err != nil {
		return nil, err
	}
	cur, err := tx.currentPolicy(ctx)
	if err != nil {
		return nil, err
	}
	pv := &baton.PublishPreview{Draft: d, Current: cur, Replay: true}
	if note := strings.TrimSpace(draft.ChangeNote); note != "" && (cur == nil || !sameNote(note, cur.ChangeNote)) {
		pv.SuggestedNote = note
	}
	var max sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM policies`).Scan(&max); err != nil {
		return nil, err
	}
	pv.Version = int(max.Int64) + 1
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM leads`).Scan(&pv.Leads); err != nil {
		return nil, fmt.Errorf("preview publish: %w", err)
	}
	from := ""
	if cur != nil {
		from = cur.Body
		sc, err := tx.scorer(ctx)
		if err != nil {
			return nil, err
		}
		// The rescore replays events unless the engagement rules are those
		// that built the stored state (see rescoreItems).
		pv.Replay = sc.policy == nil || sc.policy.EngagementKey() != draft.EngagementKey()
	}
	pv.Diff = policy.Diff(from, d.Body)
	pv.Diff.ID = d.ID
	if cur != nil {
		pv.Diff.FromVersion = cur.Version
	}
	return pv, nil
}

// DiffPolicy compares a stored document line by line with the version in
// force, or a published version with the version before it.
func (db *DB) DiffPolicy(ctx context.Context, id int64) (*baton.PolicyDiff, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	d, _, err := tx.findPolicy(ctx, id)
	if err != nil {
		return nil, err
	}
	var base *baton.PolicyDoc
	if d.Version == 0 {
		base, err = tx.currentPolicy(ctx)
	} else if d.Version > 1 {
		base, err = tx.policyVersion(ctx, d.Version-1)
	}
	if err != nil {
		return nil, err
	}
	from := ""
	if base != nil {
		from = base.Body
	}
	diff := policy.Diff(from, d.Body)
	diff.ID = d.ID
	if base != nil {
		diff.FromVersion = base.Version
	}
	return diff, nil
}

const policyColumns = `id, version, name, owner, change_note, body, created_by, created_at, published_by, published_at, updated_by, updated_at, backtest_id`

// scanPolicy reads a policies row and the id of its draft's last backtest.
func scanPolicy(s interface{ Scan(...any) error }) (*baton.PolicyDoc, sql.NullInt64, error) {
	var d baton.PolicyDoc
	var version, published, updated, bt sql.NullInt64
	var created int64
	if err := s.Scan(&d.ID, &version, &d.Name, &d.Owner, &d.ChangeNote, &d.Body, &d.CreatedBy, &created, &d.PublishedBy, &published,
		&d.UpdatedBy, &updated, &bt); err != nil {
		return nil, bt, err
	}
	d.Version = int(version.Int64)
	d.CreatedAt, d.PublishedAt, d.UpdatedAt = fromMicros(created), fromNullMicros(published), fromNullMicros(updated)
	d.SHA256 = bodySHA(d.Body)
	return &d, bt, nil
}

func (tx *Tx) findPolicy(ctx context.Context, id int64) (*baton.PolicyDoc, sql.NullInt64, error) {
	d, bt, err := scanPolicy(tx.QueryRowContext(ctx, `SELECT `+policyColumns+` FROM policies WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bt, baton.Errorf(baton.ENOTFOUND, "no policy %d", id)
	}
	return d, bt, err
}

// policyVersion returns a published version, or nil if there is none of
// that number.
func (tx *Tx) policyVersion(ctx context.Context, v int) (*baton.PolicyDoc, error) {
	d, _, err := scanPolicy(tx.QueryRowContext(ctx, `SELECT `+policyColumns+` FROM policies WHERE version = $1`, v))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return d, err
}

// currentPolicy returns the version in force, or nil before the first publish.
func (tx *Tx) currentPolicy(ctx context.Context) (*baton.PolicyDoc, error) {
	v, err := tx.currentVersion(ctx)
	if err != nil || v == 0 {
		return nil, err
	}
	d, err := tx.policyVersion(ctx, v)
	if d != nil {
		d.Current = true
	}
	return d, err
}

// attachBacktest puts a document's last backtest (id bt) in it and, for a
// draft, says why it is out of date, if it is.
func (tx *Tx) attachBacktest(ctx context.Context, d *baton.PolicyDoc, bt sql.NullInt64) error {
	d.Backtest, d.BacktestStale = nil, ""
	if !bt.Valid {
		return nil
	}
	var sha, result string
	if err := tx.QueryRowContext(ctx, `SELECT body_sha, result FROM policy_backtests WHERE id = $1`, bt.Int64).Scan(&sha, &result); err != nil {
		return fmt.Errorf("backtest of policy %d: %w", d.ID, err)
	}
	var b baton.Backtest
	if err := json.Unmarshal([]byte(result), &b); err != nil {
		return fmt.Errorf("backtest of policy %d: %w", d.ID, err)
	}
	d.Backtest = &b
	if d.Version != 0 {
		return nil
	}
	cur, err := tx.currentVersion(ctx)
	if err != nil {
		return err
	}
	switch {
	case sha != d.SHA256:
		d.BacktestStale = "the draft was edited after this backtest: run it again"
	case b.Current.Version != cur:
		against := "no version"
		if b.Current.Version != 0 {
			against = fmt.Sprintf("v%d", b.Current.Version)
		}
		d.BacktestStale = fmt.Sprintf("v%d is in force now and this backtest compared with %s: run it again", cur, against)
	}
	return nil
}

// FindPolicy returns a draft or published policy by id, with its last
// backtest.
func (db *DB) FindPolicy(ctx context.Context, id int64) (*baton.PolicyDoc, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	d, bt, err := tx.findPolicy(ctx, id)
	if err != nil {
		return nil, err
	}
	cur, err := tx.currentVersion(ctx)
	if err != nil {
		return nil, err
	}
	d.Current = d.Version != 0 && d.Version == cur
	if err := tx.attachBacktest(ctx, d, bt); err != nil {
		return nil, err
	}
	return d, nil
}

func (tx *Tx) currentVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM policies WHERE published_at IS NOT NULL`).Scan(&v)
	return int(v.Int64), err
}

// CurrentPolicy returns the policy in force, or ENOTFOUND before the first publish.
func (db *DB) CurrentPolicy(ctx context.Context) (*baton.PolicyDoc, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	d, err := tx.currentPolicy(ctx)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, baton.Errorf(baton.ENOTFOUND, "no policy has been published yet")
	}
	return d, nil
}

// FindPolicies lists published versions (newest first), then drafts,
// without their backtests.
func (db *DB) FindPolicies(ctx context.Context) ([]*baton.PolicyDoc, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	cur, err := tx.currentVersion(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+policyColumns+` FROM policies ORDER BY version IS NULL, version DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("find policies: %w", err)
	}
	defer rows.Close()
	out := []*baton.PolicyDoc{}
	for rows.Next() {
		d, _, err := scanPolicy(rows)
		if err != nil {
			return nil, err
		}
		d.Current = d.Version != 0 && d.Version == cur
		out = append(out, d)
	}
	return out, rows.Err()
}

// funnelRank orders the stages a lead reaches after MQL.
var funnelRank = map[baton.Stage]int{baton.StageSAL: 1, baton.StageSQL: 2, baton.StageOpportunity: 3, baton.StageWon: 4, baton.StageLost: 3}

// backtestChanges is how many side-changing leads a backtest lists.
const backtestChanges = 200

// backtestKept is how long a backtest run that no draft links to is kept.
const backtestKept = 7 * 24 * time.Hour

// Backtest replays every stored lead and its events under the draft body and
// under the current policy: whether each would have become an MQL at any
// point of its history, and what sales did with those that did. The result
// is kept, with who ran it and when, beside every draft of that very text,
// and for a draft saved with it later (SaveDraft, UpdateDraft).
func (db *DB) Backtest(ctx context.Context, body string) (*baton.Backtest, error) {
	bt, err := db.backtest(ctx, body)
	if err != nil {
		return nil, err
	}
	return bt, db.keepBacktest(ctx, body, bt)
}

// keepBacktest stores a backtest run, links it to the drafts of its text and
// prunes the old runs no draft links to.
func (db *DB) keepBacktest(ctx context.Context, body string, bt *baton.Backtest) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	bt.RunAt, bt.RunBy = tx.now, tx.actor.Name
	result, err := json.Marshal(bt)
	if err != nil {
		return err
	}
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO policy_backtests (body_sha, against, leads, result, run_by, run_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		bodySHA(body), bt.Current.Version, bt.Leads, string(result), bt.RunBy, micros(bt.RunAt)).Scan(&id); err != nil {
		return fmt.Errorf("keep backtest: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE policies SET backtest_id = $1 WHERE version IS NULL AND body = $2`, id, body); err != nil {
		return fmt.Errorf("keep backtest: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM policy_backtests WHERE run_at < $1
		AND id NOT IN (SELECT backtest_id FROM policies WHERE backtest_id IS NOT NULL)`, micros(tx.now.Add(-backtestKept))); err != nil {
		return fmt.Errorf("prune backtests: %w", err)
	}
	return tx.Commit()
}

// backtest runs a backtest on a read snapshot.
func (db *DB) backtest(ctx context.Context, body string) (*baton.Backtest, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if !canPublish(tx.actor) {
		return nil, baton.Errorf(baton.EFORBIDDEN, "only marketing or an admin may backtest the policy")
	}
	draft, err := tx.checkPolicy(ctx, body)
	if err != nil {
		return nil, err
	}
	sc, err := tx.scorer(ctx)
	if err != nil {
		return nil, err
	}
	current := sc.policy
	bt := &baton.Backtest{Current: baton.BacktestSide{Version: sc.policyVersion}, Changes: []baton.BacktestLead{}}
	// How far in the funnel each lead got, from its history.
	reached := map[int64]int{}
	rows, err := tx.QueryContext(ctx, `SELECT lead_id, to_value FROM lead_history WHERE action = $1`, baton.ActionStage)
	if err != nil {
		return nil, fmt.Errorf("backtest: %w", err)
	}
	for rows.Next() {
		var id int64
		var to string
		if err := rows.Scan(&id, &to); err != nil {
			rows.Close()
			return nil, err
		}
		if r := funnelRank[baton.Stage(to)]; r > reached[id] {
			reached[id] = r
		}
	}
	rows.Close()
	bySource := map[string]*baton.BacktestRow{}
	count := func(side *baton.BacktestSide, mql bool, l *baton.Lead) {
		if !mql {
			return
		}
		side.MQL++
		r := max(reached[l.ID], funnelRank[l.Stage])
		if r >= 1 {
			side.Accepted++
		}
		if r >= 2 {
			side.SQL++
		}
		if l.Stage == baton.StageWon {
			side.Won++
		}
	}
	var after int64
	for {
		lrows, err := tx.QueryContext(ctx, `SELECT `+leadColumns+` FROM leads WHERE id > $1 ORDER BY id LIMIT 2000`, after)
		if err != nil {
			return nil, fmt.Errorf("backtest: %w", err)
		}
		var leads []*baton.Lead
		for lrows.Next() {
			l, err := scanLead(lrows)
			if err != nil {
				lrows.Close()
				return nil, err
			}
			leads = append(leads, l)
		}
		lrows.Close()
		if len(leads) == 0 {
			break
		}
		after = leads[len(leads)-1].ID
		events, err := tx.eventsBetween(ctx, leads[0].ID, after)
		if err != nil {
			return nil, err
		}
		accounts, err := tx.accountsOf(ctx, leads)
		if err != nil {
			return nil, err
		}
		for _, l := range leads {
			var acc *baton.Account
			if l.AccountID != nil {
				acc = accounts[*l.AccountID]
			}
			dm, df, de := wouldQualify(draft, l, acc, events[l.ID])
			cm, cf, ce := false, 0.0, 0.0
			if current != nil {
				cm, cf, ce = wouldQualify(current, l, acc, events[l.ID])
			}
			bt.Leads++
			row := bySource[l.Source]
			if row == nil {
				row = &baton.BacktestRow{Source: l.Source}
				bySource[l.Source] = row
			}
			row.Leads++
			count(&bt.Draft, dm, l)
			count(&bt.Current, cm, l)
			count(&row.Draft, dm, l)
			count(&row.Current, cm, l)
			if dm != cm {
				if dm {
					bt.Gained++
				} else {
					bt.Lost++
				}
				if len(bt.Changes) < backtestChanges {
					bt.Changes = append(bt.Changes, baton.BacktestLead{LeadID: l.ID, Source: l.Source, Stage: l.Stage, DraftMQL: dm,
						DraftFit: df, DraftEng: de, CurrentFit: cf, CurrentEng: ce})
				}
			}
		}
	}
	for _, r := range bySource {
		bt.Sources = append(bt.Sources, *r)
	}
	sort.Slice(bt.Sources, func(i, j int) bool {
		if bt.Sources[i].Leads != bt.Sources[j].Leads {
			return bt.Sources[i].Leads > bt.Sources[j].Leads
		}
		return bt.Sources[i].Source < bt.Sources[j].Source
	})
	return bt, nil
}

// wouldQualify replays a lead's events under a policy and reports whether
// the MQL rule held at its creation or right after any event (engagement only
// rises at events, so those are the moments to look), with the fit and the
// highest engagement seen.
func wouldQualify(p *policy.Policy, l *baton.Lead, acc *baton.Account, events []*baton.Event) (bool, float64, float64) {
	subject := policy.Subject{Lead: l, Account: acc}
	st := &policy.Engagement{}
	s := p.Score(subject, st, l.CreatedAt)
	fit, best := s.Fit, s.Engagement
	if s.Qualifies {
		return true, fit, best
	}
	for _, e := range events {
		p.Apply(st, e)
		s := p.Score(subject, st, e.OccurredAt)
		best = max(best, s.Engagement)
		if s.Qualifies {
			return true, fit, best
		}
	}
	return false, fit, best
}

// SaveModel stores a trained model as the next version, inactive.
func (db *DB) SaveModel(ctx context.Context, info *baton.ModelInfo, body []byte) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() && tx.actor.Role != baton.RoleMarketing {
		return baton.Errorf(baton.EFORBIDDEN, "only marketing or an admin may train the model")
	}
	var max sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM models`).Scan(&max); err != nil {
		return err
	}
	info.Version = int(max.Int64) + 1
	info.CreatedAt, info.CreatedBy, info.Active = tx.now, tx.actor.Name, false
	metrics := string(info.Metrics)
	if metrics == "" {
		metrics = "{}"
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO models (version, created_at, created_by, rows, positives, window_from, window_to, metrics, body, active, note)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		info.Version, micros(tx.now), info.CreatedBy, info.Rows, info.Positives, micros(info.WindowFrom), micros(info.WindowTo),
		metrics, string(body), false, info.Note); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	if err := tx.audit(ctx, "model.train", "model", int64(info.Version), nil,
		map[string]any{"version": info.Version, "rows": info.Rows, "positives": info.Positives, "note": info.Note}); err != nil {
		return err
	}
	return tx.Commit()
}

// ActivateModel makes a model the one that scores leads and enqueues the
// rescoring of every lead, in one transaction.
func (db *DB) ActivateModel(ctx context.Context, version int) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if !tx.actor.CanAdmin() && tx.actor.Role != baton.RoleMarketing {
		return baton.Errorf(baton.EFORBIDDEN, "only marketing or an admin may activate a model")
	}
	var was sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM models WHERE active`).Scan(&was); err != nil {
		return fmt.Errorf("activate model: %w", err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE models SET active = (version = $1)`, version)
	if err != nil {
		return fmt.Errorf("activate model: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return baton.Errorf(baton.ENOTFOUND, "no model v%d", version)
	}
	var one int
	if err := tx.QueryRowContext(ctx, `SELECT 1 FROM models WHERE version = $1`, version).Scan(&one); err != nil {
		return baton.Errorf(baton.ENOTFOUND, "no model v%d", version)
	}
	if err := tx.enqueueJob(ctx, &baton.Job{Kind: RescoreJob, Subject: fmt.Sprintf("model v%d", version)}); err != nil {
		return err
	}
	if err := tx.audit(ctx, "model.activate", "model", int64(version),
		map[string]any{"active_version": was.Int64}, map[string]any{"active_version": version}); err != nil {
		return err
	}
	return tx.Commit()
}

// FindModels lists the trained models, newest first.
func (db *DB) FindModels(ctx context.Context) ([]*baton.ModelInfo, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT version, created_at, created_by, rows, positives, window_from, window_to, metrics, active, note FROM models ORDER BY version DESC`)
	if err != nil {
		return nil, fmt.Errorf("find models: %w", err)
	}
	defer rows.Close()
	out := []*baton.ModelInfo{}
	for rows.Next() {
		var m baton.ModelInfo
		var created, from, to int64
		var metrics string
		if err := rows.Scan(&m.Version, &created, &m.CreatedBy, &m.Rows, &m.Positives, &from, &to, &metrics, &m.Active, &m.Note); err != nil {
			return nil, err
		}
		m.CreatedAt, m.WindowFrom, m.WindowTo = fromMicros(created), fromMicros(from), fromMicros(to)
		m.Metrics = json.RawMessage(metrics)
		out = append(out, &m)
	}
	return out, rows.Err()
}

// ActiveModelBody returns the active model's version and serialised body, or
// ENOTFOUND when no model is active.
func (db *DB) ActiveModelBody(ctx context.Context) (int, []byte, error) {
	var v int
	var body string
	err := db.read.QueryRowContext(ctx, `SELECT version, body FROM models WHERE active`).Scan(&v, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, baton.Errorf(baton.ENOTFOUND, "no model is active")
	}
	return v, []byte(body), err
}
