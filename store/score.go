package store

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	fastjson "github.com/goccy/go-json"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/model"
	"github.com/batonhq/baton/policy"
)

// scorer is the policy and model in force, parsed once per version and shared
// by every transaction that scores a lead.
type scorer struct {
	policyVersion int
	policy        *policy.Policy
	modelVersion  int
	model         *model.Model
	// fitNames are fitRuleNames(policy).
	fitNames []string
	// keyField is the policy's engagement key as a state's JSON holds it.
	keyField []byte
	// counts says that states keep the model's behaviour counts: while a
	// model is in force, or to train one.
	counts bool
}

// fitRuleNames returns the distinct names of a policy's fit rules in
// document order: the bits of leads.fit_rules.
func fitRuleNames(p *policy.Policy) []string {
	var names []string
	if p == nil {
		return nil
	}
	for _, r := range p.FitRules {
		if !slices.Contains(names, r.Name) {
			names = append(names, r.Name)
		}
	}
	return names
}

// fitRules returns the names of the fit rules that fired in a score, in the
// policy's order, joined by fitRuleSep (leads.fit_rules).
func (sc *scorer) fitRules(ps policy.Score) string {
	if sc.policy == nil {
		return ""
	}
	var b strings.Builder
	for _, name := range sc.fitNames {
		for _, r := range ps.Reasons {
			if r.Axis == "fit" && r.Rule == name {
				if b.Len() > 0 {
					b.WriteString(fitRuleSep)
				}
				b.WriteString(name)
				break
			}
		}
	}
	return b.String()
}

// scorers caches the parsed policy and model by version. Several instances on
// one database each notice a new version at their next write.
type scorers struct {
	mu       sync.Mutex
	policies map[int]*policy.Policy
	models   map[int]*model.Model
}

// scoreState is what a lead's scores are computed from besides its fields:
// engagement per rule as of its last event, and how many events of each type
// it had before sales touched it (the model's behaviour features).
type scoreState struct {
	Engagement *policy.Engagement `json:"engagement,omitempty"`
	Counts     map[string]int     `json:"counts,omitempty"`
	// Counted says that Counts covers every event of the lead: they were
	// rebuilt from its stored events while a model was in force, and every
	// event since was added as it came. Only the model reads the counts:
	// before one is in force nothing keeps them, and the first one's rescore
	// rebuilds them (a model can be replaced, not withdrawn, so that happens
	// once). Likewise before any policy or model nothing keeps states at
	// all, and the first one's rescore builds them.
	Counted bool `json:"counted,omitempty"`
}

// active reports whether a policy or a model is in force: whether anything
// reads the scoring state.
func (sc *scorer) active() bool { return sc.policy != nil || sc.model != nil }

// fresh reports whether a lead's state may take new events as they come:
// its counts cover all the lead's events if they are kept, and its
// engagement was built by the policy in force or one that builds it the same
// way (a new version that changed only fit rules, thresholds or grades needs
// no replay).
func (sc *scorer) fresh(st *scoreState) bool {
	return (!sc.counts || st.Counted) && (sc.policy == nil || st.Engagement != nil && st.Engagement.Key == sc.policy.EngagementKey())
}

func parseState(b []byte) (*scoreState, error) {
	st := &scoreState{}
	if len(b) > 2 {
		if err := fastjson.Unmarshal(b, st); err != nil {
			return nil, fmt.Errorf("score state: %w", err)
		}
	}
	return st, nil
}

// storedState is a scoreState with its engagement not decoded yet.
type storedState struct {
	Engagement fastjson.RawMessage `json:"engagement,omitempty"`
	Counts     map[string]int      `json:"counts,omitempty"`
	Counted    bool                `json:"counted,omitempty"`
}

// parseState parses a state for the scorer: an engagement that the policy
// in force did not build (its key is not the policy's) is left out rather
// than decoded, for it is about to be replayed from the events.
func (sc *scorer) parseState(b []byte) (*scoreState, error) {
	if sc == nil || sc.policy == nil {
		return parseState(b)
	}
	st := &scoreState{}
	if len(b) <= 2 {
		return st, nil
	}
	var stored storedState
	if err := fastjson.Unmarshal(b, &stored); err != nil {
		return nil, fmt.Errorf("score state: %w", err)
	}
	st.Counts, st.Counted = stored.Counts, stored.Counted
	// The key as the state's writer puts it: a state that spells it
	// otherwise is only taken as stale, and replayed.
	if len(stored.Engagement) > 0 && bytes.Contains(stored.Engagement, sc.keyField) {
		st.Engagement = &policy.Engagement{}
		if err := fastjson.Unmarshal(stored.Engagement, st.Engagement); err != nil {
			return nil, fmt.Errorf("score state: %w", err)
		}
	}
	return st, nil
}

func (st *scoreState) json() string {
	var b strings.Builder
	fastjson.NewEncoder(&b).Encode(st) // into b, with no copy to return
	return strings.TrimSuffix(b.String(), "\n")
}

