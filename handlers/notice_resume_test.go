package handlers

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/attestbot/attest/campaign"
)

// TestDelegationNoticeResumedOnce: a delegation whose notice the outbox
// refused is posted by the leader's tick after the lease, one new version
// of the new reviewer's form under the delegation's key, and never again;
// an escalation's keyed notice handed twice posts one new version of a
// form the reviewer already had.
func TestDelegationNoticeResumedOnce(t *testing.T) {
	r := newFanOutRig(t)
	r.eng.Notifier = r.out
	c := r.launch(t, "name: Managers\nowner: iam@x.com\nstages: {self_attestation: {enabled: false}, manager: {duration: 7d}}\n")
	r.eng.Notifier = campaign.NotifierFunc(func(ctx context.Context, n campaign.Notification) error {
		if n.Kind == campaign.NoteDelegated {
			return errors.New("outbox away")
		}
		return r.out.Notify(ctx, n)
	})
	if _, err := r.eng.Delegate(r.ctx, campaign.DelegateRequest{CampaignID: c.ID, Actor: campaign.Actor{Email: "mgr@x.com"},
		Member: "dev1@x.com", To: "iam@x.com"}); err != nil {
		t.Fatal(err)
	}
	iam := fmt.Sprintf("post:r:%d:iam:dev1:1:", c.ID)
	if n := r.posts(t, iam); n != 0 {
		t.Fatalf("a refused delegation notice posted %d forms", n)
	}
	r.resume(t)
	r.resume(t)
	if n := r.posts(t, iam); n != 1 {
		t.Errorf("iam's form for dev1 after the resumed delegation notice: %d posts, want 1", n)
	}
	if n := r.posts(t, iam+"delegated:"); n != 1 {
		t.Errorf("the form was not posted under the delegation's key")
	}

	mgr := fmt.Sprintf("post:r:%d:mgr:dev2:1:", c.ID)
	if n := r.posts(t, mgr); n != 1 {
		t.Fatalf("mgr's fan-out form for dev2: %d posts, want 1", n)
	}
	esc := campaign.Notification{Kind: campaign.NoteEscalated, To: "mgr", CampaignID: c.ID, Members: []string{"dev2"},
		Key: campaign.EscalationKey(c.ID, "mgr", 3, 1)}
	for i := 0; i < 2; i++ {
		if err := r.out.Notify(r.ctx, esc); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.posts(t, mgr); n != 2 {
		t.Errorf("a keyed escalation handed twice: mgr's form for dev2 posted %d times in all, want 2 (the fan-out's, one new version)", n)
	}
}
