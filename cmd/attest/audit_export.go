package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/csvsafe"
	"github.com/attestbot/attest/store"
)

// evidence is everything an auditor asks of one campaign (SOC 2, ISO 27001,
// SOX user access reviews): what was in scope and when the directory was
// read, every decision with who made it and when, the approvals, every
// Okta operation with its result, and the audit trail itself.
type evidence struct {
	GeneratedAt    time.Time             `json:"generated_at"`
	Campaign       campaignView          `json:"campaign"`
	DefinitionYAML string                `json:"definition_yaml"`
	SnapshotTaken  time.Time             `json:"snapshot_taken"`
	Summary        *campaign.Report      `json:"summary"`
	Approvals      []campaign.Approval   `json:"approvals"`
	Operations     []campaign.Operation  `json:"operations"`
	Events         []campaign.Event      `json:"events"`
	Cases          []campaign.CaseRecord `json:"cases"`
}

// export writes a campaign's evidence: one JSON file, or a set of CSV files
// (summary, cases, approvals, operations, events) into --out.
func (ac *auditCmd) export(fs *flag.FlagSet, args []string) error {
	id := fs.Int64("campaign", 0, "campaign id (required)")
	format := fs.String("format", "csv", "csv or json")
	out := fs.String("out", ".", "directory to write into")
	if err := ac.parse(fs, args); err != nil {
		return err
	}
	if *id <= 0 {
		return usagef("--campaign ID is required")
	}
	if *format != "csv" && *format != "json" {
		return usagef("--format %q: use csv or json", *format)
	}
	if err := ac.open(true); err != nil {
		return err
	}
	if err := currentSchema(ac.e.ctx, ac.st, store.Redact(ac.cfg.Store.Target())); err != nil {
		return err
	}
	ctx := ac.e.ctx
	c, err := ac.st.GetCampaign(ctx, *id)
	if err != nil {
		return friendly(err)
	}
	eng := &campaign.Engine{Store: ac.st}
	ev := evidence{GeneratedAt: time.Now().UTC(), Campaign: campaignJSON(c), DefinitionYAML: c.DefinitionYAML}
	if ev.Summary, err = eng.Report(ctx, c.ID); err != nil {
		return err
	}
	if info, err := ac.st.Snapshot(ctx, c.SnapshotID); err == nil {
		ev.SnapshotTaken = info.CompletedAt
	}
	if ev.Approvals, err = ac.st.Approvals(ctx, c.ID); err != nil {
		return err
	}
	if ev.Operations, err = ac.st.Operations(ctx, c.ID); err != nil {
		return err
	}
	if ev.Events, err = ac.st.Events(ctx, c.ID); err != nil {
		return err
	}
	if ev.Cases, err = ac.st.Cases(ctx, c.ID, campaign.CaseQuery{}); err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o750); err != nil {
		return err
	}
	prefix := filepath.Join(*out, fmt.Sprintf("attest-campaign-%d-", c.ID))
	var files []string
	if *format == "json" {
		f := prefix + "evidence.json"
		if err := writeFileJSON(f, ev); err != nil {
			return err
		}
		files = append(files, f)
	} else {
		if files, err = writeEvidenceCSV(prefix, &ev); err != nil {
			return err
		}
	}
	if ac.c.json {
		return writeJSON(ac.e.stdout, map[string]any{"campaign": c.ID, "files": files})
	}
	for _, f := range files {
		fmt.Fprintln(ac.e.stdout, f)
	}
	return nil
}

func writeFileJSON(path string, v any) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeEvidenceCSV writes the evidence as five CSV files.
func writeEvidenceCSV(prefix string, ev *evidence) ([]string, error) {
	tables := []struct {
		name string
		rows [][]string
	}{
		{"summary.csv", summaryRows(ev)},
		{"approvals.csv", approvalRows(ev.Approvals)},
		{"operations.csv", operationRows(ev.Operations)},
		{"events.csv", eventRows(ev.Events)},
	}
	var files []string
	for _, t := range tables {
		f := prefix + t.name
		if err := writeCSVFile(f, t.rows); err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	// Cases use the report's own CSV: one row per case, every answer.
	f := prefix + "cases.csv"
	out, err := os.Create(f)
	if err != nil {
		return nil, err
	}
	if err := ev.Summary.WriteCSV(out); err != nil {
		out.Close()
		return nil, err
	}
	return append(files, f), out.Close()
}

func writeCSVFile(path string, rows [][]string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csvsafe.NewWriter(f)
	if err := w.WriteAll(rows); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func summaryRows(ev *evidence) [][]string {
	r := ev.Summary
	rows := [][]string{{"field", "value"},
		{"campaign_id", strconv.FormatInt(r.ID, 10)}, {"name", r.Name}, {"state", string(r.State)}, {"owner", r.Owner},
		{"launched", r.CreatedAt.Format(time.RFC3339)}, {"deadline", r.Deadline.Format(time.RFC3339)},
		{"closed", rfc(r.ClosedAt)}, {"snapshot_id", strconv.FormatInt(r.SnapshotID, 10)},
		{"snapshot_taken", rfc(ev.SnapshotTaken)}, {"snapshot_sha256", r.SnapshotDigest}, {"cases", strconv.Itoa(r.Cases)},
		{"definition", strings.TrimSpace(ev.DefinitionYAML)}, {"generated", ev.GeneratedAt.Format(time.RFC3339)}}
	keys := make([]string, 0, len(r.ByState))
	for k := range r.ByState {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		rows = append(rows, []string{"cases_" + k, strconv.Itoa(r.ByState[k])})
	}
	return rows
}

func approvalRows(list []campaign.Approval) [][]string {
	rows := [][]string{{"approver", "decision", "at"}}
	for _, a := range list {
		rows = append(rows, []string{a.Approver, a.Decision, a.At.Format(time.RFC3339)})
	}
	return rows
}

func operationRows(list []campaign.Operation) [][]string {
	rows := [][]string{{"seq", "kind", "user_id", "group_id", "app_id", "case_ids", "state", "result", "attempts", "error_code",
		"error_summary", "executor", "finished_at", "read_back"}}
	for _, o := range list {
		ids := make([]string, len(o.CaseIDs))
		for i, id := range o.CaseIDs {
			ids[i] = strconv.FormatInt(id, 10)
		}
		rows = append(rows, []string{strconv.Itoa(o.Seq), o.Kind, o.UserID, o.GroupID, o.AppID, strings.Join(ids, " "), o.State,
			o.Result, strconv.Itoa(o.Attempts), o.ErrorCode, o.ErrorSummary, o.ClaimedBy, rfc(o.FinishedAt), o.Verified})
	}
	return rows
}

func eventRows(list []campaign.Event) [][]string {
	rows := [][]string{{"id", "at", "type", "case_id", "actor", "actor_id", "via", "slack_user", "slack_team", "detail"}}
	for _, e := range list {
		d, _ := json.Marshal(e.Detail)
		rows = append(rows, []string{strconv.FormatInt(e.ID, 10), e.At.Format(time.RFC3339Nano), e.Type, strconv.FormatInt(e.CaseID, 10),
			e.Actor.Email, e.Actor.UserID, e.Actor.Via, e.Actor.SlackUserID, e.Actor.SlackTeamID, string(d)})
	}
	return rows
}

func rfc(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}
