package carebook_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fill writes n due SMS messages for the clinic's patient to the outbox.
func (c *clinic) fill(t testing.TB, n int) []uuid.UUID { return c.fillKeyed(t, "load", n) }

// fillKeyed is fill with keys prefix:0, prefix:1, ...
func (c *clinic) fillKeyed(t testing.TB, prefix string, n int) []uuid.UUID {
	t.Helper()
	now := c.clk.Now().UTC().Truncate(time.Microsecond)
	ids := make([]uuid.UUID, 0, n)
	for i := 0; i < n; i += 500 {
		var msgs []*notify.Message
		for j := i; j < min(i+500, n); j++ {
			pid := c.patient.ID
			m := &notify.Message{ID: c.e.IDs.New(), PracticeID: c.practice, Key: fmt.Sprintf("%s:%d", prefix, j), Kind: notify.KindCampaign,
				Channel: notify.SMS, PatientID: &pid, To: c.patient.Phone, Text: fmt.Sprintf("message %d", j),
				Status: notify.StatusPending, DueAt: now, CreatedAt: now, UpdatedAt: now}
			msgs = append(msgs, m)
			ids = append(ids, m.ID)
		}
		written, err := c.e.Notify.Store().Enqueue(context.Background(), msgs...)
		require.NoError(t, err)
		require.Equal(t, len(msgs), written)
	}
	return ids
}

// statuses counts the practice's SMS by status.
func (c *clinic) statuses(t *testing.T) map[notify.Status]int {
	t.Helper()
	out := map[notify.Status]int{}
	var after *uuid.UUID
	for {
		page, err := c.e.Notify.Messages(context.Background(), c.practice, notify.MessageFilter{Channel: notify.SMS, After: after, Limit: notify.MaxLimit})
		require.NoError(t, err)
		for _, m := range page {
			out[m.Status]++
		}
		if len(page) < notify.MaxLimit {
			return out
		}
		after = &page[len(page)-1].ID
	}
}

// TestDispatchersRaceNoDuplicates runs two dispatchers, each with two
// concurrent drains, over one outbox: every message is sent exactly once.
func TestDispatchersRaceNoDuplicates(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newClinic(t, st)
		const n = 2000
		c.fill(t, n)
		sms := newRecorder(notify.SMS)
		cfg := notify.DispatcherConfig{Batch: 100, Concurrency: 16}
		ds := []*notify.Dispatcher{c.e.NewDispatcher(cfg, sms), c.e.NewDispatcher(cfg, sms)}
		var wg sync.WaitGroup
		var claimed atomic.Int64
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := ds[i%2].Drain(context.Background())
				assert.NoError(t, err)
				claimed.Add(int64(s.Claimed))
			}()
		}
		wg.Wait()
		sent, dups := sms.sent()
		assert.Zero(t, dups, "no message is sent twice")
		assert.Len(t, sent, n)
		assert.EqualValues(t, n, claimed.Load(), "no message is claimed twice")
		assert.Equal(t, map[notify.Status]int{notify.StatusSent: n}, c.statuses(t))
	})
}

// crashable is the outbox as a dispatcher that dies sees it: once crashed,
// none of its later writes reach the database.
type crashable struct {
	notify.Store
	crashed atomic.Bool
}

var errCrashed = errors.New("the process died")

func (c *crashable) MarkSending(ctx context.Context, token uuid.UUID, ids []uuid.UUID, now time.Time, lease time.Duration) ([]uuid.UUID, error) {
	if c.crashed.Load() {
		return nil, errCrashed
	}
	return c.Store.MarkSending(ctx, token, ids, now, lease)
}

func (c *crashable) Record(ctx context.Context, token uuid.UUID, rs []notify.Result) error {
	if c.crashed.Load() {
		return errCrashed
	}
	return c.Store.Record(ctx, token, rs)
}

