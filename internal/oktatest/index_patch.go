package oktatest

import (
	"slices"
	"sync/atomic"
)

// Removals patch the served index instead of rebuilding it: rebuilding a
// Mercari-sized org after every DELETE would make the fake, not the client
// under test, the bottleneck of a 10,000-removal run. The patch is
// copy-on-write, so requests still reading the old index are unaffected.

// patched returns a copy of x sharing everything but the caches, which are
// copied (the user cache as is; the app-user cache empty, to recompute).
func (x *index) patched() *index {
	y := *x
	y.userCache = make([]atomic.Pointer[[]byte], len(x.userCache))
	for i := range x.userCache {
		y.userCache[i].Store(x.userCache[i].Load())
	}
	y.appUsers = make([]atomic.Pointer[[]indexAppUser], len(x.appUsers))
	return &y
}

// withoutMember is x after removing user position p from group position g.
func (x *index) withoutMember(g, p int) *index {
	y := x.patched()
	y.members = slices.Clone(x.members)
	y.members[g] = slices.DeleteFunc(slices.Clone(x.members[g]), func(v int) bool { return v == p })
	return y
}

// withoutDirect is x after removing user position p's direct assignment to
// app position a.
func (x *index) withoutDirect(a, p int) *index {
	y := x.patched()
	y.direct = slices.Clone(x.direct)
	y.direct[a] = slices.DeleteFunc(slices.Clone(x.direct[a]), func(v int) bool { return v == p })
	return y
}
