package okta

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// pacer is the http.RoundTripper under the Okta SDK. It is the one place
// that decides when a request may go out and whether a failed one is tried
// again: it keeps each rate-limit bucket under its announced limit, bounds
// the requests in flight, waits out 429s until the window resets and retries
// 5xx answers and timeouts of reads with backoff. The SDK's own 429 retry is
// switched off so the two never stack.
type pacer struct {
	base       http.RoundTripper
	slots      chan struct{}
	headroom   float64
	maxRetries int
	max429     int
	now        func() time.Time
	backoff    func(attempt int) time.Duration
	log        zerolog.Logger

	mu      sync.Mutex
	buckets map[string]*bucket

	calls, tooMany, retries atomic.Int64
	observe                 func(status int)
}

func newPacer(base http.RoundTripper, concurrency, maxRetries int, headroom float64, log zerolog.Logger) *pacer {
	if concurrency < 1 {
		concurrency = 1
	}
	return &pacer{
		base:       base,
		slots:      make(chan struct{}, concurrency),
		headroom:   headroom,
		maxRetries: maxRetries,
		max429:     maxRetries + 10,
		now:        time.Now,
		backoff:    expBackoff,
		log:        log,
		buckets:    map[string]*bucket{},
	}
}

// expBackoff is 0.5 s doubling to at most 30 s, with jitter so that several
// workers hit by one outage do not return in lockstep.
func expBackoff(attempt int) time.Duration {
	d := 500 * time.Millisecond << min(attempt, 6)
	if d > 30*time.Second {
		d = 30 * time.Second
	}
	return d/2 + rand.N(d/2+1)
}

func (p *pacer) bucket(name string) *bucket {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, ok := p.buckets[name]
	if !ok {
		b = newBucket()
		p.buckets[name] = b
	}
	return b
}

// RoundTrip sends req when its bucket and the concurrency bound allow, and
// retries what is safe to retry.
func (p *pacer) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	b := p.bucket(bucketOf(req.URL.Path))
	safe := req.Method == http.MethodGet || req.Method == http.MethodHead
	var n429, nFail int
	for {
		if err := b.acquire(ctx, p.now, p.headroom); err != nil {
			return nil, err
		}
		select {
		case p.slots <- struct{}{}:
		case <-ctx.Done():
			b.release(nil, 0)
			return nil, ctx.Err()
		}
		attemptReq, err := rewind(req)
		if err != nil {
			<-p.slots
			b.release(nil, 0)
			return nil, err
		}
		resp, err := p.base.RoundTrip(attemptReq)
		<-p.slots
		p.calls.Add(1)
		if p.observe != nil {
			status := 0
			if resp != nil {
				status = resp.StatusCode
			}
			p.observe(status)
		}
		if err != nil {
			b.release(nil, 0)
			if !safe || !retryableNetErr(ctx, err) || nFail >= p.maxRetries {
				return nil, err
			}
			nFail++
			p.retries.Add(1)
			p.log.Warn().Err(err).Str("path", req.URL.Path).Int("attempt", nFail).Msg("okta request failed; retrying")
			if err := sleepCtx(ctx, p.backoff(nFail)); err != nil {
				return nil, err
			}
			continue
		}
		b.release(resp.Header, resp.StatusCode)
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			p.tooMany.Add(1)
			if n429 >= p.max429 {
				return resp, nil
			}
			n429++
			drain(resp)
			p.log.Warn().Str("path", req.URL.Path).Str("reset", resp.Header.Get("X-Rate-Limit-Reset")).
				Msg("okta rate limit hit; waiting for the window to reset")
			if resp.Header.Get("X-Rate-Limit-Reset") == "" {
				// No reset announced: the bucket cannot tell us when; back off.
				if err := sleepCtx(ctx, p.backoff(n429)); err != nil {
					return nil, err
				}
			}
			continue
		case resp.StatusCode >= 500 && safe && nFail < p.maxRetries:
			nFail++
			p.retries.Add(1)
			drain(resp)
			p.log.Warn().Int("status", resp.StatusCode).Str("path", req.URL.Path).Int("attempt", nFail).
				Msg("okta server error; retrying")
			if err := sleepCtx(ctx, p.backoff(nFail)); err != nil {
				return nil, err
			}
			continue
		}
		return resp, nil
	}
}

// rewind gives a fresh copy of req for one attempt, with its body reset.
func rewind(req *http.Request) (*http.Request, error) {
	r := req.Clone(req.Context())
	if req.Body != nil && req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		r.Body = body
	}
	return r, nil
}

// retryableNetErr reports whether a transport error is worth another try of
// a read: timeouts and dropped connections, not a cancelled context.
func retryableNetErr(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, context.DeadlineExceeded) || isConnReset(err)
}

func isConnReset(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe)
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
