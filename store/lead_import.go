package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/policy"
)

// Importing leads: ImportLeads stores a batch (a file's, from `baton import
// leads`; a day's, from the demo) with the effect UpsertLead would have on
// each lead in turn, but the new leads go in bulk. A batch is looked up a
// chunk of keys per query; the new leads that no other row of the batch
// names are then checked, linked to their accounts, scored and written
// together: the leads, their "created" history entries and their rows of
// report_leads with a few statements (COPY on PostgreSQL), the report
// counters added up for the whole transaction, and only the leads the policy
// promotes go through the lifecycle one by one. Every other row (an existing
// lead, a key that two rows share) is stored as UpsertLead stores it, in the
// batch's order.

// ImportLeads upserts a batch of leads in one transaction; bad rows are
// reported (Row is their index in leads) and skipped, the good ones land.
// The import is audited ("lead.import", with its counts).
func (db *DB) ImportLeads(ctx context.Context, leads []*baton.Lead) (baton.ImportResult, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return baton.ImportResult{}, err
	}
	defer tx.Rollback()
	if !tx.actor.CanEditLeads() {
		return baton.ImportResult{}, baton.Errorf(baton.EFORBIDDEN, "a %s may not import leads", tx.actor.Role)
	}
	defs, err := tx.attrDefs(ctx)
	if err != nil {
		return baton.ImportResult{}, err
	}
	res, err := tx.importLeads(ctx, leads, defs)
	if err != nil {
		return baton.ImportResult{}, fmt.Errorf("import leads: %w", err)
	}
	if len(leads) > 0 {
		if err := tx.audit(ctx, "lead.import", "import", 0, nil,
			map[string]any{"created": res.Created, "updated": res.Updated, "rejected": res.Rejected}); err != nil {
			return baton.ImportResult{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return baton.ImportResult{}, fmt.Errorf("import leads: %w", err)
	}
	return res, nil
}

// importRow is one lead of a batch on its way in.
type importRow struct {
	lead *baton.Lead
	// stage and owner are what the input said, before Validate filled in
	// the stage of a new lead: an upsert refuses to change either.
	stage baton.Stage
	owner *int64
	// existing is the stored lead with the row's email, else with its
	// external id.
	existing *baton.Lead
	// alone says that no other row of the batch has the row's email or
	// external id, or its existing lead: what it does to the database no
	// other row of the batch reads.
	alone bool
}

// rowError reports whether an error of a row's lead rejects the row (bad
// or conflicting data) rather than the whole batch.
func rowError(err error) bool {
	code := baton.ErrorCode(err)
	return code == baton.EINVALID || code == baton.ECONFLICT
}

// importLeads stores a batch of leads in the transaction.
func (tx *Tx) importLeads(ctx context.Context, leads []*baton.Lead, defs map[string]baton.AttrType) (baton.ImportResult, error) {
	var res baton.ImportResult
	reject := func(i int, err error) {
		res.Rejected++
		res.Errors = append(res.Errors, baton.RowError{Row: i, Column: baton.ErrorField(err), Message: baton.ErrorMessage(err)})
	}
	rows := make([]importRow, len(leads))
	valid := make([]int, 0, len(leads))
	for i, l := range leads {
		rows[i] = importRow{lead: l, stage: l.Stage, owner: l.OwnerID}
		if err := l.Validate(); err != nil {
			reject(i, err)
			continue
		}
		valid = append(valid, i)
	}
	if err := tx.findImported(ctx, rows, valid); err != nil {
		return res, err
	}
	sc, err := tx.scorer(ctx)
	if err != nil {
		return res, err
	}
	var group []int
	flush := func() error {
		if len(group) == 0 {
			return nil
		}
		n, err := tx.createLeads(ctx, sc, rows, group, defs, reject)
		res.Created += n
		group = group[:0]
		return err
	}
	for _, i := range valid {
		r := &rows[i]
		if r.alone && r.existing == nil {
			group = append(group, i)
			continue
		}
		// In the batch's order: the new leads before this row first.
		if err := flush(); err != nil {
			return res, err
		}
		var created bool
		var err error
		if r.alone {
			err = tx.updateFrom(ctx, r.lead, r.existing, r.stage, r.owner, defs)
		} else {
			// Another row may have created or changed its lead: looked up
			// again, as a lead of its own.
			r.lead.Stage = r.stage
			created, err = tx.upsertLead(ctx, r.lead, defs)
		}
		switch {
		case err == nil && created:
			res.Created++
		case err == nil:
			res.Updated++
		case rowError(err):
			reject(i, err)
		default:
			return res, fmt.Errorf("row %d: %w", i, err)
		}
	}
	if err := flush(); err != nil {
		return res, err
	}
	slices.SortStableFunc(res.Errors, func(a, b baton.RowError) int { return cmp.Compare(a.Row, b.Row) })
	return res, nil
}

// findImported finds the stored leads the valid rows name, by email and
// else by external id as upsertLead does, a chunk of keys per query, and
// marks the rows that are alone.
func (tx *Tx) findImported(ctx context.Context, rows []importRow, valid []int) error {
	emails := make(map[string]int, len(valid))
	exts := map[string]int{}
	for _, i := range valid {
		l := rows[i].lead
		if l.Email != "" {
			emails[l.Email]++
		}
		if l.ExternalID != "" {
			exts[l.ExternalID]++
		}
	}
	byEmail, err := tx.leadsByKey(ctx, "email", emails)
	if err != nil {
		return err
	}
	byExt, err := tx.leadsByKey(ctx, "external_id", exts)
	if err != nil {
		return err
	}
	named := map[int64]int{}
	for _, i := range valid {
		r := &rows[i]
		if r.lead.Email != "" {
			r.existing = byEmail[r.lead.Email]
		}
		if r.existing == nil && r.lead.ExternalID != "" {
			r.existing = byExt[r.lead.ExternalID]
		}
		if r.existing != nil {
			named[r.existing.ID]++
		}
	}
	for _, i := range valid {
		r := &rows[i]
		l := r.lead
		r.alone = (l.Email == "" || emails[l.Email] == 1) && (l.ExternalID == "" || exts[l.ExternalID] == 1) &&
			(r.existing == nil || named[r.existing.ID] == 1)
	}
	return nil
}

// leadsByKey returns the stored leads whose column col (email or
// external_id) is one of the keys, a chunk of keys per query (see keyLists).
func (tx *Tx) leadsByKey(ctx context.Context, col string, keys map[string]int) (map[string]*baton.Lead, error) {
	out := map[string]*baton.Lead{}
	err := tx.db.keyLists(col, keys, func(cond string, args []any) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+leadColumns+` FROM leads WHERE `+cond, args...)
		if err != nil {
			return fmt.Errorf("find leads by %s: %w", col, err)
		}
		defer rows.Close()
		for rows.Next() {
			l, err := scanLead(rows)
			if err != nil {
				return fmt.Errorf("find leads by %s: %w", col, err)
			}
			if col == "email" {
				out[l.Email] = l
			} else {
				out[l.ExternalID] = l
			}
		}
		return rows.Err()
	})
	return out, err
}

