package blocks

import (
	"errors"
	"strings"
	"testing"
)

func TestRefRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		ref  Ref
		wire string
	}{
		{"member form", MemberFormRef(42, "00u1abcDEF", 3), "m:42:00u1abcDEF:3"},
		{"reviewer form", ReviewerFormRef(7, "00u9", 1), "r:7:00u9:1"},
		{"plan", PlanRef(42), "a:42:-:1"},
		{"home member", HomeRef(5, HomeMember), "h:5:m:1"},
		{"home reviewer", HomeRef(5, HomeReviewer), "h:5:r:1"},
		{"home remind", HomeRef(5, HomeRemind), "h:5:remind:1"},
		{"home close", HomeRef(5, HomeClose), "h:5:close:1"},
		{"sweep", SweepRef(9), "s:9:-:1"},
		{"login as member", MemberFormRef(1, "alice.o'neil@x", 1), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.ref.Encode()
			if got != tc.wire {
				t.Fatalf("Encode = %q, want %q", got, tc.wire)
			}
			if got == "" {
				return
			}
			back, err := ParseRef(got)
			if err != nil || back != tc.ref {
				t.Fatalf("ParseRef(%q) = %+v, %v; want %+v", got, back, err, tc.ref)
			}
		})
	}
}

func TestParseRefRefusesWhatAttestNeverEmits(t *testing.T) {
	tests := []struct {
		name, value string
	}{
		{"empty", ""},
		{"old opaque token", "c42p1"},
		{"three fields", "m:42:00u1"},
		{"five fields", "m:42:00u1:1:x"},
		{"unknown kind", "x:42:00u1:1"},
		{"zero id", "m:0:00u1:1"},
		{"negative id", "m:-4:00u1:1"},
		{"leading zero", "m:042:00u1:1"},
		{"plus sign", "m:+42:00u1:1"},
		{"id overflow", "m:99999999999999999999:00u1:1"},
		{"zero page", "m:42:00u1:0"},
		{"huge page", "m:42:00u1:100000"},
		{"empty member", "m:42::1"},
		{"markup in member", "m:42:<!channel>:1"},
		{"space in member", "m:42:00u 1:1"},
		{"long member", "m:42:" + strings.Repeat("u", 65) + ":1"},
		{"plan with member", "a:42:00u1:1"},
		{"plan with page", "a:42:-:2"},
		{"sweep with subject", "s:3:x:1"},
		{"home unknown role", "h:5:approve:1"},
		{"home page 2", "h:5:m:2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if r, err := ParseRef(tc.value); !errors.Is(err, ErrBadValue) {
				t.Fatalf("ParseRef(%q) = %+v, %v; want ErrBadValue", tc.value, r, err)
			}
		})
	}
}

func TestParseAction(t *testing.T) {
	tests := []struct {
		name, action, value string
		want                Action
		ok                  bool
	}{
		{"member submit", ActionMemberSubmit, "m:4:00u1:2", Action{ID: ActionMemberSubmit, Ref: MemberFormRef(4, "00u1", 2)}, true},
		{"reviewer submit", ActionReviewerSubmit, "r:4:00u1:1", Action{ID: ActionReviewerSubmit, Ref: ReviewerFormRef(4, "00u1", 1)}, true},
		{"edit member answers", ActionEditAnswers, "m:4:00u1:1", Action{ID: ActionEditAnswers, Ref: MemberFormRef(4, "00u1", 1)}, true},
		{"edit reviewer decisions", ActionEditAnswers, "r:4:00u1:1", Action{ID: ActionEditAnswers, Ref: ReviewerFormRef(4, "00u1", 1)}, true},
		{"approve", ActionPlanApprove, "a:4:-:1", Action{ID: ActionPlanApprove, Ref: PlanRef(4)}, true},
		{"open review", ActionOpenReview, "h:4:r:1", Action{ID: ActionOpenReview, Ref: HomeRef(4, HomeReviewer)}, true},
		{"remind", ActionCampaignRemind, "h:4:remind:1", Action{ID: ActionCampaignRemind, Ref: HomeRef(4, HomeRemind)}, true},
		{"sweep", ActionSweepReview, "s:4:-:1", Action{ID: ActionSweepReview, Ref: SweepRef(4)}, true},
		{"radio selection", ActionDecision, "keep", Action{ID: ActionDecision, Selection: true}, true},
		{"definition select", ActionDefinition, "", Action{ID: ActionDefinition, Selection: true}, true},
		{"unknown action", "drop_tables", "a:4:-:1", Action{}, false},
		{"member value on reviewer submit", ActionReviewerSubmit, "m:4:00u1:1", Action{}, false},
		{"reviewer value on member submit", ActionMemberSubmit, "r:4:00u1:1", Action{}, false},
		{"form value on approve", ActionPlanApprove, "r:4:00u1:1", Action{}, false},
		{"plan value on delegate", ActionDelegate, "a:4:-:1", Action{}, false},
		{"open value on close", ActionCampaignClose, "h:4:m:1", Action{}, false},
		{"close value on open", ActionOpenReview, "h:4:close:1", Action{}, false},
		{"malformed value", ActionPlanReject, "a:4", Action{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAction(tc.action, tc.value)
			if tc.ok != (err == nil) || got != tc.want {
				t.Fatalf("ParseAction(%q, %q) = %+v, %v; want %+v (ok %v)", tc.action, tc.value, got, err, tc.want, tc.ok)
			}
			if !tc.ok && !errors.Is(err, ErrBadValue) {
				t.Fatalf("error %v is not ErrBadValue", err)
			}
		})
	}
}

