package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/batonhq/baton"
)

// report runs one report: JSON in its charting-ready shape (labels and
// series, plus the table), or CSV with ?format=csv.
func (s *Server) report(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var f baton.ReportFilter
	var err error
	for _, d := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(d.name); v != "" {
			if *d.dst, err = time.Parse("2006-01-02", v); err != nil {
				return baton.FieldError(d.name, "want a date YYYY-MM-DD, not %q", v)
			}
		}
	}
	f.By = q.Get("by")
	if v := q.Get("cohort"); v != "" {
		if f.Cohort, err = strconv.ParseBool(v); err != nil {
			return baton.FieldError("cohort", "want true or false, not %q", v)
		}
	}
	for _, n := range []struct {
		name string
		dst  *int
	}{{"limit", &f.Limit}, {"days", &f.Days}, {"active_days", &f.ActiveDays}} {
		if v := q.Get(n.name); v != "" {
			if *n.dst, err = strconv.Atoi(v); err != nil || *n.dst < 0 {
				return baton.FieldError(n.name, "want a whole number, not %q", v)
			}
		}
	}
	if v := q.Get("manager"); v != "" {
		if f.Manager, err = strconv.ParseInt(v, 10, 64); err != nil || f.Manager <= 0 {
			return baton.FieldError("manager", "want a user id, not %q", v)
		}
	}
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		return baton.FieldError("format", "want json or csv, not %q", format)
	}
	rep, err := s.svc.Reports.RunReport(r.Context(), r.PathValue("name"), f)
	if err != nil {
		return err
	}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+rep.Name+`.csv"`)
		return rep.WriteCSV(w)
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}
