package oktatest

// Okta's JSON for every kind of item the fake serves.

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// userJSON returns user p's JSON, rendered once per index.
func (x *index) userJSON(p int) []byte {
	if c := x.userCache[p].Load(); c != nil {
		return *c
	}
	u := &x.users[p]
	b := make([]byte, 0, 1024)
	b = append(b, '{')
	b = appendKey(b, "id")
	b = appendString(b, u.ID)
	b = appendKey(b, "status")
	b = appendString(b, u.Status)
	for _, f := range []struct {
		k string
		v string
	}{
		{"created", formatTime(u.Created)}, {"activated", formatTime(u.Activated)},
		{"statusChanged", formatTime(u.StatusChanged)}, {"lastLogin", formatTime(u.LastLogin)},
		{"lastUpdated", formatTime(u.LastUpdated)}, {"passwordChanged", formatTime(u.PasswordChanged)},
	} {
		b = appendKey(b, f.k)
		b = appendStringOrNull(b, f.v)
	}
	b = appendKey(b, "type")
	b = append(b, `{"id":`...)
	b = appendString(b, x.typ)
	b = append(b, '}')
	b = appendKey(b, "profile")
	b = append(b, '{')
	for _, f := range []struct{ k, v string }{
		{"firstName", u.FirstName}, {"lastName", u.LastName}, {"mobilePhone", ""}, {"secondEmail", ""},
		{"login", u.Login}, {"email", u.Email}, {"employeeNumber", u.EmployeeNumber},
		{"department", u.Department}, {"title", u.Title}, {x.attr, u.ManagerRef},
	} {
		b = appendKey(b, f.k)
		b = appendStringOrNull(b, f.v)
	}
	b = append(b, '}')
	b = appendKey(b, "credentials")
	if u.Status == StatusStaged || u.Status == StatusProvisioned {
		b = append(b, `{"provider":{"type":"OKTA","name":"OKTA"}}`...)
	} else {
		b = append(b, `{"password":{},"provider":{"type":"OKTA","name":"OKTA"}}`...)
	}
	b = appendKey(b, "_links")
	b = append(b, `{"self":`...)
	b = appendHref(b, x.base, "/api/v1/users/", u.ID)
	b = append(b, "}}"...)
	x.userCache[p].Store(&b)
	return b
}

// appendAppUser appends one entry of /api/v1/apps/{id}/users.
func (x *index) appendAppUser(b []byte, a int, au indexAppUser) []byte {
	app, u := &x.apps[a], &x.users[au.user]
	created := appendTime(make([]byte, 0, 32), maxTime(u.Created, app.Created))
	b = append(b, '{')
	b = appendKey(b, "id")
	b = appendString(b, u.ID)
	b = append(b, `,"externalId":null,"created":`...)
	b = append(b, created...)
	b = append(b, `,"lastUpdated":`...)
	b = append(b, created...)
	b = appendKey(b, "scope")
	b = appendString(b, au.scope)
	b = append(b, `,"status":"ACTIVE","statusChanged":`...)
	b = append(b, created...)
	b = append(b, `,"passwordChanged":null,"syncState":"DISABLED","credentials":{"userName":`...)
	b = appendString(b, u.Login)
	b = append(b, `},"profile":{},"_links":{"app":`...)
	b = appendHref(b, x.base, "/api/v1/apps/", app.ID)
	b = append(b, `,"user":`...)
	b = appendHref(b, x.base, "/api/v1/users/", u.ID)
	if au.scope == ScopeGroup && au.group >= 0 {
		g := &x.groups[au.group]
		b = append(b, `,"group":{"name":`...)
		b = appendString(b, g.Name)
		b = append(b, `,"href":"`...)
		b = appendEscaped(b, x.base)
		b = append(b, "/api/v1/groups/"...)
		b = appendEscaped(b, g.ID)
		b = append(b, `"}`...)
	}
	return append(b, "}}"...)
}

