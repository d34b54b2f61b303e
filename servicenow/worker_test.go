package servicenow_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/internal/ticketjob"
	"github.com/attestbot/attest/servicenow"
)

// memQueue is an in-memory QueueStore: every job is due, refs are a map.
type memQueue struct {
	mu       sync.Mutex
	jobs     []ticketjob.Job
	refs     map[string][3]string
	claimErr error
	refErr   error
}

func (q *memQueue) EnqueueTicket(_ context.Context, j ticketjob.Job) (bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	j.ID, j.State = int64(len(q.jobs)+1), ticketjob.JobPending
	q.jobs = append(q.jobs, j)
	return true, nil
}

func (q *memQueue) ClaimTickets(_ context.Context, now time.Time, limit int) ([]ticketjob.Job, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []ticketjob.Job
	for i := range q.jobs {
		if j := &q.jobs[i]; j.State == ticketjob.JobPending && !j.NextAt.After(now) && len(out) < limit {
			j.State, j.Attempts, j.NextAt = ticketjob.JobSending, j.Attempts+1, now.Add(5*time.Minute)
			out = append(out, *j)
		}
	}
	return out, q.claimErr
}

func (q *memQueue) set(id int64, fn func(*ticketjob.Job)) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	fn(&q.jobs[id-1])
	return nil
}

func (q *memQueue) TicketDone(_ context.Context, id int64, sysID, number string) error {
	return q.set(id, func(j *ticketjob.Job) {
		j.State, j.SysID, j.Number = ticketjob.JobDone, sysID, number
		if j.Action == ticketjob.ActionCreate {
			q.refs[j.Ref] = [3]string{j.Table, sysID, number}
		}
	})
}

func (q *memQueue) TicketRetry(_ context.Context, id int64, next time.Time, reason string) error {
	return q.set(id, func(j *ticketjob.Job) { j.State, j.NextAt, j.LastError = ticketjob.JobPending, next, reason })
}

func (q *memQueue) TicketFailed(_ context.Context, id int64, reason string) error {
	return q.set(id, func(j *ticketjob.Job) { j.State, j.LastError = ticketjob.JobFailed, reason })
}

func (q *memQueue) TicketRef(_ context.Context, ref string) (string, string, string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.refErr != nil {
		return "", "", "", q.refErr
	}
	r, ok := q.refs[ref]
	if !ok {
		return "", "", "", servicenow.ErrNotFound
	}
	return r[0], r[1], r[2], nil
}

func (q *memQueue) TicketsOf(_ context.Context, _ int64) ([]ticketjob.Job, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]ticketjob.Job(nil), q.jobs...), nil
}

// fakeTicketer is a Ticketer of function fields.
type fakeTicketer struct {
	create func(ctx context.Context, table string, fields map[string]string) (servicenow.Ticket, error)
	update func(ctx context.Context, table, sysID string, fields map[string]string) (servicenow.Ticket, error)
}

func (f fakeTicketer) Create(ctx context.Context, table string, fields map[string]string) (servicenow.Ticket, error) {
	return f.create(ctx, table, fields)
}

func (f fakeTicketer) Update(ctx context.Context, table, sysID string, fields map[string]string) (servicenow.Ticket, error) {
	return f.update(ctx, table, sysID, fields)
}

func created(_ context.Context, table string, _ map[string]string) (servicenow.Ticket, error) {
	return servicenow.Ticket{SysID: "0123456789abcdef0123456789abcdef", Number: "INC0010001"}, nil
}

func newQueue(t *testing.T, jobs ...ticketjob.Job) *memQueue {
	q := &memQueue{refs: map[string][3]string{}}
	for _, j := range jobs {
		if err := j.Validate(); err != nil {
			t.Fatal(err)
		}
		_, _ = q.EnqueueTicket(context.Background(), j)
	}
	return q
}

func job(key, action, table string) ticketjob.Job {
	return ticketjob.Job{Key: key, Ref: "remediation:1", CampaignID: 1, Kind: ticketjob.KindRemediation,
		Table: table, Action: action}
}

