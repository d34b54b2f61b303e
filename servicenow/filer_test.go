package servicenow_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/oktatest"
	"github.com/attestbot/attest/internal/snowtest"
	"github.com/attestbot/attest/internal/storetest"
	"github.com/attestbot/attest/internal/ticketjob"
	"github.com/attestbot/attest/servicenow"
)

// A whole campaign files its tickets while ServiceNow is down: review
// tickets per manager at stage 2, resolved at close, and a remediation
// ticket listing the manual items; once ServiceNow is back every ticket
// arrives exactly once, and the campaign never waited for it.
func TestTicketLifecycleThroughAnOutage(t *testing.T) {
	ctx := context.Background()
	org := oktatest.Generate(oktatest.Params{Seed: 3, Users: 120, Apps: 10, Groups: 16})
	st := storetest.WithOrg(t, org)
	fake := snowtest.New()
	defer fake.Close()
	client, err := servicenow.New(servicenow.Options{BaseURL: fake.URL(), Username: snowtest.Username, Password: snowtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	filer := &servicenow.Filer{Queue: st, Campaigns: st, Table: "incident", ReviewTickets: true, AssignmentGroup: "IAM"}
	now := org.Now
	eng := &campaign.Engine{Store: st, Now: func() time.Time { return now }, Notifier: filer}
	owner := org.Users[0].Email
	def, _ := campaign.ParseDefinition("t.yaml", []byte(fmt.Sprintf("name: Tickets\nowner: %s\nremediation: {no_decision: revoke}\n", owner)))
	fake.Down(true)
	c, err := eng.Launch(ctx, campaign.LaunchRequest{Definition: def, Owner: campaign.Actor{Email: owner}})
	if err != nil {
		t.Fatal(err)
	}
	now = c.Stage1Ends.Add(time.Minute)
	if err := eng.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := eng.Close(ctx, c.ID, campaign.Actor{Email: owner}); err != nil {
		t.Fatal(err)
	}
	w := &servicenow.Worker{Client: client, Store: st, Log: zerolog.Nop(), Now: func() time.Time { return now },
		CloseCode: "Solution provided", CloseNotes: "Resolved by attest"}
	if _, err := w.Tick(ctx); err != nil {
		t.Logf("tick during the outage: %v", err)
	}
	if n := len(fake.Records("incident")); n != 0 {
		t.Fatalf("records created while down: %d", n)
	}
	jobs, _ := st.TicketsOf(ctx, c.ID)
	reviews := 0
	for _, j := range jobs {
		if j.Kind == ticketjob.KindReview && j.Action == ticketjob.ActionCreate {
			reviews++
		}
	}
	if reviews == 0 {
		t.Fatal("no review tickets queued")
	}
	fake.Down(false)
	// Deliver everything, moving the clock past the backoffs.
	for i := 0; i < 40; i++ {
		now = now.Add(11 * time.Minute)
		if _, err := w.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	records := fake.Records("incident")
	remediation, review, resolved := 0, 0, 0
	for _, r := range records {
		switch {
		case strings.Contains(r["short_description"], "by hand"):
			remediation++
		case strings.Contains(r["short_description"], "team"):
			review++
			if r["state"] == "6" {
				resolved++
			}
		}
		if r["assignment_group"] != "IAM" {
			t.Errorf("ticket without the assignment group: %v", r)
		}
	}
	if remediation != 1 || review != reviews || resolved != reviews {
		t.Fatalf("records: %d remediation (want 1), %d review (want %d), %d resolved", remediation, review, reviews, resolved)
	}
	events, _ := st.Events(ctx, c.ID)
	created, resolvedEv := 0, 0
	for _, e := range events {
		switch e.Type {
		case "ticket.create":
			created++
		case "ticket.resolve":
			resolvedEv++
		}
	}
	if created != reviews+1 || resolvedEv != reviews {
		t.Fatalf("audit events: %d ticket.create (want %d), %d ticket.resolve (want %d)", created, reviews+1, resolvedEv, reviews)
	}
	jobs, _ = st.TicketsOf(ctx, c.ID)
	for _, j := range jobs {
		if j.State != ticketjob.JobDone {
			t.Errorf("job %s is %s: %s", j.Key, j.State, j.LastError)
		}
	}
}
