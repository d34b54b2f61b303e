package campaign

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Period is a length of time in a definition, written as days ("7d"), a Go
// duration ("36h", "90m") or both ("1d12h").
type Period time.Duration

// D returns the period as a time.Duration.
func (p Period) D() time.Duration { return time.Duration(p) }

// ParsePeriod reads "7d", "36h", "1d12h" or "0". Negative periods are
// refused.
func ParsePeriod(s string) (Period, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, nil
	}
	var total time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		days, err := strconv.Atoi(s[:i])
		if err != nil || days < 0 {
			return 0, fmt.Errorf("%q is not a period; write days as 7d or a duration as 36h", s)
		}
		total = time.Duration(days) * 24 * time.Hour
		s = s[i+1:]
	}
	if s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("%q is not a period; write days as 7d or a duration as 36h", s)
		}
		total += d
	}
	return Period(total), nil
}

// UnmarshalYAML reads a period from a scalar.
func (p *Period) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParsePeriod(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*p = v
	return nil
}

// MarshalYAML writes whole days as "Nd" and anything else as a duration.
func (p Period) MarshalYAML() (any, error) { return p.String(), nil }

// String renders the period as it would be written in a definition.
func (p Period) String() string {
	d := time.Duration(p)
	day := 24 * time.Hour
	if d != 0 && d%day == 0 {
		return strconv.Itoa(int(d/day)) + "d"
	}
	return d.String()
}
