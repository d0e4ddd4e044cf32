// Package csvimport turns CSV files into Baton's domain values: leads,
// accounts, users and events. It only parses: it reads an io.Reader, never
// touches storage, and hands consecutive batches of good rows to a callback,
// which the CLI (baton import leads|accounts|users|events FILE.csv) passes on
// to storage.
//
// # Columns
//
// The header row names the columns. A header is matched, trimmed and without
// regard to case, first against Options.Map (see [ParseMap]), then against
// the field names of the kind of file and their aliases, so that the demo
// files import as they are:
//
//   - leads: email (E-mail, Email Address), external_id (Prospect ID), name
//     (or first_name and last_name, joined), title (Job Title), phone,
//     company (Company Name), country (Country/Region), source (Lead Source,
//     Original Source), campaign (Lead Origin), created_at (Created Date,
//     Create Date; see [ParseTime]), stage. Every other column is a custom
//     attribute named after its header; its type comes from
//     Options.AttrTypes, or else is inferred from the first [SampleRows] rows:
//     a number only if every value is a plain number (no leading zeros, no
//     exponent, no digit lost in a float64, so zip codes and long ids stay
//     text), a bool for yes/no/true/false, else a string. An email or an
//     external_id column is required. Empty cells and "Select" (an
//     unanswered drop-down) are missing values.
//   - leads from a CRM (a Salesforce lead export, a HubSpot contact
//     export): external_id also reads Lead ID and Record ID; lead_status
//     (Lead Status) and lifecycle_stage (Lifecycle Stage) give the stage by
//     the tables of crm.go ([LeadStatusStages], [LifecycleStages]; the
//     README shows them); owner (Lead Owner, Contact owner) names a user,
//     found by Options.Owner; industry, employees (No. of Employees, Number
//     of Employees), annual_revenue (Annual Revenue) and website (Website
//     URL) describe the lead's account, which [LeadRows] delivers with the
//     lead (Leads refuses such a file rather than drop them).
//   - accounts: name (account, company, account name), domain (website),
//     industry (sector), employees, annual_revenue (revenue),
//     annual_revenue_musd (millions of USD), country (office_location). The
//     CRM data set's accounts.csv reads revenue as millions of USD.
//   - users: name (sales_agent, full name), email, role (default sdr), team
//     (regional_office, office), territory (default: the team), manager. With
//     no email column the email is made from the name with
//     [baton.EmailFromName].
//   - events: id, lead_id, email, external_id, type, occurred_at, properties
//     (a JSON object); other columns are added to the properties as strings.
//
// Unknown columns of accounts and users files are listed in Stats.Ignored.
//
// # CRM stages
//
// Salesforce's Lead Status values (Open - Not Contacted: new, Working -
// Contacted: sal, Closed - Converted: opportunity, Closed - Not Converted:
// disqualified, and common custom ones) and HubSpot's Lifecycle Stage
// (subscriber, lead, other: new; marketingqualifiedlead: mql;
// salesqualifiedlead: sql; opportunity; customer, evangelist: won) with its
// Lead Status map to stages by [LeadStatusStages] and [LifecycleStages].
// With both, a status that leaves the funnel wins unless the contact is a
// customer; otherwise the further along of the two. A value in no table is
// a bad row. [SalesforceStatus] and [HubSpotStage] are the tables read
// backwards, for exports: each stage reads back to itself.
//
// # Dates
//
// [ParseTime] reads ISO 8601 (with or without a time and an offset) and
// slashed dates, month first unless Options.DateOrder is [DayFirst]; a
// time without an offset is in Options.Location (UTC if nil).
//
// # Errors
//
// A file that cannot be imported at all (empty, a missing required column, a
// header that appears twice, an Options.Map entry naming a column that is not
// there) is refused before the callback is ever called, with a *baton.Error
// of code EINVALID whose Field is the column at fault.
//
// A bad row (a cell of the wrong type, a bad email, a row with the wrong
// number of fields, a malformed quote, a key seen before in the same file, a
// lead that fails [baton.Lead.Validate]) is skipped and reported in
// Stats.Bad as a [baton.RowError] with the row's CSV line number, the header
// of the column at fault and what was expected; the good rows around it are
// delivered. The callback gets, next to each batch, the line number of each
// item, so that storage errors (which number rows by their index in the
// batch) can be reported by line.
//
// # Size
//
// Files are streamed: memory does not grow with the number of rows, except
// for the index of keys used to find duplicates (a 64-bit hash per key, about
// 36 bytes: some 70 MiB for a million leads with an email and an external id)
// and Stats.Bad, which keeps at most [MaxBad] errors. A million-row file
// reads in a few seconds.
// A UTF-8 byte order mark, CRLF line ends and quoted fields spanning lines
// are read as they are.
package csvimport
