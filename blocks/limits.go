package blocks

import (
	"fmt"
)

// Slack's Block Kit limits, in characters (Unicode code points) unless
// named otherwise. slack-go checks almost none of them; Slack rejects a
// whole message or view that breaks any one.
const (
	maxMessageBlocks   = 50
	maxViewBlocks      = 100
	maxSectionText     = 3000
	maxFields          = 10
	maxFieldText       = 2000
	maxHeaderText      = 150
	maxContextElements = 10
	maxContextText     = 3000
	maxActionsElements = 25
	maxButtonText      = 75
	maxButtonValue     = 2000
	maxURL             = 3000
	maxOptionText      = 75
	maxOptionValue     = 150
	maxOptionDesc      = 75
	maxStaticOptions   = 100
	maxRadioOptions    = 10
	maxOverflowOptions = 5
	maxID              = 255
	maxModalText       = 24
	maxPrivateMetadata = 3000
	maxInputLabel      = 2000
	maxInputHint       = 2000
	maxPlaceholder     = 150
	maxTextInput       = 3000
	maxConfirmTitle    = 100
	maxConfirmText     = 300
	maxConfirmButton   = 30
	// maxMessageText is the total text of a message's blocks. Slack answers
	// msg_blocks_too_long at around 13,000 characters; the margin covers
	// how Slack counts (which it does not document).
	maxMessageText = 12000
	// maxLinkURL bounds a URL put inside a link; longer ones are dropped and
	// the label shown unlinked, so one odd URL cannot crowd out the rows.
	maxLinkURL = 300
)

// Limit names, as LimitError.Limit reports them.
const (
	LimitBlocks          = "blocks per surface"
	LimitMessageText     = "total text per message"
	LimitBlockID         = "block_id length"
	LimitBlockIDUnique   = "block_id unique"
	LimitActionID        = "action_id length"
	LimitActionIDUnique  = "action_id unique in block"
	LimitEmptyText       = "text not empty"
	LimitSectionText     = "section text"
	LimitFields          = "section fields count"
	LimitFieldText       = "section field text"
	LimitHeaderText      = "header text"
	LimitContextElements = "context elements"
	LimitContextText     = "context text"
	LimitActionsElements = "actions elements"
	LimitButtonText      = "button text"
	LimitButtonValue     = "button value"
	LimitURL             = "url length"
	LimitOptionText      = "option text"
	LimitOptionValue     = "option value"
	LimitOptionDesc      = "option description"
	LimitSelectOptions   = "static_select options"
	LimitRadioOptions    = "radio_buttons options"
	LimitOverflowOptions = "overflow options"
	LimitInitialOption   = "initial_option among options"
	LimitInputLabel      = "input label"
	LimitInputHint       = "input hint"
	LimitPlaceholder     = "placeholder text"
	LimitTextInput       = "plain_text_input length"
	LimitConfirm         = "confirm dialog text"
	LimitModalTitle      = "modal title"
	LimitModalSubmit     = "modal submit"
	LimitModalClose      = "modal close"
	LimitModalSubmitNeed = "modal submit required with inputs"
	LimitMetadata        = "private_metadata"
	LimitCallbackID      = "callback_id length"
)

// Surface is where blocks are shown; the block limit depends on it.
type Surface int

// Surfaces that Validate knows.
const (
	// Message is a chat message: 50 blocks and about 12,000 characters.
	Message Surface = iota + 1
	// Modal is a modal view: 100 blocks.
	Modal
	// HomeTab is the App Home tab: 100 blocks. (Not "Home", which names
	// the App Home's view model.)
	HomeTab
)

// String returns the surface's name, as errors show it.
func (s Surface) String() string {
	switch s {
	case Message:
		return "message"
	case Modal:
		return "modal"
	case HomeTab:
		return "home tab"
	}
	return fmt.Sprintf("surface(%d)", int(s))
}

// maxBlocks returns how many blocks s holds.
func (s Surface) maxBlocks() int {
	if s == Message {
		return maxMessageBlocks
	}
	return maxViewBlocks
}

// LimitError is one broken Slack limit: which block, which limit, how far.
type LimitError struct {
	// Block is the 0-based index of the block, or -1 for the whole surface.
	Block int
	// BlockID is the block's block_id, "" when it has none.
	BlockID string
	// Where names the part of the block, e.g. "accessory" or "element 2".
	Where string
	// Limit is one of the Limit* names.
	Limit string
	// Max is the limit and Got what was found; both 0 for rules that are not
	// counts (uniqueness, presence).
	Max, Got int
	// Detail adds the offending value where it helps (a repeated id).
	Detail string
}

// Error reads like `block 3 (case:42) accessory: section text 3012 > limit 3000`.
func (e *LimitError) Error() string {
	loc := "surface"
	if e.Block >= 0 {
		loc = fmt.Sprintf("block %d", e.Block)
		if e.BlockID != "" {
			loc += fmt.Sprintf(" (%s)", e.BlockID)
		}
	}
	if e.Where != "" {
		loc += " " + e.Where
	}
	msg := fmt.Sprintf("blocks: %s: %s", loc, e.Limit)
	if e.Max > 0 || e.Got > 0 {
		msg += fmt.Sprintf(" %d > limit %d", e.Got, e.Max)
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}
