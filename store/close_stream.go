package store

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/attestbot/attest/campaign"
)

// defaultCasePage is EachCase's page size when none is given.
const defaultCasePage = 10000

// EachCase calls fn with the cases of a campaign, at most pageSize at a
// time (defaultCasePage when pageSize is not positive), in ascending id
// order, so that a caller holds one page and not millions of cases. The
// page slice is reused: fn must copy what it keeps of it (strings repeated
// across cases are shared, as Cases shares them, and may be kept). A
// campaign's cases have consecutive ids (see insertCases), so each page is
// a primary-key range read. It stops at fn's first error and returns it.
func (s *Store) EachCase(ctx context.Context, campaignID int64, pageSize int, fn func([]campaign.CaseRecord) error) error {
	return s.eachCasePage(ctx, campaignID, pageSize, caseTables, caseColumns, scanCase, fn)
}

// decisionColumns are what a close decides a case's outcome and plan
// from, in the order scanDecision reads them. The five answer columns
// come as one (answerColumns), empty for a case nobody answered.
const decisionColumns = `id, user_id, kind, entitlement_id, direct, via_groups, ` + answerColumns

// answerColumns packs member_decision, reviewer_decision, decided_by,
// owner_decision and owner_decided_by into one value: nothing when all are
// empty, else their lengths in bytes and then the five side by side
// ("6,0,0,0,0:revoke"), which any bytes survive. Reading one column instead
// of five takes a quarter off reading a million cases.
const answerColumns = `CASE WHEN member_decision = '' AND reviewer_decision = '' AND decided_by = ''
	AND owner_decision = '' AND owner_decided_by = '' THEN '' ELSE
	octet_length(member_decision) || ',' || octet_length(reviewer_decision) || ',' || octet_length(decided_by) || ',' ||
	octet_length(owner_decision) || ',' || octet_length(owner_decided_by) || ':' ||
	member_decision || reviewer_decision || decided_by || owner_decision || owner_decided_by END`

// unpackAnswers splits an answerColumns value into its five answers.
func unpackAnswers(b []byte) (answers [5][]byte, err error) {
	if len(b) == 0 {
		return answers, nil
	}
	head, rest, ok := bytes.Cut(b, []byte{':'})
	for i := range answers {
		f := head
		if i < len(answers)-1 {
			f, head, ok = bytes.Cut(head, []byte{','})
		}
		n, err := strconv.Atoi(string(f))
		if !ok || err != nil || n < 0 || n > len(rest) {
			return [5][]byte{}, fmt.Errorf("answers %q: bad lengths", b)
		}
		answers[i], rest = rest[:n], rest[n:]
	}
	if len(rest) > 0 {
		return [5][]byte{}, fmt.Errorf("answers %q: %d bytes left over", b, len(rest))
	}
	return answers, nil
}

// EachCaseDecision is EachCase filling only what a close decides on: ID,
// CampaignID, UserID, Kind, EntitlementID, Direct, ViaGroups,
// MemberDecision, ReviewerDecision, DecidedBy, OwnerDecision and
// OwnerDecidedBy. Leaving out comments, labels and times makes a close
// read its millions of cases about twice as fast. Cases with the same via
// groups share one ViaGroups slice: it must not be changed.
func (s *Store) EachCaseDecision(ctx context.Context, campaignID int64, pageSize int, fn func([]campaign.CaseRecord) error) error {
	return s.eachCasePage(ctx, campaignID, pageSize, "cases", decisionColumns, scanDecision, fn)
}

// scanDecision reads one row of decisionColumns.
func scanDecision(r *sql.Rows, ids *interner) (campaign.CaseRecord, error) {
	var c campaign.CaseRecord
	var user, kind, ent, via, packed sql.RawBytes
	var direct int
	if err := r.Scan(&c.ID, &user, &kind, &ent, &direct, &via, &packed); err != nil {
		return c, err
	}
	c.UserID, c.Kind, c.EntitlementID, c.Direct = ids.run(user), ids.get(kind), ids.get(ent), direct != 0
	c.ViaGroups = ids.fields(via)
	a, err := unpackAnswers(packed)
	if err != nil {
		return c, fmt.Errorf("case %d: %w", c.ID, err)
	}
	c.MemberDecision, c.ReviewerDecision, c.DecidedBy = ids.get(a[0]), ids.get(a[1]), ids.get(a[2])
	c.OwnerDecision, c.OwnerDecidedBy = ids.get(a[3]), ids.get(a[4])
	return c, nil
}

