package slacktest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

// decode turns a built payload into what slack-go parses from it.
func decode(t *testing.T, payload map[string]any) slack.InteractionCallback {
	t.Helper()
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal(b, &cb); err != nil {
		t.Fatalf("slack-go cannot parse %s: %v", b, err)
	}
	return cb
}

func TestBlockActionsPayload(t *testing.T) {
	s, api := start(t)
	c := ctx(t)
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Decision"), "decision", options(3, 5, 5)...)
	_, ts, err := api.PostMessageContext(c, "C1", slack.MsgOptionText("review", false), slack.MsgOptionBlocks(
		slack.NewActionBlock("b1", sel, slack.NewButtonBlockElement("submit", "case-9", plain("Submit"))),
	))
	if err != nil {
		t.Fatal(err)
	}
	ets, err := api.PostEphemeralContext(c, "C1", "U1", slack.MsgOptionBlocks(
		slack.NewActionBlock("e1", slack.NewButtonBlockElement("undo", "u", plain("Undo")))))
	if err != nil {
		t.Fatal(err)
	}
	alice := User{ID: "U1", Name: "alice"}
	picked := &SelectOption{Text: "1-ttt", Value: "1-vvv"}

	tests := []struct {
		name    string
		ts      string
		actions []Action
		state   map[string]map[string]StateValue
		wantErr bool
		check   func(cb slack.InteractionCallback) bool
	}{
		{"button with state", ts, []Action{{ActionID: "submit"}},
			map[string]map[string]StateValue{"b1": {"decision": {SelectedOption: picked}}}, false,
			func(cb slack.InteractionCallback) bool {
				st := cb.BlockActionState.Values["b1"]["decision"]
				a := cb.ActionCallback.BlockActions[0]
				return a.Value == "case-9" && a.Type == "button" && a.ActionTs != "" &&
					st.Type == "static_select" && st.SelectedOption.Value == "1-vvv" && !cb.Container.IsEphemeral
			}},
		{"select", ts, []Action{{ActionID: "decision", SelectedOption: picked}}, nil, false,
			func(cb slack.InteractionCallback) bool {
				a := cb.ActionCallback.BlockActions[0]
				return a.Type == "static_select" && a.SelectedOption.Value == "1-vvv" && a.BlockID == "b1"
			}},
		{"ephemeral message", ets, []Action{{ActionID: "undo"}}, nil, false,
			func(cb slack.InteractionCallback) bool {
				return cb.Container.IsEphemeral && cb.Message.Timestamp == "" && cb.ActionCallback.BlockActions[0].Value == "u"
			}},
		{"unknown action", ts, []Action{{ActionID: "nope"}}, nil, true, nil},
		{"wrong block", ts, []Action{{ActionID: "submit", BlockID: "b2"}}, nil, true, nil},
		{"unknown message", "1.000001", []Action{{ActionID: "submit"}}, nil, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := s.BlockActions(alice, "C1", tt.ts, tt.actions, tt.state)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v", err)
			}
			if err != nil {
				return
			}
			cb := decode(t, p)
			if cb.Type != slack.InteractionTypeBlockActions || cb.User.Name != "alice" || cb.Team.ID != TeamID ||
				cb.APIAppID != AppID || cb.TriggerID == "" || cb.ResponseURL == "" || !tt.check(cb) {
				t.Errorf("callback %+v", cb)
			}
		})
	}
}

func TestResponseURL(t *testing.T) {
	s, api := start(t)
	c := ctx(t)
	_, ts, err := api.PostMessageContext(c, "C1", slack.MsgOptionText("review", false), slack.MsgOptionBlocks(
		slack.NewActionBlock("b1", slack.NewButtonBlockElement("ok", "v", plain("OK")))))
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.BlockActions(User{ID: "U1", Name: "alice"}, "C1", ts, []Action{{ActionID: "ok"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	url := p["response_url"].(string)

	tests := []struct {
		name  string
		opts  []slack.MsgOption
		check func() bool
	}{
		{"ephemeral reply", []slack.MsgOption{slack.MsgOptionResponseURL(url, slack.ResponseTypeEphemeral), slack.MsgOptionText("noted", false)},
			func() bool { e := s.Ephemerals(); return len(e) == 1 && e[0].User == "U1" && e[0].Text == "noted" }},
		{"in channel", []slack.MsgOption{slack.MsgOptionResponseURL(url, slack.ResponseTypeInChannel), slack.MsgOptionText("done", false)},
			func() bool { return len(s.Messages("C1")) == 2 }},
		{"replace the original", []slack.MsgOption{slack.MsgOptionReplaceOriginal(url), slack.MsgOptionText("Decided", false)},
			func() bool {
				m, _ := s.Message("C1", ts)
				return m.Text == "Decided" && m.Blocks == nil && m.Edited == 1
			}},
		{"delete the original", []slack.MsgOption{slack.MsgOptionDeleteOriginal(url)},
			func() bool { _, ok := s.Message("C1", ts); return !ok }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := api.PostMessageContext(c, "", tt.opts...); err != nil {
				t.Fatal(err)
			}
			if !tt.check() {
				t.Errorf("not applied: %+v", s.ResponsePosts())
			}
		})
	}
	// Four uses so far: the fifth passes, the sixth is refused.
	for i, want := range []int{http.StatusOK, http.StatusNotFound} {
		resp, err := http.Post(url, "application/json", strings.NewReader(`{"text":"again","response_type":"ephemeral"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("use %d: %s, want %d", 5+i, resp.Status, want)
		}
	}
}

func TestViewClosed(t *testing.T) {
	s, api := start(t)
	opened, err := api.OpenViewContext(ctx(t), s.NewTriggerID(), reviewModal("Closing"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.ViewClosed(User{ID: "U2", Name: "bob"}, opened.View.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cb := decode(t, p); cb.Type != slack.InteractionTypeViewClosed || cb.View.ID != opened.View.ID || cb.User.ID != "U2" {
		t.Errorf("view_closed %+v", cb)
	}
	if _, err := s.ViewClosed(User{ID: "U2"}, "V404"); err == nil {
		t.Error("closed an unknown view")
	}
	if _, err := s.ViewSubmission(User{ID: "U2"}, opened.View.ID, map[string]map[string]StateValue{"nope": {"x": {}}}); err == nil {
		t.Error("submitted a value for a block the view does not have")
	}
}
