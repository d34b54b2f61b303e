package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/attestbot/attest/config"
)

// defaultHealthTimeout bounds one health probe: well inside the image's
// HEALTHCHECK timeout, so a hung server reads as unhealthy, not as a
// killed probe.
const defaultHealthTimeout = 3 * time.Second

// cmdHealthcheck GETs /healthz (or /readyz with --ready) of the running
// serve, for the image's HEALTHCHECK: distroless has no curl. It exits 0
// on 200, and 1 with one line saying why otherwise.
func cmdHealthcheck(e *env, args []string) error {
	fs, c := newFlags(e, "healthcheck", "", false)
	rawURL := fs.String("url", "", "URL to GET (default: /healthz on http.listen, with 0.0.0.0 or an empty host as 127.0.0.1)")
	ready := fs.Bool("ready", false, "check /readyz (store, snapshot, Slack) instead of /healthz (alive)")
	timeout := fs.Duration("timeout", defaultHealthTimeout, "give up after this long")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *timeout <= 0 {
		return usagef("--timeout %s: use a positive duration such as 3s", *timeout)
	}
	path := "/healthz"
	if *ready {
		path = "/readyz"
	}
	target := *rawURL
	if target == "" {
		cfg, err := e.loadConfig(c)
		if err != nil {
			return err
		}
		if target, err = healthURL(cfg.HTTP.Listen, path); err != nil {
			return err
		}
	}
	status, err := probe(e.ctx, target, *timeout)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "%s: %s\n", target, status)
	return err
}

// healthURL turns http.listen into the URL a process on the same host
// reaches it at: every-interface hosts (empty, 0.0.0.0, ::) become
// loopback. It fails when the listener is off or its port is chosen at
// start, since nothing outside the process knows that port.
func healthURL(listen, path string) (string, error) {
	if listen == config.ListenOff {
		return "", errors.New("http.listen is off: serve runs no HTTP listener to check; set http.listen (ATTEST_HTTP_LISTEN) or pass --url")
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("http.listen %q is not host:port; set it (ATTEST_HTTP_LISTEN) or pass --url", listen)
	}
	if port == "0" {
		return "", fmt.Errorf("http.listen %q picks a free port at start; pass --url with the port serve logged", listen)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::", "[::]":
		host = "::1"
	}
	return (&url.URL{Scheme: "http", Host: net.JoinHostPort(host, port), Path: path}).String(), nil
}

// probe GETs target once within timeout and returns the status line and
// the start of the body on 200, or an error of one line saying why not.
func probe(ctx context.Context, target string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return "", fmt.Errorf("--url %q: %w", target, err)
	}
	client := &http.Client{
		// A health endpoint answers itself; a redirect means the wrong URL.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("%s: no answer within %s", target, timeout)
		}
		return "", fmt.Errorf("%s: %v", target, unwrapURLError(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	text := strings.Join(strings.Fields(string(body)), " ")
	if resp.StatusCode != http.StatusOK {
		if text == "" {
			text = http.StatusText(resp.StatusCode)
		}
		return "", fmt.Errorf("%s: %d %s", target, resp.StatusCode, text)
	}
	return fmt.Sprintf("%d %s", resp.StatusCode, text), nil
}

// unwrapURLError drops url.Error's "Get URL:" prefix, since the message
// already starts with the URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
