package blocks

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/slack-go/slack"
)

// update rewrites the golden files: go test ./blocks -update
var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the current output")

// goldenCase is one surface and the golden file it must match.
type goldenCase struct {
	name    string
	surface Surface
	build   func() any // []slack.Block, slack.ModalViewRequest or slack.HomeTabViewRequest
}

func goldenCases() []goldenCase {
	five := entitlements(5)
	approved := sampleApproval()
	approved.State = PlanApproved
	approved.Approvals = append(approved.Approvals, Decision{By: carol, Decision: "approve", At: t0.Add(3600e9)})
	rejected := sampleApproval()
	rejected.State = PlanRejected
	rejected.Approvals = []Decision{{By: carol, Decision: "reject", At: t0}}
	return []goldenCase{
		{"member_form", Message, func() any {
			return MemberFormBlocks(MemberForm{CampaignID: 42, Campaign: "Q4 access review", Deadline: deadline,
				Why: "SOX quarterly certification of <finance> & HR apps.", Entitlements: five,
				Page: 1, Pages: 1, Button: MemberFormRef(42, "00u7alice", 1), Comment: "I am on leave in December"})
		}},
		{"member_form_page2", Message, func() any {
			return MemberFormBlocks(MemberForm{CampaignID: 42, Campaign: "Q4 access review",
				Entitlements: entitlements(3), Page: 2, Pages: 3, Button: MemberFormRef(42, "00u7alice", 2)})
		}},
		{"reviewer_form", Message, func() any {
			return ReviewerFormBlocks(ReviewerForm{CampaignID: 42, Campaign: "Q4 access review", Deadline: deadline,
				Member: alice, Escalated: true, EscalatedFrom: "Bob Jones", Entitlements: five,
				Page: 1, Pages: 1, BulkAllowed: true, Button: ReviewerFormRef(42, "00u7alice", 1)})
		}},
		{"reviewer_form_delegated", Message, func() any {
			return ReviewerFormBlocks(ReviewerForm{CampaignID: 42, Campaign: "Q4 access review",
				Member: carol, DelegatedBy: "Bob Jones", Entitlements: entitlements(2), Button: ReviewerFormRef(42, "00u8carol", 1)})
		}},
		{"answered_member", Message, func() any {
			return AnsweredBlocks(Answered{Campaign: "Q4 access review", Title: "Your answers", Editable: true,
				Button: MemberFormRef(42, "00u7alice", 1), Rows: []AnsweredRow{
					{"Salesforce", ValueKeep, ""}, {"AWS Production", ValueRevoke, "moved teams"},
					{"Jira", ValueUnsure, "ask <@U0BOB> & co"}, {"Figma", "", ""}}})
		}},
		{"answered_reviewer_closed", Message, func() any {
			return AnsweredBlocks(Answered{Campaign: "Q4 access review", Title: "Your decisions for Alice",
				Reviewer: true, Editable: true, ClosedNote: "Stage 2 closed on Fri 4 Dec 2026.",
				Rows: []AnsweredRow{{"Salesforce", ValueKeep, ""}, {"AWS Production", ValueRevoke, "not used"}}})
		}},
		{"status", Message, func() any {
			return StatusBlocks(Status{CampaignID: 42, Campaign: "Q4 access review", State: "stage2",
				Deadline: deadline, MembersAnswered: 31, Members: 40, Stage1Answered: 120, Stage1Total: 150,
				Stage2Decided: 12, Stage2Total: 60, Revoked: 9, Escalations: 2,
				Overdue: []Person{alice, bob, carol}, Updated: t0})
		}},
		{"approval_closed", Message, func() any { return ApprovalBlocks(sampleApproval()) }},
		{"approval_approved", Message, func() any { return ApprovalBlocks(approved) }},
		{"approval_rejected", Message, func() any { return ApprovalBlocks(rejected) }},
		{"approval_reviewer_flags", Message, func() any {
			a := sampleApproval()
			a.ReviewerFlags = []string{"bob@example.com (stage2): fast decisions: 120 decisions under 2 s (threshold 50)",
				"<@U0EVIL> (stage2): all kept stale: kept 40 of 40 cases, 31 with stale or unused access"}
			return ApprovalBlocks(a)
		}},
		{"home_admin", HomeTab, func() any { return HomeView(bigHome(3, 2)) }},
		{"home_empty", HomeTab, func() any { return HomeView(Home{}) }},
		{"launch_modal", Modal, func() any {
			return LaunchModalView(LaunchModal{Definitions: []string{"quarterly", "finance-apps", "aws"},
				Selected: "finance-apps", Deadline: deadline,
				Preview: &Preview{Cases: 120, Members: 40, Reviewers: 8, Apps: 15,
					Flags: map[string]int{"unused_app": 3, "stale_login": 12}},
				Error: "Definition \"aws\" has no reviewers & was skipped"})
		}},
		{"launch_modal_empty", Modal, func() any { return LaunchModalView(LaunchModal{}) }},
		{"delegate_modal", Modal, func() any {
			return DelegateModalView(DelegateModal{Member: alice, Form: ReviewerFormRef(42, "00u7alice", 1)})
		}},
		{"owner_form", Message, func() any {
			return OwnerFormBlocks(OwnerForm{CampaignID: 42, Campaign: "Q4 access review", Deadline: deadline, App: "Salesforce",
				LinkURL: "https://example.okta.com/home/salesforce/0oa1", People: 26, Rows: ownerRows(6), Page: 1, Pages: 2,
				Button: OwnerFormRef(42, "0oa1salesforce", 1), Comment: "checked with the sales ops lead"})
		}},
		{"owner_form_iam", Message, func() any {
			return OwnerFormBlocks(OwnerForm{CampaignID: 42, Campaign: "Q4 access review", App: "Salesforce", ForIAM: true,
				Rows: ownerRows(1), Button: OwnerFormRef(42, "0oa1salesforce", 1)})
		}},
		{"help", Message, func() any { return HelpBlocks("/access-review") }},
		{"sign_off", Message, func() any { return SignOffBlocks(sampleSignOff()) }},
		{"sign_off_declined", Message, func() any {
			s := sampleSignOff()
			s.State, s.By, s.At, s.Reason = SignOffDeclined, alice, t0, "AWS <prod> removals need a ticket first"
			return SignOffBlocks(s)
		}},
		{"sign_off_decline_modal", Modal, func() any {
			return SignOffDeclineModal("Q4 access review", SignOffRef(42, sampleSignOff().Digest))
		}},
	}
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.build()
			switch x := v.(type) {
			case []slack.Block:
				mustValid(t, tc.surface, x)
			case slack.ModalViewRequest:
				if err := ValidateModal(x); err != nil {
					t.Fatalf("ValidateModal: %v", err)
				}
			case slack.HomeTabViewRequest:
				if err := ValidateHome(x); err != nil {
					t.Fatalf("ValidateHome: %v", err)
				}
			default:
				t.Fatalf("unexpected surface type %T", v)
			}
			got, err := json.MarshalIndent(v, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", tc.name+".golden.json")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./blocks -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file; if the change is intended, run go test ./blocks -update\ngot:\n%s", path, got)
			}
		})
	}
}

// TestGoldenDeterministic guards the goldens against map order and other
// nondeterminism: two builds of every surface are byte for byte equal.
func TestGoldenDeterministic(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i < 5; i++ {
				a, _ := json.Marshal(tc.build())
				b, _ := json.Marshal(tc.build())
				if !bytes.Equal(a, b) {
					t.Fatalf("two builds differ:\n%s\n%s", a, b)
				}
			}
		})
	}
}

func sampleSignOff() SignOff {
	return SignOff{CampaignID: 42, Campaign: "Q4 access review", Owner: alice, State: SignOffOpen,
		Summary:    "28 cases: 21 kept, 4 revoked (1 by the member's own answer), 3 undecided (3 kept, 0 revoked by the no-decision rule). 4 removals: 4 done and read back, 0 not done, 0 came back.",
		Exceptions: []string{"leaver: access kept: gone@x.com App 1 — user is SUSPENDED in Okta (okta_suspended, orphaned); removal: none", "operation failed: <b@x.com> AWS — forbidden"},
		ManualOpen: []string{"incident INC0010001 (pending)"},
		Digest:     "3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea"}
}
