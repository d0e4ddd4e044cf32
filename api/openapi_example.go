package api

import (
	"encoding/json"
	"strings"
)

// exampler makes the examples of the document from its schemas, so that
// every request and response of a new route has one without more work: the
// first value of an enum, a plausible value by property name (exampleHints),
// one item per array, every property of an object. Whole examples of
// schemaExamples take precedence. TestOpenAPIExamples validates every
// example against its schema.
type exampler struct {
	schemas obj
}

// exampleTime is the time of the examples.
const exampleTime = "2026-03-02T09:30:00Z"

// example returns an example of the schema s; name is the schema's name or
// the property it is the value of, for the hints.
func (x *exampler) example(s obj, name string) any { return x.value(s, "", name, 0) }

func (x *exampler) value(s obj, owner, prop string, depth int) any {
	if r, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(r, "#/components/schemas/")
		if ex, ok := schemaExamples[name]; ok {
			return cloneJSON(ex)
		}
		target, _ := x.schemas[name].(obj)
		return x.value(target, name, prop, depth+1)
	}
	if depth > 12 || s == nil {
		return nil
	}
	switch e := s["enum"].(type) {
	case []string:
		return e[0]
	case []any:
		return e[0]
	}
	for _, key := range []string{"oneOf", "anyOf"} {
		if branches, ok := s[key].([]any); ok {
			return x.value(branches[0].(obj), owner, prop, depth+1)
		}
	}
	typ, _ := s["type"].(string)
	if types, ok := s["type"].([]any); ok {
		typ, _ = types[0].(string)
	}
	switch typ {
	case "object":
		out := map[string]any{}
		props, _ := s["properties"].(obj)
		for k, p := range props {
			out[k] = x.value(p.(obj), owner, k, depth+1)
		}
		if ap, ok := s["additionalProperties"].(obj); ok && len(props) == 0 {
			key, ok := hint(owner, prop+".key").(string)
			if !ok {
				key = "key"
			}
			out[key] = x.value(ap, owner, prop, depth+1)
		}
		return out
	case "array":
		items, _ := s["items"].(obj)
		return []any{x.value(items, owner, prop, depth+1)}
	case "string":
		switch s["format"] {
		case "date-time":
			return exampleTime
		case "date":
			return exampleTime[:10]
		}
		if v, ok := hint(owner, prop).(string); ok {
			return v
		}
		return "text"
	case "integer":
		if v, ok := hint(owner, prop).(int); ok {
			return v
		}
		if prop == "id" || strings.HasSuffix(prop, "_id") {
			return 42
		}
		return 1
	case "number":
		switch v := hint(owner, prop).(type) {
		case float64:
			return v
		case int:
			return v
		}
		return 1.5
	case "boolean":
		if v, ok := hint(owner, prop).(bool); ok {
			return v
		}
		return true
	}
	return map[string]any{}
}

// hint returns the example hint for owner.prop, or else for prop; nil for
// none. The caller takes it only when it is of the schema's type.
func hint(owner, prop string) any {
	if v, ok := exampleHints[owner+"."+prop]; ok {
		return v
	}
	return exampleHints[prop]
}

