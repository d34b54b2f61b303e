package campaign_test

import (
	"math/rand"
	"reflect"
	"testing"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/oktatest"
)

// caseKey is what a case of a case set says, by ids.
type caseKey struct {
	User, App string
	Direct    bool
	Flags     campaign.Flag
	Via       string
}

// builtCases builds the cases of a definition on a snapshot.
func builtCases(t *testing.T, s *campaign.Snapshot, def *campaign.Definition) ([]caseKey, []campaign.GroupCase) {
	t.Helper()
	cs, err := campaign.BuildCases(campaign.NewIndex(s), def, s.CompletedAt)
	if err != nil {
		t.Fatal(err)
	}
	var out []caseKey
	for i := range cs.Cases {
		c := &cs.Cases[i]
		k := caseKey{User: s.Users[c.User].ID, App: s.Apps[c.App].ID, Direct: c.Direct, Flags: c.Flags}
		for _, g := range cs.Via(c) {
			k.Via += s.Groups[g].ID + " "
		}
		out = append(out, k)
	}
	return out, cs.GroupCases
}

// Leaving out the app assignments ImpliedByGroups marks changes no case:
// on synthetic orgs where some GROUP-scope assignments have lost their
// group (memberships removed, groups unknown), some have none at all,
// and some name users or apps the snapshot does not know.
func TestImpliedAssignmentsChangeNoCase(t *testing.T) {
	def, err := campaign.ParseDefinition("t.yaml", []byte("name: t\nentitlements: {groups: [\"*\"]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for seed := int64(1); seed <= 6; seed++ {
		s := oktatest.Generate(oktatest.Params{Seed: seed, Users: 300, Apps: 40, Groups: 60}).Snapshot()
		r := rand.New(rand.NewSource(seed))
		// Some memberships go: the GROUP-scope assignments they explained
		// are no longer implied.
		kept := s.Memberships[:0]
		for _, m := range s.Memberships {
			if r.Intn(10) > 0 {
				kept = append(kept, m)
			}
		}
		s.Memberships = kept
		for range 20 {
			u, a := s.Users[r.Intn(len(s.Users))].ID, s.Apps[r.Intn(len(s.Apps))].ID
			s.AppAssignments = append(s.AppAssignments, campaign.AppAssignment{AppID: a, UserID: u, Scope: campaign.ScopeGroup})
		}
		s.AppAssignments = append(s.AppAssignments,
			campaign.AppAssignment{AppID: "0oa-unknown", UserID: s.Users[0].ID, Scope: campaign.ScopeGroup},
			campaign.AppAssignment{AppID: s.Apps[0].ID, UserID: "00u-unknown", Scope: campaign.ScopeGroup})
		s.Memberships = append(s.Memberships, campaign.Membership{GroupID: "00g-unknown", UserID: s.Users[1].ID})
		s.GroupAssignments = append(s.GroupAssignments, campaign.GroupAssignment{AppID: s.Apps[1].ID, GroupID: "00g-unknown"})

		implied := campaign.ImpliedByGroups(s)
		slim := *s
		slim.AppAssignments = nil
		n := 0
		for i, au := range s.AppAssignments {
			if implied[i] {
				n++
				if au.Scope == campaign.ScopeUser {
					t.Fatalf("seed %d: a direct assignment marked implied: %+v", seed, au)
				}
				continue
			}
			slim.AppAssignments = append(slim.AppAssignments, au)
		}
		if n == 0 || n == len(s.AppAssignments) {
			t.Fatalf("seed %d: %d of %d assignments implied: the org tests nothing", seed, n, len(s.AppAssignments))
		}
		wantApps, wantGroups := builtCases(t, s, def)
		gotApps, gotGroups := builtCases(t, &slim, def)
		if !reflect.DeepEqual(gotApps, wantApps) || !reflect.DeepEqual(gotGroups, wantGroups) {
			t.Fatalf("seed %d: leaving out %d implied assignments changed the cases (%d app cases, want %d)",
				seed, n, len(gotApps), len(wantApps))
		}
	}
}

// What ImpliedByGroups marks, case by case.
func TestImpliedByGroups(t *testing.T) {
	s := &campaign.Snapshot{
		Users:            []campaign.User{{ID: "dev"}, {ID: "dev2"}, {ID: "op"}},
		Apps:             []campaign.App{{ID: "aws"}, {ID: "jira"}, {ID: "wiki"}},
		Groups:           []campaign.Group{{ID: "eng"}, {ID: "ops"}},
		GroupAssignments: []campaign.GroupAssignment{{AppID: "aws", GroupID: "eng"}, {AppID: "wiki", GroupID: "gone"}},
		Memberships:      []campaign.Membership{{GroupID: "eng", UserID: "dev"}, {GroupID: "ops", UserID: "op"}, {GroupID: "gone", UserID: "op"}},
		AppAssignments: []campaign.AppAssignment{
			{AppID: "aws", UserID: "dev", Scope: campaign.ScopeGroup},  // through eng
			{AppID: "aws", UserID: "op", Scope: campaign.ScopeGroup},   // ops grants no aws
			{AppID: "aws", UserID: "dev2", Scope: campaign.ScopeUser},  // direct
			{AppID: "aws", UserID: "dev", Scope: campaign.ScopeUser},   // direct, even with a group
			{AppID: "wiki", UserID: "op", Scope: campaign.ScopeGroup},  // through a group the snapshot lacks
			{AppID: "jira", UserID: "dev", Scope: campaign.ScopeGroup}, // no group grants jira
		},
	}
	want := []bool{true, false, false, false, false, false}
	if got := campaign.ImpliedByGroups(s); !reflect.DeepEqual(got, want) {
		t.Fatalf("implied = %v, want %v", got, want)
	}
}
