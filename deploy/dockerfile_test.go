// Package deploy_test checks that the Dockerfile and the Kubernetes
// manifests agree with each other and with attest itself: ports, probes,
// paths, users and every environment variable they set.
package deploy_test

import (
	"encoding/json"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/attestbot/attest/config"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd   string // upper-cased: FROM, ENV, ...
	args  string
	stage int // 0 for the first FROM's stage
}

// dockerfile is the parsed ../Dockerfile.
type dockerfile struct {
	all []instruction
}

// readDockerfile parses the Dockerfile at p: comments and blank lines
// dropped, lines ending in "\" joined to the next.
func readDockerfile(t *testing.T, p string) *dockerfile {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	d := &dockerfile{}
	stage, pending := -1, ""
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			pending += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		full := pending + trimmed
		pending = ""
		cmd, args, _ := strings.Cut(full, " ")
		cmd = strings.ToUpper(cmd)
		if cmd == "FROM" {
			stage++
		}
		d.all = append(d.all, instruction{cmd: cmd, args: strings.TrimSpace(args), stage: stage})
	}
	return d
}

// final returns the arguments of every cmd instruction of the last stage.
func (d *dockerfile) final(cmd string) []string {
	last := d.all[len(d.all)-1].stage
	var out []string
	for _, in := range d.all {
		if in.stage == last && in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

var envPairRE = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)`)

// env returns the final stage's ENV, in order: the environment the image
// runs with. Both "ENV K=V K2=V2" and "ENV K V" are read.
func (d *dockerfile) env(t *testing.T) [][2]string {
	t.Helper()
	var out [][2]string
	for _, args := range d.final("ENV") {
		if !strings.Contains(strings.SplitN(args, " ", 2)[0], "=") {
			k, v, _ := strings.Cut(args, " ")
			out = append(out, [2]string{k, strings.TrimSpace(v)})
			continue
		}
		for _, m := range envPairRE.FindAllStringSubmatch(args, -1) {
			out = append(out, [2]string{m[1], strings.Trim(m[2], `"`)})
		}
	}
	if len(out) == 0 {
		t.Fatal("the Dockerfile's final stage sets no ENV")
	}
	return out
}

// envMap is env as a map, later values winning.
func (d *dockerfile) envMap(t *testing.T) map[string]string {
	m := map[string]string{}
	for _, kv := range d.env(t) {
		m[kv[0]] = kv[1]
	}
	return m
}

// execForm reads a JSON exec form such as ["attest", "serve"].
func execForm(t *testing.T, what, s string) []string {
	t.Helper()
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatalf("%s %s is not in exec form (a JSON list): distroless has no shell", what, s)
	}
	return out
}

// copyDest returns the destination of the final stage's COPY of src from
// the build context.
func (d *dockerfile) copyDest(src string) string {
	for _, args := range d.final("COPY") {
		f := strings.Fields(args)
		if len(f) == 2 && f[0] == src {
			return f[1]
		}
	}
	return ""
}

var pinnedRE = regexp.MustCompile(`^\S+:\S+@sha256:[0-9a-f]{64}$`)

