package carebook_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/stretchr/testify/require"
)

// dispatchBatch is how many messages each benchmark iteration sends.
const dispatchBatch = 2000

// BenchmarkDispatch measures reminder dispatch through the outbox on
// PostgreSQL to a fake Twilio with the real twilio-go client, in messages a
// second, with one and with two dispatchers draining the same outbox, beside
// the ceiling of the same sends made straight to the provider (no outbox)
// with the same concurrency, in the same run. Every iteration checks that
// no message reached the provider twice.
func BenchmarkDispatch(b *testing.B) {
	c := newClinic(b, sqltest.Postgres(b))
	p := newProviders(b)
	cfg := notify.DispatcherConfig{Batch: 500, Concurrency: 32}
	ctx := context.Background()

	b.Run("provider-only", func(b *testing.B) {
		msgs := make([]*notify.Message, dispatchBatch)
		for i := range msgs {
			msgs[i] = &notify.Message{ID: c.e.IDs.New(), Channel: notify.SMS, To: c.patient.Phone, Text: "reminder"}
		}
		b.ResetTimer()
		for range b.N {
			sendAll(b, p.sms, msgs, cfg.Concurrency)
		}
		b.ReportMetric(float64(b.N*dispatchBatch)/b.Elapsed().Seconds(), "msgs/s")
	})
	for _, k := range []int{1, 2} {
		b.Run(fmt.Sprintf("dispatchers=%d", k), func(b *testing.B) {
			ds := make([]*notify.Dispatcher, k)
			for i := range ds {
				ds[i] = c.e.NewDispatcher(cfg, p.sms)
			}
			start := p.twilio.Duplicates()
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				c.fillKeyed(b, "bench-"+c.e.IDs.New().String(), dispatchBatch)
				dups := p.twilio.Duplicates()
				b.StartTimer()
				var wg sync.WaitGroup
				for _, d := range ds {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, err := d.Drain(ctx)
						require.NoError(b, err)
					}()
				}
				wg.Wait()
				b.StopTimer()
				require.Equal(b, dups, p.twilio.Duplicates(), "a message reached the provider twice")
				b.StartTimer()
			}
			b.ReportMetric(float64(b.N*dispatchBatch)/b.Elapsed().Seconds(), "msgs/s")
			b.ReportMetric(float64(p.twilio.Duplicates()-start), "duplicates")
		})
	}
}

// sendAll sends msgs through s with n at a time.
func sendAll(b *testing.B, s notify.Sender, msgs []*notify.Message, n int) {
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, m := range msgs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := s.Send(ctx, notify.Outgoing{Message: m})
			require.NoError(b, err)
		}()
	}
	wg.Wait()
}
