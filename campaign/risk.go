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
// exact id wins over everything; then an exact label over a pattern; among
// patterns the riskiest wins. RiskRules alone rate by the label an
// entitlement has now; RiskBook adds the bindings made at sync, so that a
// renamed app keeps its rating.
type RiskRules struct {
	Apps, Groups map[string]string
}

// Level returns the risk level of an entitlement, "" when unrated.
func (r RiskRules) Level(kind, id, label string) string {
	if lvl, ok := r.byID(kind, id); ok {
		return lvl
	}
	lvl, _ := r.byLabel(kind, label)
	return lvl
}

// of returns the rules of one kind of entitlement.
func (r RiskRules) of(kind string) map[string]string {
	if kind == KindGroup {
		return r.Groups
	}
	return r.Apps
}

// sortedKeys returns a kind's rule keys in order, so that ties between
// rules are broken the same way on every call.
func (r RiskRules) sortedKeys(kind string) []string {
	rules := r.of(kind)
	keys := make([]string, 0, len(rules))
	for k := range rules {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// byID returns the level of an explicit id rule.
func (r RiskRules) byID(kind, id string) (string, bool) {
	rules := r.of(kind)
	if id == "" || len(rules) == 0 {
		return "", false
	}
	if lvl, ok := rules[id]; ok {
		return strings.ToLower(lvl), true
	}
	// Keys that differ only in case: the first in order decides, as in
	// byLabel.
	found := ""
	for k := range rules {
		if strings.EqualFold(k, id) && (found == "" || k < found) {
			found = k
		}
	}
	if found == "" {
		return "", false
	}
	return strings.ToLower(rules[found]), true
}

// byLabel returns the level a label or pattern rule gives a label and the
// rule's key: an exact label first, else the riskiest matching pattern;
// "", "" when none matches.
func (r RiskRules) byLabel(kind, label string) (level, rule string) {
	rules := r.of(kind)
	if label == "" || len(rules) == 0 {
		return "", ""
	}
	lower := strings.ToLower(label)
	for _, k := range r.sortedKeys(kind) {
		lvl := strings.ToLower(rules[k])
		switch {
		case strings.EqualFold(k, label):
			return lvl, k
		case strings.ContainsAny(k, "*?["):
			if ok, _ := path.Match(strings.ToLower(k), lower); ok && RiskRank(lvl) > RiskRank(level) {
				level, rule = lvl, k
			}
		}
	}
	return level, rule
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
