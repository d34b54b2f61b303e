package campaign

import (
	"slices"
	"testing"
)

func TestDigestIgnoresOrderButNotContent(t *testing.T) {
	a := smallOrg()
	b := smallOrg()
	slices.Reverse(b.Users)
	slices.Reverse(b.Memberships)
	if Digest(a) != Digest(b) {
		t.Fatal("digest depends on row order")
	}
	if len(Digest(a)) != 64 {
		t.Fatalf("digest %q is not 64 hex chars", Digest(a))
	}
	tests := []struct {
		name   string
		mutate func(s *Snapshot)
	}{
		{"user status", func(s *Snapshot) { s.Users[0].Status = StatusSuspended }},
		{"one membership fewer", func(s *Snapshot) { s.Memberships = s.Memberships[1:] }},
		{"scope", func(s *Snapshot) { s.AppAssignments[0].Scope = ScopeGroup }},
		{"sign-in time", func(s *Snapshot) { s.Usage[0].LastUsed = s.Usage[0].LastUsed.Add(1e9) }},
		{"field boundary", func(s *Snapshot) { s.Users[0].FirstName, s.Users[0].LastName = "a\tb", "" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := smallOrg()
			tc.mutate(c)
			if Digest(c) == Digest(a) {
				t.Fatal("digest unchanged after a content change")
			}
		})
	}
}
