package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/ratelimit"
	"github.com/jackc/pgx/v5"
)

var _ ratelimit.Store = (*RateLimits)(nil)

// RateLimits keeps the rate limiter's TAT per key in the table rate_limits
// (UNLOGGED on PostgreSQL) and decides each event in one upsert
// (ratelimit.Store), so that every replica over the database shares the
// limits.
//
// It never joins the transaction a context carries: a count is made on the
// pool, in the statement's own transaction, and stays whatever becomes of
// the caller's (a refused request's rollback must not undo it, nor a
// request's failure give its attempts back). On PostgreSQL it may so be
// called inside InTx. On SQLite, whose one writer such a transaction
// holds, it may not: there Take and Sweep fail with KindInternal inside a
// transaction rather than wait for a write lock that would only come
// after it; call the limiter before InTx. Outside one, on SQLite, the
// statement waits its turn with the transactions of the process, as they
// do among themselves.
//
// Unlike the domain stores it has no InTx: nothing of its joins one.
type RateLimits struct{ c *conn }

// takeSQLite decides an event in one statement. Its arguments, in order:
// the key, the TAT of a new key (now + cost·interval), then now, the
// increment (cost·interval) and the edge (now + capacity) as the update's
// max(tat, now) + increment <= edge, twice: once for the new TAT, once for
// the allowance. SET is evaluated against the row as it was, and the one
// writer serializes takers.
const takeSQLite = `INSERT INTO rate_limits (key, tat, allowed) VALUES (?, ?, TRUE)
ON CONFLICT (key) DO UPDATE SET
	tat = CASE WHEN max(rate_limits.tat, ?) + ? <= ? THEN max(rate_limits.tat, ?) + ? ELSE rate_limits.tat END,
	allowed = max(rate_limits.tat, ?) + ? <= ?
RETURNING tat, allowed`

// takePostgres is takeSQLite's PostgreSQL twin, of fixed text, run as a
// prepared statement (see prepared.go): $1 the key, $2 now, $3 the
// increment, $4 the edge. The row's lock serializes takers of one key,
// and ON CONFLICT DO UPDATE inserts or updates atomically under any
// number of them.
const takePostgres = `INSERT INTO rate_limits (key, tat, allowed) VALUES ($1::text, $2::bigint + $3::bigint, TRUE)
ON CONFLICT (key) DO UPDATE SET
	tat = CASE WHEN GREATEST(rate_limits.tat, $2) + $3 <= $4::bigint THEN GREATEST(rate_limits.tat, $2) + $3 ELSE rate_limits.tat END,
	allowed = GREATEST(rate_limits.tat, $2) + $3 <= $4
RETURNING tat, allowed`

// Take decides an event of cost for key under l at now (see
// ratelimit.Store), in one statement on the pool.
func (s *RateLimits) Take(ctx context.Context, key string, l ratelimit.Limit, now time.Time, cost int) (ratelimit.Decision, error) {
	const op = "sqlstore.RateLimits.Take"
	ctx, release, err := s.writeTurn(ctx, op)
	if err != nil {
		return ratelimit.Decision{}, err
	}
	defer release()
	n := now.UnixNano()
	inc := int64(cost) * int64(l.Interval())
	edge := n + int64(l.Capacity())
	var (
		tat     int64
		allowed bool
	)
	// The pool, never s.c.idb(ctx): see RateLimits.
	if s.c.dialect == Postgres {
		err = s.c.db.DB.QueryRowContext(ctx, takePostgres, pgx.QueryExecModeCacheStatement, key, n, inc, edge).Scan(&tat, &allowed)
	} else {
		err = s.c.db.QueryRowContext(ctx, takeSQLite, key, n+inc, n, inc, edge, n, inc, n, inc, edge).Scan(&tat, &allowed)
	}
	if err != nil {
		return ratelimit.Decision{}, fmt.Errorf("%s: %w", op, err)
	}
	return ratelimit.FromTAT(l, now, time.Unix(0, tat).UTC(), cost, allowed), nil
}

// Sweep deletes the keys whose TAT is at or before now: full buckets,
// which a later Take decides the same without their row.
func (s *RateLimits) Sweep(ctx context.Context, now time.Time) (int, error) {
	const op = "sqlstore.RateLimits.Sweep"
	ctx, release, err := s.writeTurn(ctx, op)
	if err != nil {
		return 0, err
	}
	defer release()
	res, err := s.c.db.ExecContext(ctx, `DELETE FROM rate_limits WHERE tat <= ?`, now.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	return int(n), nil
}

// writeTurn is, on SQLite, the writers' turn for one statement outside any
// transaction (see RateLimits), with ctx marked as holding it for the
// statement; on PostgreSQL nothing to wait for. turnHook would give the
// statement a turn too, but bun's QueryRowContext ends its hooks before the
// row is scanned, and the turn must last until then.
func (s *RateLimits) writeTurn(ctx context.Context, op string) (context.Context, func(), error) {
	if s.c.dialect == SQLite && s.c.HasTx(ctx) {
		return ctx, nil, errs.E(errs.KindInternal, op, "the rate limiter writes outside transactions, and on SQLite this one holds the only writer: call it before InTx")
	}
	release, err := s.c.turn(ctx, op)
	return withoutTurn(ctx), release, err
}
