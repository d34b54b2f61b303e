package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/snowtest"
	"github.com/attestbot/attest/internal/ticketjob"
	"github.com/attestbot/attest/servicenow"
)

func ticketJob(key, ref, action, table string, fields map[string]string) ticketjob.Job {
	kind := ticketjob.KindReview
	if strings.HasPrefix(ref, "remediation:") {
		kind = ticketjob.KindRemediation
	}
	return ticketjob.Job{Key: key, Ref: ref, CampaignID: 12, Kind: kind, Table: table, Action: action, Fields: fields}
}

func TestTicketQueue(t *testing.T) {
	ctx := context.Background()
	st := openTemp(t)
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	st.Now = func() time.Time { return now }
	ref := ticketjob.ReviewRef(12, "00uMANAGER")
	jobs := []ticketjob.Job{
		ticketJob(ref+":update:1", ref, ticketjob.ActionUpdate, "", map[string]string{"work_notes": "reminded"}),
		ticketJob(ref+":create", ref, ticketjob.ActionCreate, "sc_task", map[string]string{"short_description": "Review"}),
		ticketJob(ref+":resolve", ref, ticketjob.ActionResolve, "", nil),
	}
	for _, j := range jobs {
		if added, err := st.EnqueueTicket(ctx, j); err != nil || !added {
			t.Fatalf("enqueue %s = %v, %v", j.Key, added, err)
		}
	}
	if added, err := st.EnqueueTicket(ctx, jobs[1]); err != nil || added {
		t.Fatalf("re-enqueue of the same key = %v, %v; want false, nil", added, err)
	}
	if _, err := st.EnqueueTicket(ctx, ticketJob("k", "r", "delete", "incident", nil)); !errors.Is(err, campaign.ErrInvalid) {
		t.Fatalf("bad action err = %v; want ErrInvalid", err)
	}
	claimed, err := st.ClaimTickets(ctx, now, 10)
	if err != nil || len(claimed) != 2 || claimed[0].Key != jobs[0].Key || claimed[1].Key != jobs[1].Key ||
		claimed[0].Attempts != 1 || claimed[1].Fields["short_description"] != "Review" {
		t.Fatalf("claim = %+v, %v; want the update and the create, not the resolve behind the update", claimed, err)
	}
	if again, _ := st.ClaimTickets(ctx, now, 10); len(again) != 0 {
		t.Fatalf("claimed twice: %+v", again)
	}
	if _, _, _, err := st.TicketRef(ctx, ref); !errors.Is(err, servicenow.ErrNotFound) {
		t.Fatalf("ref before the create = %v; want ErrNotFound", err)
	}
	upd, create := claimed[0], claimed[1]
	steps := []struct {
		name string
		do   func() error
		want error
	}{
		{"update waits", func() error { return st.TicketRetry(ctx, upd.ID, now.Add(time.Minute), "waiting") }, nil},
		{"create done", func() error {
			return st.TicketDone(ctx, create.ID, "0123456789abcdef0123456789abcdef", "SCTASK0010001")
		}, nil},
		{"done twice", func() error { return st.TicketDone(ctx, create.ID, "x", "y") }, campaign.ErrConflict},
		{"retry a done job", func() error { return st.TicketRetry(ctx, create.ID, now, "x") }, campaign.ErrConflict},
		{"unknown job", func() error { return st.TicketFailed(ctx, 999, "x") }, campaign.ErrNotFound},
	}
	for _, s := range steps {
		if err := s.do(); !errors.Is(err, s.want) || (s.want == nil && err != nil) {
			t.Fatalf("%s: err = %v, want %v", s.name, err, s.want)
		}
	}
	if table, sysID, number, err := st.TicketRef(ctx, ref); err != nil || table != "sc_task" ||
		sysID != "0123456789abcdef0123456789abcdef" || number != "SCTASK0010001" {
		t.Fatalf("ref = %s %s %s %v", table, sysID, number, err)
	}
	if got, _ := st.ClaimTickets(ctx, now.Add(30*time.Second), 10); len(got) != 0 {
		t.Fatalf("claimed before next_at: %+v", got)
	}
	got, err := st.ClaimTickets(ctx, now.Add(time.Minute), 10)
	if err != nil || len(got) != 1 || got[0].ID != upd.ID || got[0].Attempts != 2 || got[0].LastError != "waiting" {
		t.Fatalf("claim after next_at = %+v, %v", got, err)
	}
	// The claim lapses, as if the process had stopped: the job comes back.
	lapsed, err := st.ClaimTickets(ctx, now.Add(time.Minute+ticketLease), 10)
	if err != nil || len(lapsed) != 1 || lapsed[0].ID != upd.ID || lapsed[0].Attempts != 3 {
		t.Fatalf("claim after the lease = %+v, %v", lapsed, err)
	}
	if err := st.TicketFailed(ctx, upd.ID, "400 Bad Request"); err != nil {
		t.Fatal(err)
	}
	all, err := st.TicketsOf(ctx, 12)
	if err != nil || len(all) != 3 {
		t.Fatalf("tickets of campaign = %+v, %v", all, err)
	}
	wantStates := []string{ticketjob.JobFailed, ticketjob.JobDone, ticketjob.JobPending}
	for i, j := range all {
		if j.State != wantStates[i] {
			t.Fatalf("job %s is %s, want %s", j.Key, j.State, wantStates[i])
		}
	}
	if all[1].Number != "SCTASK0010001" || all[1].DoneAt.IsZero() || all[0].LastError != "400 Bad Request" {
		t.Fatalf("jobs = %+v", all)
	}
	if none, err := st.TicketsOf(ctx, 99); err != nil || len(none) != 0 {
		t.Fatalf("tickets of another campaign = %+v, %v", none, err)
	}
}

