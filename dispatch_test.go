package carebook_test

import (
	"context"
	"fmt"
	"strings"
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
func (c *clinic) fill(t testing.TB, n int) []uuid.UUID {
	t.Helper()
	now := c.clk.Now().UTC().Truncate(time.Microsecond)
	ids := make([]uuid.UUID, 0, n)
	for i := 0; i < n; i += 500 {
		var msgs []*notify.Message
		for j := i; j < min(i+500, n); j++ {
			pid := c.patient.ID
			m := &notify.Message{ID: c.e.IDs.New(), PracticeID: c.practice, Key: fmt.Sprintf("load:%d", j), Kind: notify.KindCampaign,
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

// TestDispatcherStoppedMidBatchAndRestarted stops a dispatcher in the middle
// of a batch, as a crash would, and starts another after the lease: nothing
// is sent twice; messages whose send had started are declared of unknown
// fate (dead) instead of being resent, and every other one is sent.
func TestDispatcherStoppedMidBatchAndRestarted(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newClinic(t, st)
		const n = 300
		c.fill(t, n)
		ctx, stop := context.WithCancel(context.Background())
		var calls atomic.Int64
		sms := newRecorder(notify.SMS)
		sms.fail = func(*notify.Message) error {
			if calls.Add(1) == 45 {
				stop() // the process dies while the fifth group is on the wire
			}
			return nil
		}
		cfg := notify.DispatcherConfig{Batch: 100, Concurrency: 10, Lease: time.Minute}
		_, err := c.e.NewDispatcher(cfg, sms).Drain(ctx)
		require.ErrorIs(t, err, context.Canceled)
		sentBefore, _ := sms.sent()
		require.GreaterOrEqual(t, len(sentBefore), 45)

		sms.fail = nil
		c.clk.Advance(2 * time.Minute) // past the dead dispatcher's leases
		s, err := c.e.NewDispatcher(cfg, sms).Drain(context.Background())
		require.NoError(t, err)
		assert.Equal(t, 10, s.Expired, "the group in flight is of unknown fate")

		sent, dups := sms.sent()
		assert.Zero(t, dups, "no message is sent twice")
		got := c.statuses(t)
		assert.Equal(t, n-10, got[notify.StatusSent])
		assert.Equal(t, 10, got[notify.StatusDead])
		assert.Equal(t, n, len(sent), "the in-flight group did reach the provider once")

		dead, err := c.e.Notify.Messages(context.Background(), c.practice, notify.MessageFilter{Status: []notify.Status{notify.StatusDead}, Limit: 100})
		require.NoError(t, err)
		require.Len(t, dead, 10)
		assert.True(t, strings.Contains(dead[0].LastError, "unknown"), "dead letter says why: %q", dead[0].LastError)
		// The provider's status callback settles it.
		ok, err := c.e.Notify.Store().ApplyDelivery(context.Background(), notify.Delivery{Channel: notify.SMS, MessageID: dead[0].ID,
			ProviderID: "SMcallback", Status: notify.StatusDelivered, At: c.clk.Now()})
		require.NoError(t, err)
		assert.True(t, ok)
		m, err := c.e.Notify.Message(context.Background(), c.practice, dead[0].ID)
		require.NoError(t, err)
		assert.Equal(t, notify.StatusDelivered, m.Status)
	})
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