// newLead is a lead of a bulk creation with what is written with it.
type newLead struct {
	row   int
	lead  *baton.Lead
	score baton.LeadScore
	ps    policy.Score
	state *scoreState
	rules string
}

// leadInsertColumns are the columns a bulk creation writes: createLead's,
// with the scores storeScores would then write (score_seq 1: written once).
var leadInsertColumns = []string{"id", "email", "external_id", "name", "title", "phone", "company", "country", "source", "campaign",
	"account_id", "owner_id", "stage", "attrs", "created_at", "updated_at", "stage_changed_at", "version",
	"fit", "engagement", "fit_grade", "engagement_grade", "policy_version", "probability", "model_version", "scored_at",
	"score_state", "fit_rules", "score_seq"}

// aggColumnList is aggColumns as a list.
var aggColumnList = strings.Split(strings.Join(strings.Fields(aggColumns), ""), ",")

var historyInsertColumns = []string{"lead_id", "at", "actor_id", "actor_name", "action", "field", "from_value", "to_value", "reason", "note"}

// createLeads creates the new leads of the rows in group, which no other row
// of the batch names, as createLead would one by one (the same checks,
// account link, scores, history entry and report counts), with a few
// statements for all. Rows it refuses go to reject; it returns how many
// leads it created.
func (tx *Tx) createLeads(ctx context.Context, sc *scorer, rows []importRow, group []int, defs map[string]baton.AttrType, reject func(int, error)) (int, error) {
	// createLead's checks, in the batch's order: a new attribute's type is
	// the first value's.
	keep := make([]int, 0, len(group))
	for _, i := range group {
		l := rows[i].lead
		err := tx.checkNew(l)
		if err == nil {
			err = tx.checkAttrs(ctx, defs, l.Attrs)
		}
		if err == nil {
			keep = append(keep, i)
		} else if rowError(err) {
			reject(i, err)
		} else {
			return 0, fmt.Errorf("row %d: %w", i, err)
		}
	}
	accounts, err := tx.linkImported(ctx, rows, &keep, reject)
	if err != nil {
		return 0, err
	}
	// A file names a few owners many times: each is looked up once.
	owners := map[int64]bool{}
	n := 0
	for _, i := range keep {
		l := rows[i].lead
		if l.OwnerID != nil {
			found, seen := owners[*l.OwnerID]
			if !seen {
				_, err := tx.findUserByID(ctx, *l.OwnerID)
				found = err == nil
				owners[*l.OwnerID] = found
			}
			if !found {
				reject(i, baton.FieldError("owner_id", "no user %d", *l.OwnerID))
				continue
			}
		}
		keep[n] = i
		n++
	}
	keep = keep[:n]
	if len(keep) == 0 {
		return 0, nil
	}
	// What the rows were, for the row-by-row way if another transaction
	// takes one of their keys first (PostgreSQL).
	var before []baton.Lead
	if tx.db.sideBySide() {
		before = make([]baton.Lead, len(keep))
		for k, i := range keep {
			before[k] = *rows[i].lead
		}
	}
	ids, err := tx.newLeadIDs(ctx, len(keep))
	if err != nil {
		return 0, err
	}
	// The rows are built (scores, history entries, report rows: work of
	// the CPU alone) on a goroutine of their own, a chunk at a time, while
	// this one writes the chunk before: the database's work is most of an
	// import's, and a second core can do the rest beside it.
	news := make([]newLead, len(keep))
	d := newAggDelta()
	chunks := make(chan newRows, 1)
	go tx.buildNewLeads(sc, rows, keep, ids, accounts, news, d, chunks)
	if err := tx.writeNewLeads(ctx, chunks, d); err != nil {
		if before == nil || !isUniqueViolation(err) {
			return 0, err
		}
		// Another transaction took one of the keys since they were looked
		// up: back to how the rows were, and each row on its own.
		for k, i := range keep {
			*rows[i].lead = before[k]
		}
		return tx.upsertEach(ctx, rows, keep, defs, reject)
	}
	tx.delta().add(d)
	created := len(keep)
	for k := range news {
		nl := &news[k]
		// As createLead: lead.created before the promotion's lead.mql.
		if err := tx.emit(ctx, "lead.created", nl.lead, map[string]any{"via": tx.via()}); err != nil {
			return 0, err
		}
		nl.lead.Score = nl.score
		if err := tx.promote(ctx, nl.lead, nl.ps); err != nil {
			if !rowError(err) {
				return 0, fmt.Errorf("row %d: %w", nl.row, err)
			}
			// As createLead: the lead stays, its row is reported.
			reject(nl.row, err)
			created--
		}
	}
	return created, nil
}

