package campaign

import (
	"context"
	"time"
)

// ReadOptions say what a directory read covers.
type ReadOptions struct {
	// LogSince and LogUntil bound the System Log read for app sign-ins.
	LogSince, LogUntil time.Time
	// Progress, when set, is called as the read advances.
	Progress func(Progress)
}

// Progress is one progress report of a long operation.
type Progress struct {
	Phase string // e.g. "group members"
	Done  int
	Total int // 0 when unknown
}

// Directory reads the identity directory (Okta). The snapshot it returns
// holds raw manager references; Sync resolves them.
type Directory interface {
	// ReadDirectory reads users, groups, rules, apps, assignments and app
	// sign-ins. It returns an error, and no snapshot, if any read fails
	// (an *IncompleteReadError naming the failed reads when it knows them);
	// a reader that records how it read sets Snapshot.Read.
	ReadDirectory(ctx context.Context, opts ReadOptions) (*Snapshot, error)
}

// SnapshotInfo describes a stored snapshot without its contents.
type SnapshotInfo struct {
	ID          int64
	OrgURL      string
	StartedAt   time.Time
	CompletedAt time.Time
	LogCursor   time.Time
	Digest      string // SHA-256 of the content, see Digest
	Counts      SyncCounts
}

// SnapshotStore keeps directory snapshots.
type SnapshotStore interface {
	// LatestSnapshot returns the newest complete snapshot, or ErrNotFound.
	LatestSnapshot(ctx context.Context) (SnapshotInfo, error)
	// LoadUsage returns the app sign-ins recorded in a snapshot.
	LoadUsage(ctx context.Context, snapshotID int64) ([]AppUsage, error)
	// SaveSnapshot writes a snapshot and makes it the latest in one
	// transaction: on error nothing of it is visible.
	SaveSnapshot(ctx context.Context, s *Snapshot, counts SyncCounts) (int64, error)
	// LoadSnapshot reads a whole snapshot, or ErrNotFound.
	LoadSnapshot(ctx context.Context, id int64) (*Snapshot, error)
	// LoadPlanSnapshot reads what a remediation plan reads of a
	// snapshot: users, groups, apps, memberships, app-to-group and direct
	// app assignments; no group rules, no sign-ins.
	LoadPlanSnapshot(ctx context.Context, id int64) (*Snapshot, error)
	// LoadCaseSnapshot reads what building cases reads of a snapshot:
	// all but the app assignments ImpliedByGroups marks, which add
	// nothing to its relations.
	LoadCaseSnapshot(ctx context.Context, id int64) (*Snapshot, error)
	// FindUser finds a user of a snapshot by Okta id, login or email
	// (case-insensitive), or returns ErrNotFound.
	FindUser(ctx context.Context, snapshotID int64, key string) (User, error)
}
