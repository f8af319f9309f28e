package sqlite_test

import (
	"context"
	"testing"

	"github.com/graphhook/graphhook/internal/store/sqlite"
	"github.com/graphhook/graphhook/internal/store/storetest"
)

// TestDriveItemSortBackfill: migration 020 gives drive items written before it their
// sort key (see storetest.RunDriveItemSortBackfill).
func TestDriveItemSortBackfill(t *testing.T) {
	s, err := sqlite.Open(context.Background(), sqlite.Config{Dir: t.TempDir(), Synchronous: "OFF"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.RunDriveItemSortBackfill(t, s, func(ctx context.Context) error { return s.RerunMigration(ctx, 20) })
}
