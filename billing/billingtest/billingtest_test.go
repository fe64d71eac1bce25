package billingtest

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func TestFakeProvider(t *testing.T) {
	Run(t, func(testing.TB) billing.Adapter { return newFake(clock.NewFixed(t0)) })
}

// recorder is a testing.TB that records failures instead of failing the
// test it wraps; Fatal and FailNow end the case's goroutine, as in a test.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed bool
	msgs   []string
}

func (r *recorder) fail(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
	r.msgs = append(r.msgs, msg)
}

func (r *recorder) Helper()                           {}
func (r *recorder) Error(args ...any)                 { r.fail(fmt.Sprint(args...)) }
func (r *recorder) Errorf(format string, args ...any) { r.fail(fmt.Sprintf(format, args...)) }
func (r *recorder) Fail()                             { r.fail("Fail") }
func (r *recorder) FailNow()                          { r.fail("FailNow"); runtime.Goexit() }
func (r *recorder) Fatal(args ...any)                 { r.fail(fmt.Sprint(args...)); runtime.Goexit() }
func (r *recorder) Fatalf(format string, args ...any) {
	r.fail(fmt.Sprintf(format, args...))
	runtime.Goexit()
}
func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

// runCase runs one case of the suite against a on a recorder and returns
// what it recorded.
func runCase(t *testing.T, tc testCase, a billing.Adapter, c *config) *recorder {
	rec := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tc.run(rec, a, c)
	}()
	<-done
	return rec
}

// suiteVerdicts runs every case against a fresh adapter from newAdapter and
// returns the names of the cases that failed, with their first message.
// Only the cases named in only run, unless only is empty.
func suiteVerdicts(t *testing.T, newAdapter func() billing.Adapter, only []string, opts ...Option) map[string]string {
	c := newConfig(opts)
	failed := map[string]string{}
	for _, tc := range cases(c) {
		if len(only) > 0 && !slices.Contains(only, tc.name) {
			continue
		}
		if rec := runCase(t, tc, newAdapter(), c); rec.Failed() {
			failed[tc.name] = strings.Join(rec.msgs, "; ")
		}
	}
	return failed
}

func TestRecorderSeesAGoodAdapterPass(t *testing.T) {
	if failed := suiteVerdicts(t, func() billing.Adapter { return newFake(clock.NewFixed(t0)) }, nil); len(failed) != 0 {
		t.Fatalf("the recorder saw the fake fail: %v", failed)
	}
}

// forgetful forgets its keys: every call is a new request to the provider,
// so a retry charges again.
type forgetful struct {
	*fakeProvider
	mu sync.Mutex
	n  int
}

func (f *forgetful) fresh(k billing.Key) billing.Key {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	return billing.Key(fmt.Sprintf("%s-try-%d", k, f.n))
}

func (f *forgetful) Purchase(ctx context.Context, c billing.Charge) (billing.Result, error) {
	c.Key = f.fresh(c.Key)
	return f.fakeProvider.Purchase(ctx, c)
}

func (f *forgetful) Refund(ctx context.Context, u billing.FollowUp) (billing.Result, error) {
	if u.Key != "" {
		u.Key = f.fresh(u.Key)
	}
	return f.fakeProvider.Refund(ctx, u)
}

// generous refunds more than was taken: it answers an over-refund with a
// success instead of a conflict.
type generous struct{ *fakeProvider }

func (g generous) Refund(ctx context.Context, u billing.FollowUp) (billing.Result, error) {
	r, err := g.fakeProvider.Refund(ctx, u)
	if errs.Is(err, errs.KindConflict) && errs.FieldOf(err) == "" {
		return billing.Result{Ref: u.Ref, Kind: billing.EntryRefunded, Amount: u.Amount, At: t0}, nil
	}
	return r, err
}

// lateCancel cancels a captured hold.
type lateCancel struct{ *fakeProvider }

func (l lateCancel) Cancel(ctx context.Context, u billing.FollowUp) (billing.Result, error) {
	r, err := l.fakeProvider.Cancel(ctx, u)
	if errs.Is(err, errs.KindConflict) {
		return billing.Result{Ref: u.Ref, Kind: billing.EntryCanceled, Amount: billing.Money{Amount: 1, Currency: "USD"}, At: t0}, nil
	}
	return r, err
}

// currencyBlind takes any currency it is given for the payment's.
type currencyBlind struct{ *fakeProvider }

func (c currencyBlind) Refund(ctx context.Context, u billing.FollowUp) (billing.Result, error) {
	if u.Amount.Currency == "EUR" {
		u.Amount.Currency = "USD"
	}
	return c.fakeProvider.Refund(ctx, u)
}

// racy checks its keys before calling its provider and records them
// after, without holding its lock in between: two racing replays of a key
// both miss it and both charge. To make the crossing certain rather than
// likely, the first caller of a key waits for a second to pass the check.
type racy struct {
	*fakeProvider
	mu    sync.Mutex
	seen  map[billing.Key]billing.Result
	gates map[billing.Key]chan struct{}
}

