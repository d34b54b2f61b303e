package blocks

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// Validate checks blocks against Slack's limits for surface: block count,
// block_id length and uniqueness, section/header/context/actions/input
// limits, button, option and select limits, and, for a message, the total
// text. It works on the JSON Slack would receive, so a block built by hand
// or by another package is checked the same way as ours. It returns nil
// when every limit holds, else every broken limit joined, each a
// *LimitError that names the block and the limit.
func Validate(surface Surface, blks []slack.Block) error {
	v := &validator{ids: map[string]bool{}}
	if max := surface.maxBlocks(); len(blks) > max {
		v.add(&LimitError{Block: -1, Limit: LimitBlocks, Max: max, Got: len(blks), Detail: surface.String()})
	}
	total := 0
	for i, b := range blks {
		m, err := asJSON(b)
		if err != nil {
			return fmt.Errorf("blocks: validate block %d: %w", i, err)
		}
		v.block(i, m)
		total += textTotal(m)
	}
	if surface == Message && total > maxMessageText {
		v.add(&LimitError{Block: -1, Limit: LimitMessageText, Max: maxMessageText, Got: total})
	}
	return errors.Join(v.errs...)
}

// ValidateModal checks a modal's title, submit, close, callback_id and
// private_metadata and then its blocks with Validate. It returns nil when
// every limit holds, else the broken limits joined.
func ValidateModal(view slack.ModalViewRequest) error {
	var errs []error
	text := func(t *slack.TextBlockObject, limit string, required bool) {
		if t == nil {
			if required {
				errs = append(errs, &LimitError{Block: -1, Limit: limit, Detail: "missing"})
			}
			return
		}
		if n := utf8.RuneCountInString(t.Text); n > maxModalText || n == 0 {
			errs = append(errs, &LimitError{Block: -1, Limit: limit, Max: maxModalText, Got: n})
		}
	}
	text(view.Title, LimitModalTitle, true)
	text(view.Submit, LimitModalSubmit, false)
	text(view.Close, LimitModalClose, false)
	if view.Submit == nil && hasInput(view.Blocks.BlockSet) {
		errs = append(errs, &LimitError{Block: -1, Limit: LimitModalSubmitNeed})
	}
	if n := utf8.RuneCountInString(view.PrivateMetadata); n > maxPrivateMetadata {
		errs = append(errs, &LimitError{Block: -1, Limit: LimitMetadata, Max: maxPrivateMetadata, Got: n})
	}
	if n := utf8.RuneCountInString(view.CallbackID); n > maxID {
		errs = append(errs, &LimitError{Block: -1, Limit: LimitCallbackID, Max: maxID, Got: n})
	}
	errs = append(errs, Validate(Modal, view.Blocks.BlockSet))
	return errors.Join(errs...)
}

// ValidateHome checks an App Home view's private_metadata and its blocks
// with Validate. It returns nil when every limit holds.
func ValidateHome(view slack.HomeTabViewRequest) error {
	var errs []error
	if n := utf8.RuneCountInString(view.PrivateMetadata); n > maxPrivateMetadata {
		errs = append(errs, &LimitError{Block: -1, Limit: LimitMetadata, Max: maxPrivateMetadata, Got: n})
	}
	errs = append(errs, Validate(HomeTab, view.Blocks.BlockSet))
	return errors.Join(errs...)
}

func hasInput(blks []slack.Block) bool {
	for _, b := range blks {
		if b != nil && b.BlockType() == slack.MBTInput {
			return true
		}
	}
	return false
}

// asJSON returns b as Slack would receive it.
func asJSON(b any) (map[string]any, error) {
	raw, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("nil block")
	}
	return m, nil
}

// textTotal sums the characters of every text object under v.
func textTotal(v any) int {
	switch x := v.(type) {
	case map[string]any:
		n := 0
		if t, ok := x["type"].(string); ok && (t == "plain_text" || t == "mrkdwn") {
			if s, ok := x["text"].(string); ok {
				n += utf8.RuneCountInString(s)
			}
		}
		for _, child := range x {
			n += textTotal(child)
		}
		return n
	case []any:
		n := 0
		for _, child := range x {
			n += textTotal(child)
		}
		return n
	}
	return 0
}

// validator collects the broken limits of one surface.
type validator struct {
	errs []error
	ids  map[string]bool
	// the block being checked
	index int
	id    string
}

func (v *validator) add(e *LimitError) { v.errs = append(v.errs, e) }

// fail records a broken limit in the current block.
func (v *validator) fail(where, limit string, max, got int) {
	v.add(&LimitError{Block: v.index, BlockID: v.id, Where: where, Limit: limit, Max: max, Got: got})
}

// over records limit when got exceeds max.
func (v *validator) over(where, limit string, max, got int) {
	if got > max {
		v.fail(where, limit, max, got)
	}
}

