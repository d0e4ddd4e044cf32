package policy

import (
	"cmp"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/batonhq/baton"
)

// Engagement is a lead's engagement state under a policy: each rule's sum of
// decayed points as of AsOf, and what once, cap and fast tracks need. It is
// JSON-serialisable, to be stored per lead and updated one event at a time
// with [Policy.Apply]; the value at any later time is closed-form, so it
// never needs a rescan of events. The zero value is an empty state.
//
// A state is only meaningful under the policy (and half-life) that built it:
// after publishing a new policy, rebuild states with [Policy.Replay].
type Engagement struct {
	// Key is the EngagementKey of the policies that built the state.
	Key string `json:"key,omitempty"`
	// AsOf is the time the sums are valid at: the latest event time seen.
	AsOf time.Time `json:"as_of"`
	// Rules holds each engagement rule's state, by rule name.
	Rules map[string]*RuleState `json:"rules,omitempty"`
	// FastTrack holds the latest event of each fast-track type seen.
	FastTrack []FastTrackHit `json:"fast_track,omitempty"`
}

// RuleState is one engagement rule's state.
type RuleState struct {
	// Sum is the rule's points decayed to Engagement.AsOf:
	// S(t) = Sum * 2^(-(t-AsOf)/half_life).
	Sum float64 `json:"sum"`
	// Events counts the events the rule matched.
	Events int `json:"events"`
	// Last is the time of the latest event matched (for once: the one counted).
	Last time.Time `json:"last"`
	// Windows are the most recent cap windows (at most MaxCapWindows).
	Windows []CapWindow `json:"windows,omitempty"`
}

// CapWindow is the points (absolute, before decay) a capped rule gave in the
// window starting at Start.
type CapWindow struct {
	Start  time.Time `json:"start"`
	Points float64   `json:"points"`
}

// MaxCapWindows is the number of cap windows kept per rule. An event
// arriving late for an older window than those kept gives no points.
const MaxCapWindows = 4

// FastTrackHit is the latest event of a fast-track type.
type FastTrackHit struct {
	Event   string    `json:"event"`
	At      time.Time `json:"at"`
	EventID string    `json:"event_id,omitempty"`
}

// decay is the factor 2^(-d/half-life) for d >= 0.
func (p *Policy) decay(d time.Duration) float64 {
	if d <= 0 || p.HalfLife <= 0 {
		return 1
	}
	return math.Exp2(-float64(d) / float64(p.HalfLife))
}

// Fit returns the lead's fit score and the fit rules that matched, in
// document order. The reasons' points sum to the score.
func (p *Policy) Fit(s Subject) (float64, []Reason) {
	var buf [64]uint16
	matched := p.matchFit(buf[:0], s)
	if len(matched) == 0 {
		return 0, nil
	}
	return p.appendFit(make([]Reason, 0, len(matched)), matched)
}

// FitPoints returns the fit score alone, without allocating.
func (p *Policy) FitPoints(s Subject) float64 {
	var total float64
	for _, r := range p.FitRules {
		if r.Condition.match(r.Condition.acc.get(s)) {
			total += r.Points
		}
	}
	return total
}

// matchFit appends the indexes of the fit rules that match.
func (p *Policy) matchFit(dst []uint16, s Subject) []uint16 {
	for i, r := range p.FitRules {
		if r.Condition.match(r.Condition.acc.get(s)) {
			dst = append(dst, uint16(i))
		}
	}
	return dst
}

// appendFit appends the reasons of the matched fit rules; the total is
// their sum in document order, as FitPoints adds them.
func (p *Policy) appendFit(dst []Reason, matched []uint16) (float64, []Reason) {
	var total float64
	for _, i := range matched {
		r := p.FitRules[i]
		total += r.Points
		dst = append(dst, Reason{Rule: r.Name, Axis: AxisFit, Points: r.Points, Detail: r.Condition.detail})
	}
	return total, dst
}

// Apply adds one event to the state and returns the points it gave (at the
// event's own time, before any decay) with one reason per matching rule. An
// event no rule matches changes nothing (but may be a fast track). st must
// not be nil.
//
// Events may arrive in any order. For plain rules the result is the same
// whatever the order (up to rounding). With once, the most recent event
// counts whatever the order. Caps depend on arrival order: within a window,
// the events applied first use the cap up (Replay applies them in time
// order).
func (p *Policy) Apply(st *Engagement, e *baton.Event) (points float64, reasons []Reason) {
	return p.apply(st, e, true)
}

