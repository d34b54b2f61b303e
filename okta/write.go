package okta

import (
	"context"
	"errors"
	"strings"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"

	"github.com/attestbot/attest/campaign"
)

var _ campaign.Revoker = (*Client)(nil)

// HasMembership reports whether the user is in the group right now (a
// fresh read, never a snapshot), listing the user's groups.
func (c *Client) HasMembership(ctx context.Context, userID, groupID string) (bool, error) {
	found := false
	err := eachPage(ctx, "groups of user "+userID, func() ([]*sdk.Group, *sdk.Response, error) {
		return c.sdk.User.ListUserGroups(ctx, userID)
	}, func(page []*sdk.Group) {
		for _, g := range page {
			if g != nil && g.Id == groupID {
				found = true
			}
		}
	})
	if errors.Is(err, campaign.ErrNotFound) {
		return false, nil // the user is gone: so is the membership
	}
	return found, err
}

// AppAssignment reports whether the user holds the app right now and with
// which scope (USER: direct, GROUP: only through groups).
func (c *Client) AppAssignment(ctx context.Context, appID, userID string) (scope string, found bool, err error) {
	au, _, err := c.sdk.Application.GetApplicationUser(ctx, appID, userID, nil)
	if err != nil {
		err = translate("read app user "+userID+" of app "+appID, err)
		if errors.Is(err, campaign.ErrNotFound) {
			return "", false, nil
		}
		return "", false, err
	}
	return strings.ToUpper(au.Scope), true, nil
}

// RemoveMembership removes a user from a group. A membership already gone
// (Okta answers 404 for an unknown user or group) returns ErrNotFound so
// the caller can record "already gone"; 5xx and timeouts return
// ErrTransient: the removal may or may not have happened, so re-check
// before sending it again.
func (c *Client) RemoveMembership(ctx context.Context, userID, groupID string) error {
	_, err := c.sdk.Group.RemoveUserFromGroup(ctx, groupID, userID)
	return translate("remove user "+userID+" from group "+groupID, err)
}

// AddMembership adds a user to a group (a quarantine, after approval).
func (c *Client) AddMembership(ctx context.Context, userID, groupID string) error {
	_, err := c.sdk.Group.AddUserToGroup(ctx, groupID, userID)
	return translate("add user "+userID+" to group "+groupID, err)
}

// UnassignApp removes a user's direct assignment to an app. Okta refuses
// (400) when only groups grant the app: that is ErrInvalid, never retried.
func (c *Client) UnassignApp(ctx context.Context, userID, appID string) error {
	_, err := c.sdk.Application.DeleteApplicationUser(ctx, appID, userID, nil)
	return translate("unassign user "+userID+" from app "+appID, err)
}

// ErrorCode extracts Okta's error code and summary from an error returned
// by this package, for the evidence of a failed operation.
func ErrorCode(err error) (code, summary string) {
	msg := err.Error()
	if i := strings.LastIndex(msg, " (E0"); i >= 0 {
		if j := strings.Index(msg[i:], ")"); j > 0 {
			code = msg[i+2 : i+j]
			summary = msg[strings.LastIndex(msg[:i], ": ")+2 : i]
		}
	}
	return code, summary
}
