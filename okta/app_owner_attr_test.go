package okta_test

import (
	"testing"

	"github.com/attestbot/attest/internal/oktatest"
	"github.com/attestbot/attest/okta"
)

// With okta.app_owner_attribute set, the sync keeps that app profile
// attribute's value as the app's Owners: a string as is, a list of
// strings joined; other attributes and apps without it give "". Without
// it, nothing is read.
func TestReadAppOwnerAttribute(t *testing.T) {
	org := oktatest.Generate(smallParams())
	org.Apps[0].Profile = map[string]any{"owner_email": "a@x.com, b@x.com", "cost_center": "42"}
	org.Apps[1].Profile = map[string]any{"owner_email": []any{"c@x.com", "d@x.com"}}
	org.Apps[2].Profile = map[string]any{"owner_email": 7}
	srv := oktatest.NewServer(org)
	defer srv.Close()

	snap, err := readAll(t, newClient(t, srv, func(o *okta.Options) { o.AppOwnerAttribute = "owner_email" }))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{org.Apps[0].ID: "a@x.com, b@x.com", org.Apps[1].ID: "c@x.com, d@x.com"}
	for _, a := range snap.Apps {
		if a.Owners != want[a.ID] {
			t.Errorf("app %s (%s): owners %q, want %q", a.ID, a.Label, a.Owners, want[a.ID])
		}
	}

	snap, err = readAll(t, newClient(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range snap.Apps {
		if a.Owners != "" {
			t.Errorf("no attribute configured: app %s owners %q", a.ID, a.Owners)
		}
	}
}
