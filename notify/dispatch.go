package notify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/tenant"
	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"
)

// DispatcherConfig tunes a Dispatcher; zero fields take the defaults.
type DispatcherConfig struct {
	// Batch is how many messages one claim takes (default 256).
	Batch int
	// Concurrency is how many sends run at once (default 32).
	Concurrency int
	// Group is how many messages of a batch are marked sending, and then
	// recorded, together (default 4×Concurrency): at most this many are of
	// unknown fate when a dispatcher dies mid-send.
	Group int
	// Lease is how long a claim or a send may take before another
	// dispatcher takes the message over (claimed) or it is declared of
	// unknown fate (sending); default 2 minutes.
	Lease time.Duration
	// SendTimeout bounds one send (default 15 s).
	SendTimeout time.Duration
	// MaxAttempts is how many sends a message gets before it is dead
	// (default 8).
	MaxAttempts int
	// Backoff is the wait after the first failure, doubling after each
	// next one up to MaxBackoff (defaults 30 s and 6 h), with jitter.
	Backoff, MaxBackoff time.Duration
}

func (c *DispatcherConfig) fill() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Batch, 256)
	def(&c.Concurrency, 32)
	def(&c.MaxAttempts, 8)
	def(&c.Group, 4*c.Concurrency)
	defd(&c.Lease, 2*time.Minute)
	defd(&c.SendTimeout, 15*time.Second)
	defd(&c.Backoff, 30*time.Second)
	defd(&c.MaxBackoff, 6*time.Hour)
}

// Stats counts what dispatching did.
type Stats struct {
	Claimed, Sent, Retried, Dead, Expired int
}

func (s *Stats) add(o Stats) {
	s.Claimed += o.Claimed
	s.Sent += o.Sent
	s.Retried += o.Retried
	s.Dead += o.Dead
	s.Expired += o.Expired
}

// Dispatcher sends due messages from the outbox. Any number of dispatchers,
// in any number of processes, may share one database: claims never
// overlap, and a message whose send may have started is never sent again
// by a dispatcher (see Store.ExpireSending).
type Dispatcher struct {
	store   Store
	clock   clock.Clock
	senders map[Channel]Sender
	cfg     DispatcherConfig

	mu       sync.Mutex
	settings map[tenant.PracticeID]cachedSettings
}

type cachedSettings struct {
	s   Settings
	exp time.Time
}

// settingsTTL is how long a dispatcher keeps a practice's sender addresses.
const settingsTTL = time.Minute

// NewDispatcher returns a Dispatcher over store that sends through senders,
// one per channel. A message of a channel without a sender goes dead at
// once, naming the channel.
func NewDispatcher(store Store, c clock.Clock, cfg DispatcherConfig, senders ...Sender) *Dispatcher {
	cfg.fill()
	d := &Dispatcher{store: store, clock: c, senders: map[Channel]Sender{}, cfg: cfg, settings: map[tenant.PracticeID]cachedSettings{}}
	for _, s := range senders {
		d.senders[s.Channel()] = s
	}
	return d
}

// RunOnce expires sends of unknown fate, claims one batch of due messages,
// sends them and records the results.
func (d *Dispatcher) RunOnce(ctx context.Context) (Stats, error) {
	var st Stats
	now := d.clock.Now().UTC()
	n, err := d.store.ExpireSending(ctx, now)
	if err != nil {
		return st, err
	}
	st.Expired = n
	token := uuid.New()
	msgs, err := d.store.Claim(ctx, token, now, d.cfg.Batch, d.cfg.Lease)
	if err != nil {
		return st, err
	}
	st.Claimed = len(msgs)
	gs, err := d.sendBatch(ctx, token, msgs)
	st.add(gs)
	return st, err
}

// Drain runs RunOnce until a batch comes back short of full, and returns
// the sum: what a scheduled run does.
func (d *Dispatcher) Drain(ctx context.Context) (Stats, error) {
	var total Stats
	for {
		st, err := d.RunOnce(ctx)
		total.add(st)
		if err != nil || st.Claimed < d.cfg.Batch {
			return total, err
		}
	}
}

// sendBatch sends a claimed batch group by group: it marks a group
// sending, sends it, and records its results while the next group is marked
// and sent, so that the database's round trips partly hide behind the
// sends. Stopped through ctx, it records what it sent (a send cut short
// is of unknown fate: dead, never resent) and leaves the rest claimed, to
// be taken over when their lease ends. A dispatcher that dies leaves the
// groups it had marked and not yet recorded sending: ExpireSending later
// declares those of unknown fate rather than risk sending one twice.
func (d *Dispatcher) sendBatch(ctx context.Context, token uuid.UUID, msgs []*Message) (Stats, error) {
	var (
		st        Stats
		recording sync.WaitGroup
		mu        sync.Mutex
		recErr    error
	)
	defer recording.Wait()
	for i := 0; i < len(msgs); i += d.cfg.Group {
		g := msgs[i:min(i+d.cfg.Group, len(msgs))]
		ids := make([]uuid.UUID, len(g))
		for i, m := range g {
			ids[i] = m.ID
		}
		marked, err := d.store.MarkSending(ctx, token, ids, d.clock.Now().UTC(), d.cfg.Lease)
		if err != nil {
			return st, err
		}
		ok := make(map[uuid.UUID]bool, len(marked))
		for _, id := range marked {
			ok[id] = true
		}
		rec, gs := d.sendGroup(ctx, g, ok)
		st.add(gs)
		if err := ctx.Err(); err != nil {
			// Stopped: record what became of this group, and stop.
			recording.Wait()
			return st, errors.Join(err, recErr, d.store.Record(context.WithoutCancel(ctx), token, rec))
		}
		recording.Add(1)
		go func() {
			defer recording.Done()
			// A record must land even when the dispatcher is being stopped.
			if err := d.store.Record(context.WithoutCancel(ctx), token, rec); err != nil {
				mu.Lock()
				recErr = errors.Join(recErr, err)
				mu.Unlock()
			}
		}()
	}
	recording.Wait()
	return st, recErr
}

