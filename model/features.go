package model

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// Row is one lead's raw values keyed by column/field name. Missing keys,
// empty values and the web-form placeholder "Select" (any case) are all
// treated as missing.
type Row map[string]string

// Bin layout shared by every feature: bin 0 is "missing". For categorical
// features bin 1 is "(other)" (rare or unseen values) and bins 2.. are the
// frequent values. For numeric features bins 1..len(Edges)+1 are the
// quantile bins in increasing order.
const (
	binMissing = 0
	binOther   = 1
	maxBins    = 64 // split masks are uint64
)

// Labels used in explanations for values that have no raw text: a
// Factor's Value is MissingValue when the lead has none.
const (
	MissingValue = "(missing)"
	otherLabel   = "(other)"
)

// feature describes how one input column is turned into a small bin index.
type feature struct {
	Name    string    `json:"name"`
	Numeric bool      `json:"numeric"`
	Edges   []float64 `json:"edges,omitempty"`  // numeric: bin k+1 holds v <= Edges[k]
	Values  []string  `json:"values,omitempty"` // categorical: bin k+2 holds Values[k] (case-folded)

	index map[string]uint8 // categorical: folded value -> bin
}

func (f *feature) nBins() int {
	if f.Numeric {
		return len(f.Edges) + 2
	}
	return len(f.Values) + 2
}

func (f *feature) buildIndex() {
	if f.Numeric {
		return
	}
	f.index = make(map[string]uint8, 2*len(f.Values))
	for i, v := range f.Values {
		f.index[v] = uint8(i + 2)
	}
}

// isMissing reports whether a trimmed raw value means "not answered".
func isMissing(v string) bool {
	return v == "" || strings.EqualFold(v, "select")
}

// parseNumber parses a numeric cell; non-finite values count as missing.
func parseNumber(v string) (float64, bool) {
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, false
	}
	return x, true
}

// bin maps a raw value to the feature's bin index.
func (f *feature) bin(raw string) uint8 {
	b, _ := f.encode(raw)
	return b
}

// encode maps a raw value to its bin and, for present numeric values, the
// number itself (0 otherwise).
func (f *feature) encode(raw string) (uint8, float64) {
	v := strings.TrimSpace(raw)
	if isMissing(v) {
		return binMissing, 0
	}
	if f.Numeric {
		x, ok := parseNumber(v)
		if !ok {
			return binMissing, 0
		}
		return uint8(sort.SearchFloat64s(f.Edges, x) + 1), x
	}
	if b, ok := f.index[v]; ok {
		return b, 0
	}
	// Case-fold without allocating for short ASCII values.
	var buf [128]byte
	if len(v) <= len(buf) {
		ascii := true
		for i := 0; i < len(v); i++ {
			c := v[i]
			if c >= 0x80 {
				ascii = false
				break
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[i] = c
		}
		if ascii {
			if b, ok := f.index[string(buf[:len(v)])]; ok {
				return b, 0
			}
			return binOther, 0
		}
	}
	if b, ok := f.index[strings.ToLower(v)]; ok {
		return b, 0
	}
	return binOther, 0
}

// display is the human-readable value shown in an explanation.
func display(raw string) string {
	v := strings.TrimSpace(raw)
	if isMissing(v) {
		return MissingValue
	}
	return v
}

// inferFeature decides the type and bins of a column from training values.
// It returns ok=false when the column carries no information (all missing or
// a single bin).
func inferFeature(name string, rows []Row, maxBin, minCount int) (feature, bool) {
	f := feature{Name: name, Numeric: true}
	var nums []float64
	counts := map[string]int{}
	present := 0
	for _, r := range rows {
		v := strings.TrimSpace(r[name])
		if isMissing(v) {
			continue
		}
		present++
		counts[strings.ToLower(v)]++
		if f.Numeric {
			if x, err := strconv.ParseFloat(v, 64); err != nil {
				f.Numeric = false
				nums = nil
			} else if !math.IsNaN(x) && !math.IsInf(x, 0) {
				nums = append(nums, x)
			}
		}
	}
	if present == 0 {
		return f, false
	}
	if f.Numeric {
		f.Edges = quantileEdges(nums, maxBin-1)
	} else {
		type vc struct {
			v string
			c int
		}
		var frequent []vc
		for v, c := range counts {
			if c >= minCount {
				frequent = append(frequent, vc{v, c})
			}
		}
		sort.Slice(frequent, func(i, j int) bool {
			if frequent[i].c != frequent[j].c {
				return frequent[i].c > frequent[j].c
			}
			return frequent[i].v < frequent[j].v
		})
		if len(frequent) > maxBin-2 {
			frequent = frequent[:maxBin-2]
		}
		sort.Slice(frequent, func(i, j int) bool { return frequent[i].v < frequent[j].v })
		for _, x := range frequent {
			f.Values = append(f.Values, x.v)
		}
	}
	f.buildIndex()
	// Drop the column if every training row lands in the same bin.
	first, varied := -1, false
	for _, r := range rows {
		b := int(f.bin(r[name]))
		if first < 0 {
			first = b
		} else if b != first {
			varied = true
			break
		}
	}
	return f, varied
}

// quantileEdges returns at most maxEdges increasing cut points so that the
// values fall into roughly equal-count bins. Columns with few distinct values
// get one bin per value.
func quantileEdges(vals []float64, maxEdges int) []float64 {
	if len(vals) == 0 {
		return nil
	}
	s := append([]float64(nil), vals...)
	sort.Float64s(s)
	distinct := s[:0:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			distinct = append(distinct, x)
		}
	}
	if len(distinct) <= maxEdges+1 {
		return append([]float64(nil), distinct[:len(distinct)-1]...)
	}
	var edges []float64
	n := len(s)
	for q := 1; q <= maxEdges; q++ {
		e := s[q*n/(maxEdges+1)]
		if e == s[n-1] {
			break
		}
		if len(edges) == 0 || e > edges[len(edges)-1] {
			edges = append(edges, e)
		}
	}
	return edges
}

// binRows converts rows into column-major bin and numeric-value matrices.
func binRows(feats []feature, rows []Row) ([][]uint8, [][]float64) {
	bins := make([][]uint8, len(feats))
	xs := make([][]float64, len(feats))
	for j := range feats {
		col := make([]uint8, len(rows))
		xcol := make([]float64, len(rows))
		for i, r := range rows {
			col[i], xcol[i] = feats[j].encode(r[feats[j].Name])
		}
		bins[j], xs[j] = col, xcol
	}
	return bins, xs
}

// candidateColumns returns the sorted union of row keys minus exclusions.
func candidateColumns(rows []Row, exclude []string) []string {
	ex := map[string]bool{}
	for _, e := range exclude {
		ex[strings.TrimSpace(e)] = true
	}
	seen := map[string]bool{}
	var cols []string
	for _, r := range rows {
		for k := range r {
			if !seen[k] && !ex[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
	}
	sort.Strings(cols)
	return cols
}
