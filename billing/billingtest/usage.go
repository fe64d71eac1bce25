package billingtest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/internal/patienttest"
	"github.com/carebook/carebook/ratelimit"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
)

// UsageStores are what RunUsage works on: the billing.UsageStore under
// test, and the stores it makes practices with.
type UsageStores struct {
	Usage    billing.UsageStore
	Tenants  tenant.Store
	Patients interface {
		CreatePatient(ctx context.Context, p *scheduling.Patient) error
	}
}

// SamplePlan is a plan of code id in USD: 49.00 a period with a 14-day
// trial, 200 bookings included then 0.10 each, 100 SMS included then 0.05
// each with a quota of 500, 1,000 emails included then 0.01 each.
func SamplePlan(id billing.PlanID) *billing.Plan {
	return &billing.Plan{ID: id, Name: "Plan " + string(id), Currency: "USD", BaseFee: 4900, TrialDays: 14,
		Meters: []billing.MeterRate{
			{Meter: billing.MeterBookings, Included: 200, UnitPrice: 10},
			{Meter: billing.MeterSMSSent, Included: 100, UnitPrice: 5, Quota: 500},
			{Meter: billing.MeterEmailsSent, Included: 1000, UnitPrice: 1},
		}}
}

// RunUsage checks a billing.UsageStore: plans and subscriptions read back
// as written, a usage event is counted once however often and however
// concurrently it is recorded, statistics are scoped to their practice and
// range, and concurrent quota takers never pass the quota together.
func RunUsage(t *testing.T, open func(t *testing.T) UsageStores) {
	ctx := context.Background()
	practice := func(t *testing.T, s UsageStores) tenant.PracticeID {
		return patienttest.NewFixture(t, patienttest.Makers{Tenants: s.Tenants, Patients: s.Patients}, epoch).Practice
	}

	t.Run("Plans", func(t *testing.T) {
		s := open(t)
		if _, err := s.Usage.Plan(ctx, "none"); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("unknown plan: %v, want not found", err)
		}
		b, a := SamplePlan("basic"), SamplePlan("advanced")
		for _, p := range []*billing.Plan{b, a} {
			if err := s.Usage.PutPlan(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		b.Name, b.BaseFee, b.Meters = "Basic", 1900, b.Meters[:1]
		b.APIRate = ratelimit.Limit{Rate: 20, Period: 1500 * time.Millisecond, Burst: 40}
		if err := s.Usage.PutPlan(ctx, b); err != nil {
			t.Fatal(err)
		}
		got, err := s.Usage.Plan(ctx, "basic")
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Basic" || got.BaseFee != 1900 || got.Currency != "USD" || got.TrialDays != 14 || !slices.Equal(got.Meters, b.Meters) || got.APIRate != b.APIRate {
			t.Fatalf("replaced plan read back %+v, wrote %+v", got, b)
		}
		all, err := s.Usage.Plans(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 || all[0].ID != "advanced" || all[1].ID != "basic" || !slices.Equal(all[0].Meters, a.Meters) || !all[0].APIRate.Off() {
			t.Fatalf("plans %+v, want advanced then basic", all)
		}
	})

	t.Run("Subscription", func(t *testing.T) {
		s := open(t)
		p, other := practice(t, s), practice(t, s)
		if err := s.Usage.PutPlan(ctx, SamplePlan("basic")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Usage.Subscription(ctx, p); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("no subscription: %v, want not found", err)
		}
		sub := &billing.Subscription{Practice: p, Plan: "nope", Status: billing.SubscriptionTrialing, PeriodStart: epoch, UpdatedAt: epoch}
		if err := s.Usage.PutSubscription(ctx, sub); !errs.Is(err, errs.KindNotFound) || errs.FieldOf(err) != "plan" {
			t.Fatalf("unknown plan: %v, want not found naming plan", err)
		}
		sub.Plan, sub.TrialEnd = "basic", epoch.AddDate(0, 0, 14)
		if err := s.Usage.PutSubscription(ctx, sub); err != nil {
			t.Fatal(err)
		}
		got, err := s.Usage.Subscription(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if got.Plan != "basic" || got.Status != billing.SubscriptionTrialing || !got.TrialEnd.Equal(sub.TrialEnd) || !got.PeriodStart.Equal(epoch) {
			t.Fatalf("read back %+v, wrote %+v", got, sub)
		}
		sub.Status, sub.TrialEnd = billing.SubscriptionActive, time.Time{}
		if err := s.Usage.PutSubscription(ctx, sub); err != nil {
			t.Fatal(err)
		}
		if got, err = s.Usage.Subscription(ctx, p); err != nil || got.Status != billing.SubscriptionActive || !got.TrialEnd.IsZero() {
			t.Fatalf("replaced: %+v, %v", got, err)
		}
		if _, err := s.Usage.Subscription(ctx, other); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("another practice: %v, want not found", err)
		}
	})

	t.Run("TrialsAndReadOnly", func(t *testing.T) {
		s := open(t)
		p, other := practice(t, s), practice(t, s)
		if err := s.Usage.PutPlan(ctx, SamplePlan("basic")); err != nil {
			t.Fatal(err)
		}
		end := epoch.AddDate(0, 0, 14)
		for _, pr := range []tenant.PracticeID{p, other} {
			sub := &billing.Subscription{Practice: pr, Plan: "basic", Status: billing.SubscriptionTrialing, TrialEnd: end, PeriodStart: epoch, UpdatedAt: epoch}
			if err := s.Usage.PutSubscription(ctx, sub); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := s.Usage.TrialsEnded(ctx, end.Add(-time.Microsecond), 10); err != nil || len(got) != 0 {
			t.Fatalf("trials ended before their end: %v, %v", got, err)
		}
		if _, err := s.Usage.TrialsEnded(ctx, end, 0); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "limit" {
			t.Fatalf("limit 0: %v, want invalid naming limit", err)
		}
		if ok, err := s.Usage.SetSubscriptionStatus(ctx, other, billing.SubscriptionActive, end); err != nil || !ok {
			t.Fatalf("SetSubscriptionStatus: %v, %v", ok, err)
		}
		got, err := s.Usage.TrialsEnded(ctx, end, 10)
		if err != nil || len(got) != 1 || got[0].Practice != p || !got[0].TrialEnd.Equal(end) {
			t.Fatalf("trials ended at their end: %+v, %v, want only the one still trialing", got, err)
		}
		if ok, err := s.Usage.SetSubscriptionStatus(ctx, practice(t, s), billing.SubscriptionActive, end); err != nil || ok {
			t.Fatalf("status of a practice on no plan: %v, %v, want false", ok, err)
		}

		if _, err := s.Usage.PaymentMethod(ctx, p); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("no payment method: %v, want not found", err)
		}
		m := &billing.PaymentMethod{Practice: p, Provider: "stripe", SetupRef: "seti_1", Token: "pm_1", Label: "Visa 4242", SavedAt: epoch, SavedBy: "staff:a"}
		m2 := *m
		m2.Token, m2.Label = "pm_2", "Visa 1881"
		for _, w := range []*billing.PaymentMethod{m, &m2} {
			if err := s.Usage.PutPaymentMethod(ctx, w); err != nil {
				t.Fatal(err)
			}
		}
		if pm, err := s.Usage.PaymentMethod(ctx, p); err != nil || pm.Practice != p || pm.Provider != "stripe" || pm.SetupRef != "seti_1" ||
			pm.Token != "pm_2" || pm.Label != "Visa 1881" || pm.SavedBy != "staff:a" || !pm.SavedAt.Equal(epoch) {
			t.Fatalf("payment method read back %+v, %v, wrote %+v", pm, err, m2)
		}
		if _, err := s.Usage.PaymentMethod(ctx, other); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("another practice's payment method: %v, want not found", err)
		}

		var entered atomic.Int32
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				ok, err := s.Usage.EnterReadOnly(ctx, billing.ReadOnly{Practice: p, Reason: billing.ReadOnlyTrialEnded, Since: end})
				if err != nil {
					t.Error(err)
				}
				if ok {
					entered.Add(1)
				}
			})
		}
		wg.Wait()
		if entered.Load() != 1 {
			t.Fatalf("read-only entered %d times by 20 at once, want 1", entered.Load())
		}
		if _, err := s.Usage.EnterReadOnly(ctx, billing.ReadOnly{Practice: p, Reason: "overdue", Since: end}); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "reason" {
			t.Fatalf("unknown reason: %v, want invalid naming reason", err)
		}
		later := end.AddDate(0, 1, 0)
		if ok, err := s.Usage.EnterReadOnly(ctx, billing.ReadOnly{Practice: p, Reason: billing.ReadOnlyPaymentFailed, Since: later}); err != nil || !ok {
			t.Fatalf("a second reason: %v, %v", ok, err)
		}
		want := []billing.ReadOnly{{Practice: p, Reason: billing.ReadOnlyTrialEnded, Since: end}, {Practice: p, Reason: billing.ReadOnlyPaymentFailed, Since: later}}
		ros, err := s.Usage.ReadOnly(ctx, p)
		if err != nil || len(ros) != 2 || ros[0].Reason != want[0].Reason || !ros[0].Since.Equal(end) || ros[1].Reason != want[1].Reason || !ros[1].Since.Equal(later) {
			t.Fatalf("read-only %+v, %v, want %+v", ros, err, want)
		}
		if ros, err := s.Usage.ReadOnly(ctx, other); err != nil || len(ros) != 0 {
			t.Fatalf("another practice read-only: %+v, %v", ros, err)
		}
		if ok, err := s.Usage.LeaveReadOnly(ctx, other, billing.ReadOnlyTrialEnded); err != nil || ok {
			t.Fatalf("another practice left: %v, %v, want false", ok, err)
		}
		for i, wantOK := range []bool{true, false} {
			if ok, err := s.Usage.LeaveReadOnly(ctx, p, billing.ReadOnlyTrialEnded); err != nil || ok != wantOK {
				t.Fatalf("leave #%d: %v, %v, want %v", i+1, ok, err, wantOK)
			}
		}
		if ros, err := s.Usage.ReadOnly(ctx, p); err != nil || len(ros) != 1 || ros[0].Reason != billing.ReadOnlyPaymentFailed {
			t.Fatalf("after leaving trial_ended: %+v, %v, want payment_failed alone", ros, err)
		}
	})

	t.Run("RecordOnce", func(t *testing.T) {
		s := open(t)
		p, other := practice(t, s), practice(t, s)
		n := countTrue(t, 20, func() (bool, error) {
			return s.Usage.RecordUsage(ctx, billing.UsageEvent{Practice: p, Meter: billing.MeterSMSSent, Key: "msg-1", Units: 1, At: epoch})
		})
		if n != 1 {
			t.Fatalf("%d recordings counted the one event, want 1", n)
		}
		// The same key on another meter or practice is another event.
		for _, ev := range []billing.UsageEvent{
			{Practice: p, Meter: billing.MeterEmailsSent, Key: "msg-1", Units: 1, At: epoch},
			{Practice: other, Meter: billing.MeterSMSSent, Key: "msg-1", Units: 1, At: epoch},
			{Practice: p, Meter: billing.MeterSMSSent, Key: "msg-2", Units: 2, At: epoch.Add(24 * time.Hour)},
			{Practice: p, Meter: billing.MeterSMSSent, Key: "msg-3", Units: 1, At: epoch.AddDate(0, 1, 0)},
		} {
			if ok, err := s.Usage.RecordUsage(ctx, ev); err != nil || !ok {
				t.Fatalf("RecordUsage(%+v) = %v, %v, want true", ev, ok, err)
			}
		}
		for _, bad := range []struct {
			ev    billing.UsageEvent
			field string
		}{
			{billing.UsageEvent{Practice: p, Meter: "SMS", Key: "k", Units: 1, At: epoch}, "meter"},
			{billing.UsageEvent{Practice: p, Meter: billing.MeterSMSSent, Units: 1, At: epoch}, "key"},
			{billing.UsageEvent{Practice: p, Meter: billing.MeterSMSSent, Key: "k", At: epoch}, "units"},
		} {
			if _, err := s.Usage.RecordUsage(ctx, bad.ev); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != bad.field {
				t.Errorf("RecordUsage(%+v) = %v, want invalid naming %s", bad.ev, err, bad.field)
			}
		}
		day := epoch.Truncate(24 * time.Hour)
		days, err := s.Usage.UsageByDay(ctx, p, day, day.AddDate(0, 1, 0))
		if err != nil {
			t.Fatal(err)
		}
		want := []billing.DayUsage{{Day: day, Meter: billing.MeterEmailsSent, Units: 1}, {Day: day, Meter: billing.MeterSMSSent, Units: 1},
			{Day: day.AddDate(0, 0, 1), Meter: billing.MeterSMSSent, Units: 2}}
		if fmt.Sprint(days) != fmt.Sprint(want) {
			t.Fatalf("by day %v, want %v", days, want)
		}
		tot, err := s.Usage.UsageTotals(ctx, &p, day, day.AddDate(0, 1, 0))
		if err != nil {
			t.Fatal(err)
		}
		if len(tot) != 2 || tot[0] != (billing.UsageTotal{Practice: p, Meter: billing.MeterEmailsSent, Units: 1}) ||
			tot[1] != (billing.UsageTotal{Practice: p, Meter: billing.MeterSMSSent, Units: 3}) {
			t.Fatalf("totals %+v", tot)
		}
		all, err := s.Usage.UsageTotals(ctx, nil, day, day.AddDate(0, 1, 0))
		if err != nil {
			t.Fatal(err)
		}
		var ofOther int64
		for _, u := range all {
			if u.Practice == other {
				ofOther += u.Units
			}
		}
		if len(all) != 3 || ofOther != 1 {
			t.Fatalf("all practices' totals %+v", all)
		}
	})

	t.Run("QuotaNeverPassed", func(t *testing.T) {
		s := open(t)
		p := practice(t, s)
		var taken atomic.Int32
		var wg sync.WaitGroup
		for range 30 {
			wg.Go(func() {
				err := s.Usage.InTx(ctx, func(ctx context.Context) error {
					used, ok, err := s.Usage.TakeQuota(ctx, p, billing.MeterSMSSent, epoch, 1, 10)
					if err == nil && ok {
						taken.Add(1)
					}
					if err == nil && (used > 10 || (!ok && used != 10)) {
						t.Errorf("used %d (taken %v) under a quota of 10", used, ok)
					}
					return err
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if taken.Load() != 10 {
			t.Fatalf("%d takers passed a quota of 10", taken.Load())
		}
		// A refusal leaves the transaction usable, and a larger count than
		// the quota is refused from the start.
		err := s.Usage.InTx(ctx, func(ctx context.Context) error {
			if _, ok, err := s.Usage.TakeQuota(ctx, p, billing.MeterSMSSent, epoch, 1, 10); err != nil || ok {
				return fmt.Errorf("over the quota: %v, %v", ok, err)
			}
			used, ok, err := s.Usage.TakeQuota(ctx, p, billing.MeterSMSSent, epoch.AddDate(0, 1, 0), 11, 10)
			if err != nil || ok || used != 0 {
				return fmt.Errorf("11 of 10 in a new period: %d, %v, %v", used, ok, err)
			}
			used, ok, err = s.Usage.TakeQuota(ctx, p, billing.MeterSMSSent, epoch.AddDate(0, 1, 0), 10, 10)
			if err != nil || !ok || used != 10 {
				return fmt.Errorf("10 of 10 in a new period: %d, %v, %v", used, ok, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
