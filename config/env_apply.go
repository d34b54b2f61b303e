package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// applyEnv lets each set environment variable override its key; an empty
// or blank variable counts as unset. Values are trimmed because secrets
// mounted from files often end in a newline. A value that cannot be read
// leaves the key as it was and is recorded in p, naming the variable.
func (c *Config) applyEnv(getenv func(string) string, p *problems) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	for _, k := range envKeys {
		name, raw := k.Name, get(k.Name)
		if aliasName, aliasRaw := c.aliasValue(k.Key, get); aliasName != "" {
			if raw != "" && raw != aliasRaw {
				p.list = append(p.list, FieldError{Key: k.Key, Env: k.Name, Msg: fmt.Sprintf(
					"%s is also set, to another value; set only one of them (an empty variable counts as unset)", aliasName)})
				continue
			}
			name, raw = aliasName, aliasRaw
		}
		if raw == "" {
			continue
		}
		v, err := parseEnvValue(k.Kind, k.field(c).Type(), raw)
		if err != nil {
			p.list = append(p.list, FieldError{Key: k.Key, Env: name, Msg: err.Error()})
			continue
		}
		k.field(c).Set(v)
		c.src.env[k.Key] = name
	}
}

// aliasValue returns the first alias of key that is set and its value in
// the key's form, or "" when none is.
func (c *Config) aliasValue(key string, get func(string) string) (name, value string) {
	for _, a := range envAliases {
		if a.key != key {
			continue
		}
		if v := get(a.name); v != "" {
			if a.conv != nil {
				v = a.conv(v)
			}
			return a.name, v
		}
	}
	return "", ""
}

// parseEnvValue reads raw as a value of type t, as YAML would read the
// same text. Its errors quote the value (never a secret's: strings cannot
// fail) and show the accepted forms.
func parseEnvValue(kind string, t reflect.Type, raw string) (reflect.Value, error) {
	out := reflect.New(t).Elem()
	switch kind {
	case KindString, KindSecret:
		out.SetString(raw)
	case KindInt:
		n, err := strconv.ParseInt(raw, 0, t.Bits())
		if err != nil {
			return out, fmt.Errorf("%q is not a whole number; use digits, e.g. 10", raw)
		}
		out.SetInt(n)
	case KindNumber:
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return out, fmt.Errorf("%q is not a number; use a decimal number, e.g. 0.5", raw)
		}
		out.SetFloat(f)
	case KindBool:
		b, err := parseBool(raw)
		if err != nil {
			return out, err
		}
		out.SetBool(b)
	case KindDuration:
		d, err := ParseDuration(raw)
		if err != nil {
			return out, err
		}
		out.SetInt(int64(d))
	case KindList:
		items, err := parseList(raw)
		if err != nil {
			return out, err
		}
		out = reflect.MakeSlice(t, 0, len(items))
		for _, s := range items {
			out = reflect.Append(out, reflect.ValueOf(s).Convert(t.Elem()))
		}
	case KindMap:
		m, err := parseMap(raw)
		if err != nil {
			return out, err
		}
		out = reflect.MakeMapWithSize(t, len(m))
		for k, v := range m {
			out.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), reflect.ValueOf(v).Convert(t.Elem()))
		}
	case KindListMap:
		m, err := parseListMap(raw)
		if err != nil {
			return out, err
		}
		out = reflect.MakeMapWithSize(t, len(m))
		for k, v := range m {
			out.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), reflect.ValueOf(v).Convert(t.Elem()))
		}
	default:
		return out, fmt.Errorf("cannot be set from the environment (kind %q)", kind)
	}
	return out, nil
}

// parseBool reads the booleans YAML reads: true/false, yes/no, on/off and
// 1/0, in any case.
func parseBool(raw string) (bool, error) {
	switch strings.ToLower(raw) {
	case "true", "yes", "on", "1", "y", "t":
		return true, nil
	case "false", "no", "off", "0", "n", "f":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean; use true or false", raw)
}

// parseList reads "a, b, c" (items trimmed, empty ones dropped) or, for
// items that hold a comma, a JSON list ["a,b", "c"]. "[]" is the empty list.
func parseList(raw string) ([]string, error) {
	if strings.HasPrefix(raw, "[") {
		var items []string
		if err := json.Unmarshal([]byte(raw), &items); err != nil {
			return nil, fmt.Errorf(`starts with "[" but is not a JSON list of strings (%s); `+
				`write a, b or ["a", "b"]`, jsonReason(err))
		}
		return items, nil
	}
	items := []string{}
	for _, s := range strings.Split(raw, ",") {
		if s = strings.TrimSpace(s); s != "" {
			items = append(items, s)
		}
	}
	return items, nil
}

// parseMap reads "label=level, label=level" (split at the last "=", so a
// label may hold one) or, for labels that hold a comma, a JSON object.
// "{}" is the empty map.
func parseMap(raw string) (map[string]string, error) {
	const forms = `write label=level pairs separated by commas, e.g. "Payroll=critical,AWS Production=high", ` +
		`or a JSON object such as {"Payroll": "critical"}`
	if strings.HasPrefix(raw, "{") {
		var m map[string]string
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			return nil, fmt.Errorf(`starts with "{" but is not a JSON object of strings (%s); %s`, jsonReason(err), forms)
		}
		return m, nil
	}
	m := map[string]string{}
	for _, item := range strings.Split(raw, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		i := strings.LastIndex(item, "=")
		if i < 0 {
			return nil, fmt.Errorf("item %q has no \"=\"; %s", strings.TrimSpace(item), forms)
		}
		label, value := strings.TrimSpace(item[:i]), strings.TrimSpace(item[i+1:])
		if _, dup := m[label]; dup {
			return nil, fmt.Errorf("%q is given twice; keep one", label)
		}
		m[label] = value
	}
	return m, nil
}

// jsonReason keeps encoding/json's reason short and free of the value.
func jsonReason(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "invalid JSON at byte " + strconv.FormatInt(se.Offset, 10)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "found a JSON " + te.Value + " where a string belongs"
	}
	return "invalid JSON"
}

// parseListMap reads "key=a b, key=c" (split at the last "=", items
// separated by spaces) or, for keys that hold a comma, a JSON object of
// lists. "{}" is the empty map.
func parseListMap(raw string) (map[string][]string, error) {
	const forms = `write app=owner pairs separated by commas, owners by spaces, e.g. "Salesforce=alice@x.com bob@x.com,Jira=carol@x.com", ` +
		`or a JSON object such as {"Salesforce": ["alice@x.com"]}`
	if strings.HasPrefix(raw, "{") {
		var m map[string][]string
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			return nil, fmt.Errorf(`starts with "{" but is not a JSON object of string lists (%s); %s`, jsonReason(err), forms)
		}
		return m, nil
	}
	m := map[string][]string{}
	for _, pair := range strings.Split(raw, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		i := strings.LastIndex(pair, "=")
		if i < 0 || strings.TrimSpace(pair[:i]) == "" {
			return nil, fmt.Errorf("%q is not key=values; %s", strings.TrimSpace(pair), forms)
		}
		m[strings.TrimSpace(pair[:i])] = strings.Fields(pair[i+1:])
	}
	return m, nil
}
