package carebook_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carebook/carebook/billing"
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
		// Each send is counted once in the practice's usage, in the
		// transaction that marked it sent.
		now := c.clk.Now()
		tot, err := st.Billing.UsageTotals(context.Background(), &c.practice, now.AddDate(-1, 0, 0), now.AddDate(1, 0, 0))
		require.NoError(t, err)
		assert.Equal(t, []billing.UsageTotal{{Practice: c.practice, Meter: billing.MeterSMSSent, Units: n}}, tot)
	})
}

// crashable is the outbox as a dispatcher that dies sees it: once crashed,
// none of its later writes reach the database.
type crashable struct {
	notify.Outbox
	crashed atomic.Bool
}

var errCrashed = errors.New("the process died")

func (c *crashable) MarkSending(ctx context.Context, token uuid.UUID, ids []uuid.UUID, now time.Time, lease time.Duration) ([]uuid.UUID, error) {
	if c.crashed.Load() {
		return nil, errCrashed
	}
	return c.Outbox.MarkSending(ctx, token, ids, now, lease)
}

func (c *crashable) Record(ctx context.Context, token uuid.UUID, rs []notify.Result) error {
	if c.crashed.Load() {
		return errCrashed
	}
	return c.Outbox.Record(ctx, token, rs)
}

// finder is a recorder that can also say whether it has a message, as a
// provider's records do (a notify.Finder).
type finder struct {
	*recorder
	// findErr, when set, is the error of every Find: the provider cannot
	// be reached.
	findErr atomic.Pointer[error]
	finds   atomic.Int64
	// findHidden, when set and true, hides every send from Find: the
	// provider's records are behind.
	findHidden *atomic.Bool
}

