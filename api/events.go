package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/batonhq/baton"
)

// eventResult is the body of POST /api/v1/events: baton.EventResult with
// errors always present (an empty array when every event landed).
type eventResult struct {
	Created    int              `json:"created"`
	Duplicates int              `json:"duplicates"`
	Rejected   int              `json:"rejected"`
	Errors     []baton.RowError `json:"errors"`
}

func (s *Server) recordEvents(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, maxEventsBody)
	if err != nil {
		return err
	}
	events, err := decodeEvents(body)
	if err != nil {
		return err
	}
	res, err := s.svc.Events.RecordEvents(r.Context(), events)
	if err != nil {
		return err
	}
	out := eventResult{Created: res.Created, Duplicates: res.Duplicates, Rejected: res.Rejected, Errors: res.Errors}
	if out.Errors == nil {
		out.Errors = []baton.RowError{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// decodeEvents decodes one event object, or an array of at most
// baton.MaxEventBatch of them. An error in an element names its index, as
// in field "[3].occurred_at".
func decodeEvents(body []byte) ([]baton.EventInput, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, baton.Errorf(baton.EINVALID, "the request body is empty: send an event object or an array of events")
	}
	switch trimmed[0] {
	case '{':
		var e baton.EventInput
		if err := decodeBytes(body, &e, ""); err != nil {
			return nil, err
		}
		return []baton.EventInput{e}, nil
	case '[':
		if events, ok := fastEvents(body); ok {
			return events, nil
		}
		return arrayEvents(body)
	}
	return nil, baton.Errorf(baton.EINVALID, "send an event object or an array of events")
}

// arrayEvents decodes an array of events with encoding/json, element by
// element, so that an error names the element's index.
func arrayEvents(body []byte) ([]baton.EventInput, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if _, err := dec.Token(); err != nil { // the '['
		return nil, jsonError(err, "", nil)
	}
	events := make([]baton.EventInput, 0, min(baton.MaxEventBatch, len(body)/64+1))
	for dec.More() {
		i := len(events)
		if i == baton.MaxEventBatch {
			return nil, baton.Errorf(baton.EINVALID, "too many events: at most %d in one request", baton.MaxEventBatch)
		}
		events = append(events, baton.EventInput{})
		if err := dec.Decode(&events[i]); err != nil {
			return nil, jsonError(err, "["+strconv.Itoa(i)+"]", &events[i])
		}
	}
	if _, err := dec.Token(); err != nil { // the ']'
		return nil, jsonError(err, "", nil)
	}
	off := dec.InputOffset()
	rest := body[off:]
	if t := bytes.TrimLeft(rest, " \t\r\n"); len(t) != 0 {
		return nil, baton.Errorf(baton.EINVALID, "malformed JSON at byte %d: only one JSON value is allowed", off+int64(len(rest)-len(t))+1)
	}
	return events, nil
}
