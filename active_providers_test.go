package carebook_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carebook/carebook"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/carebook/carebook/tenant"
	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withProviders adds to c two providers: one with availability on March 5
// only, one with none (never active).
func withProviders(t *testing.T, c *clinic) (march5 scheduling.ProviderID) {
	t.Helper()
	locs, err := c.e.Tenants.Locations(c.staff, c.practice)
	require.NoError(t, err)
	p, err := c.e.Scheduling.CreateProvider(c.staff, c.practice, scheduling.NewProvider{NPI: "1245319599", GivenName: "Alan", FamilyName: "Turing",
		Specialties: []string{"pediatrics"}, LocationIDs: []tenant.LocationID{locs[0].ID}})
	require.NoError(t, err)
	_, err = c.e.Scheduling.CreateBlock(c.staff, c.practice, scheduling.NewBlock{ProviderID: p.ID, BlockInput: scheduling.BlockInput{
		LocationID: locs[0].ID, Start: c.at(3, 5, 9, 0), End: c.at(3, 5, 12, 0)}})
	require.NoError(t, err)
	_, err = c.e.Scheduling.CreateProvider(c.staff, c.practice, scheduling.NewProvider{NPI: "1679576722", GivenName: "Edsger", FamilyName: "Dijkstra",
		Specialties: []string{"pediatrics"}, LocationIDs: []tenant.LocationID{locs[0].ID}})
	require.NoError(t, err)
	return p.ID
}

// activeTotal is the practice's "active_providers" units in [from, to).
func activeTotal(t *testing.T, st *sqlstore.Store, practice tenant.PracticeID, from, to time.Time) int64 {
	t.Helper()
	totals, err := st.Billing.UsageTotals(context.Background(), &practice, from, to)
	require.NoError(t, err)
	for _, u := range totals {
		if u.Meter == billing.MeterActiveProviders {
			return u.Units
		}
	}
	return 0
}

// TestRollUpActiveProviders: a practice on no plan counts each provider
// active in a calendar month once, whatever the days and the runs; a
// provider with no availability is never counted; a new month counts
// again; rolling one day up on many goroutines at once counts once.
func TestRollUpActiveProviders(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		c := newClinic(t, st) // Grace: available daily 07:00-19:00 New York from March 2, for 60 days
		withProviders(t, c)
		day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC) }
		roll := func(m time.Month, d int) int {
			n, err := c.e.RollUpPracticeActiveProviders(ctx, c.practice, day(m, d).Add(13*time.Hour))
			require.NoError(t, err)
			return n
		}
		for _, tc := range []struct {
			month time.Month
			day   int
			want  int
		}{
			{3, 1, 0}, // before any availability
			{3, 2, 1}, // Grace
			{3, 2, 0}, // again: nothing new
			{3, 3, 0}, // Grace, counted already this month
			{3, 5, 1}, // Alan's one day
			{3, 6, 0},
		} {
			assert.Equal(t, tc.want, roll(tc.month, tc.day), "roll-up of %v %d", tc.month, tc.day)
		}
		assert.EqualValues(t, 2, activeTotal(t, st, c.practice, day(3, 1), day(4, 1)), "March: Grace and Alan")
		assert.EqualValues(t, 1, activeTotal(t, st, c.practice, day(3, 5), day(3, 6)), "March 5: Alan first active")

		// Many replicas rolling up every practice for a day of a new month
		// at once: Grace is counted again, once.
		rollAll := func(d time.Time) int64 {
			var wg sync.WaitGroup
			var recorded atomic.Int64
			for range 16 {
				wg.Go(func() {
					n, err := c.e.RollUpActiveProviders(ctx, d)
					if err != nil {
						t.Error(err)
					}
					recorded.Add(int64(n))
				})
			}
			wg.Wait()
			return recorded.Load()
		}
		assert.EqualValues(t, 1, rollAll(day(4, 1)), "April 1 on 16 goroutines: Grace once")
		assert.EqualValues(t, 0, rollAll(day(4, 2)), "April 2: Grace is April's already")
		assert.EqualValues(t, 0, rollAll(day(5, 1)), "May 1: Grace's availability ended April 30")
		assert.EqualValues(t, 1, activeTotal(t, st, c.practice, day(4, 1), day(5, 1)), "April: Grace")

		_, err := c.e.RollUpPracticeActiveProviders(ctx, uuid.Nil, day(3, 2))
		assert.Equal(t, "practice_id", errs.FieldOf(err))
	})
}

// TestRollUpActiveProvidersPeriods: a subscribed practice counts in its
// plan's periods, and a period that starts within a day splits it, each
// part counted in its own period.
func TestRollUpActiveProvidersPeriods(t *testing.T) {
	st := sqltest.SQLite(t)
	ctx := context.Background()
	c, _, _, sub := subscribed(t, st, 500) // periods from March 2, 17:00 UTC
	start, end := sub.Period(c.clk.Now())
	require.Equal(t, time.Date(2026, 3, 2, 17, 0, 0, 0, time.UTC), start.UTC())
	n, err := c.e.RollUpPracticeActiveProviders(ctx, c.practice, end) // April 2: in both periods
	require.NoError(t, err)
	assert.Equal(t, 2, n, "Grace before 17:00 (the first period) and after (the second)")
	assert.EqualValues(t, 1, activeTotal(t, st, c.practice, start, end))
	assert.EqualValues(t, 1, activeTotal(t, st, c.practice, end, end.AddDate(0, 1, 0)))
	n, err = c.e.RollUpPracticeActiveProviders(ctx, c.practice, end.AddDate(0, 0, 1))
	require.NoError(t, err)
	assert.Equal(t, 0, n)
}

// TestRegisterJobsRollsUpActiveProviders: the job rolls up the day of the
// run by the engine's clock.
func TestRegisterJobsRollsUpActiveProviders(t *testing.T) {
	st := sqltest.SQLite(t)
	c := newClinic(t, st)
	s, _ := fakeScheduler(t)
	_, err := c.e.RegisterJobs(s, carebook.JobsConfig{ActiveProviders: true, ActiveProvidersEvery: -time.Second})
	assert.Equal(t, "active_providers_every", errs.FieldOf(err))
	ran := make(chan error, 1)
	jobs, err := c.e.RegisterJobs(s, carebook.JobsConfig{ActiveProviders: true, JobOptions: []gocron.JobOption{gocron.WithEventListeners(
		gocron.AfterJobRuns(func(uuid.UUID, string) { ran <- nil }),
		gocron.AfterJobRunsWithError(func(_ uuid.UUID, _ string, err error) { ran <- err }))}})
	require.NoError(t, err)
	require.Len(t, jobs.Scheduled, 1)
	assert.Equal(t, carebook.ActiveProvidersJobName, jobs.Scheduled[0].Name())
	s.Start()
	require.NoError(t, jobs.Scheduled[0].RunNow())
	select {
	case err := <-ran:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("the roll-up did not run")
	}
	now := c.clk.Now().UTC()
	from := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	assert.EqualValues(t, 1, activeTotal(t, st, c.practice, from, from.AddDate(0, 1, 0)))
}
