package billingtest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/internal/patienttest"
	"github.com/carebook/carebook/scheduling"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Stores are what RunStore works on: the billing.Store under test, and the
// stores it makes practices and patients with.
type Stores struct {
	Billing  billing.Store
	Tenants  tenant.Store
	Patients interface {
		CreatePatient(ctx context.Context, p *scheduling.Patient) error
	}
}

// epoch is when the store suite's payments are made.
var epoch = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

var desk = actor.Actor{Kind: actor.Staff, ID: "01900000-0000-7000-8000-0000000000d1"}

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// storeFixture is a practice with a patient, made in Stores.
type storeFixture struct {
	patienttest.Fixture
	s Stores
}

func (fx storeFixture) payment(t *testing.T, purpose billing.Purpose, appt *uuid.UUID, at time.Time) *billing.Payment {
	t.Helper()
	p, err := billing.NewPayment(newID(), fx.Practice, usd(5000), billing.Method{Kind: billing.MethodCash})
	if err != nil {
		t.Fatal(err)
	}
	pt := fx.Patient
	p.Provider, p.Purpose, p.Patient, p.Appointment, p.CreatedAt, p.CreatedBy = billing.ProviderDesk, purpose, &pt, appt, at, desk
	return p
}

func (fx storeFixture) create(t *testing.T, purpose billing.Purpose, appt *uuid.UUID, at time.Time) *billing.Payment {
	t.Helper()
	p := fx.payment(t, purpose, appt, at)
	if err := fx.s.Billing.CreatePayment(context.Background(), p); err != nil {
		t.Fatalf("CreatePayment: %v", err)
	}
	return p
}

// appendStep records r on p in a transaction holding p's row.
func appendStep(ctx context.Context, s billing.Store, p *billing.Payment, kind billing.EntryKind, amount int64, key billing.Key, tx string) (billing.Entry, error) {
	var e billing.Entry
	err := s.InTx(ctx, func(ctx context.Context) error {
		cur, err := s.LockPayment(ctx, p.Practice, p.ID)
		if err != nil {
			return err
		}
		ref := cur.Ref
		if ref == "" {
			ref = billing.Ref("ref-" + p.ID.String())
		}
		e, err = cur.Record(billing.Result{Ref: ref, Kind: kind, Amount: usd(amount), ProviderTx: tx, At: epoch.Add(time.Duration(len(cur.Ledger)+1) * time.Minute)}, key, desk, "")
		if err != nil {
			return err
		}
		return s.AppendEntry(ctx, cur, e)
	})
	return e, err
}

