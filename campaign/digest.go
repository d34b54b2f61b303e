package campaign

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Digest returns the SHA-256 of a snapshot's content as lowercase hex. It
// covers every user, group, rule, app, membership, assignment and sign-in,
// each as one canonical line in sorted order, so the same directory content
// always gives the same digest whatever order it was read or stored in.
// Evidence quotes it to prove what a campaign reviewed.
func Digest(s *Snapshot) string {
	h := sha256.New()
	section := func(name string, lines []string) {
		slices.Sort(lines)
		writeLine(h, "#"+name+" "+strconv.Itoa(len(lines)))
		for _, l := range lines {
			writeLine(h, l)
		}
	}
	lines := make([]string, 0, len(s.Users))
	for i := range s.Users {
		u := &s.Users[i]
		lines = append(lines, join(u.ID, u.Login, u.Email, u.FirstName, u.LastName, u.Status, unixStr(u.Created),
			unixStr(u.LastLogin), u.Department, u.Title, u.ManagerRef, u.ManagerID))
	}
	section("users", lines)
	lines = lines[:0]
	for _, g := range s.Groups {
		lines = append(lines, join(g.ID, g.Name, g.Description, g.Type, strings.Join(g.RuleIDs, " ")))
	}
	section("groups", lines)
	lines = lines[:0]
	for _, r := range s.Rules {
		lines = append(lines, join(r.ID, r.Name, r.Status, strings.Join(r.GroupIDs, " ")))
	}
	section("rules", lines)
	lines = lines[:0]
	for _, a := range s.Apps {
		line := join(a.ID, a.Name, a.Label, a.Status, a.SignOnMode, a.LinkURL)
		if a.Owners != "" {
			// Only when read, so snapshots from before keep their digest.
			line = join(a.ID, a.Name, a.Label, a.Status, a.SignOnMode, a.LinkURL, a.Owners)
		}
		lines = append(lines, line)
	}
	section("apps", lines)
	lines = lines[:0]
	for _, m := range s.Memberships {
		lines = append(lines, join(m.GroupID, m.UserID))
	}
	section("memberships", lines)
	lines = lines[:0]
	for _, a := range s.AppAssignments {
		lines = append(lines, join(a.AppID, a.UserID, a.Scope, unixStr(a.Created)))
	}
	section("app_users", lines)
	lines = lines[:0]
	for _, g := range s.GroupAssignments {
		lines = append(lines, join(g.AppID, g.GroupID, strconv.Itoa(g.Priority)))
	}
	section("app_groups", lines)
	lines = lines[:0]
	for _, u := range s.Usage {
		lines = append(lines, join(u.UserID, u.AppID, unixStr(u.LastUsed)))
	}
	section("usage", lines)
	return hex.EncodeToString(h.Sum(nil))
}

// join separates fields with a tab, escaping tabs and newlines inside them
// so that no two different rows share a line.
func join(fields ...string) string {
	for i, f := range fields {
		if strings.ContainsAny(f, "\t\n\\") {
			fields[i] = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`).Replace(f)
		}
	}
	return strings.Join(fields, "\t")
}

func writeLine(h hash.Hash, s string) {
	h.Write([]byte(s))
	h.Write([]byte{'\n'})
}

func unixStr(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.Unix(), 10)
}
