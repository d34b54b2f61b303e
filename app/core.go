// Package app builds attest's whole object graph from the configuration,
// once, and runs its long-lived components under one lifecycle. Both
// `attest serve` (App) and the one-shot CLI commands (Core) use it, so a
// campaign started from the command line notifies through the same chain
// as one started in Slack: the durable Slack outbox and the ServiceNow
// ticket queue.
package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack"

	"github.com/attestbot/attest/campaign"
	"github.com/attestbot/attest/config"
	"github.com/attestbot/attest/evidence"
	"github.com/attestbot/attest/handlers"
	"github.com/attestbot/attest/internal/metrics"
	"github.com/attestbot/attest/internal/progress"
	"github.com/attestbot/attest/okta"
	"github.com/attestbot/attest/servicenow"
	"github.com/attestbot/attest/store"
)

// Core is what every command that changes a campaign needs: the store,
// the engine with its complete notifier chain and, with Okta configured,
// the remediation executor on the write client. It is built once by Open
// and not changed afterwards.
type Core struct {
	Config *config.Config
	Log    zerolog.Logger
	Store  *store.Store
	Engine *campaign.Engine
	// Risk rates entitlements (the engine's Risk) by the configured rules
	// and the bindings each sync makes.
	Risk *campaign.RiskBook
	// Executor carries out approved plans; nil without Okta.
	Executor *campaign.Executor
	// Slack is the Slack side (interactions and the outbox notifier); nil
	// without Slack tokens.
	Slack *handlers.Handler
	// SlackAPI is the Web API client; nil without Slack tokens.
	SlackAPI *slack.Client
	// Filer files ServiceNow tickets; nil without ServiceNow.
	Filer *servicenow.Filer
	// Metrics counts API calls for /metrics; nil for one-shot commands.
	Metrics *metrics.Metrics
}

// Options tune Open.
type Options struct {
	// Metrics makes the core count Okta and Slack calls for /metrics.
	Metrics bool
	// Life ends background work started by Slack interactions; serve sets
	// it to its run context.
	Life context.Context
}

// Open opens the store and builds the engine, its notifier chain and the
// executor. It fails when the store cannot be opened or a configured
// integration cannot be built; the store is closed again on failure.
func Open(ctx context.Context, cfg *config.Config, log zerolog.Logger, o Options) (*Core, error) {
	// The audit key reaches every writer through this one open: serve,
	// sync and every campaign command append to a keyed chain.
	st, err := store.Open(ctx, cfg.Store.Target(), store.WithAuditKey([]byte(cfg.Store.AuditKey.Reveal())))
	if err != nil {
		return nil, err
	}
	c, err := build(ctx, cfg, log, st, o)
	if err != nil {
		st.Close()
		return nil, err
	}
	return c, nil
}

func build(ctx context.Context, cfg *config.Config, log zerolog.Logger, st *store.Store, o Options) (*Core, error) {
	c := &Core{Config: cfg, Log: log, Store: st}
	if o.Metrics {
		c.Metrics = metrics.New(st.ReadGauges)
	}
	c.Risk = &campaign.RiskBook{Rules: riskRules(cfg), Store: st, OnError: func(err error) {
		log.Warn().Err(err).Msg("risk ratings by label only until the bindings can be read")
	}}
	c.Engine = &campaign.Engine{
		Store:            st,
		HistoryRetention: cfg.Campaigns.HistoryRetention.Duration(),
		MaxOperations:    cfg.Remediation.MaxOperations,
		MaxGroupShare:    cfg.Remediation.MaxGroupShare,
		Now:              time.Now,
		Risk:             c.Risk.Level,
		// The app-owner stage's owners from attest.yaml, and the app
		// profile attribute the sync keeps.
		AppOwners:         cfg.Campaigns.Owners,
		AppOwnerAttribute: cfg.Okta.AppOwnerAttribute,
		// Control-owner sign-offs from Slack take the CLI's path; the
		// approval message shows the evidence's reviewer flags.
		SignOffs: evidenceRecorder(st, cfg),
		Flags:    evidenceRecorder(st, cfg),
		OnNotifyError: func(n campaign.Notification, err error) {
			log.Warn().Err(err).Str("notification", n.Kind).Int64("campaign", n.CampaignID).Str("to", orIAM(n.To)).
				Msg("notification not delivered")
		},
	}
	// The notifier chain: Slack first (or a notifier that refuses, so
	// nothing is recorded as sent), then ServiceNow tickets.
	chain := campaign.Notifiers{campaign.NotifierFunc(func(context.Context, campaign.Notification) error {
		return campaign.ErrNotDelivered
	})}
	if cfg.RequireSlack() == nil {
		c.SlackAPI = slack.New(cfg.Slack.BotToken.Reveal(), slack.OptionAppLevelToken(cfg.Slack.AppToken.Reveal()),
			slack.OptionAPIURL(cfg.Slack.APIURL))
		c.Slack = &handlers.Handler{
			Engine: c.Engine, Store: st, Campaign: st, API: c.SlackAPI, Log: log.With().Str("component", "slack").Logger(), Life: o.Life,
			Settings: handlers.Settings{
				Command: cfg.Slack.Command, ApprovalsChannel: cfg.Slack.ApprovalsChannel,
				Admins: cfg.Slack.Admins, Approvers: cfg.Slack.Approvers, SignInWindowDays: cfg.Okta.SystemLogDays,
				Grid:        handlers.Grid{EnterpriseID: cfg.Slack.EnterpriseID, TeamIDs: cfg.Slack.TeamIDs},
				Definitions: func() ([]campaign.DefinitionFile, error) { return LoadDefinitions(cfg.Campaigns.Dir) },
			},
		}
		chain[0] = c.Slack
		c.Engine.IsAdmin, c.Engine.IsApprover = c.Slack.EngineChecks()
	}
	if sn := cfg.ServiceNow; sn.Enabled() {
		c.Filer = &servicenow.Filer{Queue: st, Campaigns: st, Table: sn.Table, AssignmentGroup: sn.AssignmentGroup,
			CallerID: sn.CallerID, ReviewTickets: sn.ReviewTickets}
		chain = append(chain, c.Filer)
	}
	c.Engine.Notifier = chain
	if cfg.RequireOkta() == nil {
		x, err := c.newExecutor(ctx)
		if err != nil {
			return nil, err
		}
		c.Executor = x
		if cfg.Remediation.StepUp {
			write := x.Okta.(*okta.Client)
			c.Engine.StepUp = func(ctx context.Context, a campaign.Actor) error {
				return write.StepUp(ctx, a.UserID, 90*time.Second, 2*time.Second)
			}
		}
	}
	return c, nil
}

