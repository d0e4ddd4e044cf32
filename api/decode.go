package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// Body size limits.
const (
	maxBody       = 1 << 20  // 1 MiB: one lead, account, user, change
	maxEventsBody = 32 << 20 // 32 MiB: a batch of up to baton.MaxEventBatch events
)

// decode reads the request's JSON body into v with the default size limit.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeLimit(w, r, v, maxBody)
}

// decodeLimit reads exactly one JSON value of at most limit bytes into v,
// refusing unknown fields, and turns every failure into a baton error that
// names the field at fault.
func decodeLimit(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	body, err := readBody(w, r, limit)
	if err != nil {
		return err
	}
	return decodeBytes(body, v, "")
}

func tooLarge(limit int64) error {
	return &statusError{status: http.StatusRequestEntityTooLarge,
		err: baton.Errorf(baton.EINVALID, "the request body is larger than the limit of %s", sizeString(limit))}
}

func sizeString(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// decodeBytes decodes exactly one JSON value from body into v. prefix is put
// before the field names of errors (such as "[3]" for an array element).
func decodeBytes(body []byte, v any, prefix string) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return baton.Errorf(baton.EINVALID, "the request body is empty: send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, prefix, v)
	}
	off := dec.InputOffset()
	rest := body[off:]
	if trimmed := bytes.TrimLeft(rest, " \t\r\n"); len(trimmed) != 0 {
		return baton.Errorf(baton.EINVALID, "malformed JSON at byte %d: only one JSON value is allowed", off+int64(len(rest)-len(trimmed))+1)
	}
	return nil
}

// jsonError turns an error of encoding/json into a baton error naming the
// field at fault. v is the value decoded into: a bad time names its time
// field, which encoding/json does not report.
func jsonError(err error, prefix string, v any) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var perr *time.ParseError
	var be *baton.Error
	switch {
	case errors.As(err, &be):
		return err
	case errors.As(err, &syn):
		// Offset counts the bytes read up to and including the bad one, so
		// it is the bad byte's position counting from 1.
		return baton.Errorf(baton.EINVALID, "malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return baton.Errorf(baton.EINVALID, "malformed JSON: the body ends in the middle of a value")
	case errors.As(err, &typ):
		field := joinField(prefix, typ.Field)
		return baton.FieldError(field, "expected %s, got %s", jsonKind(typ.Type, typ.Value), typ.Value)
	case strings.HasPrefix(err.Error(), `json: unknown field "`):
		name := strings.TrimSuffix(strings.TrimPrefix(err.Error(), `json: unknown field "`), `"`)
		return baton.FieldError(joinField(prefix, name), "unknown field %q", name)
	case errors.As(err, &perr), strings.HasPrefix(err.Error(), "Time.UnmarshalJSON"):
		return baton.FieldError(joinField(prefix, timeField(v)), "expected an RFC 3339 time such as 2025-01-31T09:30:00Z")
	}
	return baton.Errorf(baton.EINVALID, "invalid JSON body: %s", strings.TrimPrefix(err.Error(), "json: "))
}

func joinField(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix
	}
	return prefix + "." + field
}

var timeType = reflect.TypeFor[time.Time]()

// jsonKind names the JSON kind that decodes into t, with its article.
func jsonKind(t reflect.Type, got string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		return "an RFC 3339 time string"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if strings.HasPrefix(got, "number") {
			return "an integer"
		}
		return "a number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a " + t.Kind().String()
}

// timeField returns the JSON name of the one time field of the struct v
// points to, or "" if it has none or several.
func timeField(v any) string {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return ""
	}
	name := ""
	for i := range t.NumField() {
		f := t.Field(i)
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft != timeType || !f.IsExported() {
			continue
		}
		if name != "" {
			return ""
		}
		name, _, _ = strings.Cut(f.Tag.Get("json"), ",")
	}
	return name
}