// TestDispatcherStoppedMidBatch stops a dispatcher in the middle of a batch,
// twice: gracefully (its context ends: it records what it sent) and by a
// crash (nothing more reaches the database). Another dispatcher takes over
// after the lease. Nothing is sent twice: messages whose send may have
// reached the provider without being recorded are declared of unknown fate
// (dead, with a reason), never resent; every other message is sent once.
func TestDispatcherStoppedMidBatch(t *testing.T) {
	for _, crash := range []bool{false, true} {
		t.Run(map[bool]string{false: "graceful", true: "crash"}[crash], func(t *testing.T) {
			sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
				c := newClinic(t, st)
				const n = 300
				c.fill(t, n)
				ctx, stop := context.WithCancel(context.Background())
				store := &crashable{Store: c.e.Notify.Store()}
				var calls atomic.Int64
				sms := newRecorder(notify.SMS)
				sms.fail = func(*notify.Message) error {
					if calls.Add(1) == 45 { // the fifth group is on the wire
						store.crashed.Store(crash)
						stop()
					}
					return nil
				}
				cfg := notify.DispatcherConfig{Batch: 100, Concurrency: 5, Group: 10, Lease: time.Minute}
				_, err := notify.NewDispatcher(store, c.clk, cfg, sms).Drain(ctx)
				require.ErrorIs(t, err, context.Canceled)

				sms.fail = nil
				c.clk.Advance(2 * time.Minute) // past the stopped dispatcher's leases
				_, err = c.e.NewDispatcher(cfg, sms).Drain(context.Background())
				require.NoError(t, err)

				sent, dups := sms.sent()
				assert.Zero(t, dups, "no message is sent twice")
				got := c.statuses(t)
				assert.Equal(t, n, got[notify.StatusSent]+got[notify.StatusDead], "statuses: %v", got)
				assert.Len(t, sent, n, "each message reached the provider once")
				if !crash {
					assert.Equal(t, n, got[notify.StatusSent], "a graceful stop records what it sent")
					return
				}
				// The group on the wire, and perhaps the one before it whose
				// record was under way, are of unknown fate.
				assert.GreaterOrEqual(t, got[notify.StatusDead], 10)
				assert.LessOrEqual(t, got[notify.StatusDead], 20)
				dead, err := c.e.Notify.Messages(context.Background(), c.practice, notify.MessageFilter{Status: []notify.Status{notify.StatusDead}, Limit: 100})
				require.NoError(t, err)
				require.NotEmpty(t, dead)
				assert.Contains(t, dead[0].LastError, "unknown", "a dead letter says why")
				// The provider's status callback settles it.
				ok, err := c.e.Notify.Store().ApplyDelivery(context.Background(), notify.Delivery{Channel: notify.SMS, MessageID: dead[0].ID,
					ProviderID: "SMcallback", Status: notify.StatusDelivered, At: c.clk.Now()})
				require.NoError(t, err)
				assert.True(t, ok)
				m, err := c.e.Notify.Message(context.Background(), c.practice, dead[0].ID)
				require.NoError(t, err)
				assert.Equal(t, notify.StatusDelivered, m.Status)
			})
		})
	}
}

// TestDispatcherRetriesAndDeadLetters: temporary failures are retried with
// backoff; permanent ones and those past MaxAttempts are dead letters that
// an admin can retry.
func TestDispatcherRetriesAndDeadLetters(t *testing.T) {
	c := newClinic(t, sqltest.SQLite(t))
	ids := c.fill(t, 2)
	permanent, temporary := ids[0], ids[1]
	sms := newRecorder(notify.SMS)
	sms.fail = func(m *notify.Message) error {
		switch m.ID {
		case permanent:
			return notify.Permanent(fmt.Errorf("21211: invalid 'To' number"))
		case temporary:
			return fmt.Errorf("503 from provider")
		}
		return nil
	}
	d := c.e.NewDispatcher(notify.DispatcherConfig{MaxAttempts: 3, Backoff: time.Minute, MaxBackoff: time.Hour}, sms)
	ctx := context.Background()
	s, err := d.Drain(ctx)
	require.NoError(t, err)
	assert.Equal(t, notify.Stats{Claimed: 2, Retried: 1, Dead: 1}, s)
	m, err := c.e.Notify.Message(ctx, c.practice, temporary)
	require.NoError(t, err)
	assert.Equal(t, notify.StatusPending, m.Status)
	wait := m.DueAt.Sub(c.clk.Now())
	assert.True(t, wait >= 30*time.Second && wait <= time.Minute, "first backoff is 30-60 s, got %v", wait)

	s, err = d.Drain(ctx)
	require.NoError(t, err)
	assert.Zero(t, s.Claimed, "not due yet")
	for i := 0; i < 2; i++ {
		c.clk.Advance(2 * time.Hour)
		_, err = d.Drain(ctx)
		require.NoError(t, err)
	}
	m, err = c.e.Notify.Message(ctx, c.practice, temporary)
	require.NoError(t, err)
	assert.Equal(t, notify.StatusDead, m.Status, "dead after 3 attempts")
	assert.Equal(t, 3, m.Attempts)
	assert.Contains(t, m.LastError, "503")
	p, err := c.e.Notify.Message(ctx, c.practice, permanent)
	require.NoError(t, err)
	assert.Equal(t, notify.StatusDead, p.Status)
	assert.Equal(t, 1, p.Attempts, "a permanent error is not retried")

	sms.fail = nil
	_, err = c.e.Notify.Retry(ctx, c.practice, permanent)
	require.NoError(t, err)
	_, err = d.Drain(ctx)
	require.NoError(t, err)
	p, err = c.e.Notify.Message(ctx, c.practice, permanent)
	require.NoError(t, err)
	assert.Equal(t, notify.StatusSent, p.Status)
}