// newRows are the rows of a chunk of new leads, built by buildNewLeads.
type newRows struct {
	leads, history, reports [][]any
}

// buildChunk is how many new leads buildNewLeads builds the rows of at a
// time: whole INSERTs of insertChunk rows, and enough that handing a chunk
// over costs nothing beside building it.
const buildChunk = 8 * insertChunk

// buildNewLeads fills in the leads of the rows in keep as createLead would
// (times, ids ids, scores from sc and their accounts) and news, and sends
// the rows to write for them on out, a chunk at a time, counting their
// report counters into d; it closes out when done. It reads nothing from
// the database (a new lead's scoring state is fresh: scoreNew), so that it
// runs beside the transaction's writes.
func (tx *Tx) buildNewLeads(sc *scorer, rows []importRow, keep []int, ids []int64, accounts map[int64]*baton.Account, news []newLead, d *aggDelta, out chan<- newRows) {
	defer close(out)
	actorID, actorName := tx.historyActor()
	for start := 0; start < len(keep); start += buildChunk {
		n := min(buildChunk, len(keep)-start)
		c := newRows{leads: make([][]any, n), history: make([][]any, n), reports: make([][]any, n)}
		for j := range n {
			k := start + j
			i := keep[k]
			l := rows[i].lead
			tx.stampNew(l)
			l.ID = ids[k]
			var acc *baton.Account
			if l.AccountID != nil {
				acc = accounts[*l.AccountID]
			}
			nl := &news[k]
			nl.row, nl.lead = i, l
			nl.state, nl.score, nl.ps = sc.scoreNew(l, acc, tx.now)
			nl.rules = sc.fitRules(nl.ps)
			s := &nl.score
			var prob any
			if s.Probability != nil {
				prob = *s.Probability
			}
			c.leads[j] = []any{l.ID, nullString(l.Email), nullString(l.ExternalID), l.Name, l.Title, l.Phone, l.Company, l.Country, l.Source, l.Campaign,
				nullInt(l.AccountID), nullInt(l.OwnerID), string(l.Stage), attrsJSON(l.Attrs), micros(l.CreatedAt), micros(l.UpdatedAt), micros(l.StageChangedAt), int64(1),
				s.Fit, s.Engagement, s.FitGrade, s.EngagementGrade, int64(s.PolicyVersion), prob, int64(s.ModelVersion), micros(s.ScoredAt),
				nl.state.encode(), nl.rules, int64(1)}
			h := tx.createdEntry(l)
			c.history[j] = []any{h.LeadID, micros(h.At), actorID, actorName, h.Action, h.Field, h.From, h.To, h.Reason, h.Note}
			// The report row as afterHistory starts it from the created
			// entry, with the fit rules the scores then give it
			// (setFitRules).
			industry, size := "", baton.SizeBand(nil)
			if acc != nil {
				industry, size = acc.Industry, baton.SizeBand(acc.Employees)
			}
			var a leadAgg
			a.start(&h, [nDims]string{l.Source, l.Campaign, industry, size, l.Country, fmtID(l.OwnerID)}, d)
			a.setRules(nl.rules, d)
			c.reports[j] = a.appendRow(make([]any, 0, nAggColumns))
		}
		out <- c
	}
}

