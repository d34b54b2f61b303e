package slacktest

// Builders of the interactive payloads Slack sends when a user acts:
// block_actions on a stored message, view_submission and view_closed of a
// stored view. Pass the result to SendInteraction.

import (
	"encoding/json"
	"fmt"
)

// SelectOption is a select, radio or checkbox option a user picked.
type SelectOption struct {
	Text, Value string
}

// Action is one element a user acted on in a block_actions payload. Only
// ActionID is required: the rest is looked up in the stored message
// (block_id, type, and a button's text and value). Set SelectedOption and
// friends for selects and pickers.
type Action struct {
	ActionID, BlockID string
	Type              string
	Text, Value       string
	SelectedOption    *SelectOption
	SelectedOptions   []SelectOption
	SelectedUser      string
	SelectedDate      string
}

// StateValue is the state of one input element, as in state.values.
// Type may be left empty where the element can be looked up.
type StateValue struct {
	Type                 string
	Value                string
	SelectedOption       *SelectOption
	SelectedOptions      []SelectOption
	SelectedUser         string
	SelectedUsers        []string
	SelectedDate         string
	SelectedConversation string
}

// optionJSON renders an option object.
func optionJSON(o SelectOption) map[string]any {
	return map[string]any{"text": map[string]any{"type": "plain_text", "text": o.Text, "emoji": true}, "value": o.Value}
}

// selectionJSON adds the fields Slack sends for what was selected.
func selectionJSON(out map[string]any, opt *SelectOption, opts []SelectOption, user, date string) {
	if opt != nil {
		out["selected_option"] = optionJSON(*opt)
	}
	if opts != nil {
		list := make([]map[string]any, len(opts))
		for i, o := range opts {
			list[i] = optionJSON(o)
		}
		out["selected_options"] = list
	}
	if user != "" {
		out["selected_user"] = user
	}
	if date != "" {
		out["selected_date"] = date
	}
}

// json renders v as in state.values.
func (v StateValue) json() map[string]any {
	out := map[string]any{"type": v.Type}
	switch v.Type {
	case "plain_text_input", "email_text_input", "url_text_input", "number_input":
		out["value"] = v.Value
	}
	selectionJSON(out, v.SelectedOption, v.SelectedOptions, v.SelectedUser, v.SelectedDate)
	if v.SelectedUsers != nil {
		out["selected_users"] = v.SelectedUsers
	}
	if v.SelectedConversation != "" {
		out["selected_conversation"] = v.SelectedConversation
	}
	return out
}

// userRef renders the user object of interaction payloads.
func userRef(u User) map[string]any {
	team := u.TeamID
	if team == "" {
		team = TeamID
	}
	return map[string]any{"id": u.ID, "username": u.Name, "name": u.Name, "team_id": team}
}

// findElement finds the element with actionID (in blockID, when set) in
// a blocks array, and returns it with its block's id.
func findElement(blocks []any, blockID, actionID string) (map[string]any, string, bool) {
	for _, raw := range blocks {
		b, _ := raw.(map[string]any)
		id, _ := b["block_id"].(string)
		if blockID != "" && id != blockID {
			continue
		}
		var els []any
		if e, ok := b["elements"].([]any); ok {
			els = e
		}
		for _, k := range []string{"accessory", "element"} {
			if e, ok := b[k]; ok {
				els = append(els, e)
			}
		}
		for _, e := range els {
			if em, _ := e.(map[string]any); em["action_id"] == actionID {
				return em, id, true
			}
		}
	}
	return nil, "", false
}

