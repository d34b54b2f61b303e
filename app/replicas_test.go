package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/attestbot/attest/app"
	"github.com/attestbot/attest/internal/pgtest"
)

// Two replicas of serve on one PostgreSQL database: both turn ready, one
// leads and syncs, the other follows and serves with the leader's
// snapshot and user map; when the leader stops, the follower leads.
func TestReplicasShareOnePostgres(t *testing.T) {
	r := newRig(t)
	r.env["ATTEST_DATABASE_URL"] = pgtest.URL(t)
	start := func() (*app.App, context.CancelFunc, chan error) {
		a, err := app.New(context.Background(), r.config(""), r.log())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		return a, cancel, done
	}
	a1, cancel1, done1 := start()
	a2, cancel2, done2 := start()
	defer func() { cancel2(); <-done2 }()
	ready := func(a *app.App) string {
		msg, err := a.Ready(context.Background())
		if err != nil {
			return ""
		}
		return msg
	}
	eventually(t, "both replicas ready", func() bool { return ready(a1) != "" && ready(a2) != "" })
	m1, m2 := ready(a1), ready(a2)
	for _, m := range []string{m1, m2} {
		if !strings.Contains(m, "store postgres") {
			t.Fatalf("readiness %q does not name the store", m)
		}
	}
	if strings.Contains(m1, "leader") == strings.Contains(m2, "leader") {
		t.Fatalf("not exactly one leader: %q / %q", m1, m2)
	}
	// One sync at start, by the leader: the follower served with its
	// snapshot instead of syncing too.
	info, err := a1.Store.LatestSnapshot(context.Background())
	if err != nil || info.ID != 1 {
		t.Fatalf("latest snapshot %d, %v: want the one sync of the leader", info.ID, err)
	}
	follower := a2
	if strings.Contains(m2, "leader") {
		cancel1, cancel2 = cancel2, cancel1
		done1, done2 = done2, done1
		follower = a1
	}
	cancel1()
	if err := <-done1; err != nil {
		t.Fatal(err)
	}
	eventually(t, "the follower leads", func() bool { return strings.Contains(ready(follower), ", leader") })
}
