package store

import (
	"math"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// The reports' aggregates are computed here from history entries, with no
// database access: afterHistory applies one entry to a lead's row and writes
// what changed; RebuildReports replays the whole history the same way.

// Dimensions kept per lead, in the order of leadAgg.dims.
const (
	dimSource = iota
	dimCampaign
	dimIndustry
	dimSize
	dimCountry
	dimOwner
	nDims
)

// dimFitRule is the dimension of the fit rules that fire for a lead: a lead
// counts once under each of its rules, in the cohort counters only, with the
// rules it has now (leadAgg.rules).
const dimFitRule = nDims

// dimStepOwner is the owner who got each step, in the cohort counters only:
// a lead counts at each stage it reached under its owner once the move that
// first took it there was made (see leadAgg.setOwner), and stays there when
// the owner changes later. The period counters of dimOwner count each
// transition that way already; the cohort counters of dimOwner follow the
// current owner, as every dimension's do. Reports by team read these two.
const dimStepOwner = nDims + 1

// dimNames are the dimensions' names in report_daily.dim (the team is the
// owner's, resolved when a report runs), then the fit rules' and the step
// owners'.
var dimNames = [nDims + 2]string{baton.DimSource, baton.DimCampaign, baton.DimIndustry, baton.DimSize, baton.DimCountry, baton.DimOwner, "fit_rule", "step_owner"}

// fitRuleSep separates the rule names in leads.fit_rules and
// report_leads.fit_rules.
const fitRuleSep = "\x1f"

// dimColumns are the dimensions' columns in report_leads, by the index of
// dimNames: none for the fit rules; the step owners' is the current owner,
// who for a won lead is the one who won it (Quality's won value).
var dimColumns = [nDims + 2]string{"source", "campaign", "industry", "size_band", "country", "owner", "", "owner"}

// reached lists the stages whose first time is kept (report_leads.<stage>_at),
// in the order of leadAgg.reached; the first five are the funnel's main line.
var reached = [...]baton.Stage{baton.StageMQL, baton.StageSAL, baton.StageSQL, baton.StageOpportunity,
	baton.StageWon, baton.StageLost, baton.StageRecycled, baton.StageDisqualified}

const nReached = len(reached)

// reachIndex returns the index of s in reached, or -1.
func reachIndex(s baton.Stage) int {
	for i, r := range reached {
		if r == s {
			return i
		}
	}
	return -1
}

// cohortStage reports whether the cohort counters count leads that reached
// reached[i] (the main line and lost, for win rates).
func cohortStage(i int) bool { return i <= 5 }

// stageLead is the pseudo-stage of a lead's creation in report_daily.
const stageLead = "lead"

// leadAgg is a lead's row of report_leads.
type leadAgg struct {
	id      int64
	created int64 // microseconds
	dims    [nDims]string
	stage   baton.Stage
	stageAt int64           // microseconds; 0 when unknown
	reached [nReached]int64 // first time at each stage, 0 never
	// returned is the first time the lead came back from recycled to mql.
	returned int64
	// rules are the fit rules that fire for the lead now, joined by fitRuleSep.
	rules string
}

// countRules adds n to the cohort counters of the lead's fit rules at stage.
func (a *leadAgg) countRules(d *aggDelta, stage string, n int64) {
	if a.rules == "" {
		return
	}
	for r := range strings.SplitSeq(a.rules, fitRuleSep) {
		d.daily[dailyKey{'c', dimFitRule, dayOf(a.created), r, stage}] += n
	}
}

// countCohort adds n to the lead's cohort counters at stage: one per
// dimension by its current value, the step owner's (the owner it has as it
// reaches the stage) and its fit rules'.
func (a *leadAgg) countCohort(d *aggDelta, stage string, n int64) {
	cday := dayOf(a.created)
	d.countAll('c', cday, &a.dims, stage, n)
	d.daily[dailyKey{'c', dimStepOwner, cday, a.dims[dimOwner], stage}] += n
	a.countRules(d, stage, n)
}

// setRules changes the fit rules that fire for the lead, moving its cohort
// counts from the old rules to the new ones.
func (a *leadAgg) setRules(rules string, d *aggDelta) {
	if rules == a.rules {
		return
	}
	a.forCohort(func(stage string) { a.countRules(d, stage, -1) })
	a.rules = rules
	a.forCohort(func(stage string) { a.countRules(d, stage, 1) })
}

// forCohort calls fn with each stage the lead counts at in the cohort
// counters: its creation and the cohort stages it reached.
func (a *leadAgg) forCohort(fn func(stage string)) {
	fn(stageLead)
	for j := range nReached {
		if a.reached[j] != 0 && cohortStage(j) {
			fn(string(reached[j]))
		}
	}
}

// dayOf returns the UTC day of a time in microseconds, as days since
// 1970-01-01.
func dayOf(us int64) int64 {
	const day = int64(24 * time.Hour / time.Microsecond)
	if us < 0 {
		return (us - day + 1) / day
	}
	return us / day
}

// monthOf returns the first day of a day's calendar month (UTC).
func monthOf(day int64) int64 {
	t := fromMicros(dayStart(day))
	return dayOf(micros(time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)))
}

