package app

import (
	"context"
	"fmt"
	"time"

	"github.com/dbiam/dbiam/internal/metrics"
	"github.com/dbiam/dbiam/internal/reaper"
)

// startReaper runs the reaper in the background until ctx ends. Every
// replica runs one; they share the work through claims in the store.
func (s *Server) startReaper(ctx context.Context, opts Options) error {
	var id [8]byte
	if _, err := opts.Rand.Read(id[:]); err != nil {
		return fmt.Errorf("reaper owner id: %w", err)
	}
	r, err := reaper.New(reaper.Config{
		Store: s.store, Engines: s.engines, Now: opts.Now, Logger: s.log.With("component", "reaper"),
		Owner: fmt.Sprintf("%x", id), Interval: s.cfg.Reaper.Interval.Duration(),
		TerminateSessionsAtExpiry: s.cfg.Reaper.TerminateSessionsAtExpiry,
		ObservePass: func(rep reaper.Report, elapsed time.Duration, err error) {
			s.metrics.ObserveReaperPass(metrics.ReaperOutcomes{
				"dropped": rep.Dropped, "busy": rep.Busy, "failed": rep.Failed, "not_managed": rep.NotManaged,
				"group_grants_revoked": rep.GroupGrantsRevoked, "orphans_dropped": rep.OrphansDropped,
				"missing_roles": rep.MissingRoles, "purged": rep.Purged,
			}, elapsed, err)
		},
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.stopReaper = cancel
	s.reaperDone = make(chan struct{})
	go func() {
		defer close(s.reaperDone)
		_ = r.Run(ctx)
	}()
	return nil
}
