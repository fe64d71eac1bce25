package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/sqlitedialect"
)

// busyCounter is a store over a SQLite file of the test's own whose busy
// timeout is 1 ms (Open's 10 s would hide the contention), holding a table
// counter of one row, n = 0.
func busyCounter(t *testing.T) *Store {
	t.Helper()
	ctx := context.Background()
	sqldb, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "w.db")+
		"?_pragma=busy_timeout(1)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenDB(bun.NewDB(sqldb, sqlitedialect.New()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, q := range []string{"CREATE TABLE counter (n INTEGER NOT NULL)", "INSERT INTO counter (n) VALUES (0)"} {
		if _, err := s.DB().ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// writers runs write n times in each of 16 goroutines at once and checks
// that none failed and that counter ends at want.
func writers(t *testing.T, s *Store, n, want int, write func() error) {
	t.Helper()
	const goroutines = 16
	var wg sync.WaitGroup
	errc := make(chan error, goroutines*n)
	for range goroutines {
		wg.Go(func() {
			for range n {
				errc <- write()
			}
		})
	}
	wg.Wait()
	close(errc)
	failed := 0
	for err := range errc {
		if err != nil {
			if failed++; failed == 1 {
				t.Errorf("a write failed: %v", err)
			}
		}
	}
	var got int
	if err := s.DB().QueryRowContext(context.Background(), "SELECT n FROM counter").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != want*goroutines || failed > 0 {
		t.Errorf("counter = %d with %d failed writes, want %d and none", got, failed, want*goroutines)
	}
}

// TestSQLiteWritersTakeTurns runs many transactions of one process at once
// on a SQLite file whose busy timeout is 1 ms: they take turns, so none
// fails for the lock, and every write lands.
func TestSQLiteWritersTakeTurns(t *testing.T) {
	ctx := context.Background()
	s := busyCounter(t)
	const each = 40
	writers(t, s, each, each, func() error {
		return s.InTx(ctx, func(ctx context.Context) error {
			var n int
			if err := s.IDB(ctx).QueryRowContext(ctx, "SELECT n FROM counter").Scan(&n); err != nil {
				return err
			}
			_, err := s.IDB(ctx).ExecContext(ctx, "UPDATE counter SET n = ?", n+1)
			return err
		})
	})
}

// TestSQLiteWriterWaitEndsWithContext: a transaction waiting for its turn
// gives up when its context ends, and the turn it never took stays free.
func TestSQLiteWriterWaitEndsWithContext(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	inside, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		done <- s.InTx(ctx, func(context.Context) error {
			close(inside)
			<-release
			return nil
		})
	}()
	<-inside
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.InTx(cctx, func(context.Context) error { return errors.New("ran without a turn") }); !errors.Is(err, context.Canceled) {
		t.Errorf("waiting with an ended context = %v, want context.Canceled", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := s.InTx(ctx, func(context.Context) error { return nil }); err != nil {
		t.Errorf("after both: %v", err)
	}
}

// TestSQLiteWritesOutsideTxTakeTurns: on the same 1 ms busy timeout,
// writes that commit on their own (as the outbox's claim marks do) take
// turns with the transactions, so none of them fails for the lock either.
func TestSQLiteWritesOutsideTxTakeTurns(t *testing.T) {
	ctx := context.Background()
	s := busyCounter(t)
	const each = 40
	var turn atomic.Int64
	// Every other write is a transaction of 20 statements, the others one
	// statement each on the pool: 21 for each pair.
	writers(t, s, 2*each, 21*each, func() error {
		if turn.Add(1)%2 == 0 {
			_, err := s.DB().ExecContext(ctx, "UPDATE counter SET n = n + 1")
			return err
		}
		return s.InTx(ctx, func(ctx context.Context) error {
			for range 20 {
				if _, err := s.IDB(ctx).ExecContext(ctx, "UPDATE counter SET n = n + 1"); err != nil {
					return err
				}
			}
			return nil
		})
	})
}
