package oktatest

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// DefaultNow is the reference "now" of generated orgs when Params.Now is
// zero.
var DefaultNow = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)

// Params describe the org to generate. Zero values take the documented
// defaults; Generate with equal Params always returns an equal Org.
type Params struct {
	// Seed drives every random choice.
	Seed int64
	// Users, Apps and Groups are the sizes of the org. Users is at least 1;
	// small orgs get fewer departments and simpler structures.
	Users, Apps, Groups int
	// Now is the reference time for created/lastLogin/System Log times
	// (default DefaultNow).
	Now time.Time
	// ManagerAttr is the profile attribute holding manager references:
	// "managerId" (default) holds the manager's id; "manager" holds a
	// deterministic mix of the manager's login, email and id.
	ManagerAttr string

	// Departments is how many departments the users are split into
	// (default Users/500 bounded to 10..20, fewer for tiny orgs).
	Departments int
	// The shares below take their default when zero; a negative share
	// means none.

	// StaleShare is the share of ACTIVE users whose last login is more than
	// 60 days old, half of them more than 90 (default 0.12).
	StaleShare float64
	// NoManagerShare and DanglingShare are the shares of non-CEO users with
	// no manager reference or one that names nobody (default 0.004 each,
	// and at least one of each in orgs of 20 users or more).
	NoManagerShare, DanglingShare float64
	// ExcessiveGroupUsers is how many users belong to more than 30 groups
	// (default Users/250, at least 1; bounded by the groups available).
	ExcessiveGroupUsers int
	// CompanyWideApps is how many apps are assigned to Everyone
	// (default Apps/100 bounded to 1..5).
	CompanyWideApps int
	// SignInShare is the share of effective (user, app) relations of ACTIVE
	// apps with SSO events in the log (default 0.35).
	SignInShare float64
	// LogDays is how far back the System Log reaches (default 120).
	LogDays int
}

// MercariSized returns Params for an org of 8,000 users, 500 apps and 1,400
// groups with about 200,000 effective user-app relations and about 100,000
// System Log events.
func MercariSized(seed int64) Params {
	return Params{Seed: seed, Users: 8000, Apps: 500, Groups: 1400}
}

// withDefaults fills the zero knobs.
func (p Params) withDefaults() Params {
	p.Users = max(p.Users, 1)
	p.Apps = max(p.Apps, 0)
	p.Groups = max(p.Groups, 1)
	if p.Now.IsZero() {
		p.Now = DefaultNow
	}
	p.Now = p.Now.UTC().Truncate(time.Millisecond)
	if p.ManagerAttr == "" {
		p.ManagerAttr = "managerId"
	}
	if p.Departments <= 0 {
		p.Departments = min(max(p.Users/500, 10), 20)
	}
	p.Departments = min(p.Departments, len(departments), max((p.Users-1)/3, 1))
	if p.StaleShare == 0 {
		p.StaleShare = 0.12
	}
	if p.NoManagerShare == 0 {
		p.NoManagerShare = 0.004
	}
	if p.DanglingShare == 0 {
		p.DanglingShare = 0.004
	}
	if p.ExcessiveGroupUsers <= 0 {
		p.ExcessiveGroupUsers = max(p.Users/250, 1)
	}
	if p.CompanyWideApps <= 0 {
		p.CompanyWideApps = min(max(p.Apps/100, 1), 5)
	}
	p.CompanyWideApps = min(p.CompanyWideApps, p.Apps)
	if p.SignInShare == 0 {
		p.SignInShare = 0.35
	}
	if p.LogDays <= 0 {
		p.LogDays = 120
	}
	return p
}

// Generate builds a synthetic org. It is deterministic: every phase draws
// from its own stream seeded by Params.Seed, and nothing depends on map
// iteration order.
func Generate(p Params) *Org {
	p = p.withDefaults()
	g := &gen{
		p:   p,
		ids: map[string]bool{},
		org: &Org{
			Now:         p.Now,
			ManagerAttr: p.ManagerAttr,
			Members:     map[string][]string{},
			AppGroups:   map[string][]GroupAssignment{},
			AppDirect:   map[string][]string{},
		},
	}
	g.phase(1)
	g.org.UserTypeID = g.id("oty")
	g.users()
	g.phase(2)
	g.managerRefs()
	g.phase(3)
	g.apps()
	g.phase(4)
	g.groups()
	g.phase(5)
	g.rules()
	g.phase(6)
	g.assign()
	g.phase(7)
	g.events()
	return g.org
}

