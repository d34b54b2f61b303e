package slacktest

// The workspace directory: users, user groups and channels, and the Web API
// methods that read it (users.*, usergroups.*, conversations.open).

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// User is a member of the fake workspace.
type User struct {
	ID     string
	TeamID string // TeamID when empty (on Grid: the first of Teams)
	// Teams are the Grid workspaces the user belongs to (WithGrid); empty:
	// TeamID alone. users.list with a team_id lists the user in each.
	Teams    []string
	Name     string // the handle, e.g. "alice"
	RealName string
	Email    string
	IsBot    bool
	Deleted  bool
}

// userGroup is a user group (subteam): an S... id, a handle and members.
type userGroup struct {
	id, handle string
	members    []string
}

// channel is a conversation: public or private (AddChannel) or a DM
// (conversations.open, or a post to a user id).
type channel struct {
	id, name string
	user     string // the other member of a DM
	private  bool   // a private channel: its history needs groups:history
	messages []*Message
}

// AddUser adds u to the directory, or replaces the user with the same id.
func (s *Server) AddUser(u User) {
	if u.TeamID == "" && len(u.Teams) > 0 {
		u.TeamID = u.Teams[0]
	}
	if u.TeamID == "" {
		u.TeamID = TeamID
	}
	u.Teams = slices.Clone(u.Teams)
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.st.userIdx[u.ID]; ok {
		s.st.users[i] = u
		return
	}
	s.st.userIdx[u.ID] = len(s.st.users)
	s.st.users = append(s.st.users, u)
}

// AddUserGroup adds a user group with the given id (S...), handle and
// members, or replaces the group with the same id.
func (s *Server) AddUserGroup(id, handle string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := &userGroup{id: id, handle: handle, members: slices.Clone(members)}
	for i, old := range s.st.groups {
		if old.id == id {
			s.st.groups[i] = g
			return
		}
	}
	s.st.groups = append(s.st.groups, g)
}

// AddChannel adds a channel (C... or G...) the bot can post to.
func (s *Server) AddChannel(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.channels[id]; !ok {
		s.st.channels[id] = &channel{id: id, name: name}
	}
}

// AddPrivateChannel adds a private channel the bot is a member of;
// reading its history needs groups:history, not channels:history.
func (s *Server) AddPrivateChannel(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.channels[id]; !ok {
		s.st.channels[id] = &channel{id: id, name: name, private: true}
	}
}

// DMChannel returns the D channel of userID, if conversations.open or a
// post to the user's id created it.
func (s *Server) DMChannel(userID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.st.dms[userID]
	return id, ok
}

// builtinUsers are Slackbot and the bot user, which Slack lists first.
var builtinUsers = []User{
	{ID: SlackbotID, TeamID: TeamID, Name: "slackbot", RealName: "Slackbot"},
	{ID: BotUserID, TeamID: TeamID, Name: "attest", RealName: "Attest", IsBot: true},
}

// allUsers lists users as users.list does: Slackbot and the bot user first
// unless WithoutBuiltinUsers, then the directory in insertion order.
func (st *state) allUsers(cfg config) []User {
	var out []User
	if cfg.builtinUsers {
		out = append(out, builtinUsers...)
	}
	return append(out, st.users...)
}

// findUser looks a user up by id, built-in users included.
func (st *state) findUser(cfg config, id string) (User, bool) {
	if i, ok := st.userIdx[id]; ok {
		return st.users[i], true
	}
	if cfg.builtinUsers {
		for _, u := range builtinUsers {
			if u.ID == id {
				return u, true
			}
		}
	}
	return User{}, false
}

// userJSON renders u as Slack's user object.
func userJSON(u User) map[string]any {
	profile := map[string]any{
		"real_name": u.RealName, "real_name_normalized": u.RealName,
		"display_name": u.Name, "display_name_normalized": u.Name, "team": u.TeamID,
	}
	if first, last, ok := strings.Cut(u.RealName, " "); ok {
		profile["first_name"], profile["last_name"] = first, last
	}
	if u.Email != "" {
		profile["email"] = u.Email
	}
	if u.IsBot {
		profile["bot_id"], profile["api_app_id"] = BotID, AppID
	}
	return map[string]any{
		"id": u.ID, "team_id": u.TeamID, "name": u.Name, "deleted": u.Deleted,
		"real_name": u.RealName, "tz": "Europe/London", "tz_label": "British Summer Time",
		"tz_offset": 3600, "profile": profile, "is_bot": u.IsBot, "is_admin": false,
		"is_owner": false, "is_primary_owner": false, "is_restricted": false,
		"is_ultra_restricted": false, "is_app_user": false, "updated": 1700000000,
		"is_email_confirmed": u.Email != "",
	}
}