func (v *validator) block(i int, m map[string]any) {
	v.index, v.id = i, str(m["block_id"])
	if v.id != "" {
		v.over("", LimitBlockID, maxID, utf8.RuneCountInString(v.id))
		if v.ids[v.id] {
			v.add(&LimitError{Block: i, BlockID: v.id, Limit: LimitBlockIDUnique, Detail: v.id})
		}
		v.ids[v.id] = true
	}
	actionIDs := map[string]bool{}
	switch str(m["type"]) {
	case "section":
		fields := list(m["fields"])
		v.text("text", m["text"], LimitSectionText, maxSectionText, len(fields) == 0)
		v.over("fields", LimitFields, maxFields, len(fields))
		for j, f := range fields {
			v.text(fmt.Sprintf("field %d", j), f, LimitFieldText, maxFieldText, true)
		}
		if acc, ok := m["accessory"].(map[string]any); ok {
			v.element("accessory", acc, actionIDs)
		}
	case "header":
		v.text("text", m["text"], LimitHeaderText, maxHeaderText, true)
	case "context":
		elems := list(m["elements"])
		v.over("elements", LimitContextElements, maxContextElements, len(elems))
		for j, e := range elems {
			if em, ok := e.(map[string]any); ok && str(em["type"]) != "image" {
				v.text(fmt.Sprintf("element %d", j), em, LimitContextText, maxContextText, true)
			}
		}
	case "actions":
		elems := list(m["elements"])
		v.over("elements", LimitActionsElements, maxActionsElements, len(elems))
		for j, e := range elems {
			if em, ok := e.(map[string]any); ok {
				v.element(fmt.Sprintf("element %d", j), em, actionIDs)
			}
		}
	case "input":
		v.text("label", m["label"], LimitInputLabel, maxInputLabel, true)
		v.text("hint", m["hint"], LimitInputHint, maxInputHint, false)
		if el, ok := m["element"].(map[string]any); ok {
			v.element("element", el, actionIDs)
		}
	}
}

// text checks one text object: present when required, not empty, at most
// max characters.
func (v *validator) text(where string, t any, limit string, max int, required bool) {
	m, ok := t.(map[string]any)
	if !ok {
		if required {
			v.fail(where, LimitEmptyText, 0, 0)
		}
		return
	}
	n := utf8.RuneCountInString(str(m["text"]))
	if n == 0 {
		v.fail(where, LimitEmptyText, 0, 0)
		return
	}
	v.over(where, limit, max, n)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// element checks one interactive element: its action_id, its texts, its
// options and its confirm dialog. actionIDs holds the ids already used in
// the same block, where Slack wants them unique.
func (v *validator) element(where string, el map[string]any, actionIDs map[string]bool) {
	if id := str(el["action_id"]); id != "" {
		v.over(where, LimitActionID, maxID, utf8.RuneCountInString(id))
		if actionIDs[id] {
			v.add(&LimitError{Block: v.index, BlockID: v.id, Where: where, Limit: LimitActionIDUnique, Detail: id})
		}
		actionIDs[id] = true
	}
	v.text(where+" placeholder", el["placeholder"], LimitPlaceholder, maxPlaceholder, false)
	if c, ok := el["confirm"].(map[string]any); ok {
		v.confirm(where+" confirm", c)
	}
	switch str(el["type"]) {
	case "button":
		v.text(where, el["text"], LimitButtonText, maxButtonText, true)
		v.over(where, LimitButtonValue, maxButtonValue, utf8.RuneCountInString(str(el["value"])))
		v.over(where, LimitURL, maxURL, utf8.RuneCountInString(str(el["url"])))
	case "static_select", "multi_static_select":
		opts := list(el["options"])
		for _, g := range list(el["option_groups"]) {
			if gm, ok := g.(map[string]any); ok {
				opts = append(opts, list(gm["options"])...)
			}
		}
		v.over(where, LimitSelectOptions, maxStaticOptions, len(opts))
		v.options(where, opts)
		v.initial(where, el, opts)
	case "radio_buttons", "checkboxes":
		opts := list(el["options"])
		v.over(where, LimitRadioOptions, maxRadioOptions, len(opts))
		v.options(where, opts)
		v.initial(where, el, opts)
	case "overflow":
		opts := list(el["options"])
		v.over(where, LimitOverflowOptions, maxOverflowOptions, len(opts))
		v.options(where, opts)
	case "plain_text_input":
		max := maxTextInput
		if ml, ok := el["max_length"].(float64); ok {
			v.over(where+" max_length", LimitTextInput, maxTextInput, int(ml))
			if int(ml) > 0 && int(ml) < max {
				max = int(ml)
			}
		}
		v.over(where+" initial_value", LimitTextInput, max, utf8.RuneCountInString(str(el["initial_value"])))
	}
}

// options checks each option's text, value and description.
func (v *validator) options(where string, opts []any) {
	for j, o := range opts {
		om, ok := o.(map[string]any)
		if !ok {
			continue
		}
		w := fmt.Sprintf("%s option %d", where, j)
		v.text(w, om["text"], LimitOptionText, maxOptionText, true)
		v.over(w, LimitOptionValue, maxOptionValue, utf8.RuneCountInString(str(om["value"])))
		v.text(w+" description", om["description"], LimitOptionDesc, maxOptionDesc, false)
	}
}

// initial checks that initial_option (and initial_options) are among the
// element's options, which Slack requires to the letter.
func (v *validator) initial(where string, el map[string]any, opts []any) {
	var initial []any
	if io, ok := el["initial_option"]; ok {
		initial = append(initial, io)
	}
	initial = append(initial, list(el["initial_options"])...)
	for _, io := range initial {
		want, ok := io.(map[string]any)
		if !ok {
			continue
		}
		found := false
		for _, o := range opts {
			om, ok := o.(map[string]any)
			if ok && str(om["value"]) == str(want["value"]) && textOf(om["text"]) == textOf(want["text"]) {
				found = true
				break
			}
		}
		if !found {
			v.add(&LimitError{Block: v.index, BlockID: v.id, Where: where, Limit: LimitInitialOption, Detail: str(want["value"])})
		}
	}
}

// confirm checks a confirm dialog's title, text and buttons.
func (v *validator) confirm(where string, c map[string]any) {
	v.text(where+" title", c["title"], LimitConfirm, maxConfirmTitle, true)
	v.text(where+" text", c["text"], LimitConfirm, maxConfirmText, true)
	v.text(where+" confirm", c["confirm"], LimitConfirm, maxConfirmButton, true)
	v.text(where+" deny", c["deny"], LimitConfirm, maxConfirmButton, false)
}

func textOf(t any) string {
	m, _ := t.(map[string]any)
	return str(m["text"])
}
