package hooks

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/attestbot/attest/internal/hookevent"
	"github.com/rs/zerolog"
)

// DefaultMaxBody bounds a delivery's body. Okta sends at most a few dozen
// events per call, far below this.
const DefaultMaxBody = 1 << 20

// ChallengeHeader carries Okta's one-time verification challenge.
const ChallengeHeader = "X-Okta-Verification-Challenge"

// Handler is the http.Handler for Okta's event hook endpoint
// (/okta/events). It answers the one-time verification GET and takes
// delivery POSTs: authenticated by a shared secret, stored in full before
// the 200, processed later by a Processor. Use it through a pointer; its
// counters are shared by all requests.
type Handler struct {
	// Secret is the value Okta sends in Header; empty rejects everything.
	Secret string
	// Header names the header carrying Secret; empty means Authorization.
	Header string
	// Store keeps the events; only SaveHookEvents is called.
	Store Store
	// Log receives one line per rejected or failed delivery.
	Log zerolog.Logger
	// MaxBody bounds a body in bytes; zero means DefaultMaxBody.
	MaxBody int64
	// Now stamps received_at; nil means time.Now.
	Now func() time.Time

	// commits stores deliveries in shared, durable transactions, one at
	// a time: SQLite takes one writer at a time, and a burst left to its
	// busy handler sleeps in growing steps and answers late (commit.go).
	commits groupCommit
	setup   sync.Once

	verifications, deliveries, events, duplicates atomic.Int64
	unauthorized, malformed, tooLarge, failed     atomic.Int64
}

// Stats counts what a Handler has seen since it was made.
type Stats struct {
	Verifications int64 // verification challenges answered
	Deliveries    int64 // deliveries stored and answered 200
	Events        int64 // events in those deliveries, duplicates included
	Duplicates    int64 // events whose uuid was already stored
	Unauthorized  int64 // requests with a wrong or missing secret (401)
	Malformed     int64 // bad JSON, no data.events, an event without uuid, a wrong method (400, 405)
	TooLarge      int64 // bodies over MaxBody (413)
	Failed        int64 // deliveries the store could not keep (500; Okta retries once)
}

// Rejected is the number of requests refused before anything was stored.
func (s Stats) Rejected() int64 { return s.Unauthorized + s.Malformed + s.TooLarge }

// Stats returns the counters; safe to call concurrently with requests.
func (h *Handler) Stats() Stats {
	return Stats{
		Verifications: h.verifications.Load(),
		Deliveries:    h.deliveries.Load(),
		Events:        h.events.Load(),
		Duplicates:    h.duplicates.Load(),
		Unauthorized:  h.unauthorized.Load(),
		Malformed:     h.malformed.Load(),
		TooLarge:      h.tooLarge.Load(),
		Failed:        h.failed.Load(),
	}
}

// delivery is the envelope of an event hook call; only data.events is
// needed, each event kept raw so nothing Okta sent is lost.
type delivery struct {
	EventID string `json:"eventId"`
	Data    *struct {
		Events []json.RawMessage `json:"events"`
	} `json:"data"`
}

// ServeHTTP answers GET verification challenges and POST deliveries.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.Log.With().Str("op", "okta_event_hook").Str("remote", r.RemoteAddr).Logger()
	switch r.Method {
	case http.MethodGet:
		h.verify(w, r, log)
	case http.MethodPost:
		h.deliver(w, r, log)
	default:
		h.malformed.Add(1)
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// verify echoes the challenge, but only to a caller holding the secret:
// otherwise anyone could prove our endpoint to an Okta org of theirs.
func (h *Handler) verify(w http.ResponseWriter, r *http.Request, log zerolog.Logger) {
	if !h.authorized(r) {
		h.unauthorized.Add(1)
		log.Warn().Msg("event hook verification without the right secret")
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	challenge := r.Header.Get(ChallengeHeader)
	if challenge == "" {
		h.malformed.Add(1)
		http.Error(w, "missing "+ChallengeHeader, http.StatusBadRequest)
		return
	}
	h.verifications.Add(1)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"verification": challenge})
	log.Info().Msg("event hook verified")
}

// deliver stores every event of a delivery, then answers 200. Anything
// short of a stored delivery stores nothing, so a 4xx or 5xx never leaves
// half a delivery behind.
func (h *Handler) deliver(w http.ResponseWriter, r *http.Request, log zerolog.Logger) {
	if !h.authorized(r) {
		h.unauthorized.Add(1)
		log.Warn().Msg("event hook delivery without the right secret")
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	limit := h.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	if r.ContentLength > limit {
		h.tooLarge.Add(1)
		log.Warn().Int64("bytes", r.ContentLength).Msg("event hook delivery too large")
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.tooLarge.Add(1)
			log.Warn().Int64("limit", limit).Msg("event hook delivery too large")
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		h.malformed.Add(1)
		log.Warn().Err(err).Msg("event hook delivery unreadable")
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	events, id, err := h.parse(body)
	if err != nil {
		h.malformed.Add(1)
		log.Warn().Err(err).Msg("event hook delivery rejected")
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if len(events) > 0 {
		h.setup.Do(func() { h.commits.commit = h.commitBatch })
		if err := h.commits.save(events); err != nil {
			h.failed.Add(1)
			log.Error().Err(err).Int("events", len(events)).Msg("event hook delivery not stored")
			http.Error(w, "not stored; retry", http.StatusInternalServerError)
			return
		}
	}
	h.deliveries.Add(1)
	h.events.Add(int64(len(events)))
	log.Debug().Str("event_id", id).Int("events", len(events)).Msg("event hook delivery stored")
	w.WriteHeader(http.StatusOK)
}

// commitBatch stores the events of the deliveries one group commit took.
// It runs on no request's context: one delivery's caller going away must
// not fail the others in the batch; the store's busy timeout bounds it.
func (h *Handler) commitBatch(events []hookevent.Event) error {
	inserted, err := h.Store.SaveHookEvents(context.Background(), events)
	if err != nil {
		return err
	}
	h.duplicates.Add(int64(len(events) - inserted))
	return nil
}

// parse returns the events of a delivery body, all stamped with the same
// received time, and the delivery's eventId; or an error naming what is
// wrong, safe to show the caller.
func (h *Handler) parse(body []byte) ([]hookevent.Event, string, error) {
	var d delivery
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, "", errors.New("malformed JSON")
	}
	if d.Data == nil || d.Data.Events == nil {
		return nil, "", errors.New("no data.events")
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	at := now()
	out := make([]hookevent.Event, 0, len(d.Data.Events))
	for i, raw := range d.Data.Events {
		ev, err := hookevent.DecodeEvent(raw)
		if err != nil {
			return nil, "", fmt.Errorf("data.events[%d]: %w", i, err)
		}
		ev.ReceivedAt = at
		out = append(out, ev)
	}
	return out, d.EventID, nil
}

// authorized compares the secret in constant time. Hashing both sides
// first keeps the comparison's length fixed, so timing reveals neither the
// secret nor its length.
func (h *Handler) authorized(r *http.Request) bool {
	if h.Secret == "" {
		return false
	}
	name := h.Header
	if name == "" {
		name = "Authorization"
	}
	got, ok := r.Header[http.CanonicalHeaderKey(name)]
	if !ok || len(got) != 1 {
		return false
	}
	a, b := sha256.Sum256([]byte(got[0])), sha256.Sum256([]byte(h.Secret))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}