// dayStart returns the first microsecond of a day.
func dayStart(day int64) int64 { return day * int64(24*time.Hour/time.Microsecond) }

// bucketsPerDoubling sets the resolution of the duration histograms: a
// bucket spans a factor of 2^(1/8), about 9%.
const bucketsPerDoubling = 8

// durationBucket returns the histogram bucket of a duration in microseconds.
func durationBucket(us int64) int {
	if us < 0 {
		us = 0
	}
	return int(math.Floor(bucketsPerDoubling * math.Log2(1+float64(us)/1e6)))
}

// bucketHours returns the value a bucket stands for, in hours: its
// geometric middle.
func bucketHours(b int) float64 {
	return (math.Exp2((float64(b)+0.5)/bucketsPerDoubling) - 1) / 3600
}

// stepKinds names the main steps timed by Velocity: from entering the
// first stage to moving to the second.
var stepKinds = map[[2]baton.Stage]string{
	{baton.StageMQL, baton.StageSAL}:          "mql_to_sal",
	{baton.StageSAL, baton.StageSQL}:          "sal_to_sql",
	{baton.StageSQL, baton.StageOpportunity}:  "sql_to_opportunity",
	{baton.StageOpportunity, baton.StageWon}:  "opportunity_to_close",
	{baton.StageOpportunity, baton.StageLost}: "opportunity_to_close",
}

// dailyKey is one counter of report_daily.
type dailyKey struct {
	kind  byte // 'c' or 'p'
	dim   int
	day   int64
	value string
	stage string
}

// durationKey is one counter of report_durations, and with its owner (the
// lead's owner as it left the stage) one of report_owner_durations.
type durationKey struct {
	kind   string
	day    int64
	bucket int
	owner  string
}

// rejectionKey is one counter of report_rejections: its rows by source, by
// campaign and by owner (the one who rejected) come from it.
type rejectionKey struct {
	day                                       int64
	from, to, reason, source, campaign, owner string
}

// stepKey is one row of report_steps: a lead's creation or move into a
// stage of the funnel (step the stage), or a rejection ("rejected:" and the
// reason), at a time, under an owner.
type stepKey struct {
	step  string
	at    int64
	owner string
	lead  int64
}

// rejectedStep is the prefix of the steps of report_steps that are
// rejections: the reason follows it.
const rejectedStep = "rejected:"

// funnelStage reports whether the funnel counts moves into s (or, for
// stageLead, creations): report_steps keeps the leads behind those.
func funnelStage(s string) bool {
	switch baton.Stage(s) {
	case stageLead, baton.StageMQL, baton.StageSAL, baton.StageSQL, baton.StageOpportunity, baton.StageWon:
		return true
	}
	return false
}

// aggDelta collects counter changes, merged by key.
type aggDelta struct {
	daily      map[dailyKey]int64
	durations  map[durationKey]int64
	rejections map[rejectionKey]int64
	steps      map[stepKey]int64
}

