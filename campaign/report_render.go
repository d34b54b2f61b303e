package campaign

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/attestbot/attest/internal/csvsafe"
)

// ReportCSVHeader is the header of WriteCSV.
var ReportCSVHeader = []string{"case_id", "user_id", "user_email", "user_name", "department", "kind", "entitlement_id",
	"entitlement", "granted_by", "flags", "risk", "member_decision", "member_comment", "member_at", "reviewer",
	"reviewer_decision", "reviewer_comment", "reviewer_at", "decided_by", "escalation_level", "delegated_by",
	"accept_until", "outcome"}

// WriteCSV writes one row per case with every answer given about it.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csvsafe.NewWriter(w)
	if err := cw.Write(ReportCSVHeader); err != nil {
		return err
	}
	for i := range r.caseRows {
		cs := &r.caseRows[i]
		var email, name, dept string
		if u := r.people[cs.UserID]; u != nil {
			email, name, dept = firstNonEmpty(u.Email, u.Login), u.DisplayName(), u.Department
		}
		reviewer := "IAM team"
		if u := r.people[cs.ReviewerID]; u != nil {
			reviewer = firstNonEmpty(u.Email, u.Login)
		}
		var granted []string
		if cs.Direct {
			granted = append(granted, "direct")
		}
		for _, g := range cs.ViaGroups {
			granted = append(granted, "group:"+g)
		}
		rec := []string{strconv.FormatInt(cs.ID, 10), cs.UserID, email, name, dept, cs.Kind, cs.EntitlementID, cs.Label,
			strings.Join(granted, "; "), strings.Join(cs.Flags.Names(), " "), cs.Risk, cs.MemberDecision, cs.MemberComment,
			rfc3339(cs.MemberAt), reviewer, cs.ReviewerDecision, cs.ReviewerComment, rfc3339(cs.ReviewerAt), cs.DecidedBy,
			strconv.Itoa(cs.EscalationLevel), cs.DelegatedBy, rfc3339(cs.AcceptUntil), cs.Outcome}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteMarkdown renders the report as Markdown tables.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Access review %d: %s\n\n", r.ID, md(r.Name))
	fmt.Fprintf(&b, "| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| State | %s |\n| Owner | %s |\n| Launched | %s |\n| Deadline | %s |\n", r.State, md(r.Owner),
		r.CreatedAt.Format(time.RFC3339), r.Deadline.Format(time.RFC3339))
	if !r.ClosedAt.IsZero() {
		fmt.Fprintf(&b, "| Closed | %s |\n", r.ClosedAt.Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "| Snapshot | %d (SHA-256 `%s`) |\n| Cases | %d |\n\n", r.SnapshotID, r.SnapshotDigest, r.Cases)
	b.WriteString("## Cases by state\n\n| state | cases |\n|---|---:|\n")
	keys := make([]string, 0, len(r.ByState))
	for k := range r.ByState {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "| %s | %d |\n", strings.ReplaceAll(k, "_", " "), r.ByState[k])
	}
	for _, t := range []struct {
		title string
		rows  []ProgressRow
	}{{"Progress per team", r.PerTeam}, {"Progress per reviewer", r.PerReviewer}} {
		fmt.Fprintf(&b, "\n## %s\n\n| name | cases | answered by member | decided by reviewer | escalated | open |\n|---|---:|---:|---:|---:|---:|\n", t.title)
		for _, p := range t.rows {
			fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d |\n", md(p.Name), p.Cases, p.MemberAnswered, p.Decided, p.Escalated, p.Open)
		}
	}
	b.WriteString("\n## Outcomes per entitlement\n\n| entitlement | kind | cases | kept | revoked | no decision |\n|---|---|---:|---:|---:|---:|\n")
	for _, a := range r.PerApp {
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d |\n", md(a.Label), a.Kind, a.Cases, a.Kept, a.Revoked, a.NoDecision)
	}
	if len(r.PlanItems) > 0 {
		b.WriteString("\n## Remediation plan\n\n| # | kind | user | group | app | cases | note |\n|---:|---|---|---|---|---|---|\n")
		for _, p := range r.PlanItems {
			ids := make([]string, len(p.CaseIDs))
			for i, id := range p.CaseIDs {
				ids[i] = strconv.FormatInt(id, 10)
			}
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s |\n", p.Seq, p.Kind, md(p.UserID), md(p.GroupID), md(p.AppID),
				strings.Join(ids, " "), md(p.Reason))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// md escapes text for a Markdown table cell.
func md(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
}
