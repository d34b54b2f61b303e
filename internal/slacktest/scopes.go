package slacktest

// OAuth scopes: the bot token holds the scopes granted (WithScopes, or
// WithManifest from the app manifest that ships), and every Web API method
// refuses a token without the scope Slack documents for it, with Slack's
// answer: {"ok":false,"error":"missing_scope","needed":...,"provided":...}.

import (
	"slices"
	"strings"
)

// methodScopes are the bot scopes each served method needs, from Slack's
// method reference; the token needs one of them. A method absent from the
// map (auth.test, auth.teams.list, views.*) needs none; apps.connections.open needs
// connections:write on the app-level token, which the manifest does not
// carry. conversations.open and conversations.history depend on the
// conversation, see neededScopes.
var methodScopes = map[string][]string{
	"chat.postMessage":             {"chat:write"},
	"chat.update":                  {"chat:write"},
	"chat.postEphemeral":           {"chat:write"},
	"users.list":                   {"users:read"},
	"users.info":                   {"users:read"},
	"users.lookupByEmail":          {"users:read.email"},
	"usergroups.list":              {"usergroups:read"},
	"usergroups.users.list":        {"usergroups:read"},
	"files.getUploadURLExternal":   {"files:write"},
	"files.completeUploadExternal": {"files:write"},
}

// KnownScopes lists every bot scope the fake checks, sorted: what a
// server without WithScopes or WithManifest grants.
func KnownScopes() []string {
	set := map[string]bool{"im:write": true, "mpim:write": true, "channels:history": true, "groups:history": true,
		"im:history": true, "mpim:history": true}
	for _, list := range methodScopes {
		for _, sc := range list {
			set[sc] = true
		}
	}
	out := make([]string, 0, len(set))
	for sc := range set {
		out = append(out, sc)
	}
	slices.Sort(out)
	return out
}

// MethodScopes returns the bot scopes of which a call of method needs one,
// for a conversation of the given kind ("public", "private", "im" or
// "mpim"; only conversations.* look at it). It returns nil for a method
// that needs no scope.
func MethodScopes(method, kind string) []string {
	switch method {
	case "conversations.open":
		if kind == "mpim" {
			return []string{"mpim:write"}
		}
		return []string{"im:write"}
	case "conversations.history":
		switch kind {
		case "im":
			return []string{"im:history"}
		case "mpim":
			return []string{"mpim:history"}
		case "private":
			return []string{"groups:history"}
		}
		return []string{"channels:history"}
	}
	return slices.Clone(methodScopes[method])
}

// WithScopes grants the bot token exactly these scopes (by default it
// holds every scope the fake knows). A call without its scope is refused
// with missing_scope, naming the scope needed and the scopes provided.
func WithScopes(scopes ...string) Option {
	return func(c *config) {
		c.scopes = map[string]bool{}
		for _, sc := range scopes {
			c.scopes[strings.TrimSpace(sc)] = true
		}
	}
}

// conversationKind tells what a call's conversation is, for the scope
// it needs; s.mu must be held.
func (s *Server) conversationKind(r *request) string {
	if r.method == "conversations.open" {
		if users := strings.Split(r.str("users"), ","); len(users) > 1 {
			return "mpim"
		}
		return "im"
	}
	id := r.str("channel")
	ch, ok := s.st.channels[id]
	switch {
	case ok && ch.user != "", strings.HasPrefix(id, "D"):
		return "im"
	case ok && ch.private, strings.HasPrefix(id, "G"):
		return "private"
	}
	return "public"
}

// checkScope refuses a bot-token call whose token lacks the method's
// scope; s.mu must be held.
func (s *Server) checkScope(r *request) *apiError {
	if s.cfg.scopes == nil {
		return nil
	}
	needed := MethodScopes(r.method, s.conversationKind(r))
	if len(needed) == 0 || slices.ContainsFunc(needed, func(sc string) bool { return s.cfg.scopes[sc] }) {
		return nil
	}
	provided := make([]string, 0, len(s.cfg.scopes))
	for sc := range s.cfg.scopes {
		provided = append(provided, sc)
	}
	slices.Sort(provided)
	e := fail("missing_scope")
	e.needed, e.provided = strings.Join(needed, ","), strings.Join(provided, ",")
	return e
}
