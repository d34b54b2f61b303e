package oktatest

import (
	"encoding/json"
	"net/http"
	"sync"
)

// Okta Verify push, as the Factors API serves it: every active user has
// one push factor; a verify starts a transaction that stays WAITING until
// the test answers it with SetPushAnswer (SUCCESS, REJECTED or TIMEOUT).

// pushes holds the answers tests give, and the transactions started.
type pushes struct {
	mu      sync.Mutex
	answer  map[string]string // user id -> result the next polls see
	started map[string]string // transaction id -> user id
	sent    int
}

// pushes returns the server's push state, made on first use.
func (s *Server) pushes() *pushes {
	p := &s.push
	p.mu.Lock()
	if p.answer == nil {
		p.answer, p.started = map[string]string{}, map[string]string{}
	}
	p.mu.Unlock()
	return p
}

// SetPushAnswer sets what the user does with their pushes: "SUCCESS",
// "REJECTED" or "TIMEOUT" ("" keeps them WAITING).
func (s *Server) SetPushAnswer(userID, result string) {
	p := s.pushes()
	p.mu.Lock()
	p.answer[userID] = result
	p.mu.Unlock()
}

// PushesSent counts the pushes started.
func (s *Server) PushesSent() int {
	p := s.pushes()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent
}

func pushFactorID(userID string) string { return hashID("opf", userID) }

// listFactors serves GET /api/v1/users/{id}/factors.
func (s *Server) listFactors(w http.ResponseWriter, _ *http.Request, params map[string]string) {
	x := s.view()
	p, ok := x.findUser(params["id"])
	if !ok {
		s.writeError(w, *notFound(params["id"], "User"))
		return
	}
	u := &x.users[p]
	factors := []map[string]any{}
	if u.Status == "ACTIVE" {
		factors = append(factors, map[string]any{"id": pushFactorID(u.ID), "factorType": "push", "provider": "OKTA",
			"vendorName": "OKTA", "status": "ACTIVE", "profile": map[string]any{"name": "Phone", "platform": "IOS"}})
	}
	body, _ := json.Marshal(factors)
	writeJSON(w, body)
}

// verifyFactor serves POST /api/v1/users/{id}/factors/{factorId}/verify.
func (s *Server) verifyFactor(w http.ResponseWriter, _ *http.Request, params map[string]string) {
	uid, fid := params["id"], params["factorId"]
	if fid != pushFactorID(uid) {
		s.writeError(w, *notFound(fid, "UserFactor"))
		return
	}
	p := s.pushes()
	p.mu.Lock()
	p.sent++
	tx := hashID("v2m", uid+string(rune(p.sent)))
	p.started[tx] = uid
	p.mu.Unlock()
	s.writeTransaction(w, uid, fid, tx, http.StatusCreated)
}

// factorTransaction serves GET /api/v1/users/{id}/factors/{factorId}/transactions/{tx}.
func (s *Server) factorTransaction(w http.ResponseWriter, _ *http.Request, params map[string]string) {
	p := s.pushes()
	p.mu.Lock()
	uid, ok := p.started[params["tx"]]
	p.mu.Unlock()
	if !ok || uid != params["id"] {
		s.writeError(w, *notFound(params["tx"], "Transaction"))
		return
	}
	s.writeTransaction(w, uid, params["factorId"], params["tx"], http.StatusOK)
}

func (s *Server) writeTransaction(w http.ResponseWriter, uid, fid, tx string, status int) {
	p := s.pushes()
	p.mu.Lock()
	result := p.answer[uid]
	p.mu.Unlock()
	if result == "" {
		result = "WAITING"
	}
	body := map[string]any{"factorResult": result, "expiresAt": "2030-01-01T00:00:00.000Z"}
	if result == "WAITING" {
		body["_links"] = map[string]any{"poll": map[string]any{
			"href": s.URL + "/api/v1/users/" + uid + "/factors/" + fid + "/transactions/" + tx, "hints": map[string]any{"allow": []string{"GET"}}}}
	}
	raw, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(raw)
}
