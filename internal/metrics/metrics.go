// Package metrics exposes attest's state and traffic in the Prometheus
// text format: gauges read from the store at scrape time, and counters the
// Okta and Slack clients bump as they call.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/attestbot/attest/store"
)

// Metrics holds the registry and the counters callers increment.
type Metrics struct {
	reg *prometheus.Registry
	// APICalls counts calls to Okta and Slack by service and outcome
	// ("ok", "rate_limited", "error").
	APICalls *prometheus.CounterVec
}

// New registers the collectors; gauges reports the store's counts.
func New(gauges func(ctx context.Context) (store.Gauges, error), extra ...prometheus.Collector) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		APICalls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "attest_api_calls_total",
			Help: "Calls to Okta and Slack by service and outcome."}, []string{"service", "outcome"}),
	}
	m.reg.MustRegister(m.APICalls, collectors.NewGoCollector(), &storeCollector{gauges: gauges})
	for _, c := range extra {
		m.reg.MustRegister(c)
	}
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Timeout: 10 * time.Second})
}

// storeCollector turns the store's counts into gauges at scrape time.
type storeCollector struct {
	gauges func(ctx context.Context) (store.Gauges, error)
}

var (
	descCampaigns = prometheus.NewDesc("attest_campaigns", "Campaigns by state.", []string{"state"}, nil)
	descCases     = prometheus.NewDesc("attest_open_cases", "Cases of open campaigns by status.", []string{"status"}, nil)
	descOutbox    = prometheus.NewDesc("attest_outbox_messages", "Slack outbox messages by state (pending is the depth).", []string{"state"}, nil)
	descOps       = prometheus.NewDesc("attest_executor_operations", "Remediation operations by result.", []string{"result"}, nil)
	descTickets   = prometheus.NewDesc("attest_servicenow_tickets", "ServiceNow ticket jobs by state.", []string{"state"}, nil)
	descHooks     = prometheus.NewDesc("attest_event_hook_events", "Okta event hook events received, by processing state.", []string{"state"}, nil)
	descSnapAge   = prometheus.NewDesc("attest_snapshot_age_seconds", "Age of the latest directory snapshot (-1: none).", nil, nil)
	descUp        = prometheus.NewDesc("attest_store_up", "1 when the store answered the scrape.", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCampaigns, descCases, descOutbox, descOps, descTickets, descHooks, descSnapAge, descUp} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	g, err := c.gauges(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 1)
	for _, set := range []struct {
		d *prometheus.Desc
		m map[string]int
	}{{descCampaigns, g.CampaignsByState}, {descCases, g.OpenCasesByStatus}, {descOutbox, g.OutboxByState},
		{descOps, g.OperationsResult}, {descTickets, g.TicketsByState}, {descHooks, g.HookEventsByState}} {
		for k, n := range set.m {
			ch <- prometheus.MustNewConstMetric(set.d, prometheus.GaugeValue, float64(n), k)
		}
	}
	ch <- prometheus.MustNewConstMetric(descSnapAge, prometheus.GaugeValue, g.SnapshotAgeSec)
}
