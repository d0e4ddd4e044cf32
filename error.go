package baton

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes. Each maps to one HTTP status (HTTPStatus, shared by the api
// and web packages) and to one exit message in the CLI; nothing else should
// switch on them.
const (
	EINVALID       = "invalid"       // the input is wrong; the message says how
	ENOTFOUND      = "not_found"     // the thing asked for does not exist
	ECONFLICT      = "conflict"      // it exists already, or someone else changed it first
	EUNPROCESSABLE = "unprocessable" // well formed, but it contradicts an earlier request (an idempotency key reused with another body)
	EUNAUTHORIZED  = "unauthorized"  // who is asking is unknown
	EFORBIDDEN     = "forbidden"     // who is asking may not do this
	EUNAVAILABLE   = "unavailable"   // not now: the disk is full, the database read-only or the server busy; retry later
	ETOOMANY       = "too_many"      // too many tries from this client (failed sign-ins), or at once: wait as the message says
	EINTERNAL      = "internal"      // a bug or an unexplained failure; never shown in detail to a user
)

// ErrorCodes lists every error code, in the order of the table of statuses.
var ErrorCodes = []string{EINVALID, EUNAUTHORIZED, EFORBIDDEN, ENOTFOUND, ECONFLICT, EUNPROCESSABLE, EUNAVAILABLE, ETOOMANY, EINTERNAL}

// Error is the one error type of Baton. Its Message is safe to show a user;
// Field names the input field (or CSV column) at fault, when there is one.
type Error struct {
	Code    string
	Message string
	Field   string
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("baton %s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("baton %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EINVALID *Error about one field.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the *Error in err's chain, EINTERNAL for any
// other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-readable message of err: the *Error's message,
// or "internal error" for anything else, so that internal details never leak.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrorField returns the field named by the *Error in err's chain, if any.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// httpStatus is the one table from error codes to HTTP statuses.
var httpStatus = map[string]int{
	EINVALID:       http.StatusBadRequest,
	EUNAUTHORIZED:  http.StatusUnauthorized,
	EFORBIDDEN:     http.StatusForbidden,
	ENOTFOUND:      http.StatusNotFound,
	ECONFLICT:      http.StatusConflict,
	EUNPROCESSABLE: http.StatusUnprocessableEntity,
	EUNAVAILABLE:   http.StatusServiceUnavailable,
	ETOOMANY:       http.StatusTooManyRequests,
	EINTERNAL:      http.StatusInternalServerError,
}

// HTTPStatus returns the HTTP status of err's code, for the JSON API and
// the HTML pages alike: 200 for nil, 500 for an error without a code (or
// with a code not in the table), which is then an internal error.
func HTTPStatus(err error) int {
	if err == nil {
		return http.StatusOK
	}
	if st, ok := httpStatus[ErrorCode(err)]; ok {
		return st
	}
	return http.StatusInternalServerError
}
