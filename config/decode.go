package config

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// decode reads data into c: once as a node tree, for syntax errors and the
// line of every key, then strictly into the structs, rejecting unknown keys.
// Every problem comes back at once as a *ValidationError.
func (c *Config) decode(data []byte) error {
	var p problems
	nodes := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := nodes.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file, or only comments
		}
		p.addLine(syntaxLine(err, data), "", syntaxMessage(err))
		return p.err(c)
	}
	var next yaml.Node
	switch err := nodes.Decode(&next); {
	case err == nil:
		p.addLine(next.Line, "", "a second YAML document starts here; keep the whole config in one document")
		return p.err(c)
	case !errors.Is(err, io.EOF):
		p.addLine(syntaxLine(err, data), "", syntaxMessage(err))
		return p.err(c)
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil // "---" alone
	}
	if root.Kind != yaml.MappingNode {
		p.addLine(root.Line, "", "the config must be a mapping of keys ("+
			strings.Join(yamlKeys(reflect.TypeFor[Config]()), ", ")+")")
		return p.err(c)
	}
	idx := newIndex(root)
	c.src.lines = idx.lines

	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	err := strict.Decode(c)
	var te *yaml.TypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te):
		for _, msg := range te.Errors {
			line, key, text := idx.explain(msg)
			p.addLine(line, key, text)
		}
	default:
		p.addLine(0, "", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return p.err(c)
}

var syntaxLineRE = regexp.MustCompile(`^yaml: line (\d+): `)

// syntaxLine finds the line of a YAML syntax error. yaml.v3 leaves it out
// for a plain value that starts with "@" or "`", so it is searched for.
func syntaxLine(err error, data []byte) int {
	if m := syntaxLineRE.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	for i, line := range strings.Split(string(data), "\n") {
		if reservedStartRE.MatchString(line) || strings.HasPrefix(line, "\t") {
			return i + 1
		}
	}
	return 0
}

var reservedStartRE = regexp.MustCompile("(^|[\\[{,:]\\s*|-\\s+)[@`]")

// syntaxMessage words a YAML syntax error, with a hint for the two mistakes
// people make most: an unquoted @handle and tab indentation.
func syntaxMessage(err error) string {
	msg := syntaxLineRE.ReplaceAllString(err.Error(), "")
	msg = "malformed YAML: " + strings.TrimPrefix(msg, "yaml: ")
	if strings.Contains(msg, "cannot start any token") {
		msg += `; quote values that start with @ (e.g. "@iam-team") and indent with spaces, not tabs`
	}
	return msg
}

// index maps key paths to lines and lines to the keys on them, to put a key
// path on yaml.v3's errors, which only give a line.
type index struct {
	lines  map[string]int
	onLine map[int][]entry
}

type entry struct {
	path  string
	name  string // the key itself, or "" for a list item
	value string // the scalar value, if any
}

func newIndex(root *yaml.Node) *index {
	idx := &index{lines: map[string]int{}, onLine: map[int][]entry{}}
	idx.walk("", root)
	return idx
}

func (idx *index) walk(path string, n *yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			child := keyPath(path, k.Value)
			idx.add(k.Line, child, k.Value, v)
			idx.walk(child, v)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			child := path + "[" + strconv.Itoa(i) + "]"
			idx.add(item.Line, child, "", item)
			idx.walk(child, item)
		}
	}
}

func (idx *index) add(line int, path, name string, v *yaml.Node) {
	if _, seen := idx.lines[path]; !seen {
		idx.lines[path] = line
	}
	e := entry{path: path, name: name}
	if v.Kind == yaml.ScalarNode {
		e.value = v.Value
	}
	idx.onLine[line] = append(idx.onLine[line], e)
	if v.Line != line && v.Kind == yaml.ScalarNode {
		idx.onLine[v.Line] = append(idx.onLine[v.Line], e)
	}
}

var simpleKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// keyPath names a child key: "okta.concurrency", or `risk.apps["AWS Production"]`
// when the key is not a plain word.
func keyPath(parent, key string) string {
	if !simpleKeyRE.MatchString(key) {
		return parent + "[" + strconv.Quote(key) + "]"
	}
	if parent == "" {
		return key
	}
	return parent + "." + key
}