func cloneJSON(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // the examples are literals of this package
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// examplePolicy is the policy document of the examples.
const examplePolicy = `name: Q3 policy
owner: marketing@example.com
fit:
  - name: Decision maker
    field: title
    contains: VP
    points: 20
engagement:
  half_life: 30d
  rules:
    - name: Pricing page
      event: page_view
      where: {url: {contains: /pricing}}
      points: 10
mql:
  fit: 20
  engagement: 10
`

// schemaExamples are whole examples of schemas whose values hang together
// more than hints can tell.
var schemaExamples = map[string]any{
	"PolicyInput": map[string]any{"body": examplePolicy},
	"DraftInput":  map[string]any{"body": examplePolicy, "base": exampleSHA},
	"EventInput": map[string]any{"id": "evt-0001", "type": "page_view", "email": "ada.lovelace@example.com",
		"occurred_at": exampleTime, "properties": map[string]any{"url": "/pricing"}},
	"OpenAPI":    map[string]any{"openapi": "3.1.0", "info": map[string]any{"title": "Baton API", "version": "1"}, "paths": map[string]any{}},
	"Rejection":  map[string]any{"reason": "no_budget", "note": "no budget before next year"},
	"CloseInput": map[string]any{"won": true, "value": 24000},
	"TrainInput": map[string]any{"holdout": 0.2, "seed": 1},
	"Validation": map[string]any{"valid": true},
}

const exampleSHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// exampleHints are example values of properties, by "Schema.property" or
// by property name alone.
var exampleHints = map[string]any{
	"email":                   "ada.lovelace@example.com",
	"name":                    "Ada Lovelace",
	"Account.name":            "Acme GmbH",
	"AccountInput.name":       "Acme GmbH",
	"AccountUpdate.name":      "Acme GmbH",
	"Product.name":            "Baton Cloud",
	"Opportunity.name":        "Acme GmbH: 50 seats",
	"ConvertInput.name":       "Acme GmbH: 50 seats",
	"OpportunityUpdate.name":  "Acme GmbH: 50 seats",
	"TokenInfo.name":          "crm-sync",
	"TokenInput.name":         "crm-sync",
	"Series.name":             "leads",
	"PolicyDoc.name":          "Q3 policy",
	"external_id":             "crm-00042",
	"title":                   "VP Sales",
	"Report.title":            "Funnel",
	"phone":                   "+49 30 1234567",
	"company":                 "Acme GmbH",
	"country":                 "DE",
	"source":                  "webinar",
	"campaign":                "spring-launch",
	"domain":                  "acme.example",
	"industry":                "Software",
	"team":                    "EMEA",
	"territory":               "DACH",
	"time_zone":               "Europe/Berlin",
	"note":                    "met at the booth",
	"reason":                  "booth visit",
	"message":                 "must not be empty",
	"field":                   "email",
	"Problem.field":           "fit[0].points",
	"Problem.message":         "must not be 0",
	"type":                    "page_view",
	"outcome":                 "no_answer",
	"budget_currency":         "EUR",
	"decision_maker":          "CFO",
	"need":                    "onboarding for 50 reps",
	"product":                 "Baton Cloud",
	"series":                  "Cloud",
	"token":                   "bt_3q2+7w5v9sK1xZ0aQ4mN8pR6tY2uE1oW",
	"sha256":                  exampleSHA,
	"base":                    exampleSHA,
	"body":                    examplePolicy,
	"Notification.body":       "Answer within 4 hours.",
	"Notification.title":      "New MQL: Ada Lovelace",
	"change_note":             "Pricing page worth more",
	"why":                     "route Everyone, turn 3",
	"until":                   "2026-03-09",
	"out_of_office_note":      "Ben covers",
	"text":                    "points: 10",
	"detail":                  "title contains VP",
	"rule":                    "Decision maker",
	"url":                     "https://hooks.example.com/baton",
	"actor":                   "Anna Snelling",
	"actor_name":              "Anna Snelling",
	"created_by":              "marketing@example.com",
	"published_by":            "marketing@example.com",
	"updated_by":              "marketing@example.com",
	"run_by":                  "marketing@example.com",
	"owner":                   "marketing@example.com",
	"addr":                    "203.0.113.7",
	"before":                  `{"role":"sdr"}`,
	"after":                   `{"role":"manager"}`,
	"via":                     "api",
	"created_via":             "api",
	"target_kind":             "user",
	"problem":                 "the disk is full",
	"nurture_track":           "nurture: no_budget",
	"feature":                 "pricing_page_views",
	"ProbabilityFactor.value": "3",
	"column":                  "email",
	"labels":                  "2026-03",
	"columns":                 "source",
	"rows":                    "webinar",
	"notes":                   "A lead counts in the month it was created.",
	"from":                    "mql",
	"to":                      "sal",
	"HistoryEntry.from":       "",
	"HistoryEntry.to":         "sal",
	"delivery_id":             "4711",
	"Event.id":                "evt-0001",
	"EventInput.id":           "evt-0001",
	"fit_grade":               "A",
	"engagement_grade":        "2",
	"backtest_stale":          "",
	"time_zone.key":           "key",
	"attributes.key":          "plan",
	"properties.key":          "url",
	"attributes":              "pro",
	"id":                      42,
	"version":                 3,
	"total":                   1,
	"employees":               250,
	"line":                    3,
	"working_seconds":         5400,
	"attempts":                2,
	"created":                 1,
	"EventResult.created":     1,
	"duplicates":              0,
	"rejected":                0,
	"index":                   0,
	"row":                     2,
	"annual_revenue":          12500000.0,
	"amount":                  25000.0,
	"budget_amount":           25000.0,
	"price":                   990.0,
	"value":                   25000.0,
	"points":                  10.0,
	"fit":                     60.0,
	"engagement":              35.0,
	"probability":             0.42,
	"holdout":                 0.2,
	"seed":                    1,
	"budget_confirmed":        true,
	"active":                  true,
	"revoked":                 false,
	"won":                     true,
	"pull":                    false,
	"met":                     true,
	"valid":                   true,
}
