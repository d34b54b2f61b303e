package config

import (
	"strings"
	"testing"
)

func TestStoreURL(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := Parse(nil, env(map[string]string{EnvDatabaseURL: "postgres://attest:s3cret@db:5432/attest"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Store.Target(); got != "postgres://attest:s3cret@db:5432/attest" {
		t.Fatalf("target = %q", got)
	}
	if s := c.Store.URL.String(); strings.Contains(s, "s3cret") {
		t.Fatalf("the URL prints its password: %s", s)
	}
	c, err = Parse([]byte("store: {path: /data/a.db}\n"), env(nil))
	if err != nil || c.Store.Target() != "/data/a.db" {
		t.Fatalf("without a URL the target is the path: %q, %v", c.Store.Target(), err)
	}
	_, err = Parse(nil, env(map[string]string{EnvDatabaseURL: "mysql://root:hunter2@db/attest"}))
	if err == nil || !strings.Contains(err.Error(), "store.url") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("err = %v, want one naming store.url without the value", err)
	}
}