// BlockActions builds the block_actions payload Slack sends when user
// acts on the message at channel and messageTS (a stored message, or an
// ephemeral one): container, channel, the message with its blocks, the
// given state and actions, a fresh trigger_id and a response_url. It
// fails when the message, or an action's element in it, does not exist.
func (s *Server) BlockActions(user User, channel, messageTS string, actions []Action, state map[string]map[string]StateValue) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var blocks []any
	var message map[string]any
	ephemeral := false
	if m := s.st.message(channel, messageTS); m != nil {
		cm := copyMessage(m)
		message = cm.wire()
		_ = json.Unmarshal(m.Blocks, &blocks)
	} else {
		for _, e := range s.st.ephemerals {
			if e.Channel == channel && e.TS == messageTS {
				ephemeral = true
				_ = json.Unmarshal(e.Blocks, &blocks)
			}
		}
		if !ephemeral {
			return nil, fmt.Errorf("slacktest: no message %s in %s", messageTS, channel)
		}
	}
	now := s.now()
	acts := make([]map[string]any, 0, len(actions))
	for _, a := range actions {
		el, blockID, ok := findElement(blocks, a.BlockID, a.ActionID)
		if !ok {
			return nil, fmt.Errorf("slacktest: no element %q (block %q) in message %s", a.ActionID, a.BlockID, messageTS)
		}
		if a.Type == "" {
			a.Type, _ = el["type"].(string)
		}
		if t, _ := el["text"].(map[string]any); a.Text == "" && t != nil {
			a.Text, _ = t["text"].(string)
		}
		if v, ok := el["value"].(string); a.Value == "" && ok {
			a.Value = v
		}
		act := map[string]any{
			"action_id": a.ActionID, "block_id": blockID, "type": a.Type,
			"action_ts": fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000),
		}
		if a.Type == "button" {
			act["text"] = map[string]any{"type": "plain_text", "text": a.Text, "emoji": true}
			act["value"] = a.Value
		}
		selectionJSON(act, a.SelectedOption, a.SelectedOptions, a.SelectedUser, a.SelectedDate)
		acts = append(acts, act)
	}
	values := map[string]any{}
	for blockID, byAction := range state {
		vals := map[string]any{}
		for actionID, v := range byAction {
			if el, _, ok := findElement(blocks, blockID, actionID); ok && v.Type == "" {
				v.Type, _ = el["type"].(string)
			}
			vals[actionID] = v.json()
		}
		values[blockID] = vals
	}
	out := map[string]any{
		"type": "block_actions", "user": userRef(user), "api_app_id": AppID, "token": VerificationToken,
		"container": map[string]any{
			"type": "message", "message_ts": messageTS, "channel_id": channel, "is_ephemeral": ephemeral,
		},
		"trigger_id":   s.st.newTrigger(now, ""),
		"channel":      map[string]any{"id": channel, "name": s.channelName(channel)},
		"state":        map[string]any{"values": values},
		"response_url": s.newResponseURLFor(channel, messageTS, user.ID),
		"actions":      acts,
	}
	if message != nil {
		out["message"] = message
	}
	s.orgFields(out, user)
	return out, nil
}

// channelName is a channel's name, as payloads carry it.
func (s *Server) channelName(id string) string {
	if ch, ok := s.st.channels[id]; ok {
		return ch.name
	}
	return ""
}

// viewPayload builds the common part of view_submission and view_closed.
func (s *Server) viewPayload(typ string, user User, viewID string, values map[string]map[string]StateValue) (map[string]any, error) {
	rec, ok := s.st.views[viewID]
	if !ok {
		return nil, fmt.Errorf("slacktest: no view %s", viewID)
	}
	var view map[string]any
	b, _ := json.Marshal(rec.obj)
	_ = json.Unmarshal(b, &view)
	blocks, _ := view["blocks"].([]any)
	vals := map[string]any{}
	for blockID, byAction := range values {
		out := map[string]any{}
		for actionID, v := range byAction {
			el, _, ok := findElement(blocks, blockID, actionID)
			if !ok {
				return nil, fmt.Errorf("slacktest: no element %q in block %q of view %s", actionID, blockID, viewID)
			}
			if v.Type == "" {
				v.Type, _ = el["type"].(string)
			}
			out[actionID] = v.json()
		}
		vals[blockID] = out
	}
	view["state"] = map[string]any{"values": vals}
	out := map[string]any{
		"type": typ, "user": userRef(user), "api_app_id": AppID, "token": VerificationToken, "view": view,
	}
	s.orgFields(out, user)
	return out, nil
}

// ViewSubmission builds the view_submission payload Slack sends when user
// submits the stored view viewID with the given input values (by block_id,
// then action_id). It carries a fresh trigger_id, usable for views.push.
// It fails for an unknown view or an element the view does not have.
func (s *Server) ViewSubmission(user User, viewID string, values map[string]map[string]StateValue) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out, err := s.viewPayload("view_submission", user, viewID, values)
	if err != nil {
		return nil, err
	}
	out["trigger_id"] = s.st.newTrigger(s.now(), viewID)
	out["response_urls"] = []any{}
	return out, nil
}

// ViewClosed builds the view_closed payload Slack sends when user closes
// the stored view viewID (only for views with notify_on_close).
func (s *Server) ViewClosed(user User, viewID string) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out, err := s.viewPayload("view_closed", user, viewID, nil)
	if err != nil {
		return nil, err
	}
	out["is_cleared"] = false
	return out, nil
}
