package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/attestbot/attest/blocks"
	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/internal/slackrec"
)

// Hand-written function-field fakes of the small interfaces each half
// uses. A call whose function is not set fails with errUnexpected, so a
// test states exactly which calls it expects.

var errUnexpected = errors.New("fake: unexpected call")

// calls records what a fake was asked, one line per call.
type calls struct {
	mu    sync.Mutex
	lines []string
}

func (c *calls) add(format string, args ...any) {
	c.mu.Lock()
	c.lines = append(c.lines, fmt.Sprintf(format, args...))
	c.mu.Unlock()
}

// has reports whether some call line starts with prefix.
func (c *calls) has(prefix string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

func (c *calls) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.lines, "\n")
}

// fakeEngine is Engine.
type fakeEngine struct {
	calls
	launch        func(campaign.LaunchRequest) (*campaign.Campaign, error)
	launchSweep   func(sweepID int64, a campaign.Actor) (*campaign.Campaign, error)
	preview       func(*campaign.Definition) (*campaign.PlanSummary, error)
	answer        func(campaign.AnswerRequest) (*campaign.CaseRecord, error)
	confirmMember func(cid int64, a campaign.Actor, member string) (int, error)
	delegate      func(campaign.DelegateRequest) (int, error)
	close         func(id int64, a campaign.Actor) (*campaign.Campaign, []campaign.PlanItem, error)
	approve       func(id int64, a campaign.Actor) (*campaign.Campaign, int, error)
	reject        func(id int64, a campaign.Actor) (*campaign.Campaign, int, error)
	retryFailed   func(id int64, a campaign.Actor) (int, error)
	report        func(id int64) (*campaign.Report, error)
}

func (f *fakeEngine) Launch(_ context.Context, r campaign.LaunchRequest) (*campaign.Campaign, error) {
	f.add("Launch %s by %s", r.Definition.Name, r.Owner.UserID)
	if f.launch == nil {
		return nil, errUnexpected
	}
	return f.launch(r)
}

func (f *fakeEngine) LaunchSweepReview(_ context.Context, id int64, a campaign.Actor, _ []string) (*campaign.Campaign, error) {
	f.add("LaunchSweepReview %d by %s", id, a.UserID)
	if f.launchSweep == nil {
		return nil, errUnexpected
	}
	return f.launchSweep(id, a)
}

func (f *fakeEngine) Preview(_ context.Context, d *campaign.Definition) (*campaign.PlanSummary, error) {
	f.add("Preview %s", d.Name)
	if f.preview == nil {
		return nil, errUnexpected
	}
	return f.preview(d)
}

func (f *fakeEngine) Answer(_ context.Context, r campaign.AnswerRequest) (*campaign.CaseRecord, error) {
	f.add("Answer %d %s by %s", r.CaseID, r.Decision, r.Actor.UserID)
	if f.answer == nil {
		return nil, errUnexpected
	}
	return f.answer(r)
}

func (f *fakeEngine) ConfirmMember(_ context.Context, cid int64, a campaign.Actor, member string) (int, error) {
	f.add("ConfirmMember %d %s by %s", cid, member, a.UserID)
	if f.confirmMember == nil {
		return 0, errUnexpected
	}
	return f.confirmMember(cid, a, member)
}

func (f *fakeEngine) Delegate(_ context.Context, r campaign.DelegateRequest) (int, error) {
	f.add("Delegate %d %s to %s by %s", r.CampaignID, r.Member, r.To, r.Actor.UserID)
	if f.delegate == nil {
		return 0, errUnexpected
	}
	return f.delegate(r)
}

func (f *fakeEngine) Close(_ context.Context, id int64, a campaign.Actor) (*campaign.Campaign, []campaign.PlanItem, error) {
	f.add("Close %d by %s", id, a.UserID)
	if f.close == nil {
		return nil, nil, errUnexpected
	}
	return f.close(id, a)
}

func (f *fakeEngine) Approve(_ context.Context, id int64, a campaign.Actor) (*campaign.Campaign, int, error) {
	f.add("Approve %d by %s", id, a.UserID)
	if f.approve == nil {
		return nil, 0, errUnexpected
	}
	return f.approve(id, a)
}

func (f *fakeEngine) Reject(_ context.Context, id int64, a campaign.Actor) (*campaign.Campaign, int, error) {
	f.add("Reject %d by %s", id, a.UserID)
	if f.reject == nil {
		return nil, 0, errUnexpected
	}
	return f.reject(id, a)
}

func (f *fakeEngine) RetryFailed(_ context.Context, id int64, a campaign.Actor) (int, error) {
	f.add("RetryFailed %d by %s", id, a.UserID)
	if f.retryFailed == nil {
		return 0, errUnexpected
	}
	return f.retryFailed(id, a)
}

