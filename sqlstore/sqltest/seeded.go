package sqltest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/carebook/carebook/sqlstore"
	"github.com/jackc/pgx/v5"
)

// Seeded returns a Store on a PostgreSQL database that is kept between runs:
// the first run clones the migrated template, calls seed (which may take
// minutes, such as loading a million appointments) and marks the database
// done; later runs, while the migrations and version stay the same, reuse
// it. Benchmarks use it so that a large fixture is built once. The caller
// must not change the data it measures.
func Seeded(t testing.TB, name string, version int, seed func(ctx context.Context, s *sqlstore.Store) error) *sqlstore.Store {
	t.Helper()
	dsn := PostgresDSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	srv := serverOrSkip(t, ctx, dsn)
	db := fmt.Sprintf("carebook_seed_%s_v%d_%s", name, version, srv.template[len("carebook_tpl_"):])
	ident := pgx.Identifier{db}.Sanitize()
	conn, err := srv.admin.Conn(ctx)
	if err != nil {
		t.Fatalf("sqltest: %v", err)
	}
	defer conn.Close()
	// One process seeds at a time; the others wait, then reuse.
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(templateLockKey+1)); err != nil {
		t.Fatalf("sqltest: lock %s: %v", db, err)
	}
	defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, int64(templateLockKey+1))
	var comment *string
	err = conn.QueryRowContext(ctx, `SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1`, db).Scan(&comment)
	if err == nil && comment != nil && *comment == "seeded" {
		return open(t, withDatabase(dsn, db))
	}
	if _, err := conn.ExecContext(ctx, `DROP DATABASE IF EXISTS `+ident+` WITH (FORCE)`); err != nil {
		t.Fatalf("sqltest: drop half-seeded %s: %v", db, err)
	}
	if _, err := conn.ExecContext(ctx, `CREATE DATABASE `+ident+` TEMPLATE `+pgx.Identifier{srv.template}.Sanitize()); err != nil {
		t.Fatalf("sqltest: create %s: %v", db, err)
	}
	s := open(t, withDatabase(dsn, db))
	if err := seed(ctx, s); err != nil {
		t.Fatalf("sqltest: seed %s: %v", db, err)
	}
	if _, err := conn.ExecContext(ctx, `COMMENT ON DATABASE `+ident+` IS 'seeded'`); err != nil {
		t.Fatalf("sqltest: mark %s: %v", db, err)
	}
	return s
}

func open(t testing.TB, dsn string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), dsn, sqlstore.WithMasterKey(MasterKey()))
	if err != nil {
		t.Fatalf("sqltest: open PostgreSQL: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
