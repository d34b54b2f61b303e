package slacktest

// Block Kit validation of message and view blocks, their elements and
// options, with Slack's limits and its error texts ("must be less than 3001
// characters [json-pointer:...]").

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Slack's limits the fake enforces.
const (
	MaxMessageBlocks   = 50    // blocks in a message
	MaxViewBlocks      = 100   // blocks in a modal or Home tab
	MaxSectionText     = 3000  // section text
	MaxSectionFields   = 10    // section fields
	MaxFieldText       = 2000  // one section field
	MaxHeaderText      = 150   // header text
	MaxContextElements = 10    // context elements
	MaxActionsElements = 25    // actions elements
	MaxIDLength        = 255   // block_id, action_id, callback_id, external_id
	MaxViewTitle       = 24    // modal title, submit and close
	MaxPrivateMetadata = 3000  // view private_metadata
	MaxBlocksText      = 13000 // all text in one message's blocks (msg_blocks_too_long)
	MaxMessageText     = 40000 // a message's text (msg_too_long)
	MaxButtonText      = 75    // button text
	MaxButtonValue     = 2000  // button value
	MaxOptionText      = 75    // option text
	MaxOptionValue     = 150   // option value
	MaxSelectOptions   = 100   // static_select options
	MaxRadioOptions    = 10    // radio_buttons and checkboxes options
	MaxOverflowOptions = 5     // overflow options
	MaxInputLabel      = 2000  // input label and hint
	MaxMarkdownText    = 12000 // markdown block text
	MaxImageURL        = 3000  // image_url and button url
	maxPlaceholder     = 150   // select and input placeholders
	maxAltText         = 2000  // image alt_text
)

// validator collects the problems found in one blocks array.
type validator struct {
	probs    []string
	blockIDs map[string]bool
}

// failf records a problem at a JSON pointer.
func (v *validator) failf(ptr, format string, args ...any) {
	v.probs = append(v.probs, fmt.Sprintf(format, args...)+" [json-pointer:"+ptr+"]")
}

// tooLong records the problem Slack reports for a string over limit.
func (v *validator) tooLong(ptr string, s string, limit int) bool {
	if utf8.RuneCountInString(s) > limit {
		v.failf(ptr, "must be less than %d characters", limit+1)
		return true
	}
	return false
}

// checkBlocks validates blocks (already decoded) found at ptr, allowing at
// most maxBlocks of them, and gives missing block_ids and action_ids random
// values as Slack does.
func (v *validator) checkBlocks(ptr string, blocks []any, maxBlocks int) {
	if len(blocks) > maxBlocks {
		v.failf(ptr, "no more than %d items allowed", maxBlocks)
	}
	v.blockIDs = map[string]bool{}
	for i, raw := range blocks {
		p := ptr + "/" + strconv.Itoa(i)
		b, ok := raw.(map[string]any)
		if !ok {
			v.failf(p, "must be an object")
			continue
		}
		v.checkBlock(p, b)
	}
}

