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
	// Group is how many messages of a batch are marked sending together,
	// in one statement, just before they are handed to the senders
	// (default Concurrency); the next group is marked while this one is
	// handed out. When a dispatcher dies, what it leaves in doubt is its
	// sends in flight, at most 2×Group marked messages not yet handed out,
	// and the sends made but not yet recorded (results are recorded in
	// statements of up to 4×Group). Each is settled from the provider's
	// records (see Finder) after the lease.
	Group int
	// Lease is how long a claim or a send may take before another
	// dispatcher takes the message over (claimed) or settles it as in
	// doubt (sending); default 2 minutes.
	Lease time.Duration
	// SendTimeout bounds one send or one question to the provider (default
	// 15 s, at most Lease/4, so that no send outlives its lease).
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
	def(&c.Group, c.Concurrency)
	defd(&c.Lease, 2*time.Minute)
	defd(&c.SendTimeout, 15*time.Second)
	c.SendTimeout = min(c.SendTimeout, c.Lease/4)
	defd(&c.Backoff, 30*time.Second)
	defd(&c.MaxBackoff, 6*time.Hour)
}

// Stats counts what dispatching did.
type Stats struct {
	Claimed, Sent, Retried, Dead int
	// InDoubt is how many messages in doubt were taken to be settled. Of
	// them, Found were at the provider (now sent), Resent were not (pending
	// again, due at once), Unknown went dead as "delivery unknown" for
	// want of a Finder, and the rest stay in doubt until the provider can
	// be asked.
	InDoubt, Found, Resent, Unknown int
}

func (s *Stats) add(o Stats) {
	s.Claimed += o.Claimed
	s.Sent += o.Sent
	s.Retried += o.Retried
	s.Dead += o.Dead
	s.InDoubt += o.InDoubt
	s.Found += o.Found
	s.Resent += o.Resent
	s.Unknown += o.Unknown
}

// Dispatcher sends due messages from the outbox. Any number of dispatchers,
// in any number of processes, may share one database: claims never
// overlap, and a message whose send may have started is never sent again
// unless its provider says it has no record of it (see Finder and
// Outbox.ClaimInDoubt).
type Dispatcher struct {
	store   Outbox
	read    SettingsReader
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

// SettingsReader reads a practice's notification settings: all a
// Dispatcher needs of them (the senders' addresses and the quiet hours).
// A notify Store is one.
type SettingsReader interface {
	Settings(ctx context.Context, practice tenant.PracticeID) (Settings, error)
}

// NewDispatcher returns a Dispatcher over the outbox that sends through senders,
// one per channel. A message of a channel without a sender goes dead at
// once, naming the channel.
func NewDispatcher(outbox Outbox, settings SettingsReader, c clock.Clock, cfg DispatcherConfig, senders ...Sender) *Dispatcher {
	cfg.fill()
	d := &Dispatcher{store: outbox, read: settings, clock: c, senders: map[Channel]Sender{}, cfg: cfg, settings: map[tenant.PracticeID]cachedSettings{}}
	for _, s := range senders {
		d.senders[s.Channel()] = s
	}
	return d
}

// RunOnce settles one batch of messages in doubt, claims one batch of due
// messages (those settled as not sent among them), sends them and records
// the results.
func (d *Dispatcher) RunOnce(ctx context.Context) (Stats, error) {
	var st Stats
	now := d.clock.Now().UTC()
	token := uuid.New()
	doubt, err := d.store.ClaimInDoubt(ctx, token, now, d.cfg.Batch, d.cfg.Lease)
	if err != nil {
		return st, err
	}
	st.InDoubt = len(doubt)
	if err := d.settle(ctx, token, doubt, &st); err != nil {
		return st, err
	}
	token = uuid.New()
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
		if err != nil || (st.Claimed < d.cfg.Batch && st.InDoubt < d.cfg.Batch) {
			return total, err
		}
	}
}

// deliveryUnknown is the error of a message in doubt whose sender cannot
// ask its provider.
const deliveryUnknown = "delivery unknown: a dispatcher stopped while sending and the provider cannot be asked; check with the provider before retrying"

// notFoundResent is the error of a message in doubt that its provider has
// no record of: it is sent again.
const notFoundResent = "a dispatcher stopped before sending it (the provider has no record of it): sent again"

