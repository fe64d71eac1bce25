package carebook_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/billing/billingtest"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/ratelimit"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// planLimits is a PracticeLimits by practice, as a billing plan would be.
type planLimits map[tenant.PracticeID]ratelimit.Limit

func (p planLimits) APILimit(_ context.Context, id tenant.PracticeID) (ratelimit.Limit, error) {
	if l, ok := p[id]; ok {
		return l, nil
	}
	return ratelimit.Limit{}, errors.New("plan store down")
}

// TestAllowAPIRequest: each practice is counted under its own limit, on
// the engine's clock; none is limited without PracticeLimits; a broken or
// invalid limit is the server's fault (KindInternal), not the request's.
func TestAllowAPIRequest(t *testing.T) {
	ctx := context.Background()
	small, big, bad, off := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	clk := clock.NewFixed(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	e := carebook.NewWithStore(sqltest.SQLite(t), carebook.WithClock(clk), carebook.WithPracticeLimits(planLimits{
		small: {Rate: 2, Period: time.Minute}, big: ratelimit.PerMinute(100), bad: {Rate: -1, Period: time.Minute}, off: {}}))
	for i := range 2 {
		d, err := e.AllowAPIRequest(ctx, small)
		require.NoError(t, err)
		assert.True(t, d.Allowed, "request %d", i+1)
	}
	d, err := e.AllowAPIRequest(ctx, small)
	require.NoError(t, err)
	assert.False(t, d.Allowed)
	assert.Equal(t, 30*time.Second, d.RetryAfter)
	d, err = e.AllowAPIRequest(ctx, big)
	require.NoError(t, err)
	assert.Equal(t, 99, d.Remaining)
	d, err = e.AllowAPIRequest(ctx, off)
	require.NoError(t, err)
	assert.True(t, d.Allowed && d.Limit.Off())
	clk.Advance(30 * time.Second)
	d, err = e.AllowAPIRequest(ctx, small)
	require.NoError(t, err)
	assert.True(t, d.Allowed, "after 30 s one request is back")

	_, err = e.AllowAPIRequest(ctx, bad)
	assert.Equal(t, errs.KindInternal, errs.KindOf(err))
	_, err = e.AllowAPIRequest(ctx, uuid.New())
	assert.Equal(t, errs.KindInternal, errs.KindOf(err), "the plan's error is no client's fault")

	none := carebook.NewWithStore(sqltest.SQLite(t))
	d, err = none.AllowAPIRequest(ctx, small)
	require.NoError(t, err)
	assert.True(t, d.Allowed)
}

// TestWithPracticeLimitsRefusesABadLimit: New fails on an invalid fixed
// limit, naming it.
func TestWithPracticeLimitsRefusesABadLimit(t *testing.T) {
	_, err := carebook.New(context.Background(), carebook.Config{DSN: "sqlite:" + filepath.Join(t.TempDir(), "c.db"),
		MasterKey: sqltest.MasterKey()}, carebook.WithPracticeLimits(carebook.FixedLimits{API: ratelimit.Limit{Rate: 10}}))
	assert.Equal(t, errs.KindInvalid, errs.KindOf(err))
	assert.Equal(t, "api_rate_limit.period", errs.FieldOf(err))
}

// TestRegisterJobsSweepsRateLimits: the sweep job forgets the keys that
// are full buckets again, and keeps the others.
func TestRegisterJobsSweepsRateLimits(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFixed(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	st := sqltest.SQLite(t)
	e := carebook.NewWithStore(st, carebook.WithClock(clk))
	for _, key := range []string{"signin:ip:192.0.2.1", "signin:ip:192.0.2.2"} {
		_, err := e.RateLimits.Allow(ctx, key, ratelimit.PerMinute(10), 1) // full again in 6 s
		require.NoError(t, err)
	}
	_, err := e.RateLimits.Allow(ctx, "signin:account:ada", ratelimit.Limit{Rate: 1, Period: time.Hour}, 1)
	require.NoError(t, err)
	clk.Advance(time.Minute)

	s, _ := fakeScheduler(t)
	_, err = e.RegisterJobs(s, carebook.JobsConfig{RateLimitSweepEvery: -time.Second, SweepRateLimits: true})
	assert.Equal(t, "rate_limit_sweep_every", errs.FieldOf(err))
	ran := make(chan string, 1)
	jobs, err := e.RegisterJobs(s, carebook.JobsConfig{SweepRateLimits: true,
		JobOptions: []gocron.JobOption{gocron.WithEventListeners(gocron.AfterJobRuns(func(_ uuid.UUID, name string) { ran <- name }))}})
	require.NoError(t, err)
	require.Len(t, jobs.Scheduled, 1)
	assert.Equal(t, carebook.RateLimitSweepJobName, jobs.Scheduled[0].Name())
	s.Start()
	require.NoError(t, jobs.Scheduled[0].RunNow())
	select {
	case name := <-ran:
		assert.Equal(t, carebook.RateLimitSweepJobName, name)
	case <-time.After(time.Minute):
		t.Fatal("the sweep did not run")
	}
	var left []string
	require.NoError(t, st.DB().NewRaw(`SELECT key FROM rate_limits`).Scan(ctx, &left))
	assert.Equal(t, []string{"signin:account:ada"}, left)
}

// TestWithPlanLimits: a practice on no plan gets the default rate; once on
// a plan with its own rate it gets the plan's, after the cached default
// has lived PlanLimitsTTL of the engine's clock; a plan without a rate
// leaves the default; a bad default makes New fail naming it.
func TestWithPlanLimits(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := actor.With(context.Background(), actor.Actor{Kind: actor.System, ID: "test"})
		clk := clock.NewFixed(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
		e := carebook.NewWithStore(st, carebook.WithClock(clk), carebook.WithPlanLimits(ratelimit.PerMinute(600)))
		g, err := e.Tenants.CreateGroup(ctx, "Harbor Health")
		require.NoError(t, err)
		practice := func(name string) tenant.PracticeID {
			p, err := e.Tenants.CreatePractice(ctx, tenant.NewPractice{GroupID: g.ID, Name: name})
			require.NoError(t, err)
			return p.ID
		}
		small, plain := practice("Harbor Pediatrics"), practice("Harbor Dental")
		limit := func(p tenant.PracticeID) ratelimit.Limit {
			d, err := e.AllowAPIRequest(ctx, p)
			require.NoError(t, err)
			return d.Limit
		}
		assert.Equal(t, ratelimit.PerMinute(600), limit(small), "no plan: the default")

		starter := billingtest.SamplePlan("starter")
		starter.APIRate = ratelimit.Limit{Rate: 5, Period: time.Second, Burst: 10}
		require.NoError(t, e.PutPlan(ctx, starter))
		require.NoError(t, e.PutPlan(ctx, billingtest.SamplePlan("basic")))
		_, err = e.Subscribe(ctx, small, "starter")
		require.NoError(t, err)
		_, err = e.Subscribe(ctx, plain, "basic")
		require.NoError(t, err)

		assert.Equal(t, ratelimit.PerMinute(600), limit(small), "cached for PlanLimitsTTL")
		clk.Advance(carebook.PlanLimitsTTL)
		assert.Equal(t, starter.APIRate, limit(small), "the plan's rate once the cache is stale")
		assert.Equal(t, ratelimit.PerMinute(600), limit(plain), "a plan without a rate: the default")

		starter.APIRate = ratelimit.Limit{Rate: 5, Period: time.Second + time.Microsecond}
		assert.Equal(t, "api_rate.period", errs.FieldOf(e.PutPlan(ctx, starter)))
		starter.APIRate = ratelimit.Limit{Rate: -1, Period: time.Second}
		assert.Equal(t, "api_rate.rate", errs.FieldOf(e.PutPlan(ctx, starter)))
	})
	_, err := carebook.New(context.Background(), carebook.Config{DSN: "sqlite:" + filepath.Join(t.TempDir(), "c.db"),
		MasterKey: sqltest.MasterKey()}, carebook.WithPlanLimits(ratelimit.Limit{Rate: 10}))
	assert.Equal(t, "api_rate_limit.period", errs.FieldOf(err))
}
