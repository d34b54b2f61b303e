package blocks

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// A sign-off value carries the campaign and the digest shown, round-trips
// through the codec, and is refused on any other action or malformed.
func TestSignOffRef(t *testing.T) {
	d := sampleSignOff().Digest
	ref := SignOffRef(42, d)
	act, err := ParseAction(ActionSignOff, ref.Encode())
	if err != nil || act.Ref != ref {
		t.Fatalf("round trip: %+v, %v", act, err)
	}
	if _, err := ParseAction(ActionPlanApprove, ref.Encode()); !errors.Is(err, ErrBadValue) {
		t.Fatalf("a sign-off value on the approve button: %v, want refused", err)
	}
	if _, err := ParseAction(ActionSignOff, PlanRef(42).Encode()); !errors.Is(err, ErrBadValue) {
		t.Fatalf("a plan value on the sign-off button: %v, want refused", err)
	}
	for name, v := range map[string]string{
		"short digest": "o:42:" + d[:63] + ":1",
		"upper hex":    "o:42:" + strings.ToUpper(d) + ":1",
		"page 2":       "o:42:" + d + ":2",
		"no digest":    "o:42:-:1",
	} {
		if _, err := ParseAction(ActionSignOffDecline, v); !errors.Is(err, ErrBadValue) {
			t.Errorf("%s: %v, want refused", name, err)
		}
	}
	if got, err := ParseSignOffMetadata(ref.Encode()); err != nil || got != ref {
		t.Fatalf("metadata: %+v, %v", got, err)
	}
	if _, err := ParseSignOffMetadata(ReviewerFormRef(42, "00u1", 1).Encode()); !errors.Is(err, ErrBadValue) {
		t.Fatalf("form metadata as sign-off metadata: %v, want refused", err)
	}
	// Once decided the message has no buttons.
	s := sampleSignOff()
	s.State = SignOffSigned
	for _, b := range SignOffBlocks(s) {
		if b.BlockType() == "actions" {
			t.Fatal("a signed message still has buttons")
		}
	}
}

// Hostile and huge data stays inside Slack's limits: long lists are cut
// and counted, text is escaped.
func TestSignOffWithinLimits(t *testing.T) {
	s := sampleSignOff()
	long := strings.Repeat("<@U0EVIL> & *bold* ", 200)
	// The header is plain text (Slack acts on no markup there), so the
	// name is only cut; everything in mrkdwn must be escaped.
	s.Summary, s.Campaign = long, strings.Repeat("Q", 400)
	s.Exceptions, s.ManualOpen = nil, nil
	for i := 0; i < 500; i++ {
		s.Exceptions = append(s.Exceptions, long)
		s.ManualOpen = append(s.ManualOpen, long)
	}
	blks := SignOffBlocks(s)
	if err := Validate(Message, blks); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // json.Marshal would hide a raw "<" as \u003c
	if err := enc.Encode(blks); err != nil {
		t.Fatal(err)
	}
	raw := buf.String()
	if !strings.Contains(raw, "&lt;@U0EVIL&gt;") || strings.Contains(raw, "<@U0EVIL>") {
		t.Fatal("a mention in the data reached Slack unescaped")
	}
	if !strings.Contains(raw, "490 more") {
		t.Fatal("the rest of a long list is not counted")
	}
	if err := ValidateModal(SignOffDeclineModal(long, SignOffRef(42, s.Digest))); err != nil {
		t.Fatal(err)
	}
}
