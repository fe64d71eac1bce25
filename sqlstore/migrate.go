package sqlstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/uptrace/bun/migrate"
)

//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrationFiles embed.FS

// Names of bun's bookkeeping tables.
const (
	migrationsTable     = "carebook_migrations"
	migrationLocksTable = "carebook_migration_locks"
)

// migrateLockKey is the session advisory lock that makes concurrent Migrate
// calls on one PostgreSQL database wait for each other.
const migrateLockKey int64 = 0x6361726562_6f6f6b // "carebook"

// migrateLockPatience is how long Migrate waits for another migrator on SQLite.
const migrateLockPatience = time.Minute

// MigrationsFS returns the embedded SQL migrations of dialect d, named as
// bun/migrate expects ("<version>_<name>.tx.up.sql"). Tools can hash them to
// tell schema versions apart.
func MigrationsFS(d Dialect) (fs.FS, error) {
	sub, err := fs.Sub(migrationFiles, "migrations/"+string(d))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: migrations of %q: %w", d, err)
	}
	return sub, nil
}

func (s *Store) migrator() (*migrate.Migrator, error) {
	sub, err := MigrationsFS(s.conn.dialect)
	if err != nil {
		return nil, err
	}
	ms := migrate.NewMigrations()
	if err := ms.Discover(sub); err != nil {
		return nil, fmt.Errorf("sqlstore: discover migrations: %w", err)
	}
	return migrate.NewMigrator(s.conn.db, ms,
		migrate.WithTableName(migrationsTable),
		migrate.WithLocksTableName(migrationLocksTable),
		migrate.WithMarkAppliedOnSuccess(true),
	), nil
}

// Migrate brings the schema up to date with the embedded migrations. It is
// safe to call from several processes at once: on PostgreSQL callers queue
// on an advisory lock and then take bun's migration lock; on SQLite they
// retry bun's migration lock for up to a minute.
func (s *Store) Migrate(ctx context.Context) (err error) {
	const op = "sqlstore.Migrate"
	// The migrator runs transactions of its own, outside the writers' turn.
	ctx = withoutTurn(ctx)
	m, err := s.migrator()
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if s.conn.dialect == Postgres {
		conn, err := s.conn.db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", migrateLockKey); err != nil {
			return fmt.Errorf("%s: advisory lock: %w", op, err)
		}
		defer func() {
			// A fresh context: the lock must go even if ctx is done.
			_, uerr := conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(?)", migrateLockKey)
			if err == nil && uerr != nil {
				err = fmt.Errorf("%s: advisory unlock: %w", op, uerr)
			}
		}()
	}
	if err := m.Init(ctx); err != nil {
		return fmt.Errorf("%s: init: %w", op, err)
	}
	if err := s.lockMigrator(ctx, m); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer func() {
		if uerr := m.Unlock(context.Background()); err == nil && uerr != nil {
			err = fmt.Errorf("%s: unlock: %w", op, uerr)
		}
	}()
	if _, err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// lockMigrator takes bun's migration lock. On PostgreSQL the caller holds the
// advisory lock, so a lock row still present was left by a crashed migrator
// and is cleared. On SQLite the lock is retried for up to migrateLockPatience.
func (s *Store) lockMigrator(ctx context.Context, m *migrate.Migrator) error {
	if s.conn.dialect == Postgres {
		if m.Lock(ctx) == nil {
			return nil
		}
		if err := m.Unlock(ctx); err != nil {
			return err
		}
		return m.Lock(ctx)
	}
	wait := 10 * time.Millisecond
	giveUp := time.Now().Add(migrateLockPatience)
	for {
		err := m.Lock(ctx)
		if err == nil {
			return nil
		}
		if time.Now().After(giveUp) {
			return fmt.Errorf("still locked after %v; if no migration is running, delete the row in %s: %w",
				migrateLockPatience, migrationLocksTable, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %w)", ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}
