package baton_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// contract is the lifecycle as DESIGN.md states it, written apart from
// baton.Rules: "verb from>to: who". Who lists the roles that may make the
// move on a lead they stand to as owner ("own": the owner, their manager,
// an admin), or in the pool ("pool": an unowned lead of the manager's
// team's pool, or an admin), or on any lead ("any"), and "system" where the
// system makes it.
var contract = []string{
	"promote new>mql: marketing,admin any; system",
	"promote recycled>mql: marketing,admin any; system",
	"disqualify new>disqualified: marketing,admin any; system",
	"disqualify recycled>disqualified: marketing,admin any; system",
	"claim mql>mql: sdr any",
	"claim new>mql: sdr any",
	"claim recycled>mql: sdr any",
	"assign mql>mql: manager,admin pool; system",
	"assign sql>sql: manager,admin pool; system",
	"reassign mql>mql: manager,admin own; system",
	"reassign sal>sal: manager,admin own; system",
	"reassign sql>sql: manager,admin own; system",
	"reassign opportunity>opportunity: manager,admin own; system",
	"breach mql>mql: system",
	"breach sql>sql: system",
	"accept mql>sal: sdr,manager,admin own",
	"accept sql>sql: ae,manager,admin own",
	"reject mql>recycled: sdr,manager,admin own",
	"reject mql>disqualified: sdr,manager,admin own",
	"reject sal>recycled: sdr,manager,admin own",
	"reject sal>disqualified: sdr,manager,admin own",
	"qualify sal>sql: sdr,manager,admin own",
	"qualify sal>recycled: sdr,manager,admin own",
	"send_back sql>sal: ae,manager,admin own",
	"recycle sql>recycled: ae,manager,admin own",
	"convert sql>opportunity: ae,manager,admin own",
	"close opportunity>won: sdr,ae,manager,admin own",
	"close opportunity>lost: sdr,ae,manager,admin own",
}

// standings are how an actor may stand to a lead.
var standings = []struct {
	name string
	rel  func(me int64) baton.Relation
}{
	{"own", func(me int64) baton.Relation { return baton.Relation{OwnerID: me} }},
	{"team", func(me int64) baton.Relation { return baton.Relation{OwnerID: 99, InTeam: true} }},
	{"other", func(me int64) baton.Relation { return baton.Relation{OwnerID: 99} }},
	{"pool", func(me int64) baton.Relation { return baton.Relation{InPool: true} }},
	{"unowned", func(me int64) baton.Relation { return baton.Relation{} }},
}

// allowedBy says whether the contract lets role make the move standing so.
func allowedBy(who string, role baton.Role, standing string) bool {
	if role == baton.RoleSystem {
		return strings.Contains(who, "system")
	}
	people, _, _ := strings.Cut(who, ";")
	roles, scope, _ := strings.Cut(strings.TrimSpace(people), " ")
	if !strings.Contains(","+roles+",", ","+string(role)+",") {
		return false
	}
	switch scope {
	case "any":
		return true
	case "own":
		switch role {
		case baton.RoleAdmin:
			return standing != "pool" && standing != "unowned"
		case baton.RoleManager:
			return standing == "own" || standing == "team"
		}
		return standing == "own"
	case "pool":
		if role == baton.RoleAdmin {
			return standing == "pool" || standing == "unowned"
		}
		return standing == "pool"
	}
	return false
}

// TestRulesAreTheContract walks every role, standing, verb, from-stage and
// to-stage, and checks that the lifecycle table allows exactly what the
// contract says and refuses the rest, with the error code that says why.
func TestRulesAreTheContract(t *testing.T) {
	want := map[string]string{}
	for _, line := range contract {
		move, who, _ := strings.Cut(line, ": ")
		want[move] = who
	}
	roles := append([]baton.Role{baton.RoleSystem}, baton.Roles...)
	checked := 0
	for _, v := range baton.Verbs {
		for _, from := range baton.Stages {
			for _, to := range baton.Stages {
				move := fmt.Sprintf("%s %s>%s", v, from, to)
				who, legal := want[move]
				for _, role := range roles {
					a := baton.Actor{UserID: 7, Role: role}
					for _, st := range standings {
						checked++
						r, err := baton.FindRule(from, v, to, a)
						if !legal {
							if baton.ErrorCode(err) != baton.ECONFLICT {
								t.Fatalf("%s is not in the contract, yet the table has it (%v)", move, err)
							}
							continue
						}
						if err != nil {
							t.Fatalf("%s is in the contract, not in the table: %v", move, err)
						}
						err = r.Allows(a, st.rel(7))
						if got, exp := err == nil, allowedBy(who, role, st.name); got != exp {
							t.Errorf("%s by %s standing %s: allowed %v, the contract says %v (%v)", move, role, st.name, got, exp, err)
						} else if err != nil && baton.ErrorCode(err) != baton.EFORBIDDEN {
							t.Errorf("%s by %s standing %s: refused with %v, want forbidden", move, role, st.name, err)
						}
					}
				}
			}
		}
	}
	if len(baton.Rules) != len(contract) {
		t.Errorf("the table has %d rules, the contract %d", len(baton.Rules), len(contract))
	}
	t.Logf("%d combinations checked", checked)
}

