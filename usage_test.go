package carebook_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/billing/billingtest"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/notify"
	"github.com/carebook/carebook/rbac"
	"github.com/carebook/carebook/sqlstore"
	"github.com/carebook/carebook/sqlstore/sqltest"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// subscribed is a clinic on billingtest's sample plan (SMS quota 500,
// here lowered to quota), with its administrator's and front desk's
// callers.
func subscribed(t *testing.T, st *sqlstore.Store, quota int64) (c *clinic, admin, desk context.Context, sub *billing.Subscription) {
	t.Helper()
	c = newClinic(t, st)
	p := billingtest.SamplePlan("basic")
	p.Meters[1].Quota = quota
	require.NoError(t, c.e.PutPlan(c.staff, p))
	sub, err := c.e.Subscribe(c.staff, c.practice, "basic")
	require.NoError(t, err)
	require.Equal(t, billing.SubscriptionTrialing, sub.Status)
	pr, err := c.e.Tenants.Practice(c.staff, c.practice)
	require.NoError(t, err)
	admin = callerWith(t, c, rbac.PracticeAdminID, rbac.PracticeScope(pr.GroupID, pr.ID))
	desk = callerWith(t, c, rbac.FrontDeskID, rbac.PracticeScope(pr.GroupID, pr.ID))
	return c, admin, desk, sub
}

// TestSMSQuotaParallel is the quota's "done when": a practice one SMS below
// its plan's quota sends 50 campaigns at once to its one consenting
// patient; exactly one is queued, the 49 others are refused naming the
// limit, the count and when it resets, and the outbox holds nothing else.
func TestSMSQuotaParallel(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c, _, _, sub := subscribed(t, st, 5)
		yes := true
		_, err := c.e.Notify.UpdatePreferences(c.staff, c.practice, c.patient.ID, notify.PreferencesUpdate{Marketing: &yes})
		require.NoError(t, err)
		start, end := sub.Period(c.clk.Now())
		_, taken, err := st.Billing.TakeQuota(context.Background(), c.practice, billing.MeterSMSSent, start, 4, 5)
		require.NoError(t, err)
		require.True(t, taken)

		var mu sync.Mutex
		sent, refused := 0, 0
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				n, err := c.e.Notify.SendCampaign(c.staff, c.practice, notify.Campaign{ID: uuid.New(), Channel: notify.SMS,
					Text: "Flu shots are in", TimeZone: "America/New_York"})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil && n == 1:
					sent++
				case errs.Is(err, errs.KindPreconditionFailed) && errs.FieldOf(err) == "sms_sent":
					refused++
					var e *errs.Error
					require.ErrorAs(t, err, &e)
					require.Equal(t, billing.QuotaDetails{Meter: billing.MeterSMSSent, Limit: 5, Used: 5, ResetsAt: end}, e.Details)
				default:
					t.Errorf("SendCampaign = %d, %v", n, err)
				}
			})
		}
		wg.Wait()
		require.Equal(t, 1, sent)
		require.Equal(t, 49, refused)
		msgs, err := c.e.Notify.Messages(c.staff, c.practice, notify.MessageFilter{Kind: notify.KindCampaign, Limit: 100})
		require.NoError(t, err)
		require.Len(t, msgs, 1)
		require.Equal(t, notify.SMS, msgs[0].Channel)

		// An email campaign is not capped by the SMS quota.
		n, err := c.e.Notify.SendCampaign(c.staff, c.practice, notify.Campaign{ID: uuid.New(), Channel: notify.Email,
			Text: "Flu shots are in", TimeZone: "America/New_York"})
		require.NoError(t, err)
		require.Equal(t, 1, n)
	})
}

// TestUsageOfBookings: a booking counts in "bookings" in its transaction,
// once; the SMS of a booking past the quota are left out without refusing
// the booking; the administrator reads the usage, the front desk may not.
func TestUsageOfBookings(t *testing.T) {
	sqltest.Each(t, func(t *testing.T, st *sqlstore.Store) {
		c, admin, desk, sub := subscribed(t, st, 100)
		first := c.book(t, c.at(3, 3, 10, 0))
		// Fill the period's SMS quota: the next booking's SMS are left
		// out, its email kept, and the booking is not refused.
		start, _ := sub.Period(c.clk.Now())
		used, _, err := st.Billing.TakeQuota(context.Background(), c.practice, billing.MeterSMSSent, start, 1, 100)
		require.NoError(t, err)
		_, taken, err := st.Billing.TakeQuota(context.Background(), c.practice, billing.MeterSMSSent, start, 100-used, 100)
		require.NoError(t, err)
		require.True(t, taken)
		second := c.book(t, c.at(3, 3, 11, 0))
		channels := func(id uuid.UUID) map[notify.Channel]int {
			msgs, err := c.e.Notify.Messages(c.staff, c.practice, notify.MessageFilter{AppointmentID: &id, Limit: 100})
			require.NoError(t, err)
			n := map[notify.Channel]int{}
			for _, m := range msgs {
				n[m.Channel]++
			}
			return n
		}
		require.Positive(t, channels(first.ID)[notify.SMS])
		require.Zero(t, channels(second.ID)[notify.SMS])
		require.Positive(t, channels(second.ID)[notify.Email])

		from := c.clk.Now().Add(-time.Hour)
		rep, err := c.e.Usage(admin, c.practice, from, from.AddDate(0, 1, 0))
		require.NoError(t, err)
		require.Equal(t, []billing.UsageTotal{{Practice: c.practice, Meter: billing.MeterBookings, Units: 2}}, rep.Totals)
		require.Len(t, rep.Days, 1)
		require.Equal(t, int64(2), rep.Days[0].Units)

		got, err := c.e.Subscription(admin, c.practice)
		require.NoError(t, err)
		require.Equal(t, sub.Plan, got.Plan)
		_, err = c.e.Usage(desk, c.practice, from, from.AddDate(0, 1, 0))
		require.True(t, errs.Is(err, errs.KindForbidden), "front desk reads usage: %v", err)
		_, err = c.e.Usage(admin, c.practice, from, from)
		require.Equal(t, "to", errs.FieldOf(err))
		_, err = c.e.Subscribe(c.staff, c.practice, "gold")
		require.Equal(t, "plan", errs.FieldOf(err))
		require.Equal(t, "id", errs.FieldOf(c.e.PutPlan(c.staff, &billing.Plan{ID: "Bad"})))
	})
}
