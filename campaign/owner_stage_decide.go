package campaign

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// OwnerDecisionRequest is an app owner's decisions on one app's cases in
// stage 3: case id -> keep or revoke.
type OwnerDecisionRequest struct {
	CampaignID int64
	Actor      Actor
	AppID      string
	Decisions  map[int64]string
	Comment    string
}

// ownerStageEnded is the refusal of an owner decision outside stage 3.
func ownerStageEnded(c *Campaign, cause error) error {
	if cause == nil {
		cause = fmt.Errorf("campaign %d is %s: owner decisions are taken in stage 3 only: %w", c.ID, c.State, ErrStageEnded)
	}
	return &Error{Code: EConflict, Message: "this campaign's app-owner stage is not open; your decision was not recorded", Err: cause}
}

// OwnerDecide records an app owner's decisions after checking, on the
// server and by Okta user id, that the actor may make each: only the
// app's owners decide its cases, never on their own access; a case whose
// only owner is its member is the IAM team's (MayDecideForIAM). Each
// decision is written only while the campaign is still in stage 3,
// checked in the transaction that writes it: once a close has begun it
// is refused with ErrConflict and nothing more is recorded. It returns
// how many decisions were recorded; ErrForbidden names nobody,
// ErrInvalid a decision that is not keep or revoke or lacks a comment the
// definition requires.
func (e *Engine) OwnerDecide(ctx context.Context, req OwnerDecisionRequest) (int, error) {
	c, err := e.Store.GetCampaign(ctx, req.CampaignID)
	if err != nil {
		return 0, err
	}
	now := e.now()
	if c, err = e.catchUp(ctx, c, now); err != nil {
		return 0, err
	}
	if c.State != StateStage3 {
		return 0, ownerStageEnded(c, nil)
	}
	actor, err := e.identify(ctx, c, req.Actor)
	if err != nil {
		return 0, err
	}
	cases, err := e.Store.Cases(ctx, c.ID, CaseQuery{Kind: KindApp})
	if err != nil {
		return 0, err
	}
	st, err := e.ownerStageOf(ctx, c, cases)
	if err != nil {
		return 0, err
	}
	var app *OwnerApp
	for i := range st.apps {
		if st.apps[i].AppID == req.AppID {
			app = &st.apps[i]
		}
	}
	if app == nil {
		return 0, notYours(fmt.Errorf("app %q has no cases in campaign %d's owner stage: %w", req.AppID, c.ID, ErrForbidden))
	}
	byID := make(map[int64]*OwnerCase, len(app.Cases))
	for i := range app.Cases {
		byID[app.Cases[i].Case.ID] = &app.Cases[i]
	}
	ids := make([]int64, 0, len(req.Decisions))
	for id := range req.Decisions {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	comment := strings.TrimSpace(req.Comment)
	iam := -1 // whether the actor may decide for the IAM team, asked once
	for _, id := range ids {
		oc, ok := byID[id]
		if !ok {
			return 0, notYours(fmt.Errorf("case %d is not one of %s's owner-stage cases: %w", id, app.Label, ErrForbidden))
		}
		if err := e.mayOwnerDecide(ctx, c, oc, actor, &iam); err != nil {
			return 0, err
		}
		d := strings.ToLower(strings.TrimSpace(req.Decisions[id]))
		if d != DecisionKeep && d != DecisionRevoke {
			return 0, fmt.Errorf("decision %q: an app owner decides keep or revoke: %w", req.Decisions[id], ErrInvalid)
		}
		if err := e.checkDecision(c, &oc.Case, d, comment, time.Time{}, now); err != nil {
			return 0, err
		}
	}
	updates := make([]CaseUpdate, 0, len(ids))
	events := make([]Event, 0, len(ids))
	for _, id := range ids {
		oc, d := byID[id], strings.ToLower(strings.TrimSpace(req.Decisions[id]))
		cs := oc.Case
		detail := map[string]any{"user": cs.UserID, "kind": cs.Kind, "entitlement": cs.EntitlementID, "label": cs.Label,
			"decision": d, "stage": string(StateStage3), "app_owner": true, "note": "app owner decision on case " + strconv.FormatInt(id, 10)}
		if comment != "" {
			detail["comment"] = comment
		}
		if oc.Decision != "" {
			detail["previous"] = oc.Decision
		}
		if len(oc.Deciders) == 0 {
			detail["for_iam"] = true // the member owns the app alone
		}
		cs.OwnerDecision, cs.OwnerComment, cs.OwnerAt = d, comment, now
		cs.OwnerDecidedBy, cs.OwnerDecidedByID = actor.String(), actor.UserID
		updates = append(updates, CaseUpdate{Case: &cs, ExpectReviewer: oc.Case.ReviewerID, ExpectState: StateStage3})
		events = append(events, Event{At: now, CampaignID: c.ID, CaseID: id, Type: "case.answered", Actor: actor, Detail: actor.stamp(detail)})
	}
	// One transaction: every decision and its event, written only while
	// the campaign is still in stage 3 (the store's fence), or none.
	if err := e.Store.UpdateCases(ctx, updates, events); err != nil {
		if errors.Is(err, ErrStageEnded) {
			return 0, ownerStageEnded(c, err)
		}
		return 0, err
	}
	done := len(updates)
	if err := e.closeIfOwnersDecided(ctx, c, actor); err != nil {
		return done, err
	}
	return done, nil
}

// ownerAnswer is Answer in stage 3: one app owner's decision on one case
// (attest campaign answer), through OwnerDecide. A case that is not in
// the owner stage is a late stage-2 answer: ErrConflict.
func (e *Engine) ownerAnswer(ctx context.Context, c *Campaign, cs *CaseRecord, actor Actor, req AnswerRequest) (*CaseRecord, error) {
	dir, err := e.ownerDirectory(ctx, c)
	if err != nil {
		return nil, err
	}
	if len(dir.owners[cs.EntitlementID]) == 0 || !ownerCaseDue(c.Definition, cs) {
		return nil, stageEnded(c, false, nil)
	}
	if !req.AcceptUntil.IsZero() {
		return nil, fmt.Errorf("accept-until is a manager's choice; an app owner keeps or revokes: %w", ErrInvalid)
	}
	_, err = e.OwnerDecide(ctx, OwnerDecisionRequest{CampaignID: c.ID, Actor: actor, AppID: cs.EntitlementID,
		Decisions: map[int64]string{cs.ID: req.Decision}, Comment: req.Comment})
	if err != nil {
		return nil, err
	}
	return cs, nil
}

// mayOwnerDecide checks one case: its deciders (the app's owners but the
// member), or for a case the IAM team decides, those MayDecideForIAM
// names; never the member. iam caches the IAM check (-1 unknown).
func (e *Engine) mayOwnerDecide(ctx context.Context, c *Campaign, oc *OwnerCase, actor Actor, iam *int) error {
	if actor.UserID == oc.Case.UserID {
		return &Error{Code: EForbidden, Message: "nobody confirms their own access",
			Err: fmt.Errorf("nobody confirms their own access (%s): %w", oc.Case.Label, ErrForbidden)}
	}
	if len(oc.Deciders) > 0 {
		if oc.decides(actor.UserID) {
			return nil
		}
		return notYours(fmt.Errorf("%s's case for %s is for the app's owners to decide: %w", oc.Case.UserID, oc.Case.Label, ErrForbidden))
	}
	if *iam < 0 {
		*iam = 0
		if e.mayDecideForIAM(ctx, c, actor) {
			*iam = 1
		}
	}
	if *iam == 1 {
		return nil
	}
	return notYours(fmt.Errorf("%s's case for %s is the IAM team's to decide: %w", oc.Case.UserID, oc.Case.Label, ErrForbidden))
}

// closeIfOwnersDecided closes an event review (stages.close_when_decided)
// once every owner-stage case is decided.
func (e *Engine) closeIfOwnersDecided(ctx context.Context, c *Campaign, actor Actor) error {
	if !c.Definition.Stages.CloseWhenDecided {
		return nil
	}
	open, err := e.ownerOpen(ctx, c)
	if err != nil || open > 0 {
		return err
	}
	_, _, err = e.close(ctx, c, actor, e.now(), "every case decided")
	return err
}

// ownerOpen counts stage 3's undecided cases.
func (e *Engine) ownerOpen(ctx context.Context, c *Campaign) (int, error) {
	cases, err := e.Store.Cases(ctx, c.ID, CaseQuery{Kind: KindApp})
	if err != nil {
		return 0, err
	}
	st, err := e.ownerStageOf(ctx, c, cases)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range st.apps {
		for _, oc := range a.Cases {
			if oc.Decision == "" {
				n++
			}
		}
	}
	return n, nil
}

// remindOwners sends each owner (and the IAM team) with undecided
// stage-3 cases one reminder per slot, as remind does for other stages.
func (e *Engine) remindOwners(ctx context.Context, c *Campaign, now time.Time) error {
	start := c.Deadline.Add(-c.Definition.Stages.AppOwner.Duration.D())
	slot, ok := ReminderSlot(c.Definition.Reminders, start, c.Deadline, now)
	if !ok {
		return nil
	}
	todo, err := e.beginSlot(ctx, c, slot, now)
	if err != nil || !todo {
		return err
	}
	cases, err := e.Store.Cases(ctx, c.ID, CaseQuery{Kind: KindApp})
	if err != nil {
		return err
	}
	st, err := e.ownerStageOf(ctx, c, cases)
	if err != nil {
		return err
	}
	open := map[string]int{}
	for _, a := range st.apps {
		for _, oc := range a.Cases {
			if oc.Decision != "" {
				continue
			}
			if len(oc.Deciders) == 0 {
				open[""]++
			}
			for _, o := range oc.Deciders {
				open[o]++
			}
		}
	}
	reminded, refused := 0, 0
	for _, o := range sortedKeys(open) {
		to := "owner:" + o
		n := Notification{Kind: NoteReminder, To: o, CampaignID: c.ID, Campaign: c.Name, Deadline: c.Deadline, Open: open[o],
			Text: "app owner review", Key: "remind:" + strconv.FormatInt(c.ID, 10) + ":" + to + ":" + slot.UTC().Format(time.RFC3339)}
		ok, err := e.remindOnce(ctx, c, to, slot, now, n)
		if err != nil {
			return err
		}
		if ok {
			reminded++
		} else {
			refused++
		}
	}
	return e.endSlot(ctx, c, slot, now, reminded, refused)
}
