package campaign

import (
	"errors"
	"reflect"
	"testing"
)

// A close's plan built from its cases as they stream, whenever the
// reviewed snapshot arrives (before the first case, part-way, or only
// once every case is decided), is the plan BuildPlanFrom makes of all of
// them; a snapshot that could not be read fails the plan.
func TestStreamPlanMatchesBuildPlan(t *testing.T) {
	def, err := ParseDefinition("t.yaml", []byte("name: Q4\n"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []PlanCase{
		{ID: 1, UserID: "dev", Kind: KindApp, EntitlementID: "aws", ViaGroups: []string{"eng", "admins"}, Outcome: OutcomeRevoked},
		{ID: 2, UserID: "mgr", Kind: KindApp, EntitlementID: "aws", Direct: true, ViaGroups: []string{"eng"}, Outcome: OutcomeNoDecisionRevoked},
		{ID: 3, UserID: "dev", Kind: KindGroup, EntitlementID: "admins", Direct: true, Outcome: OutcomeKept},
		{ID: 4, UserID: "gone", Kind: KindApp, EntitlementID: "payroll", Direct: true, Outcome: OutcomeRevokedByMember},
		{ID: 5, UserID: "ceo", Kind: KindApp, EntitlementID: "payroll", Outcome: OutcomeRevoked},
		{ID: 6, UserID: "new", Kind: KindGroup, EntitlementID: "everyone", Direct: true, Outcome: OutcomeRevoked},
		{ID: 7, UserID: "stale", Kind: KindGroup, EntitlementID: "eng", Direct: true, Outcome: OutcomeRevoked},
	}
	want := BuildPlanFrom(NewIndex(smallOrg()), def, cases)
	if len(want) < 4 {
		t.Fatalf("the reference plan has %d items: the cases test too little", len(want))
	}
	for at := 0; at <= len(cases); at++ {
		ready := make(chan loadedSnapshot, 1)
		sp := &streamPlan{def: def, ready: ready}
		for i, pc := range cases {
			if i == at {
				ready <- loadedSnapshot{snap: smallOrg()}
			}
			sp.take(pc)
		}
		if at == len(cases) {
			ready <- loadedSnapshot{snap: smallOrg()}
		}
		got, err := sp.finish()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("snapshot before case %d: plan %+v, %v; want %+v", at, got, err, want)
		}
	}
	ready := make(chan loadedSnapshot, 1)
	sp := &streamPlan{def: def, ready: ready}
	sp.take(cases[0])
	ready <- loadedSnapshot{err: ErrNotFound}
	sp.take(cases[1])
	if got, err := sp.finish(); !errors.Is(err, ErrNotFound) || got != nil || sp.buf != nil {
		t.Fatalf("unread snapshot: plan %+v, err %v, %d cases kept; want ErrNotFound and nothing", got, err, len(sp.buf))
	}
}
