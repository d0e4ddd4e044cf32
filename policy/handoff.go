package policy

import (
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"

	"github.com/batonhq/baton"
)

// Handoff is the policy's handoff section: how MQLs and SQLs are routed, how
// long a rep has to answer, what each rejection reason does, what an SQL
// needs, and how long an accepted lead may wait for an opportunity.
type Handoff struct {
	// SDR routes MQLs to development reps; AE routes SQLs to account executives.
	SDR Stage
	AE  Stage
	// Rejection says what each reason does and what it needs.
	Rejection Rejection
	// BANT lists the parts an SQL needs: budget, authority, need, timing.
	BANT []string
	// NurtureLater sends a lead whose timing is "later" back to nurture
	// until its date instead of making it an SQL.
	NurtureLater bool
	// OpportunityWithin is how long an accepted lead may go without an
	// opportunity before its owner is reminded and sales ops sees it.
	OpportunityWithin time.Duration
	// PullAfter lets a rep claim a lead in nurture for this long that keeps
	// engaging (0: pulls from nurture are off); unassigned MQLs may always be
	// claimed when PullUnassigned is set.
	PullAfter      time.Duration
	PullUnassigned bool
}

// Stage is the routing and answer window of one kind of handoff.
type Stage struct {
	Routes []*Route
	// Within is the answer window, in the team's working time.
	Within time.Duration
	// RemindAt is the share of the window after which the rep is reminded.
	RemindAt float64
	// OnBreach is what happens when the window passes: "notify" (the
	// manager is told), "reassign" (also, the next rep in the pool gets the
	// lead) or "return" (also, the lead goes back to the pool, unassigned).
	OnBreach string
}

// Route sends leads that meet every condition to a pool: the active users of
// a team with the stage's role.
type Route struct {
	Name   string
	When   []*Condition
	Pool   string
	Method string // round_robin or least_loaded
	// Cap is the most leads one rep gets from this route per CapPer (0: none).
	Cap    int
	CapPer time.Duration
	// Weights gives reps (by email) more turns of a round robin: a rep of
	// weight 2 gets two leads for every one of the others (default 1).
	Weights map[string]int
	Line    int
}

// Rejection holds the rejection rules.
type Rejection struct {
	// Outcomes maps each reason to recycle, disqualify or merge.
	Outcomes map[string]string
	// Attempts and AttemptDays: unable_to_reach needs this many logged
	// contact attempts within this many days.
	Attempts    int
	AttemptDays int
	// CoolDown is how long a recycled lead waits before it may become an MQL again.
	CoolDown time.Duration
	// Track names the nurture track recycled leads go to; {reason} is replaced.
	Track string
}

// RejectReasons are the reasons a rep may give, in the order shown.
var RejectReasons = []string{"unable_to_reach", "inaccurate_data", "no_budget", "no_authority", "no_need", "bad_timing", "no_fit", "duplicate", "other"}

// DefaultHandoff is the handoff section of a policy that has none: every MQL
// goes round robin to all development reps, SQLs to all account executives;
// four working hours to answer (24x7 unless the team has a calendar);
// the reasons' outcomes of the design.
func DefaultHandoff() Handoff {
	return Handoff{
		SDR:  Stage{Routes: []*Route{{Name: "everyone", Method: "round_robin"}}, Within: 4 * time.Hour, RemindAt: 0.75, OnBreach: "reassign"},
		AE:   Stage{Routes: []*Route{{Name: "everyone", Method: "round_robin"}}, Within: 8 * time.Hour, RemindAt: 0.75, OnBreach: "notify"},
		BANT: []string{"budget", "authority", "need", "timing"},
		Rejection: Rejection{Outcomes: map[string]string{
			"unable_to_reach": "recycle", "inaccurate_data": "disqualify", "no_budget": "recycle", "no_authority": "recycle",
			"no_need": "recycle", "bad_timing": "recycle", "no_fit": "disqualify", "duplicate": "merge", "other": "recycle"},
			Attempts: 3, AttemptDays: 5, CoolDown: 30 * 24 * time.Hour, Track: "recycled: {reason}"},
		NurtureLater:      true,
		OpportunityWithin: 14 * 24 * time.Hour,
		PullAfter:         60 * 24 * time.Hour,
		PullUnassigned:    true,
	}
}

// Match reports whether a lead meets every condition of the route.
func (r *Route) Match(s Subject) bool {
	for _, c := range r.When {
		if !c.match(c.acc.get(s)) {
			return false
		}
	}
	return true
}

