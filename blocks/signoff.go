package blocks

import (
	"fmt"
	"time"

	"github.com/slack-go/slack"
)

// Sign-off states as SignOff.State carries them.
const (
	SignOffOpen     = "open"     // awaiting the owner: buttons shown
	SignOffSigned   = "signed"   // signed off
	SignOffDeclined = "declined" // the owner declined, for a reason
)

// SignOff is the control owner's sign-off message: what the review did,
// what needs their attention, and the evidence digest they sign.
type SignOff struct {
	CampaignID int64
	Campaign   string
	Owner      Person
	// Summary is one sentence of outcomes and removals (data escaped here).
	Summary    string
	Exceptions []string
	ManualOpen []string
	// Digest is the evidence digest the sign-off binds to.
	Digest string
	State  string
	// By, At and Reason say who signed or declined, when and why.
	By     Person
	At     time.Time
	Reason string
}

// signOffLine bounds each listed exception or manual item.
const signOffLine = 250

// SignOffBlocks returns the sign-off message sent to a campaign's owner
// once its removals are done and read back: the summary, the exceptions,
// the manual items still open and the evidence digest, with "Sign off"
// and "Decline" buttons while it awaits them. Once signed or declined it
// says who did, when, and why. Lists show their first items.
func SignOffBlocks(s SignOff) []slack.Block {
	title := "Sign off: " + s.Campaign
	blks := []slack.Block{header(title),
		section(fmt.Sprintf("Campaign #%d is finished: every approved removal was made and read back. As its control owner, %s, please review the outcome and sign off its evidence.",
			s.CampaignID, mention(s.Owner, 60))),
		section("*Summary*\n" + escTrunc(s.Summary, 1500)),
	}
	if len(s.Exceptions) > 0 {
		blks = append(blks, section(":warning: *Exceptions*\n"+signOffBullets(s.Exceptions)))
	} else {
		blks = append(blks, section(":white_check_mark: *No exceptions*: every removal was done as planned."))
	}
	if len(s.ManualOpen) > 0 {
		blks = append(blks, section(":wrench: *Manual items still open*\n"+signOffBullets(s.ManualOpen)))
	}
	blks = append(blks, section("*Evidence digest* (SHA-256)\n`"+escTrunc(s.Digest, 64)+"`"),
		contextLine("Signing binds to this digest: if anything is recorded about the campaign before you click, nothing is signed and a fresh message follows. `attest evidence export` and `attest evidence verify` show the same evidence."))
	switch s.State {
	case SignOffSigned:
		blks = append(blks, section(fmt.Sprintf(":white_check_mark: *Signed off* by %s on %s.", mention(s.By, 60), fmtTime(s.At))))
	case SignOffDeclined:
		blks = append(blks, section(fmt.Sprintf(":x: *Not signed*: %s declined on %s: %s", mention(s.By, 60), fmtTime(s.At),
			escTrunc(s.Reason, 500))))
	default:
		ref := SignOffRef(s.CampaignID, s.Digest)
		blks = append(blks, slack.NewActionBlock(BlockActions,
			button(ActionSignOff, "Sign off", ref).
				WithStyle(slack.StylePrimary).
				WithConfirm(slack.NewConfirmationBlockObject(
					plain("Sign off?", maxConfirmTitle),
					plain("You attest that this access review is complete and its removals are done or accounted for.", maxConfirmText),
					plain("Sign off", maxConfirmButton),
					plain("Cancel", maxConfirmButton))),
			button(ActionSignOffDecline, "Decline…", ref).WithStyle(slack.StyleDanger),
		))
	}
	return blks
}

func signOffBullets(items []string) string {
	lines := make([]string, 0, min(len(items), approvalListShown))
	for _, it := range items[:min(len(items), approvalListShown)] {
		lines = append(lines, escTrunc(it, signOffLine))
	}
	s := bulletsN(lines, len(lines), approvalListShown)
	if rest := len(items) - len(lines); rest > 0 {
		s += fmt.Sprintf("\n…and %d more in the evidence bundle", rest)
	}
	return s
}

// SignOffDeclineModal returns the modal asking why the owner does not
// sign; its private_metadata carries the message's value (campaign and
// digest shown), so the decline binds to the same digest.
func SignOffDeclineModal(campaign string, ref Ref) slack.ModalViewRequest {
	el := slack.NewPlainTextInputBlockElement(plain("What must change before you sign?", maxPlaceholder), ActionSignOffReason).
		WithMultiline(true).
		WithMaxLength(maxCommentInput)
	return slack.ModalViewRequest{
		Type:       slack.VTModal,
		CallbackID: CallbackSignOffDecline,
		Title:      plain("Decline sign-off", maxModalText),
		Submit:     plain("Decline", maxModalText),
		Close:      plain("Cancel", maxModalText),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			section("You are declining to sign off *" + escTrunc(campaign, 150) + "*. Your reason is recorded in the evidence."),
			slack.NewInputBlock(BlockSignOffReason, plain("Reason", maxInputLabel), nil, el),
		}},
		PrivateMetadata: ref.Encode(),
	}
}
