package slacktest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func options(n, textLen, valueLen int) []*slack.OptionBlockObject {
	out := make([]*slack.OptionBlockObject, n)
	for i := range out {
		text := (fmt.Sprintf("%d-", i) + strings.Repeat("t", textLen))[:textLen]
		value := (fmt.Sprintf("%d-", i) + strings.Repeat("v", valueLen))[:valueLen]
		out[i] = slack.NewOptionBlockObject(value, plain(text), nil)
	}
	return out
}

func sections(n, textLen int) []slack.Block {
	out := make([]slack.Block, n)
	for i := range out {
		out[i] = section(strings.Repeat("s", textLen))
	}
	return out
}

func buttons(n int) []slack.BlockElement {
	out := make([]slack.BlockElement, n)
	for i := range out {
		out[i] = slack.NewButtonBlockElement(fmt.Sprintf("b%d", i), "v", plain("Go"))
	}
	return out
}

func texts(n int) []slack.MixedElement {
	out := make([]slack.MixedElement, n)
	for i := range out {
		out[i] = plain("c")
	}
	return out
}

func TestMessageLimits(t *testing.T) {
	_, api := start(t)
	c := ctx(t)
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name   string
		text   string
		blocks []slack.Block
		want   string
	}{
		{"50 blocks pass", "", sections(50, 10), ""},
		{"51 blocks", "", sections(51, 10), "invalid_blocks"},
		{"section of 3000 passes", "", sections(1, 3000), ""},
		{"section of 3001", "", sections(1, 3001), "invalid_blocks"},
		{"header of 150 passes", "", []slack.Block{slack.NewHeaderBlock(plain(long(150)))}, ""},
		{"header of 151", "", []slack.Block{slack.NewHeaderBlock(plain(long(151)))}, "invalid_blocks"},
		{"mrkdwn header", "", []slack.Block{slack.NewHeaderBlock(slack.NewTextBlockObject(slack.MarkdownType, "h", false, false))}, "invalid_blocks"},
		{"context of 10 passes", "", []slack.Block{slack.NewContextBlock("", texts(10)...)}, ""},
		{"context of 11", "", []slack.Block{slack.NewContextBlock("", texts(11)...)}, "invalid_blocks"},
		{"actions of 25 pass", "", []slack.Block{slack.NewActionBlock("", buttons(25)...)}, ""},
		{"actions of 26", "", []slack.Block{slack.NewActionBlock("", buttons(26)...)}, "invalid_blocks"},
		{"button text of 76", "", []slack.Block{slack.NewActionBlock("", slack.NewButtonBlockElement("a", "v", plain(long(76))))}, "invalid_blocks"},
		{"button value of 2001", "", []slack.Block{slack.NewActionBlock("", slack.NewButtonBlockElement("a", long(2001), plain("Go")))}, "invalid_blocks"},
		{"duplicate action_id", "", []slack.Block{slack.NewActionBlock("", slack.NewButtonBlockElement("a", "1", plain("A")), slack.NewButtonBlockElement("a", "2", plain("B")))}, "invalid_blocks"},
		{"option text of 76", "", []slack.Block{selectBlock(options(2, 76, 5))}, "invalid_blocks"},
		{"option value of 151", "", []slack.Block{selectBlock(options(2, 5, 151))}, "invalid_blocks"},
		{"select of 100 passes", "", []slack.Block{selectBlock(options(100, 5, 5))}, ""},
		{"select of 101", "", []slack.Block{selectBlock(options(101, 5, 5))}, "invalid_blocks"},
		{"radio of 10 passes", "", []slack.Block{slack.NewActionBlock("", slack.NewRadioButtonsBlockElement("r", options(10, 5, 5)...))}, ""},
		{"radio of 11", "", []slack.Block{slack.NewActionBlock("", slack.NewRadioButtonsBlockElement("r", options(11, 5, 5)...))}, "invalid_blocks"},
		{"block_id of 256", "", []slack.Block{slack.NewDividerBlock(), slack.NewSectionBlock(plain("s"), nil, nil, slack.SectionBlockOptionBlockID(long(256)))}, "invalid_blocks"},
		{"action_id of 256", "", []slack.Block{slack.NewActionBlock("", slack.NewButtonBlockElement(long(256), "v", plain("Go")))}, "invalid_blocks"},
		{"duplicate block_id", "", []slack.Block{
			slack.NewSectionBlock(plain("a"), nil, nil, slack.SectionBlockOptionBlockID("same")),
			slack.NewSectionBlock(plain("b"), nil, nil, slack.SectionBlockOptionBlockID("same")),
		}, "invalid_blocks"},
		{"13000 characters of blocks pass", "", sections(5, 2600), ""},
		{"13001 characters of blocks", "", append(sections(5, 2600), section("x")), "msg_blocks_too_long"},
		{"text of 40000 passes", long(40000), nil, ""},
		{"text of 40001", long(40001), nil, "msg_too_long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := []slack.MsgOption{slack.MsgOptionText(tt.text, false)}
			if tt.blocks != nil {
				opts = append(opts, slack.MsgOptionBlocks(tt.blocks...))
			}
			_, _, err := api.PostMessageContext(c, "C1", opts...)
			if got := slackErr(t, err); got != tt.want {
				t.Errorf("error %q, want %q (%v)", got, tt.want, err)
			}
		})
	}
}

