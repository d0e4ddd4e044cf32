package api

import (
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

// walkDoc calls fn on every object of the document, with its JSON pointer.
func walkDoc(v any, at string, fn func(at string, o obj)) {
	switch x := v.(type) {
	case obj:
		fn(at, x)
		for k, e := range x {
			walkDoc(e, at+"/"+k, fn)
		}
	case []any:
		for i, e := range x {
			walkDoc(e, at+"/"+strconv.Itoa(i), fn)
		}
	}
}

// isSchemaAt reports whether the object at the pointer is a schema, not a
// map of property names or of examples.
func isSchemaAt(at string) bool {
	return !strings.HasSuffix(at, "/properties") && !strings.Contains(at, "/example") && !strings.Contains(at, "/securitySchemes")
}

// TestOpenAPIJSONSchema checks that every type of the document is a JSON
// Schema 2020-12 type, and that every integer and number says its format
// (without one, generators pick float32 for a number).
func TestOpenAPIJSONSchema(t *testing.T) {
	valid := []string{"string", "number", "integer", "boolean", "array", "object", "null"}
	formats := map[string][]string{"integer": {"int32", "int64", "uint32", "uint64"}, "number": {"float", "double"}}
	types := 0
	walkDoc(openAPI(routes()), "", func(at string, o obj) {
		typ, ok := o["type"]
		if !ok || !isSchemaAt(at) {
			return
		}
		list, isList := typ.([]any)
		if !isList {
			list = []any{typ}
		}
		for _, ty := range list {
			s, _ := ty.(string)
			if !slices.Contains(valid, s) {
				t.Errorf("%s: type %v is not a JSON Schema type", at, typ)
			}
			if fs, ok := formats[s]; ok && !slices.Contains(fs, o["format"].(string)) {
				t.Errorf("%s: %s of format %v", at, s, o["format"])
			}
			types++
		}
	})
	if types < 300 {
		t.Errorf("only %d types seen", types)
	}
}

// TestOpenAPIEnums checks that every closed vocabulary of the schemas is
// an enum: each named string type has a vocabulary, and each plain string
// field whose name sounds like one (a kind, a state, a code...) has one or
// is listed as open, with why. A new field of a new route is checked too.
func TestOpenAPIEnums(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type)
	walkType := func(tt *testing.T, st reflect.Type, f reflect.StructField, name string) {
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() != reflect.String {
			return
		}
		if ft != reflect.TypeFor[string]() {
			if _, ok := typeVocabularies[ft]; !ok {
				tt.Errorf("%s.%s is of the string type %s, which has no vocabulary in typeVocabularies", st.Name(), name, ft)
			}
			return
		}
		if _, ok := fieldVocabularies[st][name]; ok {
			return
		}
		if _, ok := openFields[st][name]; ok {
			return
		}
		if slices.Contains(vocabularyWords, name) || slices.ContainsFunc(vocabularyWords, func(w string) bool { return strings.HasSuffix(name, "_"+w) }) {
			tt.Errorf("%s.%s sounds like a closed vocabulary: give it one in fieldVocabularies, or say in openFields why it is open", st.Name(), name)
		}
	}
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] || typ == timeType {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			walkType(t, typ, f, name)
			walk(f.Type)
		}
	}
	for _, st := range schemaTypes {
		walk(st)
	}
	// Every vocabulary is a schema of its values, and used.
	doc := openAPI(routes())
	schemas := doc["components"].(obj)["schemas"].(obj)
	used := map[string]bool{}
	walkDoc(doc, "", func(_ string, o obj) {
		if r, ok := o["$ref"].(string); ok {
			used[strings.TrimPrefix(r, "#/components/schemas/")] = true
		}
	})
	for name, values := range vocabularies {
		s := schemas[name].(obj)
		if s["type"] != "string" || !slices.Equal(s["enum"].([]string), values) || len(values) == 0 {
			t.Errorf("vocabulary %s: schema %v", name, s)
		}
		if !used[name] {
			t.Errorf("vocabulary %s is used nowhere", name)
		}
	}
}

// TestOpenAPIOperations checks every operation (and webhook) of the
// document: an identifier for an operationId, unique; a summary; an error
// response with the Error schema; and an example beside every request and
// response body.
func TestOpenAPIOperations(t *testing.T) {
	doc := openAPI(routes())
	ident := regexp.MustCompile(`^[a-z][A-Za-z0-9]*$`)
	ids := map[string]string{}
	responses := doc["components"].(obj)["responses"].(obj)
	check := func(where string, op obj, needErrors bool) {
		id, _ := op["operationId"].(string)
		if !ident.MatchString(id) {
			t.Errorf("%s: operationId %q is not an identifier", where, id)
		}
		if other, dup := ids[id]; dup {
			t.Errorf("%s: operationId %s is %s's too", where, id, other)
		}
		ids[id] = where
		if op["summary"] == "" {
			t.Errorf("%s: no summary", where)
		}
		errs := 0
		for status, r := range op["responses"].(obj) {
			r := r.(obj)
			if ref, ok := r["$ref"].(string); ok {
				r = responses[strings.TrimPrefix(ref, "#/components/responses/")].(obj)
				if status >= "400" {
					errs++
				}
			}
			for media, m := range contentOf(r) {
				if _, ok := m["example"]; !ok {
					t.Errorf("%s: response %s %s has no example", where, status, media)
				}
			}
		}
		if needErrors && errs == 0 {
			t.Errorf("%s: no error response", where)
		}
		if body, ok := op["requestBody"].(obj); ok {
			for media, m := range contentOf(body) {
				if _, ok := m["example"]; !ok {
					t.Errorf("%s: request %s has no example", where, media)
				}
			}
		}
	}
	for path, item := range doc["paths"].(obj) {
		for method, op := range item.(obj) {
			check(strings.ToUpper(method)+" "+path, op.(obj), true)
		}
	}
	hooks := doc["webhooks"].(obj)
	for _, event := range baton.WebhookEvents {
		hook, ok := hooks[event].(obj)
		if !ok {
			t.Errorf("webhook %s is not documented", event)
			continue
		}
		if webhookEvents[event].desc == "" {
			t.Errorf("webhook %s: no description in webhookEvents", event)
		}
		check("webhook "+event, hook["post"].(obj), false) // the receiver answers
	}
	if len(hooks) != len(baton.WebhookEvents) {
		t.Errorf("%d webhooks documented, %d events", len(hooks), len(baton.WebhookEvents))
	}
}

func contentOf(o obj) map[string]obj {
	out := map[string]obj{}
	content, _ := o["content"].(obj)
	for media, m := range content {
		out[media] = m.(obj)
	}
	return out
}
