package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// redactedText is what a set Secret prints as, everywhere.
const redactedText = "<secret>"

// Secret is a string that never shows its value: fmt (every verb, %#v
// included), JSON, YAML and text encoding all print "<secret>" when it is set
// and "" when it is not. Only Reveal returns the value.
//
// Secrets must only ever be held in exported fields: fmt prints unexported
// fields without calling their methods.
type Secret string

// Reveal returns the secret's value, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret has a value.
func (s Secret) IsSet() bool { return s != "" }

// String returns "<secret>", or "" when the secret is unset.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redactedText
}

// GoString returns a Go expression for the redacted value, for %#v.
func (s Secret) GoString() string {
	return "config.Secret(" + strconv.Quote(s.String()) + ")"
}

// Format prints the redacted value whatever the verb, so that %d, %x or a
// width flag on a struct holding a Secret cannot reach the raw string.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, s.GoString())
	case verb == 'q':
		fmt.Fprint(f, strconv.Quote(s.String()))
	default:
		fmt.Fprint(f, s.String())
	}
}

// MarshalJSON encodes the redacted value as a JSON string. It never fails.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText returns the redacted value. It never fails.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalYAML returns the redacted value. It never fails.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

const day = 24 * time.Hour

// Duration is a time.Duration that reads and writes readably in YAML, JSON
// and text: Go durations ("90s", "36h", "1h30m") and whole days ("90d",
// "1d12h").
type Duration time.Duration

// Duration returns d as a time.Duration.
func (d Duration) Duration() time.Duration { return time.Duration(d) }

// ParseDuration reads a Go duration or a number of days followed by "d",
// optionally followed by a Go duration ("1d12h"). It returns an error that
// quotes s and shows the accepted forms.
func ParseDuration(s string) (Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, errors.New(`empty duration; use a Go duration like "90s" or "36h", or days like "90d"`)
	}
	neg := strings.HasPrefix(in, "-")
	body := strings.TrimPrefix(strings.TrimPrefix(in, "-"), "+")
	var total time.Duration
	if i := strings.IndexByte(body, 'd'); i >= 0 {
		n, err := strconv.ParseInt(body[:i], 10, 64)
		if err != nil || n < 0 {
			return 0, badDuration(s)
		}
		if n > math.MaxInt64/int64(day) {
			return 0, fmt.Errorf("duration %q is too long", s)
		}
		total = time.Duration(n) * day
		body = body[i+1:]
		if body == "" {
			return signed(total, neg), nil
		}
		if strings.HasPrefix(body, "-") || strings.HasPrefix(body, "+") {
			return 0, badDuration(s)
		}
	}
	rest, err := time.ParseDuration(body)
	if err != nil {
		if _, numErr := strconv.ParseFloat(body, 64); numErr == nil {
			return 0, fmt.Errorf("duration %q has no unit; add one, e.g. %ss or %sd", s, body, body)
		}
		return 0, badDuration(s)
	}
	if rest > 0 && total > math.MaxInt64-rest {
		return 0, fmt.Errorf("duration %q is too long", s)
	}
	return signed(total+rest, neg), nil
}

func signed(d time.Duration, neg bool) Duration {
	if neg {
		return Duration(-d)
	}
	return Duration(d)
}

func badDuration(s string) error {
	return fmt.Errorf(`%q is not a duration; use a Go duration like "90s" or "36h", or days like "90d"`, s)
}

// String returns the shortest readable form that ParseDuration reads back:
// "90d" for whole days, otherwise the Go form without zero units ("36h",
// "1h30m", "1.5s").
func (d Duration) String() string {
	td := time.Duration(d)
	switch {
	case td == 0:
		return "0s"
	case td%day == 0:
		return strconv.FormatInt(int64(td/day), 10) + "d"
	}
	s := td.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// MarshalText returns String's form. It never fails.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads what ParseDuration reads; it returns ParseDuration's error.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalYAML returns String's form. It never fails.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML reads a scalar as ParseDuration does. Its errors are
// yaml.TypeErrors carrying the line, so the decoder reports them together
// with the file's other problems.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf(
			`line %d: expected a duration like "90s", "36h" or "90d", found a list or mapping`, n.Line)}}
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*d = v
	return nil
}

// RiskLevel rates an app: low, medium, high or critical.
type RiskLevel string

// The risk levels, lowest first.
const (
	RiskLow      RiskLevel = "low"
	RiskMedium   RiskLevel = "medium"
	RiskHigh     RiskLevel = "high"
	RiskCritical RiskLevel = "critical"
)

// Valid reports whether r is one of the four levels.
func (r RiskLevel) Valid() bool {
	switch r {
	case RiskLow, RiskMedium, RiskHigh, RiskCritical:
		return true
	}
	return false
}