// handoff reads the handoff section onto p.Handoff, which starts as
// DefaultHandoff: every key given replaces its default.
func (d *decoder) handoff(e entry, p *Policy) {
	m, ok := d.fields(e.val, "handoff", e.line, "sdr", "ae", "rejection", "bant", "nurture_later", "opportunity_within", "pull")
	if !ok {
		return
	}
	h := &p.Handoff
	for _, k := range []struct {
		key string
		st  *Stage
	}{{"sdr", &h.SDR}, {"ae", &h.AE}} {
		if se, ok := m[k.key]; ok {
			d.handoffStage(se, "handoff."+k.key, k.st)
		}
	}
	if re, ok := m["rejection"]; ok {
		rm, ok := d.fields(re.val, "handoff.rejection", re.line, "outcomes", "unable_to_reach", "cool_down", "track")
		if ok {
			if oe, ok := rm["outcomes"]; ok {
				es, _ := d.mapping(oe.val, "handoff.rejection.outcomes", oe.line)
				for _, x := range es {
					path := join("handoff.rejection.outcomes", x.key)
					if !contains(RejectReasons, x.key) {
						d.problem(x.line, path, "unknown reason %q (reasons: %s)", x.key, strings.Join(RejectReasons, ", "))
						continue
					}
					v := d.text(x, path, true)
					switch {
					case x.key == "duplicate" && v != "merge":
						d.problem(x.line, path, "a duplicate is always merged into the lead it duplicates")
					case x.key != "duplicate" && v != "recycle" && v != "disqualify":
						d.problem(x.line, path, "unknown outcome %q (want recycle or disqualify)", v)
					default:
						h.Rejection.Outcomes[x.key] = v
					}
				}
			}
			if ue, ok := rm["unable_to_reach"]; ok {
				um, ok := d.fields(ue.val, "handoff.rejection.unable_to_reach", ue.line, "attempts", "days")
				if ok {
					if ae, ok := um["attempts"]; ok {
						if f, ok := d.number(ae, "handoff.rejection.unable_to_reach.attempts"); ok {
							if f < 1 || f != float64(int(f)) {
								d.problem(ae.line, "handoff.rejection.unable_to_reach.attempts", "must be a whole number of at least 1")
							}
							h.Rejection.Attempts = int(f)
						}
					}
					if de, ok := um["days"]; ok {
						if f, ok := d.number(de, "handoff.rejection.unable_to_reach.days"); ok {
							if f < 1 || f != float64(int(f)) {
								d.problem(de.line, "handoff.rejection.unable_to_reach.days", "must be a whole number of at least 1")
							}
							h.Rejection.AttemptDays = int(f)
						}
					}
				}
			}
			if ce, ok := rm["cool_down"]; ok {
				h.Rejection.CoolDown = d.nonNegative(ce, "handoff.rejection.cool_down")
			}
			if te, ok := rm["track"]; ok {
				h.Rejection.Track = d.text(te, "handoff.rejection.track", true)
			}
		}
	}
	if be, ok := m["bant"]; ok {
		h.BANT = nil
		seq, ok := be.val.(*ast.SequenceNode)
		if !ok {
			d.problem(be.line, "handoff.bant", "expected a list of the parts an SQL needs: budget, authority, need, timing")
		} else {
			for i, n := range seq.Values {
				s, _ := scalarText(d.unwrap(n, index("handoff.bant", i)))
				if !contains([]string{"budget", "authority", "need", "timing"}, s) {
					d.problem(lineOf(n), index("handoff.bant", i), "unknown BANT part %q (want budget, authority, need or timing)", s)
					continue
				}
				h.BANT = append(h.BANT, s)
			}
		}
	}
	if ne, ok := m["nurture_later"]; ok {
		h.NurtureLater = d.boolean(ne, "handoff.nurture_later")
	}
	if oe, ok := m["opportunity_within"]; ok {
		h.OpportunityWithin = d.duration(oe, "handoff.opportunity_within")
	}
	if pe, ok := m["pull"]; ok {
		pm, ok := d.fields(pe.val, "handoff.pull", pe.line, "unassigned", "nurture_after")
		if ok {
			if ue, ok := pm["unassigned"]; ok {
				h.PullUnassigned = d.boolean(ue, "handoff.pull.unassigned")
			}
			if ae, ok := pm["nurture_after"]; ok {
				h.PullAfter = d.nonNegative(ae, "handoff.pull.nurture_after")
			}
		}
	}
}

// nonNegative reads a duration that may be 0.
func (d *decoder) nonNegative(e entry, path string) time.Duration {
	if s, ok := scalarText(e.val); ok && (s == "0" || s == "0s") {
		return 0
	}
	return d.duration(e, path)
}