// writeNewLeads writes the rows of new leads that come on chunks, until it
// is closed, and then their rows of report_steps, which it takes out of d.
// On PostgreSQL it does so under a savepoint: if another transaction took
// a key first, it rolls back to it, leaving the transaction usable. It
// always reads chunks to its end, so that its sender is done when it
// returns.
func (tx *Tx) writeNewLeads(ctx context.Context, chunks <-chan newRows, d *aggDelta) (err error) {
	defer func() {
		for range chunks {
		}
	}()
	guard := tx.db.sideBySide()
	if guard {
		if _, err := tx.ExecContext(ctx, `SAVEPOINT import_leads`); err != nil {
			return fmt.Errorf("create leads: %w", err)
		}
	}
	leads := tx.bulkInsert("leads", leadInsertColumns)
	defer leads.close()
	history := tx.bulkInsert("lead_history", historyInsertColumns)
	defer history.close()
	// New leads have no report rows yet: inserted, not upserted.
	reports := tx.bulkInsert("report_leads", aggColumnList)
	defer reports.close()
	for c := range chunks {
		if err = leads.insert(ctx, c.leads); err != nil {
			break
		}
		if err = history.insert(ctx, c.history); err != nil {
			break
		}
		if err = reports.insert(ctx, c.reports); err != nil {
			break
		}
	}
	if err == nil {
		err = tx.insertRows(ctx, "report_steps", []string{"step", "at", "owner", "lead_id", "n"}, newSteps(d))
	}
	if guard {
		end := `RELEASE SAVEPOINT import_leads`
		if err != nil {
			end = `ROLLBACK TO SAVEPOINT import_leads`
		}
		if _, err2 := tx.ExecContext(ctx, end); err2 != nil && err == nil {
			err = err2
		}
	}
	if err != nil && !isUniqueViolation(err) {
		return fmt.Errorf("create leads: %w", err)
	}
	return err
}

