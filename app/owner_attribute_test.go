package app_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/app"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/config"
	"github.com/attestbot/attest/internal/oktatest"
)

// Through the application's wiring (config, app.Open, Core.Sync) against
// a fake Okta: with okta.app_owner_attribute set, the sync keeps an app's
// profile attribute in the stored snapshot and the owners it names
// resolve to Okta users; campaigns.owners reaches the engine; a launch
// whose owners_attribute is not the one the sync reads is refused.
func TestAppOwnerAttributeThroughSync(t *testing.T) {
	org := oktatest.Generate(oktatest.Params{Seed: 5, Users: 40, Apps: 6, Groups: 8})
	var owners []oktatest.User
	for _, u := range org.Users {
		if u.Status == "ACTIVE" && len(owners) < 2 {
			owners = append(owners, u)
		}
	}
	target := &org.Apps[0]
	target.Profile = map[string]any{"owner_email": []any{owners[0].Email, owners[1].Login}, "region": "eu"}
	srv := oktatest.NewServer(org, oktatest.WithWindow(time.Second))
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	env := map[string]string{"ATTEST_DB": filepath.Join(dir, "attest.db"), "OKTA_ORG_URL": srv.URL, "OKTA_API_TOKEN": srv.Token}
	path := filepath.Join(dir, "attest.yaml")
	yaml := "okta:\n  app_owner_attribute: owner_email\ncampaigns:\n  owners: {Payroll: [" + owners[0].Email + "]}\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	core, err := app.Open(ctx, cfg, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { core.Close() })
	res, err := core.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := core.Store.LoadSnapshot(ctx, res.SnapshotID)
	if err != nil {
		t.Fatal(err)
	}
	var kept string
	for _, a := range snap.Apps {
		if a.ID == target.ID {
			kept = a.Owners
		} else if a.Owners != "" {
			t.Errorf("app %s without the attribute has owners %q", a.ID, a.Owners)
		}
	}
	if want := owners[0].Email + ", " + owners[1].Login; kept != want {
		t.Fatalf("stored owners of %s = %q, want %q", target.ID, kept, want)
	}
	got, unresolved := campaign.ResolveOwners(snap, campaign.OwnerStage{OwnersAttribute: "owner_email"})
	want := []string{owners[0].ID, owners[1].ID}
	slices.Sort(want)
	if !slices.Equal(got[target.ID], want) || len(unresolved) != 0 {
		t.Fatalf("owners of %s = %v (unresolved %v), want %v", target.ID, got[target.ID], unresolved, want)
	}
	if p := core.Engine.AppOwners["Payroll"]; !slices.Equal(p, []string{owners[0].Email}) {
		t.Fatalf("campaigns.owners in the engine: %v", core.Engine.AppOwners)
	}

	launch := func(attr string) error {
		text := "name: owners\nstages:\n  app_owner: {enabled: true, owners_attribute: " + attr + "}\n"
		def, err := campaign.ParseDefinition("c.yaml", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		_, err = core.Engine.Launch(ctx, campaign.LaunchRequest{Definition: def, YAML: text, Trigger: "test",
			Owner: campaign.Actor{Email: owners[0].Email, Via: "test"}})
		return err
	}
	if err := launch("costCenterOwner"); err == nil || !strings.Contains(err.Error(), "okta.app_owner_attribute") {
		t.Fatalf("launch with an attribute the sync does not read: %v", err)
	}
	if err := launch("owner_email"); err != nil {
		t.Fatalf("launch with the synced attribute: %v", err)
	}
}