// RunStore runs the conformance suite of billing.Store: every case gets
// fresh stores from open.
func RunStore(t *testing.T, open func(t *testing.T) Stores) {
	fixture := func(t *testing.T) storeFixture {
		s := open(t)
		return storeFixture{patienttest.NewFixture(t, patienttest.Makers{Tenants: s.Tenants, Patients: s.Patients}, epoch), s}
	}
	ctx := context.Background()

	t.Run("RoundTrip", func(t *testing.T) {
		fx := fixture(t)
		appt := newID()
		p := fx.payment(t, billing.PurposeVisit, &appt, epoch)
		p.Method.Reference = "slip 42"
		if err := fx.s.Billing.CreatePayment(ctx, p); err != nil {
			t.Fatal(err)
		}
		got, err := fx.s.Billing.Payment(ctx, fx.Practice, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != p.ID || got.Amount != p.Amount || got.Method != p.Method || got.Provider != p.Provider || got.Purpose != p.Purpose ||
			*got.Patient != *p.Patient || *got.Appointment != appt || !got.CreatedAt.Equal(epoch) || got.CreatedBy != desk || len(got.Ledger) != 0 {
			t.Fatalf("read back %+v, wrote %+v", got, p)
		}
		other := fixture(t)
		if _, err := fx.s.Billing.Payment(ctx, other.Practice, p.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("another practice's payment: %v, want not found", err)
		}
		if _, err := fx.s.Billing.Payment(ctx, fx.Practice, newID()); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("unknown payment: %v, want not found", err)
		}
		unknown := fx.payment(t, billing.PurposeVisit, nil, epoch)
		stranger := newID()
		unknown.Patient = &stranger
		if err := fx.s.Billing.CreatePayment(ctx, unknown); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("a payment of an unknown patient: %v, want not found", err)
		}
	})

	t.Run("LedgerAppends", func(t *testing.T) {
		fx := fixture(t)
		p := fx.create(t, billing.PurposeVisit, nil, epoch)
		if _, err := appendStep(ctx, fx.s.Billing, p, billing.EntryCharged, 5000, "k1", "tx1"); err != nil {
			t.Fatal(err)
		}
		if _, err := appendStep(ctx, fx.s.Billing, p, billing.EntryRefunded, 1000, "k2", "tx2"); err != nil {
			t.Fatal(err)
		}
		if _, err := appendStep(ctx, fx.s.Billing, p, billing.EntryRefunded, 500, "k2", "tx3"); !errs.Is(err, errs.KindConflict) {
			t.Fatalf("a key used twice on a payment: %v, want conflict", err)
		}
		got, err := fx.s.Billing.Payment(ctx, fx.Practice, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Ledger) != 2 || got.Ref != billing.Ref("ref-"+p.ID.String()) || got.Ledger[1].Key != "k2" || got.Ledger[1].ProviderTx != "tx2" || got.Ledger[1].By != desk {
			t.Fatalf("ledger %+v, ref %q", got.Ledger, got.Ref)
		}
		tot, err := got.Totals()
		if err != nil || tot.Net != usd(4000) {
			t.Fatalf("totals %+v, %v", tot, err)
		}
		// An entry numbered as one already there (a writer that did not
		// lock) is refused.
		stale := got.Ledger[1]
		if err := fx.s.Billing.AppendEntry(ctx, got, stale); !errs.Is(err, errs.KindConflict) {
			t.Fatalf("a second entry 2: %v, want conflict", err)
		}
		if err := fx.s.Billing.SetDeclines(ctx, fx.Practice, p.ID, 2); err != nil {
			t.Fatal(err)
		}
		if got, _ = fx.s.Billing.Payment(ctx, fx.Practice, p.ID); got.Declines != 2 {
			t.Fatalf("declines %d, want 2", got.Declines)
		}
		if err := fx.s.Billing.SetDeclines(ctx, fx.Practice, newID(), 1); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("declines of an unknown payment: %v", err)
		}
	})

	t.Run("LockedStepsTakeTurns", func(t *testing.T) {
		fx := fixture(t)
		p := fx.create(t, billing.PurposeVisit, nil, epoch)
		if _, err := appendStep(ctx, fx.s.Billing, p, billing.EntryCharged, 5000, "open", "tx0"); err != nil {
			t.Fatal(err)
		}
		const n = 20
		var wg sync.WaitGroup
		errc := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := appendStep(ctx, fx.s.Billing, p, billing.EntryRefunded, 100, billing.Key("r"+uuid.NewString()), "tx-"+string(rune('a'+i)))
				errc <- err
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatalf("a locked step failed: %v", err)
			}
		}
		got, _ := fx.s.Billing.Payment(ctx, fx.Practice, p.ID)
		if len(got.Ledger) != n+1 {
			t.Fatalf("%d entries, want %d", len(got.Ledger), n+1)
		}
		if _, err := got.Totals(); err != nil {
			t.Fatalf("the ledger breaks a rule: %v", err)
		}
		if _, err := fx.s.Billing.LockPayment(ctx, fx.Practice, p.ID); err == nil {
			t.Fatal("LockPayment outside a transaction succeeded")
		}
	})

	t.Run("FeeOnce", func(t *testing.T) {
		fx := fixture(t)
		appt := newID()
		const n = 20
		var wg sync.WaitGroup
		var mu sync.Mutex
		won, lost := 0, 0
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := fx.s.Billing.CreatePayment(ctx, fx.payment(t, billing.PurposeNoShowFee, &appt, epoch))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case errs.Is(err, errs.KindConflict) && errs.FieldOf(err) == "purpose":
					lost++
				default:
					t.Errorf("a racing fee: %v", err)
				}
			}()
		}
		wg.Wait()
		if won != 1 || lost != n-1 {
			t.Fatalf("%d fees written, %d refused; want 1 and %d", won, lost, n-1)
		}
		// Another purpose, or the visit itself, is not the same fee.
		fx.create(t, billing.PurposeLateCancel, &appt, epoch)
		fx.create(t, billing.PurposeVisit, &appt, epoch)
		fx.create(t, billing.PurposeVisit, &appt, epoch)
	})

	t.Run("ByRef", func(t *testing.T) {
		fx := fixture(t)
		p := fx.create(t, billing.PurposeVisit, nil, epoch)
		if _, err := appendStep(ctx, fx.s.Billing, p, billing.EntryCharged, 5000, "k1", "tx1"); err != nil {
			t.Fatal(err)
		}
		got, err := fx.s.Billing.PaymentByRef(ctx, billing.ProviderDesk, billing.Ref("ref-"+p.ID.String()))
		if err != nil || got.ID != p.ID || got.Practice != fx.Practice || len(got.Ledger) != 1 {
			t.Fatalf("by ref: %+v, %v", got, err)
		}
		for _, ref := range []billing.Ref{"", "ref-unknown"} {
			if _, err := fx.s.Billing.PaymentByRef(ctx, billing.ProviderDesk, ref); !errs.Is(err, errs.KindNotFound) {
				t.Fatalf("ref %q: %v, want not found", ref, err)
			}
		}
		if _, err := fx.s.Billing.PaymentByRef(ctx, "stripe", billing.Ref("ref-"+p.ID.String())); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("another provider's ref: %v, want not found", err)
		}
	})

	t.Run("Lists", func(t *testing.T) {
		fx := fixture(t)
		a1, a2 := newID(), newID()
		p1 := fx.create(t, billing.PurposeVisit, &a1, epoch)
		p2 := fx.create(t, billing.PurposeDeposit, &a2, epoch.Add(time.Hour))
		p3 := fx.create(t, billing.PurposeOther, nil, epoch.Add(2*time.Hour))
		other := newStorePatient(t, fx)
		p4 := other.create(t, billing.PurposeVisit, nil, epoch.Add(3*time.Hour))
		ids := func(ps []*billing.Payment) []uuid.UUID {
			out := make([]uuid.UUID, len(ps))
			for i, p := range ps {
				out[i] = p.ID
			}
			return out
		}
		pt := fx.Patient
		cases := []struct {
			name string
			f    billing.PaymentFilter
			want []uuid.UUID
		}{
			{"all, newest first", billing.PaymentFilter{}, []uuid.UUID{p4.ID, p3.ID, p2.ID, p1.ID}},
			{"a patient's", billing.PaymentFilter{Patient: &pt}, []uuid.UUID{p3.ID, p2.ID, p1.ID}},
			{"an appointment's", billing.PaymentFilter{Appointment: &a2}, []uuid.UUID{p2.ID}},
			{"appointments'", billing.PaymentFilter{Appointments: []uuid.UUID{a1, a2}}, []uuid.UUID{p2.ID, p1.ID}},
			{"no appointments", billing.PaymentFilter{Appointments: []uuid.UUID{}}, []uuid.UUID{}},
			{"a time range", billing.PaymentFilter{From: epoch.Add(time.Hour), To: epoch.Add(3 * time.Hour)}, []uuid.UUID{p3.ID, p2.ID}},
			{"a limit", billing.PaymentFilter{Limit: 1}, []uuid.UUID{p4.ID}},
		}
		for _, c := range cases {
			got, err := fx.s.Billing.Payments(ctx, fx.Practice, c.f)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if g := ids(got); len(g) != len(c.want) || (len(g) > 0 && !equalIDs(g, c.want)) {
				t.Errorf("%s: %v, want %v", c.name, g, c.want)
			}
		}
		if got, _ := fixture(t).s.Billing.Payments(ctx, newID(), billing.PaymentFilter{}); len(got) != 0 {
			t.Fatalf("another practice lists %d payments", len(got))
		}
	})

	t.Run("ListsACalendarsPayments", func(t *testing.T) {
		// A calendar's payments are read at once: with Appointments and no
		// limit, every payment of them, beyond the default 200.
		fx := fixture(t)
		const n = 205
		appts := make([]uuid.UUID, n)
		err := fx.s.Billing.InTx(ctx, func(ctx context.Context) error {
			for i := range appts {
				appts[i] = newID()
				if err := fx.s.Billing.CreatePayment(ctx, fx.payment(t, billing.PurposeVisit, &appts[i], epoch.Add(time.Duration(i)*time.Second))); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		fx.create(t, billing.PurposeVisit, nil, epoch)
		if got, err := fx.s.Billing.Payments(ctx, fx.Practice, billing.PaymentFilter{Appointments: appts}); err != nil || len(got) != n {
			t.Fatalf("the appointments' payments: %d, %v; want %d", len(got), err, n)
		}
		if got, err := fx.s.Billing.Payments(ctx, fx.Practice, billing.PaymentFilter{Appointments: appts, Limit: 3}); err != nil || len(got) != 3 {
			t.Fatalf("with a limit: %d, %v; want 3", len(got), err)
		}
		if got, err := fx.s.Billing.Payments(ctx, fx.Practice, billing.PaymentFilter{}); err != nil || len(got) != 200 {
			t.Fatalf("all: %d, %v; want the default 200", len(got), err)
		}
	})

	t.Run("EventsOnce", func(t *testing.T) {
		fx := fixture(t)
		p := fx.create(t, billing.PurposeVisit, nil, epoch)
		ev := func(id string, at time.Time, state billing.EventState) billing.StoredEvent {
			pid := p.ID
			return billing.StoredEvent{Provider: "stripe", Practice: fx.Practice, Payment: &pid, State: state, At: at,
				Event: billing.Event{ID: id, Type: "payment_intent.succeeded", Ref: "pi_1",
					Result: billing.Result{Ref: "pi_1", Kind: billing.EntryCaptured, Amount: usd(700), ProviderTx: "ch_1", At: at}}}
		}
		const n = 10
		var wg sync.WaitGroup
		var mu sync.Mutex
		fresh := 0
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var ok bool
				err := fx.s.Billing.InTx(ctx, func(ctx context.Context) error {
					var err error
					ok, err = fx.s.Billing.RememberEvent(ctx, ev("evt_1", epoch, billing.EventWaiting))
					return err
				})
				if err != nil {
					t.Errorf("RememberEvent: %v", err)
				}
				mu.Lock()
				if ok {
					fresh++
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		if fresh != 1 {
			t.Fatalf("one event remembered as new %d times, want 1", fresh)
		}
		if ok, err := fx.s.Billing.RememberEvent(ctx, ev("evt_0", epoch.Add(-time.Minute), billing.EventWaiting)); !ok || err != nil {
			t.Fatalf("a second event: %v, %v", ok, err)
		}
		if ok, err := fx.s.Billing.RememberEvent(ctx, ev("evt_2", epoch, billing.EventApplied)); !ok || err != nil {
			t.Fatalf("an applied event: %v, %v", ok, err)
		}
		w, err := fx.s.Billing.WaitingEvents(ctx, fx.Practice, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(w) != 2 || w[0].Event.ID != "evt_0" || w[1].Event.ID != "evt_1" {
			t.Fatalf("waiting %+v, want evt_0 then evt_1", w)
		}
		if r := w[1].Event.Result; r.Kind != billing.EntryCaptured || r.Amount != usd(700) || r.ProviderTx != "ch_1" || !r.At.Equal(epoch) {
			t.Fatalf("waiting effect %+v", r)
		}
		if err := fx.s.Billing.SettleEvent(ctx, "stripe", "evt_0", epoch); err != nil {
			t.Fatal(err)
		}
		if err := fx.s.Billing.SettleEvent(ctx, "stripe", "evt_0", epoch); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("settling twice: %v, want not found", err)
		}
		if w, _ = fx.s.Billing.WaitingEvents(ctx, fx.Practice, p.ID); len(w) != 1 {
			t.Fatalf("%d waiting after settling one, want 1", len(w))
		}
		// An event that names no payment is remembered too.
		if ok, err := fx.s.Billing.RememberEvent(ctx, billing.StoredEvent{Provider: "stripe", State: billing.EventApplied, At: epoch,
			Event: billing.Event{ID: "evt_other", Type: "customer.created"}}); !ok || err != nil {
			t.Fatalf("an event of no payment: %v, %v", ok, err)
		}
		if _, err := fx.s.Billing.RememberEvent(ctx, billing.StoredEvent{Provider: "stripe"}); !errs.Is(err, errs.KindInvalid) {
			t.Fatalf("an event without ID: %v, want invalid", err)
		}
	})

	t.Run("Policies", func(t *testing.T) {
		fx := fixture(t)
		if _, err := fx.s.Billing.Policy(ctx, fx.Practice, nil); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("no policy yet: %v, want not found", err)
		}
		vt := newID()
		def := &billing.Policy{Practice: fx.Practice, Collect: billing.CollectAtDesk, Price: usd(12000),
			NoShow: billing.Fee{Fixed: usd(2500)}, UpdatedAt: epoch, UpdatedBy: desk}
		own := &billing.Policy{Practice: fx.Practice, VisitType: &vt, Collect: billing.CollectDeposit, FirstVisit: billing.CollectPrepay,
			Price: usd(20000), Deposit: usd(5000), LateCancel: billing.Fee{Percent: 50}, UpdatedAt: epoch, UpdatedBy: desk}
		for _, p := range []*billing.Policy{own, def} {
			if err := fx.s.Billing.PutPolicy(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		def.Price = usd(15000)
		if err := fx.s.Billing.PutPolicy(ctx, def); err != nil {
			t.Fatal(err)
		}
		got, err := fx.s.Billing.Policy(ctx, fx.Practice, &vt)
		if err != nil || *got.VisitType != vt || got.Collect != billing.CollectDeposit || got.FirstVisit != billing.CollectPrepay ||
			got.Deposit != usd(5000) || got.LateCancel.Percent != 50 || got.UpdatedBy != desk {
			t.Fatalf("visit type's policy %+v, %v", got, err)
		}
		all, err := fx.s.Billing.Policies(ctx, fx.Practice)
		if err != nil || len(all) != 2 || all[0].VisitType != nil || all[0].Price != usd(15000) || all[0].NoShow.Fixed != usd(2500) {
			t.Fatalf("policies %+v, %v", all, err)
		}
		if all, _ := fx.s.Billing.Policies(ctx, newID()); len(all) != 0 {
			t.Fatalf("another practice has %d policies", len(all))
		}
	})

	t.Run("Cards", func(t *testing.T) {
		fx := fixture(t)
		if _, err := fx.s.Billing.CardOnFile(ctx, fx.Practice, fx.Patient, "stripe"); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("no card yet: %v", err)
		}
		for _, tok := range []string{"pm_1", "pm_2"} {
			if err := fx.s.Billing.SaveCard(ctx, billing.Card{Practice: fx.Practice, Patient: fx.Patient, Provider: "stripe", Token: tok, Label: "Visa " + tok, SavedAt: epoch}); err != nil {
				t.Fatal(err)
			}
		}
		c, err := fx.s.Billing.CardOnFile(ctx, fx.Practice, fx.Patient, "stripe")
		if err != nil || c.Token != "pm_2" || c.Label != "Visa pm_2" {
			t.Fatalf("card %+v, %v", c, err)
		}
		if err := fx.s.Billing.SaveCard(ctx, billing.Card{Practice: fx.Practice, Patient: newID(), Provider: "stripe", Token: "pm_3", SavedAt: epoch}); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("a card of an unknown patient: %v, want not found", err)
		}
	})

	t.Run("RollbackWritesNothing", func(t *testing.T) {
		fx := fixture(t)
		p := fx.payment(t, billing.PurposeVisit, nil, epoch)
		boom := errors.New("boom")
		err := fx.s.Billing.InTx(ctx, func(ctx context.Context) error {
			if err := fx.s.Billing.CreatePayment(ctx, p); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx: %v", err)
		}
		if _, err := fx.s.Billing.Payment(ctx, fx.Practice, p.ID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("a rolled back payment: %v, want not found", err)
		}
	})
}

// newStorePatient returns fx with another patient of its practice.
func newStorePatient(t *testing.T, fx storeFixture) storeFixture {
	t.Helper()
	f := patienttest.NewPatient(t, patienttest.Makers{Tenants: fx.s.Tenants, Patients: fx.s.Patients}, fx.Practice, epoch)
	return storeFixture{f, fx.s}
}

func equalIDs(a, b []uuid.UUID) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}
