package postgres

import (
	"context"
	"fmt"

	"github.com/graphhook/graphhook/internal/store/sqlstore"
)

// RerunMigration applies migration version again, for tests of a migration that
// backfills rows written before it.
func (s *Store) RerunMigration(ctx context.Context, version int) error {
	if _, err := s.db.ExecContext(ctx, fmt.Sprintf(`DELETE FROM schema_migrations WHERE version = %d`, version)); err != nil {
		return err
	}
	return sqlstore.Migrate(ctx, s.db, Dialect())
}
