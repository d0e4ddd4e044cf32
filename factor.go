package baton

import (
	"math"
	"strconv"
	"strings"
)

// ProbabilityFactor is one input's part of the model's probability: in
// log-odds (Contribution) and in percentage points of probability
// (PercentPoints), positive when it raised the probability; and in words
// (Text, made by Words).
//
// Inputs are named as the model sees a lead (store.ModelRow): a lead field
// (source, campaign, country, title, email_domain), account.FIELD,
// events.TYPE (how many events of the type the lead had before sales
// touched it), or a custom attribute's own name.
type ProbabilityFactor struct {
	Feature string `json:"feature"`
	// Value is the lead's value of the input, FactorMissing when it has none.
	Value        string  `json:"value"`
	Contribution float64 `json:"contribution"`
	// PercentPoints is the factor's share of the lead's probability less
	// the base probability, in percentage points (12.5: 0.125 of
	// probability). The model converts every factor's log-odds at one rate,
	// so that the shares add up exactly (see package model).
	PercentPoints float64 `json:"percent_points"`
	// Text says the input and the lead's value of it in plain words:
	// "7 website page views", "Lead Source is Google".
	Text string `json:"text"`
	// Threshold, for a number, is the model's split point that weighed
	// most in this factor; Over says the lead's value is above it (else at
	// most it).
	Threshold *float64 `json:"threshold,omitempty"`
	Over      bool     `json:"over,omitempty"`
}

// FactorMissing is the Value of a factor for an input the lead has no value
// for.
const FactorMissing = "(missing)"

// HiddenDetail is the detail of a rule that reads a field hidden from the
// viewer, in place of the condition that would name it.
const HiddenDetail = "on a field hidden from sales"

// Hide takes out of the explanation what would tell the viewer a field
// hidden from them: the factors on such a field (FeatureFields) go, counted
// in HiddenFactors with their points summed in HiddenPercentPoints, and the
// rules that read one (ruleField maps a fit rule's name to the field it
// reads) keep their points but say HiddenDetail. hidden reports whether a
// field, named as policies name fields ("source", "attributes.Tags"), is
// hidden from the viewer.
func (ex *ScoreExplanation) Hide(hidden func(field string) bool, ruleField map[string]string) {
	for i := range ex.Reasons {
		if f, ok := ruleField[ex.Reasons[i].Rule]; ok && hidden(f) {
			ex.Reasons[i].Detail = HiddenDetail
		}
	}
	kept := ex.Factors[:0]
	for _, f := range ex.Factors {
		if hidesAny(hidden, FeatureFields(f.Feature)) {
			ex.HiddenFactors++
			ex.HiddenPercentPoints += f.PercentPoints
			continue
		}
		kept = append(kept, f)
	}
	if len(kept) == 0 {
		kept = nil
	}
	ex.Factors = kept
}

func hidesAny(hidden func(string) bool, fields []string) bool {
	for _, f := range fields {
		if hidden(f) {
			return true
		}
	}
	return false
}

// factorLeadFields are the lead's fields the model reads under their own
// names.
var factorLeadFields = map[string]bool{"source": true, "campaign": true, "country": true, "title": true}

// FeatureFields returns the fields, named as policies name them, whose value
// a model input tells: a lead field or account.FIELD itself, email_domain
// also the email it comes from, and always attributes.NAME, since a custom
// attribute takes the input's name when the lead lacks the field. An event
// count tells no field of its own.
func FeatureFields(feature string) []string {
	out := []string{"attributes." + feature}
	switch {
	case strings.HasPrefix(feature, "account."), factorLeadFields[feature]:
		out = append(out, feature)
	case feature == "email_domain":
		out = append(out, feature, "email")
	}
	return out
}

