package slacktest

import (
	"strconv"
)

// conversationsHistory serves conversations.history: a channel's messages,
// newest first, after `oldest` when given, paged by `limit` and an opaque
// cursor, with each message's metadata when include_all_metadata is set
// (as Slack answers it).
func (s *Server) conversationsHistory(r *request) (map[string]any, *apiError) {
	ch, ok := s.st.channels[r.str("channel")]
	if !ok {
		return nil, fail("channel_not_found")
	}
	limit := 100
	if n, err := strconv.Atoi(r.str("limit")); err == nil && n > 0 && n <= 1000 {
		limit = n
	}
	start := 0
	if c := r.str("cursor"); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 0 {
			return nil, fail("invalid_cursor")
		}
		start = n
	}
	oldest, _ := strconv.ParseFloat(r.str("oldest"), 64)
	withMeta := r.str("include_all_metadata") == "true" || r.str("include_all_metadata") == "1"
	var all []map[string]any
	for i := len(ch.messages) - 1; i >= 0; i-- {
		m := ch.messages[i]
		if ts, _ := strconv.ParseFloat(m.TS, 64); oldest > 0 && ts <= oldest {
			continue
		}
		w := m.wire()
		if withMeta && m.Metadata != nil {
			w["metadata"] = m.Metadata
		}
		all = append(all, w)
	}
	end := min(start+limit, len(all))
	if start > len(all) {
		start = end
	}
	out := map[string]any{"messages": all[start:end], "has_more": end < len(all)}
	if end < len(all) {
		out["response_metadata"] = map[string]any{"next_cursor": strconv.Itoa(end)}
	}
	return out, nil
}
