package csvimport

import (
	"fmt"
	"slices"
	"strings"

	"github.com/batonhq/baton"
)

// CRM files: the stage tables. A Salesforce lead export says where a lead
// is with its Lead Status; a HubSpot contact export with its Lifecycle
// Stage and, beside it, its Lead Status. The tables below (the README shows
// them) turn these into Baton's stages; values are matched without regard
// to case, spaces, dashes, dots and underscores, so HubSpot's labels
// ("Marketing Qualified Lead") and internal values
// ("marketingqualifiedlead", "IN_PROGRESS") both read. A value in no table
// is a bad row naming the column: the file's own statuses are mapped to
// Baton's by hand, or the column to an attribute ("Lead
// Status=attributes.crm_status").

// LeadStatusStages maps a Lead Status (Salesforce's standard four, the
// common custom ones, HubSpot's defaults, and the values Baton's exports
// write) to a stage. "" means the status says nothing of the stage.
var LeadStatusStages = map[string]baton.Stage{
	// Salesforce's standard picklist.
	"Open - Not Contacted":   baton.StageNew,
	"Working - Contacted":    baton.StageSAL,
	"Closed - Converted":     baton.StageOpportunity,
	"Closed - Not Converted": baton.StageDisqualified,
	// Common custom values, and those Baton writes for its other stages.
	"New":                 baton.StageNew,
	"Open":                baton.StageNew,
	"Not Contacted":       baton.StageNew,
	"Marketing Qualified": baton.StageMQL,
	"MQL":                 baton.StageMQL,
	"Working":             baton.StageSAL,
	"Contacted":           baton.StageSAL,
	"Sales Accepted":      baton.StageSAL,
	"SAL":                 baton.StageSAL,
	"Qualified":           baton.StageSQL,
	"Sales Qualified":     baton.StageSQL,
	"SQL":                 baton.StageSQL,
	"Converted":           baton.StageOpportunity,
	"Closed - Won":        baton.StageWon,
	"Closed - Lost":       baton.StageLost,
	"Nurturing":           baton.StageRecycled,
	"Nurture":             baton.StageRecycled,
	"Recycled":            baton.StageRecycled,
	"Unqualified":         baton.StageDisqualified,
	"Disqualified":        baton.StageDisqualified,
	"Junk":                baton.StageDisqualified,
	// HubSpot's default Lead Status options (New and Open are above).
	"In Progress":          baton.StageSAL,
	"Attempted to Contact": baton.StageSAL,
	"Connected":            baton.StageSAL,
	"Open Deal":            baton.StageOpportunity,
	"Bad Timing":           baton.StageRecycled,
}

// LifecycleStages maps a HubSpot Lifecycle Stage to a stage.
var LifecycleStages = map[string]baton.Stage{
	"Subscriber":               baton.StageNew,
	"Lead":                     baton.StageNew,
	"Other":                    baton.StageNew,
	"Marketing Qualified Lead": baton.StageMQL,
	"Sales Qualified Lead":     baton.StageSQL,
	"Opportunity":              baton.StageOpportunity,
	"Customer":                 baton.StageWon,
	"Evangelist":               baton.StageWon,
}

