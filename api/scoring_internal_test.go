package api

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
)

func TestParseProblems(t *testing.T) {
	cases := []struct {
		msg  string
		want []Problem
	}{
		{"policy: 2 problems:\n  line 5: fit[0].regex: bad regular expression: missing closing ): `(`\n  line 14: engagement.half_life: must be positive, got -1d",
			[]Problem{{5, "fit[0].regex", "bad regular expression: missing closing ): `(`"}, {14, "engagement.half_life", "must be positive, got -1d"}}},
		{"1 problem: line 3: name: required: the policy's name", []Problem{{3, "name", "required: the policy's name"}}},
		{"policy: 1 problem: line 2: YAML syntax: mapping values are not allowed", []Problem{{2, "", "YAML syntax: mapping values are not allowed"}}},
		{"1 problem: the document is 5 bytes, at most 1 allowed", []Problem{{0, "", "the document is 5 bytes, at most 1 allowed"}}},
		{"2 problems:\n  grades.fit: must be a number\n  line 9: mql: expected a mapping (key: value), got a list",
			[]Problem{{0, "grades.fit", "must be a number"}, {9, "mql", "expected a mapping (key: value), got a list"}}},
		// Not the message of a validation error, or not as many problems as it says.
		{"unknown order", nil},
		{"3 problems:\n  line 1: a: b\n  line 2: c: d", nil},
		{"0 problems:", nil},
	}
	for _, c := range cases {
		if got := parseProblems(c.msg); !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseProblems(%q) = %+v, want %+v", c.msg, got, c.want)
		}
	}
}

// TestPolicyProblemsFromChain: a *policy.ValidationError in the chain is
// read directly, without parsing.
func TestPolicyProblemsFromChain(t *testing.T) {
	_, err := policy.Check([]byte("name: x\nfit: 3\nbogus: 1\n"), policy.Schema{})
	var ve *policy.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) < 2 {
		t.Fatalf("want a validation error with problems, got %v", err)
	}
	got := policyProblems(fmt.Errorf("wrapped: %w", err))
	if len(got) != len(ve.Problems) {
		t.Fatalf("got %+v from %v", got, err)
	}
	for i, p := range ve.Problems {
		if got[i] != (Problem{p.Line, p.Field, p.Message}) {
			t.Errorf("problem %d: %+v, want %+v", i, got[i], p)
		}
	}
	// The store's flattened error parses to the same problems.
	flat := &baton.Error{Code: baton.EINVALID, Message: err.Error()}
	if parsed := policyProblems(flat); !reflect.DeepEqual(parsed, got) {
		t.Errorf("parsed %+v, want %+v", parsed, got)
	}
	if withProblems(baton.Errorf(baton.EFORBIDDEN, "no")) == nil || policyProblems(baton.Errorf(baton.EINVALID, "x")) != nil {
		t.Error("problems from an error that has none")
	}
}