func (d *decoder) handoffStage(e entry, path string, st *Stage) {
	m, ok := d.fields(e.val, path, e.line, "routes", "within", "remind_at", "on_breach")
	if !ok {
		return
	}
	if we, ok := m["within"]; ok {
		st.Within = d.duration(we, join(path, "within"))
	}
	if re, ok := m["remind_at"]; ok {
		if f, ok := d.number(re, join(path, "remind_at")); ok {
			if f <= 0 || f >= 1 {
				d.problem(re.line, join(path, "remind_at"), "a share of the window between 0 and 1, e.g. 0.75")
			}
			st.RemindAt = f
		}
	}
	if be, ok := m["on_breach"]; ok {
		v := d.text(be, join(path, "on_breach"), true)
		if !contains([]string{baton.BreachNotify, baton.BreachReassign, baton.BreachReturn}, v) {
			d.problem(be.line, join(path, "on_breach"), "unknown %q (want notify, reassign or return)", v)
		}
		st.OnBreach = v
	}
	re, ok := m["routes"]
	if !ok {
		return
	}
	seq, ok := re.val.(*ast.SequenceNode)
	if !ok || len(seq.Values) == 0 {
		d.problem(re.line, join(path, "routes"), "expected a list of routes")
		return
	}
	st.Routes = nil
	names := map[string]bool{}
	for i, n := range seq.Values {
		rp := index(join(path, "routes"), i)
		n = d.unwrap(n, rp)
		line := lineOf(n)
		rm, ok := d.fields(n, rp, line, "name", "when", "pool", "method", "cap", "weights")
		if !ok {
			continue
		}
		r := &Route{Line: line, Method: "round_robin"}
		if ne, ok := rm["name"]; ok {
			r.Name = d.text(ne, join(rp, "name"), true)
			if names[r.Name] {
				d.problem(ne.line, join(rp, "name"), "route %q is named twice", r.Name)
			}
			names[r.Name] = true
		} else {
			d.problem(line, join(rp, "name"), "required: assignments say which route chose the rep")
		}
		if pe, ok := rm["pool"]; ok {
			r.Pool = d.text(pe, join(rp, "pool"), true)
		}
		if me, ok := rm["method"]; ok {
			r.Method = d.text(me, join(rp, "method"), true)
			if r.Method != "round_robin" && r.Method != "least_loaded" {
				d.problem(me.line, join(rp, "method"), "unknown method %q (want round_robin or least_loaded)", r.Method)
			}
		}
		if we, ok := rm["weights"]; ok {
			es, _ := d.mapping(we.val, join(rp, "weights"), we.line)
			r.Weights = map[string]int{}
			for _, x := range es {
				wp := join(join(rp, "weights"), x.key)
				if f, ok := d.number(x, wp); ok {
					if f < 1 || f > 100 || f != float64(int(f)) {
						d.problem(x.line, wp, "a weight is a whole number from 1 to 100")
						continue
					}
					r.Weights[strings.ToLower(x.key)] = int(f)
				}
			}
			if r.Method == "least_loaded" {
				d.problem(we.line, join(rp, "weights"), "weights apply to round_robin, not least_loaded")
			}
		}
		if ce, ok := rm["cap"]; ok {
			cm, ok := d.fields(ce.val, join(rp, "cap"), ce.line, "leads", "per")
			if ok {
				if le, ok := cm["leads"]; ok {
					if f, ok := d.number(le, join(rp, "cap.leads")); ok {
						if f < 1 || f != float64(int(f)) {
							d.problem(le.line, join(rp, "cap.leads"), "must be a whole number of at least 1")
						}
						r.Cap = int(f)
					}
				}
				if pe, ok := cm["per"]; ok {
					r.CapPer = d.duration(pe, join(rp, "cap.per"))
				} else {
					d.problem(ce.line, join(rp, "cap.per"), "required: the period of the cap, e.g. 1d")
				}
			}
		}
		if we, ok := rm["when"]; ok {
			cs, ok := we.val.(*ast.SequenceNode)
			if !ok {
				d.problem(we.line, join(rp, "when"), "expected a list of conditions")
			} else {
				for j, cn := range cs.Values {
					cp := index(join(rp, "when"), j)
					cn = d.unwrap(cn, cp)
					cl := lineOf(cn)
					cm, ok := d.fields(cn, cp, cl, append([]string{"field"}, opNames...)...)
					if !ok {
						continue
					}
					c := &Condition{}
					fe, ok := cm["field"]
					if !ok {
						d.problem(cl, join(cp, "field"), "required")
						continue
					}
					c.Field = d.text(fe, join(cp, "field"), true)
					if f, ok := leadFields[c.Field]; ok {
						c.acc = accessor{kind: f.kind}
					} else if a, ok := strings.CutPrefix(c.Field, attrPrefix); ok && a != "" {
						c.acc = accessor{kind: fAttr, name: a}
					} else {
						d.problem(fe.line, join(cp, "field"), "unknown field %q; fields are %s", c.Field, fieldList)
						continue
					}
					d.condition(cm, cp, cl, c)
					r.When = append(r.When, c)
				}
			}
		}
		st.Routes = append(st.Routes, r)
	}
	// A route after a catch-all (no conditions) can never be chosen.
	for i, r := range st.Routes[:len(st.Routes)-1] {
		if len(r.When) == 0 {
			d.problem(st.Routes[i+1].Line, index(join(path, "routes"), i+1), "unreachable: route %q before it takes every lead", r.Name)
			break
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
