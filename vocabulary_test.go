package baton

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestVocabularies checks that every closed vocabulary's list holds each of
// its constants once: the lists are what validation, the pages and the
// OpenAPI document's enums use, so a constant added to a const block but not
// to its list would be refused by the one and missing from the other. The
// constants are read from this package's source: a new one is checked the
// day it is written.
func TestVocabularies(t *testing.T) {
	consts := packageConstants(t)
	strs := func(xs []string) []string { return xs }
	cases := []struct {
		list   string
		values []string
		// of selects the constants of the vocabulary: by type, or by a
		// name prefix for untyped ones.
		typ, prefix string
		// except are constants of the type or prefix that are not values.
		except []string
	}{
		{"Stages", enumStrings(Stages), "Stage", "", nil},
		{"Roles", enumStrings(Roles), "Role", "", []string{"RoleSystem"}}, // an actor, never a user's role
		{"Verbs", enumStrings(Verbs), "Verb", "", nil},
		{"Actions", enumStrings(Actions), "Action", "", nil},
		{"HandoffKinds", enumStrings(HandoffKinds), "HandoffKind", "", nil},
		{"HandoffStates", enumStrings(HandoffStates), "HandoffState", "", nil},
		{"OpportunityStages", enumStrings(OpportunityStages), "OpportunityStage", "", nil},
		{"DiffKinds", enumStrings(DiffKinds), "DiffKind", "", nil},
		{"RejectReasons", strs(RejectReasons), "", "Reason", nil},
		{"LostReasons", strs(LostReasons), "", "Lost", nil},
		{"AttemptChannels", strs(AttemptChannels), "", "Channel", nil},
		{"BANTAuthorities", strs(BANTAuthorities), "", "Authority", nil},
		{"BANTTimings", strs(BANTTimings), "", "Timing", nil},
		{"BreachActions", strs(BreachActions), "", "Breach", nil},
		{"NotificationKinds", strs(NotificationKinds), "", "Notify", nil},
		{"TimelineKinds", strs(TimelineKinds), "", "Timeline", nil},
		{"ScoreAxes", strs(ScoreAxes), "", "Axis", nil},
		{"ReportNames", strs(ReportNames), "", "Report", nil},
		{"ReportDimensions", strs(ReportDimensions), "", "Dim", nil},
		{"ErrorCodes", strs(ErrorCodes), "", "E", nil},
	}
	for _, c := range cases {
		t.Run(c.list, func(t *testing.T) {
			var want []string
			for _, k := range consts {
				if slices.Contains(c.except, k.name) {
					continue
				}
				if c.typ != "" && k.typ == c.typ || c.prefix != "" && k.typ == "" && isPrefixed(k.name, c.prefix) {
					want = append(want, k.value)
				}
			}
			if len(want) == 0 {
				t.Fatalf("no constants of %s: the test reads the wrong names", c.list)
			}
			got := slices.Clone(c.values)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s is %v; its constants are %v", c.list, got, want)
			}
		})
	}
	// Every code has a status, and the table knows no other code.
	codes := slices.Sorted(maps.Keys(httpStatus))
	if got := slices.Sorted(slices.Values(ErrorCodes)); !slices.Equal(got, codes) {
		t.Errorf("ErrorCodes %v, the status table %v", got, codes)
	}
}

// isPrefixed reports whether name is prefix followed by an upper-case
// letter: ReasonNoBudget is of Reason, Reasons would not be.
func isPrefixed(name, prefix string) bool {
	rest, ok := strings.CutPrefix(name, prefix)
	return ok && rest != "" && rest[0] >= 'A' && rest[0] <= 'Z'
}

func enumStrings[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

type constant struct{ name, typ, value string }

// packageConstants returns the exported string constants of the package's
// non-test files, with their declared type ("" for untyped).
func packageConstants(t *testing.T) []constant {
	t.Helper()
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []constant
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				typ := ""
				if id, ok := vs.Type.(*ast.Ident); ok {
					typ = id.Name
				}
				for i, n := range vs.Names {
					if !n.IsExported() || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					v, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, constant{n.Name, typ, v})
				}
			}
		}
	}
	return out
}
