package blocks

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

// formCheck is what every form page must satisfy, whoever owns the form.
type formCheck struct {
	name    string
	pages   func([]Entitlement) [][]slack.Block
	values  []string // the radio option values, in order
	submit  string   // the submit button's action_id
	perCase int      // blocks per entitlement row
}

var formChecks = []formCheck{
	{"member", memberPages, []string{ValueKeep, ValueRevoke, ValueUnsure}, ActionMemberSubmit, 1},
	{"reviewer", reviewerPages, []string{ValueKeep, ValueRevoke}, ActionReviewerSubmit, 2},
}

func TestFormPagesAtScale(t *testing.T) {
	for _, n := range []int{1, 20, 200} {
		for _, fc := range formChecks {
			t.Run(fmt.Sprintf("%s/%d", fc.name, n), func(t *testing.T) {
				ents := entitlements(n)
				pages := fc.pages(ents)
				wantPages, _ := Paginate(n)
				if len(pages) != wantPages {
					t.Fatalf("pages = %d, want %d", len(pages), wantPages)
				}
				seen := map[int64]int{}
				for p, blks := range pages {
					checkFormPage(t, fc, p+1, blks, ents, seen)
				}
				for _, e := range ents {
					if seen[e.CaseID] != 1 {
						t.Errorf("case %d appears %d times across pages, want exactly 1", e.CaseID, seen[e.CaseID])
					}
				}
			})
		}
	}
}

// checkFormPage checks one page and counts the cases it shows in seen.
func checkFormPage(t *testing.T, fc formCheck, page int, blks []slack.Block, ents []Entitlement, seen map[int64]int) {
	t.Helper()
	mustValid(t, Message, blks)
	if len(blks) > maxMessageBlocks {
		t.Fatalf("page %d has %d blocks, more than %d", page, len(blks), maxMessageBlocks)
	}
	byID := map[int64]Entitlement{}
	for _, e := range ents {
		byID[e.CaseID] = e
	}
	radios := 0
	for i, m := range asMaps(t, blks) {
		acc, _ := m["accessory"].(map[string]any)
		if str(acc["type"]) != "radio_buttons" {
			continue
		}
		radios++
		id, ok := ParseCaseBlockID(str(m["block_id"]))
		if !ok {
			t.Fatalf("page %d block %d holds radio buttons but block_id %q is not a case id", page, i, m["block_id"])
		}
		e, ok := byID[id]
		if !ok {
			t.Fatalf("page %d: unknown case %d", page, id)
		}
		seen[id]++
		if text := textOf(m["text"]); !strings.Contains(text, e.Label) {
			t.Errorf("case %d: block text %q does not name label %q", id, text, e.Label)
		}
		if str(acc["action_id"]) != ActionDecision {
			t.Errorf("case %d: action_id %q, want %q", id, acc["action_id"], ActionDecision)
		}
		if got := optionValues(acc); !reflect.DeepEqual(got, fc.values) {
			t.Errorf("case %d: option values %v, want exactly %v", id, got, fc.values)
		}
		io, hasInitial := acc["initial_option"].(map[string]any)
		wantInitial := validAnswer(roleOf(fc), e.Current)
		if hasInitial != wantInitial || (hasInitial && str(io["value"]) != e.Current) {
			t.Errorf("case %d: initial_option %v, want current answer %q", id, io, e.Current)
		}
		if fc.perCase == 2 {
			next, _ := asJSON(blks[i+1])
			if str(next["type"]) != "context" || !strings.Contains(textOf(list(next["elements"])[0]), "Member") {
				t.Errorf("case %d: reviewer row is not followed by the member's answer: %v", id, next)
			}
		}
	}
	if radios == 0 {
		t.Fatalf("page %d has no entitlement rows", page)
	}
	if got := buttons(t, blks)[fc.submit]; !strings.Contains(got, "Submit") {
		t.Errorf("page %d: submit button %q = %q, want a text containing \"Submit\"", page, fc.submit, got)
	}
	comments := 0
	for _, m := range asMaps(t, blks) {
		if str(m["type"]) == "input" && str(m["block_id"]) == BlockComment {
			comments++
			el, _ := m["element"].(map[string]any)
			if str(el["action_id"]) != ActionComment || el["multiline"] != true || el["max_length"] != float64(2000) {
				t.Errorf("page %d: comment input %v", page, el)
			}
			if m["optional"] != true || m["dispatch_action"] == true {
				t.Errorf("page %d: comment block must be optional and not dispatch: %v", page, m)
			}
		}
	}
	if comments != 1 {
		t.Errorf("page %d has %d comment inputs, want 1", page, comments)
	}
}