// Delivers reports whether notifications reach people (Slack is
// configured); without it the CLI says that nothing will be delivered.
func (c *Core) Delivers() bool { return c.Slack != nil }

// Close closes the store.
func (c *Core) Close() error { return c.Store.Close() }

// newExecutor builds the remediation executor with its own Okta client on
// the write token (okta.write_api_token, else okta.api_token) or the write
// service app (okta.auth: private_key).
func (c *Core) newExecutor(ctx context.Context) (*campaign.Executor, error) {
	client, err := newOktaClient(ctx, c.Config, c.Log, c.Metrics, true)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	r := c.Config.Remediation
	return &campaign.Executor{
		Store: c.Store, Ops: c.Store, Okta: client, Notifier: c.Engine.Notifier,
		Progress:        progress.New(c.Log, "remediation").Update,
		Worker:          host + ":" + strconv.Itoa(os.Getpid()),
		DryRun:          r.DryRun,
		ProtectedGroups: r.ProtectedGroups,
		ProtectedUsers:  r.ProtectedUsers,
		MaxOperations:   r.MaxOperations,
		MaxGroupShare:   r.MaxGroupShare,
		// The only group the executor ever adds users to.
		QuarantineGroup: c.Config.Okta.EventHook.QuarantineGroup,
	}, nil
}

// OktaOptions turns the configuration into the Okta client's options on
// the read token; m, when set, counts calls by outcome.
func OktaOptions(cfg *config.Config, log zerolog.Logger, m *metrics.Metrics) okta.Options {
	var observe func(int)
	if m != nil {
		observe = func(status int) { m.APICalls.WithLabelValues("okta", outcome(status)).Inc() }
	}
	return okta.Options{
		Observe:           observe,
		OrgURL:            cfg.Okta.OrgURL,
		Token:             cfg.Okta.APIToken.Reveal(),
		Concurrency:       cfg.Okta.Concurrency,
		RequestTimeout:    cfg.Okta.RequestTimeout.Duration(),
		MaxRetries:        cfg.Okta.MaxRetries,
		Headroom:          cfg.Okta.RateLimitHeadroom,
		ManagerAttribute:  cfg.Okta.ManagerAttribute,
		AppOwnerAttribute: cfg.Okta.AppOwnerAttribute,
		Logger:            log,
	}
}

// outcome names an HTTP status for the API call metrics.
func outcome(status int) string {
	switch {
	case status == 429:
		return "rate_limited"
	case status >= 200 && status < 400:
		return "ok"
	}
	return "error"
}

func riskRules(cfg *config.Config) campaign.RiskRules {
	rules := campaign.RiskRules{Apps: map[string]string{}, Groups: map[string]string{}}
	for k, lvl := range cfg.Risk.Apps {
		rules.Apps[k] = string(lvl)
	}
	for k, lvl := range cfg.Risk.Groups {
		rules.Groups[k] = string(lvl)
	}
	return rules
}

func orIAM(to string) string {
	if to == "" {
		return "iam-team"
	}
	return to
}

// ReadDefinition reads and parses one campaign definition file, returning
// it with its YAML text.
func ReadDefinition(path string) (*campaign.Definition, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	def, err := campaign.ParseDefinition(path, data)
	return def, string(data), err
}

// LoadDefinitions reads every *.yaml definition in dir. A definition that
// does not parse is an error naming its file, so a typo is not silently
// skipped by the scheduler; the others are returned.
func LoadDefinitions(dir string) ([]campaign.DefinitionFile, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	var out []campaign.DefinitionFile
	var errs []error
	for _, p := range paths {
		def, text, err := ReadDefinition(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, campaign.DefinitionFile{Path: p, YAML: text, Def: def})
	}
	return out, errors.Join(errs...)
}

// evidenceRecorder is the evidence over the store, with the evidence.*
// thresholds of the reviewer flags.
func evidenceRecorder(st *store.Store, cfg *config.Config) *evidence.SignOffs {
	e := cfg.Evidence
	return &evidence.SignOffs{Store: st, Now: time.Now, Thresholds: evidence.Thresholds{FastDecisionSeconds: e.FastDecisionSeconds,
		FastDecisionsMax: e.FastDecisionsMax, WithinDeliverySeconds: e.WithinDeliverySeconds, AllKeptMinCases: e.AllKeptMinCases}}
}