func (f *fakeEngine) Report(_ context.Context, id int64) (*campaign.Report, error) {
	f.add("Report %d", id)
	if f.report == nil {
		return nil, errUnexpected
	}
	return f.report(id)
}

// fakeCampaigns is Campaigns and CampaignReader.
type fakeCampaigns struct {
	get       func(id int64) (*campaign.Campaign, error)
	list      func(states ...campaign.State) ([]campaign.Campaign, error)
	cases     func(cid int64, q campaign.CaseQuery) ([]campaign.CaseRecord, error)
	progress  func(cid int64) (campaign.Progression, error)
	findUser  func(key string) (campaign.User, error)
	plan      func(cid int64) ([]campaign.PlanItem, error)
	approvals func(cid int64) ([]campaign.Approval, error)
}

func (f *fakeCampaigns) GetCampaign(_ context.Context, id int64) (*campaign.Campaign, error) {
	if f.get == nil {
		return nil, errUnexpected
	}
	return f.get(id)
}

func (f *fakeCampaigns) ListCampaigns(_ context.Context, states ...campaign.State) ([]campaign.Campaign, error) {
	if f.list == nil {
		return nil, errUnexpected
	}
	return f.list(states...)
}

func (f *fakeCampaigns) Cases(_ context.Context, cid int64, q campaign.CaseQuery) ([]campaign.CaseRecord, error) {
	if f.cases == nil {
		return nil, errUnexpected
	}
	return f.cases(cid, q)
}

func (f *fakeCampaigns) CaseProgress(_ context.Context, cid int64) (campaign.Progression, error) {
	if f.progress == nil {
		return campaign.Progression{}, errUnexpected
	}
	return f.progress(cid)
}

func (f *fakeCampaigns) FindUser(_ context.Context, _ int64, key string) (campaign.User, error) {
	if f.findUser == nil {
		return campaign.User{}, errUnexpected
	}
	return f.findUser(key)
}

func (f *fakeCampaigns) Plan(_ context.Context, cid int64) ([]campaign.PlanItem, error) {
	if f.plan == nil {
		return nil, errUnexpected
	}
	return f.plan(cid)
}

func (f *fakeCampaigns) Approvals(_ context.Context, cid int64) ([]campaign.Approval, error) {
	if f.approvals == nil {
		return nil, errUnexpected
	}
	return f.approvals(cid)
}

// fakeUsers is InteractionStore: a Slack user map and an interaction log.
type fakeUsers struct {
	users   map[string]slackrec.User // by Slack id
	handled map[string]bool
}

func (f *fakeUsers) SlackUserBySlack(_ context.Context, id string) (slackrec.User, error) {
	if u, ok := f.users[id]; ok {
		return u, nil
	}
	return slackrec.User{}, fmt.Errorf("store: no Slack user %s: %w", id, campaign.ErrNotFound)
}

func (f *fakeUsers) MarkHandled(_ context.Context, key string, _ time.Time) (bool, error) {
	if f.handled == nil {
		f.handled = map[string]bool{}
	}
	first := !f.handled[key]
	f.handled[key] = true
	return first, nil
}

// fakeGroups is GroupMembers: Slack user groups by id.
type fakeGroups map[string][]string

func (f fakeGroups) GetUserGroupMembersContext(_ context.Context, group string, _ ...slack.GetUserGroupMembersOption) ([]string, error) {
	return f[group], nil
}

// fakeViews is Views.
type fakeViews struct {
	calls
	opened    []slack.ModalViewRequest
	published []slack.HomeTabViewRequest
}

func (f *fakeViews) OpenViewContext(_ context.Context, trigger string, v slack.ModalViewRequest) (*slack.ViewResponse, error) {
	f.add("OpenView %s", v.CallbackID)
	f.opened = append(f.opened, v)
	return &slack.ViewResponse{}, nil
}

func (f *fakeViews) UpdateViewContext(_ context.Context, v slack.ModalViewRequest, _, _, _ string) (*slack.ViewResponse, error) {
	f.add("UpdateView %s", v.CallbackID)
	f.opened = append(f.opened, v)
	return &slack.ViewResponse{}, nil
}

func (f *fakeViews) PublishViewContext(_ context.Context, r slack.PublishViewContextRequest) (*slack.ViewResponse, error) {
	f.add("PublishView %s", r.UserID)
	f.published = append(f.published, r.View)
	return &slack.ViewResponse{}, nil
}

// fakeOutbound is Outbound; it records every call and what was posted.
type fakeOutbound struct {
	calls
	statusView func(c *campaign.Campaign) (blocks.Status, error)
	postReport func(r *campaign.Report) (string, error)
	posted     []string // texts of PostDM, PostThread and SweepLaunched
	ephemerals []string // texts of Ephemeral
}

