package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/attestbot/attest/campaign"
	"github.com/jackc/pgx/v5"
)

// CreateCampaign stores a campaign, its cases, its first transition ("" to
// c.State) and ev in one transaction, and returns the campaign's id. It
// sets c.ID and, on each case, ID and CampaignID; a zero c.CreatedAt is set
// to the store's clock. A case whose ReviewerID is set and ReviewerSince
// is not is recorded as assigned at c.CreatedAt. It returns an error wrapping
// campaign.ErrInvalid when the campaign has no definition or it does not
// parse, and an error when two cases name the same entitlement of the same
// user; on error nothing is stored.
func (s *Store) CreateCampaign(ctx context.Context, c *campaign.Campaign, cases []campaign.CaseRecord, ev campaign.Event) (int64, error) {
	if c.DefinitionYAML == "" {
		if c.Definition == nil {
			return 0, fmt.Errorf("store: create campaign %q: no definition: %w", c.Name, campaign.ErrInvalid)
		}
		text, err := yaml.Marshal(c.Definition)
		if err != nil {
			return 0, fmt.Errorf("store: create campaign %q: encode definition: %w", c.Name, err)
		}
		c.DefinitionYAML = string(text)
	}
	if _, err := campaign.ParseDefinition("definition of "+c.Name, []byte(c.DefinitionYAML)); err != nil {
		return 0, fmt.Errorf("store: create campaign %q: %w: %w", c.Name, campaign.ErrInvalid, err)
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.Now()
	}
	var id int64
	err := s.inTx(ctx, func(tx *sqlTx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO campaigns (name, description, owner, owner_id, definition_yaml, snapshot_id,
			snapshot_digest, state, trigger, created_at, stage1_ends, deadline, stage2_started, stage3_started, closed_at, plan_digest)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			c.Name, c.Description, c.Owner, c.OwnerID, c.DefinitionYAML, c.SnapshotID, c.SnapshotDigest, string(c.State), c.Trigger,
			fmtTime(c.CreatedAt), fmtTime(c.Stage1Ends), fmtTime(c.Deadline), fmtTime(c.Stage2Started), fmtTime(c.Stage3Started),
			fmtTime(c.ClosedAt), c.PlanDigest).
			Scan(&id); err != nil {
			return err
		}
		if err := insertCases(ctx, tx, id, c.CreatedAt, cases); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, id, "", c.State, ev)
	})
	if err != nil {
		return 0, fmt.Errorf("store: create campaign %q: %w", c.Name, err)
	}
	c.ID = id
	return id, nil
}

const campaignColumns = `id, name, description, owner, owner_id, definition_yaml, snapshot_id, snapshot_digest, state, trigger,
	created_at, stage1_ends, deadline, stage2_started, closed_at, plan_digest, stage3_started`

// scanCampaign reads one row of campaignColumns and parses its definition.
func scanCampaign(r interface{ Scan(...any) error }) (*campaign.Campaign, error) {
	var c campaign.Campaign
	var state, created, stage1, deadline, stage2, closed, stage3 string
	if err := r.Scan(&c.ID, &c.Name, &c.Description, &c.Owner, &c.OwnerID, &c.DefinitionYAML, &c.SnapshotID, &c.SnapshotDigest,
		&state, &c.Trigger, &created, &stage1, &deadline, &stage2, &closed, &c.PlanDigest, &stage3); err != nil {
		return nil, err
	}
	c.State = campaign.State(state)
	c.CreatedAt, c.Stage1Ends, c.Deadline = parseTime(created), parseTime(stage1), parseTime(deadline)
	c.Stage2Started, c.ClosedAt, c.Stage3Started = parseTime(stage2), parseTime(closed), parseTime(stage3)
	def, err := campaign.ParseDefinition(fmt.Sprintf("campaign %d", c.ID), []byte(c.DefinitionYAML))
	if err != nil {
		return nil, err
	}
	c.Definition = def
	return &c, nil
}

// GetCampaign returns a campaign with its parsed definition. It returns an
// error wrapping campaign.ErrNotFound when there is no such campaign, and
// an error when its stored definition no longer parses.
func (s *Store) GetCampaign(ctx context.Context, id int64) (*campaign.Campaign, error) {
	c, err := scanCampaign(s.db.QueryRowContext(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: no campaign %d: %w", id, campaign.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: read campaign %d: %w", id, err)
	}
	return c, nil
}