// scorer returns the policy and model in force for this transaction.
func (tx *Tx) scorer(ctx context.Context) (*scorer, error) {
	var pv, mv sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT MAX(version) FROM policies WHERE published_at IS NOT NULL),
		(SELECT MAX(version) FROM models WHERE active)`).Scan(&pv, &mv); err != nil {
		return nil, fmt.Errorf("scoring versions: %w", err)
	}
	sc := &scorer{policyVersion: int(pv.Int64), modelVersion: int(mv.Int64)}
	c := &tx.db.scorers
	c.mu.Lock()
	sc.policy, sc.model = c.policies[sc.policyVersion], c.models[sc.modelVersion]
	c.mu.Unlock()
	if sc.policyVersion > 0 && sc.policy == nil {
		var body string
		if err := tx.QueryRowContext(ctx, `SELECT body FROM policies WHERE version = $1`, sc.policyVersion).Scan(&body); err != nil {
			return nil, fmt.Errorf("load policy v%d: %w", sc.policyVersion, err)
		}
		p, err := policy.Parse([]byte(body))
		if err != nil {
			return nil, fmt.Errorf("policy v%d no longer parses: %w", sc.policyVersion, err)
		}
		p.Version = sc.policyVersion
		sc.policy = p
		c.mu.Lock()
		if c.policies == nil {
			c.policies = map[int]*policy.Policy{}
		}
		c.policies[sc.policyVersion] = p
		c.mu.Unlock()
	}
	if sc.modelVersion > 0 && sc.model == nil {
		var body string
		if err := tx.QueryRowContext(ctx, `SELECT body FROM models WHERE version = $1`, sc.modelVersion).Scan(&body); err != nil {
			return nil, fmt.Errorf("load model v%d: %w", sc.modelVersion, err)
		}
		m := &model.Model{}
		if err := m.UnmarshalJSON([]byte(body)); err != nil {
			return nil, fmt.Errorf("model v%d: %w", sc.modelVersion, err)
		}
		sc.model = m
		c.mu.Lock()
		if c.models == nil {
			c.models = map[int]*model.Model{}
		}
		c.models[sc.modelVersion] = m
		c.mu.Unlock()
	}
	sc.fitNames = fitRuleNames(sc.policy)
	sc.counts = sc.model != nil
	if sc.policy != nil {
		sc.keyField = []byte(`"key":"` + sc.policy.EngagementKey() + `"`)
	}
	return sc, nil
}

// countsBeforeSales reports whether events of a lead in this stage still count
// as behaviour before sales touched it.
func countsBeforeSales(s baton.Stage) bool {
	return s == baton.StageNew || s == baton.StageMQL || s == baton.StageRecycled
}

// observe folds new events into a lead's state.
func (sc *scorer) observe(st *scoreState, l *baton.Lead, events []*baton.Event) {
	if sc.policy != nil {
		if st.Engagement == nil {
			st.Engagement = sc.policy.NewEngagement()
		}
		for _, e := range events {
			sc.policy.Add(st.Engagement, e)
		}
	}
	if sc.counts {
		count(st, l, events)
	} else if len(events) > 0 {
		// Counts no longer cover every event: a model's first rescore
		// rebuilds them.
		st.Counts, st.Counted = nil, false
	}
}

// count adds events to the behaviour counts while sales has not touched the lead.
func count(st *scoreState, l *baton.Lead, events []*baton.Event) {
	if !countsBeforeSales(l.Stage) || len(events) == 0 {
		return
	}
	if st.Counts == nil {
		st.Counts = map[string]int{}
	}
	for _, e := range events {
		st.Counts[e.Type]++
	}
}

// ModelRow is the model's view of a lead: its fields, custom attributes,
// account firmographics and behaviour before sales touched it. outcome names
// the attribute that holds a known outcome, which is never a feature.
func ModelRow(l *baton.Lead, acc *baton.Account, counts map[string]int, outcome string) model.Row {
	r := make(model.Row, len(l.Attrs)+len(counts)+10)
	for k, v := range l.Attrs {
		if k == outcome {
			continue
		}
		switch x := v.(type) {
		case string:
			r[k] = x
		case float64:
			r[k] = strconv.FormatFloat(x, 'g', -1, 64)
		case bool:
			r[k] = strconv.FormatBool(x)
		}
	}
	for k, v := range map[string]string{"source": l.Source, "campaign": l.Campaign, "country": l.Country, "title": l.Title,
		"email_domain": baton.EmailDomain(l.Email)} {
		if v != "" {
			r[k] = v
		}
	}
	if acc != nil {
		r["account.industry"] = acc.Industry
		r["account.country"] = acc.Country
		if acc.Employees != nil {
			r["account.employees"] = strconv.FormatInt(*acc.Employees, 10)
		}
		if acc.AnnualRevenue != nil {
			r["account.annual_revenue"] = strconv.FormatFloat(*acc.AnnualRevenue, 'g', -1, 64)
		}
	}
	for k, n := range counts {
		r["events."+k] = strconv.Itoa(n)
	}
	return r
}

// OutcomeAttribute is the custom attribute that holds an outcome known from
// outside Baton (the demo data's "Converted"): a label for training, never a
// feature.
const OutcomeAttribute = "Converted"

// evaluate computes a lead's scores at now.
func (sc *scorer) evaluate(l *baton.Lead, acc *baton.Account, st *scoreState, now time.Time) (baton.LeadScore, policy.Score) {
	s := baton.LeadScore{ScoredAt: now}
	var ps policy.Score
	if sc.policy != nil {
		ps = sc.policy.Score(policy.Subject{Lead: l, Account: acc}, st.Engagement, now)
		s.Fit, s.Engagement = ps.Fit, ps.Engagement
		s.FitGrade, s.EngagementGrade = ps.FitGrade, ps.EngagementGrade
		s.PolicyVersion = sc.policyVersion
	}
	if sc.model != nil {
		p := sc.model.Predict(ModelRow(l, acc, st.Counts, OutcomeAttribute))
		s.Probability, s.ModelVersion = &p, sc.modelVersion
	}
	return s, ps
}

// scoreNewLead scores a lead just created, which has no events yet.
func (tx *Tx) scoreNewLead(ctx context.Context, sc *scorer, l *baton.Lead) error {
	st := &scoreState{Counted: sc.counts}
	if sc.policy != nil {
		st.Engagement = sc.policy.NewEngagement()
	}
	acc, err := tx.accountOf(ctx, l)
	if err != nil {
		return err
	}
	return tx.scoreWith(ctx, sc, l, acc, st, nil, "")
}

// rescoreLead scores a lead after a change in the transaction of the change,
// stores the scores, and promotes the lead to MQL when the policy says so.
// events are the lead's newly stored events, if any.
func (tx *Tx) rescoreLead(ctx context.Context, sc *scorer, l *baton.Lead, events []*baton.Event) error {
	var raw []byte
	var old string
	if err := tx.QueryRowContext(ctx, `SELECT score_state, fit_rules FROM leads WHERE id = $1`+tx.lockRows(), l.ID).Scan(&raw, &old); err != nil {
		return fmt.Errorf("score lead %d: %w", l.ID, err)
	}
	st, err := sc.parseState(raw)
	if err != nil {
		return err
	}
	acc, err := tx.accountOf(ctx, l)
	if err != nil {
		return err
	}
	return tx.scoreWith(ctx, sc, l, acc, st, events, old)
}

// scoreWith folds new events into a loaded state, scores the lead, stores it
// and promotes it if it qualifies.
func (tx *Tx) scoreWith(ctx context.Context, sc *scorer, l *baton.Lead, acc *baton.Account, st *scoreState, events []*baton.Event, old string) error {
	score, ps, err := tx.compute(ctx, sc, l, acc, st, events)
	if err != nil {
		return err
	}
	return tx.saveScores(ctx, []scored{{lead: l, score: score, ps: ps, state: st, rules: sc.fitRules(ps), old: old}})
}

// compute folds new events into a loaded state and scores the lead. A state
// that is not fresh is rebuilt from all the lead's stored events (the new
// ones included) rather than mix versions or miss events.
func (tx *Tx) compute(ctx context.Context, sc *scorer, l *baton.Lead, acc *baton.Account, st *scoreState, events []*baton.Event) (baton.LeadScore, policy.Score, error) {
	switch {
	case !sc.active():
		*st = scoreState{}
	case !sc.fresh(st):
		if err := tx.rebuildStates(ctx, sc, []*baton.Lead{l}, []*scoreState{st}); err != nil {
			return baton.LeadScore{}, policy.Score{}, err
		}
	default:
		sc.observe(st, l, events)
	}
	score, ps := sc.evaluate(l, acc, st, tx.now)
	return score, ps, nil
}

// rebuildStates rebuilds, from the stored events and stage history of the
// leads, the states that are not fresh: engagement replayed under the
// policy in force, and the behaviour counts of the events each lead received
// while marketing had it (new, MQL or recycled), as count keeps them.
func (tx *Tx) rebuildStates(ctx context.Context, sc *scorer, leads []*baton.Lead, states []*scoreState) error {
	var ids []int64
	for i, l := range leads {
		if !sc.fresh(states[i]) {
			ids = append(ids, l.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	// A range of ids when they are dense (a rescore's chunk), else a list
	// (a few leads among many, after new events).
	var b strings.Builder
	args := []any{ids[0], ids[len(ids)-1]}
	if ids[len(ids)-1]-ids[0] < 4*int64(len(ids)) {
		b.WriteString(`lead_id BETWEEN `)
		tx.db.param(&b, 1)
		b.WriteString(` AND `)
		tx.db.param(&b, 2)
	} else {
		b.WriteString(`lead_id IN `)
		tx.db.inList(&b, len(ids))
		args = make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
	}
	cond := b.String()
	// The stage history and the times events were received say which
	// events count for the model: needed only for states that have not
	// counted them yet.
	counting := false
	for i := range leads {
		counting = counting || sc.counts && !states[i].Counted
	}
	parts := eventParts{properties: sc.policy != nil && sc.policy.ReadsProperties(), received: counting}
	events, err := tx.eventsWhere(ctx, parts, cond, args...)
	if err != nil {
		return err
	}
	var changes map[int64][]stageChange
	if counting {
		if changes, err = tx.stageChangesWhere(ctx, cond, args...); err != nil {
			return err
		}
	}
	for i, l := range leads {
		st := states[i]
		if sc.fresh(st) {
			continue
		}
		if sc.policy != nil {
			st.Engagement = sc.policy.Replay(events[l.ID])
		}
		switch {
		case !sc.counts:
			st.Counts, st.Counted = nil, false
		case !st.Counted:
			st.Counts = countsBeforeSalesOf(events[l.ID], changes[l.ID], l.Stage)
			st.Counted = true
		}
	}
	return nil
}

// stageChange is a lead's move out of a stage, from its history.
type stageChange struct {
	at   time.Time
	from baton.Stage
}

// stageChangesWhere loads the stage changes of the leads that cond (on
// lead_id, its parameters written by db.param from 1) selects, in time order.
func (tx *Tx) stageChangesWhere(ctx context.Context, cond string, args ...any) (map[int64][]stageChange, error) {
	var b strings.Builder
	b.WriteString(`SELECT lead_id, at, from_value FROM lead_history WHERE ` + cond + ` AND action = `)
	tx.db.param(&b, len(args)+1)
	b.WriteString(` ORDER BY lead_id, at, id`)
	rows, err := tx.QueryContext(ctx, b.String(), append(args, baton.ActionStage)...)
	if err != nil {
		return nil, fmt.Errorf("stage history of leads: %w", err)
	}
	defer rows.Close()
	out := map[int64][]stageChange{}
	for rows.Next() {
		var id, at int64
		var from string
		if err := rows.Scan(&id, &at, &from); err != nil {
			return nil, err
		}
		out[id] = append(out[id], stageChange{fromMicros(at), baton.Stage(from)})
	}
	return out, rows.Err()
}

// countsBeforeSalesOf counts by type the events received while the lead was
// in a stage where its behaviour still counts: the stage at an event's
// receipt is the one the next later change left, or else the current one.
func countsBeforeSalesOf(events []*baton.Event, changes []stageChange, current baton.Stage) map[string]int {
	var out map[string]int
	for _, e := range events {
		stage := current
		for _, c := range changes {
			if c.at.After(e.ReceivedAt) {
				stage = c.from
				break
			}
		}
		if !countsBeforeSales(stage) {
			continue
		}
		if out == nil {
			out = map[string]int{}
		}
		out[e.Type]++
	}
	return out
}

// scored is one lead's new scores, waiting to be stored with others.
type scored struct {
	lead  *baton.Lead
	score baton.LeadScore
	ps    policy.Score
	state *scoreState
	same  bool   // the state is as stored: not written again
	text  string // the state to write, if already in JSON (else state.json())
	rules string // the fit rules that fired (leads.fit_rules)
	old   string // the fit rules stored before
	seq   int64  // the lead's score_seq as read (a guarded write's check)
}

// stateArg is the state to store, or NULL to keep the stored one.
func (it *scored) stateArg() any {
	if it.same {
		return nil
	}
	if it.text != "" {
		return it.text
	}
	return it.state.json()
}

// saveScores stores leads' scores with one statement per chunk instead of
// one per lead, moves the report counters of those whose fit rules changed,
// then promotes those that qualify and wait in new or recycled. An MQL never
// falls back by itself: only a person's rejection moves it.
func (tx *Tx) saveScores(ctx context.Context, items []scored) error {
	if _, err := tx.storeScores(ctx, items, false); err != nil {
		return err
	}
	return tx.promoteAll(ctx, items)
}

// storeScores writes leads' scores. guarded, it writes only the leads whose
// version and score_seq are still those the scores were computed from (read
// on an earlier snapshot: lead.Version, seq) and returns the others' ids.
func (tx *Tx) storeScores(ctx context.Context, items []scored, guarded bool) (missed []int64, err error) {
	if tx.db.backend == SQLite {
		// In-process SQLite has no round trips to save: one prepared UPDATE
		// by primary key per lead beats a join of the leads with a VALUES list.
		// Without a model, probability and model_version stay NULL and 0 (a
		// model, once active, is only ever replaced): not setting them spares
		// the update of their index.
		withModel := false
		// Scores of one batch share their policy version and time (one
		// scorer, one clock reading): those go in the statement, not in
		// each execution's parameters.
		shared := len(items) > 0
		for _, it := range items {
			withModel = withModel || it.score.ModelVersion != 0
			shared = shared && it.score.PolicyVersion == items[0].score.PolicyVersion && it.score.ScoredAt.Equal(items[0].score.ScoredAt)
		}
		version, at := "?", "?"
		if shared {
			version, at = strconv.Itoa(items[0].score.PolicyVersion), strconv.FormatInt(micros(items[0].score.ScoredAt), 10)
		}
		q := `UPDATE leads SET fit = ?, engagement = ?, fit_grade = ?, engagement_grade = ?, policy_version = ` + version + `,
			scored_at = ` + at + `, score_state = COALESCE(?, score_state), fit_rules = ?, score_seq = score_seq + 1`
		if withModel {
			q += `, probability = ?, model_version = ?`
		}
		q += ` WHERE id = ?`
		if guarded {
			q += ` AND version = ? AND score_seq = ?`
		}
		stmt, err := tx.PrepareContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("save scores: %w", err)
		}
		defer stmt.Close()
		// Each statement takes microseconds, and the driver watches a
		// cancellable context with a goroutine per statement, which costs
		// more than the statement: the transaction's own context still
		// rolls it back when cancelled.
		ctx := context.WithoutCancel(ctx)
		args := make([]any, 0, 13)
		for _, it := range items {
			s := it.score
			args = append(args[:0], s.Fit, s.Engagement, s.FitGrade, s.EngagementGrade)
			if !shared {
				args = append(args, s.PolicyVersion, micros(s.ScoredAt))
			}
			args = append(args, it.stateArg(), it.rules)
			if withModel {
				var prob any
				if s.Probability != nil {
					prob = *s.Probability
				}
				args = append(args, prob, s.ModelVersion)
			}
			args = append(args, it.lead.ID)
			if guarded {
				args = append(args, it.lead.Version, it.seq)
			}
			res, err := stmt.ExecContext(ctx, args...)
			if err != nil {
				return nil, fmt.Errorf("save score of lead %d: %w", it.lead.ID, err)
			}
			if guarded {
				if n, err := res.RowsAffected(); err != nil {
					return nil, err
				} else if n == 0 {
					missed = append(missed, it.lead.ID)
				}
			}
		}
		return missed, nil
	}
	cols := 11
	if guarded {
		cols = 13
	}
	var b strings.Builder
	args := make([]any, 0, 200*cols)
	for start := 0; start < len(items); start += 200 {
		chunk := items[start:min(start+200, len(items))]
		b.Reset()
		args = args[:0]
		b.WriteString(`WITH v(id, fit, engagement, fit_grade, engagement_grade, policy_version, probability, model_version, scored_at, score_state, fit_rules`)
		if guarded {
			b.WriteString(`, version, seq`)
		}
		b.WriteString(`) AS (VALUES `)
		if tx.db.backend == Postgres {
			// PostgreSQL cannot infer the types of parameters in VALUES.
			for i := range chunk {
				if i > 0 {
					b.WriteByte(',')
				}
				n := i*cols + 1
				fmt.Fprintf(&b, "($%d::bigint,$%d::float8,$%d::float8,$%d::text,$%d::text,$%d::int,$%d::float8,$%d::int,$%d::bigint,$%d::text,$%d::text",
					n, n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10)
				if guarded {
					fmt.Fprintf(&b, ",$%d::bigint,$%d::bigint", n+11, n+12)
				}
				b.WriteByte(')')
			}
		} else {
			tx.db.placeholders(&b, len(chunk), cols, 1)
		}
		b.WriteString(`) UPDATE leads SET fit = v.fit, engagement = v.engagement, fit_grade = v.fit_grade,
			engagement_grade = v.engagement_grade, policy_version = v.policy_version, probability = v.probability,
			model_version = v.model_version, scored_at = v.scored_at, score_state = COALESCE(v.score_state, leads.score_state),
			fit_rules = v.fit_rules, score_seq = leads.score_seq + 1 FROM v WHERE leads.id = v.id`)
		if guarded {
			b.WriteString(` AND leads.version = v.version AND leads.score_seq = v.seq RETURNING leads.id`)
		}
		for _, it := range chunk {
			var prob any
			if it.score.Probability != nil {
				prob = *it.score.Probability
			}
			s := it.score
			args = append(args, it.lead.ID, s.Fit, s.Engagement, s.FitGrade, s.EngagementGrade, s.PolicyVersion, prob,
				s.ModelVersion, micros(s.ScoredAt), it.stateArg(), it.rules)
			if guarded {
				args = append(args, it.lead.Version, it.seq)
			}
		}
		if !guarded {
			if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
				return nil, fmt.Errorf("save scores: %w", err)
			}
			continue
		}
		rows, err := tx.QueryContext(ctx, b.String(), args...)
		if err != nil {
			return nil, fmt.Errorf("save scores: %w", err)
		}
		written := map[int64]bool{}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			written[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("save scores: %w", err)
		}
		for _, it := range chunk {
			if !written[it.lead.ID] {
				missed = append(missed, it.lead.ID)
			}
		}
	}
	return missed, nil
}

func (tx *Tx) promoteAll(ctx context.Context, items []scored) error {
	changed := map[int64]string{}
	for _, it := range items {
		if it.rules != it.old {
			changed[it.lead.ID] = it.rules
		}
	}
	if err := tx.setFitRules(ctx, changed); err != nil {
		return err
	}
	for _, it := range items {
		it.lead.Score = it.score
		if err := tx.promote(ctx, it.lead, it.ps); err != nil {
			return err
		}
	}
	return nil
}

func (tx *Tx) accountOf(ctx context.Context, l *baton.Lead) (*baton.Account, error) {
	if l.AccountID == nil {
		return nil, nil
	}
	a, err := tx.findAccount(ctx, "id", *l.AccountID)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		return nil, nil
	}
	return a, err
}

// promote moves a qualifying new or recycled lead to MQL as the system, with
// the policy's reason in its history.
func (tx *Tx) promote(ctx context.Context, l *baton.Lead, ps policy.Score) error {
	if !ps.Qualifies || (l.Stage != baton.StageNew && l.Stage != baton.StageRecycled) {
		return nil
	}
	if l.Stage == baton.StageRecycled {
		// A recycled lead waits out its cool-down before it may come back.
		if until, err := tx.nurtureUntil(ctx, l.ID); err != nil || until.After(tx.now) {
			return err
		}
	}
	// Routing reads the lead's fields: load them all (the ingest path may
	// have read only the scoring columns).
	full, err := tx.findLead(ctx, l.ID, true)
	if err != nil {
		return err
	}
	sys := *tx
	sys.actor = baton.Actor{Name: "scoring policy", Role: baton.RoleSystem, Via: "policy"}
	if err := sys.changeStage(ctx, full, baton.StageChange{To: baton.StageMQL, Reason: ps.Why}); err != nil {
		return err
	}
	l.Stage, l.Version, l.OwnerID, l.StageChangedAt = full.Stage, full.Version, full.OwnerID, full.StageChangedAt
	return nil
}

// ExplainScore returns a lead's score now with every rule and factor behind it.
func (db *DB) ExplainScore(ctx context.Context, id int64) (*baton.ScoreExplanation, error) {
	tx, err := db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	l, err := tx.findVisibleLead(ctx, id, false)
	if err != nil {
		return nil, err
	}
	sc, err := tx.scorer(ctx)
	if err != nil {
		return nil, err
	}
	var raw []byte
	if err := tx.QueryRowContext(ctx, `SELECT score_state FROM leads WHERE id = $1`, id).Scan(&raw); err != nil {
		return nil, err
	}
	st, err := parseState(raw)
	if err != nil {
		return nil, err
	}
	acc, err := tx.accountOf(ctx, l)
	if err != nil {
		return nil, err
	}
	score, ps := sc.evaluate(l, acc, st, tx.now)
	ex := &baton.ScoreExplanation{LeadID: id, At: tx.now, Score: score, Qualifies: ps.Qualifies, Why: ps.Why, Reasons: []baton.ScoreReason{}}
	for _, r := range ps.Reasons {
		ex.Reasons = append(ex.Reasons, baton.ScoreReason{Rule: r.Rule, Axis: r.Axis, Points: r.Points, Detail: r.Detail, Events: r.Events})
	}
	if sc.model != nil {
		e := sc.model.Explain(ModelRow(l, acc, st.Counts, OutcomeAttribute))
		ex.BaseLogOdds = e.BaseLogOdds
		for _, f := range e.Factors {
			ex.Factors = append(ex.Factors, baton.ProbabilityFactor{Feature: f.Feature, Value: f.Value, Contribution: f.Contribution})
		}
	}
	return ex, nil
}

// RescoreStatus counts the leads scored by the current policy and model and
// those still scored by older ones.
func (db *DB) RescoreStatus(ctx context.Context) (baton.RescoreStatus, error) {
	var s baton.RescoreStatus
	tx, err := db.beginRead(ctx)
	if err != nil {
		return s, err
	}
	defer tx.Rollback()
	sc, err := tx.scorer(ctx)
	if err != nil {
		return s, err
	}
	s.PolicyVersion, s.ModelVersion = sc.policyVersion, sc.modelVersion
	err = tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN policy_version = $1 AND model_version = $2 THEN 1 ELSE 0 END), 0) FROM leads`,
		sc.policyVersion, sc.modelVersion).Scan(&s.Leads, &s.Current)
	s.Stale = s.Leads - s.Current
	return s, err
}

