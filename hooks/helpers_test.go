package hooks_test

import "github.com/attestbot/attest/internal/oktatest"

// Shorthands for the fake Okta's event hook payloads.
var (
	oktaEvent    = oktatest.HookEvent
	deliveryBody = oktatest.HookDelivery
)