// ListCampaigns returns the campaigns in the given states (all when none
// is given), newest first. It returns an error if the query fails or a
// stored definition no longer parses.
func (s *Store) ListCampaigns(ctx context.Context, states ...campaign.State) ([]campaign.Campaign, error) {
	q := `SELECT ` + campaignColumns + ` FROM campaigns`
	args := make([]any, len(states))
	if len(states) > 0 {
		for i, st := range states {
			args[i] = string(st)
		}
		q += ` WHERE state IN (` + placeholders(len(states)) + `)`
	}
	q += ` ORDER BY id DESC` // ids grow with creation
	var out []campaign.Campaign
	err := s.each(ctx, q, args, func(r *sql.Rows) error {
		c, err := scanCampaign(r)
		if err != nil {
			return err
		}
		out = append(out, *c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: list campaigns: %w", err)
	}
	return out, nil
}

// placeholders returns "?, ?, ..." for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// MoveCampaign moves a campaign from one state to c.State, saving its
// deadlines, stage-2 start and close time, and records the transition and
// ev, all in one transaction. It returns an error wrapping
// campaign.ErrConflict, naming the current state, when the campaign is no
// longer in from (someone else moved it first), and campaign.ErrNotFound
// when there is no such campaign.
func (s *Store) MoveCampaign(ctx context.Context, c *campaign.Campaign, from campaign.State, ev campaign.Event) error {
	err := s.inTx(ctx, func(tx *sqlTx) error {
		if err := moveState(ctx, tx, c, from); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, c.ID, from, c.State, ev)
	})
	if err != nil {
		return fmt.Errorf("store: move campaign %d to %s: %w", c.ID, c.State, err)
	}
	return nil
}

// moveState is the compare-and-swap of a campaign's state: the UPDATE
// applies only while the row is still in from, so of two concurrent moves
// exactly one wins and the other gets ErrConflict.
func moveState(ctx context.Context, tx *sqlTx, c *campaign.Campaign, from campaign.State) error {
	// stage3_started is never cleared: a move from a copy read before
	// stage 3 began keeps it.
	s3 := fmtTime(c.Stage3Started)
	res, err := tx.ExecContext(ctx, `UPDATE campaigns SET state = ?, stage1_ends = ?, deadline = ?, stage2_started = ?,
		stage3_started = CASE WHEN ? = '' THEN stage3_started ELSE ? END, closed_at = ? WHERE id = ? AND state = ?`,
		string(c.State), fmtTime(c.Stage1Ends), fmtTime(c.Deadline),
		fmtTime(c.Stage2Started), s3, s3, fmtTime(c.ClosedAt), c.ID, string(from))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	var current string
	err = tx.QueryRowContext(ctx, `SELECT state FROM campaigns WHERE id = ?`, c.ID).Scan(&current)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("no campaign %d: %w", c.ID, campaign.ErrNotFound)
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("campaign %d is %s, not %s: %w", c.ID, current, from, campaign.ErrConflict)
}

// CloseCampaign moves a campaign from one state to c.State like
// MoveCampaign and, in the same transaction, records every case's outcome,
// the remediation plan, its digest and the certification history. A zero
// c.ClosedAt is set to the store's clock; an empty c.PlanDigest is set to
// campaign.PlanDigest(plan), so every stored plan is bound to a digest;
// history records without a campaign get c.ID.
// It returns an error wrapping campaign.ErrConflict when the campaign was
// not in from, and campaign.ErrInvalid when an outcome names a case not in
// the campaign; on error nothing is stored.
func (s *Store) CloseCampaign(ctx context.Context, c *campaign.Campaign, from campaign.State, outcomes map[int64]string,
	plan []campaign.PlanItem, history []campaign.Certification, ev campaign.Event) error {
	if c.ClosedAt.IsZero() {
		c.ClosedAt = s.Now()
	}
	if c.PlanDigest == "" {
		c.PlanDigest = campaign.PlanDigest(plan)
	}
	err := s.inTx(ctx, func(tx *sqlTx) error {
		if err := moveState(ctx, tx, c, from); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET plan_digest = ? WHERE id = ?`, c.PlanDigest, c.ID); err != nil {
			return err
		}
		if err := writeOutcomes(ctx, tx, c.ID, outcomes); err != nil {
			return err
		}
		if err := writePlan(ctx, tx, c.ID, plan); err != nil {
			return err
		}
		if err := writeHistory(ctx, tx, c.ID, history); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, c.ID, from, c.State, ev)
	})
	if err != nil {
		return fmt.Errorf("store: close campaign %d: %w", c.ID, err)
	}
	return nil
}

// outcomeChunk is how many case ids one statement of writeOutcomeList
// carries.
const outcomeChunk = 500

// writeOutcomes records the outcome of many cases (case_outcomes):
// grouped by outcome (there are a handful) and in id order, so that each
// statement takes a run of neighbouring cases found by primary key. A
// statement per case would take minutes for millions of cases.
func writeOutcomes(ctx context.Context, tx *sqlTx, campaignID int64, outcomes map[int64]string) error {
	byOutcome := map[string][]int64{}
	for id, o := range outcomes {
		byOutcome[o] = append(byOutcome[o], id)
	}
	for _, ids := range byOutcome {
		slices.Sort(ids)
	}
	return writeOutcomeIDs(ctx, tx, campaignID, byOutcome)
}

// writeOutcomeIDs records the outcome of the cases listed under each
// outcome (each list ascending) in case_outcomes: runs of consecutive ids
// a statement each, the rest in chunks of outcomeChunk ids. It returns an
// error wrapping campaign.ErrInvalid when an id names a case not in the
// campaign, and fails on a case whose outcome is recorded already.
func writeOutcomeIDs(ctx context.Context, tx *sqlTx, campaignID int64, byOutcome map[string][]int64) error {
	runs, rest := outcomeRuns(byOutcome)
	if err := writeOutcomeRuns(ctx, tx, campaignID, runs); err != nil {
		return err
	}
	return writeOutcomeList(ctx, tx, campaignID, rest)
}

// minOutcomeRun is the shortest run of consecutive case ids whose
// outcome is written as one id range rather than listed id by id.
const minOutcomeRun = 16

// outcomeRun is the outcome of the cases first to last.
type outcomeRun struct {
	outcome     string
	first, last int64
}

// outcomeRuns splits each outcome's ascending ids into runs of at least
// minOutcomeRun consecutive ids and the ids left over. A campaign's cases
// have consecutive ids, so a close where most cases share an outcome
// (nobody answered) writes a few ranges instead of millions of ids.
func outcomeRuns(byOutcome map[string][]int64) ([]outcomeRun, map[string][]int64) {
	var runs []outcomeRun
	rest := map[string][]int64{}
	for o, ids := range byOutcome {
		var left []int64
		for i := 0; i < len(ids); {
			j := i + 1
			for j < len(ids) && ids[j] == ids[j-1]+1 {
				j++
			}
			if j-i >= minOutcomeRun {
				runs = append(runs, outcomeRun{outcome: o, first: ids[i], last: ids[j-1]})
			} else {
				left = append(left, ids[i:j]...)
			}
			i = j
		}
		if len(left) > 0 {
			rest[o] = left
		}
	}
	slices.SortFunc(runs, func(a, b outcomeRun) int { return cmp.Compare(a.first, b.first) })
	return runs, rest
}

// writeOutcomeRuns writes each run's outcome with one statement over an
// id range. It returns an error wrapping campaign.ErrInvalid when a run
// names a case not in the campaign.
func writeOutcomeRuns(ctx context.Context, tx *sqlTx, campaignID int64, runs []outcomeRun) error {
	if len(runs) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO case_outcomes (case_id, outcome)
		SELECT id, ? FROM cases WHERE +campaign_id = ? AND id BETWEEN ? AND ?`)
	if err != nil {
		return fmt.Errorf("outcomes: %w", err)
	}
	defer stmt.Close()
	for _, r := range runs {
		k, err := affected(stmt.ExecContext(ctx, r.outcome, campaignID, r.first, r.last))
		if err != nil {
			return err
		}
		if err := outcomesWritten(campaignID, k, r.last-r.first+1); err != nil {
			return err
		}
	}
	return nil
}

// affected is the number of rows a statement wrote, or its error.
func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, fmt.Errorf("outcomes: %w", err)
	}
	k, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("outcomes: %w", err)
	}
	return k, nil
}