// eachCasePage pages through a campaign's cases for EachCase and
// EachCaseDecision, reading cols with scan.
func (s *Store) eachCasePage(ctx context.Context, campaignID int64, pageSize int, from, cols string,
	scan func(*sql.Rows, *interner) (campaign.CaseRecord, error), fn func([]campaign.CaseRecord) error) error {
	if pageSize <= 0 {
		pageSize = defaultCasePage
	}
	var first, last sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MIN(id), MAX(id) FROM cases WHERE campaign_id = ?`, campaignID).
		Scan(&first, &last); err != nil {
		return fmt.Errorf("store: cases of campaign %d: %w", campaignID, err)
	}
	if !first.Valid {
		return nil
	}
	// The next page is read while fn works on this one: three page
	// buffers go round, one being read, one waiting, one with fn.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	size := min(int64(pageSize), last.Int64-first.Int64+1)
	free := make(chan []campaign.CaseRecord, 3)
	for range 3 {
		free <- make([]campaign.CaseRecord, 0, size)
	}
	pages := make(chan casePage, 1)
	go s.readCasePages(rctx, campaignID, pageSize, first.Int64, last.Int64,
		`SELECT `+cols+` FROM `+from+` WHERE id > ? AND id <= ? AND +campaign_id = ? ORDER BY id`, scan, free, pages)
	var ferr error
	for p := range pages {
		switch {
		case ferr != nil:
		case p.err != nil:
			ferr = fmt.Errorf("store: cases of campaign %d: %w", campaignID, p.err)
		default:
			if ferr = fn(p.cases); ferr == nil {
				free <- p.cases
			}
		}
		if ferr != nil {
			cancel() // the reader stops; its last pages are drained
		}
	}
	return ferr
}

// casePage is a page of cases read by readCasePages, or why not.
type casePage struct {
	cases []campaign.CaseRecord
	err   error
}

// readCasePages reads the pages of eachCasePage into buffers taken from
// free and sends them on pages, which it closes when done, on its first
// error (sent) or when ctx ends.
//
// Each page is the campaign's cases in an id range of pageSize ids, not
// "the next pageSize after": bounded by both ends, no plan reads more
// than a page. (PostgreSQL, before its statistics know the new cases,
// planned the open-ended form as a scan of every case after the page and
// a sort: a million-case close read its cases in time growing with the
// square of their number.) A launch written in slices beside another
// launch leaves gaps, so a range may hold fewer cases, or none: after an
// empty range the next one starts at the campaign's next case.
func (s *Store) readCasePages(ctx context.Context, campaignID int64, pageSize int, first, last int64, q string,
	scan func(*sql.Rows, *interner) (campaign.CaseRecord, error), free chan []campaign.CaseRecord, pages chan<- casePage) {
	defer close(pages)
	send := func(p casePage) bool {
		select {
		case pages <- p:
			return true
		case <-ctx.Done():
			return false
		}
	}
	ids := newInterner()
	for after := first - 1; after < last; after += int64(pageSize) {
		var page []campaign.CaseRecord
		select {
		case page = <-free:
		case <-ctx.Done():
			return
		}
		page = page[:0]
		upto := min(after+int64(pageSize), last)
		err := s.each(ctx, q, []any{after, upto, campaignID}, func(r *sql.Rows) error {
			c, err := scan(r, ids)
			if err != nil {
				return err
			}
			c.CampaignID = campaignID // the query's
			page = append(page, c)
			return nil
		})
		if err != nil {
			send(casePage{err: err})
			return
		}
		if len(page) > 0 {
			if !send(casePage{cases: page}) {
				return
			}
			continue
		}
		free <- page
		var next sql.NullInt64
		if err := s.db.QueryRowContext(ctx, `SELECT MIN(id) FROM cases WHERE campaign_id = ? AND id > ?`, campaignID, upto).
			Scan(&next); err != nil {
			send(casePage{err: err})
			return
		}
		if !next.Valid {
			return
		}
		after = next.Int64 - 1 - int64(pageSize) // the loop adds pageSize
	}
}

// CloseCampaignCases is CloseCampaign for a close that streamed its cases:
// outcomes lists the ids of the cases of each outcome (each list
// ascending), and the certification history is made from the cases
// themselves inside the transaction, once their outcomes are written: one
// record, certified at c.ClosedAt, for each case kept, revoked or revoked
// by its member, decided by the case's decided_by, or by its user when
// that is empty or the member revoked it — as campaign.Certification
// records them — except that deciders, when it names a case, gives its
// decider (the app owner who decided it in stage 3). The campaign's move,
// outcomes, plan, digest, history and ev are one transaction. It returns
// an error wrapping campaign.ErrConflict when the campaign was not in
// from, and campaign.ErrInvalid when an outcome names a case not in the
// campaign; on error nothing is stored.
func (s *Store) CloseCampaignCases(ctx context.Context, c *campaign.Campaign, from campaign.State, outcomes map[string][]int64,
	deciders map[int64]string, plan []campaign.PlanItem, ev campaign.Event) error {
	if c.ClosedAt.IsZero() {
		c.ClosedAt = s.Now()
	}
	if c.PlanDigest == "" {
		c.PlanDigest = campaign.PlanDigest(plan)
	}
	err := s.inCopyTx(ctx, func(tx *sqlTx) error {
		if err := moveState(ctx, tx, c, from); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET plan_digest = ? WHERE id = ?`, c.PlanDigest, c.ID); err != nil {
			return err
		}
		if err := writeOutcomeIDs(ctx, tx, c.ID, outcomes); err != nil {
			return err
		}
		if err := writePlan(ctx, tx, c.ID, plan); err != nil {
			return err
		}
		// The history is of the cases kept, revoked or revoked by their
		// member: when no case has such an outcome there is none to make,
		// and no reason to read every case for it.
		decided := len(outcomes[campaign.OutcomeKept]) + len(outcomes[campaign.OutcomeRevoked]) +
			len(outcomes[campaign.OutcomeRevokedByMember])
		if decided > 0 {
			if err := historyFromCases(ctx, tx, c.ID, c.ClosedAt, deciders); err != nil {
				return err
			}
		}
		return s.recordChange(ctx, tx, c.ID, from, c.State, ev)
	})
	if err != nil {
		return fmt.Errorf("store: close campaign %d: %w", c.ID, err)
	}
	return nil
}