// settle decides the fate of doubt, messages in doubt claimed under token,
// asking their providers with Concurrency questions at once, and records
// what it decided. A message whose provider cannot be asked now is left as
// it is: in doubt, taken again after the lease ClaimInDoubt gave it.
func (d *Dispatcher) settle(ctx context.Context, token uuid.UUID, doubt []*Message, st *Stats) error {
	if len(doubt) == 0 {
		return nil
	}
	results := make([]*Result, len(doubt))
	next, wait := workers(min(d.cfg.Concurrency, len(doubt)), func(i int) { results[i] = d.settleOne(ctx, doubt[i]) })
	for i := range doubt {
		next <- i
	}
	close(next)
	wait()
	rec := make([]Result, 0, len(doubt))
	for _, r := range results {
		if r == nil {
			continue
		}
		rec = append(rec, *r)
		switch {
		case r.Status == StatusSent:
			st.Found++
		case r.Status == StatusPending:
			st.Resent++
		default:
			st.Unknown++
		}
	}
	return d.store.Record(context.WithoutCancel(ctx), token, rec)
}

// settleOne asks m's provider whether it has m: found, m is sent; not
// found, m is pending again and due at once; no Finder, or one that
// refuses for good to be asked, m is dead of unknown fate. nil: the provider could not be asked, m stays in doubt.
func (d *Dispatcher) settleOne(ctx context.Context, m *Message) *Result {
	now := d.clock.Now().UTC()
	f, ok := d.senders[m.Channel].(Finder)
	if !ok {
		return &Result{ID: m.ID, Status: StatusDead, Error: deliveryUnknown, At: now}
	}
	fctx, cancel := context.WithTimeout(ctx, d.cfg.SendTimeout)
	rc, found, err := f.Find(fctx, m)
	cancel()
	switch {
	case IsPermanent(err):
		return &Result{ID: m.ID, Status: StatusDead, Error: deliveryUnknown + ": " + err.Error(), At: now}
	case err != nil:
		return nil
	case found:
		return &Result{ID: m.ID, Status: StatusSent, ProviderID: rc.ProviderID, At: now}
	}
	if lf, ok := f.(LaggingFinder); ok && now.Sub(m.UpdatedAt) < lf.RecordLag() {
		// Not found yet: the provider's records may still be behind.
		return nil
	}
	return &Result{ID: m.ID, Status: StatusPending, Error: notFoundResent, DueAt: now, At: now}
}

// workers starts n goroutines that call fn on each value sent on the
// channel it returns; close the channel, then call wait.
func workers[T any](n int, fn func(T)) (next chan<- T, wait func()) {
	ch := make(chan T)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range ch {
				fn(v)
			}
		}()
	}
	return ch, wg.Wait
}

// handout is a message given to a worker, marked sending at at.
type handout struct {
	m  *Message
	at time.Time
}

// marked is a group of messages marked sending at at.
type marked struct {
	msgs []*Message
	at   time.Time
}

// sendBatch sends a claimed batch: one goroutine marks it sending group
// by group, each group while the one before is handed out; Concurrency
// workers send; one goroutine records the results in statements of up to
// 4×Group. Stopped through ctx, it hands out nothing more, puts the
// marked messages it did not hand out back to pending, records what it
// sent, leaves a send cut short in doubt and the rest claimed, to be taken
// over when their lease ends. A dispatcher that dies leaves in doubt what
// it marked and did not record: ClaimInDoubt later settles those from the
// providers' records rather than risk sending one twice.
func (d *Dispatcher) sendBatch(ctx context.Context, token uuid.UUID, msgs []*Message) (Stats, error) {
	var (
		st      Stats
		stMu    sync.Mutex
		results = make(chan Result, len(msgs))
		recErr  = make(chan error, 1)
		markErr error
	)
	go func() { recErr <- d.recordAll(ctx, token, results) }()
	tally := func(r Result) {
		stMu.Lock()
		defer stMu.Unlock()
		switch r.Status {
		case StatusSent:
			st.Sent++
		case StatusPending:
			st.Retried++
		default:
			st.Dead++
		}
	}
	// release puts marked messages that were not sent back to pending,
	// due at once, and gives back the attempt marking counted.
	release := func(ms ...*Message) {
		now := d.clock.Now().UTC()
		for _, m := range ms {
			results <- Result{ID: m.ID, Status: StatusPending, DueAt: now, At: now, Unsent: true}
		}
	}

	groups := make(chan marked)
	go func() {
		defer close(groups)
		for i := 0; i < len(msgs) && ctx.Err() == nil; i += d.cfg.Group {
			g := msgs[i:min(i+d.cfg.Group, len(msgs))]
			ids := make([]uuid.UUID, len(g))
			for i, m := range g {
				ids[i] = m.ID
			}
			at := d.clock.Now().UTC()
			// Not cut short by a stop: a mark that lands unseen would leave
			// messages in doubt that were never sent.
			moved, err := d.store.MarkSending(context.WithoutCancel(ctx), token, ids, at, d.cfg.Lease)
			if err != nil {
				markErr = err
				return
			}
			ok := make(map[uuid.UUID]bool, len(moved))
			for _, id := range moved {
				ok[id] = true
			}
			mg := marked{at: at}
			for _, m := range g {
				if ok[m.ID] {
					mg.msgs = append(mg.msgs, m)
				}
			}
			select {
			case groups <- mg:
			case <-ctx.Done():
				release(mg.msgs...)
				return
			}
		}
	}()

	next, wait := workers(min(d.cfg.Concurrency, len(msgs)), func(h handout) {
		// Checked as the send starts, not as it is handed out: a
		// send that could outlast its sending lease is not made,
		// since another dispatcher may settle the message once
		// the lease ends. The margin is one SendTimeout beyond
		// the send's own, for clocks that differ between replicas.
		if ctx.Err() != nil || d.clock.Now().Add(2*d.cfg.SendTimeout).After(h.at.Add(d.cfg.Lease)) {
			release(h.m)
			return
		}
		h.m.Attempts++
		if r, done := d.send(ctx, h.m); done {
			tally(r)
			results <- r
		}
	})
	for g := range groups {
		for i, m := range g.msgs {
			if ctx.Err() != nil {
				release(g.msgs[i:]...)
				break
			}
			select {
			case next <- handout{m, g.at}:
				continue
			case <-ctx.Done():
				release(g.msgs[i:]...)
			}
			break
		}
	}
	close(next)
	wait()
	close(results)
	return st, errors.Join(markErr, <-recErr, ctx.Err())
}

