-- A closed case's outcome is written once, at close, into a narrow table
-- of its own instead of into the wide cases row: a close of a million
-- cases inserts a million small rows, where an UPDATE of cases.outcome
-- wrote every row again and an entry in each of the cases table's three
-- indexes (20 s of a 43 s close at 1.5M cases). Reads take
-- COALESCE(case_outcomes.outcome, cases.outcome): cases closed before
-- this migration keep theirs in cases.outcome. No foreign key (its check
-- per row would cost what the UPDATE did): the close inserts from a
-- SELECT of the campaign's own cases.
CREATE TABLE case_outcomes (
    case_id BIGINT PRIMARY KEY,
    outcome TEXT   NOT NULL
);
