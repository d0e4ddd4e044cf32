package api

import (
	"bytes"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
)

// maxPolicyBody is the limit of a request body that carries a policy
// document: the document may be policy.MaxSize bytes of YAML, and JSON
// escapes its newlines and quotes, so the envelope gets room for that. The
// document itself is then held to policy.MaxSize.
const maxPolicyBody = 4 * policy.MaxSize

// policyInput is the body that drafts, validates or backtests a policy.
type policyInput struct {
	// Body is the policy's YAML document.
	Body string `json:"body"`
}

// draftInput is the body that edits a draft.
type draftInput struct {
	// Body is the draft's new YAML document.
	Body string `json:"body"`
	// Base, when set, is the sha256 of the draft's text the edit started
	// from: the edit is refused (409) if the draft changed since.
	Base string `json:"base,omitempty"`
}

// publishInput is the body of a publish.
type publishInput struct {
	// ChangeNote says what this version changes and why: required, at most
	// 500 characters, and not the note of the version in force. It is kept
	// with the version, with who published it and when.
	ChangeNote string `json:"change_note"`
	// SHA256, when set, is the sha256 of the draft the caller reviewed: the
	// publish is refused (409) if the draft was edited since.
	SHA256 string `json:"sha256,omitempty"`
}

// validation is the answer of a valid document.
type validation struct {
	Valid bool `json:"valid"`
}

// trainInput is the optional body of model training.
type trainInput struct {
	Holdout *float64 `json:"holdout,omitempty"` // default 0.2
	Seed    *uint64  `json:"seed,omitempty"`    // default 1
	Force   bool     `json:"force,omitempty"`
}

// Problem is one problem of a policy document, in the "problems" of an
// error response.
type Problem struct {
	// Line is the 1-based line of the document at fault, 0 if unknown.
	Line int `json:"line"`
	// Field is the path of the value at fault, such as "fit[2].range"; ""
	// for the document as a whole.
	Field   string `json:"field"`
	Message string `json:"message"`
}

// problemsError is an error about a policy document with its problems
// listed apart; writeError puts them in the response.
type problemsError struct {
	err      error
	problems []Problem
}

func (e *problemsError) Error() string { return e.err.Error() }
func (e *problemsError) Unwrap() error { return e.err }

// withProblems attaches the problems of a policy validation error to it, so
// that the response lists them. Other errors are returned as they are.
func withProblems(err error) error {
	if err == nil || baton.ErrorCode(err) != baton.EINVALID {
		return err
	}
	if probs := policyProblems(err); len(probs) > 0 {
		return &problemsError{err: err, problems: probs}
	}
	return err
}

// policyProblems returns the problems of a policy validation error: from the
// *policy.ValidationError in its chain, or else parsed from the message
// storage builds from one ("policy: 2 problems:\n  line 3: fit[0].regex:
// ...", or "1 problem: line 3: ...").
func policyProblems(err error) []Problem {
	var ve *policy.ValidationError
	if errors.As(err, &ve) {
		out := make([]Problem, len(ve.Problems))
		for i, p := range ve.Problems {
			out[i] = Problem{Line: p.Line, Field: p.Field, Message: p.Message}
		}
		return out
	}
	return parseProblems(baton.ErrorMessage(err))
}

var (
	problemsHeadRE = regexp.MustCompile(`^(?:policy: )?(\d+) problems?:`)
	// problemFieldRE matches a field path such as engagement.rules[0].cap.per.
	problemFieldRE = regexp.MustCompile(`^[A-Za-z0-9_.\[\]"-]+$`)
)

// parseProblems parses the message of a policy validation error; nil if it
// is not one, or does not list as many problems as it says.
func parseProblems(msg string) []Problem {
	m := problemsHeadRE.FindStringSubmatch(msg)
	if m == nil {
		return nil
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n < 1 {
		return nil
	}
	rest := msg[len(m[0]):]
	var items []string
	if n == 1 {
		items = []string{strings.TrimSpace(rest)}
	} else {
		for _, line := range strings.Split(rest, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				items = append(items, line)
			}
		}
	}
	if len(items) != n {
		return nil
	}
	out := make([]Problem, n)
	for i, s := range items {
		var p Problem
		if after, ok := strings.CutPrefix(s, "line "); ok {
			if num, tail, ok := strings.Cut(after, ": "); ok {
				if l, err := strconv.Atoi(num); err == nil && l > 0 {
					p.Line, s = l, tail
				}
			}
		}
		if field, tail, ok := strings.Cut(s, ": "); ok && problemFieldRE.MatchString(field) {
			p.Field, s = field, tail
		}
		p.Message = s
		out[i] = p
	}
	return out
}

// decodePolicy reads a {"body": YAML} request: the body is required and at
// most policy.MaxSize bytes.
func decodePolicy(w http.ResponseWriter, r *http.Request) (string, error) {
	var in policyInput
	if err := decodeLimit(w, r, &in, maxPolicyBody); err != nil {
		return "", err
	}
	return checkPolicyBody(in.Body)
}

// checkPolicyBody holds a document to be there and at most policy.MaxSize
// bytes.
func checkPolicyBody(body string) (string, error) {
	if strings.TrimSpace(body) == "" {
		return "", baton.FieldError("body", "required: the policy's YAML document")
	}
	if len(body) > policy.MaxSize {
		return "", &statusError{status: http.StatusRequestEntityTooLarge,
			err: baton.FieldError("body", "the policy document is %d bytes, larger than the limit of %s", len(body), sizeString(policy.MaxSize))}
	}
	return body, nil
}

