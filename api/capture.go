package api

import (
	"bytes"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"html"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// The website's capture: the form endpoint, which a plain HTML form or
// fetch posts to with a capture key, and the script that records page views
// and sends forms (capture/capture.js).

//go:embed capture/capture.js
var captureJS []byte

// Fields of the form endpoint with a meaning; the others are kept in the
// form_submit event's properties, under fields.
const (
	formHoneypot = "_hp"   // left empty by people (hidden by the page), filled by bots
	formNext     = "_next" // where a plain form's browser goes after: a page on an allowed origin
)

// formLeadFields are the fields that become the lead's.
var formLeadFields = []string{"email", "name", "first_name", "last_name", "title", "company", "phone", "country"}

// formMeta are the fields of the message itself.
var formMeta = []string{"anonymous_id", "message_id", "form", "page", formHoneypot, formNext}

// maxFormFields bounds the fields of one form.
const maxFormFields = 50

// formInput documents the body of the form endpoint (JSON or
// application/x-www-form-urlencoded; every value a string).
type formInput struct {
	Email       string `json:"email"`
	Name        string `json:"name,omitempty"`
	FirstName   string `json:"first_name,omitempty"`
	LastName    string `json:"last_name,omitempty"`
	Title       string `json:"title,omitempty"`
	Company     string `json:"company,omitempty"`
	Phone       string `json:"phone,omitempty"`
	Country     string `json:"country,omitempty"`
	AnonymousID string `json:"anonymous_id,omitempty"`
	MessageID   string `json:"message_id,omitempty"`
	Form        string `json:"form,omitempty"`
	Page        string `json:"page,omitempty"`
	Honeypot    string `json:"_hp,omitempty"`
	Next        string `json:"_next,omitempty"`
}

// formResult is the answer to a form: only that it was received, never
// what Baton knows of the sender (not even whether they were known).
type formResult struct {
	OK bool `json:"ok"`
}

// captureForm takes a form: a lead upserted by its email, its form_submit
// event, and the visitor's anonymous id linked (the page views before it
// stitched). A filled honeypot gets the same answer and stores nothing.
func (s *Server) captureForm(w http.ResponseWriter, r *http.Request) error {
	asJSON := wantsJSON(r)
	fields, err := formFields(w, r)
	if err == nil {
		err = s.takeForm(r, fields)
	}
	if err != nil {
		if asJSON || baton.ErrorCode(err) == baton.EINTERNAL {
			return err
		}
		writeFormPage(w, baton.HTTPStatus(err), "The form was not sent", baton.ErrorMessage(err)+". Go back, correct it and send it again.")
		return nil
	}
	if asJSON {
		writeJSON(w, http.StatusOK, formResult{OK: true})
		return nil
	}
	if next := fields[formNext]; next != "" {
		if u, err := url.Parse(next); err == nil && ingestKeyOf(r).AllowsOrigin(u.Scheme+"://"+u.Host) {
			http.Redirect(w, r, u.String(), http.StatusSeeOther)
			return nil
		}
	}
	writeFormPage(w, http.StatusOK, "Thank you", "Your form was sent.")
	return nil
}

// takeForm stores a form's fields.
func (s *Server) takeForm(r *http.Request, fields map[string]string) error {
	if fields[formHoneypot] != "" {
		s.logger.InfoContext(r.Context(), "form honeypot filled: nothing stored", slog.String("addr", ingestAddr(r)))
		return nil
	}
	email := strings.TrimSpace(fields["email"])
	if email == "" {
		return baton.FieldError("email", "Enter your email address")
	}
	if _, err := baton.NormalizeEmail(email); err != nil {
		return baton.FieldError("email", "Enter a valid email address")
	}
	name := fields["name"]
	if name == "" {
		name = strings.TrimSpace(fields["first_name"] + " " + fields["last_name"])
	}
	page := fields["page"]
	if page == "" {
		page = r.Header.Get("Referer")
	}
	extra := map[string]string{}
	for k, v := range fields {
		if !slices.Contains(formLeadFields, k) && !slices.Contains(formMeta, k) {
			extra[k] = v
		}
	}
	props := map[string]any{"form": fields["form"], "page": page}
	if len(extra) > 0 {
		props["fields"] = extra
	}
	raw, err := json.Marshal(props)
	if err != nil {
		return err
	}
	id := fields["message_id"]
	if id == "" {
		var b [12]byte
		rand.Read(b[:])
		id = "form-" + hex.EncodeToString(b[:])
	}
	m := baton.IntakeMessage{Type: baton.MessageForm, MessageID: id, AnonymousID: fields["anonymous_id"], Email: email,
		Traits: baton.Traits{Name: name, Title: fields["title"], Phone: fields["phone"], Company: fields["company"], Country: fields["country"]},
		URL:    page, Properties: raw, Timestamp: time.Now(), Source: ingestKeyOf(r).Source()}
	res, err := s.svc.Intake.Intake(r.Context(), []baton.IntakeMessage{m})
	if err != nil {
		return err
	}
	if len(res.Errors) > 0 {
		// The field, and what is expected of it; never the value sent.
		e := res.Errors[0]
		return baton.FieldError(e.Column, "%s is not valid: check it", formFieldWords(e.Column))
	}
	return nil
}

// formFieldWords names a field of the form in an error.
func formFieldWords(field string) string {
	switch {
	case field == "":
		return "The form"
	case strings.HasPrefix(field, "traits."):
		field = strings.TrimPrefix(field, "traits.")
	case field == "anonymousId":
		field = "anonymous_id"
	case field == "messageId":
		field = "message_id"
	}
	return "The field " + field
}

// wantsJSON reports whether the form came from a script (a JSON body, or
// an Accept that prefers JSON) rather than a plain form's navigation.
func wantsJSON(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" || ct == "text/plain" {
		return true
	}
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

// formFields reads a form's body: URL-encoded, multipart or JSON (an
// object of strings), each value at most baton.MaxFieldLen bytes.
func formFields(w http.ResponseWriter, r *http.Request) (map[string]string, error) {
	body, err := readBody(w, r, maxBody)
	if err != nil {
		return nil, err
	}
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	out := map[string]string{}
	switch ct {
	case "application/json", "text/plain":
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, baton.Errorf(baton.EINVALID, "send the form as a JSON object of strings, or as a form (application/x-www-form-urlencoded)")
		}
		for k, v := range m {
			s, ok := v.(string)
			if !ok && v != nil {
				return nil, baton.FieldError(k, "must be text")
			}
			out[k] = s
		}
	case "application/x-www-form-urlencoded", "":
		vs, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, baton.Errorf(baton.EINVALID, "the form body is not URL-encoded")
		}
		for k, v := range vs {
			out[k] = v[0]
		}
	case "multipart/form-data":
		r.Body = http.MaxBytesReader(w, readCloser{bytes.NewReader(body)}, maxBody)
		r.Header.Set("Content-Type", mime.FormatMediaType(ct, params))
		if err := r.ParseMultipartForm(maxBody); err != nil {
			return nil, baton.Errorf(baton.EINVALID, "the multipart form cannot be read")
		}
		for k, v := range r.MultipartForm.Value {
			out[k] = v[0]
		}
	default:
		return nil, baton.Errorf(baton.EINVALID, "a form is application/x-www-form-urlencoded, multipart/form-data or application/json, not %s", ct)
	}
	if len(out) > maxFormFields {
		return nil, baton.Errorf(baton.EINVALID, "%d fields, at most %d", len(out), maxFormFields)
	}
	for k, v := range out {
		if len(v) > baton.MaxFieldLen {
			return nil, baton.FieldError(k, "at most %d bytes", baton.MaxFieldLen)
		}
	}
	return out, nil
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// writeFormPage answers a plain form's browser with a small page.
func writeFormPage(w http.ResponseWriter, status int, title, text string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'")
	w.WriteHeader(status)
	w.Write([]byte(`<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>` +
		html.EscapeString(title) + `</title><main><h1>` + html.EscapeString(title) + `</h1><p>` + html.EscapeString(text) + `</p></main></html>`))
}

// captureScript serves the capture script.
func (s *Server) captureScript(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write(captureJS)
	return nil
}
