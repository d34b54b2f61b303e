package config

import (
	"reflect"
	"sort"
	"strings"
)

// EnvPrefix starts the generic environment variable of every key: the key
// path upper-cased with "." turned into "_", after this prefix
// (okta.sync_schedule is ATTEST_OKTA_SYNC_SCHEDULE).
const EnvPrefix = "ATTEST_"

// The kinds of value an environment variable holds, named after the Go
// types of the config they are read into.
const (
	KindString   = "string"       // the value as given (trimmed)
	KindSecret   = "secret"       // as string; never printed
	KindInt      = "int"          // a whole number: 10, 0x1f, 1_000
	KindNumber   = "number"       // a decimal number: 0.5
	KindBool     = "bool"         // true/false, yes/no, on/off, 1/0
	KindDuration = "duration"     // a Go duration (90s, 36h) or days (90d)
	KindList     = "list"         // comma-separated (a, b) or a JSON list
	KindMap      = "map"          // label=level,label=level or a JSON object
	KindListMap  = "map of lists" // app=a@x.com b@x.com, app=… or a JSON object of lists
)

// EnvVar is one environment variable that sets one config key.
type EnvVar struct {
	// Name is the variable, e.g. ATTEST_OKTA_CONCURRENCY or OKTA_API_TOKEN.
	Name string
	// Key is the config key path it sets, e.g. okta.concurrency.
	Key string
	// Kind says how the value is read: one of the Kind constants.
	Kind string
	// Alias marks one of the short names kept beside the generic one
	// (OKTA_API_TOKEN beside ATTEST_OKTA_API_TOKEN).
	Alias bool
}

// envKey is one leaf key of Config with its generic variable and where the
// field sits, so that a new key becomes settable with no extra code.
type envKey struct {
	EnvVar
	index []int // reflect field index path from Config
}

// envAlias is a short variable name kept beside a key's generic name. conv,
// when set, turns the value into the key's form (OKTA_DOMAIN's bare host).
type envAlias struct {
	key  string
	name string
	conv func(string) string
}

// envAliases are the variables that predate the generic names. They keep
// working; for one key the first one set wins (OKTA_ORG_URL over
// OKTA_DOMAIN), and a generic variable set beside them must agree.
var envAliases = []envAlias{
	{"store.path", EnvDB, nil},
	{"store.url", EnvDatabaseURL, nil},
	{"store.audit_key", EnvAuditKey, nil},
	{"slack.app_token", EnvSlackAppToken, nil},
	{"slack.bot_token", EnvSlackBotToken, nil},
	{"slack.signing_secret", EnvSlackSigningSecret, nil},
	{"slack.api_url", EnvSlackAPIURL, nil},
	{"okta.org_url", EnvOktaOrgURL, nil},
	{"okta.org_url", EnvOktaDomain, domainURL},
	{"okta.api_token", EnvOktaAPIToken, nil},
	{"okta.write_api_token", EnvOktaWriteToken, nil},
	{"okta.private_key", EnvOktaPrivateKey, nil},
	{"okta.write_private_key", EnvOktaWritePrivateKey, nil},
	{"okta.event_hook.secret", EnvOktaEventHook, nil},
	{"servicenow.url", EnvServiceNowURL, nil},
	{"servicenow.url", EnvServiceNowInstance, instanceURL},
	{"servicenow.username", EnvServiceNowUsername, nil},
	{"servicenow.password", EnvServiceNowPassword, nil},
	{"servicenow.client_id", EnvServiceNowClientID, nil},
	{"servicenow.client_secret", EnvServiceNowClientSecret, nil},
}

// envKeys lists every leaf key of Config in struct order; envUnsupported
// names the leaf keys whose Go type the mapping cannot read (a test keeps
// it empty).
var envKeys, envUnsupported = buildEnvKeys()

// EnvName returns the generic environment variable of a key path:
// EnvName("http.listen") is "ATTEST_HTTP_LISTEN".
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// EnvVars lists every environment variable that sets a key: the generic
// name of each key, and the aliases kept beside them, sorted by name. It
// leaves out ATTEST_CONFIG, which names the file rather than a key.
func EnvVars() []EnvVar {
	kinds := map[string]string{}
	out := make([]EnvVar, 0, len(envKeys)+len(envAliases))
	for _, k := range envKeys {
		out = append(out, k.EnvVar)
		kinds[k.Key] = k.Kind
	}
	for _, a := range envAliases {
		out = append(out, EnvVar{Name: a.name, Key: a.key, Kind: kinds[a.key], Alias: true})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// runtimeEnv are the variables the Go runtime of the attest binary reads
// that a deployment may set: the heap's soft limit, the collector's pace
// and the number of threads running Go code.
var runtimeEnv = map[string]bool{"GOMEMLIMIT": true, "GOGC": true, "GOMAXPROCS": true}

// KnownEnv reports whether attest reads the environment variable name:
// ATTEST_CONFIG, one of EnvVars, or one its Go runtime reads (GOMEMLIMIT,
// GOGC, GOMAXPROCS).
func KnownEnv(name string) bool {
	if name == EnvConfig || runtimeEnv[name] {
		return true
	}
	for _, v := range EnvVars() {
		if v.Name == name {
			return true
		}
	}
	return false
}

// buildEnvKeys walks Config's yaml tags down to the leaves.
func buildEnvKeys() (keys []envKey, unsupported []string) {
	var walk func(t reflect.Type, prefix string, index []int)
	walk = func(t reflect.Type, prefix string, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !f.IsExported() || name == "" || name == "-" {
				continue
			}
			key := name
			if prefix != "" {
				key = prefix + "." + name
			}
			idx := append(append([]int(nil), index...), i)
			if f.Type.Kind() == reflect.Struct && envKind(f.Type) == "" {
				walk(f.Type, key, idx)
				continue
			}
			kind := envKind(f.Type)
			if kind == "" {
				unsupported = append(unsupported, key+" ("+f.Type.String()+")")
				continue
			}
			keys = append(keys, envKey{EnvVar: EnvVar{Name: EnvName(key), Key: key, Kind: kind}, index: idx})
		}
	}
	walk(reflect.TypeFor[Config](), "", nil)
	return keys, unsupported
}

// envKind says how a field of type t is read from a variable, or "" when
// it cannot be.
func envKind(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[Secret]():
		return KindSecret
	case reflect.TypeFor[Duration]():
		return KindDuration
	}
	switch t.Kind() {
	case reflect.String:
		return KindString
	case reflect.Int, reflect.Int64, reflect.Int32:
		return KindInt
	case reflect.Float64:
		return KindNumber
	case reflect.Bool:
		return KindBool
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			return KindList
		}
	case reflect.Map:
		if t.Key().Kind() == reflect.String && t.Elem().Kind() == reflect.String {
			return KindMap
		}
		if t.Key().Kind() == reflect.String && t.Elem().Kind() == reflect.Slice && t.Elem().Elem().Kind() == reflect.String {
			return KindListMap
		}
	}
	return ""
}

// field returns the settable field of c that k names.
func (k envKey) field(c *Config) reflect.Value {
	return reflect.ValueOf(c).Elem().FieldByIndex(k.index)
}
