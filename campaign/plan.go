package campaign

import (
	"io"
	"sort"
	"strings"
	"time"

	"github.com/attestbot/attest/internal/csvsafe"
)

// PlanSummary is what `attest plan` prints: who would be asked about what.
type PlanSummary struct {
	Campaign            string         `json:"campaign"`
	SnapshotID          int64          `json:"snapshot_id"`
	SnapshotTaken       time.Time      `json:"snapshot_taken"`
	Cases               int            `json:"cases"`
	Members             int            `json:"members"`
	Apps                int            `json:"apps"`
	Reviewers           []ReviewerLoad `json:"reviewers"`
	IAMTeamCases        int            `json:"iam_team_cases"`
	CasesPerApp         []AppLoad      `json:"cases_per_app"`
	Flags               map[string]int `json:"flags"`
	UsersWithoutManager []PersonRef    `json:"users_without_manager"`
}

// PersonRef names a user.
type PersonRef struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Cases int    `json:"cases"`
}

// ReviewerLoad is one manager's share of stage 2.
type ReviewerLoad struct {
	PersonRef
	Members int `json:"members"`
}

// AppLoad is one app's cases.
type AppLoad struct {
	ID       string `json:"id"`
	Label    string `json:"label"`
	Cases    int    `json:"cases"`
	Direct   int    `json:"direct"`
	ViaGroup int    `json:"via_group"`
}

// Summarize counts a case set for people: members, reviewers, apps, flags.
// Lists are ordered by descending count, then name, so output is stable.
func Summarize(cs *CaseSet) *PlanSummary {
	s := cs.Index.Snap
	ps := &PlanSummary{Campaign: cs.Def.Name, SnapshotID: s.ID, SnapshotTaken: s.CompletedAt,
		Cases: len(cs.Cases), Flags: map[string]int{}}
	for _, n := range FlagNames() {
		ps.Flags[n] = 0
	}
	memberCases := map[int32]int{}
	noReviewer := map[int32]bool{}
	type rev struct{ cases, members int }
	reviewers := map[int32]*rev{}
	apps := map[int32]*AppLoad{}
	for i := range cs.Cases {
		c := &cs.Cases[i]
		if memberCases[c.User] == 0 && c.Reviewer >= 0 {
			r := reviewers[c.Reviewer]
			if r == nil {
				r = &rev{}
				reviewers[c.Reviewer] = r
			}
			r.members++
		}
		memberCases[c.User]++
		if c.Reviewer >= 0 {
			reviewers[c.Reviewer].cases++
		} else {
			ps.IAMTeamCases++
			noReviewer[c.User] = true
		}
		al := apps[c.App]
		if al == nil {
			al = &AppLoad{ID: s.Apps[c.App].ID, Label: s.Apps[c.App].Label}
			apps[c.App] = al
		}
		al.Cases++
		if c.Direct {
			al.Direct++
		}
		if c.viaLen > 0 {
			al.ViaGroup++
		}
		for _, n := range c.Flags.Names() {
			ps.Flags[n]++
		}
	}
	ps.Members, ps.Apps = len(memberCases), len(apps)
	for u, r := range reviewers {
		ps.Reviewers = append(ps.Reviewers, ReviewerLoad{PersonRef: person(&s.Users[u], r.cases), Members: r.members})
	}
	sort.Slice(ps.Reviewers, func(i, j int) bool {
		a, b := ps.Reviewers[i], ps.Reviewers[j]
		if a.Cases != b.Cases {
			return a.Cases > b.Cases
		}
		return a.Email < b.Email
	})
	for _, al := range apps {
		ps.CasesPerApp = append(ps.CasesPerApp, *al)
	}
	sort.Slice(ps.CasesPerApp, func(i, j int) bool {
		a, b := ps.CasesPerApp[i], ps.CasesPerApp[j]
		if a.Cases != b.Cases {
			return a.Cases > b.Cases
		}
		return a.Label < b.Label
	})
	for u, n := range memberCases {
		if noReviewer[u] {
			ps.UsersWithoutManager = append(ps.UsersWithoutManager, person(&s.Users[u], n))
		}
	}
	sort.Slice(ps.UsersWithoutManager, func(i, j int) bool {
		return ps.UsersWithoutManager[i].Email < ps.UsersWithoutManager[j].Email
	})
	return ps
}

func person(u *User, cases int) PersonRef {
	return PersonRef{ID: u.ID, Email: firstNonEmpty(u.Email, u.Login), Name: u.DisplayName(), Cases: cases}
}

func firstNonEmpty(xs ...string) string {
	for _, x := range xs {
		if x != "" {
			return x
		}
	}
	return ""
}

// CaseCSVHeader is the header row of WriteCasesCSV.
var CaseCSVHeader = []string{"user_id", "user_email", "user_name", "user_status", "department", "manager_email",
	"app_id", "app_label", "granted_by", "last_login", "last_app_sign_in", "flags"}

// WriteCasesCSV writes one row per case. granted_by is "direct" and/or
// "group:NAME" entries joined by "; ". Times are RFC 3339, empty when never.
func WriteCasesCSV(w io.Writer, cs *CaseSet) error {
	s := cs.Index.Snap
	cw := csvsafe.NewWriter(w)
	if err := cw.Write(CaseCSVHeader); err != nil {
		return err
	}
	row := make([]string, len(CaseCSVHeader))
	var paths []string
	for i := range cs.Cases {
		c := &cs.Cases[i]
		u, a := &s.Users[c.User], &s.Apps[c.App]
		paths = paths[:0]
		if c.Direct {
			paths = append(paths, "direct")
		}
		for _, g := range cs.Via(c) {
			paths = append(paths, "group:"+s.Groups[g].Name)
		}
		mgr := ""
		if c.Reviewer >= 0 {
			m := &s.Users[c.Reviewer]
			mgr = firstNonEmpty(m.Email, m.Login)
		}
		last := ""
		if t, ok := cs.Index.LastUsed(c.User, c.App); ok {
			last = t.Format(time.RFC3339)
		}
		row = append(row[:0], u.ID, firstNonEmpty(u.Email, u.Login), u.DisplayName(), u.Status, u.Department, mgr,
			a.ID, a.Label, strings.Join(paths, "; "), rfc3339(u.LastLogin), last, strings.Join(c.Flags.Names(), " "))
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
