package service

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The retention policy for sealed documents kept in the service
// (documents_retention_days): the archive package is what is kept for
// ever; the service keeps a sealed PDF so that the window application can
// have it again (GetSealResult) and a department can fetch it
// (ArchiveService.GetDocument) while the case is live. Past the retention
// period the document is deleted; its ledger record stays, with the
// document's SM3 before and after sealing, its place in the chain and the
// checkpoints over it (store/sqlstore's retention.go says exactly what a
// deletion leaves).
//
// The default is 0, keep for ever: deleting is the one thing here that
// cannot be undone, a county that has not yet exported its archive
// packages must not lose documents by upgrading, and a 55 KB decision a
// sealing makes about 3 GB a year at 50,000 sealings, which a county
// server holds. A county sets a period once it exports its packages
// (sealctl archive export) on a schedule shorter than it.

// DefaultRetentionEvery is how often the purge runs unless configured.
const DefaultRetentionEvery = time.Hour

// documentPurger is the store's purge (sqlstore's PurgeDocuments).
type documentPurger interface {
	PurgeDocuments(ctx context.Context, before time.Time, limit int) (int, error)
}

// RetentionCut is the time before which sealed documents are deleted at
// now, or the zero time when documents are kept for ever.
func (c *Config) RetentionCut(now time.Time) time.Time {
	if c.DocumentsRetentionDays <= 0 {
		return time.Time{}
	}
	return now.AddDate(0, 0, -int(c.DocumentsRetentionDays))
}

// PurgeDocuments deletes the sealed documents older than the retention
// period at now, in batches, and returns how many it deleted. With no
// retention period it deletes nothing.
func (s *Service) PurgeDocuments(ctx context.Context, now time.Time) (int, error) {
	cut := s.Config.RetentionCut(now)
	if cut.IsZero() {
		return 0, nil
	}
	p, ok := s.Store.(documentPurger)
	if !ok {
		return 0, errors.New("service: this store cannot delete sealed documents")
	}
	const batch = 500
	total := 0
	for {
		n, err := p.PurgeDocuments(ctx, cut, batch)
		total += n
		if err != nil {
			return total, fmt.Errorf("retention: %w", err)
		}
		if n < batch {
			return total, nil
		}
	}
}

// runRetention purges at once and then every retention_every until ctx
// ends. Every replica runs it; their purges delete disjoint rows or none.
func (s *Service) runRetention(ctx context.Context) {
	if s.Config.DocumentsRetentionDays <= 0 {
		return
	}
	every := time.Duration(s.Config.RetentionEvery)
	if every <= 0 {
		every = DefaultRetentionEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := s.PurgeDocuments(ctx, time.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			s.Log.Error("deleting sealed documents past their retention", "err", err, "deleted", n)
		case n > 0:
			s.Log.Info("deleted sealed documents past their retention; their ledger records stay",
				"deleted", n, "retention_days", s.Config.DocumentsRetentionDays)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