func TestDockerfile(t *testing.T) {
	d := readDockerfile(t, "../Dockerfile")
	env := d.envMap(t)

	t.Run("bases pinned by digest", func(t *testing.T) {
		var froms []string
		for _, in := range d.all {
			if in.cmd == "FROM" {
				ref := strings.Fields(in.args)[0]
				froms = append(froms, strings.SplitN(ref, "@", 2)[0])
				if !pinnedRE.MatchString(ref) {
					t.Errorf("FROM %s is not pinned as image:tag@sha256:<digest>", ref)
				}
			}
		}
		want := []string{"golang:1.26", "gcr.io/distroless/static-debian12:nonroot"}
		if !slices.Equal(froms, want) {
			t.Errorf("bases %v, want %v", froms, want)
		}
	})
	t.Run("static build of cmd/attest", func(t *testing.T) {
		var build string
		for _, in := range d.all {
			if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
				build = in.args
			}
		}
		for _, w := range []string{"CGO_ENABLED=0", "./cmd/attest", "-o /out/attest"} {
			if !strings.Contains(build, w) {
				t.Errorf("go build step lacks %q: %s", w, build)
			}
		}
	})
	t.Run("every ENV is a variable attest reads", func(t *testing.T) {
		for name := range env {
			if !config.KnownEnv(name) {
				t.Errorf("ENV %s is not in config's environment mapping (config.EnvVars)", name)
			}
		}
	})
	cfg, err := config.Parse(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("the image's ENV alone is not a valid config: %v", err)
	}
	t.Run("listens where EXPOSE says, on every interface", func(t *testing.T) {
		host, port := splitListen(t, cfg.HTTP.Listen)
		if !everyInterface(host) {
			t.Errorf("http.listen %s: a container must listen on every interface (0.0.0.0 or empty host)", cfg.HTTP.Listen)
		}
		if expose := d.final("EXPOSE"); !slices.Contains(expose, port) {
			t.Errorf("http.listen port %s, EXPOSE %v", port, expose)
		}
	})
	t.Run("campaign definitions where they are copied", func(t *testing.T) {
		if dest := d.copyDest("campaigns"); dest == "" || cfg.Campaigns.Dir != dest {
			t.Errorf("campaigns.dir %q, but the image copies campaigns to %q", cfg.Campaigns.Dir, dest)
		}
	})
	t.Run("database on the volume", func(t *testing.T) {
		vol := d.final("VOLUME")
		dir := path.Dir(cfg.Store.Path)
		if !slices.ContainsFunc(vol, func(v string) bool { return strings.Contains(v, `"`+dir+`"`) }) {
			t.Errorf("store.path %s is not on a VOLUME %v", cfg.Store.Path, vol)
		}
	})
	t.Run("non-root user", func(t *testing.T) {
		if users := d.final("USER"); !slices.Equal(users, []string{"65532:65532"}) {
			t.Errorf("USER %v, want 65532:65532 (distroless nonroot)", users)
		}
	})
	t.Run("entrypoint and healthcheck", func(t *testing.T) {
		entry := d.final("ENTRYPOINT")
		if len(entry) != 1 {
			t.Fatalf("ENTRYPOINT %v", entry)
		}
		bin := execForm(t, "ENTRYPOINT", entry[0])
		if len(bin) != 1 || d.copyFromBuild("/out/attest") != bin[0] {
			t.Errorf("ENTRYPOINT %v is not the binary copied from the build stage", bin)
		}
		if cmd := d.final("CMD"); len(cmd) != 1 || !slices.Equal(execForm(t, "CMD", cmd[0]), []string{"serve"}) {
			t.Errorf("CMD %v, want [\"serve\"]", cmd)
		}
		hc := d.final("HEALTHCHECK")
		if len(hc) != 1 {
			t.Fatalf("HEALTHCHECK %v: want one", hc)
		}
		opts, cmd, ok := strings.Cut(hc[0], "CMD ")
		if !ok || !slices.Equal(execForm(t, "HEALTHCHECK CMD", cmd), append(bin, "healthcheck")) {
			t.Errorf("HEALTHCHECK %q does not run %v healthcheck", hc[0], bin)
		}
		m := regexp.MustCompile(`--timeout=(\S+)`).FindStringSubmatch(opts)
		if m == nil {
			t.Fatalf("HEALTHCHECK %q sets no --timeout", hc[0])
		}
		// attest healthcheck gives up after 3s by default; Docker must wait longer.
		if d, err := time.ParseDuration(m[1]); err != nil || d <= 3*time.Second {
			t.Errorf("HEALTHCHECK --timeout=%s: use more than attest healthcheck's own 3s", m[1])
		}
	})
}

// copyFromBuild returns where the final stage copies src from an earlier stage.
func (d *dockerfile) copyFromBuild(src string) string {
	for _, args := range d.final("COPY") {
		f := strings.Fields(args)
		if len(f) >= 3 && strings.HasPrefix(f[0], "--from=") && f[len(f)-2] == src {
			return f[len(f)-1]
		}
	}
	return ""
}

// splitListen splits http.listen into host and port.
func splitListen(t *testing.T, listen string) (host, port string) {
	t.Helper()
	i := strings.LastIndex(listen, ":")
	if i < 0 {
		t.Fatalf("http.listen %q has no port", listen)
	}
	return strings.Trim(listen[:i], "[]"), listen[i+1:]
}

// everyInterface reports whether host listens on every interface.
func everyInterface(host string) bool {
	return host == "" || host == "0.0.0.0" || host == "::"
}
