package okta

import (
	"context"
	"fmt"
	"strings"
	"time"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"

	"github.com/attestbot/attest/campaign"
)

// Push results Okta reports for a factor transaction.
const (
	PushSuccess  = "SUCCESS"
	PushWaiting  = "WAITING"
	PushRejected = "REJECTED"
	PushTimeout  = "TIMEOUT"
)

// StepUp sends an Okta Verify push to the user and waits, polling every
// `every`, until they accept or reject it or `wait` passes. It returns nil
// only on SUCCESS; a rejection, a timeout or a user without an active push
// factor is ErrForbidden, so an approval never counts without it.
func (c *Client) StepUp(ctx context.Context, userID string, wait, every time.Duration) error {
	factors, _, err := c.sdk.UserFactor.ListFactors(ctx, userID)
	if err != nil {
		return translate("list factors of "+userID, err)
	}
	factorID := ""
	for _, f := range factors {
		if uf, ok := f.(*sdk.UserFactor); ok && uf.FactorType == "push" && uf.Status == "ACTIVE" {
			factorID = uf.Id
			break
		}
	}
	if factorID == "" {
		return fmt.Errorf("okta: %s has no active Okta Verify push factor: %w", userID, campaign.ErrForbidden)
	}
	res, _, err := c.sdk.UserFactor.VerifyFactor(ctx, userID, factorID, sdk.VerifyFactorRequest{}, nil, nil)
	if err != nil {
		return translate("send a push to "+userID, err)
	}
	tx := transactionID(res.Links)
	deadline := time.Now().Add(wait)
	for res.FactorResult == PushWaiting {
		if tx == "" {
			return fmt.Errorf("okta: the push to %s returned no transaction to poll: %w", userID, campaign.ErrTransient)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("okta: %s did not answer the push within %s: %w", userID, wait, campaign.ErrForbidden)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
		if res, _, err = c.sdk.UserFactor.GetFactorTransactionStatus(ctx, userID, factorID, tx); err != nil {
			return translate("poll the push to "+userID, err)
		}
	}
	if res.FactorResult != PushSuccess {
		return fmt.Errorf("okta: %s's push ended %s: %w", userID, res.FactorResult, campaign.ErrForbidden)
	}
	return nil
}

// transactionID takes the transaction id from the poll link
// .../factors/{fid}/transactions/{tx}.
func transactionID(links any) string {
	m, ok := links.(map[string]any)
	if !ok {
		return ""
	}
	poll, ok := m["poll"].(map[string]any)
	if !ok {
		return ""
	}
	href := str(poll["href"])
	if i := strings.LastIndex(href, "/transactions/"); i >= 0 {
		return href[i+len("/transactions/"):]
	}
	return ""
}
