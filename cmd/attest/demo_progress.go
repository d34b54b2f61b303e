package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
)

// progress prints what `attest demo` is doing to the terminal: one line
// per finished phase and, while a phase runs, its count and rate (redrawn
// in place on a terminal, a line every two seconds otherwise).
type progress struct {
	w     io.Writer
	start time.Time
	tty   bool

	mu       sync.Mutex
	live     bool      // a live line is drawn and not yet ended
	lastLine time.Time // when the last live line was printed (no tty)
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, start: time.Now()}
	if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		p.tty = true
	}
	return p
}

func (p *progress) stamp() string {
	return fmt.Sprintf("[%5.1fs]", time.Since(p.start).Seconds())
}

// phase prints a finished phase's line.
func (p *progress) phase(name, format string, a ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live && p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	p.live = false
	fmt.Fprintf(p.w, "%s %-9s %s\n", p.stamp(), name, fmt.Sprintf(format, a...))
}

// update shows a running phase: done of total, and the rate since start.
func (p *progress) update(name string, done, total int, what string, start time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rate := float64(done) / max(time.Since(start).Seconds(), 0.001)
	line := fmt.Sprintf("%s %-9s %d/%d %s (%.0f/s)", p.stamp(), name, done, total, what, rate)
	switch {
	case p.tty:
		fmt.Fprint(p.w, "\r\033[K"+line)
		p.live = true
	case time.Since(p.lastLine) >= 2*time.Second:
		fmt.Fprintln(p.w, line)
		p.lastLine = time.Now()
	}
}