// recordAll records the results it receives in statements of up to
// 4×Group, until results is closed, even when ctx ends (a record must land
// even when the dispatcher is being stopped).
func (d *Dispatcher) recordAll(ctx context.Context, token uuid.UUID, results <-chan Result) error {
	ctx = context.WithoutCancel(ctx)
	var (
		mu  sync.Mutex
		err error
		wg  sync.WaitGroup
		// Two statements at once at most: one commits while the next
		// fills.
		turns = make(chan struct{}, 2)
	)
	buf := make([]Result, 0, 4*d.cfg.Group)
	flush := func() {
		if len(buf) == 0 {
			return
		}
		rec := buf
		buf = make([]Result, 0, 4*d.cfg.Group)
		turns <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-turns; wg.Done() }()
			if e := d.store.Record(ctx, token, rec); e != nil {
				mu.Lock()
				err = errors.Join(err, e)
				mu.Unlock()
			}
		}()
	}
	for r := range results {
		if buf = append(buf, r); len(buf) == cap(buf) {
			flush()
		}
	}
	flush()
	wg.Wait()
	return err
}

// send sends one message and says what became of it; done is false for a
// send cut short by a stop, or timed out through a Finder, which stays in
// doubt (the provider may have it) to be settled from the provider's
// records after the lease.
func (d *Dispatcher) send(ctx context.Context, m *Message) (r Result, done bool) {
	r = Result{ID: m.ID}
	s, ok := d.senders[m.Channel]
	var err error
	var rc Receipt
	if !ok {
		err = fmt.Errorf("%w %s", errNoSender, m.Channel)
	} else {
		out := Outgoing{Message: m}
		// The settings' read counts within the send's time, so that the
		// send cannot outlast the lease check made before it.
		sctx, cancel := context.WithTimeout(ctx, d.cfg.SendTimeout)
		if set, serr := d.settingsOf(sctx, m.PracticeID); serr == nil {
			out.FromName = set.EmailFromName
			if m.Channel == SMS {
				out.From = set.SMSFrom
			} else {
				out.From = set.EmailFrom
			}
		}
		rc, err = s.Send(sctx, out)
		cancel()
	}
	r.At = d.clock.Now().UTC()
	_, finder := s.(Finder)
	switch {
	case err == nil:
		r.Status, r.ProviderID = StatusSent, rc.ProviderID
	case ctx.Err() != nil:
		return r, false
	case finder && errors.Is(err, context.DeadlineExceeded) && m.Attempts < d.cfg.MaxAttempts:
		// Timed out: the provider may have the whole request. Settled
		// from its records after the lease rather than sent again blindly.
		return r, false
	case IsPermanent(err) || m.Attempts >= d.cfg.MaxAttempts || errors.Is(err, errNoSender):
		r.Status, r.Error = StatusDead, err.Error()
	default:
		r.Status, r.Error, r.DueAt = StatusPending, err.Error(), r.At.Add(d.backoff(m.Attempts))
	}
	return r, true
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
	s, err := d.read.Settings(ctx, p)
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