// eventNouns are the built-in event types counted in words: one, many.
var eventNouns = map[string][2]string{
	EventPageView:          {"website page view", "website page views"},
	EventPricingPageView:   {"pricing page view", "pricing page views"},
	EventContentDownload:   {"content download", "content downloads"},
	EventWebinarRegistered: {"webinar registration", "webinar registrations"},
	EventWebinarAttended:   {"webinar attended", "webinars attended"},
	EventEmailOpen:         {"email open", "email opens"},
	EventEmailClick:        {"email click", "email clicks"},
	EventFormSubmit:        {"form submitted", "forms submitted"},
	EventDemoRequest:       {"demo request", "demo requests"},
	EventUnsubscribe:       {"unsubscribe", "unsubscribes"},
}

// Words says the factor's input and the lead's value of it in plain words,
// from the input's name and value alone, so that it needs no text written
// for a data set:
//
//	events.page_view = 7          7 website page views
//	events.chat_conversation = 1  1 chat conversation event
//	account.employees = 2822      company of 2,822 employees
//	email_domain = gmail.com      email at gmail.com
//	source = webinar              source is webinar
//	Lead Source = Google          Lead Source is Google
//	TotalVisits = 5               TotalVisits: 5
//	Do Not Email = false          Do Not Email: no
//	Specialization (missing)      Specialization not given
//
// A number the model split on says which side of the split point the lead
// is on: "Total Time Spent on Website over 587", "company of at most 50
// employees".
func (f ProbabilityFactor) Words() string {
	missing := f.Value == "" || f.Value == FactorMissing
	if t, ok := strings.CutPrefix(f.Feature, "events."); ok {
		noun, known := eventNouns[t]
		if !known {
			what := strings.ReplaceAll(t, "_", " ")
			noun = [2]string{what + " event", what + " events"}
		}
		n, err := strconv.ParseFloat(f.Value, 64)
		switch {
		case missing || err == nil && n == 0:
			return "no " + noun[1]
		case err == nil && n == 1:
			return "1 " + noun[0]
		}
		return number(f.Value) + " " + noun[1]
	}
	if a, ok := strings.CutPrefix(f.Feature, "account."); ok {
		switch a {
		case "employees":
			if missing {
				return "company size not given"
			}
			return "company of " + f.compared("", "") + " employees"
		case "annual_revenue":
			if missing {
				return "company revenue not given"
			}
			return "company revenue " + f.compared("", "of ")
		case "country":
			if missing {
				return "company country not given"
			}
			return "company based in " + f.Value
		}
		return f.named("company " + strings.ReplaceAll(a, "_", " "))
	}
	switch f.Feature {
	case "email_domain":
		if missing {
			return "no email given"
		}
		return "email at " + f.Value
	}
	return f.named(f.Feature)
}

// named says a field called name and the factor's value: "source is web",
// "TotalVisits: 5", "Total Time Spent on Website over 587".
func (f ProbabilityFactor) named(name string) string {
	switch {
	case f.Value == "" || f.Value == FactorMissing:
		return name + " not given"
	case f.Value == "true":
		return name + ": yes"
	case f.Value == "false":
		return name + ": no"
	}
	if _, err := strconv.ParseFloat(f.Value, 64); err == nil {
		return name + f.compared(" ", ": ")
	}
	return name + " is " + f.Value
}

// compared writes a number against the model's split point, "over 587" or
// "at most 50" (each after sep), or the lead's own value (after plain) when
// there is no split point or the value is on it.
func (f ProbabilityFactor) compared(sep, plain string) string {
	if t := f.Threshold; t != nil {
		x, err := strconv.ParseFloat(f.Value, 64)
		switch {
		case f.Over:
			return sep + "over " + formatNumber(*t)
		case err == nil && x < *t:
			return sep + "at most " + formatNumber(*t)
		}
	}
	return plain + number(f.Value)
}

// number writes a numeric value as formatNumber does, or the text as it is.
func number(v string) string {
	x, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return v
	}
	return formatNumber(x)
}

// formatNumber writes a number for a person: thousands grouped, at most two
// decimals, no exponent (2.5e+06 is 2,500,000).
func formatNumber(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) >= 1e15 {
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	s := strconv.FormatFloat(math.Round(x*100)/100, 'f', -1, 64)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	if b.String() == "0" {
		sign = ""
	}
	return sign + b.String()
}