// Add is Apply without the points and reasons, for replays and storage that
// only keep the state.
func (p *Policy) Add(st *Engagement, e *baton.Event) { p.apply(st, e, false) }

func (p *Policy) apply(st *Engagement, e *baton.Event, explain bool) (points float64, reasons []Reason) {
	if e == nil {
		return 0, nil
	}
	rules := p.byEvent[e.Type]
	ft := p.fastByEvent[e.Type]
	if len(rules) == 0 && ft == nil {
		return 0, nil
	}
	var props map[string]any
	decoded := false
	where := func(conds []*Condition) bool {
		if len(conds) == 0 {
			return true
		}
		if !decoded {
			decoded = true
			if len(e.Properties) > 0 {
				_ = json.Unmarshal(e.Properties, &props) // not an object: no properties
			}
		}
		for _, c := range conds {
			if !c.match(property(props, c.Field)) {
				return false
			}
		}
		return true
	}
	te := e.OccurredAt
	if ft != nil && where(ft.Where) {
		i := slices.IndexFunc(st.FastTrack, func(h FastTrackHit) bool { return h.Event == e.Type })
		if i < 0 {
			st.FastTrack = append(st.FastTrack, FastTrackHit{Event: e.Type, At: te, EventID: e.ID})
		} else if te.After(st.FastTrack[i].At) {
			st.FastTrack[i] = FastTrackHit{Event: e.Type, At: te, EventID: e.ID}
		}
	}
	for _, r := range rules {
		if !where(r.Where) {
			continue
		}
		p.rebase(st, te)
		if st.Rules == nil {
			st.Rules = map[string]*RuleState{}
		}
		rs := st.Rules[r.Name]
		if rs == nil {
			rs = &RuleState{}
			st.Rules[r.Name] = rs
		}
		credit, detail := r.Points, r.detail
		switch {
		case r.Once:
			if rs.Events > 0 && !te.After(rs.Last) {
				credit = 0
				if explain {
					detail = "once: a later " + r.Event + " is already counted"
				}
			} else {
				if rs.Events > 0 && explain {
					detail = "once: replaces the " + r.Event + " of " + rs.Last.UTC().Format(time.RFC3339)
				}
				rs.Sum = r.Points * p.decay(st.AsOf.Sub(te)) // the one counted event
			}
		case r.Cap != nil:
			credit, detail = r.capped(rs, te)
			rs.Sum += credit * p.decay(st.AsOf.Sub(te))
		default:
			rs.Sum += r.Points * p.decay(st.AsOf.Sub(te))
		}
		rs.Events++
		if te.After(rs.Last) || rs.Last.IsZero() {
			rs.Last = te
		}
		points += credit
		if explain {
			reasons = append(reasons, Reason{Rule: r.Name, Axis: AxisEngagement, Points: credit, Detail: detail, Events: 1})
		}
	}
	return points, reasons
}

// rebase moves AsOf forward to t, decaying every sum.
func (p *Policy) rebase(st *Engagement, t time.Time) {
	if st.AsOf.IsZero() || len(st.Rules) == 0 {
		if t.After(st.AsOf) || st.AsOf.IsZero() {
			st.AsOf = t
		}
		return
	}
	if !t.After(st.AsOf) {
		return
	}
	f := p.decay(t.Sub(st.AsOf))
	for _, rs := range st.Rules {
		rs.Sum *= f
	}
	st.AsOf = t
}