// usersList answers one page of users.list. The cursor is opaque to
// clients; here it encodes the id of the first user of the next page.
func (s *Server) usersList(r *request) (map[string]any, *apiError) {
	all := s.st.allUsers(s.cfg)
	if s.Grid() {
		team, e := s.gridTeam(r)
		if e != nil {
			return nil, e
		}
		all = slices.DeleteFunc(slices.Clone(all), func(u User) bool { return !inTeam(u, team) })
	}
	limit, _ := strconv.Atoi(r.str("limit"))
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	start := 0
	if c := r.str("cursor"); c != "" {
		raw, err := base64.StdEncoding.DecodeString(c)
		id, ok := strings.CutPrefix(string(raw), "user:")
		start = slices.IndexFunc(all, func(u User) bool { return u.ID == id })
		if err != nil || !ok || start < 0 {
			return nil, fail("invalid_cursor")
		}
	}
	end := min(start+limit, len(all))
	members := make([]map[string]any, 0, end-start)
	for _, u := range all[start:end] {
		members = append(members, s.userJSON(u))
	}
	next := ""
	if end < len(all) {
		next = base64.StdEncoding.EncodeToString([]byte("user:" + all[end].ID))
	}
	return map[string]any{
		"members":           members,
		"cache_ts":          s.now().Unix(),
		"response_metadata": map[string]any{"next_cursor": next},
	}, nil
}

// userJSON renders u as users.list and users.info show it: without the
// email unless the token holds users:read.email, as on Slack.
func (s *Server) userJSON(u User) map[string]any {
	if s.cfg.scopes != nil && !s.cfg.scopes["users:read.email"] {
		u.Email = ""
	}
	out := userJSON(u)
	if s.Grid() {
		out["enterprise_user"] = enterpriseUser(u)
	}
	return out
}

// usersInfo answers users.info.
func (s *Server) usersInfo(r *request) (map[string]any, *apiError) {
	u, ok := s.st.findUser(s.cfg, r.str("user"))
	if !ok {
		return nil, fail("user_not_found")
	}
	return map[string]any{"user": s.userJSON(u)}, nil
}

// usersLookupByEmail answers users.lookupByEmail, ignoring case.
func (s *Server) usersLookupByEmail(r *request) (map[string]any, *apiError) {
	email := r.str("email")
	for _, u := range s.st.users {
		if email != "" && strings.EqualFold(u.Email, email) {
			return map[string]any{"user": s.userJSON(u)}, nil
		}
	}
	return nil, fail("users_not_found")
}

// groupJSON renders g as Slack's usergroup object.
func groupJSON(g *userGroup, withUsers bool) map[string]any {
	out := map[string]any{
		"id": g.id, "team_id": TeamID, "is_usergroup": true, "is_subteam": true,
		"name": g.handle, "description": "", "handle": g.handle, "is_external": false,
		"date_create": 1700000000, "date_update": 1700000000, "date_delete": 0,
		"auto_type": nil, "created_by": "U0ADMIN", "updated_by": "U0ADMIN",
		"prefs": map[string]any{"channels": []string{}, "groups": []string{}}, "user_count": len(g.members),
	}
	if withUsers {
		out["users"] = slices.Clone(g.members)
	}
	return out
}

// usergroupsList answers usergroups.list; members only with include_users.
func (s *Server) usergroupsList(r *request) (map[string]any, *apiError) {
	if s.Grid() {
		if _, e := s.gridTeam(r); e != nil {
			return nil, e
		}
	}
	withUsers := r.str("include_users") == "true" || r.str("include_users") == "1"
	groups := make([]map[string]any, 0, len(s.st.groups))
	for _, g := range s.st.groups {
		groups = append(groups, groupJSON(g, withUsers))
	}
	return map[string]any{"usergroups": groups}, nil
}

// usergroupsUsersList answers usergroups.users.list.
func (s *Server) usergroupsUsersList(r *request) (map[string]any, *apiError) {
	if s.Grid() {
		if _, e := s.gridTeam(r); e != nil {
			return nil, e
		}
	}
	id := r.str("usergroup")
	for _, g := range s.st.groups {
		if g.id == id {
			return map[string]any{"users": slices.Clone(g.members)}, nil
		}
	}
	return nil, fail("no_such_subteam")
}

// conversationsOpen answers conversations.open for one user (a DM, created
// on first use with a stable id) or an existing channel.
func (s *Server) conversationsOpen(r *request) (map[string]any, *apiError) {
	if id := r.str("channel"); id != "" {
		if _, ok := s.st.channels[id]; !ok {
			return nil, fail("channel_not_found")
		}
		return map[string]any{"channel": map[string]any{"id": id}, "no_op": true, "already_open": true}, nil
	}
	users := strings.Split(r.str("users"), ",")
	if users[0] == "" {
		return nil, fail("users_list_not_supplied")
	}
	if len(users) > 1 {
		return nil, fail("not_supported", "[ERROR] slacktest: group DMs are not supported by the fake")
	}
	_, existed := s.st.dms[users[0]]
	id, e := s.st.openDM(s.cfg, users[0])
	if e != nil {
		return nil, e
	}
	return map[string]any{
		"no_op": existed, "already_open": existed,
		"channel": map[string]any{"id": id, "is_im": true, "user": users[0], "created": s.now().Unix()},
	}, nil
}

// openDM returns the DM channel with userID, creating it.
func (st *state) openDM(cfg config, userID string) (string, *apiError) {
	u, ok := st.findUser(cfg, userID)
	switch {
	case !ok:
		return "", fail("user_not_found")
	case u.Deleted:
		return "", fail("user_disabled")
	case u.IsBot:
		return "", fail("cannot_dm_bot")
	}
	if id, ok := st.dms[userID]; ok {
		return id, nil
	}
	st.seq++
	id := fmt.Sprintf("D%08d", st.seq)
	st.dms[userID] = id
	st.channels[id] = &channel{id: id, name: "directmessage", user: userID}
	return id, nil
}