func TestWorkerEdgeCases(t *testing.T) {
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	boom := errors.New("disk I/O error")
	tests := []struct {
		name      string
		queue     *memQueue
		client    fakeTicketer
		cancel    bool
		wantErr   error
		wantState []string
		wantMsg   string
	}{
		{"interrupted mid-send puts jobs back unharmed",
			newQueue(t, job("a", "create", "incident"), job("b", "create", "incident")),
			fakeTicketer{create: func(ctx context.Context, _ string, _ map[string]string) (servicenow.Ticket, error) {
				<-ctx.Done()
				return servicenow.Ticket{}, ctx.Err()
			}}, true, context.Canceled, []string{"pending", "pending"}, "interrupted"},
		{"claim fails", &memQueue{claimErr: boom}, fakeTicketer{}, false, boom, nil, ""},
		{"store trouble on a ref is retried",
			func() *memQueue { q := newQueue(t, job("u", "update", "")); q.refErr = boom; return q }(),
			fakeTicketer{}, false, nil, []string{"pending"}, "disk I/O error"},
		{"update of another table fails",
			func() *memQueue {
				q := newQueue(t, job("u", "update", "sc_task"))
				q.refs["remediation:1"] = [3]string{"incident", "0123456789abcdef0123456789abcdef", "INC0010001"}
				return q
			}(),
			fakeTicketer{}, false, nil, []string{"failed"}, "lives in incident, not sc_task"},
		{"create then update in one tick",
			newQueue(t, job("c", "create", "incident"), job("u", "update", "")),
			fakeTicketer{create: created, update: func(_ context.Context, table, sysID string, f map[string]string) (servicenow.Ticket, error) {
				return servicenow.Ticket{SysID: sysID}, nil
			}}, false, nil, []string{"done", "done"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel {
				time.AfterFunc(10*time.Millisecond, cancel)
			}
			w := &servicenow.Worker{Client: tt.client, Store: tt.queue, Log: zerolog.Nop(), Now: func() time.Time { return now }}
			_, err := w.Tick(ctx)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Tick error = %v, want %v", err, tt.wantErr)
			}
			jobs, _ := tt.queue.TicketsOf(ctx, 1)
			for i, want := range tt.wantState {
				if jobs[i].State != want || !strings.Contains(jobs[i].LastError, tt.wantMsg) {
					t.Fatalf("job %d = %s %q; want %s with %q", i, jobs[i].State, jobs[i].LastError, want, tt.wantMsg)
				}
			}
			if tt.cancel && jobs[0].NextAt.After(now) {
				t.Fatalf("interrupted job postponed to %s; want due at once", jobs[0].NextAt)
			}
		})
	}
}

func TestRunDrainsFullBatches(t *testing.T) {
	q := newQueue(t, job("a", "create", "incident"), job("b", "create", "incident"), job("c", "create", "incident"))
	var mu sync.Mutex
	calls := 0
	done := make(chan struct{})
	client := fakeTicketer{create: func(ctx context.Context, table string, f map[string]string) (servicenow.Ticket, error) {
		mu.Lock()
		defer mu.Unlock()
		if calls++; calls == 3 {
			close(done)
		}
		return created(ctx, table, f)
	}}
	w := &servicenow.Worker{Client: client, Store: q, Log: zerolog.Nop(), Batch: 1}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- w.Run(ctx, time.Hour) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not go on after a full batch")
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
}

func TestValidate(t *testing.T) {
	ok := job("k", ticketjob.ActionCreate, "incident")
	tests := []struct {
		name   string
		change func(*ticketjob.Job)
		want   string
	}{
		{"valid", func(*ticketjob.Job) {}, ""},
		{"update without table", func(j *ticketjob.Job) { j.Action, j.Table = ticketjob.ActionUpdate, "" }, ""},
		{"no key", func(j *ticketjob.Job) { j.Key = " " }, "empty key"},
		{"no ref", func(j *ticketjob.Job) { j.Ref = "" }, "empty ref"},
		{"bad kind", func(j *ticketjob.Job) { j.Kind = "other" }, "kind"},
		{"bad action", func(j *ticketjob.Job) { j.Action = "delete" }, "action"},
		{"create without table", func(j *ticketjob.Job) { j.Table = "" }, "needs a table"},
		{"bad table", func(j *ticketjob.Job) { j.Table = "../x" }, "not a table name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := ok
			tt.change(&j)
			err := j.Validate()
			if tt.want == "" && err != nil || tt.want != "" && (!errors.Is(err, servicenow.ErrInvalid) || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestWorkerStopsWhenClaimLapses(t *testing.T) {
	clk := newClock()
	q := newQueue(t, job("a", "create", "incident"), job("b", "create", "incident"))
	sent := 0
	slow := fakeTicketer{create: func(ctx context.Context, table string, f map[string]string) (servicenow.Ticket, error) {
		sent++
		clk.Add(4*time.Minute + time.Second) // the claim (5 minutes) is nearly gone
		return created(ctx, table, f)
	}}
	w := &servicenow.Worker{Client: slow, Store: q, Log: zerolog.Nop(), Now: clk.Now}
	n, err := w.Tick(context.Background())
	jobs, _ := q.TicketsOf(context.Background(), 1)
	if err != nil || n != 1 || sent != 1 || jobs[1].State != ticketjob.JobPending || !strings.Contains(jobs[1].LastError, "claim lapsed") {
		t.Fatalf("tick = %d, %v, %d sent, second job %+v; want the second left for the next tick", n, err, sent, jobs[1])
	}
}
