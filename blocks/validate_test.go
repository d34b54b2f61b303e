package blocks

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

// Small builders for hand-made, mostly valid blocks.

func sec(text string) *slack.SectionBlock { return slack.NewSectionBlock(mrkdwn(text), nil, nil) }

func secWith(el slack.BlockElement) *slack.SectionBlock {
	return slack.NewSectionBlock(mrkdwn("row"), nil, slack.NewAccessory(el))
}

func btn(id, text string) *slack.ButtonBlockElement {
	return slack.NewButtonBlockElement(id, "v", plain(text, 1000))
}

func rawText(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func opts(n, textLen, valueLen int) []*slack.OptionBlockObject {
	out := make([]*slack.OptionBlockObject, n)
	for i := range out {
		id := fmt.Sprint(i)
		out[i] = slack.NewOptionBlockObject(id+strings.Repeat("v", max(valueLen-len(id), 0)),
			rawText(id+strings.Repeat("t", max(textLen-len(id), 0))), nil)
	}
	return out
}

func repeat(n int, f func(i int) slack.Block) []slack.Block {
	out := make([]slack.Block, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func one(b slack.Block) []slack.Block { return []slack.Block{b} }

// limitsOf lists the Limit of every *LimitError joined in err.
func limitsOf(err error) []string {
	if err == nil {
		return nil
	}
	var le *LimitError
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range joined.Unwrap() {
			out = append(out, limitsOf(e)...)
		}
		return out
	}
	if errors.As(err, &le) {
		return []string{le.Limit}
	}
	return []string{"not a LimitError: " + err.Error()}
}

func TestValidateEachLimit(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name    string
		surface Surface
		blocks  []slack.Block
		want    string // the one limit broken; "" for valid
	}{
		{"50 blocks in a message", Message, repeat(50, func(int) slack.Block { return slack.NewDividerBlock() }), ""},
		{"51 blocks in a message", Message, repeat(51, func(int) slack.Block { return slack.NewDividerBlock() }), LimitBlocks},
		{"100 blocks in a home tab", HomeTab, repeat(100, func(int) slack.Block { return slack.NewDividerBlock() }), ""},
		{"101 blocks in a modal", Modal, repeat(101, func(int) slack.Block { return slack.NewDividerBlock() }), LimitBlocks},
		{"message text over 12000", Message, repeat(5, func(int) slack.Block { return sec(long(2900)) }), LimitMessageText},
		{"same text in a modal", Modal, repeat(5, func(int) slack.Block { return sec(long(2900)) }), ""},
		{"block_id 256", Message, one(slack.NewSectionBlock(mrkdwn("a"), nil, nil, slack.SectionBlockOptionBlockID(long(256)))), LimitBlockID},
		{"block_id repeated", Message, repeat(2, func(int) slack.Block {
			return slack.NewSectionBlock(mrkdwn("a"), nil, nil, slack.SectionBlockOptionBlockID("case:1"))
		}), LimitBlockIDUnique},
		{"action_id 256", Message, one(slack.NewActionBlock("a", btn(long(256), "ok"))), LimitActionID},
		{"action_id repeated in a block", Message, one(slack.NewActionBlock("a", btn("x", "ok"), btn("x", "ok"))), LimitActionIDUnique},
		{"action_id repeated across blocks", Message, []slack.Block{slack.NewActionBlock("a", btn("x", "ok")), slack.NewActionBlock("b", btn("x", "ok"))}, ""},
		{"empty section text", Message, one(sec("")), LimitEmptyText},
		{"section text 3000 multibyte", Message, one(sec(strings.Repeat("é", 3000))), ""},
		{"section text 3001", Message, one(sec(long(3001))), LimitSectionText},
		{"11 fields", Message, one(slack.NewSectionBlock(nil, []*slack.TextBlockObject{
			mrkdwn("1"), mrkdwn("2"), mrkdwn("3"), mrkdwn("4"), mrkdwn("5"), mrkdwn("6"),
			mrkdwn("7"), mrkdwn("8"), mrkdwn("9"), mrkdwn("10"), mrkdwn("11")}, nil)), LimitFields},
		{"field 2001", Message, one(slack.NewSectionBlock(nil, []*slack.TextBlockObject{mrkdwn(long(2001))}, nil)), LimitFieldText},
		{"header 151", Message, one(slack.NewHeaderBlock(rawText(long(151)))), LimitHeaderText},
		{"11 context elements", Message, one(slack.NewContextBlock("", mrkdwn("1"), mrkdwn("2"), mrkdwn("3"), mrkdwn("4"),
			mrkdwn("5"), mrkdwn("6"), mrkdwn("7"), mrkdwn("8"), mrkdwn("9"), mrkdwn("10"), mrkdwn("11"))), LimitContextElements},
		{"context text 3001", Message, one(slack.NewContextBlock("", mrkdwn(long(3001)))), LimitContextText},
		{"26 buttons", Message, one(slack.NewActionBlock("a", func() []slack.BlockElement {
			var els []slack.BlockElement
			for i := 0; i < 26; i++ {
				els = append(els, btn(fmt.Sprint("b", i), "ok"))
			}
			return els
		}()...)), LimitActionsElements},
		{"button text 76", Message, one(slack.NewActionBlock("a", btn("b", long(76)))), LimitButtonText},
		{"button value 2001", Message, one(slack.NewActionBlock("a", slack.NewButtonBlockElement("b", long(2001), rawText("ok")))), LimitButtonValue},
		{"button url 3001", Message, one(slack.NewActionBlock("a", btn("b", "ok").WithURL("https://x/"+long(2991)))), LimitURL},
		{"option text 76", Message, one(secWith(slack.NewRadioButtonsBlockElement("r", opts(1, 76, 5)...))), LimitOptionText},
		{"option value 151", Message, one(secWith(slack.NewRadioButtonsBlockElement("r", opts(1, 5, 151)...))), LimitOptionValue},
		{"option description 76", Message, one(secWith(slack.NewRadioButtonsBlockElement("r",
			slack.NewOptionBlockObject("v", rawText("t"), rawText(long(76)))))), LimitOptionDesc},
		{"101 select options", Modal, one(slack.NewInputBlock("i", rawText("l"), nil,
			slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, nil, "s", opts(101, 5, 5)...))), LimitSelectOptions},
		{"100 select options", Modal, one(slack.NewInputBlock("i", rawText("l"), nil,
			slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, nil, "s", opts(100, 5, 5)...))), ""},
		{"11 radio options", Message, one(secWith(slack.NewRadioButtonsBlockElement("r", opts(11, 5, 5)...))), LimitRadioOptions},
		{"6 overflow options", Message, one(secWith(slack.NewOverflowBlockElement("o", opts(6, 5, 5)...))), LimitOverflowOptions},
		{"initial option not offered", Message, one(secWith(func() slack.BlockElement {
			r := slack.NewRadioButtonsBlockElement("r", opts(2, 5, 5)...)
			r.InitialOption = slack.NewOptionBlockObject("nope", rawText("nope"), nil)
			return r
		}())), LimitInitialOption},
		{"input label 2001", Modal, one(slack.NewInputBlock("i", rawText(long(2001)), nil, slack.NewDatePickerBlockElement("d"))), LimitInputLabel},
		{"input hint 2001", Modal, one(slack.NewInputBlock("i", rawText("l"), rawText(long(2001)), slack.NewDatePickerBlockElement("d"))), LimitInputHint},
		{"placeholder 151", Modal, one(slack.NewInputBlock("i", rawText("l"), nil,
			slack.NewPlainTextInputBlockElement(rawText(long(151)), "p"))), LimitPlaceholder},
		{"text input max_length 3001", Modal, one(slack.NewInputBlock("i", rawText("l"), nil,
			slack.NewPlainTextInputBlockElement(nil, "p").WithMaxLength(3001))), LimitTextInput},
		{"initial value over max_length", Message, one(slack.NewInputBlock("i", rawText("l"), nil,
			slack.NewPlainTextInputBlockElement(nil, "p").WithMaxLength(10).WithInitialValue(long(11)))), LimitTextInput},
		{"confirm title 101", Message, one(slack.NewActionBlock("a", btn("b", "ok").WithConfirm(
			slack.NewConfirmationBlockObject(rawText(long(101)), rawText("t"), rawText("y"), rawText("n"))))), LimitConfirm},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.surface, tc.blocks)
			got := limitsOf(err)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if !reflect.DeepEqual(got, []string{tc.want}) {
				t.Fatalf("limits broken %q, want exactly [%q]; error: %v", got, tc.want, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name the limit %q", err, tc.want)
			}
			var le *LimitError
			if errors.As(err, &le) && le.Block >= 0 && !strings.Contains(err.Error(), fmt.Sprintf("block %d", le.Block)) {
				t.Errorf("error %q does not name the block", err)
			}
		})
	}
}

