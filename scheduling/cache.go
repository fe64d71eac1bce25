package scheduling

import (
	"context"
	"sync"
	"time"

	"github.com/carebook/carebook/tenant"
)

// DefaultSearchCacheTTL is how long an open-slot search may reuse a
// practice's booking policy and a visit type it has read.
const DefaultSearchCacheTTL = 5 * time.Second

// maxCached bounds each map of the search cache; a full map is emptied.
const maxCached = 10000

// Option changes how NewService builds a Service.
type Option func(*Service)

// WithSearchCache sets how long open-slot searches reuse the booking policies
// and visit types they read (0 turns the cache off). Only searches use it:
// booking, rescheduling and every change read fresh, so a stale search can at
// worst offer a slot that booking then refuses, as when another patient
// takes it first.
func WithSearchCache(ttl time.Duration) Option {
	return func(s *Service) { s.cache.ttl = ttl }
}

// searchCache keeps what searches read of rarely changing rows, each entry
// for at most ttl by the Service's clock. It is safe for concurrent use.
type searchCache struct {
	ttl      time.Duration
	mu       sync.Mutex
	policies map[tenant.PracticeID]cached[tenant.BookingPolicy]
	visits   map[[2]VisitTypeID]cached[*VisitType] // practice, visit type
}

type cached[T any] struct {
	v       T
	expires time.Time
}

func lookup[K comparable, T any](c *searchCache, m map[K]cached[T], k K, now time.Time) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := m[k]
	if !ok || !now.Before(e.expires) {
		var zero T
		return zero, false
	}
	return e.v, true
}

func store[K comparable, T any](c *searchCache, m *map[K]cached[T], k K, v T, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if *m == nil || len(*m) >= maxCached {
		*m = make(map[K]cached[T])
	}
	(*m)[k] = cached[T]{v: v, expires: now.Add(c.ttl)}
}

// searchPolicy returns the practice's booking policy, cached.
func (s *Service) searchPolicy(ctx context.Context, practice tenant.PracticeID) (tenant.BookingPolicy, error) {
	now := s.clock.Now()
	if p, ok := lookup(&s.cache, s.cache.policies, practice, now); ok {
		return p, nil
	}
	prac, err := s.tenants.GetPractice(ctx, practice)
	if err != nil {
		return tenant.BookingPolicy{}, err
	}
	if s.cache.ttl > 0 {
		store(&s.cache, &s.cache.policies, practice, prac.Policy, now)
	}
	return prac.Policy, nil
}

// searchVisitType returns a visit type of the practice, cached. Callers must
// not change it.
func (s *Service) searchVisitType(ctx context.Context, practice tenant.PracticeID, id VisitTypeID) (*VisitType, error) {
	now := s.clock.Now()
	key := [2]VisitTypeID{practice, id}
	if v, ok := lookup(&s.cache, s.cache.visits, key, now); ok {
		return v, nil
	}
	v, err := s.store.GetVisitType(ctx, practice, id)
	if err != nil {
		return nil, err
	}
	if s.cache.ttl > 0 {
		store(&s.cache, &s.cache.visits, key, v, now)
	}
	return v, nil
}