func newAggDelta() *aggDelta {
	return &aggDelta{daily: map[dailyKey]int64{}, durations: map[durationKey]int64{}, rejections: map[rejectionKey]int64{},
		steps: map[stepKey]int64{}}
}

func (d *aggDelta) empty() bool {
	return len(d.daily) == 0 && len(d.durations) == 0 && len(d.rejections) == 0 && len(d.steps) == 0
}

// add adds another delta's counter changes to d.
func (d *aggDelta) add(o *aggDelta) {
	for k, n := range o.daily {
		d.daily[k] += n
	}
	for k, n := range o.durations {
		d.durations[k] += n
	}
	for k, n := range o.rejections {
		d.rejections[k] += n
	}
	for k, n := range o.steps {
		d.steps[k] += n
	}
}

// step counts a step of the lead under its owner now, if the funnel
// counts it.
func (a *leadAgg) step(d *aggDelta, stage string, at int64) {
	if funnelStage(stage) {
		d.steps[stepKey{stage, at, a.dims[dimOwner], a.id}]++
	}
}

// countAll adds n to the counters of stage on day, one per dimension.
func (d *aggDelta) countAll(kind byte, day int64, dims *[nDims]string, stage string, n int64) {
	for i := range nDims {
		d.daily[dailyKey{kind, i, day, dims[i], stage}] += n
	}
}

// start starts a lead's row from its creation entry; dims are the lead's
// dimensions at creation.
func (a *leadAgg) start(h *baton.HistoryEntry, dims [nDims]string, d *aggDelta) {
	at := micros(h.At)
	a.id, a.created, a.dims = h.LeadID, at, dims
	a.stage, a.stageAt = baton.Stage(h.To), at
	if a.stage == "" {
		a.stage = baton.StageNew
	}
	day := dayOf(at)
	d.countAll('p', day, &a.dims, stageLead, 1)
	a.countCohort(d, stageLead, 1)
	a.step(d, stageLead, at)
	if a.stage != baton.StageNew {
		// Imported at a later stage: it entered that stage when created.
		d.countAll('p', day, &a.dims, string(a.stage), 1)
		a.reach(a.stage, at, d)
		a.step(d, string(a.stage), at)
	}
}

// reach records that the lead reached stage s at time at. Reaching a stage of
// the main line (or lost) implies the earlier ones, for leads imported past
// them.
func (a *leadAgg) reach(s baton.Stage, at int64, d *aggDelta) {
	i := reachIndex(s)
	if i < 0 {
		return
	}
	top := i
	if s == baton.StageLost {
		top = 3 // opportunity
	}
	mark := func(j int) {
		if a.reached[j] == 0 {
			a.reached[j] = at
			if cohortStage(j) {
				a.countCohort(d, string(reached[j]), 1)
			}
		}
	}
	if i <= 5 {
		for j := 0; j <= top; j++ {
			mark(j)
		}
	}
	mark(i)
}

// stageChange applies a stage history entry. The time the lead spent in the
// stage it leaves, and a rejection, count under the owner it has as it
// leaves (the one who made the move: the move's own owner change comes
// after it, setOwner); the move into the new stage under that owner too
// until the move's owner change, if any, moves it (moveStep).
func (a *leadAgg) stageChange(h *baton.HistoryEntry, d *aggDelta) {
	at := micros(h.At)
	day := dayOf(at)
	from, to := baton.Stage(h.From), baton.Stage(h.To)
	owner := a.dims[dimOwner]
	if a.stageAt > 0 && from == a.stage {
		b := durationBucket(at - a.stageAt)
		d.durations[durationKey{"in:" + string(from), day, b, owner}]++
		if k, ok := stepKinds[[2]baton.Stage{from, to}]; ok {
			d.durations[durationKey{k, day, b, owner}]++
		}
	}
	if (from == baton.StageMQL || from == baton.StageSAL) && (to == baton.StageRecycled || to == baton.StageDisqualified) {
		d.rejections[rejectionKey{day, string(from), string(to), h.Reason, a.dims[dimSource], a.dims[dimCampaign], owner}]++
		d.steps[stepKey{rejectedStep + h.Reason, at, owner, a.id}]++
	}
	if from == baton.StageRecycled && to == baton.StageMQL && a.returned == 0 {
		a.returned = at
	}
	d.countAll('p', day, &a.dims, string(to), 1)
	a.reach(to, at, d)
	a.step(d, string(to), at)
	a.stage, a.stageAt = to, at
}