// outcomesWritten checks that all want outcomes were written: an id of
// another campaign, or of no case, writes nothing (ErrInvalid).
func outcomesWritten(campaignID, written, want int64) error {
	if written != want {
		return fmt.Errorf("%d of %d outcomes name cases not in campaign %d: %w", want-written, want, campaignID, campaign.ErrInvalid)
	}
	return nil
}

// writeOutcomeList writes the outcomes of cases listed id by id, a chunk
// of ids a statement: on SQLite outcomeChunk placeholders (the full-size
// statement prepared once), on PostgreSQL one bigint[] parameter of up to
// pgOutcomeChunk ids, so a million outcomes take a few dozen statements.
func writeOutcomeList(ctx context.Context, tx *sqlTx, campaignID int64, byOutcome map[string][]int64) error {
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	chunk, exec := outcomeChunk, func(o string, ids []int64) (sql.Result, error) {
		args := make([]any, 0, len(ids)+2)
		args = append(args, o, campaignID)
		for _, id := range ids {
			args = append(args, id)
		}
		if len(ids) < outcomeChunk {
			return tx.ExecContext(ctx, outcomeUpdate(len(ids)), args...)
		}
		if full == nil {
			var err error
			if full, err = tx.PrepareContext(ctx, outcomeUpdate(outcomeChunk)); err != nil {
				return nil, err
			}
		}
		return full.ExecContext(ctx, args...)
	}
	if tx.d == dialectPostgres {
		chunk, exec = pgOutcomeChunk, func(o string, ids []int64) (sql.Result, error) {
			return tx.ExecContext(ctx, `INSERT INTO case_outcomes (case_id, outcome)
				SELECT id, ? FROM cases WHERE +campaign_id = ? AND id = ANY(?::bigint[])`, o, campaignID, ids)
		}
	}
	var written, total int64
	for _, o := range slices.Sorted(maps.Keys(byOutcome)) {
		ids := byOutcome[o]
		total += int64(len(ids))
		for len(ids) > 0 {
			n := min(len(ids), chunk)
			k, err := affected(exec(o, ids[:n]))
			if err != nil {
				return err
			}
			written, ids = written+k, ids[n:]
		}
	}
	return outcomesWritten(campaignID, written, total)
}

