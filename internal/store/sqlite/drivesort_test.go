package sqlite_test

import (
	"context"
	"testing"

	"github.com/graphhook/graphhook/internal/store/storetest"
)

// TestDriveItemSortBackfill: migration 020 gives drive items written before it their
// sort key (see storetest.RunDriveItemSortBackfill).
func TestDriveItemSortBackfill(t *testing.T) {
	s := openFresh(t)
	storetest.RunDriveItemSortBackfill(t, s, func(ctx context.Context) error { return s.RerunMigration(ctx, 20) })
}
