package oktatest

import (
	"fmt"
	"strings"
)

// HookEvent returns one System Log event as Okta puts it in an event hook
// delivery's data.events: an admin assigning user 00ubob to app Payroll
// (0oapayroll), with the given uuid, event type and debugData (a JSON
// object).
func HookEvent(uuid, typ, debugData string) string {
	return fmt.Sprintf(`{
      "uuid": %q,
      "published": "2026-11-24T09:15:02.123Z",
      "eventType": %q,
      "version": "0",
      "displayMessage": "Add user to application membership",
      "severity": "INFO",
      "actor": {"id": "00uadmin", "type": "User", "alternateId": "admin@example.com", "displayName": "Ada Admin"},
      "client": {"userAgent": {"rawUserAgent": "Mozilla/5.0", "os": "Mac OS X", "browser": "CHROME"},
                 "zone": "null", "device": "Computer", "ipAddress": "203.0.113.7",
                 "geographicalContext": {"city": "Paris", "country": "France"}},
      "outcome": {"result": "SUCCESS"},
      "target": [
        {"id": "0oapayroll", "type": "AppInstance", "alternateId": "Payroll", "displayName": "Payroll",
         "detailEntry": {"signOnModeType": "SAML_2_0"}},
        {"id": "00ubob", "type": "User", "alternateId": "bob@example.com", "displayName": "Bob"},
        {"id": "00gfinance", "type": "UserGroup", "alternateId": "unknown", "displayName": "Finance"}
      ],
      "transaction": {"type": "WEB", "id": "Y4abc"},
      "debugContext": {"debugData": %s},
      "legacyEventType": "app.generic.provision.assign_user_to_app"
    }`, uuid, typ, debugData)
}

// HookDelivery wraps events in Okta's event hook delivery envelope.
func HookDelivery(events ...string) string {
	return `{"eventType":"com.okta.event_hook","eventTypeVersion":"1.0","cloudEventsVersion":"0.1",
  "source":"https://example.okta.com/api/v1/eventHooks/whoabc","eventId":"b5a188b9-5ece-4636-b041-482ffda96311",
  "data":{"events":[` + strings.Join(events, ",") + `]},
  "eventTime":"2026-11-24T09:15:03.000Z","contentType":"application/json"}`
}
