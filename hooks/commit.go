package hooks

import (
	"sync"

	"github.com/attestbot/attest/internal/hookevent"
)

// groupCommit stores deliveries in shared transactions. The store makes
// every transaction durable before it returns (an fsync), and that is
// what a delivery's answer waits for; one transaction at a time, each
// delivery in its own, makes a burst of a hundred deliveries wait for a
// hundred fsyncs in a row, and the last ones miss Okta's 3 s. Here a
// delivery arriving while a transaction is being written waits for the
// next one, which takes every delivery waiting by then: a burst costs a
// few fsyncs, and no delivery is answered before its events are durable.
//
// There is no goroutine of its own: the first delivery to find no commit
// running leads one, and after its commit hands the lead to the oldest
// delivery still waiting, so no request commits for others for long.
type groupCommit struct {
	// commit stores a batch in one transaction, all or nothing.
	commit func(events []hookevent.Event) error

	mu      sync.Mutex
	queue   []*waiting
	leading bool // a commit is running, or the lead is being handed over
}

// waiting is one delivery's events until a commit took them.
type waiting struct {
	events []hookevent.Event
	done   chan error    // the outcome of the commit that took the events
	lead   chan struct{} // the lead is handed to this delivery
}

// save stores events with whatever other deliveries are waiting, and
// returns the outcome of the transaction that took them: nil once they
// are durable, or the error that stored nothing of the batch.
func (g *groupCommit) save(events []hookevent.Event) error {
	me := &waiting{events: events, done: make(chan error, 1), lead: make(chan struct{}, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, me)
	if g.leading {
		g.mu.Unlock()
		select {
		case err := <-me.done:
			return err
		case <-me.lead: // still queued: lead the next commit
		}
	} else {
		g.leading = true
		g.mu.Unlock()
	}
	g.mu.Lock()
	batch := g.queue
	g.queue = nil
	g.mu.Unlock()

	var all []hookevent.Event
	for _, w := range batch {
		all = append(all, w.events...)
	}
	err := g.commit(all)
	for _, w := range batch {
		w.done <- err
	}

	g.mu.Lock()
	if len(g.queue) > 0 {
		g.queue[0].lead <- struct{}{}
	} else {
		g.leading = false
	}
	g.mu.Unlock()
	return <-me.done
}
