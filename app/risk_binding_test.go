package app_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/app"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/config"
	"github.com/attestbot/attest/internal/oktatest"
)

// Through the application's own wiring (app.Open, Core.Sync) against a
// fake Okta: an app rated by its label is renamed in Okta between two
// syncs and stays critical, for the engine's Risk (cases, event triggers)
// alike; with the rule gone from the configuration the next sync drops
// the binding.
func TestRiskBindingThroughSync(t *testing.T) {
	org := oktatest.Generate(oktatest.Params{Seed: 3, Users: 40, Apps: 6, Groups: 8})
	srv := oktatest.NewServer(org, oktatest.WithWindow(time.Second))
	t.Cleanup(srv.Close)
	var target oktatest.App
	for _, a := range org.Apps {
		if !a.CompanyWide && a.Status == "ACTIVE" {
			target = a
			break
		}
	}
	if target.ID == "" {
		t.Fatal("the generated org has no app to rate")
	}
	dir := t.TempDir()
	env := map[string]string{"ATTEST_DB": filepath.Join(dir, "attest.db"), "OKTA_ORG_URL": srv.URL, "OKTA_API_TOKEN": srv.Token}
	ctx := context.Background()
	open := func(extra string) *app.Core {
		t.Helper()
		path := filepath.Join(dir, "attest.yaml")
		if err := os.WriteFile(path, []byte(extra), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(path, func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		core, err := app.Open(ctx, cfg, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel), app.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { core.Close() })
		return core
	}
	core := open("risk:\n  apps: {" + strconv.Quote(target.Label) + ": critical}\n")
	if _, err := core.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	renamed := target.Label + " (legacy)"
	if err := srv.Update(func(o *oktatest.Org) error {
		for i := range o.Apps {
			if o.Apps[i].ID == target.ID {
				o.Apps[i].Label = renamed
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := core.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if lvl := core.Engine.Risk(campaign.KindApp, target.ID, renamed); lvl != "critical" {
		t.Fatalf("after the rename the engine rates %s %q, want critical", target.ID, lvl)
	}
	yaml := "name: critical only\nscope: {risk: [critical]}\n"
	def, err := campaign.ParseDefinition("c.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	c, err := core.Engine.Launch(ctx, campaign.LaunchRequest{Definition: def, YAML: yaml, Trigger: "test",
		Owner: campaign.Actor{Email: org.Users[1].Email, Via: "test"}})
	if err != nil {
		t.Fatalf("launch after the rename: %v (the renamed app lost its rating)", err)
	}
	cases, err := core.Store.Cases(ctx, c.ID, campaign.CaseQuery{})
	if err != nil || len(cases) == 0 {
		t.Fatalf("cases = %d, %v", len(cases), err)
	}
	for _, cs := range cases {
		if cs.EntitlementID != target.ID || cs.Label != renamed || cs.Risk != "critical" {
			t.Fatalf("case %+v; want %s as %q, critical", cs, target.ID, renamed)
		}
	}
	core.Close()

	core = open("risk:\n  apps: {}\n")
	if lvl := core.Engine.Risk(campaign.KindApp, target.ID, renamed); lvl != "" {
		t.Fatalf("with the rule removed the engine rates %s %q before the sync, want unrated", target.ID, lvl)
	}
	if _, err := core.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if left, err := core.Store.RiskBindings(ctx); err != nil || len(left) != 0 {
		t.Fatalf("bindings after the rule was removed = %+v, %v; want none", left, err)
	}
}