// checkBlock validates one block.
func (v *validator) checkBlock(p string, b map[string]any) {
	if id, ok := b["block_id"].(string); ok {
		v.tooLong(p+"/block_id", id, MaxIDLength)
		if v.blockIDs[id] {
			v.failf(p+"/block_id", "duplicate block_id %q", id)
		}
		v.blockIDs[id] = true
	} else {
		b["block_id"] = randomID(5)
	}
	typ, _ := b["type"].(string)
	switch typ {
	case "section":
		text, hasText := b["text"].(map[string]any)
		fields, hasFields := b["fields"].([]any)
		if !hasText && !hasFields {
			v.failf(p, "must provide text or fields")
		}
		if hasText {
			v.checkText(p+"/text", text, MaxSectionText, false)
		}
		if hasFields {
			if len(fields) > MaxSectionFields {
				v.failf(p+"/fields", "no more than %d items allowed", MaxSectionFields)
			}
			for i, f := range fields {
				v.checkTextAny(p+"/fields/"+strconv.Itoa(i), f, MaxFieldText, false)
			}
		}
		if acc, ok := b["accessory"].(map[string]any); ok {
			v.checkElement(p+"/accessory", acc, map[string]bool{})
		}
	case "header":
		v.checkTextAny(p+"/text", b["text"], MaxHeaderText, true)
	case "context":
		els, _ := b["elements"].([]any)
		if len(els) == 0 || len(els) > MaxContextElements {
			v.failf(p+"/elements", "must provide between 1 and %d items", MaxContextElements)
		}
		for i, e := range els {
			ep := p + "/elements/" + strconv.Itoa(i)
			em, _ := e.(map[string]any)
			if t, _ := em["type"].(string); t == "image" {
				v.checkElement(ep, em, map[string]bool{})
			} else {
				v.checkTextAny(ep, e, MaxSectionText, false)
			}
		}
	case "actions":
		els, _ := b["elements"].([]any)
		if len(els) == 0 || len(els) > MaxActionsElements {
			v.failf(p+"/elements", "must provide between 1 and %d items", MaxActionsElements)
		}
		seen := map[string]bool{}
		for i, e := range els {
			em, ok := e.(map[string]any)
			if !ok {
				v.failf(p+"/elements/"+strconv.Itoa(i), "must be an object")
				continue
			}
			v.checkElement(p+"/elements/"+strconv.Itoa(i), em, seen)
		}
	case "input":
		v.checkTextAny(p+"/label", b["label"], MaxInputLabel, true)
		if h, ok := b["hint"]; ok {
			v.checkTextAny(p+"/hint", h, MaxInputLabel, true)
		}
		if el, ok := b["element"].(map[string]any); ok {
			v.checkElement(p+"/element", el, map[string]bool{})
		} else {
			v.failf(p+"/element", "must provide an object")
		}
	case "image":
		v.checkImage(p, b)
	case "markdown":
		t, _ := b["text"].(string)
		v.tooLong(p+"/text", t, MaxMarkdownText)
	case "divider", "rich_text", "file", "video", "call", "table":
	case "":
		v.failf(p+"/type", "must provide a string")
	default:
		v.failf(p+"/type", "unsupported type %q", typ)
	}
}

// checkTextAny validates a text object given as any value.
func (v *validator) checkTextAny(p string, raw any, limit int, plainOnly bool) {
	t, ok := raw.(map[string]any)
	if !ok {
		v.failf(p, "must provide an object")
		return
	}
	v.checkText(p, t, limit, plainOnly)
}

// checkText validates a text object: its type and its length.
func (v *validator) checkText(p string, t map[string]any, limit int, plainOnly bool) {
	typ, _ := t["type"].(string)
	switch {
	case typ != "plain_text" && typ != "mrkdwn":
		v.failf(p+"/type", "must be one of plain_text, mrkdwn")
	case plainOnly && typ != "plain_text":
		v.failf(p+"/type", "must be plain_text")
	}
	s, ok := t["text"].(string)
	if !ok || s == "" {
		v.failf(p+"/text", "must be more than 0 characters")
		return
	}
	v.tooLong(p+"/text", s, limit)
}

// checkImage validates an image block or element.
func (v *validator) checkImage(p string, b map[string]any) {
	u, _ := b["image_url"].(string)
	_, slackFile := b["slack_file"]
	if u == "" && !slackFile {
		v.failf(p+"/image_url", "must provide a string")
	}
	v.tooLong(p+"/image_url", u, MaxImageURL)
	alt, _ := b["alt_text"].(string)
	if alt == "" {
		v.failf(p+"/alt_text", "must be more than 0 characters")
	}
	v.tooLong(p+"/alt_text", alt, maxAltText)
}

// elementOptions is how many options an element may list; zero means the
// element takes none.
var elementOptions = map[string]int{
	"static_select":       MaxSelectOptions,
	"multi_static_select": MaxSelectOptions,
	"radio_buttons":       MaxRadioOptions,
	"checkboxes":          MaxRadioOptions,
	"overflow":            MaxOverflowOptions,
}

// plainElements are the element types checked only for their action_id
// and placeholder.
var plainElements = map[string]bool{
	"users_select": true, "multi_users_select": true,
	"conversations_select": true, "multi_conversations_select": true,
	"channels_select": true, "multi_channels_select": true,
	"external_select": true, "multi_external_select": true,
	"datepicker": true, "timepicker": true, "datetimepicker": true,
	"plain_text_input": true, "email_text_input": true, "url_text_input": true,
	"number_input": true, "rich_text_input": true, "file_input": true,
	"workflow_button": true,
}