// dimOfField returns the dimension an updated field sets, if any;
// account_id sets two (industry and size), returned as dimIndustry.
func dimOfField(field string) (int, bool) {
	switch field {
	case "source":
		return dimSource, true
	case "campaign":
		return dimCampaign, true
	case "country":
		return dimCountry, true
	case "owner_id":
		return dimOwner, true
	case "account_id":
		return dimIndustry, true
	}
	return 0, false
}

// ownerChange reports whether an entry may have changed the lead's owner:
// assignments and breaches name the owner_id field; a move to nurture
// clears the owner (with an assigned entry) and says so with a nurture one.
func ownerChange(h *baton.HistoryEntry) bool {
	return h.Action == baton.ActionNurture || h.Field == "owner_id" && h.Action != baton.ActionUpdated
}

// historyOwner is the owner after an entry that may have changed it, as the
// history alone tells (for replays): an assignment's To, none after a
// rejection to nurture, unchanged after a breach (a reassignment follows)
// and after a routing that found nobody (its entry names no one, from or
// to, and the lead keeps whoever owned it).
func historyOwner(current string) func(h *baton.HistoryEntry) (string, error) {
	return func(h *baton.HistoryEntry) (string, error) {
		switch {
		case h.Action == baton.ActionNurture:
			return "", nil
		case h.Action == baton.ActionBreached, h.Action == baton.ActionAssigned && h.From == "" && h.To == "":
			return current, nil
		}
		return h.To, nil
	}
}

// setDims changes the lead's current dimensions, moving its cohort counts
// from the old values to the new ones (period counts stay with the values at
// the time of each transition).
func (a *leadAgg) setDims(dims [nDims]string, d *aggDelta) {
	cday := dayOf(a.created)
	for i := range nDims {
		if dims[i] == a.dims[i] {
			continue
		}
		a.forCohort(func(stage string) {
			d.daily[dailyKey{'c', i, cday, a.dims[i], stage}]--
			d.daily[dailyKey{'c', i, cday, dims[i], stage}]++
		})
	}
	a.dims = dims
}

// initialDims returns a lead's dimensions at creation, from its current
// fields and its history: a field's first update says what it was before.
// account returns the industry and size band of an account id ("" for none).
func initialDims(cur rawDims, hist []baton.HistoryEntry, account func(id string) (string, string, error)) ([nDims]string, error) {
	seen := map[string]bool{}
	for _, h := range hist {
		if h.Action == baton.ActionAssigned && h.Field == "owner_id" && h.From == "" && h.To == "" {
			continue // a routing that assigned no one
		}
		if !(h.Action == baton.ActionUpdated || h.Field == "owner_id" && h.Action == baton.ActionAssigned) || seen[h.Field] {
			continue
		}
		seen[h.Field] = true
		switch h.Field {
		case "source":
			cur.source = h.From
		case "campaign":
			cur.campaign = h.From
		case "country":
			cur.country = h.From
		case "owner_id":
			cur.owner = h.From
		case "account_id":
			cur.account = h.From
		}
	}
	return cur.dims(account)
}

// rawDims are the lead fields the dimensions come from.
type rawDims struct {
	source, campaign, country, owner, account string
	// fitRules are the lead's fit rules (leads.fit_rules).
	fitRules string
}

func (r rawDims) dims(account func(id string) (string, string, error)) ([nDims]string, error) {
	ind, size, err := account(r.account)
	if err != nil {
		return [nDims]string{}, err
	}
	return [nDims]string{r.source, r.campaign, ind, size, r.country, r.owner}, nil
}