var (
	lineRE      = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownRE   = regexp.MustCompile(`^field (.+) not found in type (\S+)$`)
	duplicateRE = regexp.MustCompile(`^mapping key "(.*)" already defined at line (\d+)$`)
	typeRE      = regexp.MustCompile("^cannot unmarshal (!!\\w+)(?: `([^`]*)`)? into (\\S+)$")
	quotedRE    = regexp.MustCompile(`"([^"]*)"`)
)

// explain turns one of yaml.v3's decoding errors into a line, a key path
// and a message that says how to fix it.
func (idx *index) explain(raw string) (int, string, string) {
	m := lineRE.FindStringSubmatch(raw)
	if m == nil {
		return 0, "", raw
	}
	line, _ := strconv.Atoi(m[1])
	msg := m[2]
	if u := unknownRE.FindStringSubmatch(msg); u != nil {
		return line, idx.keyOn(line, u[1], ""), unknownKeyMessage(u[1], u[2])
	}
	if d := duplicateRE.FindStringSubmatch(msg); d != nil {
		return line, idx.keyOn(line, d[1], ""), "is set twice (first at line " + d[2] + "); keep one"
	}
	if t := typeRE.FindStringSubmatch(msg); t != nil {
		key := idx.keyOn(line, "", strings.TrimSuffix(t[2], "..."))
		return line, key, "found " + found(t[1], t[2]) + "; " + want(t[3])
	}
	hint := ""
	if q := quotedRE.FindStringSubmatch(msg); q != nil {
		hint = q[1]
	}
	return line, idx.keyOn(line, "", hint), msg
}

// keyOn picks the key path on line, preferring the key called name or the
// value starting with value, since a flow mapping puts several on one line.
func (idx *index) keyOn(line int, name, value string) string {
	es := idx.onLine[line]
	for _, e := range es {
		if name != "" && e.name == name {
			return e.path
		}
		if value != "" && strings.HasPrefix(e.value, value) {
			return e.path
		}
	}
	if len(es) > 0 {
		return es[len(es)-1].path
	}
	return ""
}

// found describes what the file held, from yaml.v3's tag and value.
func found(tag, value string) string {
	switch tag {
	case "!!seq":
		return "a list"
	case "!!map":
		return "a mapping"
	}
	if value != "" {
		return strconv.Quote(value)
	}
	return "a " + strings.TrimPrefix(tag, "!!")
}

// want says what a Go type of the config expects.
func want(goType string) string {
	switch goType {
	case "int":
		return "use a whole number"
	case "float64":
		return "use a number"
	case "string", "config.Secret", "config.RiskLevel":
		return "use a single value (quote it if it contains : or #)"
	case "[]string":
		return "use a list, e.g. [U012ABC, S0IAMTEAM]"
	case "map[string]config.RiskLevel":
		return `use a mapping of app label to level, e.g. {"Payroll": critical}`
	}
	if t, ok := configTypes()[goType]; ok {
		return "use a mapping with the keys " + strings.Join(yamlKeys(t), ", ")
	}
	return "expected " + goType
}

// unknownKeyMessage names the valid keys, and the nearest one when the key
// looks like a typo of it.
func unknownKeyMessage(key, goType string) string {
	t, ok := configTypes()[goType]
	if !ok {
		return "unknown key " + strconv.Quote(key)
	}
	valid := yamlKeys(t)
	msg := "unknown key " + strconv.Quote(key)
	if near := nearest(key, valid); near != "" {
		msg += "; did you mean " + strconv.Quote(near) + "?"
	}
	return msg + " (valid keys here: " + strings.Join(valid, ", ") + ")"
}

// configTypes maps the type names yaml.v3 prints ("config.OktaConfig") to
// the struct types reachable from Config.
func configTypes() map[string]reflect.Type {
	out := map[string]reflect.Type{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		if t.Kind() != reflect.Struct || out[t.String()] != nil {
			return
		}
		out[t.String()] = t
		for i := range t.NumField() {
			walk(t.Field(i).Type)
		}
	}
	walk(reflect.TypeFor[Config]())
	return out
}

// yamlKeys lists the yaml keys of struct type t, sorted.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	sort.Strings(keys)
	return keys
}

// nearest returns the candidate within a small edit distance of key, or "".
func nearest(key string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(key), c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
