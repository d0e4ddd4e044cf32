package api

import (
	"net/http"

	"github.com/batonhq/baton"
)

// auditPage is the page size of a CSV export that names none.
const auditPage = 1000

// listAudit lists the audit log, newest first, for an admin (storage
// refuses anyone else), as JSON or, with ?format=csv, as CSV.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	f := baton.AuditFilter{Action: q.str("action"), ActorID: q.id("actor_id"), TargetKind: q.str("target_kind"),
		TargetID: q.id("target_id"), From: q.time("from"), To: q.time("to")}
	f.Offset, f.Limit = q.page()
	format, _ := q.get("format")
	if q.err != nil {
		return q.err
	}
	if format != "" && format != "json" && format != "csv" {
		return baton.FieldError("format", "want json or csv, not %q", format)
	}
	if s.svc.Audit == nil {
		return baton.Errorf(baton.ENOTFOUND, "the audit log is not served here")
	}
	if _, ok := q.get("limit"); format == "csv" && !ok {
		f.Limit = auditPage
	}
	entries, total, err := s.svc.Audit.FindAudit(r.Context(), f)
	if err != nil {
		return err
	}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="audit.csv"`)
		return baton.WriteAuditCSV(w, entries)
	}
	writeList(w, entries, total)
	return nil
}
