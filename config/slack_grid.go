package config

// Slack Enterprise Grid: an org-wide install (slack.enterprise_id) and the
// workspaces it works in (slack.team_ids).

import (
	"regexp"
	"strings"
)

var (
	// enterpriseIDRE is a Grid org's id: E and capitals or digits.
	enterpriseIDRE = regexp.MustCompile(`^E[A-Z0-9]{2,20}$`)
	// teamIDRE is a workspace's id: T and capitals or digits.
	teamIDRE = regexp.MustCompile(`^T[A-Z0-9]{2,20}$`)
)

// OrgWide reports whether the Slack app is installed on a whole
// Enterprise Grid org (slack.enterprise_id is set).
func (s SlackConfig) OrgWide() bool { return s.EnterpriseID != "" }

// validateSlackGrid checks slack.enterprise_id and slack.team_ids: the
// shapes of the ids, and that team_ids come with an org-wide install.
func (c *Config) validateSlackGrid(p *problems) {
	s := &c.Slack
	if e := s.EnterpriseID; e != "" && !enterpriseIDRE.MatchString(e) {
		fix := "use the org's id (E…, capitals and digits), shown in the admin dashboard under Organization settings, " +
			"or remove it for an install on one workspace"
		if strings.HasPrefix(e, "T") {
			fix = "that is a workspace id; " + fix
		}
		p.add("slack.enterprise_id", "%q is not an Enterprise Grid org id; %s", e, fix)
	}
	if len(s.TeamIDs) > 0 && s.EnterpriseID == "" {
		p.add("slack.team_ids", "is set, but slack.enterprise_id is not; team_ids lists the workspaces of an org-wide "+
			"install: set slack.enterprise_id to the org's id (E…), or remove team_ids for an install on one workspace")
	}
	seen := map[string]bool{}
	for _, t := range s.TeamIDs {
		switch {
		case !teamIDRE.MatchString(t):
			p.add("slack.team_ids", "%q is not a workspace id; use the ids (T…, capitals and digits) of the org's workspaces "+
				"attest was added to, or leave team_ids empty to use every one of them", t)
		case seen[t]:
			p.add("slack.team_ids", "%q is listed twice; list each workspace once", t)
		}
		seen[t] = true
	}
}
