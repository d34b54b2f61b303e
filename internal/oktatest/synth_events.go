package oktatest

import (
	"slices"
	"strconv"
	"time"
)

// events writes the System Log: SSO events for a share of the effective
// (user, app) relations of ACTIVE apps, session starts, and admin
// assignment events that carry an AppInstance target but are no sign-in.
// Sign-ins fall between the user's activation and shortly after their
// last login, within LogDays of Now; about a quarter of the relations
// with sign-ins were last used more than 90 days ago.
func (g *gen) events() {
	o := g.org
	pos := make(map[string]int, len(o.Users))
	for i := range o.Users {
		pos[o.Users[i].ID] = i
	}
	logStart := g.p.Now.AddDate(0, 0, -g.p.LogDays)
	old := g.p.Now.AddDate(0, 0, -90)
	g.names = make([]string, len(o.Users))
	for i := range o.Users {
		g.names[i] = o.Users[i].DisplayName()
	}
	for _, n := range docNets {
		for h := 1; h < 255; h++ {
			g.ips = append(g.ips, n+"."+strconv.Itoa(h))
		}
	}
	o.Events = make([]Event, 0, max(0, int(float64(g.p.Users)*float64(g.p.Apps)*g.p.SignInShare/20))+2*len(o.Users))
	for ai := range o.Apps {
		app := &o.Apps[ai]
		if app.Status != StatusActive {
			continue
		}
		for _, au := range o.AppUsers(app.ID) {
			if !g.chance(g.p.SignInShare) {
				continue
			}
			ui := pos[au.UserID]
			u := &o.Users[ui]
			if u.LastLogin.IsZero() {
				continue
			}
			lo := maxTime(logStart, u.Activated, app.Created)
			hi := minTime(g.p.Now.Add(-time.Millisecond), u.LastLogin.Add(8*time.Hour))
			if !hi.After(lo) {
				continue
			}
			if g.chance(0.25) && old.After(lo) {
				hi = minTime(hi, old)
			}
			inst := Target{ID: app.ID, Type: "AppInstance", AlternateID: app.Label, DisplayName: app.Label}
			appUser := Target{ID: hashID("0ua", u.ID, app.ID), Type: "AppUser", AlternateID: u.Login, DisplayName: g.names[ui]}
			for n := 1; n == 1 || n < 6 && g.chance(0.4); n++ {
				at := hi.Add(-time.Duration(g.rng.ExpFloat64() * 15 * 24 * float64(time.Hour)))
				if at.Before(lo) {
					at = g.between(lo, hi)
				}
				g.sso(u, g.names[ui], inst, appUser, at.Truncate(time.Millisecond))
			}
		}
	}
	for i := range o.Users {
		u := &o.Users[i]
		if u.LastLogin.IsZero() || u.LastLogin.Before(logStart) {
			continue
		}
		g.session(u, g.names[i], u.LastLogin)
		if g.chance(0.5) {
			g.session(u, g.names[i], g.between(maxTime(logStart, u.Activated), u.LastLogin))
		}
	}
	g.adminEvents(pos, logStart)
	slices.SortFunc(o.Events, compareEvents)
}

// sso logs one sign-in of u to app. The AppInstance target comes first
// most of the time, not always: clients must match targets by type.
func (g *gen) sso(u *User, name string, inst, appUser Target, at time.Time) {
	targets := []Target{inst, appUser}
	if g.chance(0.35) {
		targets[0], targets[1] = appUser, inst
	}
	g.org.Events = append(g.org.Events, Event{
		UUID: g.uuid(), Published: at, EventType: EventSSO, Outcome: "SUCCESS",
		ActorID: u.ID, ActorLogin: u.Login, ActorName: name,
		Targets: targets, AppID: inst.ID, IP: g.ip(),
	})
}

// session logs a sign-in to Okta itself: no app target.
func (g *gen) session(u *User, name string, at time.Time) {
	g.org.Events = append(g.org.Events, Event{
		UUID: g.uuid(), Published: at, EventType: EventSessionStart, Outcome: "SUCCESS",
		ActorID: u.ID, ActorLogin: u.Login, ActorName: name, IP: g.ip(),
	})
}

// adminEvents logs an IT admin assigning some direct users to apps: the
// app is a target, but the admin never used it.
func (g *gen) adminEvents(pos map[string]int, logStart time.Time) {
	o := g.org
	admins := g.deptUsers("IT")
	for ai := range o.Apps {
		app := &o.Apps[ai]
		for _, uid := range o.AppDirect[app.ID] {
			if !g.chance(0.03) {
				continue
			}
			u := &o.Users[pos[uid]]
			admin := &o.Users[admins[g.rng.IntN(len(admins))]]
			if admin.ID == u.ID {
				continue
			}
			at := g.between(maxTime(logStart, u.Created, app.Created), g.p.Now.Add(-time.Second))
			o.Events = append(o.Events, Event{
				UUID: g.uuid(), Published: at, EventType: EventAppMemberAdd, Outcome: "SUCCESS",
				ActorID: admin.ID, ActorLogin: admin.Login, ActorName: admin.DisplayName(),
				Targets: []Target{
					{ID: hashID("0ua", u.ID, app.ID), Type: "AppUser", AlternateID: u.Login, DisplayName: u.DisplayName()},
					{ID: app.ID, Type: "AppInstance", AlternateID: app.Label, DisplayName: app.Label},
					{ID: u.ID, Type: "User", AlternateID: u.Login, DisplayName: u.DisplayName()},
				},
				AppID: app.ID, IP: g.ip(),
			})
		}
	}
}

var docNets = []string{"192.0.2", "198.51.100", "203.0.113"}

// ip returns an address from the documentation ranges.
func (g *gen) ip() string { return g.ips[g.rng.IntN(len(g.ips))] }

// SSOEvents returns how many user.authentication.sso events were published
// in [since, until).
func (o *Org) SSOEvents(since, until time.Time) int {
	n := 0
	for i := range o.Events {
		e := &o.Events[i]
		if e.EventType == EventSSO && !e.Published.Before(since) && e.Published.Before(until) {
			n++
		}
	}
	return n
}

// LastSignIns returns the latest SSO time per "userID/appID" for events in
// [since, until): what a correct System Log reader computes.
func (o *Org) LastSignIns(since, until time.Time) map[string]time.Time {
	out := map[string]time.Time{}
	for i := range o.Events {
		e := &o.Events[i]
		if e.EventType != EventSSO || e.Published.Before(since) || !e.Published.Before(until) {
			continue
		}
		if k := e.ActorID + "/" + e.AppID; e.Published.After(out[k]) {
			out[k] = e.Published
		}
	}
	return out
}