func TestParseFormMetadata(t *testing.T) {
	if r, err := ParseFormMetadata(ReviewerFormRef(3, "00u1", 1).Encode()); err != nil || r.Member != "00u1" {
		t.Fatalf("reviewer form metadata = %+v, %v", r, err)
	}
	for _, bad := range []string{"", "m:3:00u1:1", "a:3:-:1", "r:3:<@U1>:1"} {
		if _, err := ParseFormMetadata(bad); !errors.Is(err, ErrBadValue) {
			t.Errorf("ParseFormMetadata(%q) = %v; want ErrBadValue", bad, err)
		}
	}
}

// Every button the builders emit carries a value the codec accepts for
// that very action: a form can never post a button the dispatcher refuses.
func TestEmittedButtonsParse(t *testing.T) {
	surfaces := map[string]any{
		"member":   MemberFormBlocks(MemberForm{Entitlements: entitlements(2), Page: 1, Pages: 1, Button: MemberFormRef(1, "00u1", 1)}),
		"reviewer": ReviewerFormBlocks(ReviewerForm{Entitlements: entitlements(2), BulkAllowed: true, Button: ReviewerFormRef(1, "00u1", 1)}),
		"answered": AnsweredBlocks(Answered{Editable: true, Button: MemberFormRef(1, "00u1", 1)}),
		"approval": ApprovalBlocks(sampleApproval()),
		"home":     HomeView(bigHome(3, 2)),
		"sweep":    SweepBlocks(Sweep{Entitlements: 3, Button: SweepRef(2)}),
	}
	for name, s := range surfaces {
		m, err := asJSON(struct{ V any }{s})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		walk(m, func(el map[string]any) {
			if str(el["type"]) != "button" {
				return
			}
			n++
			if _, err := ParseAction(str(el["action_id"]), str(el["value"])); err != nil {
				t.Errorf("%s: button %s: %v", name, el["action_id"], err)
			}
		})
		if n == 0 {
			t.Errorf("%s: no buttons found", name)
		}
	}
}

func walk(v any, fn func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		fn(x)
		for _, c := range x {
			walk(c, fn)
		}
	case []any:
		for _, c := range x {
			walk(c, fn)
		}
	}
}

// The longest value the codec can write fits Slack's button value and
// private_metadata limits many times over.
func TestRefFitsSlackLimits(t *testing.T) {
	longest := ReviewerFormRef(1<<63-1, strings.Repeat("u", maxMember), maxPage)
	v := longest.Encode()
	if v == "" || len(v) > maxButtonValue || len(v) > maxPrivateMetadata {
		t.Fatalf("longest value %q (%d bytes)", v, len(v))
	}
	if back, err := ParseRef(v); err != nil || back != longest {
		t.Fatalf("ParseRef = %+v, %v", back, err)
	}
}
