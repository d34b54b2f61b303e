package config

import (
	"strings"
	"testing"
)

func TestAuditKeyFromEnvironment(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, env, want, err string
	}{
		{"unset", "", "", "", ""},
		{"from the environment", "", "0123456789abcdef-env", "0123456789abcdef-env", ""},
		{"environment over file", "store: {audit_key: 0123456789abcdef-file}\n", "0123456789abcdef-env", "0123456789abcdef-env", ""},
		{"from the file", "store: {audit_key: 0123456789abcdef-file}\n", "", "0123456789abcdef-file", ""},
		{"too short", "", "k3y!", "", "store.audit_key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml), func(k string) string {
				if k == EnvAuditKey {
					return tc.env
				}
				return ""
			})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), tc.env) {
					t.Fatalf("err = %v, want one naming %s without the value", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Store.AuditKey.Reveal(); got != tc.want {
				t.Fatalf("audit key = %q, want %q", got, tc.want)
			}
		})
	}
}
