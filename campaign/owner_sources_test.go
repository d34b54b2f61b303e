package campaign_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/campaign"
)

// TestOwnerSourcesAtLaunch: an owner stage that can find no owners, or
// whose owners_attribute the sync does not read, is refused at launch
// with the key to set; owners from the configuration are enough.
func TestOwnerSourcesAtLaunch(t *testing.T) {
	h := newHarness(t, org())
	try := func(yaml string) error {
		def, err := campaign.ParseDefinition("test.yaml", []byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		_, err = h.eng.Launch(h.ctx, campaign.LaunchRequest{Definition: def, YAML: yaml, Owner: as("iam@x.com"), Trigger: "test"})
		return err
	}
	const base = "name: S\nowner: iam@x.com\nstages:\n  self_attestation: {enabled: false}\n  app_owner: {enabled: true"
	err := try(base + "}\n")
	wantErr(t, err, campaign.ErrInvalid, "no owner source")
	if !strings.Contains(err.Error(), "names no owners") || !strings.Contains(err.Error(), "campaigns.owners") {
		t.Fatalf("no owner source: %v", err)
	}
	err = try(base + ", owners_attribute: owner_email}\n")
	wantErr(t, err, campaign.ErrInvalid, "attribute not read")
	if !strings.Contains(err.Error(), "okta.app_owner_attribute: owner_email") {
		t.Fatalf("attribute not read: %v", err)
	}
	h.eng.AppOwnerAttribute = "appOwner"
	err = try(base + ", owners_attribute: owner_email}\n")
	if err == nil || !strings.Contains(err.Error(), `reads only "appOwner"`) {
		t.Fatalf("another attribute read: %v", err)
	}
	h.eng.AppOwners = map[string][]string{"GitHub": {"dev2@x.com"}}
	if err := try(base + "}\n"); err != nil {
		t.Fatalf("owners from campaigns.owners: %v", err)
	}
}

// TestOwnerStageFromAttributeAndConfig: stage 3's owners come from the
// app profile attribute the sync kept (a JSON list, or names separated by
// commas), the definition's owners and the configuration's, the
// definition's list winning over the configuration's for an app both
// name; a name in the attribute that is no user is reported.
func TestOwnerStageFromAttributeAndConfig(t *testing.T) {
	s := org()
	for i := range s.Apps {
		switch s.Apps[i].ID {
		case "github":
			s.Apps[i].Owners = `["dev2@x.com"]`
		case "jira":
			s.Apps[i].Owners = "ghost@x.com, "
		}
	}
	h := newHarness(t, s)
	h.eng.AppOwnerAttribute = "owner_email"
	h.eng.AppOwners = map[string][]string{"github": {"mgr@x.com"}, "Jira": {"peer@x.com"}}
	c := h.launch(`name: Attr
owner: iam@x.com
stages:
  self_attestation: {enabled: false}
  manager: {duration: 7d}
  app_owner:
    enabled: true
    owners_attribute: owner_email
    owners: {GitHub: [vp@x.com]}
`)
	h.answer(c.ID, "mgr@x.com", "dev1", "GitHub", "keep")
	h.answer(c.ID, "mgr@x.com", "dev1", "Jira", "keep")
	h.clock.Advance(7*day + time.Minute)
	h.tick()
	c, _ = h.st.GetCampaign(h.ctx, c.ID)
	if c.State != campaign.StateStage3 {
		t.Fatalf("state = %s, want stage3", c.State)
	}
	apps := func(owner string) []string {
		work, err := h.eng.OwnerWork(h.ctx, c, owner)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range work {
			out = append(out, a.AppID)
		}
		return out
	}
	for owner, want := range map[string][]string{
		"dev2": {"github"}, // the attribute's JSON list
		"vp":   {"github"}, // the definition's list
		"mgr":  nil,        // campaigns.owners for GitHub, overridden by the definition
		"peer": {"jira"},   // campaigns.owners for Jira
	} {
		if got := apps(owner); !slices.Equal(got, want) {
			t.Errorf("%s decides %v, want %v", owner, got, want)
		}
	}
	events, _ := h.st.Events(h.ctx, c.ID)
	var unresolved string
	for _, ev := range events {
		if ev.Type == "campaign.stage_changed" && ev.Detail["to"] == "stage3" {
			unresolved = strings.Join(toStrings(ev.Detail["unresolved_owners"]), ";")
		}
	}
	if !strings.Contains(unresolved, `"ghost@x.com" of Jira (app profile owner_email)`) {
		t.Errorf("unresolved owners = %q, want ghost@x.com of Jira named", unresolved)
	}
}

// toStrings reads a []string or []any of strings from an event detail.
func toStrings(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
