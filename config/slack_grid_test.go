package config

import (
	"slices"
	"strings"
	"testing"
)

// slack.enterprise_id and slack.team_ids are read from the file and from
// ATTEST_SLACK_ENTERPRISE_ID / ATTEST_SLACK_TEAM_IDS.
func TestSlackGridKeys(t *testing.T) {
	tests := []struct {
		name     string
		yaml     string
		env      map[string]string
		orgWide  bool
		wantOrg  string
		wantTeam []string
	}{
		{"single workspace by default", "", nil, false, "", nil},
		{"from the file", "slack: {enterprise_id: E0ORG1, team_ids: [T0A, T0B]}\n", nil, true, "E0ORG1", []string{"T0A", "T0B"}},
		{"from the environment", "", map[string]string{"ATTEST_SLACK_ENTERPRISE_ID": "E0ORG2", "ATTEST_SLACK_TEAM_IDS": "T0A, T0C"},
			true, "E0ORG2", []string{"T0A", "T0C"}},
		{"org-wide, workspaces discovered", "slack: {enterprise_id: E0ORG1}\n", nil, true, "E0ORG1", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml), func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if c.Slack.OrgWide() != tc.orgWide || c.Slack.EnterpriseID != tc.wantOrg || !slices.Equal(c.Slack.TeamIDs, tc.wantTeam) {
				t.Fatalf("slack = org-wide %v, enterprise %q, teams %q", c.Slack.OrgWide(), c.Slack.EnterpriseID, c.Slack.TeamIDs)
			}
		})
	}
	if !KnownEnv("ATTEST_SLACK_ENTERPRISE_ID") || !KnownEnv("ATTEST_SLACK_TEAM_IDS") {
		t.Fatal("the Grid keys have no ATTEST_ variables")
	}
}

// Bad Grid settings are refused naming the key and the fix.
func TestSlackGridValidation(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"a workspace id as the org", "slack: {enterprise_id: T0ABC}\n",
			[]string{"slack.enterprise_id", `"T0ABC" is not an Enterprise Grid org id`, "that is a workspace id"}},
		{"not an id", "slack: {enterprise_id: acme}\n", []string{"slack.enterprise_id", "E…"}},
		{"team ids without the org", "slack: {team_ids: [T0A]}\n", []string{"slack.team_ids", "slack.enterprise_id is not"}},
		{"a channel as a team", "slack: {enterprise_id: E0ORG, team_ids: [C0A]}\n", []string{"slack.team_ids", `"C0A" is not a workspace id`}},
		{"twice", "slack: {enterprise_id: E0ORG, team_ids: [T0A, T0A]}\n", []string{"slack.team_ids", "listed twice"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), noEnv)
			if err == nil {
				t.Fatalf("accepted; want %v", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
		})
	}
}
