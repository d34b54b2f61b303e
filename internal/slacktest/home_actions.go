package slacktest

import (
	"fmt"
)

// HomeBlockActions builds the block_actions payload Slack sends when user
// clicks a button on their published App Home tab viewID: a "view"
// container, the view itself, the actions (each looked up in the view's
// blocks, its value and text taken from there) and a fresh trigger_id
// tied to the view. Slack sends no channel and no response_url for a
// Home tab. It fails for an unknown view, a view that is not user's Home,
// or an element the view does not have.
func (s *Server) HomeBlockActions(user User, viewID string, actions []Action) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.st.views[viewID]
	if !ok || rec.kind != "home" || rec.user != user.ID {
		return nil, fmt.Errorf("slacktest: no Home view %s of %s", viewID, user.ID)
	}
	blocks, _ := rec.obj["blocks"].([]any)
	now := s.now()
	acts := make([]map[string]any, 0, len(actions))
	for _, a := range actions {
		el, blockID, ok := findElement(blocks, a.BlockID, a.ActionID)
		if !ok {
			return nil, fmt.Errorf("slacktest: no element %q (block %q) in view %s", a.ActionID, a.BlockID, viewID)
		}
		act := map[string]any{"action_id": a.ActionID, "block_id": blockID, "type": el["type"],
			"action_ts": fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000)}
		if el["type"] == "button" {
			act["text"], act["value"] = el["text"], el["value"]
		}
		acts = append(acts, act)
	}
	out := map[string]any{
		"type": "block_actions", "user": userRef(user), "api_app_id": AppID, "token": VerificationToken,
		"container":  map[string]any{"type": "view", "view_id": viewID},
		"trigger_id": s.st.newTrigger(now, viewID),
		"view":       rec.obj,
		"actions":    acts,
	}
	s.orgFields(out, user)
	return out, nil
}