// capped returns the points an event at te gets under the rule's cap, and
// records them in its window.
func (r *EngagementRule) capped(rs *RuleState, te time.Time) (float64, string) {
	start := te.Truncate(r.Cap.Per)
	i := slices.IndexFunc(rs.Windows, func(w CapWindow) bool { return w.Start.Equal(start) })
	if i < 0 {
		if len(rs.Windows) >= MaxCapWindows && !start.After(rs.Windows[0].Start) {
			return 0, "capped: the event is older than the cap windows kept"
		}
		rs.Windows = append(rs.Windows, CapWindow{Start: start})
		slices.SortFunc(rs.Windows, func(a, b CapWindow) int { return a.Start.Compare(b.Start) })
		if len(rs.Windows) > MaxCapWindows {
			rs.Windows = slices.Delete(rs.Windows, 0, len(rs.Windows)-MaxCapWindows)
		}
		i = slices.IndexFunc(rs.Windows, func(w CapWindow) bool { return w.Start.Equal(start) })
	}
	w := &rs.Windows[i]
	left := r.Cap.Points - w.Points
	abs := math.Abs(r.Points)
	switch {
	case left <= 0:
		return 0, "capped: " + fmtNum(r.Cap.Points) + " points per " + FormatDuration(r.Cap.Per) + " already given"
	case abs > left:
		w.Points = r.Cap.Points
		return math.Copysign(left, r.Points), "capped: the last " + fmtNum(left) + " points of " + fmtNum(r.Cap.Points) +
			" per " + FormatDuration(r.Cap.Per)
	}
	w.Points += abs
	return r.Points, r.detail
}

// Engagement returns the engagement score at now and one reason per rule
// that has counted events, in document order; the reasons' points sum to the
// score. Rules of the state that the policy does not have are ignored. A now
// before st.AsOf is taken as st.AsOf: the state holds no history to go back
// to (replay the events up to that time instead).
func (p *Policy) Engagement(st *Engagement, now time.Time) (float64, []Reason) {
	if st == nil || len(st.Rules) == 0 {
		return 0, nil
	}
	return p.appendEngagement(make([]Reason, 0, len(st.Rules)), st, now)
}

func (p *Policy) appendEngagement(dst []Reason, st *Engagement, now time.Time) (float64, []Reason) {
	if st == nil || len(st.Rules) == 0 {
		return 0, dst
	}
	f := p.decay(now.Sub(st.AsOf))
	var total float64
	for _, r := range p.EngagementRules {
		rs := st.Rules[r.Name]
		if rs == nil || rs.Events == 0 {
			continue
		}
		v := rs.Sum * f
		total += v
		dst = append(dst, Reason{Rule: r.Name, Axis: AxisEngagement, Points: v, Detail: r.detail, Events: rs.Events})
	}
	return total, dst
}

// NewEngagement returns the state of a lead with no events yet.
func (p *Policy) NewEngagement() *Engagement {
	return &Engagement{Key: p.engagementKey}
}

