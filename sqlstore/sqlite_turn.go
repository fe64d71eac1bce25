package sqlstore

import (
	"context"
	"strings"
	"time"
	"unicode"

	"github.com/uptrace/bun"
)

// On SQLite one connection writes at a time, and transactions take the
// writers' turn (conn.writer) before BEGIN IMMEDIATE. A write run outside
// any transaction, such as the outbox's claim marks, would otherwise poll
// SQLite's lock under its busy timeout while transactions hand the lock on
// to each other from the queue, and under load could wait past the
// timeout and fail with SQLITE_BUSY. turnHook makes such a write queue for
// the turn too, for its one statement.

// standaloneWait bounds how long a write outside a transaction waits for
// the writers' turn before it runs without it, meeting SQLite's busy
// timeout as it did before. It is shorter than writerWait: a write made
// with a context that lost its transaction, inside that transaction's
// turn, must not stall for long.
const standaloneWait = 10 * time.Second

// turnHook is the query hook of a SQLite pool that gives each write run
// outside a transaction of the pool the writers' turn.
type turnHook struct{ c *conn }

// noTurnKey marks a context whose statements take no turn: the
// migrator's, which runs transactions of its own, and a statement's that
// holds the turn already (the rate limiter's).
type noTurnKey struct{}

// releaseKey carries, from BeforeQuery to AfterQuery, what gives the turn
// back.
type releaseKey struct{}

// withoutTurn returns ctx marked so that its statements take no turn.
func withoutTurn(ctx context.Context) context.Context {
	return context.WithValue(ctx, noTurnKey{}, true)
}

// BeforeQuery waits for the writers' turn when the statement writes and
// ctx carries no transaction of the pool. A turn not had in time, or a
// context that ended, lets the statement run without it.
func (h turnHook) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	if h.c.HasTx(ctx) || ctx.Value(noTurnKey{}) != nil || !writes(e.Query) {
		return ctx
	}
	release, err := h.c.turnWithin(ctx, standaloneWait, "sqlstore.write")
	if err != nil {
		return ctx
	}
	return context.WithValue(ctx, releaseKey{}, release)
}

// AfterQuery gives back the turn BeforeQuery took.
func (turnHook) AfterQuery(ctx context.Context, _ *bun.QueryEvent) {
	if release, ok := ctx.Value(releaseKey{}).(func()); ok {
		release()
	}
}

// writes reports whether a statement may write: anything but a SELECT, an
// EXPLAIN, or a statement that begins or ends a transaction (those of the
// pool's transactions run inside their turn already).
func writes(query string) bool {
	q := strings.TrimLeftFunc(query, unicode.IsSpace)
	end := strings.IndexFunc(q, func(r rune) bool { return !unicode.IsLetter(r) })
	if end < 0 {
		end = len(q)
	}
	switch strings.ToUpper(q[:end]) {
	case "", "SELECT", "EXPLAIN", "BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE":
		return false
	}
	return true
}