// eventsBetween loads the events of the leads with ids in [first, last].
func (tx *Tx) eventsBetween(ctx context.Context, first, last int64) (map[int64][]*baton.Event, error) {
	return tx.eventsWhere(ctx, allOfEvents, `lead_id BETWEEN $1 AND $2`, first, last)
}

// eventParts says which optional parts of events to load.
type eventParts struct {
	properties, received bool
}

var allOfEvents = eventParts{properties: true, received: true}

// eventsWhere loads the events of the leads that cond (on lead_id, its
// parameters written by db.param from 1) selects: id, lead, type and time,
// and the parts asked for.
func (tx *Tx) eventsWhere(ctx context.Context, parts eventParts, cond string, args ...any) (map[int64][]*baton.Event, error) {
	cols := `client_id, lead_id, type, occurred_at`
	if parts.properties {
		cols += `, properties`
	}
	if parts.received {
		cols += `, received_at`
	}
	// Ordered as the index of events by lead and time, with no sort in the
	// database: ties in time are put in order of id here.
	rows, err := tx.QueryContext(ctx, `SELECT `+cols+` FROM events WHERE `+cond+` ORDER BY lead_id, occurred_at`, args...)
	if err != nil {
		return nil, fmt.Errorf("events of leads: %w", err)
	}
	defer rows.Close()
	out := map[int64][]*baton.Event{}
	var at, received int64
	var props []byte
	var typ sql.RawBytes
	types := map[string]string{} // one string per event type, not per event
	var slab []baton.Event
	dest := make([]any, 4, 6)
	for rows.Next() {
		if len(slab) == 0 {
			slab = make([]baton.Event, 256)
		}
		e := &slab[0]
		slab = slab[1:]
		dest = append(dest[:0], &e.ID, &e.LeadID, &typ, &at)
		if parts.properties {
			dest = append(dest, &props)
		}
		if parts.received {
			dest = append(dest, &received)
		}
		props = nil
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		if t, ok := types[string(typ)]; ok {
			e.Type = t
		} else {
			e.Type = string(typ)
			types[e.Type] = e.Type
		}
		e.OccurredAt = fromMicros(at)
		if parts.received {
			e.ReceivedAt = fromMicros(received)
		}
		if len(props) > 0 {
			e.Properties = props // Scan made it a copy of its own
		}
		out[e.LeadID] = append(out[e.LeadID], e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, events := range out {
		for i := 1; i < len(events); i++ {
			if events[i].OccurredAt.Equal(events[i-1].OccurredAt) {
				slices.SortStableFunc(events, func(a, b *baton.Event) int {
					return cmp.Or(a.OccurredAt.Compare(b.OccurredAt), strings.Compare(a.ID, b.ID))
				})
				break
			}
		}
	}
	return out, nil
}

// accountsOf loads the accounts of the leads.
func (tx *Tx) accountsOf(ctx context.Context, leads []*baton.Lead) (map[int64]*baton.Account, error) {
	ids := map[int64]bool{}
	for _, l := range leads {
		if l.AccountID != nil {
			ids[*l.AccountID] = true
		}
	}
	out := map[int64]*baton.Account{}
	if len(ids) == 0 {
		return out, nil
	}
	var b strings.Builder
	args := make([]any, 0, len(ids))
	for id := range ids {
		args = append(args, id)
	}
	b.WriteString(`SELECT ` + accountColumns + ` FROM accounts WHERE id IN `)
	tx.db.inList(&b, len(args))
	rows, err := tx.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("accounts of leads: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out[a.ID] = a
	}
	return out, rows.Err()
}

// scoringSet is leads read with what scoring them needs, index by index.
type scoringSet struct {
	leads  []*baton.Lead
	states []*scoreState
	// rules are the fit rules stored with each lead (leads.fit_rules).
	rules []string
	// seqs are the leads' score_seq: a rescore computed on a read snapshot
	// writes a lead only if its score_seq and version are still these.
	seqs []int64
}

// scoringRows reads the leads that cond selects (a WHERE clause of leads,
// with its ORDER BY and LIMIT) with their scoring states and stored fit
// rules, locked in a write transaction (lockRows). With a scorer that has no model, it reads only the fields its fit
// rules read and what storing and promoting the scores need: the rest of each
// lead is left zero.
func (tx *Tx) scoringRows(ctx context.Context, sc *scorer, cond string, args ...any) (*scoringSet, error) {
	cols := leadColumns
	narrow := sc != nil && sc.model == nil
	if narrow {
		cols = sc.columns()
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+cols+`, score_state, fit_rules, score_seq FROM leads WHERE `+cond+tx.lockRows(), args...)
	if err != nil {
		return nil, fmt.Errorf("leads to score: %w", err)
	}
	defer rows.Close()
	set := &scoringSet{}
	var reads policy.FitReads
	if narrow && sc.policy != nil {
		reads = sc.policy.FitReads()
	}
	var dest []any
	var raw sql.RawBytes // parsed before the next row
	var slab []baton.Lead
	for rows.Next() {
		var old string
		var seq int64
		var l *baton.Lead
		if narrow {
			if len(slab) == 0 {
				slab = make([]baton.Lead, 256) // a lead each row, allocated 256 at a time
			}
			l, slab = &slab[0], slab[1:]
			err = scanScoring(rows, l, &dest, reads, &raw, &old, &seq)
		} else {
			l, err = scanLead(scanFunc(func(dest ...any) error { return rows.Scan(append(dest, &raw, &old, &seq)...) }))
		}
		if err != nil {
			return nil, err
		}
		st, err := sc.parseState(raw)
		if err != nil {
			return nil, err
		}
		set.leads = append(set.leads, l)
		set.states = append(set.states, st)
		set.rules = append(set.rules, old)
		set.seqs = append(set.seqs, seq)
	}
	return set, rows.Err()
}

// columns returns the columns of leads that scoring without a model reads:
// what storing and promoting need, and the fields the fit rules read.
func (sc *scorer) columns() string {
	cols := "id, stage, version"
	if sc.policy != nil {
		r := sc.policy.FitReads()
		if r.Account {
			cols += ", account_id"
		}
		for _, f := range r.Fields {
			cols += ", " + f
		}
		if r.Attributes {
			cols += ", attrs"
		}
	}
	return cols
}

// scanScoring scans a row of sc.columns() then the state, fit rules and
// score_seq, reusing *buf for the destinations.
func scanScoring(rows *sql.Rows, l *baton.Lead, buf *[]any, reads policy.FitReads, raw *sql.RawBytes, old *string, seq *int64) error {
	var account sql.NullInt64
	var email sql.NullString
	var attrsJSON []byte
	dest := append((*buf)[:0], &l.ID, &l.Stage, &l.Version)
	if reads.Account {
		dest = append(dest, &account)
	}
	for _, f := range reads.Fields {
		switch f {
		case "email":
			dest = append(dest, &email)
		case "name":
			dest = append(dest, &l.Name)
		case "title":
			dest = append(dest, &l.Title)
		case "phone":
			dest = append(dest, &l.Phone)
		case "company":
			dest = append(dest, &l.Company)
		case "country":
			dest = append(dest, &l.Country)
		case "source":
			dest = append(dest, &l.Source)
		case "campaign":
			dest = append(dest, &l.Campaign)
		default:
			return fmt.Errorf("score leads: no column for field %q", f)
		}
	}
	if reads.Attributes {
		dest = append(dest, &attrsJSON)
	}
	dest = append(dest, raw, old, seq)
	*buf = dest
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	l.Email, l.AccountID = email.String, ptrInt(account)
	if len(attrsJSON) > 2 {
		if err := json.Unmarshal(attrsJSON, &l.Attrs); err != nil {
			return fmt.Errorf("lead %d attributes: %w", l.ID, err)
		}
	}
	return nil
}

// scoreLeads scores many leads after new events, loading them, their states
// and their accounts a chunk at a time rather than a query per lead.
func (tx *Tx) scoreLeads(ctx context.Context, sc *scorer, byLead map[int64][]*baton.Event) error {
	if len(byLead) == 0 || !sc.active() {
		return nil
	}
	ids := make([]int64, 0, len(byLead))
	for id := range byLead {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if sc.model == nil {
		// Events move engagement only: without a model there is no need to
		// read the leads' fields, and fit stays as it was.
		return tx.scoreEngagement(ctx, sc, ids, byLead)
	}
	return tx.db.idLists(ids, func(list string, args []any) error {
		set, err := tx.scoringRows(ctx, sc, `id IN `+list+` ORDER BY id`, args...)
		if err != nil {
			return err
		}
		leads, states, olds := set.leads, set.states, set.rules
		accounts, err := tx.accountsOf(ctx, leads)
		if err != nil {
			return err
		}
		items := make([]scored, 0, len(leads))
		for i, l := range leads {
			var acc *baton.Account
			if l.AccountID != nil {
				acc = accounts[*l.AccountID]
			}
			score, ps, err := tx.compute(ctx, sc, l, acc, states[i], byLead[l.ID])
			if err != nil {
				return err
			}
			items = append(items, scored{lead: l, score: score, ps: ps, state: states[i], rules: sc.fitRules(ps), old: olds[i]})
		}
		return tx.saveScores(ctx, items)
	})
}

// scoreEngagement is scoreLeads for when no model is active: it reads and
// writes only the scoring columns.
func (tx *Tx) scoreEngagement(ctx context.Context, sc *scorer, ids []int64, byLead map[int64][]*baton.Event) error {
	var stmt *sql.Stmt
	if tx.db.backend == SQLite {
		var err error
		stmt, err = tx.PrepareContext(ctx, `UPDATE leads SET engagement = ?, engagement_grade = ?, fit_grade = ?, policy_version = ?,
			scored_at = ?, score_state = ?, score_seq = score_seq + 1 WHERE id = ?`)
		if err != nil {
			return fmt.Errorf("score leads: %w", err)
		}
		defer stmt.Close()
	}
	return tx.db.idLists(ids, func(list string, args []any) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, stage, version, fit, fit_grade, score_state FROM leads WHERE id IN `+list+` ORDER BY id`+tx.lockRows(), args...)
		if err != nil {
			return fmt.Errorf("score leads: %w", err)
		}
		var items []scored
		for rows.Next() {
			l := &baton.Lead{}
			var raw []byte
			if err := rows.Scan(&l.ID, &l.Stage, &l.Version, &l.Score.Fit, &l.Score.FitGrade, &raw); err != nil {
				rows.Close()
				return err
			}
			st, err := sc.parseState(raw)
			if err != nil {
				rows.Close()
				return err
			}
			items = append(items, scored{lead: l, state: st})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var stale []*baton.Lead
		var staleStates []*scoreState
		for i := range items {
			if it := &items[i]; !sc.fresh(it.state) {
				stale, staleStates = append(stale, it.lead), append(staleStates, it.state)
			} else {
				sc.observe(it.state, it.lead, byLead[it.lead.ID])
			}
		}
		// Rebuilt states take in the new events from the table.
		if err := tx.rebuildStates(ctx, sc, stale, staleStates); err != nil {
			return err
		}
		for i := range items {
			it := &items[i]
			l, st := it.lead, it.state
			it.score = baton.LeadScore{Fit: l.Score.Fit, FitGrade: l.Score.FitGrade, ScoredAt: tx.now}
			if sc.policy != nil {
				it.ps = sc.policy.ScoreWithFit(l.Score.Fit, st.Engagement, tx.now)
				it.score.Engagement, it.score.EngagementGrade, it.score.FitGrade = it.ps.Engagement, it.ps.EngagementGrade, it.ps.FitGrade
				it.score.PolicyVersion = sc.policyVersion
			}
		}
		if stmt != nil {
			ctx := context.WithoutCancel(ctx) // as in storeScores
			for _, it := range items {
				s := it.score
				if _, err := stmt.ExecContext(ctx, s.Engagement, s.EngagementGrade, s.FitGrade, s.PolicyVersion, micros(s.ScoredAt), it.state.json(), it.lead.ID); err != nil {
					return fmt.Errorf("save score of lead %d: %w", it.lead.ID, err)
				}
			}
		} else {
			var b strings.Builder
			args = args[:0]
			b.WriteString(`WITH v(id, engagement, engagement_grade, fit_grade, policy_version, scored_at, score_state) AS (VALUES `)
			for i, it := range items {
				if i > 0 {
					b.WriteByte(',')
				}
				n := i*7 + 1
				fmt.Fprintf(&b, "($%d::bigint,$%d::float8,$%d::text,$%d::text,$%d::int,$%d::bigint,$%d::text)", n, n+1, n+2, n+3, n+4, n+5, n+6)
				s := it.score
				args = append(args, it.lead.ID, s.Engagement, s.EngagementGrade, s.FitGrade, s.PolicyVersion, micros(s.ScoredAt), it.state.json())
			}
			b.WriteString(`) UPDATE leads SET engagement = v.engagement, engagement_grade = v.engagement_grade, fit_grade = v.fit_grade,
				policy_version = v.policy_version, scored_at = v.scored_at, score_state = v.score_state, score_seq = leads.score_seq + 1
				FROM v WHERE leads.id = v.id`)
			if len(items) > 0 {
				if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
					return fmt.Errorf("save scores: %w", err)
				}
			}
		}
		for _, it := range items {
			if err := tx.promote(ctx, it.lead, it.ps); err != nil {
				return err
			}
		}
		return nil
	})
}
