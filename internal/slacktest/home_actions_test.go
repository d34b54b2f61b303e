package slacktest

import (
	"testing"

	"github.com/slack-go/slack"
)

// TestHomeBlockActions: a click on a published Home tab carries a view
// container, the view, the button's value and a trigger tied to the
// view; another user's Home, an unknown view or element is refused.
func TestHomeBlockActions(t *testing.T) {
	s, api := start(t)
	c := ctx(t)
	open := slack.NewButtonBlockElement("open_review", "h:1:w:1", slack.NewTextBlockObject(slack.PlainTextType, "Open", false, false))
	home := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*Q4*", false, false), nil, slack.NewAccessory(open),
			slack.SectionBlockOptionBlockID("pending:1:owner"))}}}
	v, err := api.PublishViewContext(c, slack.PublishViewContextRequest{UserID: "U1", View: home})
	if err != nil {
		t.Fatal(err)
	}
	u1 := User{ID: "U1"}
	p, err := s.HomeBlockActions(u1, v.View.ID, []Action{{ActionID: "open_review"}})
	if err != nil {
		t.Fatal(err)
	}
	cont, _ := p["container"].(map[string]any)
	acts, _ := p["actions"].([]map[string]any)
	view, _ := p["view"].(map[string]any)
	if cont["type"] != "view" || cont["view_id"] != v.View.ID || view == nil || len(acts) != 1 ||
		acts[0]["value"] != "h:1:w:1" || acts[0]["block_id"] != "pending:1:owner" || p["trigger_id"] == "" || p["response_url"] != nil {
		t.Fatalf("payload: %v", p)
	}
	if _, err := s.HomeBlockActions(User{ID: "U2"}, v.View.ID, []Action{{ActionID: "open_review"}}); err == nil {
		t.Error("a click on another user's Home was built")
	}
	if _, err := s.HomeBlockActions(u1, "V404", []Action{{ActionID: "open_review"}}); err == nil {
		t.Error("a click on an unknown view was built")
	}
	if _, err := s.HomeBlockActions(u1, v.View.ID, []Action{{ActionID: "nope"}}); err == nil {
		t.Error("a click on a missing element was built")
	}
}