// gen holds the generator's state between phases.
type gen struct {
	p   Params
	rng *rand.Rand
	ids map[string]bool
	org *Org

	deptOf  []int   // department index per user; -1 for the CEO
	byDept  [][]int // user indexes per department
	reports [][]int // direct reports per user
	members [][]int // user indexes per group, parallel to org.Groups
	// accessApp is the app an access group is named after, per group; -1
	// for other groups.
	accessApp []int
	names     []string // display name per user, for events
	ips       []string // client addresses for events
}

// phase reseeds the stream for phase n, so that a knob changing one phase
// leaves the others as they were.
func (g *gen) phase(n uint64) {
	g.rng = rand.New(rand.NewPCG(uint64(g.p.Seed), n*0x9E3779B97F4A7C15))
}

const idChars = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// id returns a fresh Okta-style id: a 3-character prefix and 17 characters.
func (g *gen) id(prefix string) string {
	for {
		b := []byte(prefix)
		for range 17 {
			b = append(b, idChars[g.rng.IntN(len(idChars))])
		}
		if s := string(b); !g.ids[s] {
			g.ids[s] = true
			return s
		}
	}
}

// hashID derives a stable Okta-style id from parts, for ids that must be
// the same wherever they appear (an app user's "0ua" id).
func hashID(prefix string, parts ...string) string {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	r := rand.New(rand.NewPCG(h.Sum64(), 1))
	b := []byte(prefix)
	for range 17 {
		b = append(b, idChars[r.IntN(len(idChars))])
	}
	return string(b)
}

// uuid returns a random version-4 UUID.
func (g *gen) uuid() string {
	hi, lo := g.rng.Uint64(), g.rng.Uint64()
	hi = hi&^0xF000 | 0x4000
	lo = lo&^(3<<62) | 1<<63
	var b [36]byte
	k := 0
	for i, v := range [2]uint64{hi, lo} {
		for shift := 60; shift >= 0; shift -= 4 {
			if k == 8 || k == 13 || k == 18 && i == 1 || k == 23 {
				b[k] = '-'
				k++
			}
			b[k] = hexDigits[v>>uint(shift)&0xF]
			k++
		}
	}
	return string(b[:])
}

// ago returns a time between minDays and maxDays before now, to the
// millisecond.
func (g *gen) ago(minDays, maxDays float64) time.Time {
	d := minDays + g.rng.Float64()*(maxDays-minDays)
	return g.p.Now.Add(-time.Duration(d * 24 * float64(time.Hour))).Truncate(time.Millisecond)
}

// between returns a time in [a, b], to the millisecond; a when b <= a.
func (g *gen) between(a, b time.Time) time.Time {
	if !b.After(a) {
		return a
	}
	return a.Add(time.Duration(g.rng.Int64N(int64(b.Sub(a)) + 1))).Truncate(time.Millisecond)
}

// chance reports true with probability p.
func (g *gen) chance(p float64) bool { return g.rng.Float64() < p }

// logNormal draws a size from a log-normal distribution with the given
// median, bounded to [lo, hi].
func (g *gen) logNormal(median, sigma float64, lo, hi int) int {
	v := int(math.Round(median * math.Exp(sigma*g.rng.NormFloat64())))
	return min(max(v, lo), hi)
}

// sample returns k distinct elements of pool, drawn without replacement.
// pool is not modified.
func (g *gen) sample(pool []int, k int) []int {
	k = min(k, len(pool))
	if k <= 0 {
		return nil
	}
	if k*4 < len(pool) {
		// Sparse: rejection on a small set beats copying the pool.
		seen := make(map[int]bool, k)
		out := make([]int, 0, k)
		for len(out) < k {
			i := g.rng.IntN(len(pool))
			if !seen[i] {
				seen[i] = true
				out = append(out, pool[i])
			}
		}
		return out
	}
	cp := slices.Clone(pool)
	for i := range k {
		j := i + g.rng.IntN(len(cp)-i)
		cp[i], cp[j] = cp[j], cp[i]
	}
	return cp[:k]
}

// pickWeighted returns an index drawn with the given weights.
func (g *gen) pickWeighted(w []float64) int {
	total := 0.0
	for _, x := range w {
		total += x
	}
	r := g.rng.Float64() * total
	for i, x := range w {
		if r < x {
			return i
		}
		r -= x
	}
	return len(w) - 1
}
