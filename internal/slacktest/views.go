package slacktest

// Views: views.open, views.push, views.update and views.publish, with
// Slack's view rules and limits.

import (
	"encoding/json"
	"fmt"
)

// View is one successful views.* call.
type View struct {
	Method    string // "views.open", "views.push", "views.update" or "views.publish"
	Kind      string // "modal" or "home"
	ViewID    string
	UserID    string // the Home tab's user, for views.publish
	TriggerID string // for views.open and views.push
	// JSON is the view object answered, as a view_submission would carry it.
	JSON json.RawMessage
}

// viewRec is the current state of a view.
type viewRec struct {
	id, kind, hash, user, external, root string
	obj                                  map[string]any
}

// Views returns every successful views.* call, in order.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]View, len(s.st.viewLog))
	copy(out, s.st.viewLog)
	return out
}

// ViewJSON returns the current view object of viewID.
func (s *Server) ViewJSON(viewID string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.st.views[viewID]
	if !ok {
		return nil, false
	}
	b, _ := json.Marshal(rec.obj)
	return b, true
}

// parseView decodes and validates the "view" parameter as a view of kind.
func parseView(r *request, kind string) (map[string]any, *apiError) {
	var v map[string]any
	if err := json.Unmarshal([]byte(r.str("view")), &v); err != nil || v == nil {
		return nil, fail("invalid_arguments", "[ERROR] must provide an object [json-pointer:/view]")
	}
	val := &validator{}
	if t, _ := v["type"].(string); t != kind {
		val.failf("/view/type", "must be %s", kind)
	}
	if kind == "modal" {
		if title, ok := v["title"]; ok {
			val.checkTextAny("/view/title", title, MaxViewTitle, true)
		} else {
			val.failf("/view/title", "must provide an object")
		}
		for _, k := range []string{"submit", "close"} {
			if t, ok := v[k]; ok {
				val.checkTextAny("/view/"+k, t, MaxViewTitle, true)
			}
		}
	}
	for k, limit := range map[string]int{"private_metadata": MaxPrivateMetadata, "callback_id": MaxIDLength, "external_id": MaxIDLength} {
		if s, ok := v[k].(string); ok {
			val.tooLong("/view/"+k, s, limit)
		}
	}
	blocks, _ := v["blocks"].([]any)
	val.checkBlocks("/view/blocks", blocks, MaxViewBlocks)
	if _, ok := v["submit"]; !ok && kind == "modal" && hasInput(blocks) {
		val.failf("/view/submit", "must provide submit when an input block is present")
	}
	if len(val.probs) > 0 {
		e := fail("invalid_arguments")
		for _, p := range val.probs {
			e.messages = append(e.messages, "[ERROR] "+p)
		}
		return nil, e
	}
	return v, nil
}

// hasInput reports whether blocks include an input block.
func hasInput(blocks []any) bool {
	for _, b := range blocks {
		if m, _ := b.(map[string]any); m["type"] == "input" {
			return true
		}
	}
	return false
}

// storeView records a view (new or replacing rec) and answers it.
func (s *Server) storeView(method string, rec *viewRec, v map[string]any, prev, triggerID string) map[string]any {
	if rec.id == "" {
		s.st.seq++
		rec.id = fmt.Sprintf("V%010d", s.st.seq)
		if rec.root == "" {
			rec.root = rec.id
		}
	}
	rec.hash = fmt.Sprintf("%d.%s", s.now().Unix(), randomHex(4))
	if ext, _ := v["external_id"].(string); ext != "" {
		rec.external = ext
	}
	obj := map[string]any{
		"id": rec.id, "team_id": TeamID, "type": rec.kind, "blocks": v["blocks"],
		"private_metadata": strField(v, "private_metadata"), "callback_id": strField(v, "callback_id"),
		"state": map[string]any{"values": map[string]any{}}, "hash": rec.hash,
		"clear_on_close": v["clear_on_close"] == true, "notify_on_close": v["notify_on_close"] == true,
		"root_view_id": rec.root, "previous_view_id": nil, "app_id": AppID, "external_id": rec.external,
		"app_installed_team_id": TeamID, "bot_id": BotID,
	}
	for _, k := range []string{"title", "submit", "close"} {
		if t, ok := v[k]; ok {
			obj[k] = t
		}
	}
	if obj["blocks"] == nil {
		obj["blocks"] = []any{}
	}
	if prev != "" {
		obj["previous_view_id"] = prev
	}
	rec.obj = obj
	s.st.views[rec.id] = rec
	js, _ := json.Marshal(obj)
	s.st.viewLog = append(s.st.viewLog, View{Method: method, Kind: rec.kind, ViewID: rec.id, UserID: rec.user, TriggerID: triggerID, JSON: js})
	return map[string]any{"view": obj}
}

// strField reads a string field of a JSON object, "" when absent.
func strField(v map[string]any, key string) string {
	s, _ := v[key].(string)
	return s
}

// viewsOpen answers views.open.
func (s *Server) viewsOpen(r *request) (map[string]any, *apiError) {
	v, e := parseView(r, "modal")
	if e != nil {
		return nil, e
	}
	if _, e := s.st.useTrigger(s.cfg, s.now(), r.str("trigger_id")); e != nil {
		return nil, e
	}
	return s.storeView("views.open", &viewRec{kind: "modal"}, v, "", r.str("trigger_id")), nil
}

// viewsPush answers views.push: the new view's root is the view the
// trigger came from, when the trigger came from one.
func (s *Server) viewsPush(r *request) (map[string]any, *apiError) {
	v, e := parseView(r, "modal")
	if e != nil {
		return nil, e
	}
	t, e := s.st.useTrigger(s.cfg, s.now(), r.str("trigger_id"))
	if e != nil {
		return nil, e
	}
	rec := &viewRec{kind: "modal"}
	if from, ok := s.st.views[t.viewID]; ok {
		rec.root = from.root
	}
	return s.storeView("views.push", rec, v, t.viewID, r.str("trigger_id")), nil
}

// viewsUpdate answers views.update, by view_id or external_id, refusing a
// stale hash.
func (s *Server) viewsUpdate(r *request) (map[string]any, *apiError) {
	rec, ok := s.st.views[r.str("view_id")]
	if ext := r.str("external_id"); !ok && ext != "" {
		for _, cand := range s.st.views {
			if cand.external == ext {
				rec, ok = cand, true
			}
		}
	}
	if !ok {
		return nil, fail("not_found")
	}
	v, e := parseView(r, rec.kind)
	if e != nil {
		return nil, e
	}
	if h := r.str("hash"); h != "" && h != rec.hash {
		return nil, fail("hash_conflict")
	}
	prev, _ := rec.obj["previous_view_id"].(string)
	return s.storeView("views.update", rec, v, prev, ""), nil
}

// viewsPublish answers views.publish: one Home tab per user.
func (s *Server) viewsPublish(r *request) (map[string]any, *apiError) {
	user := r.str("user_id")
	if _, ok := s.st.findUser(s.cfg, user); !ok {
		return nil, fail("user_not_found")
	}
	v, e := parseView(r, "home")
	if e != nil {
		return nil, e
	}
	rec, ok := s.st.views[s.st.homes[user]]
	if !ok {
		rec = &viewRec{kind: "home", user: user}
	} else if h := r.str("hash"); h != "" && h != rec.hash {
		return nil, fail("hash_conflict")
	}
	out := s.storeView("views.publish", rec, v, "", "")
	s.st.homes[user] = rec.id
	return out, nil
}
