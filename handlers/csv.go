package handlers

import (
	"io"
	"strconv"
	"strings"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/csvsafe"
)

// writePlanCSV writes every plan item, one row each, for the approval
// thread: what approvers approve is exactly this list.
func writePlanCSV(w io.Writer, plan []campaign.PlanItem) error {
	cw := csvsafe.NewWriter(w)
	if err := cw.Write([]string{"seq", "kind", "user_id", "group_id", "app_id", "case_ids", "note"}); err != nil {
		return err
	}
	for _, p := range plan {
		ids := make([]string, len(p.CaseIDs))
		for i, id := range p.CaseIDs {
			ids[i] = strconv.FormatInt(id, 10)
		}
		if err := cw.Write([]string{strconv.Itoa(p.Seq), p.Kind, p.UserID, p.GroupID, p.AppID, strings.Join(ids, " "), p.Reason}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
