package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/batonhq/baton"
)

// statusError is a baton error that needs a status other than its code's
// (baton.HTTPStatus): a body over the size limit (413), a method not allowed
// (405) or too many requests (429).
type statusError struct {
	status int
	err    *baton.Error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// ErrorBody is the JSON form of every error the API returns.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the content of an error response: the baton error code, a
// message safe to show a user and, for bad input, the field at fault.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// Problems lists every problem of an invalid policy document.
	Problems []Problem `json:"problems,omitempty"`
}

// writeError writes err as a JSON error with the status of its code. An
// internal error is logged here, once, and shown as "internal error".
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if baton.ErrorCode(err) == baton.EINTERNAL && s.svc.Health != nil {
		if o := s.svc.Health.Outage(err); o != nil {
			s.logger.WarnContext(r.Context(), "storage outage", slog.String("method", r.Method),
				slog.String("path", r.URL.Path), slog.Any("err", err))
			err = o
		}
	}
	code, status := baton.ErrorCode(err), baton.HTTPStatus(err)
	if status == http.StatusInternalServerError {
		code = baton.EINTERNAL // a code outside the table is a bug too
	}
	var se *statusError
	if errors.As(err, &se) {
		status = se.status
	}
	if code == baton.EINTERNAL {
		s.logger.ErrorContext(r.Context(), "internal error", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Any("err", err))
	}
	body := ErrorBody{Error: ErrorDetail{Code: code, Message: baton.ErrorMessage(err), Field: baton.ErrorField(err)}}
	var pe *problemsError
	if code == baton.EINVALID && errors.As(err, &pe) {
		body.Error.Problems = pe.problems
	}
	if code == baton.EINTERNAL {
		body.Error.Message, body.Error.Field = "internal error", ""
	}
	if code == baton.EUNAVAILABLE {
		setRetryAfter(w)
	}
	writeJSON(w, status, body)
}

// writeJSON writes v as the JSON body of a response with the status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only values the API builds are marshalled; this is a bug.
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
