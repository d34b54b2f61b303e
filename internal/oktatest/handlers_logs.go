package oktatest

import (
	"fmt"
	"net/http"
	"sort"
	"time"
)

// eventGetter exposes an event's attributes to filter expressions.
func eventGetter(e *Event) getter {
	return func(attr string) ([]string, bool) {
		switch attr {
		case "eventType":
			return one(e.EventType)
		case "uuid":
			return one(e.UUID)
		case "published":
			return one(formatTime(e.Published))
		case "outcome.result":
			return one(e.Outcome)
		case "actor.id":
			return one(e.ActorID)
		case "actor.alternateId":
			return one(e.ActorLogin)
		case "actor.type":
			return one("User")
		case "target.id", "target.type", "target.alternateId":
			out := make([]string, 0, len(e.Targets))
			for _, t := range e.Targets {
				switch attr {
				case "target.id":
					out = append(out, t.ID)
				case "target.type":
					out = append(out, t.Type)
				default:
					out = append(out, t.AlternateID)
				}
			}
			return out, true
		}
		return nil, false
	}
}

// eventKey is an event's position in the log, for cursors: fixed-width
// milliseconds then uuid, so that keys sort as events do.
func eventKey(e *Event) string {
	return fmt.Sprintf("%016d|%s", e.Published.UnixMilli(), e.UUID)
}

// logTime parses a since or until parameter.
func logTime(v string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, v)
}

// listLogs serves GET /api/v1/logs: events with since <= published <
// until that match filter, in sortOrder (ASCENDING by default). since
// defaults to seven days before now. Without until the query is a poll:
// it runs up to the server's now and always offers a next link, even on an
// empty page, as Okta does; with until the next link stops at the end.
func (s *Server) listLogs(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	x := s.view()
	p, aerr := s.parsePage(r, ListLogs)
	if aerr != nil {
		s.writeError(w, *aerr)
		return
	}
	q := r.URL.Query()
	now := s.cfg.logNow()
	since, until := now.Add(-7*24*time.Hour), now
	var err error
	if v := q.Get("since"); v != "" {
		if since, err = logTime(v); err != nil {
			s.writeError(w, *badRequest("since: not an ISO 8601 time"))
			return
		}
	}
	polling := q.Get("until") == ""
	if !polling {
		if until, err = logTime(q.Get("until")); err != nil {
			s.writeError(w, *badRequest("until: not an ISO 8601 time"))
			return
		}
	}
	if until.Before(since) {
		s.writeError(w, *badRequest("since must be before until"))
		return
	}
	desc := false
	switch q.Get("sortOrder") {
	case "", "ASCENDING":
	case "DESCENDING":
		desc = true
	default:
		s.writeError(w, *badRequest("sortOrder: ASCENDING or DESCENDING"))
		return
	}
	pred, err := parseFilter(q.Get("filter"), eventGetter(&Event{}))
	if err != nil {
		s.writeError(w, *badSearch())
		return
	}

	ev := x.events
	lo := sort.Search(len(ev), func(i int) bool { return !ev[i].Published.Before(since) })
	hi := sort.Search(len(ev), func(i int) bool { return !ev[i].Published.Before(until) })
	var idx []int
	more := false
	take := func(i int) bool {
		if !pred(eventGetter(&ev[i])) {
			return true
		}
		if len(idx) == p.limit {
			more = true
			return false
		}
		idx = append(idx, i)
		return true
	}
	if desc {
		end := hi
		if p.after != "" {
			end = min(hi, sort.Search(len(ev), func(i int) bool { return eventKey(&ev[i]) >= p.after }))
		}
		for i := end - 1; i >= lo; i-- {
			if !take(i) {
				break
			}
		}
	} else {
		start := lo
		if p.after != "" {
			start = max(lo, sort.Search(len(ev), func(i int) bool { return eventKey(&ev[i]) > p.after }))
		}
		for i := start; i < hi; i++ {
			if !take(i) {
				break
			}
		}
	}
	body := listBody(idx, 1500, func(b []byte, i int) []byte { return appendEvent(b, &ev[i]) })
	next := ""
	switch {
	case len(idx) > 0 && (more || polling):
		next = encodeCursor(eventKey(&ev[idx[len(idx)-1]]))
	case polling && q.Get("after") != "":
		next = q.Get("after")
	case polling:
		next = encodeCursor(fmt.Sprintf("%016d|", since.UnixMilli()-1))
	}
	s.writePage(w, r, body, next)
}

// head returns the first n bytes of s, or s.
func head(s string, n int) string { return s[:min(n, len(s))] }

// displayMessages are the System Log's messages per event type.
var displayMessages = map[string][2]string{
	EventSSO:          {"User single sign on to app", "app.auth.sso"},
	EventSessionStart: {"User login to Okta", "core.user_auth.login_success"},
	EventAppMemberAdd: {"Add user to application membership", "app.generic.provision.assign_user_to_app"},
}

// appendEvent appends a System Log event in Okta's shape.
func appendEvent(b []byte, e *Event) []byte {
	msg := displayMessages[e.EventType]
	b = append(b, `{"actor":{"id":`...)
	b = appendString(b, e.ActorID)
	b = append(b, `,"type":"User","alternateId":`...)
	b = appendString(b, e.ActorLogin)
	b = append(b, `,"displayName":`...)
	b = appendString(b, e.ActorName)
	b = append(b, `,"detailEntry":null},"client":{"userAgent":{"rawUserAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36","os":"Mac OS X","browser":"CHROME"},"zone":"null","device":"Computer","id":null,"ipAddress":`...)
	b = appendString(b, e.IP)
	b = append(b, `,"geographicalContext":{"city":"Tokyo","state":"Tokyo","country":"Japan","postalCode":null,"geolocation":{"lat":35.6895,"lon":139.6917}}},"authenticationContext":{"authenticationProvider":null,"credentialProvider":null,"credentialType":null,"issuer":null,"interface":null,"authenticationStep":0,"externalSessionId":`...)
	b = appendString(b, "102"+head(e.UUID, 8))
	b = append(b, `},"displayMessage":`...)
	b = appendString(b, msg[0])
	b = append(b, `,"eventType":`...)
	b = appendString(b, e.EventType)
	b = append(b, `,"outcome":{"result":`...)
	b = appendString(b, e.Outcome)
	b = append(b, `,"reason":null},"published":`...)
	b = appendTime(b, e.Published)
	b = append(b, `,"securityContext":{"asNumber":null,"asOrg":null,"isp":null,"domain":null,"isProxy":null},"severity":"INFO","debugContext":{"debugData":{}},"legacyEventType":`...)
	b = appendStringOrNull(b, msg[1])
	b = append(b, `,"transaction":{"type":"WEB","id":`...)
	b = appendString(b, "Y"+head(e.UUID, 18))
	b = append(b, `,"detail":{}},"uuid":`...)
	b = appendString(b, e.UUID)
	b = append(b, `,"version":"0","request":{"ipChain":[{"ip":`...)
	b = appendString(b, e.IP)
	b = append(b, `,"geographicalContext":null,"version":"V4","source":null}]},"target":`...)
	if len(e.Targets) == 0 {
		return append(b, "null}"...)
	}
	b = append(b, '[')
	for i, t := range e.Targets {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendString(b, t.ID)
		b = append(b, `,"type":`...)
		b = appendString(b, t.Type)
		b = append(b, `,"alternateId":`...)
		b = appendString(b, t.AlternateID)
		b = append(b, `,"displayName":`...)
		b = appendString(b, t.DisplayName)
		b = append(b, `,"detailEntry":null}`...)
	}
	return append(b, "]}"...)
}
