package deploy_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/attestbot/attest/internal/syncbuf"
)

// Paths of the image that the test maps into temporary directories.
const (
	imageData      = "/data"
	imageCampaigns = "/etc/attest/campaigns"
)

// TestImageRunsAsDocumented builds ./cmd/attest as the Dockerfile does and
// runs `serve` with exactly the image's environment (paths mapped into a
// temporary directory, http.listen on a free loopback port): /healthz
// answers, `attest healthcheck` exits 0, `attest healthcheck --ready` says
// why it is not ready, and SIGTERM ends serve cleanly.
func TestImageRunsAsDocumented(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the test that builds attest and runs it as the image does")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to build attest with")
	}
	d := readDockerfile(t, "../Dockerfile")
	root := t.TempDir()
	bin := filepath.Join(root, "attest")
	build := exec.Command(goBin, "build", "-trimpath", "-o", bin, "./cmd/attest")
	build.Dir = ".."
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/attest: %v\n%s", err, out)
	}

	dataDir := filepath.Join(root, "data")
	campaignsDir := filepath.Join(root, "campaigns")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if dest := d.copyDest("campaigns"); dest != imageCampaigns {
		t.Fatalf("the image copies campaigns to %q; this test maps %s", dest, imageCampaigns)
	}
	if err := os.CopyFS(campaignsDir, os.DirFS("../campaigns")); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	env := imageEnv(t, d, map[string]string{imageCampaigns: campaignsDir, imageData: dataDir})
	env = append(env, "ATTEST_HTTP_LISTEN="+addr)

	serve := exec.Command(bin, "serve")
	serve.Dir = dataDir // WORKDIR /data
	serve.Env = env
	var logs syncbuf.Buffer
	serve.Stdout, serve.Stderr = &logs, &logs
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- serve.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			serve.Process.Kill()
			<-exited
		}
	})

	waitHealthy(t, "http://"+addr+"/healthz", exited, &logs)

	t.Run("healthcheck", func(t *testing.T) {
		out, code := runAttest(t, bin, dataDir, env, "healthcheck")
		if code != 0 || !strings.Contains(out, "200") {
			t.Errorf("attest healthcheck: exit %d: %s", code, out)
		}
	})
	t.Run("healthcheck --ready before any sync", func(t *testing.T) {
		out, code := runAttest(t, bin, dataDir, env, "healthcheck", "--ready")
		if code != 1 || !strings.Contains(out, "503") || strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Errorf("attest healthcheck --ready: exit %d, want 1 with one line naming the 503: %q", code, out)
		}
	})
	t.Run("database where ATTEST_DB says", func(t *testing.T) {
		if _, err := os.Stat(filepath.Join(dataDir, "attest.db")); err != nil {
			t.Errorf("no database under the data volume: %v", err)
		}
	})

	if err := serve.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Errorf("serve after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not exit within 30s of SIGTERM\n%s", logs.String())
	}
}

// imageEnv returns the Dockerfile's ENV as KEY=VALUE, with the image's
// paths mapped to local directories; nothing from the test's own
// environment leaks in.
func imageEnv(t *testing.T, d *dockerfile, paths map[string]string) []string {
	t.Helper()
	var out []string
	for _, kv := range d.env(t) {
		v := kv[1]
		for from, to := range paths {
			if v == from || strings.HasPrefix(v, from+"/") {
				v = to + strings.TrimPrefix(v, from)
			}
		}
		out = append(out, kv[0]+"="+v)
	}
	return out
}

// waitHealthy polls url until it answers 200, failing if serve exits or
// the deadline passes first.
func waitHealthy(t *testing.T, url string, exited <-chan error, logs *syncbuf.Buffer) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("serve exited (%v) before %s answered\n%s", err, url, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer 200 within 30s (last: %v)\n%s", url, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runAttest runs one attest command as the image's HEALTHCHECK would and
// returns its combined output and exit code.
func runAttest(t *testing.T, bin, dir string, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	}
	t.Fatalf("attest %v: %v", args, err)
	return "", -1
}

// freePort returns a loopback host:port that nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
