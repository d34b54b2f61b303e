package campaign

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/attestbot/attest/internal/csvsafe"
)

// Sweep finding kinds.
const (
	FindingStaleUser       = "stale_user"       // an active user with no Okta sign-in for N days who still holds apps
	FindingUnusedApp       = "unused_app"       // an active app nobody signed in to for N days
	FindingOrphaned        = "orphaned_account" // a suspended or deprovisioned user who still holds apps
	FindingExcessiveGroups = "excessive_groups" // a user in more than N groups
	FindingNoManager       = "no_manager"       // an active user without a (resolvable) manager
)

// Finding is one stale-access finding, with the entitlements a review of it
// would cover.
type Finding struct {
	Kind    string           `json:"kind"`
	UserID  string           `json:"user_id,omitempty"`
	Email   string           `json:"email,omitempty"`
	AppID   string           `json:"app_id,omitempty"`
	Label   string           `json:"label,omitempty"`
	Detail  string           `json:"detail"`
	Covered []EntitlementKey `json:"-"`
}

// SweepOptions are the thresholds of a sweep.
type SweepOptions struct {
	StaleLoginDays, UnusedAppDays, ExcessiveGroups int
}

// Sweep looks over a snapshot for stale access: users with no sign-in for
// N days, apps nobody used for N days, orphaned accounts, users above the
// group threshold and users with no manager. Findings are ordered by kind,
// then user or app, so two sweeps of one snapshot read the same.
func Sweep(ix *Index, now time.Time, o SweepOptions) []Finding {
	s := ix.Snap
	if o.StaleLoginDays <= 0 {
		o.StaleLoginDays = DefaultStaleLoginDays
	}
	if o.UnusedAppDays <= 0 {
		o.UnusedAppDays = DefaultUnusedAppDays
	}
	if o.ExcessiveGroups <= 0 {
		o.ExcessiveGroups = DefaultExcessiveGroups
	}
	staleBefore := now.AddDate(0, 0, -o.StaleLoginDays)
	unusedBefore := now.AddDate(0, 0, -o.UnusedAppDays).Unix()
	held := make([][]EntitlementKey, len(s.Users)) // every app each user holds
	appHolders := make([]int, len(s.Apps))
	appUsed := make([]bool, len(s.Apps))
	ix.EachRelation(func(r *Relation) {
		held[r.User] = append(held[r.User], EntitlementKey{s.Users[r.User].ID, KindApp, s.Apps[r.App].ID})
		appHolders[r.App]++
		if t, ok := ix.usage[key(r.User, r.App)]; ok && t >= unusedBefore {
			appUsed[r.App] = true
		}
	})
	var out []Finding
	for i := range s.Users {
		u := &s.Users[i]
		f := Finding{UserID: u.ID, Email: firstNonEmpty(u.Email, u.Login), Covered: held[i]}
		switch {
		case u.Inactive() && len(held[i]) > 0:
			f.Kind, f.Detail = FindingOrphaned, u.Status+" and still holds "+strconv.Itoa(len(held[i]))+" app(s)"
			out = append(out, f)
			continue
		case u.Inactive():
			continue
		}
		if u.Status == StatusActive && stale(u, staleBefore) && len(held[i]) > 0 {
			g := f
			g.Kind, g.Detail = FindingStaleUser, "no Okta sign-in since "+dateOr(u.LastLogin, "ever")
			out = append(out, g)
		}
		if n := countGroups(ix, int32(i)); n > o.ExcessiveGroups {
			g := f
			g.Kind, g.Detail = FindingExcessiveGroups, strconv.Itoa(n)+" groups"
			out = append(out, g)
		}
		if _, ok := ix.UserByID[u.ManagerID]; u.ManagerID == "" || !ok {
			g := f
			g.Kind, g.Detail = FindingNoManager, "no manager in Okta or the HR file"
			out = append(out, g)
		}
	}
	for a := range s.Apps {
		app := &s.Apps[a]
		if app.Active() && appHolders[a] > 0 && !appUsed[a] {
			f := Finding{Kind: FindingUnusedApp, AppID: app.ID, Label: app.Label,
				Detail: strconv.Itoa(appHolders[a]) + " holder(s), no sign-in in " + strconv.Itoa(o.UnusedAppDays) + " days"}
			for u := range held {
				for _, k := range held[u] {
					if k.EntitlementID == app.ID {
						f.Covered = append(f.Covered, k)
					}
				}
			}
			out = append(out, f)
		}
	}
	rank := map[string]int{FindingOrphaned: 0, FindingStaleUser: 1, FindingUnusedApp: 2, FindingExcessiveGroups: 3, FindingNoManager: 4}
	sort.SliceStable(out, func(i, j int) bool {
		if rank[out[i].Kind] != rank[out[j].Kind] {
			return rank[out[i].Kind] < rank[out[j].Kind]
		}
		return out[i].UserID+out[i].AppID < out[j].UserID+out[j].AppID
	})
	return out
}

func dateOr(t time.Time, never string) string {
	if t.IsZero() {
		return never
	}
	return t.Format("2006-01-02")
}

// Covered gathers the entitlements a review of the findings covers.
func Covered(findings []Finding) map[EntitlementKey]bool {
	out := map[EntitlementKey]bool{}
	for _, f := range findings {
		for _, k := range f.Covered {
			out[k] = true
		}
	}
	return out
}

// WriteFindingsCSV writes one row per finding.
func WriteFindingsCSV(w io.Writer, findings []Finding) error {
	cw := csvsafe.NewWriter(w)
	if err := cw.Write([]string{"kind", "user_id", "email", "app_id", "app", "detail", "entitlements"}); err != nil {
		return err
	}
	for _, f := range findings {
		if err := cw.Write([]string{f.Kind, f.UserID, f.Email, f.AppID, f.Label, f.Detail, strconv.Itoa(len(f.Covered))}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// LaunchSweep launches a review over exactly the entitlements a sweep
// found, as the IAM team asked with "Start review of these".
func (e *Engine) LaunchSweep(ctx context.Context, covered map[EntitlementKey]bool, owner Actor, iamReviewers []string) (*Campaign, error) {
	if len(covered) == 0 {
		return nil, fmt.Errorf("the sweep found nothing to review: %w", ErrInvalid)
	}
	def := &Definition{Name: "Stale-access review " + e.now().Format("2006-01-02"), Owner: owner.String(),
		Description: "Launched from a stale-access sweep: exactly the access it found."}
	def.Scope.Apps.IncludeCompanyWide, def.Scope.Apps.IncludeInactive = true, true
	def.Escalation.IAMReviewers = iamReviewers
	def.setDefaults()
	yaml := "name: " + def.Name + "\nowner: " + def.Owner + "\nscope: {apps: {include_company_wide: true, include_inactive: true}}\n"
	return e.Launch(ctx, LaunchRequest{Definition: def, YAML: yaml, Owner: owner, Trigger: "sweep", Only: covered})
}
