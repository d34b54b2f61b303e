package evidence

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/attestbot/attest/internal/csvsafe"
)

// CasesCSVHeader is cases.csv's header: cases.json's fields, one case a
// row, lists joined with spaces and unknown times empty.
var CasesCSVHeader = []string{"id", "user_id", "user_email", "user_name", "user_status", "department", "kind",
	"entitlement_id", "entitlement", "direct", "via_groups", "flags", "risk", "manager_id", "reviewer_id", "reviewer",
	"escalation_level", "delegated_by", "member_decision", "member_comment", "member_at", "reviewer_decision",
	"reviewer_comment", "reviewer_at", "decided_by", "accept_until", "outcome",
	"owner_decision", "owner_comment", "owner_at", "owner_decided_by", "owner_decided_by_id"}

// writeCasesCSV writes cases.csv through csvsafe, so no cell is a formula
// when a spreadsheet opens it.
func writeCasesCSV(w io.Writer, cases []Case) error {
	cw := csvsafe.NewWriter(w)
	if err := cw.Write(CasesCSVHeader); err != nil {
		return err
	}
	row := make([]string, 0, len(CasesCSVHeader))
	for i := range cases {
		c := &cases[i]
		row = append(row[:0], strconv.FormatInt(c.ID, 10), c.UserID, c.UserEmail, c.UserName, c.UserStatus, c.Department,
			c.Kind, c.EntitlementID, c.Entitlement, strconv.FormatBool(c.Direct), strings.Join(c.ViaGroups, " "),
			strings.Join(c.Flags, " "), c.Risk, c.ManagerID, c.ReviewerID, c.Reviewer, strconv.Itoa(c.EscalationLevel),
			c.DelegatedBy, c.MemberDecision, c.MemberComment, csvTime(c.MemberAt), c.ReviewerDecision, c.ReviewerComment,
			csvTime(c.ReviewerAt), c.DecidedBy, csvTime(c.AcceptUntil), c.Outcome,
			c.OwnerDecision, c.OwnerComment, csvTime(c.OwnerAt), c.OwnerDecidedBy, c.OwnerDecidedByID)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}