// historyFromCases records the certification history of a closed
// campaign's decided cases from their stored outcomes (see
// CloseCampaignCases), replacing the campaign's earlier records of the
// same entitlements, like writeHistory.
func historyFromCases(ctx context.Context, tx *sqlTx, campaignID int64, at time.Time, deciders map[int64]string) error {
	certified := fmtSortable(at)
	if _, err := tx.ExecContext(ctx, `INSERT INTO cert_history (user_id, kind, entitlement_id, certified_at, outcome, decided_by,
			campaign_id, accept_until)
		SELECT user_id, kind, entitlement_id, ?, `+caseOutcome+`,
			CASE WHEN `+caseOutcome+` = ? OR decided_by = '' THEN user_id ELSE decided_by END, campaign_id, accept_until
		FROM `+caseTables+` WHERE campaign_id = ? AND `+caseOutcome+` IN (?, ?, ?)
		ON CONFLICT (user_id, kind, entitlement_id, campaign_id) DO UPDATE SET certified_at = excluded.certified_at,
			outcome = excluded.outcome, decided_by = excluded.decided_by, accept_until = excluded.accept_until`,
		certified, campaign.OutcomeRevokedByMember, campaignID,
		campaign.OutcomeKept, campaign.OutcomeRevoked, campaign.OutcomeRevokedByMember); err != nil {
		return fmt.Errorf("certification history: %w", err)
	}
	if len(deciders) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `UPDATE cert_history SET decided_by = ?
		WHERE campaign_id = ? AND EXISTS (SELECT 1 FROM `+caseTables+` WHERE cases.id = ? AND cases.user_id = cert_history.user_id
			AND cases.kind = cert_history.kind AND cases.entitlement_id = cert_history.entitlement_id
			AND `+caseOutcome+` IN (?, ?))`)
	if err != nil {
		return fmt.Errorf("certification history: %w", err)
	}
	defer stmt.Close()
	for id, by := range deciders {
		if _, err := stmt.ExecContext(ctx, by, campaignID, id, campaign.OutcomeKept, campaign.OutcomeRevoked); err != nil {
			return fmt.Errorf("certification history of case %d: %w", id, err)
		}
	}
	return nil
}