func TestValidateModalAndHome(t *testing.T) {
	valid := func() slack.ModalViewRequest {
		return DelegateModalView(DelegateModal{Member: alice, Form: ReviewerFormRef(1, "00u1", 1)})
	}
	tests := []struct {
		name   string
		modify func(*slack.ModalViewRequest)
		want   string
	}{
		{"valid", func(*slack.ModalViewRequest) {}, ""},
		{"title 25", func(v *slack.ModalViewRequest) { v.Title = rawText(strings.Repeat("t", 25)) }, LimitModalTitle},
		{"no title", func(v *slack.ModalViewRequest) { v.Title = nil }, LimitModalTitle},
		{"submit 25", func(v *slack.ModalViewRequest) { v.Submit = rawText(strings.Repeat("s", 25)) }, LimitModalSubmit},
		{"close 25", func(v *slack.ModalViewRequest) { v.Close = rawText(strings.Repeat("c", 25)) }, LimitModalClose},
		{"inputs without submit", func(v *slack.ModalViewRequest) { v.Submit = nil }, LimitModalSubmitNeed},
		{"private_metadata 3001", func(v *slack.ModalViewRequest) { v.PrivateMetadata = strings.Repeat("m", 3001) }, LimitMetadata},
		{"callback_id 256", func(v *slack.ModalViewRequest) { v.CallbackID = strings.Repeat("c", 256) }, LimitCallbackID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := valid()
			tc.modify(&v)
			err := ValidateModal(v)
			got := limitsOf(err)
			if tc.want == "" && err != nil || tc.want != "" && !reflect.DeepEqual(got, []string{tc.want}) {
				t.Fatalf("limits broken %q, want [%q]; error: %v", got, tc.want, err)
			}
		})
	}
	t.Run("home private_metadata 3001", func(t *testing.T) {
		h := HomeView(Home{})
		h.PrivateMetadata = strings.Repeat("m", 3001)
		if got := limitsOf(ValidateHome(h)); !reflect.DeepEqual(got, []string{LimitMetadata}) {
			t.Errorf("limits broken %q, want [%q]", got, LimitMetadata)
		}
	})
}

func TestValidateReportsEveryBrokenLimit(t *testing.T) {
	blks := []slack.Block{sec(strings.Repeat("x", 3001)), slack.NewHeaderBlock(rawText(strings.Repeat("h", 151)))}
	got := limitsOf(Validate(Message, blks))
	want := []string{LimitSectionText, LimitHeaderText}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("limits %q, want %q", got, want)
	}
}

func TestLimitErrorText(t *testing.T) {
	tests := []struct {
		name string
		err  LimitError
		want string
	}{
		{"block with id", LimitError{Block: 3, BlockID: "case:42", Where: "text", Limit: LimitSectionText, Max: 3000, Got: 3012},
			"blocks: block 3 (case:42) text: section text 3012 > limit 3000"},
		{"surface", LimitError{Block: -1, Limit: LimitBlocks, Max: 50, Got: 51, Detail: "message"},
			"blocks: surface: blocks per surface 51 > limit 50: message"},
		{"rule", LimitError{Block: 1, BlockID: "x", Limit: LimitBlockIDUnique, Detail: "x"},
			"blocks: block 1 (x): block_id unique: x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}
