package carebook

import (
	"context"
	"sync"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/ratelimit"
	"github.com/carebook/carebook/tenant"
)

// Rate limits: the Engine's limiter (Engine.RateLimits) keeps its counts
// in the database (sqlstore.RateLimits), so that every replica over it
// shares them. The API's limit per practice comes from the Engine's
// PracticeLimits; the reference server limits sign-in attempts with the
// same limiter.

// RateLimitSweepJobName names the job that forgets the rate limiter's
// keys that are full buckets again (JobsConfig.SweepRateLimits).
const RateLimitSweepJobName = "ratelimit.sweep"

// DefaultRateLimitSweepEvery is how often that job runs when
// JobsConfig.RateLimitSweepEvery is 0.
const DefaultRateLimitSweepEvery = 10 * time.Minute

// PracticeLimits tells the traffic limits of each practice. The Engine
// holds one (WithPracticeLimits, or WithPlanLimits: a practice's limit
// following its billing plan). An implementation is safe for
// concurrent use, answers fast (it runs on every API request of the
// practice: cache what a plan lookup costs), and answers the Off limit
// for no limit.
type PracticeLimits interface {
	// APILimit is the rate of API requests practice may make.
	APILimit(ctx context.Context, practice tenant.PracticeID) (ratelimit.Limit, error)
}

// FixedLimits gives every practice the same limits: the reference
// server's, from its options.
type FixedLimits struct {
	API ratelimit.Limit // the API requests of each practice; Off for none
}

// APILimit returns f.API, whatever the practice.
func (f FixedLimits) APILimit(context.Context, tenant.PracticeID) (ratelimit.Limit, error) {
	return f.API, nil
}

// WithPracticeLimits sets what limits each practice's traffic; the default
// limits none. A limit that fails ratelimit.Limit.Validate makes New fail.
func WithPracticeLimits(p PracticeLimits) Option {
	return func(e *Engine) {
		if f, ok := p.(FixedLimits); ok {
			if err := f.API.Validate("carebook.WithPracticeLimits", "api_rate_limit"); err != nil && e.optErr == nil {
				e.optErr = err
			}
		}
		e.practiceLimits = p
	}
}

// APIRequestKey is the rate limiter's key of practice's API requests.
func APIRequestKey(practice tenant.PracticeID) string { return "api:practice:" + practice.String() }

// AllowAPIRequest counts one API request of practice against its limit
// (PracticeLimits.APILimit) and returns the decision, whose Limit is Off
// when the practice has none. It writes outside any transaction ctx
// carries, so call it before one (see sqlstore.RateLimits).
func (e *Engine) AllowAPIRequest(ctx context.Context, practice tenant.PracticeID) (ratelimit.Decision, error) {
	if e.practiceLimits == nil {
		return ratelimit.Decision{Allowed: true}, nil
	}
	const op = "carebook.AllowAPIRequest"
	l, err := e.practiceLimits.APILimit(ctx, practice)
	if err != nil {
		return ratelimit.Decision{}, err
	}
	if err := l.Validate(op, "api_limit"); err != nil {
		// The server's limit is wrong, not the request.
		return ratelimit.Decision{}, errs.Wrap(errs.KindInternal, op, "the practice's API limit is invalid", err)
	}
	return e.RateLimits.Allow(ctx, APIRequestKey(practice), l, 1)
}

// PlanLimitsTTL is how long WithPlanLimits keeps a practice's limit
// before it reads the practice's plan again: a plan changed (or a practice
// moved to another) takes effect within it on every replica.
const PlanLimitsTTL = time.Minute

// WithPlanLimits limits each practice's API requests at its plan's
// billing.Plan.APIRate, or at def when the practice is on no plan or its
// plan sets no rate (def Off: no limit then). Each practice's limit is
// read from its subscription and plan at most once per PlanLimitsTTL of
// the Engine's clock, so a request costs no plan lookup. A def that fails
// ratelimit.Limit.Validate makes New fail.
func WithPlanLimits(def ratelimit.Limit) Option {
	return func(e *Engine) {
		if err := def.Validate("carebook.WithPlanLimits", "api_rate_limit"); err != nil && e.optErr == nil {
			e.optErr = err
		}
		e.practiceLimits = &planLimits{e: e, def: def, cached: map[tenant.PracticeID]planLimit{}}
	}
}

// planLimits is the PracticeLimits of WithPlanLimits.
type planLimits struct {
	e   *Engine
	def ratelimit.Limit

	mu     sync.Mutex
	cached map[tenant.PracticeID]planLimit
}

// planLimit is a practice's limit and when it was read.
type planLimit struct {
	limit ratelimit.Limit
	read  time.Time
}

// APILimit returns the practice's plan's rate, or the default.
func (p *planLimits) APILimit(ctx context.Context, practice tenant.PracticeID) (ratelimit.Limit, error) {
	now := p.e.Clock.Now()
	p.mu.Lock()
	c, ok := p.cached[practice]
	p.mu.Unlock()
	if ok && now.Sub(c.read) < PlanLimitsTTL && !now.Before(c.read) {
		return c.limit, nil
	}
	l, err := p.read(ctx, practice)
	if err != nil {
		return ratelimit.Limit{}, err
	}
	p.mu.Lock()
	p.cached[practice] = planLimit{limit: l, read: now}
	p.mu.Unlock()
	return l, nil
}

// read looks the practice's plan up: the default when it has none or the
// plan sets no rate.
func (p *planLimits) read(ctx context.Context, practice tenant.PracticeID) (ratelimit.Limit, error) {
	sub, err := p.e.store.Billing.Subscription(ctx, practice)
	if errs.Is(err, errs.KindNotFound) {
		return p.def, nil
	}
	if err != nil {
		return ratelimit.Limit{}, err
	}
	plan, err := p.e.store.Billing.Plan(ctx, sub.Plan)
	if err != nil {
		return ratelimit.Limit{}, err
	}
	if plan.APIRate.Off() {
		return p.def, nil
	}
	return plan.APIRate, nil
}
