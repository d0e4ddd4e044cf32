package policy

import (
	_ "embed"
	"slices"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultDocument returns the text of the default policy (default.yaml), for
// storage to publish as a first version.
func DefaultDocument() []byte { return slices.Clone(defaultYAML) }

// Default returns the default policy, written for the demo data: a new
// *Policy on each call, as a draft (Version 0). It panics only if the
// embedded document is invalid, which a test guards against.
func Default() *Policy {
	p, err := Parse(defaultYAML)
	if err != nil {
		panic("policy: default.yaml: " + err.Error())
	}
	return p
}
