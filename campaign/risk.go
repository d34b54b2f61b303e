package campaign

import (
	"path"
	"sort"
	"strings"
)

// Risk levels, lowest first.
var riskRank = map[string]int{"": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}

// RiskRank orders risk levels: "" 0, low 1 ... critical 4.
func RiskRank(level string) int { return riskRank[strings.ToLower(level)] }

// RiskRules rate entitlements: each key is an Okta id, a label (app) or
// name (group), or a shell pattern over labels and names ("AWS *"). An
// exact id or label wins over a pattern; among patterns the riskiest wins.
type RiskRules struct {
	Apps, Groups map[string]string
}

// Level returns the risk level of an entitlement, "" when unrated.
func (r RiskRules) Level(kind, id, label string) string {
	rules := r.Apps
	if kind == KindGroup {
		rules = r.Groups
	}
	if len(rules) == 0 {
		return ""
	}
	best := ""
	keys := make([]string, 0, len(rules))
	for k := range rules {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		lvl := strings.ToLower(rules[k])
		switch {
		case strings.EqualFold(k, id), strings.EqualFold(k, label):
			return lvl
		case strings.ContainsAny(k, "*?["):
			if ok, _ := path.Match(strings.ToLower(k), strings.ToLower(label)); ok && RiskRank(lvl) > RiskRank(best) {
				best = lvl
			}
		}
	}
	return best
}

// SortByRisk orders cases riskiest first, then by label, in place.
func SortByRisk(cases []CaseRecord) {
	sort.SliceStable(cases, func(i, j int) bool {
		ri, rj := RiskRank(cases[i].Risk), RiskRank(cases[j].Risk)
		if ri != rj {
			return ri > rj
		}
		return strings.ToLower(cases[i].Label) < strings.ToLower(cases[j].Label)
	})
}