// appendGroup appends a group.
func (x *index) appendGroup(b []byte, g *Group) []byte {
	b = append(b, '{')
	b = appendKey(b, "id")
	b = appendString(b, g.ID)
	b = appendKey(b, "created")
	b = appendTime(b, g.Created)
	b = appendKey(b, "lastUpdated")
	b = appendTime(b, g.LastUpdated)
	b = appendKey(b, "lastMembershipUpdated")
	b = appendTime(b, g.LastMembershipUpdated)
	b = appendKey(b, "objectClass")
	if g.Type == GroupApp {
		b = append(b, `["okta:windows_security_principal"]`...)
	} else {
		b = append(b, `["okta:user_group"]`...)
	}
	b = appendKey(b, "type")
	b = appendString(b, g.Type)
	b = appendKey(b, "profile")
	b = append(b, `{"name":`...)
	b = appendString(b, g.Name)
	b = append(b, `,"description":`...)
	b = appendStringOrNull(b, g.Description)
	if g.Type == GroupApp {
		sam := strings.ReplaceAll(strings.TrimPrefix(g.Name, "AD: "), " ", "-")
		b = append(b, `,"groupType":"Security","groupScope":"Global","samAccountName":`...)
		b = appendString(b, sam)
		b = append(b, `,"dn":`...)
		b = appendString(b, "CN="+sam+",OU=Groups,DC=corp,DC=example,DC=com")
		b = append(b, `,"windowsDomainQualifiedName":`...)
		b = appendString(b, `CORP\`+sam)
		b = append(b, `,"externalId":`...)
		b = appendString(b, hashID("", g.ID))
	}
	b = append(b, `},"_links":{"logo":[{"name":"medium","href":"https://ok12static.oktacdn.com/assets/img/logos/groups/okta-medium.png","type":"image/png"}],"users":`...)
	b = appendHref(b, x.base, "/api/v1/groups/", g.ID, "/users")
	b = append(b, `,"apps":`...)
	b = appendHref(b, x.base, "/api/v1/groups/", g.ID, "/apps")
	return append(b, "}}"...)
}

// appendRule appends a group rule.
func (x *index) appendRule(b []byte, r *GroupRule) []byte {
	b = append(b, '{')
	b = appendKey(b, "type")
	b = appendString(b, "group_rule")
	b = appendKey(b, "id")
	b = appendString(b, r.ID)
	b = appendKey(b, "status")
	b = appendString(b, r.Status)
	b = appendKey(b, "name")
	b = appendString(b, r.Name)
	b = appendKey(b, "created")
	b = appendTime(b, r.Created)
	b = appendKey(b, "lastUpdated")
	b = appendTime(b, r.LastUpdated)
	b = append(b, `,"conditions":{"expression":{"value":`...)
	b = appendString(b, r.Expression)
	b = append(b, `,"type":"urn:okta:expression:1.0"}},"actions":{"assignUserToGroups":{"groupIds":[`...)
	for i, id := range r.GroupIDs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, id)
	}
	return append(b, "]}}}"...)
}

// appendApp appends an app instance.
func (x *index) appendApp(b []byte, a *App) []byte {
	self := x.base + "/api/v1/apps/" + a.ID
	b = append(b, '{')
	b = appendKey(b, "id")
	b = appendString(b, a.ID)
	b = appendKey(b, "name")
	b = appendString(b, a.Name)
	b = appendKey(b, "label")
	b = appendString(b, a.Label)
	b = appendKey(b, "status")
	b = appendString(b, a.Status)
	b = appendKey(b, "lastUpdated")
	b = appendTime(b, a.LastUpdated)
	b = appendKey(b, "created")
	b = appendTime(b, a.Created)
	b = append(b, `,"accessibility":{"selfService":false,"errorRedirectUrl":null,"loginRedirectUrl":null}`...)
	b = append(b, `,"visibility":{"autoSubmitToolbar":false,"hide":{"iOS":false,"web":false},"appLinks":{`...)
	b = appendString(b, a.LinkName)
	b = append(b, `:true}},"features":[],"signOnMode":`...)
	b = appendString(b, a.SignOnMode)
	b = append(b, `,"credentials":{},"settings":{"app":{}}`...)
	if len(a.Profile) > 0 {
		if p, err := json.Marshal(a.Profile); err == nil {
			b = append(append(b, `,"profile":`...), p...)
		}
	}
	b = append(b, `,"_links":{"appLinks":[{"name":`...)
	b = appendString(b, a.LinkName)
	b = append(b, `,"href":`...)
	b = appendString(b, x.base+a.LinkPath)
	b = append(b, `,"type":"text/html"}],"users":`...)
	b = appendHref(b, self+"/users")
	b = append(b, `,"groups":`...)
	b = appendHref(b, self+"/groups")
	b = append(b, `,"self":`...)
	b = appendHref(b, self)
	return append(b, "}}"...)
}

// appendAppGroup appends one entry of /api/v1/apps/{id}/groups.
func (x *index) appendAppGroup(b []byte, a *App, ga *GroupAssignment) []byte {
	b = append(b, '{')
	b = appendKey(b, "id")
	b = appendString(b, ga.GroupID)
	b = appendKey(b, "lastUpdated")
	b = appendTime(b, ga.LastUpdated)
	b = appendKey(b, "priority")
	b = strconv.AppendInt(b, int64(ga.Priority), 10)
	b = append(b, `,"profile":{},"_links":{"app":`...)
	b = appendHref(b, x.base, "/api/v1/apps/", a.ID)
	b = append(b, `,"group":`...)
	b = appendHref(b, x.base, "/api/v1/groups/", ga.GroupID)
	return append(b, "}}"...)
}

// Okta writes timestamps in UTC with milliseconds.
const oktaTime = "2006-01-02T15:04:05.000Z"

// The hot lists (users, app users, System Log) are written by hand with
// these appenders rather than encoding/json: a full read of a large org
// renders a few hundred thousand objects, and the fake should not be what
// a benchmark measures.

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendEscaped(b, s)
	return append(b, '"')
}

// appendEscaped appends s escaped for the inside of a JSON string.
func appendEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, `\ufffd`...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		i++
		start = i
	}
	return append(b, s[start:]...)
}

// appendStringOrNull appends s, or null when s is empty.
func appendStringOrNull(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendString(b, s)
}

// appendTime appends t in Okta's format, or null for the zero time.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, oktaTime)
	return append(b, '"')
}

// appendKey appends `"key":`, after a comma unless it opens an object.
func appendKey(b []byte, key string) []byte {
	if n := len(b); n > 0 && b[n-1] != '{' && b[n-1] != '[' {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = appendEscaped(b, key)
	return append(b, '"', ':')
}

// appendHref appends {"href":"url"}, the URL given in parts to spare
// building it.
func appendHref(b []byte, parts ...string) []byte {
	b = append(b, `{"href":"`...)
	for _, p := range parts {
		b = appendEscaped(b, p)
	}
	return append(b, `"}`...)
}

// formatTime renders t in Okta's format; "" for the zero time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(oktaTime)
}
