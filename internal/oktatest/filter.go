package oktatest

import (
	"errors"
	"strings"
	"unicode"
)

// A small evaluator for Okta's filter and search expressions:
//
//	expr    = and { "or" and }
//	and     = primary { "and" primary }
//	primary = "(" expr ")" | attr op value | attr "pr"
//	op      = eq | ne | sw | co | gt | ge | lt | le
//	value   = "quoted string" | true | false | null | number
//
// Attributes resolve through a getter that returns every value an item has
// for the attribute (an event has several target ids); a comparison holds
// when any value satisfies it. Timestamps compare as strings, which works
// for Okta's fixed-width format.

// getter returns an item's values for an attribute, and false for an
// attribute the endpoint does not know.
type getter func(attr string) ([]string, bool)

// predicate reports whether an item matches.
type predicate func(get getter) bool

var errBadFilter = errors.New("invalid search criteria")

// parseFilter parses expr, checking every attribute it names against
// known (a getter of any item of the endpoint). An empty expression
// matches everything.
func parseFilter(expr string, known getter) (predicate, error) {
	if strings.TrimSpace(expr) == "" {
		return func(getter) bool { return true }, nil
	}
	toks, err := tokenize(expr)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	pred, err := p.or()
	if err != nil || p.pos != len(p.toks) {
		return nil, errBadFilter
	}
	for _, a := range p.attrs {
		if _, ok := known(a); !ok {
			return nil, errBadFilter
		}
	}
	return pred, nil
}

type token struct {
	text   string
	quoted bool
}

func tokenize(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')':
			out = append(out, token{text: string(c)})
			i++
		case c == '"':
			var b strings.Builder
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errBadFilter
			}
			i++
			out = append(out, token{text: b.String(), quoted: true})
		default:
			j := i
			for j < len(s) && !unicode.IsSpace(rune(s[j])) && s[j] != '(' && s[j] != ')' && s[j] != '"' {
				j++
			}
			out = append(out, token{text: s[i:j]})
			i = j
		}
	}
	return out, nil
}

type parser struct {
	toks  []token
	pos   int
	attrs []string
}

func (p *parser) keyword(k string) bool {
	if p.pos < len(p.toks) && !p.toks[p.pos].quoted && strings.EqualFold(p.toks[p.pos].text, k) {
		p.pos++
		return true
	}
	return false
}

func (p *parser) or() (predicate, error) {
	left, err := p.and()
	for err == nil && p.keyword("or") {
		var right predicate
		if right, err = p.and(); err == nil {
			l, r := left, right
			left = func(g getter) bool { return l(g) || r(g) }
		}
	}
	return left, err
}

func (p *parser) and() (predicate, error) {
	left, err := p.primary()
	for err == nil && p.keyword("and") {
		var right predicate
		if right, err = p.primary(); err == nil {
			l, r := left, right
			left = func(g getter) bool { return l(g) && r(g) }
		}
	}
	return left, err
}

func (p *parser) primary() (predicate, error) {
	if p.keyword("(") {
		inner, err := p.or()
		if err != nil || !p.keyword(")") {
			return nil, errBadFilter
		}
		return inner, nil
	}
	if p.pos+1 >= len(p.toks) || p.toks[p.pos].quoted {
		return nil, errBadFilter
	}
	attr, op := p.toks[p.pos].text, strings.ToLower(p.toks[p.pos+1].text)
	p.pos += 2
	p.attrs = append(p.attrs, attr)
	if op == "pr" {
		return func(g getter) bool {
			vals, _ := g(attr)
			return len(vals) > 0 && vals[0] != ""
		}, nil
	}
	if p.pos >= len(p.toks) {
		return nil, errBadFilter
	}
	val := p.toks[p.pos]
	p.pos++
	if !val.quoted && val.text == "null" {
		val.text = ""
	}
	cmp, ok := comparisons[op]
	if !ok {
		return nil, errBadFilter
	}
	return func(g getter) bool {
		vals, _ := g(attr)
		if len(vals) == 0 {
			vals = []string{""}
		}
		for _, v := range vals {
			if cmp(v, val.text) {
				return true
			}
		}
		return false
	}, nil
}

var comparisons = map[string]func(have, want string) bool{
	"eq": func(h, w string) bool { return h == w },
	"ne": func(h, w string) bool { return h != w },
	"sw": func(h, w string) bool { return strings.HasPrefix(strings.ToLower(h), strings.ToLower(w)) },
	"co": func(h, w string) bool { return strings.Contains(strings.ToLower(h), strings.ToLower(w)) },
	"gt": func(h, w string) bool { return h > w },
	"ge": func(h, w string) bool { return h >= w },
	"lt": func(h, w string) bool { return h != "" && h < w },
	"le": func(h, w string) bool { return h != "" && h <= w },
}

// one wraps a single value for getters.
func one(v string) ([]string, bool) { return []string{v}, true }
