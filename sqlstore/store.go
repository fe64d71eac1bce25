package sqlstore

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/keys"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Dialect names a supported database.
type Dialect string

// The supported databases.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// Store is the composition of carebook's stores over one connection pool:
// one small store per domain, each implementing its domain's Store
// interface, all sharing the pool and the transaction carried in a context
// (see InTx). A Store is safe for concurrent use.
type Store struct {
	conn *conn

	Tenants    *Tenants    // tenant.Store
	Scheduling *Scheduling // scheduling.Store
	Identity   *Identity   // identity.Store
	RBAC       *RBAC       // rbac.Store
	Audit      *Audit      // audit.Store
	Notify     *Notify     // notify.Store: settings, templates, consent, messages, webhooks
	Outbox     *Outbox     // notify.Outbox: what the dispatcher claims and records
	Files      *Files      // files.MetaStore: the records of patients' files
	Keys       *Keys       // keys.Store: the practices' wrapped keysets
	EHR        *EHR        // ehr.Store: the patients' charts
	Billing    *Billing    // billing.Store: visit payments, policies and cards
	RateLimits *RateLimits // ratelimit.Store: the TAT of every rate-limited key
	Directory  *Directory  // directory.Store: the public directory, across practices
	Operators  *Operators  // the operator's support staff and their sessions, outside every practice
}

// conn is what every domain store shares: the pool, its dialect, and on
// SQLite the queue of writers. Its exported methods (InTx, HasTx, Lock) are
// promoted to every domain store, so that each satisfies its domain's
// transaction method with the same transactions.
type conn struct {
	db      *bun.DB
	dialect Dialect
	// sealer seals and opens protected health information and makes its
	// blind indexes, with the master key given to Open (WithMasterKey).
	// nil without one: then every write or read of a sealed column fails.
	sealer *keys.Service
	// allSealed holds the practices (uuid.UUID) known to have no patient
	// row from before sealing: nothing writes such a row again, so once
	// seen it stays true, and their lookups skip the clear rows' branch.
	allSealed sync.Map
	// writer, on SQLite, admits one transaction of the process at a time:
	// writers wait their turn here, in order, rather than poll SQLite's
	// write lock under its busy timeout, where an unlucky one can wait
	// past the timeout while others keep taking the lock. A write run
	// outside any transaction queues here too, for its one statement
	// (turnHook). nil on PostgreSQL.
	writer chan struct{}
}

// txKey is the context key of conn c's transaction (a *txState): a key per
// pool, so that a transaction of one database is never used for another's
// queries.
type txKey struct{ c *conn }

// txState is an open transaction and what is to run once it has ended.
type txState struct {
	tx    bun.Tx
	after []func(ctx context.Context)
}

// writerWait bounds how long a SQLite transaction waits for its turn.
const writerWait = time.Minute

// Option configures a Store opened by Open or OpenDB.
type Option func(*options)

type options struct {
	master  keys.Provider
	keyOpts []keys.Option
}

// WithMasterKey gives the master key that wraps the practices' keysets,
// which seal protected health information at rest (names, contact details,
// message bodies, TOTP secrets). Without it the store opens, but writing
// or reading any sealed column fails with KindInternal: carebook never
// keeps such data in clear. opts tune the store's keys.Service.
func WithMasterKey(p keys.Provider, opts ...keys.Option) Option {
	return func(o *options) { o.master, o.keyOpts = p, opts }
}

// newStore returns the Store of db in dialect d.
func newStore(db *bun.DB, d Dialect, opts []Option) *Store {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	c := &conn{db: db, dialect: d}
	if d == SQLite {
		c.writer = make(chan struct{}, 1)
		c.db = db.WithQueryHook(turnHook{c})
	}
	s := &Store{conn: c, Tenants: &Tenants{c}, Scheduling: &Scheduling{c}, Identity: &Identity{c},
		RBAC: &RBAC{c}, Audit: &Audit{c}, Notify: &Notify{c}, Outbox: &Outbox{c}, Files: &Files{c}, Keys: &Keys{c},
		EHR: &EHR{c}, Billing: &Billing{c}, RateLimits: &RateLimits{c}, Directory: &Directory{c}, Operators: &Operators{c}}
	if o.master != nil {
		c.sealer = keys.New(s.Keys, o.master, o.keyOpts...)
	}
	return s
}

// Sealer returns the keys.Service that seals the store's protected health
// information (for rotation and shredding), or nil if the store was opened
// without a master key.
func (s *Store) Sealer() *keys.Service { return s.conn.sealer }

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
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
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
	return newStore(db, d, opts), nil
}

// OpenDB returns a Store over db, whose dialect must be PostgreSQL or SQLite.
// The caller keeps the responsibility for configuring db: on SQLite, the
// connection must have foreign keys on, a busy timeout, and transactions that
// begin IMMEDIATE, or concurrent bookings may fail or overlap.
func OpenDB(db *bun.DB, opts ...Option) (*Store, error) {
	var d Dialect
	switch db.Dialect().Name() {
	case dialect.PG:
		d = Postgres
	case dialect.SQLite:
		d = SQLite
	default:
		return nil, errs.Invalid("sqlstore.OpenDB", "db", "unsupported dialect "+db.Dialect().Name().String())
	}
	return newStore(db, d, opts), nil
}

