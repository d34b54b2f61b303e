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
// fresh read, never a snapshot), listing the user's groups. A user Okta
// does not find has no memberships: false, nil.
func (c *Client) HasMembership(ctx context.Context, userID, groupID string) (bool, error) {
	found := false
	err := eachPage(ctx, list{"user_groups", userID, "/api/v1/users/" + userID + "/groups"}, func() ([]*sdk.Group, *sdk.Response, error) {
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
	au, resp, err := c.sdk.Application.GetApplicationUser(ctx, appID, userID, nil)
	if err != nil {
		err = translateStatus("read app user "+userID+" of app "+appID, resp, err)
		if errors.Is(err, campaign.ErrNotFound) {
			return "", false, nil
		}
		return "", false, err
	}
	return strings.ToUpper(au.Scope), true, nil
}

// RemoveMembership removes a user from a group. Okta's refusals come back
// as an *APIError of the kind its code means: ErrNotFound for a 404 (the
// user or group is unknown, or outside the admin's scope: no proof the
// membership is gone), ErrForbidden or ErrInvalid for a permanent refusal,
// ErrTransient when the removal may or may not have happened (5xx, no
// answer): re-check before sending it again.
func (c *Client) RemoveMembership(ctx context.Context, userID, groupID string) error {
	resp, err := c.sdk.Group.RemoveUserFromGroup(ctx, groupID, userID)
	return translateStatus("remove user "+userID+" from group "+groupID, resp, err)
}

// AddMembership adds a user to a group (a quarantine, after approval), with
// RemoveMembership's errors.
func (c *Client) AddMembership(ctx context.Context, userID, groupID string) error {
	resp, err := c.sdk.Group.AddUserToGroup(ctx, groupID, userID)
	return translateStatus("add user "+userID+" to group "+groupID, resp, err)
}

// UnassignApp removes a user's direct assignment to an app, with
// RemoveMembership's errors. Okta refuses (403 E0000046) while a group
// membership grants the app, even alongside a direct assignment: that is
// ErrConflict, never retried as such.
func (c *Client) UnassignApp(ctx context.Context, userID, appID string) error {
	resp, err := c.sdk.Application.DeleteApplicationUser(ctx, appID, userID, nil)
	return translateStatus("unassign user "+userID+" from app "+appID, resp, err)
}