// checkElement validates one interactive element; seen holds the
// action_ids already used in the same block, which must be unique.
func (v *validator) checkElement(p string, el map[string]any, seen map[string]bool) {
	typ, _ := el["type"].(string)
	if typ == "image" {
		v.checkImage(p, el)
		return
	}
	if id, ok := el["action_id"].(string); ok {
		v.tooLong(p+"/action_id", id, MaxIDLength)
		if seen[id] {
			v.failf(p+"/action_id", "duplicate action_id %q", id)
		}
		seen[id] = true
	} else {
		el["action_id"] = randomID(4)
	}
	if ph, ok := el["placeholder"]; ok {
		v.checkTextAny(p+"/placeholder", ph, maxPlaceholder, true)
	}
	switch {
	case typ == "button":
		v.checkTextAny(p+"/text", el["text"], MaxButtonText, true)
		if val, ok := el["value"].(string); ok {
			v.tooLong(p+"/value", val, MaxButtonValue)
		}
		if u, ok := el["url"].(string); ok {
			v.tooLong(p+"/url", u, MaxImageURL)
		}
		if st, ok := el["style"].(string); ok && st != "primary" && st != "danger" {
			v.failf(p+"/style", "must be one of primary, danger")
		}
	case elementOptions[typ] > 0:
		v.checkOptionList(p, typ, el)
	case plainElements[typ]:
	case typ == "":
		v.failf(p+"/type", "must provide a string")
	default:
		v.failf(p+"/type", "unsupported type %q", typ)
	}
}

// checkOptionList validates the options (or option_groups) of a select,
// radio_buttons, checkboxes or overflow element.
func (v *validator) checkOptionList(p, typ string, el map[string]any) {
	limit := elementOptions[typ]
	opts, hasOpts := el["options"].([]any)
	groups, hasGroups := el["option_groups"].([]any)
	switch {
	case hasGroups && (typ == "static_select" || typ == "multi_static_select"):
		if len(groups) > limit {
			v.failf(p+"/option_groups", "no more than %d items allowed", limit)
		}
		for i, g := range groups {
			gp := p + "/option_groups/" + strconv.Itoa(i)
			gm, _ := g.(map[string]any)
			v.checkTextAny(gp+"/label", gm["label"], MaxOptionText, true)
			gopts, _ := gm["options"].([]any)
			if len(gopts) > limit {
				v.failf(gp+"/options", "no more than %d items allowed", limit)
			}
			v.checkOptions(gp+"/options", gopts, false)
		}
	case !hasOpts || len(opts) == 0:
		v.failf(p+"/options", "must provide at least 1 item")
	default:
		if len(opts) > limit {
			v.failf(p+"/options", "no more than %d items allowed", limit)
		}
		v.checkOptions(p+"/options", opts, typ == "overflow" || typ == "static_select" || typ == "multi_static_select")
	}
	if init, ok := el["initial_option"]; ok {
		v.checkOption(p+"/initial_option", init, false)
	}
}

// checkOptions validates a list of option objects.
func (v *validator) checkOptions(p string, opts []any, plainOnly bool) {
	for i, o := range opts {
		v.checkOption(p+"/"+strconv.Itoa(i), o, plainOnly)
	}
}

// checkOption validates an option object: text up to MaxOptionText, value
// up to MaxOptionValue. Select and overflow options must be plain_text.
func (v *validator) checkOption(p string, o any, plainOnly bool) {
	om, ok := o.(map[string]any)
	if !ok {
		v.failf(p, "must be an object")
		return
	}
	v.checkTextAny(p+"/text", om["text"], MaxOptionText, plainOnly)
	if d, ok := om["description"]; ok {
		v.checkTextAny(p+"/description", d, MaxOptionText, plainOnly)
	}
	val, ok := om["value"].(string)
	if !ok || val == "" {
		v.failf(p+"/value", "must be more than 0 characters")
		return
	}
	v.tooLong(p+"/value", val, MaxOptionValue)
}

// blocksTextLen is the number of characters in every text object under v,
// what Slack's msg_blocks_too_long counts.
func blocksTextLen(v any) int {
	n := 0
	switch x := v.(type) {
	case map[string]any:
		if t, _ := x["type"].(string); t == "plain_text" || t == "mrkdwn" {
			if s, ok := x["text"].(string); ok {
				n += utf8.RuneCountInString(s)
			}
		}
		for _, c := range x {
			n += blocksTextLen(c)
		}
	case []any:
		for _, c := range x {
			n += blocksTextLen(c)
		}
	}
	return n
}

// randomID returns n random alphanumerics, the shape of the block_ids and
// action_ids Slack assigns.
func randomID(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	h := randomHex(n)
	out := make([]byte, n)
	for i := range n {
		d, _ := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		out[i] = alphabet[int(d)%len(alphabet)]
	}
	return string(out)
}
