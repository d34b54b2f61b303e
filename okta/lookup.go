package okta

import (
	"context"
	"fmt"
	"regexp"

	sdk "github.com/okta/okta-sdk-golang/v2/okta"

	"github.com/attestbot/attest/campaign"
)

// One object by id, read on demand: an Okta event hook event can name a
// user, app or group created since the last directory sync (exactly what
// a grant review exists for), and the latest snapshot does not hold it.
// These are single GETs on the read token; the directory sync stays the
// only bulk reader.

// oktaID is the shape of an Okta object id (00u..., 0oa..., 00g...). The
// ids come from event payloads, which attest does not trust, and the SDK
// pastes them into the request path unescaped: anything else is refused
// before a request is made.
var oktaID = regexp.MustCompile(`^[0-9A-Za-z]{1,64}$`)

func checkID(kind, id string) error {
	if !oktaID.MatchString(id) {
		return fmt.Errorf("okta: %s id %q is not an Okta id: %w", kind, id, campaign.ErrInvalid)
	}
	return nil
}

// LookupUser reads one user by id (GET /api/v1/users/{id}), with the
// profile attributes a review needs and the raw manager reference (the
// sync's resolution of ManagerRef to ManagerID is the caller's). It
// returns an error wrapping campaign.ErrNotFound when Okta has no such
// user, campaign.ErrInvalid for an id that is not an Okta id, and
// campaign.ErrTransient when the call may succeed later.
func (c *Client) LookupUser(ctx context.Context, id string) (campaign.User, error) {
	if err := checkID("user", id); err != nil {
		return campaign.User{}, err
	}
	u, _, err := c.sdk.User.GetUser(ctx, id)
	if err != nil {
		return campaign.User{}, translate("get user "+id, err)
	}
	if u == nil {
		return campaign.User{}, fmt.Errorf("okta: get user %s: empty answer: %w", id, campaign.ErrTransient)
	}
	return c.user(u), nil
}

// LookupApp reads one app instance by id (GET /api/v1/apps/{id}). Its
// errors are LookupUser's.
func (c *Client) LookupApp(ctx context.Context, id string) (campaign.App, error) {
	if err := checkID("app", id); err != nil {
		return campaign.App{}, err
	}
	got, _, err := c.sdk.Application.GetApplication(ctx, id, sdk.NewApplication(), nil)
	if err != nil {
		return campaign.App{}, translate("get app "+id, err)
	}
	app, ok := got.(*sdk.Application)
	if !ok || app == nil {
		return campaign.App{}, fmt.Errorf("okta: get app %s: unexpected answer: %w", id, campaign.ErrTransient)
	}
	return campaign.App{ID: app.Id, Name: app.Name, Label: app.Label, Status: app.Status, SignOnMode: app.SignOnMode,
		LinkURL: appLink(app.Links)}, nil
}

// LookupGroup reads one group by id (GET /api/v1/groups/{id}). Its
// errors are LookupUser's.
func (c *Client) LookupGroup(ctx context.Context, id string) (campaign.Group, error) {
	if err := checkID("group", id); err != nil {
		return campaign.Group{}, err
	}
	g, _, err := c.sdk.Group.GetGroup(ctx, id)
	if err != nil {
		return campaign.Group{}, translate("get group "+id, err)
	}
	if g == nil {
		return campaign.Group{}, fmt.Errorf("okta: get group %s: empty answer: %w", id, campaign.ErrTransient)
	}
	out := campaign.Group{ID: g.Id, Type: g.Type}
	if g.Profile != nil {
		out.Name, out.Description = g.Profile.Name, g.Profile.Description
	}
	return out, nil
}
