package store

import (
	"github.com/attestbot/attest/handlers"
	"github.com/attestbot/attest/hooks"
	"github.com/attestbot/attest/servicenow"
)

// The store implements the interfaces its callers declare. The checks live
// in a test so the store itself imports none of those packages.
var (
	_ handlers.Store        = (*Store)(nil)
	_ hooks.Store           = (*Store)(nil)
	_ servicenow.QueueStore = (*Store)(nil)
)
