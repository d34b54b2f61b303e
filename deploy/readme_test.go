package deploy_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/attestbot/attest/config"
	"github.com/attestbot/attest/internal/pgtest"
)

var envLineRE = regexp.MustCompile(`^([A-Z][A-Z0-9_]*)=(.*)$`)

// TestReadmeDockerEnvFiles: the env files the README's Docker section
// tells a user to write hold only variables attest reads, and together
// with the image's ENV they make a valid config.
func TestReadmeDockerEnvFiles(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## Docker\n")
	if !ok {
		t.Fatal("README has no Docker section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	env := readDockerfile(t, "../Dockerfile").envMap(t)
	found := 0
	inBlock := false
	for _, line := range strings.Split(section, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "```") {
			inBlock = !inBlock
			continue
		}
		m := envLineRE.FindStringSubmatch(line)
		if !inBlock || m == nil {
			continue
		}
		found++
		if !config.KnownEnv(m[1]) {
			t.Errorf("README's env file sets %s, which attest does not read", m[1])
		}
		if strings.Contains(m[2], " #") {
			t.Errorf("README's %s line has a trailing comment: Docker's --env-file keeps it in the value", m[1])
		}
		// "xoxb-..." is a placeholder: keep its prefix, make it long enough.
		env[m[1]] = strings.ReplaceAll(m[2], "...", "placeholder-0123456789abcdef")
	}
	if found < 5 {
		t.Fatalf("found %d NAME=value lines in the README's Docker section; the env files are gone", found)
	}
	if _, err := config.Parse(nil, func(k string) string { return env[k] }); err != nil {
		t.Errorf("the README's env files with the image's ENV are not a valid config: %v", err)
	}
}

var attestVarRE = regexp.MustCompile(`\bATTEST_[A-Z0-9_]*[A-Z0-9]\b`)

// TestReadmeNamesKnownVariables: every ATTEST_ variable the README names
// is one attest reads, so a renamed key cannot leave a stale name behind.
func TestReadmeNamesKnownVariables(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range attestVarRE.FindAllString(string(data), -1) {
		// The test suite's own variable is named for developers.
		if !config.KnownEnv(name) && name != pgtest.EnvURL {
			t.Errorf("README names %s, which attest does not read", name)
		}
	}
}