// squash is the key a CRM value is matched by.
func squash(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '_', '.', '\t':
			return -1
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

func squashed(m map[string]baton.Stage) map[string]baton.Stage {
	out := make(map[string]baton.Stage, len(m))
	for k, v := range m {
		out[squash(k)] = v
	}
	return out
}

var (
	leadStatusBy = squashed(LeadStatusStages)
	lifecycleBy  = squashed(LifecycleStages)
)

// funnel ranks the stages of the way forward.
var funnel = []baton.Stage{baton.StageNew, baton.StageMQL, baton.StageSAL, baton.StageSQL, baton.StageOpportunity, baton.StageWon}

// exit reports whether a stage leaves the way forward.
func exit(s baton.Stage) bool {
	return s == baton.StageLost || s == baton.StageRecycled || s == baton.StageDisqualified
}

// crmStage combines a Lifecycle Stage and a Lead Status (either may be
// empty) into a stage: a status that leaves the funnel (lost, recycled,
// disqualified) wins unless the contact is a customer; otherwise the
// further along the funnel of the two. It returns which of the two was
// not understood.
func crmStage(lifecycle, status string) (baton.Stage, string, error) {
	var lc, st baton.Stage
	if lifecycle != "" {
		var ok bool
		if lc, ok = lifecycleBy[squash(lifecycle)]; !ok {
			return "", "lifecycle_stage", fmt.Errorf("unknown lifecycle stage %s (want one of %s)", quote(lifecycle), names(LifecycleStages))
		}
	}
	if status != "" {
		var ok bool
		if st, ok = leadStatusBy[squash(status)]; !ok {
			return "", "lead_status", fmt.Errorf("unknown lead status %s (want one of %s; or map the column to an attribute)", quote(status), names(LeadStatusStages))
		}
	}
	switch {
	case st == "":
		return lc, "", nil
	case lc == "":
		return st, "", nil
	case exit(st) && lc != baton.StageWon:
		return st, "", nil
	case exit(st):
		return lc, "", nil
	}
	if slices.Index(funnel, st) > slices.Index(funnel, lc) {
		return st, "", nil
	}
	return lc, "", nil
}

func names(m map[string]baton.Stage) string {
	var ns []string
	for k := range m {
		ns = append(ns, k)
	}
	slices.Sort(ns)
	return strings.Join(ns, ", ")
}

// SalesforceStatus is the Lead Status a Salesforce layout export writes
// for a stage: the standard four where they fit, and values of
// LeadStatusStages for Baton's other stages, so that the file reads back
// to the same stages.
func SalesforceStatus(s baton.Stage) string {
	return map[baton.Stage]string{
		baton.StageNew:          "Open - Not Contacted",
		baton.StageMQL:          "Marketing Qualified",
		baton.StageSAL:          "Working - Contacted",
		baton.StageSQL:          "Qualified",
		baton.StageOpportunity:  "Closed - Converted",
		baton.StageWon:          "Closed - Won",
		baton.StageLost:         "Closed - Lost",
		baton.StageRecycled:     "Nurturing",
		baton.StageDisqualified: "Closed - Not Converted",
	}[s]
}

// HubSpotStage is the Lifecycle Stage and Lead Status (HubSpot's internal
// values, which its import reads) a HubSpot layout export writes for a
// stage; the pair reads back to the same stage.
func HubSpotStage(s baton.Stage) (lifecycle, status string) {
	switch s {
	case baton.StageMQL:
		return "marketingqualifiedlead", ""
	case baton.StageSAL:
		return "marketingqualifiedlead", "IN_PROGRESS"
	case baton.StageSQL:
		return "salesqualifiedlead", ""
	case baton.StageOpportunity:
		return "opportunity", ""
	case baton.StageWon:
		return "customer", ""
	case baton.StageLost:
		return "opportunity", "CLOSED_LOST"
	case baton.StageRecycled:
		return "lead", "BAD_TIMING"
	case baton.StageDisqualified:
		return "other", "UNQUALIFIED"
	}
	return "lead", ""
}

// StageTablesMarkdown is the stage tables as the README shows them: Lead
// Status, then Lifecycle Stage, each value beside its stage, by stage in
// funnel order.
func StageTablesMarkdown() string {
	var b strings.Builder
	table := func(title string, m map[string]baton.Stage) {
		b.WriteString("| " + title + " | Baton stage |\n|---|---|\n")
		for _, s := range baton.Stages {
			var vs []string
			for k, v := range m {
				if v == s {
					vs = append(vs, k)
				}
			}
			if len(vs) == 0 {
				continue
			}
			slices.Sort(vs)
			b.WriteString("| " + strings.Join(vs, ", ") + " | " + string(s) + " |\n")
		}
	}
	table("Lead Status (Salesforce, HubSpot)", LeadStatusStages)
	b.WriteString("\n")
	table("Lifecycle Stage (HubSpot)", LifecycleStages)
	b.WriteString("\n| Baton stage | Salesforce Lead Status written | HubSpot Lifecycle Stage / Lead Status written |\n|---|---|---|\n")
	for _, s := range baton.Stages {
		lc, st := HubSpotStage(s)
		if st != "" {
			lc += " / " + st
		}
		b.WriteString("| " + string(s) + " | " + SalesforceStatus(s) + " | " + lc + " |\n")
	}
	return b.String()
}
