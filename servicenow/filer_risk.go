package servicenow

import (
	"context"

	"github.com/attestbot/attest/internal/ticketjob"
)

// RiskIncident queues one incident for a user Okta now rates HIGH. key
// makes it idempotent (the event's uuid), so a retried event files once;
// text is the incident's description. It fails only when queuing does.
func (f *Filer) RiskIncident(ctx context.Context, key, text string) error {
	_, err := f.Queue.EnqueueTicket(ctx, ticketjob.Job{Key: key, Ref: key, Kind: ticketjob.KindRemediation, Table: f.Table,
		Action: ticketjob.ActionCreate, Fields: f.fields("attest: user risk rated HIGH by Okta", text)})
	return err
}
