package sqlstore

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

var (
	_ tenant.Store     = (*Store)(nil)
	_ scheduling.Store = (*Store)(nil)
)

// Dialect names a supported database.
type Dialect string

// The supported databases.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// Store keeps carebook's records in PostgreSQL or SQLite. It implements
// tenant.Store and scheduling.Store. A Store is safe for concurrent use; one
// returned to a transaction function by InTx or RunInTx is bound to that
// transaction and must not be used after the function returns.
type Store struct {
	db      *bun.DB
	idb     bun.IDB // db, or the transaction the Store is bound to
	inTx    bool
	dialect Dialect
	// writer, on SQLite, admits one transaction of the process at a time:
	// writers wait their turn here, in order, rather than poll SQLite's
	// write lock under its busy timeout, where an unlucky one can wait
	// past the timeout while others keep taking the lock. nil on
	// PostgreSQL.
	writer chan struct{}
}

// writerWait bounds how long a SQLite transaction waits for its turn.
const writerWait = time.Minute

// newStore returns the Store of db in dialect d.
func newStore(db *bun.DB, d Dialect) *Store {
	s := &Store{db: db, idb: db, dialect: d}
	if d == SQLite {
		s.writer = make(chan struct{}, 1)
	}
	return s
}

// Open connects to the database named by dsn:
//
//   - "postgres://..." or "postgresql://..." opens PostgreSQL through pgx.
//     Unless the DSN sets default_query_exec_mode, queries run in pgx's
//     "exec" mode, since bun sends each query with its arguments inlined
//     and caching those statements would only cost round trips.
//   - "sqlite:<path>", "file:<path>" or a path ending in ".db" opens SQLite
//     (modernc.org/sqlite, no cgo) in WAL mode, with a 10 s busy timeout,
//     foreign keys on, and BEGIN IMMEDIATE transactions. Query parameters of
//     the DSN are passed to the driver after these defaults.
//
// Open checks the connection but does not migrate; call Migrate.
func Open(ctx context.Context, dsn string) (*Store, error) {
	const op = "sqlstore.Open"
	var (
		sqldb *sql.DB
		d     Dialect
	)
	p, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	switch d = p.Dialect; d {
	case Postgres:
		sqldb = stdlib.OpenDB(*p.Postgres)
		sqldb.SetMaxIdleConns(16)
	case SQLite:
		if sqldb, err = sql.Open("sqlite", p.driverDSN()); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		if p.InMemory() {
			// Every connection would get its own empty database.
			sqldb.SetMaxOpenConns(1)
		}
		sqldb.SetMaxIdleConns(8)
	}
	var db *bun.DB
	if d == Postgres {
		db = bun.NewDB(sqldb, pgdialect.New())
	} else {
		db = bun.NewDB(sqldb, sqlitedialect.New())
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return newStore(db, d), nil
}

// OpenDB returns a Store over db, whose dialect must be PostgreSQL or SQLite.
// The caller keeps the responsibility for configuring db: on SQLite, the
// connection must have foreign keys on, a busy timeout, and transactions that
// begin IMMEDIATE, or concurrent bookings may fail or overlap.
func OpenDB(db *bun.DB) (*Store, error) {
	var d Dialect
	switch db.Dialect().Name() {
	case dialect.PG:
		d = Postgres
	case dialect.SQLite:
		d = SQLite
	default:
		return nil, errs.Invalid("sqlstore.OpenDB", "db", "unsupported dialect "+db.Dialect().Name().String())
	}
	return newStore(db, d), nil
}

// Close closes the database. It must not be called on a Store bound to a
// transaction.
func (s *Store) Close() error { return s.db.Close() }

// DB returns the underlying database, for composing other stores' queries.
func (s *Store) DB() *bun.DB { return s.db }

// IDB returns what s runs its queries on: the database, or the transaction s
// is bound to.
func (s *Store) IDB() bun.IDB { return s.idb }

// Dialect returns the database s works on.
func (s *Store) Dialect() Dialect { return s.dialect }

// Ping checks that the database answers, for readiness probes.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore.Ping: %w", err)
	}
	return nil
}

// RunInTx runs fn in one transaction with a Store bound to it, committing if
// fn returns nil and rolling back otherwise. On a Store already bound to a
// transaction it runs fn in that transaction. On SQLite the transaction
// begins IMMEDIATE, so it holds the write lock from its first statement,
// and the transactions of one process take turns, first come first served
// (waiting at most a minute, then failing).
func (s *Store) RunInTx(ctx context.Context, fn func(ctx context.Context, tx *Store) error) error {
	if s.inTx {
		return fn(ctx, s)
	}
	if s.writer != nil {
		t := time.NewTimer(writerWait)
		select {
		case s.writer <- struct{}{}:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
			return errs.E(errs.KindInternal, "sqlstore.RunInTx", "the database is busy: no turn to write within "+writerWait.String())
		}
		defer func() { <-s.writer }()
	}
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return fn(ctx, &Store{db: s.db, idb: tx, inTx: true, dialect: s.dialect, writer: s.writer})
	})
}

// InTx implements scheduling.Store with RunInTx.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx scheduling.Store) error) error {
	return s.RunInTx(ctx, func(ctx context.Context, tx *Store) error { return fn(ctx, tx) })
}

// Lock takes transaction-scoped exclusive locks on keys, in the order given.
// On PostgreSQL each key becomes pg_advisory_xact_lock on LockKey(key). On
// SQLite it does nothing, since an IMMEDIATE transaction already holds the
// database's one write lock. It fails outside a transaction.
func (s *Store) Lock(ctx context.Context, keys ...uuid.UUID) error {
	const op = "sqlstore.Lock"
	if !s.inTx {
		return errs.E(errs.KindInternal, op, "Lock called outside InTx")
	}
	if s.dialect != Postgres || len(keys) == 0 {
		return nil
	}
	// One round trip; the statements run one after the other, in order.
	if _, err := s.idb.ExecContext(ctx, lockSQL(keys)); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// lockSQL returns the statements that take advisory transaction locks on
// keys, in the order given.
func lockSQL(keys []uuid.UUID) string {
	var b strings.Builder
	for _, k := range keys {
		b.WriteString("SELECT pg_advisory_xact_lock(")
		b.WriteString(strconv.FormatInt(LockKey(k), 10))
		b.WriteString(");")
	}
	return b.String()
}

// LockKey is the 64-bit advisory lock key of id on PostgreSQL: its first
// eight bytes xor its last eight, read big-endian.
func LockKey(id uuid.UUID) int64 {
	return int64(binary.BigEndian.Uint64(id[:8]) ^ binary.BigEndian.Uint64(id[8:]))
}

// atomic runs fn in s's transaction, or in a new one when s has none.
func (s *Store) atomic(ctx context.Context, fn func(tx *Store) error) error {
	if s.inTx {
		return fn(s)
	}
	return s.RunInTx(ctx, func(_ context.Context, tx *Store) error { return fn(tx) })
}