func (f *finder) Find(ctx context.Context, m *notify.Message) (notify.Receipt, bool, error) {
	f.finds.Add(1)
	if err := f.findErr.Load(); err != nil {
		return notify.Receipt{}, false, *err
	}
	if f.findHidden != nil && f.findHidden.Load() {
		return notify.Receipt{}, false, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, g := range f.got {
		if g.ID == m.ID {
			return notify.Receipt{ProviderID: fmt.Sprintf("%s-%d", f.ch, i+1)}, true, nil
		}
	}
	return notify.Receipt{}, false, nil
}

// TestDispatcherStoppedMidBatch stops a dispatcher in the middle of a batch:
// gracefully (its context ends: it records what it sent and puts back
// what it marked and did not send) and by a crash (nothing more reaches the
// database). Another dispatcher takes over after the lease. With a sender
// that can ask its provider (a Finder), every message is sent exactly
// once; with one that cannot, nothing is sent twice, and only the messages
// in doubt (the sends in flight, the groups marked ahead and the results
// not yet recorded, not a whole batch) are declared of unknown fate.
func TestDispatcherStoppedMidBatch(t *testing.T) {
	for _, tc := range []struct {
		name         string
		crash, found bool
	}{{"graceful", false, false}, {"crash", true, false}, {"crash-finder", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
				c := newClinic(t, st)
				const n = 300
				c.fill(t, n)
				ctx, stop := context.WithCancel(context.Background())
				store := &crashable{Outbox: c.e.Store().Outbox}
				var calls atomic.Int64
				rec := newRecorder(notify.SMS)
				var sms notify.Sender = rec
				if tc.found {
					sms = &finder{recorder: rec}
				}
				rec.fail = func(*notify.Message) error {
					if calls.Add(1) == 45 { // the fifth group is on the wire
						store.crashed.Store(tc.crash)
						stop()
					}
					return nil
				}
				cfg := notify.DispatcherConfig{Batch: 100, Concurrency: 5, Group: 10, Lease: time.Minute}
				_, err := notify.NewDispatcher(store, c.e.Store().Notify, c.clk, cfg, sms).Drain(ctx)
				require.ErrorIs(t, err, context.Canceled)

				rec.fail = nil
				c.clk.Advance(2 * time.Minute) // past the stopped dispatcher's leases
				ds, err := c.e.NewDispatcher(cfg, sms).Drain(context.Background())
				require.NoError(t, err)

				sent, dups := rec.sent()
				assert.Zero(t, dups, "no message is sent twice")
				got := c.statuses(t)
				assert.Equal(t, n, got[notify.StatusSent]+got[notify.StatusDead], "statuses: %v", got)
				if !tc.crash || tc.found {
					assert.Equal(t, n, got[notify.StatusSent], "every message is sent (%v, %+v)", got, ds)
					assert.Len(t, sent, n, "each message reached the provider once")
					if tc.found {
						assert.Positive(t, ds.Found, "sends in doubt found at the provider: %+v", ds)
						assert.Positive(t, ds.Resent, "marked messages the provider never got: %+v", ds)
					}
					if !tc.crash {
						// What the stopped dispatcher marked and put back
						// unsent did not use up an attempt.
						all, err := c.e.Notify.Messages(context.Background(), c.practice, notify.MessageFilter{Limit: 1000})
						require.NoError(t, err)
						for _, m := range all {
							if m.Channel == notify.SMS {
								assert.Equal(t, 1, m.Attempts, "attempts of %s", m.ID)
							}
						}
					}
					return
				}
				// Of unknown fate: at most the sends in flight, the group
				// marked ahead, and the results not yet recorded.
				assert.Positive(t, got[notify.StatusDead])
				assert.LessOrEqual(t, got[notify.StatusDead], cfg.Concurrency+2*cfg.Group+4*cfg.Group)
				assert.Equal(t, got[notify.StatusDead], ds.Unknown)
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

// timesOut is a Finder whose provider accepts every message but whose
// answer never comes back in time.
type timesOut struct{ *finder }

func (s timesOut) Send(ctx context.Context, out notify.Outgoing) (notify.Receipt, error) {
	if _, err := s.recorder.Send(ctx, out); err != nil {
		return notify.Receipt{}, err
	}
	return notify.Receipt{}, fmt.Errorf("twilio: %w", context.DeadlineExceeded)
}

// TestDispatcherTimedOutSendIsSettled: a send that timed out may have
// reached the provider; through a Finder it stays in doubt and is settled
// from the provider's records after the lease, instead of being sent again.
func TestDispatcherTimedOutSendIsSettled(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newClinic(t, st)
		ids := c.fill(t, 2)
		f := &finder{recorder: newRecorder(notify.SMS)}
		d := c.e.NewDispatcher(notify.DispatcherConfig{Lease: time.Minute}, timesOut{f})
		s, err := d.RunOnce(context.Background())
		require.NoError(t, err)
		assert.Equal(t, notify.Stats{Claimed: 2}, s, "timed-out sends are neither sent nor retried")
		c.clk.Advance(time.Minute + time.Second)
		s, err = c.e.NewDispatcher(notify.DispatcherConfig{Lease: time.Minute}, f).Drain(context.Background())
		require.NoError(t, err)
		assert.Equal(t, notify.Stats{InDoubt: 2, Found: 2}, s)
		for _, id := range ids {
			m, err := c.e.Notify.Message(context.Background(), c.practice, id)
			require.NoError(t, err)
			assert.Equal(t, notify.StatusSent, m.Status)
		}
		sent, dups := f.sent()
		assert.Len(t, sent, 2)
		assert.Zero(t, dups, "a timed-out send is not sent again")
	})
}

// TestDispatcherSettlesInDoubt leaves messages in doubt (marked sending
// under a claim whose dispatcher is gone) and checks how the next
// dispatcher settles each: a message the provider has is sent, with the
// provider's ID, and not sent again; one it has no record of is pending
// again and sent once; while the provider cannot be reached they stay in
// doubt and are asked about again after the lease; a message whose sender
// cannot ask its provider is dead, of unknown fate.
func TestDispatcherSettlesInDoubt(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newClinic(t, st)
		store, out := c.e.Store().Notify, c.e.Store().Outbox
		ctx := context.Background()
		ids := c.fill(t, 3)
		now := c.clk.Now().UTC().Truncate(time.Microsecond)
		pid := c.patient.ID
		email := &notify.Message{ID: c.e.IDs.New(), PracticeID: c.practice, Key: "doubt:email", Kind: notify.KindCampaign,
			Channel: notify.Email, PatientID: &pid, To: c.patient.Email, Subject: "hello", Text: "hello",
			Status: notify.StatusPending, DueAt: now, CreatedAt: now, UpdatedAt: now}
		_, err := store.Enqueue(ctx, email)
		require.NoError(t, err)
		const lease = time.Minute
		token := uuid.New()
		claimed, err := out.Claim(ctx, token, now, 10, lease)
		require.NoError(t, err)
		require.Len(t, claimed, 4)
		_, err = out.MarkSending(ctx, token, append(ids, email.ID), now, lease)
		require.NoError(t, err)
		// The stopped dispatcher got the first SMS to the provider.
		sms := &finder{recorder: newRecorder(notify.SMS)}
		var first *notify.Message
		for _, m := range claimed {
			if m.ID == ids[0] {
				first = m
			}
		}
		_, err = sms.recorder.Send(ctx, notify.Outgoing{Message: first})
		require.NoError(t, err)
		mail := newRecorder(notify.Email) // cannot ask its provider
		cfg := notify.DispatcherConfig{Lease: lease}
		d := c.e.NewDispatcher(cfg, sms, mail)

		s, err := d.RunOnce(ctx)
		require.NoError(t, err)
		assert.Equal(t, notify.Stats{}, s, "nothing is in doubt within the lease")

		c.clk.Advance(lease + time.Second)
		unreachable := errors.New("twilio: 503 Service Unavailable")
		sms.findErr.Store(&unreachable)
		s, err = d.RunOnce(ctx)
		require.NoError(t, err)
		assert.Equal(t, notify.Stats{InDoubt: 4, Unknown: 1}, s, "provider unreachable")
		m, err := c.e.Notify.Message(ctx, c.practice, email.ID)
		require.NoError(t, err)
		assert.Equal(t, notify.StatusDead, m.Status, "a message whose sender cannot ask is dead")
		assert.Contains(t, m.LastError, "delivery unknown")
		for _, id := range ids {
			m, err := c.e.Notify.Message(ctx, c.practice, id)
			require.NoError(t, err)
			assert.Equal(t, notify.StatusSending, m.Status, "a message whose provider cannot be asked stays in doubt")
		}
		assert.Empty(t, mail.got, "nothing is resent blindly")

		sms.findErr.Store(nil)
		s, err = d.RunOnce(ctx)
		require.NoError(t, err)
		assert.Equal(t, notify.Stats{}, s, "an unsettled doubt waits for its new lease")
		c.clk.Advance(lease + time.Second)
		s, err = d.RunOnce(ctx)
		require.NoError(t, err)
		assert.Equal(t, notify.Stats{InDoubt: 3, Found: 1, Resent: 2, Claimed: 2, Sent: 2}, s)
		m, err = c.e.Notify.Message(ctx, c.practice, ids[0])
		require.NoError(t, err)
		assert.Equal(t, []any{notify.StatusSent, "sms-1"}, []any{m.Status, m.ProviderID}, "found at the provider")
		for _, id := range ids[1:] {
			m, err := c.e.Notify.Message(ctx, c.practice, id)
			require.NoError(t, err)
			assert.Equal(t, notify.StatusSent, m.Status, "not found at the provider, sent again")
		}
		sent, dups := sms.sent()
		assert.Len(t, sent, 3)
		assert.Zero(t, dups, "each message reached the provider once")
		s, err = d.Drain(ctx)
		require.NoError(t, err)
		assert.Equal(t, notify.Stats{}, s, "nothing is left")
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

// lagging is a Finder whose provider's records show a send only after lag.
type lagging struct {
	*finder
	lag time.Duration
}

func (l lagging) RecordLag() time.Duration { return l.lag }

// TestDispatcherWaitsForLaggingRecords: a message in doubt that a
// LaggingFinder does not find is not sent again until the provider's
// records have had RecordLag to show it; a send that shows up meanwhile is
// settled as sent, with no second send.
func TestDispatcherWaitsForLaggingRecords(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c := newClinic(t, st)
		ctx := context.Background()
		out := c.e.Store().Outbox
		ids := c.fill(t, 2)
		now := c.clk.Now().UTC()
		const lease = time.Minute
		token := uuid.New()
		claimed, err := out.Claim(ctx, token, now, 10, lease)
		require.NoError(t, err)
		require.Len(t, claimed, 2)
		_, err = out.MarkSending(ctx, token, ids, now, lease)
		require.NoError(t, err)
		// A stopped dispatcher had both on the wire; the provider took the
		// first, but its records do not show it yet.
		f := lagging{finder: &finder{recorder: newRecorder(notify.SMS)}, lag: 10 * time.Minute}
		var first *notify.Message
		for _, m := range claimed {
			if m.ID == ids[0] {
				first = m
			}
		}
		hidden := atomic.Bool{}
		hidden.Store(true)
		f.findHidden = &hidden
		_, err = f.recorder.Send(ctx, notify.Outgoing{Message: first})
		require.NoError(t, err)
		d := c.e.NewDispatcher(notify.DispatcherConfig{Lease: lease}, f)

		c.clk.Advance(lease + time.Second)
		s, err := d.RunOnce(ctx)
		require.NoError(t, err)
		assert.Equal(t, notify.Stats{InDoubt: 2}, s, "not found within the lag: both stay in doubt")
		_, dups := f.sent()
		assert.Zero(t, dups)

		// The records catch up: the first is found; the second, still not
		// found once the lag has passed, is sent again, once.
		hidden.Store(false)
		c.clk.Advance(10 * time.Minute)
		s, err = d.RunOnce(ctx)
		require.NoError(t, err)
		assert.Equal(t, notify.Stats{InDoubt: 2, Found: 1, Resent: 1, Claimed: 1, Sent: 1}, s)
		msgs, dups := f.sent()
		assert.Zero(t, dups, "no message reached the provider twice")
		assert.Len(t, msgs, 2)
	})
}