// ticketRig is a store, a fake ServiceNow and a worker on one fake clock.
type ticketRig struct {
	st   *Store
	snow *snowtest.Server
	w    *servicenow.Worker

	mu  sync.Mutex // the fake instance reads the clock from its own goroutines
	now time.Time
}

func (r *ticketRig) clock() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now
}

func (r *ticketRig) advance(d time.Duration) {
	r.mu.Lock()
	r.now = r.now.Add(d)
	r.mu.Unlock()
}

func newTicketRig(t *testing.T) *ticketRig {
	t.Helper()
	r := &ticketRig{st: openTemp(t), now: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
	clock := r.clock
	r.st.Now = clock
	r.snow = snowtest.New(snowtest.WithClock(clock))
	t.Cleanup(r.snow.Close)
	client, err := servicenow.New(servicenow.Options{BaseURL: r.snow.URL(), Username: snowtest.Username,
		Password: snowtest.Password, HTTPClient: r.snow.Client(), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	r.w = &servicenow.Worker{Client: client, Store: r.st, Log: zerolog.Nop(), Now: clock,
		Batch: 4, CloseCode: "Solution provided", CloseNotes: "Access review closed"}
	return r
}

func (r *ticketRig) enqueue(t *testing.T, jobs ...ticketjob.Job) {
	t.Helper()
	for _, j := range jobs {
		if _, err := r.st.EnqueueTicket(context.Background(), j); err != nil {
			t.Fatal(err)
		}
	}
}

// drain ticks, moving the clock past any backoff, until no job is pending
// or sending, and returns how many ticks it took.
func (r *ticketRig) drain(t *testing.T) int {
	t.Helper()
	for i := 1; i <= 50; i++ {
		if _, err := r.w.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		r.advance(servicenow.MaxBackoff)
		jobs, _ := r.st.TicketsOf(context.Background(), 12)
		open := 0
		for _, j := range jobs {
			if j.State == ticketjob.JobPending || j.State == ticketjob.JobSending {
				open++
			}
		}
		if open == 0 {
			return i
		}
	}
	t.Fatal("jobs still open after 50 ticks")
	return 0
}

func (r *ticketRig) states(t *testing.T) map[string]string {
	t.Helper()
	jobs, err := r.st.TicketsOf(context.Background(), 12)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, j := range jobs {
		out[j.Key] = j.State
		if j.State == ticketjob.JobFailed {
			out[j.Key] += ": " + j.LastError
		}
	}
	return out
}

// campaignTickets are the jobs of one campaign: a review task per
// reviewer, each updated once, and a remediation incident, resolved.
func campaignTickets() []ticketjob.Job {
	var jobs []ticketjob.Job
	for _, m := range []string{"00uA", "00uB", "00uC"} {
		ref := ticketjob.ReviewRef(12, m)
		jobs = append(jobs,
			ticketJob(ref+":create", ref, ticketjob.ActionCreate, "sc_task", map[string]string{"short_description": "Review for " + m}),
			ticketJob(ref+":update", ref, ticketjob.ActionUpdate, "", map[string]string{"state": "2"}))
	}
	ref := ticketjob.RemediationRef(12)
	return append(jobs,
		ticketJob(ref+":create", ref, ticketjob.ActionCreate, "incident", map[string]string{"short_description": "Remove access"}),
		ticketJob(ref+":resolve", ref, ticketjob.ActionResolve, "", nil))
}

func TestTicketsDeliveredAfterOutage(t *testing.T) {
	ctx := context.Background()
	r := newTicketRig(t)
	r.snow.Down(true)
	jobs := campaignTickets()
	r.enqueue(t, jobs...)
	for i := 0; i < 5; i++ {
		n, err := r.w.Tick(ctx)
		if err != nil || n != 0 {
			t.Fatalf("tick while down = %d, %v; want 0, nil", n, err)
		}
		r.advance(servicenow.MaxBackoff)
	}
	if calls := len(r.snow.Calls()); calls != 5 {
		t.Fatalf("%d calls in 5 ticks while down; want 1 a tick: an outage stops a tick", calls)
	}
	all, _ := r.st.TicketsOf(ctx, 12)
	if all[0].State != ticketjob.JobPending || !strings.Contains(all[0].LastError, "503") {
		t.Fatalf("first job while down = %+v", all[0])
	}
	r.snow.Down(false)
	r.drain(t)
	for key, state := range r.states(t) {
		if state != ticketjob.JobDone {
			t.Fatalf("%s is %s, want done", key, state)
		}
	}
	tasks, incidents := r.snow.Records("sc_task"), r.snow.Records("incident")
	if len(tasks) != 3 || len(incidents) != 1 {
		t.Fatalf("records: %d sc_task, %d incident; want 3 and 1, each created once", len(tasks), len(incidents))
	}
	seen := map[string]bool{}
	for _, rec := range tasks {
		if seen[rec["correlation_id"]] || rec["state"] != "2" {
			t.Fatalf("task %v: duplicate or not updated", rec)
		}
		seen[rec["correlation_id"]] = true
	}
	if inc := incidents[0]; inc["state"] != "6" || inc["close_code"] != "Solution provided" || inc["close_notes"] != "Access review closed" {
		t.Fatalf("incident = %v; want resolved with the worker's close code and notes", inc)
	}
	if _, sysID, number, err := r.st.TicketRef(ctx, ticketjob.RemediationRef(12)); err != nil || sysID != incidents[0]["sys_id"] || number != "INC0010001" {
		t.Fatalf("remediation ref = %s %s %v", sysID, number, err)
	}
}

func TestTicketUpdateWaitsForItsCreate(t *testing.T) {
	ctx := context.Background()
	r := newTicketRig(t)
	ref := ticketjob.ReviewRef(12, "00uA")
	r.enqueue(t, ticketJob(ref+":update", ref, ticketjob.ActionUpdate, "", map[string]string{"state": "2"}))
	if n, err := r.w.Tick(ctx); err != nil || n != 0 {
		t.Fatalf("tick = %d, %v", n, err)
	}
	if calls := r.snow.Calls(); len(calls) != 0 {
		t.Fatalf("an update without its record called ServiceNow: %+v", calls)
	}
	if st := r.states(t)[ref+":update"]; st != ticketjob.JobPending {
		t.Fatalf("update is %s, want pending", st)
	}
	r.enqueue(t, ticketJob(ref+":create", ref, ticketjob.ActionCreate, "sc_task", map[string]string{"short_description": "x"}))
	r.drain(t)
	tasks := r.snow.Records("sc_task")
	if len(tasks) != 1 || tasks[0]["state"] != "2" {
		t.Fatalf("tasks = %v; want one, updated after its create", tasks)
	}
}

func TestTicketPermanentFailureFailsOneJob(t *testing.T) {
	r := newTicketRig(t)
	r.w.CloseCode = "" // the instance demands one: the resolve must fail
	r.enqueue(t, campaignTickets()...)
	r.drain(t)
	states := r.states(t)
	resolve := ticketjob.RemediationRef(12) + ":resolve"
	for key, state := range states {
		switch {
		case key == resolve && !strings.Contains(state, "failed: servicenow: update incident") ||
			key == resolve && !strings.Contains(state, "400 Bad Request: Data Policy Exception"):
			t.Fatalf("resolve is %q; want failed with ServiceNow's message", state)
		case key != resolve && state != ticketjob.JobDone:
			t.Fatalf("%s is %s; one permanent failure must not hold others up", key, state)
		}
	}
	if inc := r.snow.Records("incident"); len(inc) != 1 || inc[0]["state"] != "1" {
		t.Fatalf("incident = %v; want created, not resolved", inc)
	}
}

func TestTicketTransientFailures(t *testing.T) {
	tests := []struct {
		name      string
		fail      func(*snowtest.Server)
		firstWait time.Duration
		records   int
	}{
		{"server error", func(s *snowtest.Server) { s.FailNext(1, 500) }, servicenow.BaseBackoff, 1},
		{"rate limited", func(s *snowtest.Server) { s.RateLimit(1) }, time.Second, 1},
		{"answer lost after the create", func(s *snowtest.Server) { s.LoseNextAnswer(1) }, servicenow.BaseBackoff, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			r := newTicketRig(t)
			ref := ticketjob.ReviewRef(12, "00uA")
			r.enqueue(t, ticketJob(ref+":create", ref, ticketjob.ActionCreate, "sc_task", map[string]string{"short_description": "x"}))
			tt.fail(r.snow)
			start := r.clock()
			if n, err := r.w.Tick(ctx); err != nil || n != 0 {
				t.Fatalf("failing tick = %d, %v", n, err)
			}
			jobs, _ := r.st.TicketsOf(ctx, 12)
			if j := jobs[0]; j.State != ticketjob.JobPending || !j.NextAt.Equal(start.Add(tt.firstWait)) {
				t.Fatalf("after the failure: %s until %s (%q); want pending until +%s", j.State, j.NextAt, j.LastError, tt.firstWait)
			}
			r.drain(t)
			if got := len(r.snow.Records("sc_task")); got != tt.records {
				t.Fatalf("%d records, want %d", got, tt.records)
			}
			if st := r.states(t)[ref+":create"]; st != ticketjob.JobDone {
				t.Fatalf("job is %s", st)
			}
		})
	}
}

func TestTicketGiveUp(t *testing.T) {
	r := newTicketRig(t)
	r.w.GiveUpAfter = time.Hour
	r.snow.Down(true)
	ref := ticketjob.RemediationRef(12)
	r.enqueue(t, ticketJob(ref+":create", ref, ticketjob.ActionCreate, "incident", nil))
	ticks := r.drain(t)
	st := r.states(t)[ref+":create"]
	if !strings.HasPrefix(st, "failed: gave up after 1h0m0s") || ticks > 8 {
		t.Fatalf("after %d ticks the job is %q; want given up after an hour", ticks, st)
	}
	if got := len(r.snow.Records("incident")); got != 0 {
		t.Fatalf("records = %d", got)
	}
}
