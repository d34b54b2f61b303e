package store

import (
	"context"
	"fmt"
)

// Gauges are the counts /metrics reports from the store, read at scrape
// time with a few GROUP BY queries.
type Gauges struct {
	CampaignsByState  map[string]int
	OpenCasesByStatus map[string]int // cases of open campaigns: unanswered, answered, decided
	OutboxByState     map[string]int
	OperationsResult  map[string]int
	TicketsByState    map[string]int
	HookEventsByState map[string]int
	SnapshotAgeSec    float64 // -1 when there is no snapshot
}

// ReadGauges reads the current counts.
func (s *Store) ReadGauges(ctx context.Context) (Gauges, error) {
	g := Gauges{CampaignsByState: map[string]int{}, OpenCasesByStatus: map[string]int{}, OutboxByState: map[string]int{},
		OperationsResult: map[string]int{}, TicketsByState: map[string]int{}, HookEventsByState: map[string]int{}, SnapshotAgeSec: -1}
	queries := []struct {
		q   string
		dst *map[string]int
	}{
		{`SELECT state, COUNT(*) FROM campaigns GROUP BY state`, &g.CampaignsByState},
		{`SELECT CASE WHEN c.reviewer_decision <> '' THEN 'decided' WHEN c.member_decision <> '' THEN 'answered' ELSE 'unanswered' END,
			COUNT(*) FROM cases c JOIN campaigns k ON k.id = c.campaign_id WHERE k.state IN ('stage1', 'stage2') GROUP BY 1`, &g.OpenCasesByStatus},
		{`SELECT state, COUNT(*) FROM outbox GROUP BY state`, &g.OutboxByState},
		{`SELECT CASE WHEN result = '' THEN state ELSE result END, COUNT(*) FROM operations GROUP BY 1`, &g.OperationsResult},
		{`SELECT state, COUNT(*) FROM tickets GROUP BY state`, &g.TicketsByState},
	}
	for _, q := range queries {
		m, err := s.countBy(ctx, q.q)
		if err != nil {
			return g, fmt.Errorf("store: gauges: %w", err)
		}
		*q.dst = m
	}
	hooks, err := s.HookEventCounts(ctx) // in the events database
	if err != nil {
		return g, fmt.Errorf("store: gauges: %w", err)
	}
	g.HookEventsByState = hooks
	if info, err := s.LatestSnapshot(ctx); err == nil {
		g.SnapshotAgeSec = s.Now().Sub(info.CompletedAt).Seconds()
	}
	return g, nil
}
