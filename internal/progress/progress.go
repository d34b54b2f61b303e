// Package progress turns progress callbacks of long work into periodic log
// lines with counts, rate and ETA.
package progress

import (
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/attestbot/attest/campaign"
)

// Reporter logs campaign.Progress updates at most once per Every per phase,
// plus the first and last update of each phase. Safe for concurrent use.
type Reporter struct {
	Log   zerolog.Logger
	Every time.Duration
	Now   func() time.Time
	What  string // e.g. "sync"

	mu     sync.Mutex
	phases map[string]*phase
}

type phase struct {
	start, logged time.Time
	done, total   int
	finished      bool
}

// New returns a Reporter logging every 5 seconds.
func New(log zerolog.Logger, what string) *Reporter {
	return &Reporter{Log: log, Every: 5 * time.Second, Now: time.Now, What: what}
}

// Update records one progress report and logs it when due.
func (r *Reporter) Update(p campaign.Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.phases == nil {
		r.phases = map[string]*phase{}
	}
	now := r.Now()
	ph, ok := r.phases[p.Phase]
	if !ok {
		ph = &phase{start: now}
		r.phases[p.Phase] = ph
	}
	if ph.finished {
		return
	}
	ph.done, ph.total = p.Done, p.Total
	last := p.Total > 0 && p.Done >= p.Total
	if ok && !last && now.Sub(ph.logged) < r.Every {
		return
	}
	ph.logged, ph.finished = now, last
	ev := r.Log.Info().Str("op", r.What).Str("phase", p.Phase).Int("done", p.Done)
	elapsed := now.Sub(ph.start).Seconds()
	if elapsed > 0 {
		ev = ev.Float64("per_second", round(float64(p.Done)/elapsed))
	}
	if p.Total > 0 {
		ev = ev.Int("total", p.Total).Float64("percent", round(100*float64(p.Done)/float64(p.Total)))
		if eta, ok := ETA(p.Done, p.Total, now.Sub(ph.start)); ok {
			ev = ev.Dur("eta", eta)
		}
	}
	msg := "in progress"
	if last {
		msg = "done"
	}
	ev.Msg(r.What + " " + p.Phase + " " + msg)
}

// ETA extrapolates the time left from the rate so far; false when there is
// no rate yet.
func ETA(done, total int, elapsed time.Duration) (time.Duration, bool) {
	if done <= 0 || total <= 0 || elapsed <= 0 {
		return 0, false
	}
	if done >= total {
		return 0, true
	}
	left := float64(total-done) * float64(elapsed) / float64(done)
	return time.Duration(left).Round(time.Second), true
}

func round(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