func (r *racy) Purchase(ctx context.Context, c billing.Charge) (billing.Result, error) {
	r.mu.Lock()
	res, ok := r.seen[c.Key]
	gate, waiting := r.gates[c.Key]
	if !waiting {
		gate = make(chan struct{})
		r.gates[c.Key] = gate
	} else {
		select {
		case <-gate:
		default:
			close(gate)
		}
	}
	r.mu.Unlock()
	if ok {
		return res, nil
	}
	<-gate
	// Each request reaches the provider as a new one, as two requests that
	// crossed before either was recorded would.
	key := c.Key
	c.Key = billing.Key(fmt.Sprintf("%s-%p", key, &res))
	res, err := r.fakeProvider.Purchase(ctx, c)
	if err == nil {
		r.mu.Lock()
		r.seen[key] = res
		r.mu.Unlock()
	}
	return res, err
}

func TestSuiteCatchesBrokenAdapters(t *testing.T) {
	fake := func() *fakeProvider { return newFake(clock.NewFixed(t0)) }
	tests := []struct {
		name       string
		newAdapter func() billing.Adapter
		mustFail   []string
		only       bool // run only the cases of mustFail
	}{
		{"forgets its keys", func() billing.Adapter { return &forgetful{fakeProvider: fake()} },
			[]string{"ReplayReturnsSameResult", "ConcurrentPurchaseChargesOnce", "ConcurrentRefundRefundsOnce", "KeyReusedForAnotherRequestRefused"}, false},
		{"refunds more than was taken", func() billing.Adapter { return generous{fake()} },
			[]string{"RefundOverPaidRefused", "PurchaseThenRefundInParts", "AuthorizeThenPartialCaptureThenRefund", "RefundOfHoldRefused"}, false},
		{"cancels after a capture", func() billing.Adapter { return lateCancel{fake()} },
			[]string{"CancelAfterCaptureRefused", "CancelHold"}, false},
		{"takes any currency", func() billing.Adapter { return currencyBlind{fake()} },
			[]string{"WrongCurrencyRefused"}, false},
		{"races on its keys", func() billing.Adapter {
			return &racy{fakeProvider: fake(), seen: map[billing.Key]billing.Result{}, gates: map[billing.Key]chan struct{}{}}
		}, []string{"ConcurrentPurchaseChargesOnce"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var names []string
			if tt.only {
				names = tt.mustFail
			}
			failed := suiteVerdicts(t, tt.newAdapter, names)
			for _, name := range tt.mustFail {
				if _, ok := failed[name]; !ok {
					t.Errorf("case %s passed, want it to report the broken adapter (failed: %v)", name, failed)
				}
			}
		})
	}
}

func TestWithoutHoldsChecksAuthorizeIsRefused(t *testing.T) {
	c := newConfig([]Option{WithoutHolds()})
	var names []string
	for _, tc := range cases(c) {
		if tc.holds {
			t.Errorf("case %s needs holds", tc.name)
		}
		names = append(names, tc.name)
	}
	if !strings.Contains(strings.Join(names, ","), "AuthorizeRefused") {
		t.Fatalf("cases %v lack AuthorizeRefused", names)
	}
	// The fake holds cards, so the case must report it.
	var authorize testCase
	for _, tc := range cases(c) {
		if tc.name == "AuthorizeRefused" {
			authorize = tc
		}
	}
	if rec := runCase(t, authorize, newFake(clock.NewFixed(t0)), c); !rec.Failed() {
		t.Fatal("AuthorizeRefused passed on an adapter that holds")
	}
}

func TestFakeWebhook(t *testing.T) {
	f := newFake(clock.NewFixed(t0))
	body := []byte(`{"id":"evt_1","type":"charge.refunded","ref":"fake_pi_1","kind":"refunded","amount":250,"currency":"USD","at":1772442000}`)
	ev, err := f.ParseWebhook(body, billing.MapHeader{"fake-signature": f.sign(body)})
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != "evt_1" || ev.Ref != "fake_pi_1" || ev.Result.Kind != billing.EntryRefunded || ev.Result.Amount != (billing.Money{Amount: 250, Currency: "USD"}) {
		t.Fatalf("event = %+v", ev)
	}
	tampered := []byte(strings.Replace(string(body), "250", "2500", 1))
	if _, err := f.ParseWebhook(tampered, billing.MapHeader{"Fake-Signature": f.sign(body)}); !errs.Is(err, errs.KindUnauthenticated) {
		t.Fatalf("a tampered body: %v", err)
	}
	if _, err := f.ParseWebhook(body, billing.MapHeader{}); !errs.Is(err, errs.KindUnauthenticated) {
		t.Fatalf("no signature: %v", err)
	}
	bad := []byte(`{"id":"evt_2","kind":"refunded","amount":1,"currency":"ZZZ"}`)
	if _, err := f.ParseWebhook(bad, billing.MapHeader{"Fake-Signature": f.sign(bad)}); !errs.Is(err, errs.KindInvalid) || errs.FieldOf(err) != "currency" {
		t.Fatalf("an unknown currency: %v", err)
	}
}

func TestFakeDeclines(t *testing.T) {
	f := newFake(clock.NewFixed(t0))
	c := newConfig(nil)
	ch := c.charge(newPayment(), billing.OpPurchase, usd(100))
	ch.Method.Token = "tok_declined"
	if _, err := f.Purchase(context.Background(), ch); !errs.Is(err, errs.KindPreconditionFailed) || errs.FieldOf(err) != "method" {
		t.Fatalf("a declined card: %v", err)
	}
}
