package handlers

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/attestbot/attest/campaign"
)

// The plan CSV goes to the approvals channel, where approvers open it in a
// spreadsheet: a note or an id that reads as a formula must stay text.
func TestWritePlanCSVNeutralisesFormulas(t *testing.T) {
	const hostile = `=HYPERLINK("https://evil.example","approve me")`
	var b bytes.Buffer
	err := writePlanCSV(&b, []campaign.PlanItem{{Seq: 1, Kind: campaign.OpUnassignApp, UserID: "@u1", AppID: "+a1",
		CaseIDs: []int64{3, 4}, Reason: hostile}})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("rows = %q, want a header and one item", rows)
	}
	for i, want := range []string{"1", campaign.OpUnassignApp, "'@u1", "", "'+a1", "3 4", "'" + hostile} {
		if rows[1][i] != want {
			t.Errorf("column %s = %q, want %q", rows[0][i], rows[1][i], want)
		}
	}
}
