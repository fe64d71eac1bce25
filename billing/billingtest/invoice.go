package billingtest

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/internal/patienttest"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// InvoiceStores are what RunInvoices works on: the billing.InvoiceStore
// under test, the billing.UsageStore of the same database (for plans and
// subscriptions), and the stores it makes practices with.
type InvoiceStores struct {
	Invoices billing.InvoiceStore
	UsageStores
}

// sampleInvoice is an invoice of practice for the period starting at
// start, of one base line and one usage line.
func sampleInvoice(practice tenant.PracticeID, start time.Time) *billing.Invoice {
	return &billing.Invoice{ID: uuid.New(), Practice: practice, Plan: "basic", PeriodStart: start, PeriodEnd: start.AddDate(0, 1, 0),
		Lines: []billing.InvoiceLine{{Kind: billing.LineBase, Plan: "basic", Quantity: 31, Of: 31, Unit: 4900, Amount: 4900},
			{Kind: billing.LineUsage, Plan: "basic", Meter: billing.MeterSMSSent, Quantity: 3, Of: 103, Unit: 5, Amount: 15}},
		Total: billing.Money{Amount: 4915, Currency: "USD"}, Status: billing.InvoiceOpen, NextAttempt: start.AddDate(0, 1, 0),
		CreatedAt: start.AddDate(0, 1, 0)}
}