// TestGenericTransitionFindsTheVerb: without a verb, a transition is the
// first rule from the stage to the other that the actor's role may make.
func TestGenericTransitionFindsTheVerb(t *testing.T) {
	for _, tc := range []struct {
		role     baton.Role
		from, to baton.Stage
		verb     baton.Verb
	}{
		{baton.RoleSDR, baton.StageMQL, baton.StageSAL, baton.VerbAccept},
		{baton.RoleMarketing, baton.StageNew, baton.StageMQL, baton.VerbPromote},
		{baton.RoleSDR, baton.StageNew, baton.StageMQL, baton.VerbPromote}, // refused when made: only marketing promotes
		{baton.RoleSDR, baton.StageSAL, baton.StageRecycled, baton.VerbReject},
		{baton.RoleAE, baton.StageSQL, baton.StageSAL, baton.VerbSendBack},
		{baton.RoleAE, baton.StageSQL, baton.StageRecycled, baton.VerbRecycle},
		{baton.RoleAE, baton.StageSQL, baton.StageOpportunity, baton.VerbConvert},
		{baton.RoleSDR, baton.StageSAL, baton.StageSQL, baton.VerbQualify},
	} {
		r, err := baton.FindRule(tc.from, "", tc.to, baton.Actor{Role: tc.role})
		if err != nil || r.Verb != tc.verb {
			t.Errorf("%s %s>%s: %s %v, want %s", tc.role, tc.from, tc.to, r.Verb, err, tc.verb)
		}
	}
	// Moves within a stage and from the pool are asked for by their verb.
	if _, err := baton.FindRule(baton.StageMQL, "", baton.StageMQL, baton.Actor{Role: baton.RoleManager}); baton.ErrorCode(err) != baton.ECONFLICT {
		t.Errorf("mql to mql without a verb: %v", err)
	}
	if _, err := baton.FindRule(baton.StageSAL, baton.VerbAccept, baton.StageSQL, baton.Actor{Role: baton.RoleSDR}); baton.ErrorCode(err) != baton.ECONFLICT ||
		!strings.Contains(err.Error(), "cannot be accepted") {
		t.Errorf("accept of a SAL: %v", err)
	}
	if _, err := baton.FindRule(baton.StageMQL, baton.VerbReject, baton.StageSQL, baton.Actor{Role: baton.RoleSDR}); baton.ErrorCode(err) != baton.ECONFLICT ||
		!strings.Contains(err.Error(), "to recycled or disqualified, not to sql") {
		t.Errorf("reject to sql: %v", err)
	}
}

// TestMovesOffered: a page offers the moves the viewer may make by hand.
func TestMovesOffered(t *testing.T) {
	verbs := func(rs []baton.Rule) string {
		seen := map[baton.Verb]bool{}
		var out []string
		for _, r := range rs {
			if !seen[r.Verb] {
				seen[r.Verb] = true
				out = append(out, string(r.Verb))
			}
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct {
		role  baton.Role
		stage baton.Stage
		rel   baton.Relation
		want  string
	}{
		{baton.RoleSDR, baton.StageMQL, baton.Relation{OwnerID: 7}, "accept,reject"},
		{baton.RoleSDR, baton.StageMQL, baton.Relation{}, "claim"},
		{baton.RoleSDR, baton.StageSQL, baton.Relation{OwnerID: 7}, ""},
		{baton.RoleAE, baton.StageSQL, baton.Relation{OwnerID: 7}, "accept,send_back,recycle,convert"},
		{baton.RoleManager, baton.StageMQL, baton.Relation{OwnerID: 9, InTeam: true}, "reassign,accept,reject"},
		{baton.RoleManager, baton.StageMQL, baton.Relation{InPool: true}, "assign"},
		{baton.RoleManager, baton.StageMQL, baton.Relation{OwnerID: 9}, ""},
		{baton.RoleMarketing, baton.StageNew, baton.Relation{}, "promote,disqualify"},
		{baton.RoleAE, baton.StageOpportunity, baton.Relation{OwnerID: 7}, "close"},
	} {
		if got := verbs(baton.Moves(baton.Actor{UserID: 7, Role: tc.role}, tc.stage, tc.rel)); got != tc.want {
			t.Errorf("%s on a %s %+v: %q, want %q", tc.role, tc.stage, tc.rel, got, tc.want)
		}
	}
}