// Replay builds the engagement state of a lead from its events, applied in
// (OccurredAt, ID) order, for rescoring and backtests. events is not
// modified; nil events are skipped.
func (p *Policy) Replay(events []*baton.Event) *Engagement {
	sorted := make([]*baton.Event, 0, len(events))
	for _, e := range events {
		if e != nil {
			sorted = append(sorted, e)
		}
	}
	slices.SortStableFunc(sorted, func(a, b *baton.Event) int {
		if c := a.OccurredAt.Compare(b.OccurredAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	st := p.NewEngagement()
	for _, e := range sorted {
		p.Add(st, e)
	}
	return st
}

// gradeOf returns the first grade (highest threshold first) that v
// reaches, or "" if it reaches none.
func gradeOf(grades []Grade, v float64) string {
	for _, g := range grades {
		if v >= g.Min {
			return g.Name
		}
	}
	return ""
}

// Score evaluates a lead at now: fit, engagement (st may be nil: none),
// grades, whether it qualifies as an MQL and why, and every reason; the
// reasons sum to Fit + Engagement.
func (p *Policy) Score(s Subject, st *Engagement, now time.Time) Score {
	var sc Score
	p.ScoreTo(&sc, s, st, now)
	return sc
}

// ScoreTo is Score into *sc, reusing the capacity of sc.Reasons: a loop over
// many leads that is done with each score before the next allocates only
// the Why string.
func (p *Policy) ScoreTo(sc *Score, s Subject, st *Engagement, now time.Time) {
	var buf [64]uint16
	matched := p.matchFit(buf[:0], s)
	n := len(matched)
	if st != nil {
		n += len(st.Rules)
	}
	reasons := sc.Reasons[:0]
	if n > cap(reasons) {
		reasons = make([]Reason, 0, n)
	}
	*sc = Score{}
	sc.Fit, reasons = p.appendFit(reasons, matched)
	sc.Engagement, reasons = p.appendEngagement(reasons, st, now)
	if len(reasons) > 0 {
		sc.Reasons = reasons
	}
	sc.FitGrade = gradeOf(p.FitGrades, sc.Fit)
	sc.EngagementGrade = gradeOf(p.EngagementGrades, sc.Engagement)
	sc.Qualifies, sc.Why = p.qualify(sc.Fit, sc.Engagement, st, now)
}

// qualify decides MQL and writes why.
func (p *Policy) qualify(fit, eng float64, st *Engagement, now time.Time) (bool, string) {
	var buf [160]byte
	b := buf[:0]
	if p.Version > 0 {
		b = append(b, "policy v"...)
		b = strconv.AppendInt(b, int64(p.Version), 10)
	} else {
		b = append(b, "draft policy"...)
	}
	b = append(b, ": "...)
	q := &p.MQL
	type cond struct {
		name   string
		v, thr float64
	}
	var conds [3]cond
	nc := 0
	if q.Fit != nil {
		conds[nc] = cond{"fit", fit, *q.Fit}
		nc++
	}
	if q.Engagement != nil {
		conds[nc] = cond{"engagement", eng, *q.Engagement}
		nc++
	}
	if q.Combined != nil {
		conds[nc] = cond{"fit+engagement", fit + eng, *q.Combined}
		nc++
	}
	met := 0
	for _, c := range conds[:nc] {
		if c.v >= c.thr {
			met++
		}
	}
	byThreshold := nc > 0 && (met == nc || q.Match == MatchAny && met > 0)
	writeConds := func(b []byte) []byte {
		sep := ", "
		if q.Match == MatchAny {
			sep = " or "
		}
		for i, c := range conds[:nc] {
			if i > 0 {
				b = append(b, sep...)
			}
			b = appendCmp(b, c.name, c.v, c.thr)
		}
		return b
	}
	if byThreshold {
		return true, string(writeConds(b))
	}
	// Fast tracks: the first one that holds, else the first one seen.
	var seen *FastTrack
	if st != nil {
		for _, h := range st.FastTrack {
			ft := p.fastByEvent[h.Event]
			if ft == nil || ft.Within > 0 && now.Sub(h.At) > ft.Within {
				continue
			}
			if ft.MinFit == nil || fit >= *ft.MinFit {
				b = append(b, "fast track "...)
				b = append(b, h.Event...)
				if ft.MinFit != nil {
					b = append(b, " with "...)
					b = appendCmp(b, "fit", fit, *ft.MinFit)
				}
				return true, string(b)
			}
			if seen == nil {
				seen = ft
			}
		}
	}
	b = append(b, "not qualified"...)
	if nc > 0 {
		b = append(b, ": "...)
		b = writeConds(b)
	}
	if seen != nil {
		b = append(b, "; fast track "...)
		b = append(b, seen.Event...)
		b = append(b, " needs "...)
		b = appendCmp(b, "fit", fit, *seen.MinFit)
	}
	return false, string(b)
}

// appendCmp writes "name v >= thr" or "name v < thr", with enough decimals
// that the displayed numbers agree with the comparison.
func appendCmp(b []byte, name string, v, thr float64) []byte {
	b = append(b, name...)
	b = append(b, ' ')
	var vb, tb [32]byte
	vs := appendNum(vb[:0], v)
	ts := appendNum(tb[:0], thr)
	if v < thr && string(vs) == string(ts) {
		vs = strconv.AppendFloat(vb[:0], v, 'f', -1, 64)
	}
	b = append(b, vs...)
	if v >= thr {
		b = append(b, " >= "...)
	} else {
		b = append(b, " < "...)
	}
	return append(b, ts...)
}

// ScoreWithFit evaluates a lead whose fit is already known (events never
// change fit, so storage keeps it rather than recompute it from the lead's
// fields): engagement at now with its reasons, grades, and whether the lead
// qualifies. Reasons hold the engagement rules only.
func (p *Policy) ScoreWithFit(fit float64, st *Engagement, now time.Time) Score {
	var sc Score
	sc.Fit = fit
	sc.Engagement, sc.Reasons = p.appendEngagement(nil, st, now)
	sc.FitGrade = gradeOf(p.FitGrades, sc.Fit)
	sc.EngagementGrade = gradeOf(p.EngagementGrades, sc.Engagement)
	sc.Qualifies, sc.Why = p.qualify(sc.Fit, sc.Engagement, st, now)
	return sc
}
