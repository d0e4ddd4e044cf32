package policy

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/batonhq/baton"
)

type opKind uint8

const (
	opEquals opKind = iota + 1
	opIn
	opRange
	opContains
	opRegex
	opMissing
)

// opNames lists the condition operators in the order they are looked for.
var opNames = []string{"equals", "in", "range", "contains", "regex", "missing"}

func opOf(name string) opKind {
	for i, n := range opNames {
		if n == name {
			return opKind(i + 1)
		}
	}
	return 0
}

// fieldKind says where a fit field's value comes from.
type fieldKind uint8

const (
	fEmail fieldKind = iota + 1
	fEmailDomain
	fName
	fTitle
	fPhone
	fCompany
	fCountry
	fSource
	fCampaign
	fAccDomain
	fAccName
	fAccIndustry
	fAccEmployees
	fAccRevenue
	fAccCountry
	fAttr
	fProperty // an event property (where clauses)
)

// leadFields are the fit fields other than attributes.NAME, with their types.
var leadFields = map[string]struct {
	kind fieldKind
	typ  baton.AttrType
}{
	"email":                  {fEmail, baton.AttrString},
	"email_domain":           {fEmailDomain, baton.AttrString},
	"name":                   {fName, baton.AttrString},
	"title":                  {fTitle, baton.AttrString},
	"phone":                  {fPhone, baton.AttrString},
	"company":                {fCompany, baton.AttrString},
	"country":                {fCountry, baton.AttrString},
	"source":                 {fSource, baton.AttrString},
	"campaign":               {fCampaign, baton.AttrString},
	"account.domain":         {fAccDomain, baton.AttrString},
	"account.name":           {fAccName, baton.AttrString},
	"account.industry":       {fAccIndustry, baton.AttrString},
	"account.employees":      {fAccEmployees, baton.AttrNumber},
	"account.annual_revenue": {fAccRevenue, baton.AttrNumber},
	"account.country":        {fAccCountry, baton.AttrString},
}

// fieldList is the list of fit fields for messages.
const fieldList = "email, email_domain, name, title, phone, company, country, source, campaign, " +
	"account.domain, account.name, account.industry, account.employees, account.annual_revenue, account.country, attributes.NAME"

const attrPrefix = "attributes."

type accessor struct {
	kind fieldKind
	name string // attribute or property name
}

type valKind uint8

const (
	vMissing valKind = iota
	vString
	vNumber
	vBool
)

// val is a field's value: no allocation to get or compare.
type val struct {
	k valKind
	s string
	f float64
	b bool
}

func strVal(s string) val {
	if s == "" {
		return val{}
	}
	return val{k: vString, s: s}
}

func anyVal(v any) val {
	switch x := v.(type) {
	case string:
		return strVal(x)
	case float64:
		return val{k: vNumber, f: x}
	case bool:
		return val{k: vBool, b: x}
	case int:
		return val{k: vNumber, f: float64(x)}
	case int64:
		return val{k: vNumber, f: float64(x)}
	}
	return val{} // nil, objects and arrays count as missing
}

func (a *accessor) get(s Subject) val {
	l := s.Lead
	if a.kind >= fAccDomain && a.kind <= fAccCountry {
		acc := s.Account
		if acc == nil {
			return val{}
		}
		switch a.kind {
		case fAccDomain:
			return strVal(acc.Domain)
		case fAccName:
			return strVal(acc.Name)
		case fAccIndustry:
			return strVal(acc.Industry)
		case fAccEmployees:
			if acc.Employees == nil {
				return val{}
			}
			return val{k: vNumber, f: float64(*acc.Employees)}
		case fAccRevenue:
			if acc.AnnualRevenue == nil {
				return val{}
			}
			return val{k: vNumber, f: *acc.AnnualRevenue}
		case fAccCountry:
			return strVal(acc.Country)
		}
	}
	if l == nil {
		return val{}
	}
	switch a.kind {
	case fEmail:
		return strVal(l.Email)
	case fEmailDomain:
		if i := strings.LastIndexByte(l.Email, '@'); i >= 0 {
			return strVal(l.Email[i+1:])
		}
		return val{}
	case fName:
		return strVal(l.Name)
	case fTitle:
		return strVal(l.Title)
	case fPhone:
		return strVal(l.Phone)
	case fCompany:
		return strVal(l.Company)
	case fCountry:
		return strVal(l.Country)
	case fSource:
		return strVal(l.Source)
	case fCampaign:
		return strVal(l.Campaign)
	case fAttr:
		v, ok := l.Attrs[a.name]
		if !ok {
			return val{}
		}
		return anyVal(v)
	}
	return val{}
}

