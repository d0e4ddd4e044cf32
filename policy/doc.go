// Package policy is Baton's scoring policy: the written agreement between
// marketing and sales about what a good lead is, as a YAML document; its
// validation; and the engine that scores leads with it. It is pure Go: no
// I/O, no storage. Storage keeps the documents, their versions and each
// lead's engagement state, and calls this package to score.
//
// # Document
//
// A policy is one YAML document (default.yaml is the commented example; it
// is the policy [Default] returns):
//
//	name: Default demo policy              # required
//	owner: marketing@example.com           # optional
//	change_note: First version             # optional
//	fit:                                   # fit rules: who the lead is
//	  - name: Working professional         # every rule has a unique name
//	    field: attributes.What is your current occupation
//	    equals: Working Professional       # exactly one condition
//	    points: 20                         # non-zero, may be negative
//	engagement:
//	  half_life: 30d                       # required when there are rules
//	  rules:                               # engagement rules: what the lead did
//	    - name: Pricing page
//	      event: page_view                 # lower_snake_case event type
//	      where: {url: {contains: /pricing}}   # optional, on event properties
//	      points: 10
//	      cap: {points: 30, per: 7d}       # optional
//	    - name: Demo request
//	      event: demo_request
//	      points: 40
//	      once: true                       # optional
//	mql:
//	  fit: 40                              # fit >= 40
//	  engagement: 30                       # engagement >= 30
//	  combined: 80                         # fit + engagement >= 80
//	  match: all                           # all (default) | any
//	  fast_track:
//	    - event: demo_request
//	      min_fit: 10                      # optional: no fit requirement
//	      within: 30d                      # optional: the event may be any age
//	      where: {...}                     # optional
//	grades:
//	  fit: {A: 60, B: 40, C: 20, D: -1000}
//	  engagement: {"1": 60, "2": 30, "3": 10, "4": -1000}
//	hidden_from_reps:                      # optional: fields sales does not see
//	  - attributes.Lead Quality            # named as fit rules name fields
//	  - attributes.Converted
//
// Unknown keys are refused, as are YAML aliases, tags and merge keys. There
// is no fit decay in this version: a fit_half_life key is refused as
// unknown.
//
// Fit fields: email, email_domain (after the @), name, title, phone,
// company, country, source, campaign (all text); account.name,
// account.domain, account.industry, account.country (text),
// account.employees, account.annual_revenue (numbers); attributes.NAME for
// a custom attribute, whose type comes from the [Schema]. A lead without an
// account has every account field missing. Event properties in where
// clauses are named by their key, or a dotted path into nested objects.
//
// Conditions (one per rule):
//
//   - equals: V — text compares ignoring case; a number attribute compares
//     with a number, a boolean one with true/false (yes/no accepted).
//   - in: [V1, V2, ...] — equals one of them.
//   - range: {min: A, max: B} — a number within the bounds, both included;
//     either bound may be left out.
//   - contains: TEXT — the text contains TEXT, ignoring case.
//   - regex: EXPR — the text matches the Go (RE2) regular expression,
//     unanchored and case-sensitive unless it says (?i).
//   - missing: true — the value is absent or empty; missing: false — it is
//     present.
//
// hidden_from_reps lists the lead fields a lead's page does not show to
// sales (development reps, account executives and their managers; marketing
// and admins see them): the columns sales fills in after contact, and the
// outcome itself, which a rep judging a lead must not read. Each entry is a
// field as above; [Policy.HidesFromReps] answers for one. A rule on a hidden
// field still scores, and its reason is shown to sales without what it
// matched.
//
// Durations are Go durations with the units d (24h) and w (7d) added: 30d,
// 2w, 1d12h; see [ParseDuration].
//
// # Validation
//
// [Parse] checks all that the document alone can tell; [Policy.Validate]
// checks it against a [Schema] (the custom attributes and their types);
// [Check] does both at once. Every problem is listed, each with its line
// and the path of the field at fault, in a [*ValidationError], which
// unwraps to a baton EINVALID error.
//
// Besides syntax, types and unknown keys, these are refused: a
// hidden_from_reps entry that is no field, named twice, or (against the
// schema) an attribute no lead has, since a misspelt name would hide
// nothing; a bad regular
// expression; a half-life, cap window or within that is not positive; a
// field that does not exist, or an attribute not in the schema; a condition
// that cannot apply to the field's type (range on text, contains or regex on
// a number or boolean, equals with a value of the wrong type); a rule with
// no condition or two; duplicate rule names (across fit and engagement:
// reasons and stored state refer to rules by name); zero, NaN or infinite
// points; once together with a cap.
//
// Contradictory thresholds are refused too, where "contradictory" means a
// part of the agreement that can never apply, or that makes every lead
// qualify by itself:
//
//   - mql with no threshold and no fast track (no lead can qualify), or
//     match: any with no threshold;
//   - a fit threshold, fast-track min_fit or fit grade above the highest
//     reachable fit (the sum of the positive fit points);
//   - an engagement threshold above 0 (or an engagement grade) when no
//     engagement rule gives positive points; a combined threshold above the
//     highest fit when no engagement rule gives positive points;
//   - with match: all, a combined threshold not above fit + engagement (it
//     is implied, so it reads as a rule and does nothing);
//   - with match: any, a fit threshold at or below the lowest reachable fit,
//     or an engagement threshold at or below 0 with no negative engagement
//     rule (every lead would qualify);
//   - grades not in strictly decreasing threshold order, as written.
//
// # Scoring
//
// Fit ([Policy.Fit]) is the sum of the points of every fit rule whose
// condition holds. It does not decay.
//
// Engagement is the sum over events of their rule's points, each halved
// every half-life since the event: p * 2^(-(now - t)/half_life). It is kept
// without rescans in an [Engagement] state (stored per lead as JSON): each
// rule's sum decayed to AsOf, the latest event time. [Policy.Apply] adds one
// event, [Policy.Engagement] evaluates at any later time in closed form, and
// [Policy.Replay] rebuilds a state from a lead's events (for rescoring after
// a new version, and backtests). Every engagement rule matching an event
// counts; an event matching none changes nothing.
//
// Events may arrive out of order: plain rules give the same sum in any
// order. once: true counts one event per lead, the most recent, in any
// order. A cap limits a rule's points (before decay, in absolute value) per
// fixed window of length per, aligned on multiples of per from 0001-01-01
// UTC (time.Time.Truncate): 1d windows are UTC days, 7d windows start on
// Mondays. The last [MaxCapWindows] windows are kept; within a window, the
// events applied first use the cap up, so caps depend on arrival order
// (Replay applies events in time order); the event that reaches the cap
// gets the points left.
//
// [Policy.Score] puts it together: fit, engagement, their grades, whether
// the lead qualifies as an MQL, a one-line Why ("policy v3: fit 45 >= 40,
// engagement 32 >= 30", "policy v3: fast track demo_request with fit 15 >=
// 10", "draft policy: not qualified: ...") and every [Reason]; the reasons
// sum to Fit + Engagement. A lead qualifies if its thresholds hold (all of
// them, or one with match: any), or if a fast-track event was seen (within
// its window) and its fit reaches the fast track's min_fit at evaluation
// time. Points are computed in float64 and rounded only for display.
//
// # Performance
//
// Regular expressions, field accessors and reason details are compiled at
// Parse, so that scoring does no per-rule allocation: [Policy.Fit] allocates
// one slice of the matched reasons, [Policy.Score] that slice and the Why
// string, [Policy.ScoreTo] (for batch rescoring, reusing the slice) only the
// Why string, and [Policy.FitPoints] nothing. With the default policy on two
// cores, Fit takes about 0.9 µs, ScoreTo 1.2 µs (1,000,000 leads in 1.2 s)
// and Score 2.4 µs. Run the benchmarks with go test -bench . ./policy/.
package policy
