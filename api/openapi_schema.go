package api

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/batonhq/baton"
)

var (
	rawType   = reflect.TypeFor[json.RawMessage]()
	attrsType = reflect.TypeFor[baton.Attrs]()
)

// vocabularies are the closed sets of values of the document: each is a
// component schema, an enum of strings, that every field and parameter of
// the set refers to (and so one type in a generated client).
var vocabularies = map[string][]string{
	"Stage":            enumOf(baton.Stages),
	"Role":             enumOf(baton.Roles),
	"OpportunityStage": enumOf(baton.OpportunityStages),
	"HandoffKind":      enumOf(baton.HandoffKinds),
	"HandoffState":     enumOf(baton.HandoffStates),
	"HistoryAction":    enumOf(baton.Actions),
	"Verb":             enumOf(baton.Verbs),
	"DiffKind":         enumOf(baton.DiffKinds),
	"RejectReason":     baton.RejectReasons,
	"AttemptChannel":   baton.AttemptChannels,
	"BANTAuthority":    baton.BANTAuthorities,
	"BANTTiming":       baton.BANTTimings,
	"ErrorCode":        baton.ErrorCodes,
	"NotificationKind": baton.NotificationKinds,
	"TimelineKind":     baton.TimelineKinds,
	"ScoreAxis":        baton.ScoreAxes,
	"ReportName":       baton.ReportNames,
	"AuditAction":      baton.AuditActions,
	"HealthStatus":     healthStates,
	"DatabaseBackend":  {"sqlite", "postgres"},
	"BreachAction":     baton.BreachActions,
	"WebhookEvent":     baton.WebhookEvents,
	"DeliveryChannel":  {"email", "webhook", "slack"},
	"OutboxState":      {"pending", "sent", "dead"},
	"DeliveryResult":   {baton.AttemptInFlight, baton.AttemptInterrupted, baton.AttemptDelivered, baton.AttemptFailed},
	"IngestKeyKind":    enumOf(baton.IngestKeyKinds),
	"SegmentType":      {"identify", "track", "page"},
}

// typeVocabularies are the vocabularies of the named string types of the
// domain. A named string type of a schema without an entry here fails
// TestOpenAPIEnums.
var typeVocabularies = map[reflect.Type]string{
	reflect.TypeFor[baton.Stage]():            "Stage",
	reflect.TypeFor[baton.Role]():             "Role",
	reflect.TypeFor[baton.OpportunityStage](): "OpportunityStage",
	reflect.TypeFor[baton.HandoffKind]():      "HandoffKind",
	reflect.TypeFor[baton.HandoffState]():     "HandoffState",
	reflect.TypeFor[baton.Action]():           "HistoryAction",
	reflect.TypeFor[baton.Verb]():             "Verb",
	reflect.TypeFor[baton.DiffKind]():         "DiffKind",
	reflect.TypeFor[baton.IngestKeyKind]():    "IngestKeyKind",
}

// fieldVocabularies are the vocabularies of plain string fields, by struct
// type and JSON name. A field whose name sounds like a vocabulary
// (vocabularyWords) must be here or in openFields: TestOpenAPIEnums.
var fieldVocabularies = map[reflect.Type]map[string]string{
	reflect.TypeFor[baton.Rejection]():       {"reason": "RejectReason"},
	reflect.TypeFor[baton.Attempt]():         {"channel": "AttemptChannel"},
	reflect.TypeFor[attemptInput]():          {"channel": "AttemptChannel"},
	reflect.TypeFor[baton.BANT]():            {"authority": "BANTAuthority", "timing": "BANTTiming"},
	reflect.TypeFor[ErrorDetail]():           {"code": "ErrorCode"},
	reflect.TypeFor[baton.Notification]():    {"kind": "NotificationKind"},
	reflect.TypeFor[baton.TimelineItem]():    {"kind": "TimelineKind"},
	reflect.TypeFor[baton.ScoreReason]():     {"axis": "ScoreAxis"},
	reflect.TypeFor[baton.Report]():          {"name": "ReportName"},
	reflect.TypeFor[baton.AuditEntry]():      {"action": "AuditAction"},
	reflect.TypeFor[health]():                {"status": "HealthStatus"},
	reflect.TypeFor[baton.Health]():          {"backend": "DatabaseBackend"},
	reflect.TypeFor[webhookData]():           {"on_breach": "BreachAction"},
	reflect.TypeFor[webhookPayload]():        {"event": "WebhookEvent", "type": "WebhookEvent"},
	reflect.TypeFor[baton.DeliveryAttempt](): {"channel": "DeliveryChannel", "state": "OutboxState", "result": "DeliveryResult"},
	reflect.TypeFor[segmentMessage]():        {"type": "SegmentType"},
}