// newSteps takes the rows of report_steps out of d, which counted only new
// leads: their keys are new, and so inserted with the leads rather than
// added to the transaction's counters. They come in the order of the
// table's key (step, owner, at, lead_id), so that they go in beside each
// other rather than at random places of its B-tree, as the map's order
// would put them.
func newSteps(d *aggDelta) [][]any {
	keys := make([]stepKey, 0, len(d.steps))
	for k, n := range d.steps {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b stepKey) int {
		return cmp.Or(strings.Compare(a.step, b.step), strings.Compare(a.owner, b.owner), cmp.Compare(a.at, b.at), cmp.Compare(a.lead, b.lead))
	})
	rows := make([][]any, len(keys))
	for j, k := range keys {
		rows[j] = []any{k.step, k.at, k.owner, k.lead, d.steps[k]}
	}
	clear(d.steps)
	return rows
}

// upsertEach stores rows one by one, as upsertLead does.
func (tx *Tx) upsertEach(ctx context.Context, rows []importRow, idx []int, defs map[string]baton.AttrType, reject func(int, error)) (int, error) {
	created := 0
	for _, i := range idx {
		r := &rows[i]
		r.lead.Stage = r.stage
		ok, err := tx.upsertLead(ctx, r.lead, defs)
		switch {
		case err == nil && ok:
			created++
		case err == nil:
		case rowError(err):
			reject(i, err)
		default:
			return created, fmt.Errorf("row %d: %w", i, err)
		}
	}
	return created, nil
}

// linkImported links each lead of the rows in keep without an account to
// the account of its email's domain, and checks that the accounts the
// others name exist (refusing their rows otherwise), a chunk of accounts per
// query. It returns the leads' accounts by id and leaves in keep the rows
// it did not refuse.
func (tx *Tx) linkImported(ctx context.Context, rows []importRow, keep *[]int, reject func(int, error)) (map[int64]*baton.Account, error) {
	domains := map[string]bool{}
	ids := map[int64]bool{}
	for _, i := range *keep {
		l := rows[i].lead
		if l.AccountID != nil {
			ids[*l.AccountID] = true
		} else if d := baton.EmailDomain(l.Email); d != "" {
			domains[d] = true
		}
	}
	byID := map[int64]*baton.Account{}
	byDomain := map[string]*baton.Account{}
	load := func(col string, args []any) error {
		var b strings.Builder
		b.WriteString(`SELECT ` + accountColumns + ` FROM accounts WHERE ` + col + ` IN `)
		tx.db.inList(&b, len(args))
		rs, err := tx.QueryContext(ctx, b.String(), args...)
		if err != nil {
			return fmt.Errorf("accounts of leads: %w", err)
		}
		defer rs.Close()
		for rs.Next() {
			a, err := scanAccount(rs)
			if err != nil {
				return fmt.Errorf("accounts of leads: %w", err)
			}
			byID[a.ID] = a
			if a.Domain != "" {
				byDomain[a.Domain] = a
			}
		}
		return rs.Err()
	}
	var args []any
	for d := range domains {
		if args = append(args, d); len(args) == idChunk {
			if err := load("domain", args); err != nil {
				return nil, err
			}
			args = args[:0]
		}
	}
	if len(args) > 0 {
		if err := load("domain", args); err != nil {
			return nil, err
		}
	}
	args = args[:0]
	for id := range ids {
		if args = append(args, id); len(args) == idChunk {
			if err := load("id", args); err != nil {
				return nil, err
			}
			args = args[:0]
		}
	}
	if len(args) > 0 {
		if err := load("id", args); err != nil {
			return nil, err
		}
	}
	n := 0
	for _, i := range *keep {
		l := rows[i].lead
		if l.AccountID == nil {
			if a := byDomain[baton.EmailDomain(l.Email)]; a != nil && l.Email != "" {
				id := a.ID
				l.AccountID = &id
			}
		} else if byID[*l.AccountID] == nil {
			reject(i, baton.FieldError("account_id", "no account %d", *l.AccountID))
			continue
		}
		(*keep)[n] = i
		n++
	}
	*keep = (*keep)[:n]
	return byID, nil
}
