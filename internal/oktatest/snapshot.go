package oktatest

import (
	"github.com/attestbot/attest/campaign"
)

// Snapshot converts the org straight into a campaign.Snapshot, as a sync of
// it would store it (managers resolved, rule groups marked), without going
// through HTTP. Benchmarks of planning and the engine use it to build large
// snapshots quickly; tests of the sync itself must go through the server.
func (o *Org) Snapshot() *campaign.Snapshot {
	s := &campaign.Snapshot{OrgURL: "https://synthetic.okta.example", StartedAt: o.Now, CompletedAt: o.Now, LogCursor: o.Now}
	s.Users = make([]campaign.User, len(o.Users))
	for i := range o.Users {
		u := &o.Users[i]
		s.Users[i] = campaign.User{ID: u.ID, Login: u.Login, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName,
			Status: u.Status, Created: u.Created, LastLogin: u.LastLogin, Department: u.Department, Title: u.Title,
			ManagerRef: u.ManagerRef}
	}
	for _, g := range o.Groups {
		s.Groups = append(s.Groups, campaign.Group{ID: g.ID, Name: g.Name, Description: g.Description, Type: g.Type})
		for _, uid := range o.Members[g.ID] {
			s.Memberships = append(s.Memberships, campaign.Membership{GroupID: g.ID, UserID: uid})
		}
	}
	for _, r := range o.GroupRules {
		s.Rules = append(s.Rules, campaign.GroupRule{ID: r.ID, Name: r.Name, Status: r.Status, GroupIDs: r.GroupIDs})
	}
	for _, a := range o.Apps {
		s.Apps = append(s.Apps, campaign.App{ID: a.ID, Name: a.Name, Label: a.Label, Status: a.Status, SignOnMode: a.SignOnMode,
			LinkURL: "https://synthetic.okta.example" + a.LinkPath})
		for _, ga := range o.AppGroups[a.ID] {
			s.GroupAssignments = append(s.GroupAssignments, campaign.GroupAssignment{AppID: a.ID, GroupID: ga.GroupID, Priority: ga.Priority})
		}
		for _, au := range o.AppUsers(a.ID) {
			s.AppAssignments = append(s.AppAssignments, campaign.AppAssignment{AppID: a.ID, UserID: au.UserID, Scope: au.Scope, Created: a.Created})
		}
	}
	last := map[[2]string]int{}
	for _, ev := range o.Events {
		if ev.EventType != EventSSO || ev.AppID == "" || ev.Outcome != "SUCCESS" {
			continue
		}
		k := [2]string{ev.ActorID, ev.AppID}
		if i, ok := last[k]; ok {
			if ev.Published.After(s.Usage[i].LastUsed) {
				s.Usage[i].LastUsed = ev.Published
			}
			continue
		}
		last[k] = len(s.Usage)
		s.Usage = append(s.Usage, campaign.AppUsage{UserID: ev.ActorID, AppID: ev.AppID, LastUsed: ev.Published})
	}
	campaign.ResolveManagers(s.Users)
	campaign.MarkRuleGroups(s)
	return s
}