// property returns an event property: the top-level key, or else a dotted
// path into nested objects ("utm.source").
func property(props map[string]any, name string) val {
	if props == nil {
		return val{}
	}
	if v, ok := props[name]; ok {
		return anyVal(v)
	}
	var cur any = props
	for part := range strings.SplitSeq(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return val{}
		}
		if cur, ok = m[part]; !ok {
			return val{}
		}
	}
	return anyVal(cur)
}

// bigIn is the size of an in list from which a set is used.
const bigIn = 8

// match reports whether v meets the condition.
func (c *Condition) match(v val) bool {
	if c.op == opMissing {
		return (v.k == vMissing) == c.Missing
	}
	switch v.k {
	case vString:
		switch c.op {
		case opEquals, opIn:
			if c.set != nil {
				if _, ok := c.set[v.s]; ok {
					return true
				}
				_, ok := c.set[strings.ToLower(v.s)]
				return ok
			}
			for i := range c.Values {
				if strings.EqualFold(c.Values[i].Text, v.s) {
					return true
				}
			}
		case opContains:
			return containsFold(v.s, c.lower)
		case opRegex:
			return c.re.MatchString(v.s)
		}
	case vNumber:
		switch c.op {
		case opEquals, opIn:
			for i := range c.Values {
				if c.Values[i].IsNum && c.Values[i].Num == v.f {
					return true
				}
			}
		case opRange:
			return (c.Min == nil || v.f >= *c.Min) && (c.Max == nil || v.f <= *c.Max)
		}
	case vBool:
		if c.op == opEquals || c.op == opIn {
			for i := range c.Values {
				if c.Values[i].IsBool && c.Values[i].Bool == v.b {
					return true
				}
			}
		}
	}
	return false
}

// containsFold reports whether s contains lowerSub (lower case), ignoring
// case; without allocation when s is ASCII.
func containsFold(s, lowerSub string) bool {
	n := len(lowerSub)
	if n == 0 {
		return true
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return strings.Contains(strings.ToLower(s), lowerSub)
		}
	}
outer:
	for i := 0; i+n <= len(s); i++ {
		for j := 0; j < n; j++ {
			c := s[i+j]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != lowerSub[j] {
				continue outer
			}
		}
		return true
	}
	return false
}

// fmtNum formats a number for display: rounded to 2 decimals, without
// trailing zeros.
func fmtNum(f float64) string {
	return string(appendNum(nil, f))
}

func appendNum(b []byte, f float64) []byte {
	if math.Abs(f) < 1e13 {
		f = math.Round(f*100) / 100
	}
	if f == 0 {
		f = 0 // no "-0"
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// describe writes the condition for a reason's detail.
func (c *Condition) describe() string {
	var vals []string
	for _, v := range c.Values {
		if v.IsNum || v.IsBool {
			vals = append(vals, v.Text)
		} else {
			vals = append(vals, strconv.Quote(v.Text))
		}
	}
	switch c.op {
	case opEquals:
		return fmt.Sprintf("%s equals %s", c.Field, strings.Join(vals, ""))
	case opIn:
		return fmt.Sprintf("%s in [%s]", c.Field, strings.Join(vals, ", "))
	case opRange:
		switch {
		case c.Min != nil && c.Max != nil:
			return fmt.Sprintf("%s between %s and %s", c.Field, fmtNum(*c.Min), fmtNum(*c.Max))
		case c.Min != nil:
			return fmt.Sprintf("%s >= %s", c.Field, fmtNum(*c.Min))
		default:
			return fmt.Sprintf("%s <= %s", c.Field, fmtNum(*c.Max))
		}
	case opContains:
		return fmt.Sprintf("%s contains %q", c.Field, c.Text)
	case opRegex:
		return fmt.Sprintf("%s matches /%s/", c.Field, c.Text)
	case opMissing:
		if c.Missing {
			return c.Field + " is missing"
		}
		return c.Field + " is present"
	}
	return c.Field
}