// RunInvoices checks a billing.InvoiceStore: one invoice per practice and
// period however many writers race, invoices read back as written and
// scoped to their practice, updates of their charges, the scan of the
// invoices due, and plan changes per period.
func RunInvoices(t *testing.T, open func(t *testing.T) InvoiceStores) {
	ctx := context.Background()
	practice := func(t *testing.T, s InvoiceStores) tenant.PracticeID {
		return patienttest.NewFixture(t, patienttest.Makers{Tenants: s.Tenants, Patients: s.Patients}, epoch).Practice
	}
	start := epoch.Truncate(time.Microsecond)

	t.Run("OneInvoicePerPeriod", func(t *testing.T) {
		s := open(t)
		p, other := practice(t, s), practice(t, s)
		if n := countTrue(t, 20, func() (bool, error) { return s.Invoices.CreateInvoice(ctx, sampleInvoice(p, start)) }); n != 1 {
			t.Fatalf("%d invoices created for one period, want 1", n)
		}
		// The same period of another practice, and the next period, are
		// other invoices.
		for _, inv := range []*billing.Invoice{sampleInvoice(other, start), sampleInvoice(p, start.AddDate(0, 1, 0))} {
			if ok, err := s.Invoices.CreateInvoice(ctx, inv); err != nil || !ok {
				t.Fatalf("CreateInvoice(%v) = %v, %v", inv.PeriodStart, ok, err)
			}
		}
		list, err := s.Invoices.Invoices(ctx, p, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || !list[0].PeriodStart.Equal(start.AddDate(0, 1, 0)) || !list[1].PeriodStart.Equal(start) {
			t.Fatalf("invoices %+v, want the two periods, the latest first", list)
		}
		if one, err := s.Invoices.Invoices(ctx, p, 1); err != nil || len(one) != 1 {
			t.Fatalf("limit 1: %d, %v", len(one), err)
		}
		want := sampleInvoice(p, start)
		want.ID = list[1].ID
		got, err := s.Invoices.Invoice(ctx, p, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("read back\n%+v\nwrote\n%+v", got, want)
		}
		if _, err := s.Invoices.Invoice(ctx, other, want.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("another practice's invoice: %v, want not found", err)
		}
	})

	t.Run("Charges", func(t *testing.T) {
		s := open(t)
		p := practice(t, s)
		inv := sampleInvoice(p, start)
		if _, err := s.Invoices.CreateInvoice(ctx, inv); err != nil {
			t.Fatal(err)
		}
		due, err := s.Invoices.DueInvoices(ctx, inv.NextAttempt.Add(-time.Second), 10)
		if err != nil || len(due) != 0 {
			t.Fatalf("due before its time: %d, %v", len(due), err)
		}
		if due, err = s.Invoices.DueInvoices(ctx, inv.NextAttempt, 10); err != nil || len(due) != 1 || due[0].ID != inv.ID {
			t.Fatalf("due at its time: %+v, %v", due, err)
		}
		at := inv.NextAttempt
		err = s.Invoices.InTx(ctx, func(ctx context.Context) error {
			cur, err := s.Invoices.LockInvoice(ctx, p, inv.ID)
			if err != nil {
				return err
			}
			cur.Attempts = append(cur.Attempts, billing.Attempt{At: at, Key: billing.InvoiceKey(inv.ID, 1), Error: "declined"})
			cur.Status, cur.NextAttempt = billing.InvoiceFailed, at.AddDate(0, 0, 1)
			return s.Invoices.UpdateInvoice(ctx, cur)
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Invoices.Invoice(ctx, p, inv.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != billing.InvoiceFailed || len(got.Attempts) != 1 || !got.Attempts[0].At.Equal(at) || got.Attempts[0].Error != "declined" ||
			!got.NextAttempt.Equal(at.AddDate(0, 0, 1)) {
			t.Fatalf("after a failure: %+v", got)
		}
		if due, _ = s.Invoices.DueInvoices(ctx, at.Add(time.Hour), 10); len(due) != 0 {
			t.Fatalf("a failed invoice due before its retry: %+v", due)
		}
		got.Attempts = append(got.Attempts, billing.Attempt{At: at.AddDate(0, 0, 1), Paid: true, ProviderTx: "ch_1"})
		got.Status, got.NextAttempt, got.PaidAt = billing.InvoicePaid, time.Time{}, at.AddDate(0, 0, 1)
		if err := s.Invoices.UpdateInvoice(ctx, got); err != nil {
			t.Fatal(err)
		}
		if due, _ = s.Invoices.DueInvoices(ctx, at.AddDate(1, 0, 0), 10); len(due) != 0 {
			t.Fatalf("a paid invoice is due: %+v", due)
		}
		paid, err := s.Invoices.Invoice(ctx, p, inv.ID)
		if err != nil || paid.Status != billing.InvoicePaid || !paid.PaidAt.Equal(at.AddDate(0, 0, 1)) || !paid.NextAttempt.IsZero() || len(paid.Attempts) != 2 {
			t.Fatalf("paid: %+v, %v", paid, err)
		}
		if err := s.Invoices.InTx(ctx, func(ctx context.Context) error {
			_, err := s.Invoices.LockInvoice(ctx, p, uuid.New())
			return err
		}); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("locking an unknown invoice: %v", err)
		}
	})

	t.Run("PlanChanges", func(t *testing.T) {
		s := open(t)
		p, other := practice(t, s), practice(t, s)
		c := billing.PlanChange{Practice: p, PeriodStart: start, At: start.AddDate(0, 0, 10), From: "basic", To: "pro", FromFee: 3100,
			ToFee: 9300, Currency: "USD", Days: 20, PeriodDays: 31, Credit: 2000, Charge: 6000}
		c2 := c
		c2.At, c2.From, c2.To, c2.Days, c2.Credit, c2.Charge = start.AddDate(0, 0, 20), "pro", "basic", 10, 3000, 1000
		for _, ch := range []billing.PlanChange{c2, c} {
			if err := s.Invoices.AddPlanChange(ctx, ch); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Invoices.PlanChanges(ctx, p, start)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, []billing.PlanChange{c, c2}) {
			t.Fatalf("plan changes %+v, want in the order made", got)
		}
		if none, err := s.Invoices.PlanChanges(ctx, other, start); err != nil || len(none) != 0 {
			t.Fatalf("another practice's changes: %+v, %v", none, err)
		}
	})

	t.Run("Subscriptions", func(t *testing.T) {
		s := open(t)
		if err := s.Usage.PutPlan(ctx, SamplePlan("basic")); err != nil {
			t.Fatal(err)
		}
		var ids []tenant.PracticeID
		for range 3 {
			p := practice(t, s)
			ids = append(ids, p)
			if err := s.Usage.PutSubscription(ctx, &billing.Subscription{Practice: p, Plan: "basic", Status: billing.SubscriptionActive,
				PeriodStart: start, UpdatedAt: start}); err != nil {
				t.Fatal(err)
			}
		}
		var seen []tenant.PracticeID
		after := uuid.Nil
		for {
			page, err := s.Invoices.Subscriptions(ctx, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, sub := range page {
				seen = append(seen, sub.Practice)
			}
			after = page[len(page)-1].Practice
		}
		slices.SortFunc(ids, func(a, b tenant.PracticeID) int { return strings.Compare(a.String(), b.String()) })
		if !slices.Equal(seen, ids) {
			t.Fatalf("paged through %v, want %v by practice", seen, ids)
		}
	})
}

// countTrue runs fn from n goroutines at once and counts the calls that
// reported true; an error fails t.
func countTrue(t *testing.T, n int, fn func() (bool, error)) int32 {
	var firsts atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			ok, err := fn()
			if err != nil {
				t.Error(err)
			}
			if ok {
				firsts.Add(1)
			}
		})
	}
	wg.Wait()
	return firsts.Load()
}