func (f *fakeOutbound) text(s string) { f.mu.Lock(); f.posted = append(f.posted, s); f.mu.Unlock() }

func (f *fakeOutbound) Notify(_ context.Context, n campaign.Notification) error {
	f.add("Notify %s to %s in %d", n.Kind, n.To, n.CampaignID)
	return nil
}

func (f *fakeOutbound) SendReviewerForms(_ context.Context, c *campaign.Campaign, reviewer string, members []string, _ string) error {
	f.add("SendReviewerForms %d %s %v", c.ID, reviewer, members)
	return nil
}

func (f *fakeOutbound) ShowPage(_ context.Context, c *campaign.Campaign, ref blocks.Ref, viewer, _ string) error {
	f.add("ShowPage %s as %q", ref.Encode(), viewer)
	return nil
}

func (f *fakeOutbound) ShowAnswered(_ context.Context, c *campaign.Campaign, ref blocks.Ref, viewer, _ string) error {
	f.add("ShowAnswered %s as %q", ref.Encode(), viewer)
	return nil
}

func (f *fakeOutbound) ShowClosed(_ context.Context, c *campaign.Campaign, ref blocks.Ref, viewer, _, note string) error {
	f.add("ShowClosed %s as %q: %s", ref.Encode(), viewer, note)
	return nil
}

func (f *fakeOutbound) StatusView(_ context.Context, c *campaign.Campaign) (blocks.Status, error) {
	f.add("StatusView %d", c.ID)
	if f.statusView == nil {
		return blocks.Status{CampaignID: c.ID, Campaign: c.Name, State: string(c.State)}, nil
	}
	return f.statusView(c)
}

func (f *fakeOutbound) PostStatus(_ context.Context, c *campaign.Campaign) {
	f.add("PostStatus %d", c.ID)
}

func (f *fakeOutbound) RefreshStatus(_ context.Context, cid int64) error {
	f.add("RefreshStatus %d", cid)
	return nil
}

func (f *fakeOutbound) RefreshApproval(_ context.Context, c *campaign.Campaign, _ string) error {
	f.add("RefreshApproval %d", c.ID)
	return nil
}

func (f *fakeOutbound) PostThread(_ context.Context, c *campaign.Campaign, _, text string) error {
	f.add("PostThread %d", c.ID)
	f.text(text)
	return nil
}

func (f *fakeOutbound) PostDM(_ context.Context, to, _, text string) error {
	f.add("PostDM %s", to)
	f.text(text)
	return nil
}

func (f *fakeOutbound) Ephemeral(_ context.Context, channel, user, _, text string) error {
	f.add("Ephemeral %s", user)
	f.mu.Lock()
	f.ephemerals = append(f.ephemerals, text)
	f.mu.Unlock()
	return nil
}

func (f *fakeOutbound) PostReport(_ context.Context, r *campaign.Report, _ string) (string, error) {
	f.add("PostReport %d", r.ID)
	if f.postReport == nil {
		return "Report of campaign.", nil
	}
	return f.postReport(r)
}

func (f *fakeOutbound) SweepLaunched(_ context.Context, id int64, n int, note string) error {
	f.add("SweepLaunched %d %d", id, n)
	f.text(note)
	return nil
}

func (f *fakeOutbound) WatchDelivery(context.Context, *campaign.Campaign, string) {}

// fakeOutbox is OutboxStore: it records the queued items.
type fakeOutbox struct {
	mu       sync.Mutex
	items    []slackrec.OutboxItem
	apps     []campaign.App
	progress func(prefix string) (map[string]int, error)
}

func (f *fakeOutbox) Enqueue(_ context.Context, items ...slackrec.OutboxItem) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items = append(f.items, items...)
	return len(items), nil
}

func (f *fakeOutbox) OutboxProgress(_ context.Context, prefix string) (map[string]int, error) {
	if f.progress == nil {
		return nil, errUnexpected
	}
	return f.progress(prefix)
}

func (f *fakeOutbox) SnapshotApps(context.Context, int64) ([]campaign.App, error) { return f.apps, nil }

func (f *fakeOutbox) SnapshotGroupNames(context.Context, int64) (map[string]string, error) {
	return map[string]string{}, nil
}

func (f *fakeOutbox) UserUsage(context.Context, int64, string) (map[string]time.Time, error) {
	return map[string]time.Time{}, nil
}

// fakeReporter is Reporter.
type fakeReporter func(id int64) (*campaign.Report, error)

func (f fakeReporter) Report(_ context.Context, id int64) (*campaign.Report, error) { return f(id) }
