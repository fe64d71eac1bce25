package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/sqlitedialect"
)

// TestSQLiteWritersTakeTurns runs many transactions of one process at once
// on a SQLite file whose busy timeout is 1 ms: they take turns, so none
// fails for the lock, and every write lands.
func TestSQLiteWritersTakeTurns(t *testing.T) {
	ctx := context.Background()
	// Open's 10 s busy timeout would hide the contention: a store over a
	// database of the test's own, with a 1 ms one.
	sqldb, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "w.db")+
		"?_pragma=busy_timeout(1)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenDB(bun.NewDB(sqldb, sqlitedialect.New()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.DB().ExecContext(ctx, "CREATE TABLE counter (n INTEGER NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, "INSERT INTO counter (n) VALUES (0)"); err != nil {
		t.Fatal(err)
	}
	const writers, each = 16, 40
	var wg sync.WaitGroup
	errc := make(chan error, writers*each)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				errc <- s.InTx(ctx, func(ctx context.Context) error {
					var n int
					if err := s.IDB(ctx).QueryRowContext(ctx, "SELECT n FROM counter").Scan(&n); err != nil {
						return err
					}
					_, err := s.IDB(ctx).ExecContext(ctx, "UPDATE counter SET n = ?", n+1)
					return err
				})
			}
		}()
	}
	wg.Wait()
	close(errc)
	failed := 0
	for err := range errc {
		if err != nil {
			if failed++; failed == 1 {
				t.Errorf("a transaction failed: %v", err)
			}
		}
	}
	var n int
	if err := s.DB().QueryRowContext(ctx, "SELECT n FROM counter").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != writers*each || failed > 0 {
		t.Errorf("counter = %d with %d failed transactions, want %d and none", n, failed, writers*each)
	}
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
	sqldb, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "w.db")+
		"?_pragma=busy_timeout(1)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenDB(bun.NewDB(sqldb, sqlitedialect.New()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.DB().ExecContext(ctx, "CREATE TABLE counter (n INTEGER NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, "INSERT INTO counter (n) VALUES (0)"); err != nil {
		t.Fatal(err)
	}
	const writers, each = 16, 40
	var wg sync.WaitGroup
	errc := make(chan error, 2*writers*each)
	for range writers {
		wg.Go(func() {
			for range each {
				errc <- s.InTx(ctx, func(ctx context.Context) error {
					for range 20 {
						if _, err := s.IDB(ctx).ExecContext(ctx, "UPDATE counter SET n = n + 1"); err != nil {
							return err
						}
					}
					return nil
				})
				_, err := s.DB().ExecContext(ctx, "UPDATE counter SET n = n + 1")
				errc <- err
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
	var n int
	if err := s.DB().QueryRowContext(ctx, "SELECT n FROM counter").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if want := writers * each * 21; n != want || failed > 0 {
		t.Errorf("counter = %d with %d failed writes, want %d and none", n, failed, want)
	}
}
