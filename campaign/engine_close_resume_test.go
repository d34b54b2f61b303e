package campaign_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
)

// A close whose approval message could not be handed over (the process
// died, or the outbox was away) is not lost: the tick hands it again once
// the close is older than the lease, records it once, and then leaves it.
func TestApprovalMessageResumedAfterClose(t *testing.T) {
	h := newHarness(t, org())
	var mu sync.Mutex
	failing, closedNotes := true, 0
	h.eng.Notifier = campaign.NotifierFunc(func(_ context.Context, n campaign.Notification) error {
		if n.Kind != campaign.NoteClosed {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		closedNotes++
		if failing {
			return errors.New("outbox away")
		}
		return nil
	})
	c := h.launch(baseDef)
	for _, ent := range []string{"AWS", "Jira", "Wiki", "GitHub"} {
		h.answer(c.ID, "dev1@x.com", "dev1@x.com", ent, "revoke")
	}
	h.answer(c.ID, "dev2@x.com", "dev2@x.com", "GitHub", "revoke")
	closed, _, err := h.eng.Close(h.ctx, c.ID, as("iam@x.com"))
	if err != nil || closed.State != campaign.StateClosed {
		t.Fatalf("close: %+v, %v", closed, err)
	}
	queued := func() int {
		evs, err := h.st.Events(h.ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, ev := range evs {
			if ev.Type == campaign.ApprovalQueuedType {
				n++
			}
		}
		return n
	}
	notes := func() int { mu.Lock(); defer mu.Unlock(); return closedNotes }
	if notes() != 1 || queued() != 0 {
		t.Fatalf("after a failed hand-over: %d notices, %d records; want 1 and 0", notes(), queued())
	}
	mu.Lock()
	failing = false
	mu.Unlock()
	h.tick() // within the lease: the closing process may still be at it
	if notes() != 1 {
		t.Fatalf("handed again within the lease: %d notices", notes())
	}
	h.clock.Advance(3 * time.Minute)
	h.tick()
	if notes() != 2 || queued() != 1 {
		t.Fatalf("after the lease: %d notices, %d records; want 2 and 1", notes(), queued())
	}
	h.tick()
	if notes() != 2 || queued() != 1 {
		t.Fatalf("a recorded hand-over was repeated: %d notices, %d records", notes(), queued())
	}
}
