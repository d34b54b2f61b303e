package config

import (
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// checkURL applies the rule shared by every base URL: absolute, https, or
// http only on a loopback host (a local test server). bare also forbids a
// path. It reports whether the URL passed. Messages show the URL without
// any user:password it may hold.
func checkURL(p *problems, key, raw string, bare bool) bool {
	if !strings.Contains(raw, "://") {
		shown := "https://" + strings.TrimPrefix(raw, "//")
		if u, err := url.Parse(shown); err == nil {
			shown = u.Redacted()
		} else if strings.Contains(raw, "@") {
			shown = "https://host"
		}
		p.add(key, "has no scheme; write it as %s", shown)
		return false
	}
	u, err := url.Parse(raw)
	if err != nil {
		p.add(key, "is not a valid URL (%s); use e.g. https://example.com", urlErrorReason(err))
		return false
	}
	shown := u.Redacted()
	ok := true
	if u.User != nil {
		p.add(key, "%q holds credentials; remove user:password@ and set them through their own keys", shown)
		ok = false
	}
	if u.Host == "" {
		p.add(key, "%q has no host; use e.g. https://example.com", shown)
		return false
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			p.add(key, "%q uses http:// on a non-loopback host; use https://", shown)
			ok = false
		}
	default:
		p.add(key, "%q uses the scheme %q; use https://", shown, u.Scheme)
		ok = false
	}
	if bare && u.Path != "" && u.Path != "/" {
		p.add(key, "%q has a path; give only the scheme and host, e.g. %s://%s", shown, u.Scheme, u.Host)
		ok = false
	}
	if u.RawQuery != "" || u.Fragment != "" {
		p.add(key, "%q has a query or fragment; remove everything from ? or #", shown)
		ok = false
	}
	return ok
}

// urlErrorReason keeps url.Parse's reason but not the URL it quotes, which
// may hold a password.
func urlErrorReason(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err.Error()
	}
	return "unparsable"
}

// isLoopback reports whether host is localhost, in 127.0.0.0/8 or ::1.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// hostOf returns the host name of a URL that checkURL accepted.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

var (
	channelIDRE   = regexp.MustCompile(`^[CG][A-Z0-9]{2,20}$`)
	userIDRE      = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)
	groupIDRE     = regexp.MustCompile(`^S[A-Z0-9]{2,20}$`)
	handleRE      = regexp.MustCompile(`^@[a-z0-9][a-z0-9._-]{0,79}$`)
	commandNameRE = regexp.MustCompile(`^/[^\s/]{1,31}$`)
)

func (c *Config) validateSlack(p *problems) {
	s := &c.Slack
	checkToken(p, "slack.app_token", s.AppToken, "xapp-", "the app-level token from the app's Basic Information page")
	checkToken(p, "slack.bot_token", s.BotToken, "xoxb-", "the Bot User OAuth Token from the app's OAuth & Permissions page")
	if s.Mode != SlackModeSocket && s.Mode != SlackModeHTTP {
		p.add("slack.mode", "%q is not a mode; use %s (Socket Mode, no public ingress) or %s (request URLs on http.listen)",
			s.Mode, SlackModeSocket, SlackModeHTTP)
	}
	checkSigningSecret(p, s.SigningSecret)
	if s.APIURL == "" {
		p.add("slack.api_url", "not set; use %s, or set %s", DefaultSlackAPIURL, EnvSlackAPIURL)
	} else if checkURL(p, "slack.api_url", s.APIURL, false) && !strings.HasSuffix(s.APIURL, "/") {
		p.add("slack.api_url", "%q must end with \"/\"; use %s/", s.APIURL, s.APIURL)
	}
	switch {
	case !strings.HasPrefix(s.Command, "/"):
		p.add("slack.command", "%q must start with \"/\"; use \"/%s\"", s.Command, s.Command)
	case !commandNameRE.MatchString(s.Command):
		p.add("slack.command", "%q is not a slash command; use \"/\" and up to 31 characters without spaces, e.g. %s",
			s.Command, DefaultSlackCommand)
	}
	for key, ch := range map[string]string{"slack.approvals_channel": s.ApprovalsChannel, "slack.security_channel": s.SecurityChannel} {
		if ch == "" || channelIDRE.MatchString(ch) {
			continue
		}
		if strings.HasPrefix(ch, "#") {
			p.add(key, "%q is a channel name; use the channel id (C… or G…) shown at the "+
				"bottom of the channel's details in Slack", ch)
		} else {
			p.add(key, "%q is not a channel id; use the id (C… or G…, capitals and digits) "+
				"shown at the bottom of the channel's details in Slack", ch)
		}
	}
	checkPrincipals(p, "slack.admins", s.Admins)
	checkPrincipals(p, "slack.approvers", s.Approvers)
	c.validateSlackGrid(p)
}

// checkToken wants the token's documented prefix, and recognises the
// usual mix-ups. It names prefixes only, never the token.
func checkToken(p *problems, key string, tok Secret, prefix, what string) {
	v := tok.Reveal()
	if v == "" || strings.HasPrefix(v, prefix) {
		return
	}
	kinds := map[string]string{"xapp-": "an app-level token", "xoxb-": "a bot token", "xoxp-": "a user token"}
	for other, kind := range kinds {
		if other != prefix && strings.HasPrefix(v, other) {
			p.add(key, "holds %s (%s…); use %s (%s…)", kind, other, what, prefix)
			return
		}
	}
	p.add(key, "does not start with %q; use %s", prefix, what)
}

// checkSigningSecret recognises a token pasted where the signing secret
// goes (a hex string of Basic Information > App Credentials). It names
// prefixes only, never the value.
func checkSigningSecret(p *problems, secret Secret) {
	v := secret.Reveal()
	for prefix, kind := range map[string]string{"xapp-": "an app-level token", "xoxb-": "a bot token", "xoxp-": "a user token"} {
		if strings.HasPrefix(v, prefix) {
			p.add("slack.signing_secret", "holds %s (%s…); use the Signing Secret from the app's Basic Information > App Credentials", kind, prefix)
			return
		}
	}
	if v != "" && strings.ContainsAny(v, " \t\n") {
		p.add("slack.signing_secret", "contains whitespace; copy the Signing Secret from the app's Basic Information > App Credentials again")
	}
}

// checkPrincipals wants Slack user ids, user group ids or @handles.
func checkPrincipals(p *problems, key string, list []string) {
	for i, v := range list {
		if userIDRE.MatchString(v) || groupIDRE.MatchString(v) || handleRE.MatchString(v) {
			continue
		}
		at := key + "[" + strconv.Itoa(i) + "]"
		switch {
		case strings.Contains(v, "@") && !strings.HasPrefix(v, "@"):
			p.add(at, "%q is an email address; use the person's Slack member id (U…), from their profile's "+
				"⋮ menu > Copy member ID", v)
		case strings.HasPrefix(v, "@"):
			p.add(at, "%q is not a valid handle; handles are @ and lowercase letters, digits, '.', '_' or '-'", v)
		default:
			p.add(at, "%q is not a Slack user id (U… or W…), user group id (S…) or handle (@name)", v)
		}
	}
}