// Close closes the database.
func (s *Store) Close() error { return s.conn.db.Close() }

// DB returns the underlying database, for composing other stores' queries.
// Queries on it run outside any transaction; see IDB.
func (s *Store) DB() *bun.DB { return s.conn.db }

// IDB returns what queries run on in ctx: the transaction ctx carries (see
// InTx), or the database.
func (s *Store) IDB(ctx context.Context) bun.IDB { return s.conn.idb(ctx) }

// Dialect returns the database s works on.
func (s *Store) Dialect() Dialect { return s.conn.dialect }

// Ping checks that the database answers, for readiness probes.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.conn.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore.Ping: %w", err)
	}
	return nil
}

// InTx runs fn in one transaction, carried in the context fn receives:
// every method of every domain store of s called with that context (or one
// derived from it) runs in the transaction. It commits if fn returns nil
// and rolls back otherwise. Called with a context that already carries a
// transaction of this database, it runs fn in that transaction. On SQLite
// the transaction begins IMMEDIATE, so it holds the write lock from its
// first statement, and the transactions of one process take turns, first
// come first served (waiting at most a minute, then failing).
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.conn.InTx(ctx, fn)
}

// HasTx reports whether ctx carries a transaction of s's database.
func (s *Store) HasTx(ctx context.Context) bool { return s.conn.HasTx(ctx) }

// InTx runs fn in one transaction carried in its context; see Store.InTx.
func (c *conn) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if c.HasTx(ctx) {
		return fn(ctx)
	}
	st := &txState{}
	err := c.runTx(ctx, st, fn)
	// After the commit or rollback, and after the SQLite writer's turn is
	// given back: what runs here may take a turn of its own.
	for _, f := range st.after {
		f(ctx)
	}
	return err
}

// runTx runs fn in the new transaction st, on SQLite in the writers' turn.
func (c *conn) runTx(ctx context.Context, st *txState, fn func(ctx context.Context) error) error {
	release, err := c.turn(ctx, "sqlstore.InTx")
	if err != nil {
		return err
	}
	defer release()
	return c.db.RunInTx(ctx, nil, func(txCtx context.Context, tx bun.Tx) error {
		st.tx = tx
		return fn(context.WithValue(txCtx, txKey{c}, st))
	})
}

// turn waits for the SQLite writers' turn (see conn.writer) and returns
// what gives it back; on PostgreSQL it returns at once.
func (c *conn) turn(ctx context.Context, op string) (release func(), err error) {
	return c.turnWithin(ctx, writerWait, op)
}

// turnWithin is turn waiting at most wait.
func (c *conn) turnWithin(ctx context.Context, wait time.Duration, op string) (release func(), err error) {
	if c.writer == nil {
		return func() {}, nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case c.writer <- struct{}{}:
		return func() { <-c.writer }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return nil, errs.E(errs.KindInternal, op, "the database is busy: no turn to write within "+wait.String())
	}
}

// AfterTx makes fn run once the transaction ctx carries has ended,
// committed or rolled back, with the context that transaction was begun
// with (which carries none): for what must be written whatever becomes of
// the transaction, such as the activity-log entry of a denial decided
// inside it. It reports false, and runs nothing, when ctx carries no
// transaction of s's database.
func (s *Store) AfterTx(ctx context.Context, fn func(ctx context.Context)) bool {
	return s.conn.AfterTx(ctx, fn)
}

// AfterTx makes fn run once the transaction in ctx has ended; see
// Store.AfterTx.
func (c *conn) AfterTx(ctx context.Context, fn func(ctx context.Context)) bool {
	st, ok := ctx.Value(txKey{c}).(*txState)
	if ok {
		st.after = append(st.after, fn)
	}
	return ok
}

// HasTx reports whether ctx carries a transaction of this database: reads
// made with it may see writes not yet committed, so a cache must neither
// serve nor keep them.
func (c *conn) HasTx(ctx context.Context) bool {
	_, ok := ctx.Value(txKey{c}).(*txState)
	return ok
}

// idb returns what queries run on in ctx: its transaction, or the pool.
func (c *conn) idb(ctx context.Context) bun.IDB {
	if st, ok := ctx.Value(txKey{c}).(*txState); ok {
		return st.tx
	}
	return c.db
}

// Lock takes transaction-scoped exclusive locks on keys, in the order given.
// On PostgreSQL each key becomes pg_advisory_xact_lock on LockKey(key). On
// SQLite it does nothing, since an IMMEDIATE transaction already holds the
// database's one write lock. It fails outside a transaction.
func (c *conn) Lock(ctx context.Context, keys ...uuid.UUID) error {
	const op = "sqlstore.Lock"
	if !c.HasTx(ctx) {
		return errs.E(errs.KindInternal, op, "Lock called outside InTx")
	}
	if c.dialect != Postgres || len(keys) == 0 {
		return nil
	}
	// One round trip; the statements run one after the other, in order.
	if _, err := c.idb(ctx).ExecContext(ctx, lockSQL(keys)); err != nil {
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
