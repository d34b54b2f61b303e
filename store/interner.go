package store

import (
	"bytes"
	"database/sql"
)

// interner returns one shared copy of each id string, so that millions of
// rows do not each hold their own copies of the same ids.
type interner struct {
	m     map[string]string
	okta  map[[oktaIDLen]byte]string // ids of Okta's length, held in the map's own slots
	last  string                     // what run returned last
	lists map[string][]string        // what fields returned, by the bytes it split
}

// oktaIDLen is the length of Okta's ids (00u…, 00g…, 0oa…).
const oktaIDLen = 20

func newInterner() *interner {
	return &interner{m: map[string]string{}, okta: map[[oktaIDLen]byte]string{}, lists: map[string][]string{}}
}

func (in *interner) get(b sql.RawBytes) string {
	if len(b) == 0 {
		return "" // most decisions and comments: no lookup
	}
	if len(b) == oktaIDLen {
		// A key compared in the map's slot, not through a pointer to
		// its bytes: one cache miss a lookup instead of two, over
		// millions of lookups in a map of every user.
		k := [oktaIDLen]byte(b)
		if s, ok := in.okta[k]; ok {
			return s
		}
		s := string(b)
		in.okta[k] = s
		return s
	}
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	s := string(b)
	in.m[s] = s
	return s
}

// fields splits a space-separated list of ids (a case's via groups) and
// returns one shared slice per distinct list: callers must not change it.
func (in *interner) fields(b sql.RawBytes) []string {
	if len(b) == 0 {
		return nil
	}
	if f, ok := in.lists[string(b)]; ok {
		return f
	}
	var f []string
	for _, id := range bytes.Fields(b) {
		f = append(f, in.get(id))
	}
	in.lists[string(b)] = f
	return f
}

// run is get for a column whose rows come in runs of one value (the user
// of a campaign's cases, written member by member; the app of app
// assignments, read in app order): it compares with the last value
// before looking the map up.
func (in *interner) run(b sql.RawBytes) string {
	if in.last == "" || string(b) != in.last {
		in.last = in.get(b)
	}
	return in.last
}
