package campaign

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// DefinitionFile is a definition with its source, as the scheduler sees it.
type DefinitionFile struct {
	Path string
	YAML string
	Def  *Definition
}

// Scheduler launches definitions on their cron schedules and
// recertification periods. Its Tick is idempotent and safe to call from
// several processes: each (definition, slot) runs once, claimed in the
// store, so two runs of one definition never overlap or repeat, and a slot
// missed while the process was down runs once at the next tick.
type Scheduler struct {
	Engine *Engine
	// Definitions returns the current definitions (re-read each tick so a
	// changed file takes effect without a restart).
	Definitions func() ([]DefinitionFile, error)
	// OnLaunch and OnError report what happened.
	OnLaunch func(d DefinitionFile, c *Campaign)
	OnError  func(d DefinitionFile, err error)
}

// ParseSchedule parses a definition's cron spec in its time zone.
func ParseSchedule(s Schedule) (cron.Schedule, error) {
	spec := s.Cron
	if s.Timezone != "" {
		spec = "CRON_TZ=" + s.Timezone + " " + spec
	}
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule.cron %q: %w", s.Cron, err)
	}
	return sched, nil
}

// DueSlot returns the latest slot of sched in (last, now], if any. With no
// last run recorded, the first slot counted is the one after first (the
// scheduler's start), so a new schedule does not fire for the past.
func DueSlot(sched cron.Schedule, last, first, now time.Time) (time.Time, bool) {
	from := last
	if from.IsZero() {
		from = first
	}
	var slot time.Time
	for t := sched.Next(from); !t.After(now); t = sched.Next(t) {
		slot = t
	}
	return slot, !slot.IsZero()
}

// ClaimDueSlot claims the latest due slot of a named schedule (a
// definition, or a job such as the stale-access sweep) and returns it:
// claimed is true when a slot
// has come since the last run and this caller is the one that claimed it,
// so each slot runs once across processes. started is when the caller's
// scheduler began, for schedules never run before. It fails only when the
// store does.
func (e *Engine) ClaimDueSlot(ctx context.Context, name string, sched cron.Schedule, started time.Time) (slot time.Time, claimed bool, err error) {
	now := e.now()
	last, err := e.Store.LastScheduleRun(ctx, name)
	if err != nil {
		return time.Time{}, false, err
	}
	slot, ok := DueSlot(sched, last, started, now)
	if !ok {
		return time.Time{}, false, nil
	}
	claimed, err = e.Store.ClaimScheduleRun(ctx, name, slot, now)
	return slot, claimed, err
}

// Tick launches every scheduled definition whose slot has come and every
// recertification definition with access due. started is when the
// scheduler first ran (for schedules never run before).
func (s *Scheduler) Tick(ctx context.Context, started time.Time) error {
	// A definition that fails to load is reported; the others still run.
	defs, err := s.Definitions()
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	now := s.Engine.now()
	for _, d := range defs {
		if d.Def.Schedule.Cron != "" {
			if err := s.runScheduled(ctx, d, started, now); err != nil {
				errs = append(errs, err)
				s.report(d, err)
			}
		}
		if d.Def.Recertification.Period > 0 {
			c, err := s.Engine.LaunchDue(ctx, d.Def, d.YAML)
			if err != nil && !errors.Is(err, ErrInvalid) {
				errs = append(errs, err)
				s.report(d, err)
			} else if c != nil && s.OnLaunch != nil {
				s.OnLaunch(d, c)
			}
		}
	}
	return errors.Join(errs...)
}

func (s *Scheduler) runScheduled(ctx context.Context, d DefinitionFile, started, now time.Time) error {
	sched, err := ParseSchedule(d.Def.Schedule)
	if err != nil {
		return fmt.Errorf("%s: %w", d.Path, err)
	}
	slot, claimed, err := s.Engine.ClaimDueSlot(ctx, d.Def.Name, sched, started)
	if err != nil || !claimed {
		return err
	}
	c, err := s.Engine.Launch(ctx, LaunchRequest{Definition: d.Def, YAML: d.YAML, Owner: System, Trigger: "schedule"})
	if err != nil {
		return fmt.Errorf("%s: scheduled launch for %s: %w", d.Path, slot.Format(time.RFC3339), err)
	}
	if err := s.Engine.Store.SetScheduleRunCampaign(ctx, d.Def.Name, slot, c.ID); err != nil {
		return err
	}
	if s.OnLaunch != nil {
		s.OnLaunch(d, c)
	}
	return nil
}

func (s *Scheduler) report(d DefinitionFile, err error) {
	if s.OnError != nil {
		s.OnError(d, err)
	}
}