// sendGroup sends the messages of g marked (ok) with Concurrency workers
// and returns their results.
func (d *Dispatcher) sendGroup(ctx context.Context, g []*Message, ok map[uuid.UUID]bool) ([]Result, Stats) {
	var st Stats
	results := make([]Result, len(g))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(d.cfg.Concurrency, len(ok)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = d.send(ctx, g[i])
			}
		}()
	}
	for i, m := range g {
		if ok[m.ID] {
			m.Attempts++
			next <- i
		}
	}
	close(next)
	wg.Wait()
	rec := make([]Result, 0, len(ok))
	for i, m := range g {
		if !ok[m.ID] {
			continue
		}
		r := results[i]
		rec = append(rec, r)
		switch r.Status {
		case StatusSent:
			st.Sent++
		case StatusPending:
			st.Retried++
		default:
			st.Dead++
		}
	}
	return rec, st
}

// send sends one message and says what became of it.
func (d *Dispatcher) send(ctx context.Context, m *Message) Result {
	r := Result{ID: m.ID}
	s, ok := d.senders[m.Channel]
	var err error
	var rc Receipt
	if !ok {
		err = fmt.Errorf("%w %s", errNoSender, m.Channel)
	} else {
		out := Outgoing{Message: m}
		if set, serr := d.settingsOf(ctx, m.PracticeID); serr == nil {
			out.FromName = set.EmailFromName
			if m.Channel == SMS {
				out.From = set.SMSFrom
			} else {
				out.From = set.EmailFrom
			}
		}
		sctx, cancel := context.WithTimeout(ctx, d.cfg.SendTimeout)
		rc, err = s.Send(sctx, out)
		cancel()
	}
	r.At = d.clock.Now().UTC()
	switch {
	case err == nil:
		r.Status, r.ProviderID = StatusSent, rc.ProviderID
	case ctx.Err() != nil:
		// Cut short by a stop: the provider may have it. Never resent.
		r.Status, r.Error = StatusDead, "delivery unknown: the dispatcher stopped during the send: "+err.Error()
	case IsPermanent(err) || m.Attempts >= d.cfg.MaxAttempts || errors.Is(err, errNoSender):
		r.Status, r.Error = StatusDead, err.Error()
	default:
		r.Status, r.Error, r.DueAt = StatusPending, err.Error(), r.At.Add(d.backoff(m.Attempts))
	}
	return r
}

var errNoSender = errors.New("notify: no sender for the channel")

// backoff is the wait after the n-th failed attempt: Backoff doubling per
// attempt, capped at MaxBackoff, of which a random half is jitter.
func (d *Dispatcher) backoff(n int) time.Duration {
	w := d.cfg.Backoff
	for i := 1; i < n && w < d.cfg.MaxBackoff; i++ {
		w *= 2
	}
	w = min(w, d.cfg.MaxBackoff)
	return w/2 + rand.N(w/2+1)
}

// settingsOf returns a practice's settings, cached for settingsTTL.
func (d *Dispatcher) settingsOf(ctx context.Context, p tenant.PracticeID) (Settings, error) {
	now := d.clock.Now()
	d.mu.Lock()
	c, ok := d.settings[p]
	d.mu.Unlock()
	if ok && now.Before(c.exp) {
		return c.s, nil
	}
	s, err := d.store.Settings(ctx, p)
	if err != nil {
		return s, err
	}
	d.mu.Lock()
	d.settings[p] = cachedSettings{s, now.Add(settingsTTL)}
	d.mu.Unlock()
	return s, nil
}

// JobName is the name of the dispatch job in a gocron scheduler.
const JobName = "notify.dispatch"

// Register adds to s a job named JobName that drains the outbox every
// interval, never two runs at once in s (other replicas run their own
// dispatchers safely).
func Register(s gocron.Scheduler, d *Dispatcher, every time.Duration, opts ...gocron.JobOption) (gocron.Job, error) {
	opts = append([]gocron.JobOption{gocron.WithName(JobName), gocron.WithSingletonMode(gocron.LimitModeReschedule)}, opts...)
	j, err := s.NewJob(gocron.DurationJob(every), gocron.NewTask(func(ctx context.Context) error {
		_, err := d.Drain(ctx)
		return err
	}), opts...)
	if err != nil {
		return nil, fmt.Errorf("notify.Register: %w", err)
	}
	return j, nil
}