// pgOutcomeChunk is how many case ids one PostgreSQL statement of
// writeOutcomeList carries, as one array parameter.
const pgOutcomeChunk = 50000

// outcomeUpdate is the statement writing one outcome for n case ids of a
// campaign: it takes them from the campaign's cases, so an id of another
// campaign writes nothing. The unary + keeps the planner off the
// campaign_id indexes: through them it would visit every case of the
// campaign for each statement instead of n by primary key.
func outcomeUpdate(n int) string {
	return `INSERT INTO case_outcomes (case_id, outcome)
		SELECT id, ? FROM cases WHERE +campaign_id = ? AND id IN (` + placeholders(n) + `)`
}

// ReserveCaseIDs takes n consecutive case ids for a launch that writes
// its slices side by side (AddCasesFrom) and returns the first. Only
// PostgreSQL, whose writers can run at once, takes them: on SQLite it
// returns ok false and the launch writes its slices in turn (AddCases).
func (s *Store) ReserveCaseIDs(ctx context.Context, n int) (first int64, ok bool, err error) {
	if s.db.d != dialectPostgres {
		return 0, false, nil
	}
	err = s.inPgTx(ctx, func(tx pgx.Tx) error {
		first, err = pgTakeCaseIDs(ctx, tx, n)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("store: reserve %d case ids: %w", n, err)
	}
	return first, true, nil
}

// AddCasesFrom adds new cases to a draft campaign numbered from first,
// ids ReserveCaseIDs took: with one COPY in a transaction of its own that
// does not take the store's write lock (it reads nothing, and writes rows
// no other transaction knows of), so a launch's slices are written on
// several connections at once. Cases holding answers are refused.
func (s *Store) AddCasesFrom(ctx context.Context, campaignID int64, createdAt time.Time, first int64, cases []campaign.CaseRecord) error {
	if s.db.d != dialectPostgres {
		return fmt.Errorf("store: numbered case slices need PostgreSQL: %w", campaign.ErrInvalid)
	}
	if anyAnswers(cases) {
		return fmt.Errorf("store: numbered case slices hold new cases only: %w", campaign.ErrInvalid)
	}
	if err := s.inPgTxUnlocked(ctx, func(tx pgx.Tx) error {
		return copyCasesFrom(ctx, tx, campaignID, createdAt, first, cases)
	}); err != nil {
		return fmt.Errorf("store: add cases to campaign %d: %w", campaignID, err)
	}
	return nil
}

// anyAnswers reports whether a case holds more than a new case does.
func anyAnswers(cases []campaign.CaseRecord) bool {
	for i := range cases {
		if hasAnswers(&cases[i]) {
			return true
		}
	}
	return false
}

// AddCases adds a slice of cases to a campaign in one transaction, as a
// large launch writes them: numbered after the highest case id so far.
func (s *Store) AddCases(ctx context.Context, campaignID int64, createdAt time.Time, cases []campaign.CaseRecord) error {
	var err error
	if s.db.d == dialectPostgres && !anyAnswers(cases) {
		err = s.inPgTx(ctx, func(tx pgx.Tx) error { return copyCases(ctx, tx, campaignID, createdAt, cases) })
	} else {
		err = s.inTx(ctx, func(tx *sqlTx) error { return insertCases(ctx, tx, campaignID, createdAt, cases) })
	}
	if err != nil {
		return fmt.Errorf("store: add cases to campaign %d: %w", campaignID, err)
	}
	return nil
}