// openFields are the string fields whose names sound like a vocabulary but
// whose values are open, with why.
var openFields = map[reflect.Type]map[string]string{
	reflect.TypeFor[baton.Attempt]():         {"outcome": "free text: no_answer, voicemail, connected..."},
	reflect.TypeFor[attemptInput]():          {"outcome": "free text: no_answer, voicemail, connected..."},
	reflect.TypeFor[baton.CloseInput]():      {"reason": "free text, required for a lost deal"},
	reflect.TypeFor[sendBackInput]():         {"reason": "free text"},
	reflect.TypeFor[baton.StageChange]():     {"reason": "free text"},
	reflect.TypeFor[baton.HistoryEntry]():    {"reason": "free text: why the move was made"},
	reflect.TypeFor[baton.AuditEntry]():      {"target_kind": "what the action names: user, token, webhook...", "via": "the door: ui, api, cli or a job's name"},
	reflect.TypeFor[baton.Event]():           {"type": "lower_snake_case, any the sender uses"},
	reflect.TypeFor[baton.EventInput]():      {"type": "lower_snake_case, any the sender uses"},
	reflect.TypeFor[baton.Token]():           {"created_via": "the door: ui, api, cli"},
	reflect.TypeFor[baton.DeliveryAttempt](): {"event": "a webhook event, or for email and Slack the notification's kind"},
	reflect.TypeFor[webhookData]():           {"reason": "free text", "outcome": "a stage", "via": "how the lead came: api, import, ui, demo..."},
	reflect.TypeFor[segmentMessage]():        {"event": "a track event's name, any the sender uses; the policy's intake.track maps it"},
}

// vocabularyWords are field names that usually hold a closed vocabulary.
var vocabularyWords = []string{"kind", "state", "status", "code", "reason", "channel", "role", "stage", "type",
	"action", "axis", "authority", "timing", "event", "outcome", "backend", "on_breach", "via", "target_kind"}

// healthStates are the values of health.Status.
var healthStates = []string{"ok", "unavailable", "busy"}

// schemaOf returns the JSON schema of a Go type, from its json tags. Named
// struct types of schemaTypes become references, except at the top.
func schemaOf(t reflect.Type, top bool) obj {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if !top {
		if name := schemaName(t); name != "" {
			return ref(name)
		}
	}
	switch t {
	case timeType:
		return obj{"type": "string", "format": "date-time"}
	case rawType:
		return obj{"type": "object", "description": "any JSON object"}
	case attrsType:
		return obj{"type": "object", "description": "custom attributes: each value a string, a number or a boolean",
			"additionalProperties": attrValue()}
	}
	if name, ok := typeVocabularies[t]; ok {
		return ref(name)
	}
	switch t.Kind() {
	case reflect.Bool:
		return obj{"type": "boolean"}
	case reflect.Int, reflect.Int64:
		return obj{"type": "integer", "format": "int64"}
	case reflect.Int8, reflect.Int16, reflect.Int32:
		return obj{"type": "integer", "format": "int32"}
	case reflect.Uint, reflect.Uint64:
		return obj{"type": "integer", "format": "uint64", "minimum": 0}
	case reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return obj{"type": "integer", "format": "uint32", "minimum": 0}
	case reflect.Float32:
		return obj{"type": "number", "format": "float"}
	case reflect.Float64:
		return obj{"type": "number", "format": "double"}
	case reflect.String:
		return obj{"type": "string"}
	case reflect.Slice, reflect.Array:
		return obj{"type": "array", "items": schemaOf(t.Elem(), false)}
	case reflect.Map:
		return obj{"type": "object", "additionalProperties": schemaOf(t.Elem(), false)}
	case reflect.Struct:
		return structSchema(t)
	}
	return obj{}
}

// attrValue is the schema of one custom attribute's value.
func attrValue() obj {
	return obj{"anyOf": []any{obj{"type": "string"}, obj{"type": "number", "format": "double"}, obj{"type": "boolean"}},
		// Generators give the union a type of its own, with methods to
		// read each branch; a value of any of the three reads more simply.
		"x-go-type": "interface{}"}
}

// structSchema is the object schema of a struct type: a property per JSON
// field, required when it is always present (no omitempty), nullable when a
// nil pointer is sent as null (a pointer without omitempty).
func structSchema(t reflect.Type) obj {
	props := obj{}
	var required []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		omit := strings.Contains(opts, "omitempty")
		s := schemaOf(f.Type, false)
		if v, ok := fieldVocabularies[t][name]; ok {
			s = ref(v)
		}
		if t == reflect.TypeFor[baton.LeadUpdate]() && f.Type == attrsType {
			// An update's attribute of null removes it.
			s["additionalProperties"] = nullable(attrValue())
		}
		if f.Type.Kind() == reflect.Pointer && !omit && s["$ref"] == nil {
			s = nullable(s)
		}
		props[name] = s
		if !omit {
			required = append(required, name)
		}
	}
	s := obj{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// nullable returns a schema that also allows null. (A reference stays one:
// the pointers to named structs the API sends are never nil.)
func nullable(s obj) obj {
	if branches, ok := s["anyOf"].([]any); ok {
		s["anyOf"] = append(branches, obj{"type": "null"})
		return s
	}
	s["type"] = []any{s["type"], "null"}
	return s
}

// schemaName returns the name of the component schema of a named struct
// type, "" for none. The list schemas (list[T]) are never referenced: each
// is the body of its own routes.
func schemaName(t reflect.Type) string {
	if t.Kind() != reflect.Struct || t.Name() == "" || strings.Contains(t.Name(), "[") {
		return ""
	}
	for name, st := range schemaTypes {
		if st == t {
			return name
		}
	}
	return ""
}