func roleOf(fc formCheck) role {
	if fc.perCase == 2 {
		return roleReviewer
	}
	return roleMember
}

func TestReviewerButtons(t *testing.T) {
	tests := []struct {
		name string
		bulk bool
		want []string
	}{
		{"bulk allowed", true, []string{ActionReviewerSubmit, ActionConfirmMember, ActionDelegate}},
		{"bulk not allowed", false, []string{ActionReviewerSubmit, ActionDelegate}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			blks := ReviewerFormBlocks(ReviewerForm{Member: alice, Entitlements: entitlements(2), BulkAllowed: tc.bulk, Button: ReviewerFormRef(1, "00u1", 1)})
			last := asMaps(t, blks)[len(blks)-1]
			if str(last["block_id"]) != BlockActions {
				t.Fatalf("last block is %v, want the actions block", last)
			}
			var got []string
			for _, e := range list(last["elements"]) {
				em := e.(map[string]any)
				got = append(got, str(em["action_id"]))
				if str(em["value"]) != "r:1:00u1:1" {
					t.Errorf("%s value = %q, want the page's encoded ref", em["action_id"], em["value"])
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("buttons %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFormShowsOnlyItsPage(t *testing.T) {
	ents := entitlements(45)
	tests := []struct {
		name      string
		page      int
		wantFirst int64
		wantRows  int
	}{
		{"page 1", 1, 1000, 20},
		{"page 3", 3, 1040, 5},
		{"page 0 means 1", 0, 1000, 20},
		{"past the end", 9, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			blks := MemberFormBlocks(MemberForm{Entitlements: ents, Page: tc.page, Pages: 3})
			mustValid(t, Message, blks)
			var ids []int64
			for _, m := range asMaps(t, blks) {
				if id, ok := ParseCaseBlockID(str(m["block_id"])); ok {
					ids = append(ids, id)
				}
			}
			if len(ids) != tc.wantRows || (tc.wantRows > 0 && ids[0] != tc.wantFirst) {
				t.Errorf("rows %v, want %d rows from case %d", ids, tc.wantRows, tc.wantFirst)
			}
		})
	}
}

func TestDuplicateCaseShownOnce(t *testing.T) {
	ents := entitlements(3)
	ents = append(ents, ents[1])
	blks := MemberFormBlocks(MemberForm{Entitlements: ents})
	mustValid(t, Message, blks)
	n := 0
	for _, m := range asMaps(t, blks) {
		if str(m["block_id"]) == CaseBlockID(ents[1].CaseID) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("case %d shown %d times, want once", ents[1].CaseID, n)
	}
}

func TestHomeAtScale(t *testing.T) {
	tests := []struct {
		name               string
		home               Home
		wantOpen, wantRows int
	}{
		{"admin, many of both", bigHome(200, 200), homePending, homeCampaigns},
		{"member, many pending", Home{Pending: bigHome(200, 0).Pending}, homePendingAlone, 0},
		{"admin, nothing", Home{Admin: true}, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := HomeView(tc.home)
			if err := ValidateHome(v); err != nil {
				t.Fatal(err)
			}
			blks := v.Blocks.BlockSet
			if len(blks) > maxViewBlocks {
				t.Fatalf("%d blocks, more than %d", len(blks), maxViewBlocks)
			}
			open, rows := 0, 0
			for _, m := range asMaps(t, blks) {
				id := str(m["block_id"])
				if strings.HasPrefix(id, BlockPendingPrefix) {
					open++
				}
				if strings.HasPrefix(id, BlockCampaignPrefix) {
					rows++
					if len(list(m["elements"])) != 2 {
						t.Errorf("campaign row %s: %v", id, m["elements"])
					}
				}
			}
			if open != tc.wantOpen || rows != tc.wantRows {
				t.Errorf("pending rows %d, campaign rows %d; want %d, %d", open, rows, tc.wantOpen, tc.wantRows)
			}
			if more := len(tc.home.Pending) - tc.wantOpen; more > 0 && !strings.Contains(allText(t, v), fmt.Sprintf("and %d more", more)) {
				t.Errorf("the %d pending reviews not listed are not counted", more)
			}
		})
	}
}
