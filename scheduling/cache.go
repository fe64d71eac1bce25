package scheduling

import (
	"context"
	"sync"
	"time"

	"github.com/carebook/carebook/tenant"
)

// DefaultCacheTTL is how long searches and bookings may reuse a practice's
// booking policy, a visit type or a provider they have read.
const DefaultCacheTTL = 5 * time.Second

// maxCached bounds each map of the cache; a full map is emptied.
const maxCached = 10000

// Option changes how NewService builds a Service.
type Option func(*Service)

// WithCache sets how long open-slot searches and bookings reuse the booking
// policies, visit types and providers they read (0 turns the cache off), so
// that a booking costs one read of the calendar and one write. A change to
// a policy reaches every replica within this time. What decides whether a
// time is free (blocks, appointments, the store's conflict rule) is never
// cached.
func WithCache(ttl time.Duration) Option {
	return func(s *Service) { s.cache.ttl = ttl }
}

// refCache keeps rarely changing rows (policies, visit types, providers),
// each for at most ttl by the Service's clock. It is safe for concurrent use.
type refCache struct {
	ttl       time.Duration
	mu        sync.Mutex
	policies  map[tenant.PracticeID]cached[tenant.BookingPolicy]
	visits    map[[2]VisitTypeID]cached[*VisitType] // practice, visit type
	providers map[[2]ProviderID]cached[*Provider]   // practice, provider
	resources map[[2]ResourceID]cached[*Resource]   // practice, resource
}

type cached[T any] struct {
	v       T
	expires time.Time
}

func lookup[K comparable, T any](c *refCache, m *map[K]cached[T], k K, now time.Time) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := (*m)[k]
	if !ok || !now.Before(e.expires) {
		var zero T
		return zero, false
	}
	return e.v, true
}

func store[K comparable, T any](c *refCache, m *map[K]cached[T], k K, v T, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if *m == nil || len(*m) >= maxCached {
		*m = make(map[K]cached[T])
	}
	(*m)[k] = cached[T]{v: v, expires: now.Add(c.ttl)}
}

// cachedPolicy returns the practice's booking policy, cached.
func (s *Service) cachedPolicy(ctx context.Context, practice tenant.PracticeID) (tenant.BookingPolicy, error) {
	return cachedRow(ctx, s, &s.cache.policies, practice, func() (tenant.BookingPolicy, error) {
		prac, err := s.tenants.GetPractice(ctx, practice)
		if err != nil {
			return tenant.BookingPolicy{}, err
		}
		return prac.Policy, nil
	})
}

// cachedVisitType returns a visit type of the practice, cached. Callers
// must not change it.
func (s *Service) cachedVisitType(ctx context.Context, practice tenant.PracticeID, id VisitTypeID) (*VisitType, error) {
	return cachedRow(ctx, s, &s.cache.visits, [2]VisitTypeID{practice, id}, func() (*VisitType, error) {
		return s.store.GetVisitType(ctx, practice, id)
	})
}

// cachedProvider returns a provider of the practice, cached. Callers must
// not change it.
func (s *Service) cachedProvider(ctx context.Context, practice tenant.PracticeID, id ProviderID) (*Provider, error) {
	return cachedRow(ctx, s, &s.cache.providers, [2]ProviderID{practice, id}, func() (*Provider, error) {
		return s.store.GetProvider(ctx, practice, id)
	})
}

// cachedResource returns a resource of the practice, cached. Callers must
// not change it.
func (s *Service) cachedResource(ctx context.Context, practice tenant.PracticeID, id ResourceID) (*Resource, error) {
	return cachedRow(ctx, s, &s.cache.resources, [2]ResourceID{practice, id}, func() (*Resource, error) {
		return s.store.GetResource(ctx, practice, id)
	})
}

// cachedRow returns the value of key in m, read (and kept) when it is not
// there or has expired. Inside a transaction (ctx carries one) the cache is
// passed by, unless ctx is marked by CacheInTx: what the transaction reads
// may be its own uncommitted write, which must not reach other callers, and
// what it reads must be what its snapshot holds.
func cachedRow[K comparable, T any](ctx context.Context, s *Service, m *map[K]cached[T], key K, read func() (T, error)) (T, error) {
	if s.store.HasTx(ctx) && ctx.Value(cacheInTxKey{}) == nil {
		return read()
	}
	now := s.clock.Now()
	if v, ok := lookup(&s.cache, m, key, now); ok {
		return v, nil
	}
	v, err := read()
	if err != nil {
		return v, err
	}
	if s.cache.ttl > 0 {
		store(&s.cache, m, key, v, now)
	}
	return v, nil
}

// ForgetPolicy drops a practice's cached booking policy, so that the next
// search or booking reads it. Wire it to tenant.OnPolicyChange.
func (s *Service) ForgetPolicy(practice tenant.PracticeID) {
	s.cache.mu.Lock()
	delete(s.cache.policies, practice)
	s.cache.mu.Unlock()
}

// policyAndVisitType reads, through the cache, what every search and booking
// starts from.
func (s *Service) policyAndVisitType(ctx context.Context, practice tenant.PracticeID, vt VisitTypeID) (tenant.BookingPolicy, *VisitType, error) {
	pol, err := s.cachedPolicy(ctx, practice)
	if err != nil {
		return pol, nil, err
	}
	v, err := s.cachedVisitType(ctx, practice, vt)
	if err != nil {
		return pol, nil, withField(err, "visit_type_id")
	}
	return pol, v, nil
}

type cacheInTxKey struct{}

// CacheInTx marks ctx so that searches and bookings made with it, or with a
// context derived from it, use the Service's cache (see WithCache) also
// inside the transaction it will carry: the booking policy, visit type and
// provider then cost no read in the transaction, and are at most the
// cache's life old, as outside one. It is for a caller that begins the
// transaction itself and writes no policy, visit type, provider or resource
// in it before it books, so that every row the transaction reads of them is
// committed and may be kept; carebook.Engine's Book is one.
func CacheInTx(ctx context.Context) context.Context {
	return context.WithValue(ctx, cacheInTxKey{}, true)
}

// NoCacheInTx undoes CacheInTx for ctx and the contexts derived from it:
// inside a transaction, searches and bookings made with it pass the cache
// by again. It is for a step that reads what its transaction wrote (the
// directory's refresh after a policy change) under a caller that may have
// marked the context.
func NoCacheInTx(ctx context.Context) context.Context {
	if ctx.Value(cacheInTxKey{}) == nil {
		return ctx
	}
	return context.WithValue(ctx, cacheInTxKey{}, nil)
}
