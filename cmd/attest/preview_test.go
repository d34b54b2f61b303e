package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/attestbot/attest/blocks"
)

// TestPreviewLinks runs `attest preview --json` with a definition and
// checks every surface: its link decodes to exactly the JSON printed,
// which passes Block Kit's limits and carries what the bot's handlers
// route on; the launch modal is what blocks.LaunchModalView builds for
// the definition the sandbox offers.
func TestPreviewLinks(t *testing.T) {
	c := newCLI(t)
	def := c.write("payroll.yaml", "name: Payroll recertification\ndecisions: {disable_bulk: true}\n")
	var ss []surface
	c.json(&ss, "preview", "--definition", def)
	want := []string{"launch modal", "member form", "App Home", "manager form", "approval message"}
	var names []string
	for _, s := range ss {
		names = append(names, s.Name)
	}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("surfaces %v, want %v", names, want)
	}
	must := map[string][]string{
		"launch modal":     {`"type":"modal"`, `"Payroll recertification"`, `"action_id":"definition"`},
		"member form":      {`"member_submit"`, `"Submit`, `"value":"keep"`, `"value":"revoke"`, `"value":"unsure"`, `"block_id":"case:`, "Payroll recertification"},
		"manager form":     {`"reviewer_submit"`, `"value":"keep"`, `"value":"revoke"`, `"block_id":"case:`},
		"App Home":         {`"type":"home"`, "Payroll recertification"},
		"approval message": {`"plan_approve"`, `"plan_reject"`, "Approve", "Reject"},
	}
	for _, s := range ss {
		got, err := decodeBuilderURL(s.URL)
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		// --json prints the JSON indented: compare it compacted.
		var printed bytes.Buffer
		if err := json.Compact(&printed, s.JSON); err != nil {
			t.Fatal(err)
		}
		if string(got) != printed.String() {
			t.Errorf("%s: the link opens\n%s\nnot the JSON printed\n%s", s.Name, got, s.JSON)
		}
		if strings.ContainsAny(strings.TrimPrefix(s.URL, blockKitBuilder), "{}\" #<>") {
			t.Errorf("%s: the fragment is not URL-encoded: %.80s", s.Name, s.URL)
		}
		if err := validateSurface(surface{Kind: s.Kind, JSON: got}); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
		for _, w := range must[s.Name] {
			if !strings.Contains(string(got), w) {
				t.Errorf("%s lacks %s:\n%s", s.Name, w, got)
			}
		}
	}
	// Bulk confirmation is off in this definition: the manager form
	// offers no "confirm all".
	if strings.Contains(string(ss[3].JSON), blocks.ActionConfirmMember) {
		t.Error("the manager form offers bulk confirmation the definition disables")
	}
	var modal, built any
	raw, _ := json.Marshal(blocks.LaunchModalView(blocks.LaunchModal{Definitions: []string{"Payroll recertification"}}))
	if err := json.Unmarshal(raw, &built); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(ss[0].JSON, &modal); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(modal, built) {
		t.Errorf("launch modal\n%s\nis not blocks.LaunchModalView's\n%s", ss[0].JSON, raw)
	}
}

// TestBuilderURLEncoding: the fragment is encoded as encodeURIComponent
// encodes, so characters that end or split a URL fragment never appear.
func TestBuilderURLEncoding(t *testing.T) {
	raw := json.RawMessage(`{"blocks":[{"type":"section","text":{"type":"mrkdwn","text":"a b#c%d&e+f=g/h?ü 'x' (y) *z* ~w~"}}]}`)
	link := builderURL(raw)
	want := blockKitBuilder + "%7B%22blocks%22%3A%5B%7B%22type%22%3A%22section%22%2C%22text%22%3A%7B%22type%22%3A%22mrkdwn%22%2C%22text%22%3A%22a%20b%23c%25d%26e%2Bf%3Dg%2Fh%3F%C3%BC%20'x'%20(y)%20*z*%20~w~%22%7D%7D%5D%7D"
	if link != want {
		t.Fatalf("link\n%s\nwant\n%s", link, want)
	}
	back, err := decodeBuilderURL(link)
	if err != nil || string(back) != string(raw) {
		t.Fatalf("decoded %s, %v", back, err)
	}
}

// TestPreviewFollowsDefinitionAndConfig: a stage the definition switches
// off has no form in the preview, and the config's risk ratings show on
// the forms as the bot would show them.
func TestPreviewFollowsDefinitionAndConfig(t *testing.T) {
	c := newCLI(t)
	def := c.write("managers.yaml", "name: Managers only\nstages: {self_attestation: {enabled: false}}\n")
	cfg := c.write("attest.yaml", "risk:\n  apps: {\"*\": critical}\n")
	var ss []surface
	c.json(&ss, "preview", "--definition", def, "--config", cfg)
	var names []string
	for _, s := range ss {
		names = append(names, s.Name)
	}
	if want := []string{"launch modal", "App Home", "manager form", "approval message"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("surfaces %v, want %v", names, want)
	}
	if !strings.Contains(string(ss[2].JSON), "risk *critical*") {
		t.Errorf("the manager form shows no critical risk, though the config rates every app critical:\n%s", ss[2].JSON)
	}
}

// TestPreviewOwnerForm: without --definition the sample review has the
// app-owner stage on, so the owner's form is shown, as the bot sends it
// to the owner once the manager stage ends, and the plan still waits for
// approval.
func TestPreviewOwnerForm(t *testing.T) {
	c := newCLI(t)
	var ss []surface
	c.json(&ss, "preview")
	byName := map[string]surface{}
	var names []string
	for _, s := range ss {
		byName[s.Name] = s
		names = append(names, s.Name)
	}
	if want := []string{"launch modal", "member form", "App Home", "manager form", "owner form", "approval message"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("surfaces %v, want %v", names, want)
	}
	owner, err := decodeBuilderURL(byName["owner form"].URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"` + blocks.ActionOwnerSubmit + `"`, `"value":"keep"`, `"value":"revoke"`, `"block_id":"case:`} {
		if !strings.Contains(string(owner), w) {
			t.Errorf("owner form lacks %s:\n%s", w, owner)
		}
	}
	if err := validateSurface(surface{Kind: "message", JSON: owner}); err != nil {
		t.Error(err)
	}
	if !strings.Contains(string(byName["approval message"].JSON), blocks.ActionPlanApprove) {
		t.Errorf("the approval message has no Approve button:\n%s", byName["approval message"].JSON)
	}
}
