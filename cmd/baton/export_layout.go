package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/csvimport"
	"github.com/batonhq/baton/store"
)

// Export layouts: `baton export leads --layout salesforce|hubspot` writes a
// file that Salesforce's Data Import Wizard (Leads) or HubSpot's contact
// import reads as it is: their column names, the owner by email, the
// stage as their Lead Status or Lifecycle Stage (csvimport's tables, read
// backwards), the account's firmographics beside each lead, times in ISO
// 8601 UTC and numbers in plain decimals. `baton import leads` reads both
// files back to the same leads and accounts.

// crmLayout is the columns of one CRM's file, from a lead and its account.
type crmLayout struct {
	header []string
	row    func(l *baton.Lead, a *baton.Account, owner string) []string
}

// splitName cuts a name before its last word: the last name, which both
// CRMs require, is never empty when the name is not. Joined again with a
// space, as the import does, the two give the name back.
func splitName(n string) (first, last string) {
	n = strings.TrimSpace(n)
	if i := strings.LastIndexByte(n, ' '); i >= 0 {
		return strings.TrimSpace(n[:i]), n[i+1:]
	}
	return "", n
}

func accountCells(a *baton.Account) (industry, employees, revenue, website string) {
	if a == nil {
		return
	}
	if a.Employees != nil {
		employees = strconv.FormatInt(*a.Employees, 10)
	}
	if a.AnnualRevenue != nil {
		revenue = csvimport.FormatNumber(*a.AnnualRevenue)
	}
	return a.Industry, employees, revenue, a.Domain
}

var crmLayouts = map[string]crmLayout{
	"salesforce": {
		header: []string{"Lead ID", "First Name", "Last Name", "Title", "Company", "Email", "Phone", "Lead Source", "Lead Status",
			"Industry", "No. of Employees", "Annual Revenue", "Website", "Country", "Created Date", "Lead Owner", "Campaign"},
		row: func(l *baton.Lead, a *baton.Account, owner string) []string {
			first, last := splitName(l.Name)
			ind, emp, rev, web := accountCells(a)
			return []string{l.ExternalID, first, last, l.Title, l.Company, l.Email, l.Phone, l.Source, csvimport.SalesforceStatus(l.Stage),
				ind, emp, rev, web, l.Country, l.CreatedAt.UTC().Format(time.RFC3339), owner, l.Campaign}
		},
	},
	"hubspot": {
		header: []string{"Record ID", "First Name", "Last Name", "Email", "Phone Number", "Job Title", "Company Name", "Website URL",
			"Industry", "Number of Employees", "Annual Revenue", "Country/Region", "Lifecycle Stage", "Lead Status",
			"Original Source", "Campaign", "Create Date", "Contact owner"},
		row: func(l *baton.Lead, a *baton.Account, owner string) []string {
			first, last := splitName(l.Name)
			ind, emp, rev, web := accountCells(a)
			lc, st := csvimport.HubSpotStage(l.Stage)
			return []string{l.ExternalID, first, last, l.Email, l.Phone, l.Title, l.Company, web, ind, emp, rev, l.Country, lc, st,
				l.Source, l.Campaign, l.CreatedAt.UTC().Format(time.RFC3339), owner}
		},
	},
}

// exportCRMLeads writes leads in a CRM's layout, then one column per
// custom attribute. It pages by id, as exportLeads does.
func exportCRMLeads(ctx context.Context, db *store.DB, layout string, f baton.LeadFilter, w io.Writer) error {
	lay, ok := crmLayouts[layout]
	if !ok {
		return fmt.Errorf("export: unknown layout %q (want baton, salesforce or hubspot)", layout)
	}
	defs, err := db.AttributeDefs(ctx)
	if err != nil {
		return err
	}
	owners := map[int64]string{}
	for offset := 0; ; offset += 1000 {
		users, _, err := db.FindUsers(ctx, baton.UserFilter{Offset: offset, Limit: 1000})
		if err != nil {
			return err
		}
		for _, u := range users {
			owners[u.ID] = u.Email
		}
		if len(users) < 1000 {
			break
		}
	}
	accounts := map[int64]*baton.Account{}
	for offset := 0; ; offset += 1000 {
		as, _, err := db.FindAccounts(ctx, baton.AccountFilter{Offset: offset, Limit: 1000})
		if err != nil {
			return err
		}
		for _, a := range as {
			accounts[a.ID] = a
		}
		if len(as) < 1000 {
			break
		}
	}
	cw := baton.NewCSVWriter(w)
	header := append([]string(nil), lay.header...)
	for _, d := range defs {
		header = append(header, d.Name)
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	return db.EachLead(ctx, f, func(l *baton.Lead) error {
		var a *baton.Account
		if l.AccountID != nil {
			a = accounts[*l.AccountID]
		}
		owner := ""
		if l.OwnerID != nil {
			owner = owners[*l.OwnerID]
		}
		rec := append(lay.row(l, a, owner), attrCells(defs, l.Attrs)...)
		if err := cw.Write(rec); err != nil {
			return err
		}
		cw.Flush()
		return cw.Error()
	})
}

// attrCells are a lead's custom attributes in the order of defs; numbers
// in plain decimals ("58000000", never "5.8e+07").
func attrCells(defs []baton.AttributeDef, attrs baton.Attrs) []string {
	rec := make([]string, 0, len(defs))
	for _, d := range defs {
		v, ok := attrs[d.Name]
		switch {
		case !ok:
			rec = append(rec, "")
		case d.Type == baton.AttrNumber:
			rec = append(rec, csvimport.FormatNumber(v.(float64)))
		default:
			rec = append(rec, fmt.Sprint(v))
		}
	}
	return rec
}
