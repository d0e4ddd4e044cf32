package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/batonhq/baton"
)

// auditPer is the page size of the audit log page, and of its CSV export.
const auditPer = 100

type auditPageData struct {
	Entries []*baton.AuditEntry
	Pager   pager
	// Action and Kind, ID are the filters shown in the form.
	Action, Kind, ID string
	Actions          []string
	// CSV is the link that exports the filtered entries.
	CSV string
}

// adminAudit shows the audit log to an admin, newest first, filtered by
// action (a prefix) and target; ?format=csv exports the page as CSV.
func (s *Server) adminAudit(w http.ResponseWriter, r *http.Request, c *session) error {
	if s.svc.Audit == nil {
		return baton.Errorf(baton.ENOTFOUND, "the audit log is not served here")
	}
	q := r.URL.Query()
	d := auditPageData{Action: strings.TrimSpace(q.Get("action")), Kind: strings.TrimSpace(q.Get("target_kind")),
		ID: strings.TrimSpace(q.Get("target_id")), Actions: baton.AuditActions}
	page := pageNum(r)
	f := baton.AuditFilter{Offset: (page - 1) * auditPer, Limit: auditPer}
	if d.Action != "" {
		f.Action = &d.Action
	}
	if d.Kind != "" {
		f.TargetKind = &d.Kind
	}
	if d.ID != "" {
		id, err := strconv.ParseInt(d.ID, 10, 64)
		if err != nil || id < 0 {
			return baton.FieldError("target_id", "%q is not an id (a whole number)", d.ID)
		}
		f.TargetID = &id
	}
	entries, total, err := s.svc.Audit.FindAudit(r.Context(), f)
	if err != nil {
		return err
	}
	if q.Get("format") == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="audit.csv"`)
		return baton.WriteAuditCSV(w, entries)
	}
	d.Entries, d.Pager = entries, newPager(r, page, auditPer, total)
	csv := url.Values{"format": {"csv"}, "page": {strconv.Itoa(page)}}
	for k, v := range map[string]string{"action": d.Action, "target_kind": d.Kind, "target_id": d.ID} {
		if v != "" {
			csv.Set(k, v)
		}
	}
	d.CSV = "/admin/audit?" + csv.Encode()
	s.render(w, r, c, http.StatusOK, "audit", "Audit log", d)
	return nil
}