// requireScoringAdmin refuses callers other than marketing and admins. The
// storage checks roles itself for drafting, backtesting, publishing and
// activating; validation and training check here too, so that a rep gets
// 403 rather than an answer (validation) or a training run that storage
// refuses only at the end (training).
func requireScoringAdmin(r *http.Request, what string) error {
	u := currentUser(r)
	if u == nil || (u.Role != baton.RoleMarketing && u.Role != baton.RoleAdmin) {
		return baton.Errorf(baton.EFORBIDDEN, "only marketing or an admin may %s", what)
	}
	return nil
}

// pathInt returns the path parameter name as a positive integer.
func pathInt(r *http.Request, name string) (int64, error) {
	s := r.PathValue(name)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, baton.FieldError(name, "%q is not a positive integer", s)
	}
	return n, nil
}

// Policies.

func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request) error {
	docs, err := s.svc.Scoring.FindPolicies(r.Context())
	if err != nil {
		return err
	}
	writeList(w, docs, len(docs))
	return nil
}

func (s *Server) currentPolicy(w http.ResponseWriter, r *http.Request) error {
	d, err := s.svc.Scoring.CurrentPolicy(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	d, err := s.svc.Scoring.FindPolicy(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) createPolicy(w http.ResponseWriter, r *http.Request) error {
	body, err := decodePolicy(w, r)
	if err != nil {
		return err
	}
	d, err := s.svc.Scoring.SaveDraft(r.Context(), body)
	if err != nil {
		return withProblems(err)
	}
	writeJSON(w, http.StatusCreated, d)
	return nil
}

func (s *Server) validatePolicy(w http.ResponseWriter, r *http.Request) error {
	if err := requireScoringAdmin(r, "validate a policy"); err != nil {
		return err
	}
	body, err := decodePolicy(w, r)
	if err != nil {
		return err
	}
	if err := s.svc.Scoring.ValidatePolicy(r.Context(), body); err != nil {
		return withProblems(err)
	}
	writeJSON(w, http.StatusOK, validation{Valid: true})
	return nil
}

func (s *Server) backtestPolicy(w http.ResponseWriter, r *http.Request) error {
	body, err := decodePolicy(w, r)
	if err != nil {
		return err
	}
	bt, err := s.svc.Scoring.Backtest(r.Context(), body)
	if err != nil {
		return withProblems(err)
	}
	if bt.Sources == nil {
		bt.Sources = []baton.BacktestRow{}
	}
	if bt.Changes == nil {
		bt.Changes = []baton.BacktestLead{}
	}
	writeJSON(w, http.StatusOK, bt)
	return nil
}

func (s *Server) updatePolicy(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in draftInput
	if err := decodeLimit(w, r, &in, maxPolicyBody); err != nil {
		return err
	}
	body, err := checkPolicyBody(in.Body)
	if err != nil {
		return err
	}
	d, err := s.svc.Scoring.UpdateDraft(r.Context(), id, body, in.Base)
	if err != nil {
		return withProblems(err)
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) diffPolicy(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	d, err := s.svc.Scoring.DiffPolicy(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) publishPolicy(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	// The note is required: an empty body is a publish without one, which
	// storage refuses naming change_note.
	var in publishInput
	body, err := readBody(w, r, maxBody)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := decodeBytes(body, &in, ""); err != nil {
			return err
		}
	}
	d, err := s.svc.Scoring.PublishPolicy(r.Context(), baton.PolicyPublish{ID: id, ChangeNote: in.ChangeNote, SHA256: in.SHA256})
	if err != nil {
		// Publishing validates again: attributes may have changed since.
		return withProblems(err)
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// Scores.

func (s *Server) leadScore(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ex, err := s.svc.Scoring.ExplainScore(r.Context(), id)
	if err != nil {
		return err
	}
	p, err := s.hiding(r.Context())
	if err != nil {
		return err
	}
	visibleExplanation(p, ex)
	if ex.Reasons == nil {
		ex.Reasons = []baton.ScoreReason{}
	}
	writeJSON(w, http.StatusOK, ex)
	return nil
}

func (s *Server) scoringStatus(w http.ResponseWriter, r *http.Request) error {
	st, err := s.svc.Scoring.RescoreStatus(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// Models.

func (s *Server) listModels(w http.ResponseWriter, r *http.Request) error {
	models, err := s.svc.Scoring.FindModels(r.Context())
	if err != nil {
		return err
	}
	writeList(w, models, len(models))
	return nil
}

func (s *Server) trainModel(w http.ResponseWriter, r *http.Request) error {
	if err := requireScoringAdmin(r, "train a model"); err != nil {
		return err
	}
	var in trainInput
	if r.ContentLength != 0 {
		body, err := readBody(w, r, maxBody)
		if err != nil {
			return err
		}
		if len(body) > 0 {
			if err := decodeBytes(body, &in, ""); err != nil {
				return err
			}
		}
	}
	holdout, seed := 0.2, uint64(1)
	if in.Holdout != nil {
		holdout = *in.Holdout
	}
	if in.Seed != nil {
		seed = *in.Seed
	}
	rep, err := s.svc.Scoring.TrainModel(r.Context(), holdout, seed, in.Force)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (s *Server) activateModel(w http.ResponseWriter, r *http.Request) error {
	v, err := pathInt(r, "version")
	if err != nil {
		return err
	}
	if v > int64(^uint32(0)>>1) {
		return baton.Errorf(baton.ENOTFOUND, "no model v%d", v)
	}
	if err := s.svc.Scoring.ActivateModel(r.Context(), int(v)); err != nil {
		return err
	}
	models, err := s.svc.Scoring.FindModels(r.Context())
	if err != nil {
		return err
	}
	for _, m := range models {
		if m.Version == int(v) {
			writeJSON(w, http.StatusOK, m)
			return nil
		}
	}
	return baton.Errorf(baton.ENOTFOUND, "no model v%d", v)
}
