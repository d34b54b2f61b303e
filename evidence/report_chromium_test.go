package evidence_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/attestbot/attest/evidence"
)

// The report is rendered in headless Chromium (Debian's chromium package),
// driven over the DevTools protocol by chromedp. Without Chromium the
// tests skip, except under CI=true, where .ci/run installs it and a
// missing browser must fail.

// chromiumPath returns the browser to drive, or skips (fails under CI).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but no Chromium is installed: .ci/run installs Debian's chromium package (apt-get install -y chromium)")
	}
	t.Skip("no Chromium installed (apt-get install -y chromium, or set CHROMIUM): the report's browser test is skipped")
	return ""
}

// browser starts headless Chromium and returns a tab's context and the
// errors its console and page reported.
func browser(t *testing.T) (context.Context, func() []string) {
	t.Helper()
	path := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1200, 1600),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-dev-shm-usage", true)}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	tab, tcancel := chromedp.NewContext(actx)
	t.Cleanup(tcancel)
	// Console subscribes (starting the browser) before any page loads, so
	// no message is lost; errors and uncaught exceptions are kept.
	msgs := chromedp.Console(tab)
	var mu sync.Mutex
	var errs []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				mu.Lock()
				errs = append(errs, string(m.Type)+": "+m.Text)
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { tcancel(); <-done })
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start Chromium %s: %v", path, err)
	}
	return tab, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), errs...) }
}