// replay builds a lead's row from its whole history (in time order).
func replay(cur rawDims, hist []baton.HistoryEntry, account func(id string) (string, string, error), d *aggDelta) (*leadAgg, error) {
	dims, err := initialDims(cur, hist, account)
	if err != nil {
		return nil, err
	}
	a := &leadAgg{rules: cur.fitRules}
	started := false
	for i := range hist {
		h := &hist[i]
		if !started && h.Action != baton.ActionCreated {
			// History from before the creation entry (there should be none).
			continue
		}
		switch h.Action {
		case baton.ActionCreated:
			if started {
				continue
			}
			started = true
			a.start(h, dims, d)
		default:
			if err := a.apply(h, account, historyOwner(a.dims[dimOwner]), d); err != nil {
				return nil, err
			}
		}
	}
	if !started {
		return nil, nil
	}
	return a, nil
}

// apply applies a stage or updated entry, or one that may change the owner,
// to a started row. account resolves an account id to its industry and size
// band; owner says who owns the lead after an owner change that is not an
// update.
func (a *leadAgg) apply(h *baton.HistoryEntry, account func(id string) (string, string, error), owner func(h *baton.HistoryEntry) (string, error), d *aggDelta) error {
	switch {
	case h.Action == baton.ActionStage:
		a.stageChange(h, d)
	case h.Action == baton.ActionUpdated:
		i, ok := dimOfField(h.Field)
		if !ok {
			return nil
		}
		dims := a.dims
		switch i {
		case dimOwner:
			a.setOwner(h.To, micros(h.At), d)
			return nil
		case dimIndustry:
			ind, size, err := account(h.To)
			if err != nil {
				return err
			}
			dims[dimIndustry], dims[dimSize] = ind, size
		default:
			dims[i] = h.To
		}
		a.setDims(dims, d)
	case ownerChange(h):
		o, err := owner(h)
		if err != nil {
			return err
		}
		a.setOwner(o, micros(h.At), d)
	}
	return nil
}

// setOwner changes the lead's owner at time at. An owner change at the
// instant of the lead's latest stage change belongs to the move that made it
// (a new MQL routed to a development rep, an SQL to an account executive:
// every entry of one move has the move's time), so the step moves with it:
// each step counts under the owner the lead has once its move is made, and
// a step made with nobody to take it stays unassigned when someone takes
// the lead later. The owner's cohort counters follow the owner, as every
// dimension's do (setDims).
func (a *leadAgg) setOwner(o string, at int64, d *aggDelta) {
	if o == a.dims[dimOwner] {
		return
	}
	if a.stageAt != 0 && at == a.stageAt {
		a.moveStep(a.dims[dimOwner], o, d)
	}
	dims := a.dims
	dims[dimOwner] = o
	a.setDims(dims, d)
}

// moveStep moves the counts of the lead's latest step that go by its owner
// from owner from to owner to: the period count of the stage it entered
// (and its row of report_steps) and the step owner's cohort counts of the
// stages it reached first (at the same instant: two moves of one lead at
// one instant, which only a stopped test clock makes, move together). The
// creation is never moved: a lead counts as a lead under the owner it was
// created with, so that a team's rates compare steps its people took. Nor
// are the rejection and the time in the stage left, which count under the
// owner who made the move.
func (a *leadAgg) moveStep(from, to string, d *aggDelta) {
	if a.stage != baton.StageNew {
		day := dayOf(a.stageAt)
		d.daily[dailyKey{'p', dimOwner, day, from, string(a.stage)}]--
		d.daily[dailyKey{'p', dimOwner, day, to, string(a.stage)}]++
		if funnelStage(string(a.stage)) {
			d.steps[stepKey{string(a.stage), a.stageAt, from, a.id}]--
			d.steps[stepKey{string(a.stage), a.stageAt, to, a.id}]++
		}
	}
	cday := dayOf(a.created)
	for j := range nReached {
		if cohortStage(j) && a.reached[j] == a.stageAt {
			d.daily[dailyKey{'c', dimStepOwner, cday, from, string(reached[j])}]--
			d.daily[dailyKey{'c', dimStepOwner, cday, to, string(reached[j])}]++
		}
	}
}
