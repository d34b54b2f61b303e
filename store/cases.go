package store

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/jackc/pgx/v5"
)

// caseColumns are the columns of a case in the order scanCase reads them,
// read from caseTables.
const caseColumns = `id, campaign_id, user_id, kind, entitlement_id, label, direct, via_groups, flags, risk,
	manager_id, reviewer_id, reviewer_since, escalation_level, delegated_by, member_decision, member_comment, member_at,
	reviewer_decision, reviewer_comment, reviewer_at, decided_by, accept_until, ` + caseOutcome + `,
	owner_decision, owner_comment, owner_at, owner_decided_by, owner_decided_by_id`

// caseTables are the cases with their outcomes: a closed case's outcome
// is in case_outcomes (see migration 0017), or in cases.outcome for a
// case closed before it or given one by UpdateCases.
const caseTables = `cases LEFT JOIN case_outcomes ON case_outcomes.case_id = cases.id`

// caseOutcome is a case's outcome in a query of caseTables.
const caseOutcome = `COALESCE(case_outcomes.outcome, cases.outcome)`

// insertCases writes a campaign's cases with batched multi-row INSERTs,
// numbering them after the highest id so far (the transaction holds the
// write lock, so nobody else takes those ids). A plain INSERT, not OR
// IGNORE: two cases for the same user and entitlement fail the whole
// campaign rather than vanish. A case with a reviewer and no ReviewerSince
// gets createdAt; the records' ID, CampaignID and ReviewerSince are set.
// Only what a new case holds is inserted, which binds half the values;
// the few cases that arrive with answers (imports, tests) get them by a
// second, per-case UPDATE.
func insertCases(ctx context.Context, tx *sqlTx, campaignID int64, createdAt time.Time, cases []campaign.CaseRecord) error {
	var last int64
	if tx.d == dialectPostgres {
		first, err := pgTakeCaseIDs(ctx, sqlTxQuerier{tx}, len(cases))
		if err != nil {
			return fmt.Errorf("cases: %w", err)
		}
		last = first - 1
	} else if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM cases`).Scan(&last); err != nil {
		return fmt.Errorf("cases: %w", err)
	}
	launched := fmtTime(createdAt)
	common := commonCaseValues(launched)
	ins := newBulk(ctx, tx, "cases", newCaseColumns...)
	ins.row = sparseCaseValues(common)
	// The rows' values are made on another goroutine while the database
	// writes the rows before: on SQLite's one writer, binding values and
	// writing rows is the whole cost of a launch's write.
	batches := make(chan []any, 2)
	var answered []campaign.CaseUpdate // read once batches is closed
	go func() {
		defer close(batches)
		batch := make([]any, 0, batchRows*len(newCaseColumns))
		for i := range cases {
			c := &cases[i]
			batch = append(batch, sparseCaseArgs(newCaseRow(c, last+int64(i)+1, campaignID, createdAt, launched), common)...)
			if hasAnswers(c) {
				answered = append(answered, campaign.CaseUpdate{Case: c, ExpectReviewer: c.ReviewerID})
			}
			if len(batch) == cap(batch) || i == len(cases)-1 {
				batches <- batch
				batch = make([]any, 0, batchRows*len(newCaseColumns))
			}
		}
	}()
	for batch := range batches {
		ins.add(batch...) // after a failure, drains the rest without writing
	}
	if err := ins.flush(); err != nil {
		return fmt.Errorf("cases: %w", err)
	}
	pairs := newInserter(ctx, tx, "case_reviewers", "campaign_id", "reviewer_id", "user_id")
	for _, p := range reviewerPairs(cases) {
		pairs.add(campaignID, p.reviewer, p.user)
	}
	if err := pairs.flush(); err != nil {
		return fmt.Errorf("case reviewers: %w", err)
	}
	if len(answered) > 0 {
		// The reviewer is unchanged, so reviewer_since stays as inserted.
		return updateCases(ctx, tx, createdAt, answered)
	}
	return nil
}

// rowQuerier runs a query returning one row: a pgx transaction, or a
// database/sql one through sqlTxQuerier.
type rowQuerier interface {
	QueryRow(ctx context.Context, q string, args ...any) pgx.Row
}

// sqlTxQuerier is a database/sql transaction as a rowQuerier (queries
// written with PostgreSQL's $n).
type sqlTxQuerier struct{ tx *sqlTx }

func (q sqlTxQuerier) QueryRow(ctx context.Context, query string, args ...any) pgx.Row {
	return q.tx.Tx.QueryRowContext(ctx, query, args...)
}

// pgTakeCaseIDs takes n case ids on PostgreSQL and returns the first:
// above every case and every id taken before, as the cases table's
// identity sequence records them. It must run under the store's write
// lock, which every case id taker holds, so two takers never overlap;
// ids taken and left unused (a launch that failed) are gaps.
func pgTakeCaseIDs(ctx context.Context, q rowQuerier, n int) (int64, error) {
	var seq string
	if err := q.QueryRow(ctx, `SELECT pg_get_serial_sequence('cases', 'id')`).Scan(&seq); err != nil {
		return 0, err
	}
	var maxID, lastValue int64
	var called bool
	if err := q.QueryRow(ctx, `SELECT COALESCE((SELECT MAX(id) FROM cases), 0), last_value, is_called FROM `+seq).
		Scan(&maxID, &lastValue, &called); err != nil {
		return 0, err
	}
	taken := lastValue
	if !called {
		taken--
	}
	base := max(maxID, taken)
	if n > 0 {
		if err := q.QueryRow(ctx, `SELECT setval($1::regclass, $2, true)`, seq, base+int64(n)).Scan(new(int64)); err != nil {
			return 0, err
		}
	}
	return base + 1, nil
}

// newCaseColumns are the columns a new case is inserted with, in the
// order newCaseRow gives their values.
var newCaseColumns = []string{"id", "campaign_id", "user_id", "kind", "entitlement_id", "label",
	"direct", "via_groups", "flags", "risk", "manager_id", "reviewer_id", "reviewer_since"}

// newCaseRow numbers c (id, campaignID), gives it createdAt as
// ReviewerSince when it has a reviewer and none (launched is createdAt
// formatted), and returns its newCaseColumns values.
func newCaseRow(c *campaign.CaseRecord, id, campaignID int64, createdAt time.Time, launched string) []any {
	c.ID, c.CampaignID = id, campaignID
	since := ""
	switch {
	case c.ReviewerID == "":
	case c.ReviewerSince.IsZero():
		c.ReviewerSince, since = createdAt, launched
	default:
		since = fmtTime(c.ReviewerSince)
	}
	return []any{c.ID, campaignID, c.UserID, c.Kind, c.EntitlementID, c.Label, int64(boolInt(c.Direct)),
		strings.Join(c.ViaGroups, " "), int64(c.Flags), c.Risk, c.ManagerID, c.ReviewerID, since}
}

// commonCaseValues is, for each of newCaseColumns, the value new cases
// mostly share, or nil: kind app, no via groups, no risk, reviewer_since
// the launch (launched).
func commonCaseValues(launched string) []any {
	common := make([]any, len(newCaseColumns))
	for i, col := range newCaseColumns {
		switch col {
		case "kind":
			common[i] = campaign.KindApp
		case "via_groups", "risk":
			common[i] = ""
		case "reviewer_since":
			common[i] = launched
		}
	}
	return common
}

// sparseCaseValues is insertCases's VALUES row for newCaseColumns: a
// column's common value is bound as NULL (sparseCaseArgs) and filled in by
// the statement. A NULL binds without a copy of a string, which takes a
// tenth off writing a launch's cases on SQLite.
func sparseCaseValues(common []any) string {
	vals := make([]string, len(common))
	for i, v := range common {
		vals[i] = "?"
		if v != nil {
			vals[i] = "COALESCE(?, " + quoteLiteral(v.(string)) + ")"
		}
	}
	return "(" + strings.Join(vals, ", ") + ")"
}

// sparseCaseArgs turns newCaseRow's values into sparseCaseValues's.
func sparseCaseArgs(row, common []any) []any {
	for i, v := range common {
		if v != nil && row[i] == v {
			row[i] = nil
		}
	}
	return row
}

// copyCases is insertCases on PostgreSQL for cases that hold nothing but
// what a new case holds: one COPY straight into cases, which fails, like
// the INSERT, on a duplicate case.
func copyCases(ctx context.Context, tx pgx.Tx, campaignID int64, createdAt time.Time, cases []campaign.CaseRecord) error {
	first, err := pgTakeCaseIDs(ctx, tx, len(cases))
	if err != nil {
		return fmt.Errorf("cases: %w", err)
	}
	return copyCasesFrom(ctx, tx, campaignID, createdAt, first, cases)
}

// copyCasesFrom COPYs cases numbered from first.
func copyCasesFrom(ctx context.Context, tx pgx.Tx, campaignID int64, createdAt time.Time, first int64, cases []campaign.CaseRecord) error {
	last := first - 1
	launched := fmtTime(createdAt)
	i := 0
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"cases"}, newCaseColumns, pgx.CopyFromFunc(func() ([]any, error) {
		if i == len(cases) {
			return nil, nil
		}
		row := newCaseRow(&cases[i], last+int64(i)+1, campaignID, createdAt, launched)
		i++
		return row, nil
	}))
	if err != nil {
		return fmt.Errorf("cases: %w", err)
	}
	pairs := reviewerPairs(cases)
	reviewers, users := make([]string, len(pairs)), make([]string, len(pairs))
	for i, p := range pairs {
		reviewers[i], users[i] = p.reviewer, p.user
	}
	if _, err := tx.Exec(ctx, `INSERT INTO case_reviewers (campaign_id, reviewer_id, user_id)
		SELECT $1, r, u FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS p(r, u, n) ORDER BY n
		ON CONFLICT DO NOTHING`, campaignID, reviewers, users); err != nil {
		return fmt.Errorf("case reviewers: %w", err)
	}
	return nil
}

// reviewerPair is one (reviewer, member) pair of case_reviewers.
type reviewerPair struct{ reviewer, user string }

// reviewerPairs returns the distinct (reviewer, member) pairs of cases,
// sorted: case_reviewers (migration 0019) holds one row per pair for the
// cases table, which has no index on reviewers, and the reviewer's cases
// are found through their members (Cases). In sorted order, launch slices
// written side by side take the rows they share in the same order, so
// they wait for each other rather than deadlock.
func reviewerPairs(cases []campaign.CaseRecord) []reviewerPair {
	seen := map[reviewerPair]bool{}
	var out []reviewerPair
	for i := range cases {
		p := reviewerPair{cases[i].ReviewerID, cases[i].UserID}
		if seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b reviewerPair) int {
		return cmp.Or(strings.Compare(a.reviewer, b.reviewer), strings.Compare(a.user, b.user))
	})
	return out
}

// hasAnswers reports whether a case holds more than a new case does.
func hasAnswers(c *campaign.CaseRecord) bool {
	return c.EscalationLevel != 0 || c.DelegatedBy != "" || c.MemberDecision != "" || c.MemberComment != "" ||
		!c.MemberAt.IsZero() || c.ReviewerDecision != "" || c.ReviewerComment != "" || !c.ReviewerAt.IsZero() ||
		c.DecidedBy != "" || !c.AcceptUntil.IsZero() || c.Outcome != "" || c.OwnerDecision != "" || c.OwnerComment != "" ||
		!c.OwnerAt.IsZero() || c.OwnerDecidedBy != "" || c.OwnerDecidedByID != ""
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Cases returns the cases of a campaign a query selects, ordered by id.
// Ids and labels repeated across cases share one string. It returns an
// error if the query fails.
func (s *Store) Cases(ctx context.Context, campaignID int64, q campaign.CaseQuery) ([]campaign.CaseRecord, error) {
	var out []campaign.CaseRecord
	var span []int64
	if q.ID == 0 && q.UserID == "" && q.ReviewerID == nil {
		// The whole campaign: its cases have consecutive ids (see
		// insertCases), so read the id range in order instead of letting
		// the planner walk an index and sort millions of rows, and size
		// the result once.
		var first, last sql.NullInt64
		if err := s.db.QueryRowContext(ctx, `SELECT MIN(id), MAX(id) FROM cases WHERE campaign_id = ?`, campaignID).
			Scan(&first, &last); err != nil {
			return nil, fmt.Errorf("store: cases of campaign %d: %w", campaignID, err)
		}
		if !first.Valid {
			return nil, nil
		}
		span = []int64{first.Int64, last.Int64}
		out = make([]campaign.CaseRecord, 0, last.Int64-first.Int64+1)
	}
	query, args := casesQuery(campaignID, q, span...)
	ids := newInterner()
	err := s.each(ctx, query, args, func(r *sql.Rows) error {
		c, err := scanCase(r, ids)
		if err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: cases of campaign %d: %w", campaignID, err)
	}
	return out, nil
}

// casesQuery is Cases's query, of the cases numbered from span[0] to
// span[1] when given (the whole campaign, read as an id range).
func casesQuery(campaignID int64, q campaign.CaseQuery, span ...int64) (string, []any) {
	where := []string{"campaign_id = ?"}
	args := []any{campaignID}
	if len(span) == 2 {
		where = []string{"id BETWEEN ? AND ?", "+campaign_id = ?"}
		args = []any{span[0], span[1], campaignID}
	}
	if q.ID != 0 {
		where, args = append(where, "id = ?"), append(args, q.ID)
	}
	if q.UserID != "" {
		where, args = append(where, "user_id = ?"), append(args, q.UserID)
	}
	if q.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, q.Kind)
	}
	if q.ReviewerID != nil {
		// No index on cases' reviewers: their members' cases, through
		// the (campaign, user, ...) index, whose reviewer is the one asked.
		where = append(where, "reviewer_id = ?",
			"user_id IN (SELECT user_id FROM case_reviewers WHERE campaign_id = ? AND reviewer_id = ?)")
		args = append(args, *q.ReviewerID, campaignID, *q.ReviewerID)
	}
	return `SELECT ` + caseColumns + ` FROM ` + caseTables + ` WHERE ` + strings.Join(where, " AND ") + ` ORDER BY id`, args
}

// scanCase reads one row of caseColumns.
func scanCase(r *sql.Rows, ids *interner) (campaign.CaseRecord, error) {
	var c campaign.CaseRecord
	var user, kind, ent, label, via, risk, manager, reviewer, delegated, memberDec, reviewerDec, decidedBy, outcome sql.RawBytes
	var ownerDec, ownerBy, ownerByID sql.RawBytes
	var direct int
	var flags int64
	var since, memberAt, reviewerAt, acceptUntil, ownerAt string
	if err := r.Scan(&c.ID, &c.CampaignID, &user, &kind, &ent, &label, &direct, &via, &flags, &risk,
		&manager, &reviewer, &since, &c.EscalationLevel, &delegated, &memberDec, &c.MemberComment, &memberAt,
		&reviewerDec, &c.ReviewerComment, &reviewerAt, &decidedBy, &acceptUntil, &outcome,
		&ownerDec, &c.OwnerComment, &ownerAt, &ownerBy, &ownerByID); err != nil {
		return c, err
	}
	c.UserID, c.Kind, c.EntitlementID, c.Label = ids.run(user), ids.get(kind), ids.get(ent), ids.get(label)
	for _, g := range bytes.Fields(via) {
		c.ViaGroups = append(c.ViaGroups, ids.get(g))
	}
	c.Direct, c.Flags, c.Risk = direct != 0, campaign.Flag(flags), ids.get(risk)
	c.ManagerID, c.ReviewerID, c.DelegatedBy = ids.get(manager), ids.get(reviewer), ids.get(delegated)
	c.MemberDecision, c.ReviewerDecision = ids.get(memberDec), ids.get(reviewerDec)
	c.DecidedBy, c.Outcome = ids.get(decidedBy), ids.get(outcome)
	c.ReviewerSince, c.MemberAt = parseTime(since), parseTime(memberAt)
	c.ReviewerAt, c.AcceptUntil = parseTime(reviewerAt), parseTime(acceptUntil)
	c.OwnerDecision, c.OwnerDecidedBy, c.OwnerDecidedByID = ids.get(ownerDec), ids.get(ownerBy), ids.get(ownerByID)
	c.OwnerAt = parseTime(ownerAt)
	return c, nil
}

// UpdateCases saves changed cases and appends events in one transaction,
// all or nothing. Each update applies only while the case still has the
// reviewer it expects, only while the case's campaign is open (draft,
// stage 1, 2 or 3: never once a close began) and, when it names an
// ExpectState, only while the campaign is in that state. The state is
// checked by the UPDATE that writes the case, so no answer lands after a
// close fenced the campaign (see campaign.StateClosing). When the reviewer changes, the case's ReviewerSince
// becomes the store's clock (whatever the record says), and is set on the
// record once saved; otherwise it is kept. It returns an error wrapping
// campaign.ErrStageEnded (a campaign.ErrConflict) when the campaign left
// the expected state, campaign.ErrConflict naming the first case whose
// reviewer changed, or campaign.ErrNotFound naming a case that does not
// exist; then nothing is saved.
func (s *Store) UpdateCases(ctx context.Context, updates []campaign.CaseUpdate, events []campaign.Event) error {
	if len(updates) == 0 && len(events) == 0 {
		return nil
	}
	now := s.Now()
	err := s.inTx(ctx, func(tx *sqlTx) error {
		if len(updates) > 0 {
			if err := updateCases(ctx, tx, now, updates); err != nil {
				return err
			}
		}
		return s.appendEvents(ctx, tx, events...)
	})
	if err != nil {
		return fmt.Errorf("store: update cases: %w", err)
	}
	for _, u := range updates {
		if u.Case.ReviewerID != u.ExpectReviewer {
			u.Case.ReviewerSince = now
		}
	}
	return nil
}

// updateCases runs one prepared UPDATE per case: escalations change tens
// of thousands of cases, each under its own precondition.
func updateCases(ctx context.Context, tx *sqlTx, now time.Time, updates []campaign.CaseUpdate) error {
	stmt, err := tx.PrepareContext(ctx, `UPDATE cases SET reviewer_id = ?,
		reviewer_since = CASE WHEN ? THEN ? ELSE reviewer_since END,
		escalation_level = ?, delegated_by = ?, member_decision = ?, member_comment = ?, member_at = ?,
		reviewer_decision = ?, reviewer_comment = ?, reviewer_at = ?, decided_by = ?, accept_until = ?, outcome = ?,
		owner_decision = ?, owner_comment = ?, owner_at = ?, owner_decided_by = ?, owner_decided_by_id = ?
		WHERE id = ? AND reviewer_id = ?
		AND EXISTS (SELECT 1 FROM campaigns WHERE campaigns.id = cases.campaign_id
			AND campaigns.state IN ('draft', 'stage1', 'stage2', 'stage3') AND (? = '' OR campaigns.state = ?))`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	var pair *sql.Stmt
	for _, u := range updates {
		c := u.Case
		res, err := stmt.ExecContext(ctx, c.ReviewerID, c.ReviewerID != u.ExpectReviewer, fmtTime(now),
			c.EscalationLevel, c.DelegatedBy, c.MemberDecision, c.MemberComment, fmtTime(c.MemberAt),
			c.ReviewerDecision, c.ReviewerComment, fmtTime(c.ReviewerAt), c.DecidedBy, fmtTime(c.AcceptUntil), c.Outcome,
			c.OwnerDecision, c.OwnerComment, fmtTime(c.OwnerAt), c.OwnerDecidedBy, c.OwnerDecidedByID,
			c.ID, u.ExpectReviewer, string(u.ExpectState), string(u.ExpectState))
		if err != nil {
			return fmt.Errorf("case %d: %w", c.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			if err != nil {
				return fmt.Errorf("case %d: %w", c.ID, err)
			}
			if c.ReviewerID != u.ExpectReviewer {
				// The new reviewer finds the case through its member.
				if pair == nil {
					if pair, err = tx.PrepareContext(ctx, `INSERT INTO case_reviewers (campaign_id, reviewer_id, user_id)
						SELECT campaign_id, reviewer_id, user_id FROM cases WHERE id = ? ON CONFLICT DO NOTHING`); err != nil {
						return err
					}
					defer pair.Close()
				}
				if _, err := pair.ExecContext(ctx, c.ID); err != nil {
					return fmt.Errorf("case %d: %w", c.ID, err)
				}
			}
			continue
		}
		var current, state string
		err = tx.QueryRowContext(ctx, `SELECT cases.reviewer_id, campaigns.state FROM cases
			JOIN campaigns ON campaigns.id = cases.campaign_id WHERE cases.id = ?`, c.ID).Scan(&current, &state)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("no case %d: %w", c.ID, campaign.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("case %d: %w", c.ID, err)
		}
		switch {
		case !editable(state):
			return fmt.Errorf("case %d: its campaign is %s: its cases no longer change: %w", c.ID, state, campaign.ErrStageEnded)
		case u.ExpectState != "" && state != string(u.ExpectState):
			return fmt.Errorf("case %d: its campaign is %s, not %s: %w", c.ID, state, u.ExpectState, campaign.ErrStageEnded)
		}
		return fmt.Errorf("case %d changed meanwhile: its reviewer is %s, not %s: %w",
			c.ID, reviewerName(current), reviewerName(u.ExpectReviewer), campaign.ErrConflict)
	}
	return nil
}

// editable reports whether a campaign in this state may still change its
// cases: not from the instant a close begins (campaign.StateClosing); a
// closed campaign's cases are evidence.
func editable(state string) bool {
	switch campaign.State(state) {
	case campaign.StateDraft, campaign.StateStage1, campaign.StateStage2, campaign.StateStage3:
		return true
	}
	return false
}

// reviewerName names a reviewer id in messages; "" is the IAM team.
func reviewerName(id string) string {
	if id == "" {
		return "the IAM team"
	}
	return id
}

// CaseProgress counts a campaign's open work per person with three
// aggregate queries read in one snapshot, never loading the cases.
// MemberOpen counts, per member, cases without a member answer, except
// cases flagged orphaned (a suspended or deprovisioned account owes no
// stage-1 answer: campaign.CaseRecord.MemberStage). ReviewerOpen counts, per reviewer, cases without a reviewer decision or
// outcome that need one: all but members' revokes, unless the campaign's
// definition has stages.confirm_member_revokes (as
// campaign.CaseRecord.NeedsReviewer). ReviewerTotal counts every case per
// current reviewer and ReviewerAnswered those with a member's answer;
// people with nothing to count are left out of every map. It returns an
// error wrapping campaign.ErrNotFound when there is no such campaign.
func (s *Store) CaseProgress(ctx context.Context, campaignID int64) (campaign.Progression, error) {
	p := campaign.Progression{MemberOpen: map[string]int{}, ReviewerOpen: map[string]int{},
		ReviewerMembers: map[string][]string{}, ReviewerTotal: map[string]int{}, ReviewerAnswered: map[string]int{},
		ReviewerOldest: map[string]time.Time{}}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return p, fmt.Errorf("store: progress of campaign %d: %w", campaignID, err)
	}
	defer tx.Rollback()
	var text string
	err = tx.QueryRowContext(ctx, `SELECT definition_yaml FROM campaigns WHERE id = ?`, campaignID).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("store: no campaign %d: %w", campaignID, campaign.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("store: progress of campaign %d: %w", campaignID, err)
	}
	def, err := campaign.ParseDefinition(fmt.Sprintf("campaign %d", campaignID), []byte(text))
	if err != nil {
		return p, fmt.Errorf("store: progress of campaign %d: %w", campaignID, err)
	}
	// Each query yields (person, member, count, answered, oldest).
	steps := []struct {
		q    string
		args []any
		fn   func(person, member string, n, answered int, oldest string)
	}{
		{`SELECT reviewer_id, '', COUNT(*), SUM(CASE WHEN member_decision <> '' THEN 1 ELSE 0 END), '' FROM cases WHERE campaign_id = ? GROUP BY reviewer_id`,
			[]any{campaignID}, func(reviewer, _ string, n, answered int, _ string) {
				p.Total += n
				p.ReviewerTotal[reviewer] = n
				if answered > 0 {
					p.ReviewerAnswered[reviewer] = answered
				}
			}},
		{`SELECT user_id, '', COUNT(*), 0, '' FROM cases WHERE campaign_id = ? AND member_decision = '' AND (flags & ?) = 0
			GROUP BY user_id`,
			[]any{campaignID, int64(campaign.FlagOrphaned)}, func(member, _ string, n, _ int, _ string) { p.MemberOpen[member] = n }},
		{`SELECT reviewer_id, user_id, COUNT(*), 0, MIN(reviewer_since) FROM ` + caseTables + ` WHERE campaign_id = ? AND reviewer_decision = ''
			AND ` + caseOutcome + ` = '' AND (member_decision <> ? OR ?) GROUP BY reviewer_id, user_id ORDER BY reviewer_id, user_id`,
			[]any{campaignID, campaign.DecisionRevoke, def.Stages.ConfirmMemberRevokes},
			func(reviewer, member string, n, _ int, oldest string) {
				p.ReviewerOpen[reviewer] += n
				p.ReviewerMembers[reviewer] = append(p.ReviewerMembers[reviewer], member)
				if t := parseTime(oldest); !t.IsZero() {
					if cur, ok := p.ReviewerOldest[reviewer]; !ok || t.Before(cur) {
						p.ReviewerOldest[reviewer] = t
					}
				}
			}},
	}
	for _, st := range steps {
		if err := eachRow(ctx, tx, st.q, st.args, func(r *sql.Rows) error {
			var person, member, oldest string
			var n, answered int
			if err := r.Scan(&person, &member, &n, &answered, &oldest); err != nil {
				return err
			}
			st.fn(person, member, n, answered, oldest)
			return nil
		}); err != nil {
			return p, fmt.Errorf("store: progress of campaign %d: %w", campaignID, err)
		}
	}
	return p, nil
}

// MemberOpen reports whether a case of the campaign that its member is to
// answer (not orphaned) is still unanswered: of user, or of anyone when
// user is "". It stops at the first such case, through the campaign's
// indexes, instead of counting them as CaseProgress does.
func (s *Store) MemberOpen(ctx context.Context, campaignID int64, user string) (bool, error) {
	q := `SELECT 1 FROM cases WHERE campaign_id = ? AND member_decision = '' AND (flags & ?) = 0`
	args := []any{campaignID, int64(campaign.FlagOrphaned)}
	if user != "" {
		q += ` AND user_id = ?`
		args = append(args, user)
	}
	var one int
	err := s.db.QueryRowContext(ctx, q+` LIMIT 1`, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: open member cases of campaign %d: %w", campaignID, err)
	}
	return true, nil
}

// eachRow runs a query in tx and calls fn for every row.
func eachRow(ctx context.Context, tx *sqlTx, q string, args []any, fn func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