// TestBrowserSeesConsoleErrors proves the listener catches what the
// report test relies on it to catch.
func TestBrowserSeesConsoleErrors(t *testing.T) {
	tab, errs := browser(t)
	page := filepath.Join(t.TempDir(), "bad.html")
	if err := os.WriteFile(page, []byte(`<!DOCTYPE html><title>x</title><script>console.error("boom"); undefinedFn();</script>`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tab, chromedp.Navigate("file://"+page)); err != nil {
		t.Fatal(err)
	}
	waitFor(tab, func() bool { return len(errs()) >= 2 })
	if got := errs(); len(got) < 2 {
		t.Fatalf("errors seen %q, want the console error and the exception", got)
	}
}

// waitFor polls cond through the browser, a round trip each time, up to
// 50 times: console events arrive asynchronously.
func waitFor(tab context.Context, cond func() bool) {
	for i := 0; i < 50 && !cond(); i++ {
		_, _ = chromedp.Run(tab, chromedp.Evaluate[int](`1`))
	}
}

// barDOM is a chart bar as the DOM shows it.
type barDOM struct {
	Chart    string         `json:"chart"`
	Name     string         `json:"name"`
	Cases    int            `json:"cases"`
	Total    string         `json:"total"`
	Segments map[string]int `json:"segments"`
}

type reviewerDOM struct {
	Reviewer string `json:"reviewer"`
	Stage    string `json:"stage"`
	Cases    int    `json:"cases"`
	Flags    string `json:"flags"`
}

const readCharts = `Array.from(document.querySelectorAll('g.bar')).map(g => ({
  chart: g.dataset.chart, name: g.dataset.name, cases: +g.dataset.cases,
  total: g.querySelector('text.total').textContent,
  segments: Object.fromEntries(Array.from(g.querySelectorAll('rect')).map(r => [r.dataset.outcome, +r.dataset.count]))}))`

const readReviewers = `Array.from(document.querySelectorAll('#reviewer-table tr[data-reviewer]')).map(r => ({
  reviewer: r.dataset.reviewer, stage: r.dataset.stage, cases: +r.dataset.cases, flags: r.dataset.flags}))`

// TestReportInChromium renders a real export's report.html: no console
// error, a screenshot that is not blank, chart numbers equal to
// analytics.json and cases.json, the flagged reviewer shown, and a PDF.
func TestReportInChromium(t *testing.T) {
	tab, errs := browser(t)
	r := runCampaign(t)
	dir := export(t, r, signedOptions())
	if err := chromedp.Do(tab, chromedp.Navigate("file://"+filepath.Join(dir, evidence.FileReport)),
		chromedp.Query(chromedp.CSS("#signoff"), chromedp.NodeVisible)); err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	bars, err := chromedp.Run(tab, chromedp.Evaluate[[]barDOM](readCharts))
	if err != nil {
		t.Fatal(err)
	}
	reviewers, err := chromedp.Run(tab, chromedp.Evaluate[[]reviewerDOM](readReviewers))
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := chromedp.Run(tab, chromedp.PrintToPDF(chromedp.PDFPrintBackground()))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(tab, func() bool { return false }) // let late console messages arrive
	if got := errs(); len(got) > 0 {
		t.Errorf("console errors: %q", got)
	}
	if colours := distinctColours(t, shot); colours < 8 {
		t.Errorf("the screenshot has %d colours: blank", colours)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF")) || len(pdf) < 5000 {
		t.Errorf("print to PDF: %d bytes", len(pdf))
	}

	var a evidence.AnalyticsFile
	readJSON(t, filepath.Join(dir, evidence.FileAnalytics), &a)
	var cases evidence.CasesFile
	readJSON(t, filepath.Join(dir, evidence.FileCases), &cases)
	want := map[string]map[string]int{} // chart/name -> outcome -> count, from cases.json
	add := func(key, outcome string) {
		if want[key] == nil {
			want[key] = map[string]int{}
		}
		want[key][outcome]++
	}
	for _, c := range cases.Cases {
		add("team/"+c.Department, c.Outcome)
		add("entitlement/"+c.Entitlement, c.Outcome)
		add("overall/All cases", c.Outcome)
	}
	perChart := map[string]int{}
	for _, b := range bars {
		perChart[b.Chart]++
		w := want[b.Chart+"/"+b.Name]
		total := 0
		for _, n := range w {
			total += n
		}
		if b.Cases != total || b.Total != strconv.Itoa(total) || fmt.Sprint(b.Segments) != fmt.Sprint(w) {
			t.Errorf("%s bar %q: DOM %d cases %v, cases.json %d %v", b.Chart, b.Name, b.Cases, b.Segments, total, w)
		}
	}
	if perChart["team"] != len(a.ByTeam) || perChart["entitlement"] != len(a.ByEntitlement) || perChart["overall"] != 1 {
		t.Errorf("bars per chart %v; analytics has %d teams, %d entitlements", perChart, len(a.ByTeam), len(a.ByEntitlement))
	}
	for i, g := range a.ByTeam {
		if i < len(bars) && want["team/"+g.Name]["kept"] != g.Kept {
			t.Errorf("analytics.json team %s kept %d, cases.json %d", g.Name, g.Kept, want["team/"+g.Name]["kept"])
		}
	}
	if len(reviewers) != len(a.Reviewers) {
		t.Fatalf("%d reviewer rows, analytics has %d", len(reviewers), len(a.Reviewers))
	}
	for i, rs := range a.Reviewers {
		got := reviewers[i]
		if got.Reviewer != rs.Reviewer || got.Stage != rs.Stage || got.Cases != rs.CasesDecided || got.Flags != strings.Join(rs.Flags, " ") {
			t.Errorf("reviewer row %d = %+v, analytics %+v", i, got, rs)
		}
	}
	if !strings.Contains(reviewers[0].Flags, evidence.FlagFastDecisions) || reviewers[0].Reviewer != "fast@x.com" {
		t.Errorf("first reviewer row %+v: want the fast reviewer, flagged", reviewers[0])
	}
}

// distinctColours counts the colours of a PNG, up to 1000.
func distinctColours(t *testing.T, shot []byte) int {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y && len(seen) < 1000; y += 3 {
		for x := b.Min.X; x < b.Max.X && len(seen) < 1000; x += 3 {
			r, g, bl, al := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, al}] = true
		}
	}
	return len(seen)
}
