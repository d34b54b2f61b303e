package campaign

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// guard is the one check every Okta write of the executor passes, whatever
// the stored plan row says (a row may have been tampered with): it returns
// "" when the write may go, else why it may not. It returns an error only
// when it could not check (the store failed).
//
// The row must name a user of the reviewed snapshot by Okta id, and that
// user must not be protected (ProtectedUsers of the executor and of the
// definition, matched by Okta id, login or email). A membership change must
// name a group of the snapshot that is not protected (by id or name), not
// built in and not mastered outside Okta; a removal must not touch a
// membership a group rule manages (Okta would add a rule exclusion). An
// addition must go to the configured quarantine group and nowhere else.
func (x *Executor) guard(ctx context.Context, c *Campaign, op *Operation) (string, error) {
	switch op.Kind {
	case OpRemoveMembership, OpAddMembership:
		if op.UserID == "" || op.GroupID == "" || op.AppID != "" {
			return fmt.Sprintf("the %s row must name a user and a group only", op.Kind), nil
		}
	case OpUnassignApp:
		if op.UserID == "" || op.AppID == "" || op.GroupID != "" {
			return "the unassign_app row must name a user and an app only", nil
		}
	default:
		return fmt.Sprintf("unknown operation %q", op.Kind), nil
	}
	if why, err := x.guardUser(ctx, c, op.UserID); why != "" || err != nil {
		return why, err
	}
	if op.Kind == OpUnassignApp {
		return "", nil
	}
	if op.Kind == OpAddMembership && (x.QuarantineGroup == "" || op.GroupID != x.QuarantineGroup) {
		return fmt.Sprintf("attest only ever adds users to the configured quarantine group (okta.event_hook.quarantine_group), not to %s",
			op.GroupID), nil
	}
	return x.guardGroup(ctx, c, op)
}

// guardUser checks the user of a row.
func (x *Executor) guardUser(ctx context.Context, c *Campaign, userID string) (string, error) {
	protected := keySet(append(append([]string{}, x.ProtectedUsers...), c.Definition.Remediation.ProtectedUsers...))
	if protected[strings.ToLower(userID)] {
		return "protected user: attest never changes their access", nil
	}
	u, err := x.Store.FindUser(ctx, c.SnapshotID, userID)
	switch {
	case errors.Is(err, ErrNotFound):
		return fmt.Sprintf("user %s is not in the reviewed snapshot, so attest cannot check they are not protected", userID), nil
	case err != nil:
		return "", fmt.Errorf("guard: find user %s: %w", userID, err)
	case u.ID != userID:
		return fmt.Sprintf("the row names user %s by %q, not by their Okta id", u.ID, userID), nil
	case protected[strings.ToLower(u.Login)] || protected[strings.ToLower(u.Email)]:
		return "protected user: attest never changes their access", nil
	}
	return "", nil
}

// guardGroup checks the group of a membership row.
func (x *Executor) guardGroup(ctx context.Context, c *Campaign, op *Operation) (string, error) {
	protected := keySet(append(append([]string{}, x.ProtectedGroups...), c.Definition.Remediation.ProtectedGroups...))
	if protected[strings.ToLower(op.GroupID)] {
		return "protected group " + op.GroupID + ": attest never changes it", nil
	}
	g, err := x.Ops.SnapshotGroup(ctx, c.SnapshotID, op.GroupID)
	switch {
	case errors.Is(err, ErrNotFound):
		return fmt.Sprintf("group %s is not in the reviewed snapshot, so attest cannot check it is not protected", op.GroupID), nil
	case err != nil:
		return "", fmt.Errorf("guard: find group %s: %w", op.GroupID, err)
	case protected[strings.ToLower(g.Name)]:
		return fmt.Sprintf("protected group %q: attest never changes it", g.Name), nil
	case g.Type == GroupBuiltIn:
		return fmt.Sprintf("built-in group %q: attest never changes it", g.Name), nil
	case g.Type == GroupApp:
		return fmt.Sprintf("group %q is mastered outside Okta (APP_GROUP): change it at its source", g.Name), nil
	case op.Kind == OpRemoveMembership && len(g.RuleIDs) > 0:
		return fmt.Sprintf("membership of %q is managed by group rule %s: removing it would add the user to the rule's exclusions",
			g.Name, strings.Join(g.RuleIDs, ", ")), nil
	}
	return "", nil
}
