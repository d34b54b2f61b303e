package campaign_test

import (
	"context"
	"errors"
	"testing"

	"github.com/attestbot/attest/campaign"
)

// recorderFunc is a campaign.SignOffRecorder of functions.
type recorderFunc struct {
	facts  func(ctx context.Context, id int64) (campaign.SignOffFacts, error)
	record func(ctx context.Context, req campaign.SignOffRequest) (campaign.Event, error)
}

func (r recorderFunc) SignOffFacts(ctx context.Context, id int64) (campaign.SignOffFacts, error) {
	return r.facts(ctx, id)
}
func (r recorderFunc) RecordSignOff(ctx context.Context, req campaign.SignOffRequest) (campaign.Event, error) {
	return r.record(ctx, req)
}

// Only the campaign's owner, identified by Okta id at the click, signs
// off; step-up runs before anything is recorded and a refused push records
// nothing; a decline needs a reason; a changed digest is a conflict with a
// sentence saying a fresh message follows.
func TestEngineSignOff(t *testing.T) {
	h := newHarness(t, org())
	c := h.launch("name: S\n") // launched by iam@x.com
	var recorded []campaign.SignOffRequest
	changed := false
	h.eng.SignOffs = recorderFunc{
		facts: func(context.Context, int64) (campaign.SignOffFacts, error) { return campaign.SignOffFacts{}, nil },
		record: func(_ context.Context, req campaign.SignOffRequest) (campaign.Event, error) {
			if changed {
				return campaign.Event{}, &campaign.EvidenceChangedError{Shown: req.EvidenceSHA256, Current: "x"}
			}
			recorded = append(recorded, req)
			return campaign.Event{Type: campaign.EventSignedOff, Actor: req.Actor}, nil
		}}
	pushes := 0
	refusePush := false
	h.eng.StepUp = func(_ context.Context, a campaign.Actor) error {
		pushes++
		if refusePush {
			return errors.New("push rejected")
		}
		return nil
	}
	owner := c.OwnerID
	if owner == "" {
		t.Fatal("launched campaign has no owner id")
	}
	req := func(a campaign.Actor) campaign.SignOffRequest {
		return campaign.SignOffRequest{CampaignID: c.ID, Actor: a, EvidenceSHA256: "d1"}
	}
	if _, err := h.eng.SignOff(h.ctx, req(as("alice@x.com"))); !errors.Is(err, campaign.ErrForbidden) || pushes != 0 {
		t.Fatalf("non-owner: %v (pushes %d), want forbidden before any push", err, pushes)
	}
	refusePush = true
	if _, err := h.eng.SignOff(h.ctx, req(campaign.Actor{UserID: owner, Via: "slack"})); !errors.Is(err, campaign.ErrForbidden) || len(recorded) != 0 {
		t.Fatalf("refused push: %v, recorded %d", err, len(recorded))
	}
	refusePush = false
	decline := req(campaign.Actor{UserID: owner, Via: "slack"})
	decline.Decline = true
	if _, err := h.eng.SignOff(h.ctx, decline); !errors.Is(err, campaign.ErrInvalid) {
		t.Fatalf("decline without reason: %v", err)
	}
	ev, err := h.eng.SignOff(h.ctx, req(campaign.Actor{UserID: owner, Via: "slack"}))
	if err != nil || len(recorded) != 1 || recorded[0].Actor.UserID != owner || recorded[0].Actor.Email == "" || recorded[0].EvidenceSHA256 != "d1" {
		t.Fatalf("owner: %v %+v %+v", err, ev, recorded)
	}
	changed = true
	_, err = h.eng.SignOff(h.ctx, req(campaign.Actor{UserID: owner, Via: "slack"}))
	var ch *campaign.EvidenceChangedError
	if !errors.As(err, &ch) || !errors.Is(err, campaign.ErrConflict) || campaign.ErrorMessage(err) == "" {
		t.Fatalf("changed evidence: %v", err)
	}
}

// A campaign with nothing to remove is done at close, and its owner is
// asked to sign off at once; the executor asks after its run (see
// executor_finish.go), tested through Slack in package evidence.
func TestNothingToRemoveAsksOwnerToSignOff(t *testing.T) {
	h := newHarness(t, org())
	c := h.launch("name: S\nremediation: {mode: report-only}\n")
	done, _, err := h.eng.Close(h.ctx, c.ID, as("iam@x.com"))
	if err != nil || done.State != campaign.StateDone {
		t.Fatalf("close: %v, state %v; want done (nothing to remove)", err, done)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	asked := 0
	for _, n := range h.notes {
		if n.Kind == campaign.NoteSignOff {
			asked++
			if n.To != c.OwnerID || n.CampaignID != c.ID || n.Key == "" {
				t.Fatalf("sign-off note %+v, want to the owner %s", n, c.OwnerID)
			}
		}
	}
	if asked != 1 {
		t.Fatalf("sign-off asked %d times, want once", asked)
	}
}