func selectBlock(opts []*slack.OptionBlockObject) slack.Block {
	return slack.NewActionBlock("", slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Pick"), "sel", opts...))
}

func TestInvalidBlocksMessages(t *testing.T) {
	_, api := start(t)
	_, _, err := api.PostMessageContext(ctx(t), "C1", slack.MsgOptionBlocks(section("ok"), section(strings.Repeat("x", 3001))))
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != "invalid_blocks" {
		t.Fatalf("error %v", err)
	}
	want := "[ERROR] must be less than 3001 characters [json-pointer:/blocks/1/text/text]"
	if len(se.ResponseMetadata.Messages) != 1 || se.ResponseMetadata.Messages[0] != want {
		t.Errorf("messages %q, want %q", se.ResponseMetadata.Messages, want)
	}
}

func TestViewLimits(t *testing.T) {
	s, api := start(t)
	c := ctx(t)
	long := func(n int) string { return strings.Repeat("x", n) }
	modal := func(title string, blocks []slack.Block) slack.ModalViewRequest {
		return slack.ModalViewRequest{Type: slack.VTModal, Title: plain(title), Blocks: slack.Blocks{BlockSet: blocks}}
	}
	tests := []struct {
		name string
		view slack.ModalViewRequest
		want string
	}{
		{"a valid modal", modal("Review", sections(3, 10)), ""},
		{"100 blocks pass", modal("Review", sections(100, 1)), ""},
		{"101 blocks", modal("Review", sections(101, 1)), "invalid_arguments"},
		{"title of 24 passes", modal(long(24), nil), ""},
		{"title of 25", modal(long(25), nil), "invalid_arguments"},
		{"no title", slack.ModalViewRequest{Type: slack.VTModal}, "invalid_arguments"},
		{"submit of 25", func() slack.ModalViewRequest { v := modal("T", nil); v.Submit = plain(long(25)); return v }(), "invalid_arguments"},
		{"close of 25", func() slack.ModalViewRequest { v := modal("T", nil); v.Close = plain(long(25)); return v }(), "invalid_arguments"},
		{"private_metadata of 3000 passes", func() slack.ModalViewRequest { v := modal("T", nil); v.PrivateMetadata = long(3000); return v }(), ""},
		{"private_metadata of 3001", func() slack.ModalViewRequest { v := modal("T", nil); v.PrivateMetadata = long(3001); return v }(), "invalid_arguments"},
		{"input without submit", modal("T", []slack.Block{slack.NewInputBlock("in", plain("Why"), nil, slack.NewPlainTextInputBlockElement(nil, "why"))}), "invalid_arguments"},
		{"section of 3001 in a modal", modal("T", sections(1, 3001)), "invalid_arguments"},
		{"home type in views.open", slack.ModalViewRequest{Type: slack.VTHomeTab, Title: plain("T")}, "invalid_arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := api.OpenViewContext(c, s.NewTriggerID(), tt.view)
			if got := slackErr(t, err); got != tt.want {
				t.Errorf("error %q, want %q (%v)", got, tt.want, err)
			}
		})
	}
	_, err := api.OpenViewContext(c, s.NewTriggerID(), modal(long(25), nil))
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || len(se.ResponseMetadata.Messages) != 1 ||
		se.ResponseMetadata.Messages[0] != "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]" {
		t.Errorf("messages of a long title: %v %q", err, se.ResponseMetadata.Messages)
	}
	home := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: sections(101, 1)}}
	if _, err := api.PublishViewContext(c, slack.PublishViewContextRequest{UserID: "U1", View: home}); slackErr(t, err) != "invalid_arguments" {
		t.Errorf("101-block Home tab: %v", err)
	}
}
