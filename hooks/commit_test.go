package hooks

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/attestbot/attest/internal/hookevent"
)

// commitLog is a commit function that records each batch, blocks the
// first one until released, and fails the batches fail says.
type commitLog struct {
	mu      sync.Mutex
	batches [][]string
	release chan struct{}
	fail    func(batch int) error
}

func (c *commitLog) commit(events []hookevent.Event) error {
	c.mu.Lock()
	n := len(c.batches)
	var ids []string
	for _, ev := range events {
		ids = append(ids, ev.UUID)
	}
	c.batches = append(c.batches, ids)
	c.mu.Unlock()
	if n == 0 {
		<-c.release
	}
	if c.fail != nil {
		return c.fail(n)
	}
	return nil
}

func (c *commitLog) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.batches)
}

// waitFor polls cond until it holds, failing the test after a while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// Deliveries arriving while a commit runs share the next one, and each
// learns the outcome of the commit that took its events.
func TestGroupCommit(t *testing.T) {
	tests := []struct {
		name string
		fail func(batch int) error
		want []error // per batch
	}{
		{"both commits succeed", nil, []error{nil, nil}},
		{"the shared commit fails", func(b int) error {
			if b == 1 {
				return errors.New("disk full")
			}
			return nil
		}, []error{nil, errors.New("disk full")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			log := &commitLog{release: make(chan struct{}), fail: tc.fail}
			g := &groupCommit{commit: log.commit}
			results := make([]error, 10)
			var wg sync.WaitGroup
			wg.Go(func() { results[0] = g.save([]hookevent.Event{{UUID: "first"}}) })
			waitFor(t, "the first commit", func() bool { return log.count() == 1 })
			for i := 1; i < 10; i++ {
				wg.Go(func() { results[i] = g.save([]hookevent.Event{{UUID: fmt.Sprint(i)}, {UUID: fmt.Sprintf("%d'", i)}}) })
			}
			waitFor(t, "nine deliveries queued", func() bool {
				g.mu.Lock()
				defer g.mu.Unlock()
				return len(g.queue) == 9
			})
			close(log.release)
			wg.Wait()
			if len(log.batches) != 2 || len(log.batches[1]) != 18 {
				t.Fatalf("batches = %v; want the first alone, then the nine others together", log.batches)
			}
			for i, err := range results {
				want := tc.want[min(i, 1)]
				if (err == nil) != (want == nil) {
					t.Fatalf("delivery %d: %v; want %v", i, err, want)
				}
			}
			if g.leading || len(g.queue) != 0 {
				t.Fatalf("after the burst: leading %v, queue %d; want idle", g.leading, len(g.queue))
			}
		})
	}
}
