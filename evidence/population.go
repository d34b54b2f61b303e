package evidence

import (
	"context"
	"fmt"
	"sort"

	"github.com/attestbot/attest/campaign"
)

// populationGaps are what the store does not keep about how a snapshot was
// read, stated in every bundle so an auditor does not look for them.
var populationGaps = []string{
	"the Okta API responses of the sync are not kept (no response digests): only the calls, the pages read per list, 429s, retries and any failed read",
	"the sync's actor and configuration (org URL aside) are not recorded with the snapshot",
	"the read-back of each removal has no time of its own: operations.json gives the operation's finish time",
	"form opens are not recorded: analytics time decisions from the form's delivery to Slack, or from the stage's start",
}

// collectPopulation counts the snapshot as the sync recorded it and
// re-counts what the store still holds, so a snapshot changed after the
// sync shows as a mismatch.
func (b *Bundle) collectPopulation(ctx context.Context, src Source, c *campaign.Campaign) error {
	info, err := src.Snapshot(ctx, c.SnapshotID)
	if err != nil {
		return fmt.Errorf("evidence: snapshot %d: %w", c.SnapshotID, err)
	}
	apps, err := src.SnapshotApps(ctx, c.SnapshotID)
	if err != nil {
		return fmt.Errorf("evidence: apps of snapshot %d: %w", c.SnapshotID, err)
	}
	groups, err := src.SnapshotGroupNames(ctx, c.SnapshotID)
	if err != nil {
		return fmt.Errorf("evidence: groups of snapshot %d: %w", c.SnapshotID, err)
	}
	k := info.Counts
	byStatus := map[string]int{}
	for s, n := range k.UsersByStatus {
		byStatus[s] = n
	}
	p := PopulationFile{SchemaVersion: SchemaVersion, SnapshotID: info.ID, SnapshotSHA: c.SnapshotDigest, OrgURL: info.OrgURL,
		Sync: SyncInfo{StartedAt: at(info.StartedAt), CompletedAt: at(info.CompletedAt), DurationSeconds: k.DurationSeconds,
			APICalls: k.APICalls, RateLimited: k.RateLimited, Retries: k.Retries, LogCursor: at(info.LogCursor)},
		Directory: DirectoryCount{Users: k.Users, UsersByStatus: byStatus, UsersWithoutManager: k.NoManager,
			UnresolvedManagers: k.UnresolvedManagers, HRRowsUnmatched: k.HRUnmatched, Groups: k.Groups, GroupRules: k.GroupRules,
			Apps: k.Apps, InactiveApps: k.InactiveApps, Memberships: k.Memberships, AssignmentsDirect: k.DirectAssignments,
			GroupAppAssignments: k.GroupAssignments, AssignmentsViaGroup: k.ViaGroup, EffectiveRelations: k.Relations,
			AppSignInsRecorded: k.SignIns, SnapshotUsersRead: len(b.people), SnapshotAppsRead: len(apps),
			SnapshotGroupsRead: len(groups), CountMismatchDetails: []string{}},
		Gaps: append([]string(nil), populationGaps...)}
	d := &p.Directory
	for _, m := range []struct {
		what           string
		synced, stored int
	}{{"users", k.Users, len(b.people)}, {"apps", k.Apps, len(apps)}, {"groups", k.Groups, len(groups)}} {
		if m.synced != m.stored {
			d.CountMismatchDetails = append(d.CountMismatchDetails,
				fmt.Sprintf("%s: the sync counted %d, the stored snapshot holds %d", m.what, m.synced, m.stored))
		}
	}
	d.CountsMatchSnapshot = len(d.CountMismatchDetails) == 0
	if k.APICalls == 0 {
		p.Gaps = append(p.Gaps, "this snapshot recorded no API call counts (a sync before they were counted, or a seeded snapshot)")
	}
	p.Read = readInfoOf(k.Read)
	p.HR = hrInfoOf(k.HR)
	p.InScope = scopeCount(b.Cases.Cases)
	b.Population = p
	return nil
}

// scopeCount counts the campaign's cases by member, entitlement, reviewer,
// kind and flag.
func scopeCount(cases []Case) ScopeCount {
	s := ScopeCount{Cases: len(cases), ByKind: map[string]int{}, ByFlag: map[string]int{}}
	for _, n := range campaign.FlagNames() {
		s.ByFlag[n] = 0
	}
	members, ents, reviewers := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i := range cases {
		cs := &cases[i]
		members[cs.UserID] = true
		ents[cs.Kind+"/"+cs.EntitlementID] = true
		reviewers[cs.ReviewerID] = true
		s.ByKind[cs.Kind]++
		for _, f := range cs.Flags {
			s.ByFlag[f]++
		}
	}
	s.Members, s.Entitlements, s.Reviewers = len(members), len(ents), len(reviewers)
	return s
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
