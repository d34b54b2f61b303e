package config

import (
	"fmt"
	"strconv"
	"strings"
)

// FieldError is one problem with one key of the config.
type FieldError struct {
	// Key is the YAML key path, e.g. "okta.concurrency" or "slack.admins[1]";
	// empty when the problem is with the file as a whole (malformed YAML).
	Key string
	// Line is the line in the config file, or 0 when unknown or when the
	// value came from the environment.
	Line int
	// Env names the environment variable the value came from, if any.
	Env string
	// Msg says what is wrong and how to fix it. It never holds a secret.
	Msg string
}

// Error renders "line 12: okta.concurrency: 100 is out of range; use 1..75",
// or "okta.org_url (from OKTA_DOMAIN): ..." for a value from the environment.
func (e FieldError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		b.WriteString("line " + strconv.Itoa(e.Line) + ": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		if e.Env != "" {
			b.WriteString(" (from " + e.Env + ")")
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ValidationError lists every problem found in one config, so that one run
// of `attest check-config` shows them all. Load, Parse, Validate,
// RequireOkta and RequireSlack return it; use errors.As to get at Fields.
type ValidationError struct {
	// File is the config file's path, or "" when the config came from bytes.
	File string
	// Fields holds the problems in the order found; it is never empty.
	Fields []FieldError
}

// Error renders one problem on one line, or a count followed by one
// indented line per problem.
func (e *ValidationError) Error() string {
	prefix := "config"
	if e.File != "" {
		prefix = e.File
	}
	if len(e.Fields) == 1 {
		return prefix + ": " + e.Fields[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problems:", prefix, len(e.Fields))
	for _, f := range e.Fields {
		b.WriteString("\n  " + f.Error())
	}
	return b.String()
}

// Unwrap returns the problems as errors, for errors.As on a FieldError.
func (e *ValidationError) Unwrap() []error {
	out := make([]error, len(e.Fields))
	for i, f := range e.Fields {
		out[i] = f
	}
	return out
}

// Keys returns the key path of every problem, in order; handy in tests.
func (e *ValidationError) Keys() []string {
	out := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		out[i] = f.Key
	}
	return out
}

// sources remembers where the values of a loaded config came from. It holds
// key paths, line numbers and variable names, never a value.
type sources struct {
	file  string
	lines map[string]int    // key path -> line of the key in the file
	env   map[string]string // key path -> environment variable that set it
}

// envOf returns the variable that set key, or the key's list or map (an
// item of slack.admins, or risk.apps.Payroll, came with the whole value).
func (s *sources) envOf(key string) (string, bool) {
	for key != "" {
		if env, ok := s.env[key]; ok {
			return env, true
		}
		i := strings.LastIndexAny(key, ".[")
		if i < 0 {
			break
		}
		key = key[:i]
	}
	return "", false
}

// problems collects FieldErrors while checking.
type problems struct {
	list []FieldError
}

// add records a problem with key; format and args make the message.
func (p *problems) add(key, format string, args ...any) {
	p.list = append(p.list, FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
}

// addLine records a problem whose line is already known.
func (p *problems) addLine(line int, key, msg string) {
	p.list = append(p.list, FieldError{Key: key, Line: line, Msg: msg})
}

// err returns nil when nothing was recorded, else a *ValidationError whose
// problems carry the line or environment variable of their key, scrubbed of
// every secret value c holds.
func (p *problems) err(c *Config) error {
	if len(p.list) == 0 {
		return nil
	}
	ve := &ValidationError{Fields: make([]FieldError, len(p.list))}
	secrets := c.secretValues()
	src := c.src
	if src != nil {
		ve.File = src.file
	}
	for i, f := range p.list {
		if src != nil && f.Line == 0 && f.Env == "" {
			if env, ok := src.envOf(f.Key); ok {
				f.Env = env
			} else {
				f.Line = src.lines[f.Key]
			}
		}
		f.Key = scrub(f.Key, secrets)
		f.Msg = scrub(f.Msg, secrets)
		ve.Fields[i] = f
	}
	return ve
}

// secretValues lists the values of every secret that is set, so error text
// can be scrubbed of them whatever path it took.
// Every Secret key is found through the environment mapping's walk of the
// struct, so a new secret key is scrubbed with no extra code.
func (c *Config) secretValues() []string {
	var out []string
	for _, k := range envKeys {
		if k.Kind != KindSecret {
			continue
		}
		if s := k.field(c).Interface().(Secret); s.IsSet() {
			out = append(out, s.Reveal())
		}
	}
	return out
}

// scrub replaces every occurrence of a secret value in msg with "<secret>".
func scrub(msg string, secrets []string) string {
	for _, s := range secrets {
		msg = strings.ReplaceAll(msg, s, redactedText)
	}
	return msg
}
