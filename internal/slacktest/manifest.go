package slacktest

// The app manifests that ship (deploy/slack-app-manifest.yaml for Socket
// Mode, deploy/slack-app-manifest-http.yaml for request URLs) decide
// what the app may do on a real workspace: tests read it so that a scope
// or a setting missing from it fails a test instead of a deployment.

import (
	"fmt"
	"os"

	"gopkg.in/yaml.v3"
)

// Manifest is what the fake takes from a Slack app manifest.
type Manifest struct {
	// BotScopes are oauth_config.scopes.bot.
	BotScopes []string
	// BotEvents are settings.event_subscriptions.bot_events.
	BotEvents []string
	// HomeTab, MessagesTab and MessagesTabReadOnly are
	// features.app_home's home_tab_enabled, messages_tab_enabled and
	// messages_tab_read_only_enabled.
	HomeTab, MessagesTab, MessagesTabReadOnly bool
	// SocketMode and Interactivity are settings.socket_mode_enabled and
	// settings.interactivity.is_enabled.
	SocketMode, Interactivity bool
	// Commands are the slash commands' names, e.g. "/access-review".
	Commands []string
	// CommandURLs, InteractivityURL and EventsURL are the request URLs of
	// an app without Socket Mode: features.slash_commands[].url,
	// settings.interactivity.request_url and
	// settings.event_subscriptions.request_url (see HTTPDeliveryFor).
	CommandURLs                 map[string]string
	InteractivityURL, EventsURL string
	// OrgDeploy is settings.org_deploy_enabled: the app is org-ready, so
	// it can be installed on a whole Enterprise Grid org (WithGrid).
	OrgDeploy bool
}

// manifestFile is the YAML shape of the parts of a manifest read here.
type manifestFile struct {
	Features struct {
		AppHome struct {
			HomeTab             bool `yaml:"home_tab_enabled"`
			MessagesTab         bool `yaml:"messages_tab_enabled"`
			MessagesTabReadOnly bool `yaml:"messages_tab_read_only_enabled"`
		} `yaml:"app_home"`
		SlashCommands []struct {
			Command string `yaml:"command"`
			URL     string `yaml:"url"`
		} `yaml:"slash_commands"`
	} `yaml:"features"`
	OAuth struct {
		Scopes struct {
			Bot []string `yaml:"bot"`
		} `yaml:"scopes"`
	} `yaml:"oauth_config"`
	Settings struct {
		Events struct {
			RequestURL string   `yaml:"request_url"`
			BotEvents  []string `yaml:"bot_events"`
		} `yaml:"event_subscriptions"`
		Interactivity struct {
			Enabled    bool   `yaml:"is_enabled"`
			RequestURL string `yaml:"request_url"`
		} `yaml:"interactivity"`
		SocketMode bool `yaml:"socket_mode_enabled"`
		OrgDeploy  bool `yaml:"org_deploy_enabled"`
	} `yaml:"settings"`
}

// LoadManifest reads a Slack app manifest in YAML. It returns an error
// when the file cannot be read or parsed, or grants no bot scope.
func LoadManifest(path string) (Manifest, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Manifest{}, fmt.Errorf("slacktest: manifest: %w", err)
	}
	var f manifestFile
	if err := yaml.Unmarshal(raw, &f); err != nil {
		return Manifest{}, fmt.Errorf("slacktest: manifest %s: %w", path, err)
	}
	if len(f.OAuth.Scopes.Bot) == 0 {
		return Manifest{}, fmt.Errorf("slacktest: manifest %s: no oauth_config.scopes.bot", path)
	}
	m := Manifest{
		BotScopes: f.OAuth.Scopes.Bot, BotEvents: f.Settings.Events.BotEvents,
		HomeTab: f.Features.AppHome.HomeTab, MessagesTab: f.Features.AppHome.MessagesTab,
		MessagesTabReadOnly: f.Features.AppHome.MessagesTabReadOnly,
		SocketMode:          f.Settings.SocketMode, Interactivity: f.Settings.Interactivity.Enabled,
		InteractivityURL: f.Settings.Interactivity.RequestURL, EventsURL: f.Settings.Events.RequestURL,
		CommandURLs: map[string]string{}, OrgDeploy: f.Settings.OrgDeploy,
	}
	for _, c := range f.Features.SlashCommands {
		m.Commands = append(m.Commands, c.Command)
		if c.URL != "" {
			m.CommandURLs[c.Command] = c.URL
		}
	}
	return m, nil
}

// WithManifest makes the fake the workspace an app with this manifest is
// installed in: the bot token holds exactly the manifest's bot scopes, and
// with the Messages tab off, posts to DMs fail with messages_tab_disabled.
// With WithGrid, the manifest must be org-ready (OrgDeploy): Slack
// installs no other app on a whole org, and New panics.
func WithManifest(m Manifest) Option {
	return func(c *config) {
		WithScopes(m.BotScopes...)(c)
		if !m.MessagesTab {
			c.noMessagesTab = true
		}
		c.notOrgReady = !m.OrgDeploy
	}
}
