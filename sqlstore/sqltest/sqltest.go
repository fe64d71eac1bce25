// Package sqltest opens isolated, migrated sqlstore databases for tests.
//
// SQLite opens a fresh file under t.TempDir(). Postgres creates a fresh
// database per test on the server named by the environment variable
// CAREBOOK_TEST_POSTGRES (such as
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable), cloned from a
// template database that is migrated once and kept, named by a hash of the
// migrations, so that each test costs one CREATE DATABASE. Each database is
// dropped at t.Cleanup. When CAREBOOK_TEST_POSTGRES is empty, Postgres skips
// the test, or fails it if CAREBOOK_REQUIRE_POSTGRES=1.
package sqltest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	_ "embed" // the test master key
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/keys"
	"github.com/carebook/carebook/sqlstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
)

// Environment variables read by Postgres.
const (
	EnvPostgres        = "CAREBOOK_TEST_POSTGRES"
	EnvRequirePostgres = "CAREBOOK_REQUIRE_POSTGRES"
)

// testMaster is the master key of every test store: one fixed key, in
// clear in this file's package, so that a seeded database kept between runs
// (Seeded) opens with it again. It protects nothing: it is for tests only.
//
//go:embed testmaster.json
var testMaster []byte

// MasterKey returns the tests' master key (see testMaster), with which
// SQLite, Postgres and Seeded open their stores.
var MasterKey = sync.OnceValue(func() keys.Provider {
	h, err := insecurecleartextkeyset.Read(keyset.NewJSONReader(bytes.NewReader(testMaster)))
	if err != nil {
		panic("sqltest: the test master key: " + err.Error())
	}
	p, err := keys.NewStatic(h)
	if err != nil {
		panic("sqltest: the test master key: " + err.Error())
	}
	return p
})

// SQLite returns a migrated Store on a new SQLite file in t.TempDir(),
// closed at t.Cleanup.
func SQLite(t testing.TB) *sqlstore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tpl, err := sqliteTemplate()
	if err != nil {
		t.Fatalf("sqltest: the migrated SQLite template: %v", err)
	}
	path := filepath.Join(t.TempDir(), "carebook.db")
	if err := os.WriteFile(path, tpl, 0o600); err != nil {
		t.Fatalf("sqltest: copy the SQLite template: %v", err)
	}
	s, err := sqlstore.Open(ctx, "sqlite:"+path, sqlstore.WithMasterKey(MasterKey()))
	if err != nil {
		t.Fatalf("sqltest: open SQLite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// sqliteTemplate is the bytes of a migrated, empty SQLite database, which
// SQLite copies for each test rather than migrating anew (as Postgres
// clones its template database); made once per schema (KeptSQLite).
var sqliteTemplate = sync.OnceValues(func() ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	path, err := KeptSQLite(ctx, "sqltest", 1, nil)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(path)
})

// KeptSQLite returns the path of a SQLite file kept between runs in
// os.TempDir(), named by name, version and the migrations' hash: the first
// call migrates a new file and calls seed (nil for none), then renames it
// into place, checkpointed, so that processes running at once never open
// half of one; later calls, while the migrations and version stay the
// same, reuse it. Benchmarks keep their large fixtures so; the caller
// must not change what it measures.
func KeptSQLite(ctx context.Context, name string, version int, seed func(ctx context.Context, s *sqlstore.Store) error) (string, error) {
	hash, err := MigrationsHash(sqlstore.SQLite)
	if err != nil {
		return "", err
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("carebook-%s-v%d-%s.db", name, version, hash))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	tmp := fmt.Sprintf("%s.seeding-%d", path, os.Getpid())
	defer func() {
		for _, f := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
			os.Remove(f)
		}
	}()
	s, err := sqlstore.Open(ctx, "sqlite:"+tmp, sqlstore.WithMasterKey(MasterKey()))
	if err != nil {
		return "", err
	}
	err = s.Migrate(ctx)
	if err == nil && seed != nil {
		err = seed(ctx, s)
	}
	if err == nil {
		// Everything into the main file, so that it alone is the database.
		_, err = s.DB().ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	}
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("seed %s: %w", path, err)
	}
	return path, os.Rename(tmp, path)
}

// PostgresDSN returns the DSN in CAREBOOK_TEST_POSTGRES, skipping t if it is
// empty (failing it if CAREBOOK_REQUIRE_POSTGRES=1).
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvPostgres)
	if dsn == "" {
		if os.Getenv(EnvRequirePostgres) == "1" {
			t.Fatalf("sqltest: %s=1 but %s is empty", EnvRequirePostgres, EnvPostgres)
		}
		t.Skipf("sqltest: %s is empty; skipping PostgreSQL", EnvPostgres)
	}
	return dsn
}

// Postgres returns a migrated Store on a new PostgreSQL database, closed and
// dropped at t.Cleanup.
func Postgres(t testing.TB) *sqlstore.Store {
	t.Helper()
	dsn := PostgresDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := sqlstore.Open(ctx, dsn, sqlstore.WithMasterKey(MasterKey()))
	if err != nil {
		t.Fatalf("sqltest: open PostgreSQL: %v", err)
	}
	t.Cleanup(func() { s.Close() }) // runs before the drop
	return s
}

// PostgresDatabase makes a new migrated PostgreSQL database, dropped (with
// whatever is still connected to it) at t.Cleanup, and returns its DSN:
// for tests that start processes of their own on it.
func PostgresDatabase(t testing.TB) string {
	t.Helper()
	dsn := PostgresDSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := serverOrSkip(t, ctx, dsn)
	name := "carebook_test_" + randomHex(8)
	if _, err := srv.admin.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`,
		pgx.Identifier{name}.Sanitize(), pgx.Identifier{srv.template}.Sanitize())); err != nil {
		t.Fatalf("sqltest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := srv.admin.ExecContext(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`,
			pgx.Identifier{name}.Sanitize())); err != nil {
			t.Errorf("sqltest: drop database %s: %v", name, err)
		}
	})
	return withDatabase(dsn, name)
}

// serverOrSkip returns the server at dsn, skipping t when it does not answer
// (failing it instead when CAREBOOK_REQUIRE_POSTGRES=1), so that `make test`
// passes on a machine without PostgreSQL.
func serverOrSkip(t testing.TB, ctx context.Context, dsn string) *pgServer {
	t.Helper()
	srv, err := server(ctx, dsn)
	if err == nil {
		return srv
	}
	if os.Getenv(EnvRequirePostgres) != "1" {
		t.Skipf("sqltest: PostgreSQL at %s does not answer (%v); skipping", EnvPostgres, err)
	}
	t.Fatalf("sqltest: %v", err)
	return nil
}

// Each runs fn as subtests "sqlite" and "postgres", each on its own fresh
// database.
func Each(t *testing.T, fn func(t *testing.T, s *sqlstore.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// pgServer is a PostgreSQL server with its migrated template database.
type pgServer struct {
	admin    *sql.DB // on the DSN's own database, for CREATE and DROP DATABASE
	template string
}

// The servers of this test binary, by DSN: the template is made once per
// binary (and reused across binaries while the migrations do not change).
var (
	serversMu sync.Mutex
	servers   = map[string]*pgServer{}
)

func server(ctx context.Context, dsn string) (*pgServer, error) {
	serversMu.Lock()
	defer serversMu.Unlock()
	if s := servers[dsn]; s != nil {
		return s, nil
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("bad %s: %w", EnvPostgres, err)
	}
	admin := stdlib.OpenDB(*cfg)
	hash, err := MigrationsHash(sqlstore.Postgres)
	if err != nil {
		admin.Close()
		return nil, err
	}
	s := &pgServer{admin: admin, template: "carebook_tpl_" + hash}
	if err := s.ensureTemplate(ctx, dsn); err != nil {
		admin.Close()
		return nil, err
	}
	servers[dsn] = s
	return s, nil
}

// templateLockKey serializes template creation across test binaries.
const templateLockKey = 0x63625f74706c // "cb_tpl"

// ensureTemplate creates and migrates the template database unless a
// complete one exists. A template is complete once marked IS_TEMPLATE; one
// left half-made by a crash is dropped and made again.
func (s *pgServer) ensureTemplate(ctx context.Context, dsn string) error {
	conn, err := s.admin.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(templateLockKey)); err != nil {
		return fmt.Errorf("lock template: %w", err)
	}
	defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, int64(templateLockKey))

	ident := pgx.Identifier{s.template}.Sanitize()
	var done bool
	err = conn.QueryRowContext(ctx, `SELECT datistemplate FROM pg_database WHERE datname = $1`, s.template).Scan(&done)
	switch {
	case err == nil && done:
		return nil
	case err == nil:
		if _, err := conn.ExecContext(ctx, `DROP DATABASE `+ident+` WITH (FORCE)`); err != nil {
			return fmt.Errorf("drop half-made template: %w", err)
		}
	case err != sql.ErrNoRows:
		return fmt.Errorf("look up template: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `CREATE DATABASE `+ident); err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	st, err := sqlstore.Open(ctx, withDatabase(dsn, s.template))
	if err != nil {
		return fmt.Errorf("open template: %w", err)
	}
	err = st.Migrate(ctx)
	st.Close()
	if err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `ALTER DATABASE `+ident+` WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`); err != nil {
		return fmt.Errorf("mark template: %w", err)
	}
	return nil
}

// MigrationsHash names the schema of dialect d: the first 16 hex digits of
// a SHA-256 over its migrations' names and contents. Fixtures kept between
// runs are named by it, so that a new migration makes new ones.
func MigrationsHash(d sqlstore.Dialect) (string, error) {
	fsys, err := sqlstore.MigrationsFS(d)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	err = fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash migrations: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// withDatabase returns dsn with its database replaced by name.
func withDatabase(dsn, name string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	return strings.TrimSpace(dsn) + " dbname=" + name
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
