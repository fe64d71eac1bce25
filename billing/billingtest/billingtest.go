// Package billingtest is the conformance suite of billing.Adapter. Every
// payment adapter runs it; an adapter that passes keeps the promises made in
// the doc comment of billing.Adapter: idempotent calls that never move money
// twice (also when they race), captures within the hold, refunds within what
// was taken, no cancellation after a capture, amounts in the payment's
// currency, and errors of the kinds the contract names.
//
// Where the contract is silent, the suite picks the reading a careful
// implementer would and says so in a comment next to the check.
package billingtest

import (
	"context"
	"sync"
	"testing"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/google/uuid"
)

// Option adjusts the suite to what the adapter under test takes.
type Option func(*config)

type config struct {
	method billing.Method
	by     actor.Actor
	holds  bool
}

// WithMethod makes every charge of the suite use m (the default is an
// online card with the token "tok_visa").
func WithMethod(m billing.Method) Option { return func(c *config) { c.method = m } }

// WithActor makes every call of the suite made by a (the default is a
// member of staff, "staff:billingtest").
func WithActor(a actor.Actor) Option { return func(c *config) { c.by = a } }

// WithoutHolds says the method cannot be held (cash at the desk): the suite
// then checks that Authorize is refused with errs.KindInvalid naming
// "method.kind", and skips the cases of holds, captures and cancellations.
func WithoutHolds() Option { return func(c *config) { c.holds = false } }

// Racers is how many goroutines replay one key at once in the concurrency
// cases.
const Racers = 24

type testCase struct {
	name  string
	holds bool // needs a method that can be held
	run   func(t testing.TB, a billing.Adapter, c *config)
}

// Run runs the conformance suite: every case gets a fresh adapter from
// newAdapter, which registers its own clean-up with t.Cleanup and fails t if
// it cannot make one.
func Run(t *testing.T, newAdapter func(t testing.TB) billing.Adapter, opts ...Option) {
	t.Helper()
	c := newConfig(opts)
	for _, tc := range cases(c) {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newAdapter(t), c) })
	}
}

func newConfig(opts []Option) *config {
	c := &config{
		method: billing.Method{Kind: billing.MethodCardOnline, Token: "tok_visa"},
		by:     actor.Actor{Kind: actor.Staff, ID: "billingtest"},
		holds:  true,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// cases returns the cases that apply to c.
func cases(c *config) []testCase {
	all := []testCase{
		{"PurchaseThenRefundInParts", false, testPurchaseThenRefundInParts},
		{"RefundOverPaidRefused", false, testRefundOverPaidRefused},
		{"WrongCurrencyRefused", false, testWrongCurrencyRefused},
		{"BadInputRefused", false, testBadInputRefused},
		{"UnknownRefNotFound", false, testUnknownRefNotFound},
		{"ReplayReturnsSameResult", false, testReplayReturnsSameResult},
		{"KeyReusedForAnotherRequestRefused", false, testKeyReusedForAnotherRequestRefused},
		{"ConcurrentPurchaseChargesOnce", false, testConcurrentPurchaseChargesOnce},
		{"ConcurrentRefundRefundsOnce", false, testConcurrentRefundRefundsOnce},
		{"CardOnFile", false, testCardOnFile},
		{"AuthorizeThenPartialCaptureThenRefund", true, testPartialCaptureThenRefund},
		{"CaptureOverHoldRefused", true, testCaptureOverHoldRefused},
		{"SecondCaptureRefused", true, testSecondCaptureRefused},
		{"CancelHold", true, testCancelHold},
		{"CancelAfterCaptureRefused", true, testCancelAfterCaptureRefused},
		{"RefundOfHoldRefused", true, testRefundOfHoldRefused},
		{"CaptureInWrongCurrencyRefused", true, testCaptureInWrongCurrencyRefused},
		{"ConcurrentCaptureCapturesOnce", true, testConcurrentCaptureCapturesOnce},
	}
	var out []testCase
	for _, tc := range all {
		if tc.holds && !c.holds {
			continue
		}
		out = append(out, tc)
	}
	if !c.holds {
		out = append(out, testCase{"AuthorizeRefused", false, testAuthorizeRefused})
	}
	return out
}

func usd(n int64) billing.Money { return billing.Money{Amount: n, Currency: "USD"} }

// payment is one payment of the suite: its ID and the keys of its steps.
type payment struct {
	id  billing.PaymentID
	seq int
}

func newPayment() *payment { return &payment{id: uuid.New()} }

// key returns the key of the payment's next step.
func (p *payment) key(op billing.Operation) billing.Key {
	p.seq++
	return billing.DeriveKey(p.id, op, p.seq)
}

func (c *config) charge(p *payment, op billing.Operation, amount billing.Money) billing.Charge {
	return billing.Charge{Payment: p.id, Amount: amount, Method: c.method, Key: p.key(op), By: c.by, Description: "billingtest visit"}
}

func (c *config) follow(p *payment, ref billing.Ref, op billing.Operation, amount billing.Money) billing.FollowUp {
	return billing.FollowUp{Ref: ref, Amount: amount, Key: p.key(op), By: c.by, Reason: "billingtest"}
}

// check fails t unless the call succeeded with a result of kind and amount.
func check(t testing.TB, what string, r billing.Result, err error, kind billing.EntryKind, amount billing.Money) billing.Result {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if r.Kind != kind || r.Amount != amount {
		t.Fatalf("%s = %s of %v, want %s of %v", what, r.Kind, r.Amount, kind, amount)
	}
	if r.Ref == "" {
		t.Fatalf("%s: the result has no Ref", what)
	}
	if r.At.IsZero() {
		t.Fatalf("%s: the result has no time", what)
	}
	return r
}

// refused fails t unless err is of kind and, when field is not "", names it.
func refused(t testing.TB, what string, err error, kind errs.Kind, field string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s succeeded, want an error of kind %v", what, kind)
	}
	if got := errs.KindOf(err); got != kind {
		t.Fatalf("%s: error %v is of kind %v, want %v", what, err, got, kind)
	}
	if field != "" && errs.FieldOf(err) != field {
		t.Fatalf("%s: error %v names field %q, want %q", what, err, errs.FieldOf(err), field)
	}
}

func same(a, b billing.Result) bool {
	return a.Ref == b.Ref && a.Kind == b.Kind && a.Amount == b.Amount && a.ProviderTx == b.ProviderTx && a.At.Equal(b.At)
}

func purchase(t testing.TB, a billing.Adapter, c *config, p *payment, amount billing.Money) billing.Result {
	t.Helper()
	r, err := a.Purchase(context.Background(), c.charge(p, billing.OpPurchase, amount))
	return check(t, "Purchase", r, err, billing.EntryCharged, amount)
}

func authorize(t testing.TB, a billing.Adapter, c *config, p *payment, amount billing.Money) billing.Result {
	t.Helper()
	r, err := a.Authorize(context.Background(), c.charge(p, billing.OpAuthorize, amount))
	return check(t, "Authorize", r, err, billing.EntryAuthorized, amount)
}

// refundLeft proves that exactly left remains to refund on ref: a refund of
// one minor unit more is refused, then a refund of left succeeds (when left
// is more than zero) and nothing more can be refunded.
func refundLeft(t testing.TB, a billing.Adapter, c *config, p *payment, ref billing.Ref, left int64) {
	t.Helper()
	ctx := context.Background()
	_, err := a.Refund(ctx, c.follow(p, ref, billing.OpRefund, usd(left+1)))
	refused(t, "a refund of one unit more than is left", err, errs.KindConflict, "")
	if left > 0 {
		r, err := a.Refund(ctx, c.follow(p, ref, billing.OpRefund, usd(left)))
		check(t, "the refund of what is left", r, err, billing.EntryRefunded, usd(left))
		_, err = a.Refund(ctx, c.follow(p, ref, billing.OpRefund, usd(1)))
		refused(t, "a refund once all is refunded", err, errs.KindConflict, "")
	}
}

func testPurchaseThenRefundInParts(t testing.TB, a billing.Adapter, c *config) {
	ctx := context.Background()
	p := newPayment()
	r := purchase(t, a, c, p, usd(5000))
	rf, err := a.Refund(ctx, c.follow(p, r.Ref, billing.OpRefund, usd(2000)))
	check(t, "Refund of part", rf, err, billing.EntryRefunded, usd(2000))
	if rf.Ref != r.Ref {
		t.Fatalf("Refund's Ref = %q, want the payment's %q", rf.Ref, r.Ref)
	}
	refundLeft(t, a, c, p, r.Ref, 3000)
}

func testRefundOverPaidRefused(t testing.TB, a billing.Adapter, c *config) {
	p := newPayment()
	r := purchase(t, a, c, p, usd(1000))
	// The refused refund must have moved nothing: all 1000 are still left.
	refundLeft(t, a, c, p, r.Ref, 1000)
}

func testWrongCurrencyRefused(t testing.TB, a billing.Adapter, c *config) {
	ctx := context.Background()
	p := newPayment()
	r := purchase(t, a, c, p, usd(1000))
	_, err := a.Refund(ctx, c.follow(p, r.Ref, billing.OpRefund, billing.Money{Amount: 100, Currency: "EUR"}))
	refused(t, "a refund in EUR of a payment in USD", err, errs.KindInvalid, "amount.currency")
	refundLeft(t, a, c, p, r.Ref, 1000)
}

func testBadInputRefused(t testing.TB, a billing.Adapter, c *config) {
	ctx := context.Background()
	for _, tt := range []struct {
		what   string
		amount billing.Money
		field  string
	}{
		{"a purchase of zero", usd(0), "amount"},
		{"a purchase of a negative amount", usd(-100), "amount"},
		{"a purchase in an unknown currency", billing.Money{Amount: 100, Currency: "ZZZ"}, "currency"},
		{"a purchase without a currency", billing.Money{Amount: 100}, "currency"},
	} {
		_, err := a.Purchase(ctx, c.charge(newPayment(), billing.OpPurchase, tt.amount))
		refused(t, tt.what, err, errs.KindInvalid, tt.field)
	}
	ch := c.charge(newPayment(), billing.OpPurchase, usd(100))
	ch.Key = ""
	_, err := a.Purchase(ctx, ch)
	refused(t, "a purchase without a key", err, errs.KindInvalid, "key")
	ch = c.charge(newPayment(), billing.OpPurchase, usd(100))
	ch.Method.Kind = "barter"
	_, err = a.Purchase(ctx, ch)
	refused(t, "a purchase by an unknown method", err, errs.KindInvalid, "method.kind")

	p := newPayment()
	r := purchase(t, a, c, p, usd(1000))
	_, err = a.Refund(ctx, c.follow(p, r.Ref, billing.OpRefund, usd(0)))
	refused(t, "a refund of zero", err, errs.KindInvalid, "amount")
	f := c.follow(p, r.Ref, billing.OpRefund, usd(10))
	f.Key = ""
	_, err = a.Refund(ctx, f)
	refused(t, "a refund without a key", err, errs.KindInvalid, "key")
	refundLeft(t, a, c, p, r.Ref, 1000)
}

func testUnknownRefNotFound(t testing.TB, a billing.Adapter, c *config) {
	ctx := context.Background()
	p := newPayment()
	const ref = billing.Ref("billingtest-no-such-payment")
	_, err := a.Refund(ctx, c.follow(p, ref, billing.OpRefund, usd(100)))
	refused(t, "a refund of an unknown payment", err, errs.KindNotFound, "")
	_, err = a.Capture(ctx, c.follow(p, ref, billing.OpCapture, usd(100)))
	refused(t, "a capture of an unknown payment", err, errs.KindNotFound, "")
	_, err = a.Cancel(ctx, c.follow(p, ref, billing.OpCancel, billing.Money{}))
	refused(t, "a cancellation of an unknown payment", err, errs.KindNotFound, "")
}

func testReplayReturnsSameResult(t testing.TB, a billing.Adapter, c *config) {
	ctx := context.Background()
	p := newPayment()
	ch := c.charge(p, billing.OpPurchase, usd(1000))
	first, err := a.Purchase(ctx, ch)
	check(t, "Purchase", first, err, billing.EntryCharged, usd(1000))
	again, err := a.Purchase(ctx, ch)
	check(t, "Purchase replayed", again, err, billing.EntryCharged, usd(1000))
	if !same(first, again) {
		t.Fatalf("the replayed Purchase = %+v, want the first result %+v", again, first)
	}
	f := c.follow(p, first.Ref, billing.OpRefund, usd(400))
	r1, err := a.Refund(ctx, f)
	check(t, "Refund", r1, err, billing.EntryRefunded, usd(400))
	r2, err := a.Refund(ctx, f)
	check(t, "Refund replayed", r2, err, billing.EntryRefunded, usd(400))
	if !same(r1, r2) {
		t.Fatalf("the replayed Refund = %+v, want the first result %+v", r2, r1)
	}
	// One charge of 1000 and one refund of 400: 600 are left.
	refundLeft(t, a, c, p, first.Ref, 600)
}

func testKeyReusedForAnotherRequestRefused(t testing.TB, a billing.Adapter, c *config) {
	ctx := context.Background()
	p := newPayment()
	ch := c.charge(p, billing.OpPurchase, usd(1000))
	r := purchase2(t, a, ch)
	other := ch
	other.Amount = usd(2000)
	_, err := a.Purchase(ctx, other)
	refused(t, "a purchase of another amount under a used key", err, errs.KindConflict, "key")
	other = ch
	other.Payment = uuid.New()
	_, err = a.Purchase(ctx, other)
	refused(t, "a purchase of another payment under a used key", err, errs.KindConflict, "key")
	_, err = a.Refund(ctx, billing.FollowUp{Ref: r.Ref, Amount: usd(100), Key: ch.Key, By: c.by})
	refused(t, "a refund under the key of a purchase", err, errs.KindConflict, "key")
	refundLeft(t, a, c, p, r.Ref, 1000)
}

func purchase2(t testing.TB, a billing.Adapter, ch billing.Charge) billing.Result {
	t.Helper()
	r, err := a.Purchase(context.Background(), ch)
	return check(t, "Purchase", r, err, billing.EntryCharged, ch.Amount)
}

// race runs call from Racers goroutines at once and returns their results
// and errors; no goroutine touches t.
// race calls call from Racers goroutines at once.
func race[T any](call func() (T, error)) ([]T, []error) {
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		results = make([]T, Racers)
		errors  = make([]error, Racers)
	)
	for i := range Racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errors[i] = call()
		}()
	}
	close(start)
	wg.Wait()
	return results, errors
}

// allSame fails t unless every racer succeeded with the same result of kind
// and amount, and returns it.
func allSame(t testing.TB, what string, results []billing.Result, fails []error, kind billing.EntryKind, amount billing.Money) billing.Result {
	t.Helper()
	first := check(t, what, results[0], fails[0], kind, amount)
	for i := 1; i < len(results); i++ {
		check(t, what, results[i], fails[i], kind, amount)
		if !same(results[i], first) {
			t.Fatalf("%s: racer %d got %+v, racer 0 got %+v", what, i, results[i], first)
		}
	}
	return first
}

func testConcurrentPurchaseChargesOnce(t testing.TB, a billing.Adapter, c *config) {
	p := newPayment()
	ch := c.charge(p, billing.OpPurchase, usd(1000))
	res, fails := race(func() (billing.Result, error) { return a.Purchase(context.Background(), ch) })
	r := allSame(t, "Purchase replayed at once", res, fails, billing.EntryCharged, usd(1000))
	// Charged once: exactly 1000 can be refunded, not 1000 per racer.
	refundLeft(t, a, c, p, r.Ref, 1000)
}

func testConcurrentRefundRefundsOnce(t testing.TB, a billing.Adapter, c *config) {
	p := newPayment()
	r := purchase(t, a, c, p, usd(1000))
	f := c.follow(p, r.Ref, billing.OpRefund, usd(300))
	res, fails := race(func() (billing.Result, error) { return a.Refund(context.Background(), f) })
	allSame(t, "Refund replayed at once", res, fails, billing.EntryRefunded, usd(300))
	refundLeft(t, a, c, p, r.Ref, 700)
}

func testCardOnFile(t testing.TB, a billing.Adapter, c *config) {
	saver, ok := a.(billing.CardSaver)
	if !ok {
		t.Logf("the adapter is not a billing.CardSaver: nothing to check")
		return
	}
	ctx := context.Background()
	setup := billing.CardSetup{Key: billing.DeriveKey(uuid.New(), billing.OpSetupCard, 1)}
	s1, err := saver.SetupCard(ctx, setup)
	if err != nil {
		t.Fatalf("SetupCard: %v", err)
	}
	if s1.ID == "" {
		t.Fatalf("SetupCard = %+v: no ID", s1)
	}
	s2, err := saver.SetupCard(ctx, setup)
	if err != nil {
		t.Fatalf("SetupCard replayed: %v", err)
	}
	if s1 != s2 {
		t.Fatalf("SetupCard replayed = %+v, want the first %+v", s2, s1)
	}
	_, err = saver.SetupCard(ctx, billing.CardSetup{})
	refused(t, "SetupCard without a key", err, errs.KindInvalid, "key")
}

func testAuthorizeRefused(t testing.TB, a billing.Adapter, c *config) {
	_, err := a.Authorize(context.Background(), c.charge(newPayment(), billing.OpAuthorize, usd(1000)))
	refused(t, "a hold by a method that cannot be held", err, errs.KindInvalid, "method.kind")
}

func testPartialCaptureThenRefund(t testing.TB, a billing.Adapter, c *config) {
	ctx := context.Background()
	p := newPayment()
	h := authorize(t, a, c, p, usd(10000))
	cp, err := a.Capture(ctx, c.follow(p, h.Ref, billing.OpCapture, usd(6000)))
	check(t, "Capture of part", cp, err, billing.EntryCaptured, usd(6000))
	if cp.Ref != h.Ref {
		t.Fatalf("Capture's Ref = %q, want the hold's %q", cp.Ref, h.Ref)
	}
	// Only the 6000 captured can be refunded, not the 10000 held.
	refundLeft(t, a, c, p, h.Ref, 6000)
}

func testCaptureOverHoldRefused(t testing.TB, a billing.Adapter, c *config) {
	ctx := context.Background()
	p := newPayment()
	h := authorize(t, a, c, p, usd(1000))
	_, err := a.Capture(ctx, c.follow(p, h.Ref, billing.OpCapture, usd(1001)))
	refused(t, "a capture above the hold", err, errs.KindConflict, "")
	// The refusal left the hold open.
	cp, err := a.Capture(ctx, c.follow(p, h.Ref, billing.OpCapture, usd(1000)))
	check(t, "Capture of the whole hold", cp, err, billing.EntryCaptured, usd(1000))
	refundLeft(t, a, c, p, h.Ref, 1000)
}

func testSecondCaptureRefused(t testing.TB, a billing.Adapter, c *config) {
	ctx := context.Background()
	p := newPayment()
	h := authorize(t, a, c, p, usd(1000))
	cp, err := a.Capture(ctx, c.follow(p, h.Ref, billing.OpCapture, usd(400)))
	check(t, "Capture of part", cp, err, billing.EntryCaptured, usd(400))
	// The contract: a capture releases the rest of the hold.
	_, err = a.Capture(ctx, c.follow(p, h.Ref, billing.OpCapture, usd(100)))
	refused(t, "a second capture", err, errs.KindConflict, "")
	refundLeft(t, a, c, p, h.Ref, 400)
}

func testCancelHold(t testing.TB, a billing.Adapter, c *config) {
	ctx := context.Background()
	p := newPayment()
	h := authorize(t, a, c, p, usd(1000))
	cn, err := a.Cancel(ctx, c.follow(p, h.Ref, billing.OpCancel, billing.Money{}))
	check(t, "Cancel", cn, err, billing.EntryCanceled, usd(1000))
	_, err = a.Capture(ctx, c.follow(p, h.Ref, billing.OpCapture, usd(100)))
	refused(t, "a capture of a canceled hold", err, errs.KindConflict, "")
	_, err = a.Cancel(ctx, c.follow(p, h.Ref, billing.OpCancel, billing.Money{}))
	refused(t, "a second cancellation", err, errs.KindConflict, "")
	refundLeft(t, a, c, p, h.Ref, 0)

	// A cancellation naming the amount must name the whole hold.
	q := newPayment()
	h = authorize(t, a, c, q, usd(800))
	_, err = a.Cancel(ctx, c.follow(q, h.Ref, billing.OpCancel, usd(300)))
	refused(t, "a cancellation of part of the hold", err, errs.KindInvalid, "amount")
	cn, err = a.Cancel(ctx, c.follow(q, h.Ref, billing.OpCancel, usd(800)))
	check(t, "Cancel naming the hold", cn, err, billing.EntryCanceled, usd(800))

	// Zero in the payment's currency means the whole hold, as zero does.
	z := newPayment()
	h = authorize(t, a, c, z, usd(600))
	cn, err = a.Cancel(ctx, c.follow(z, h.Ref, billing.OpCancel, usd(0)))
	check(t, "Cancel of zero USD", cn, err, billing.EntryCanceled, usd(600))
}

func testCancelAfterCaptureRefused(t testing.TB, a billing.Adapter, c *config) {
	ctx := context.Background()
	p := newPayment()
	h := authorize(t, a, c, p, usd(1000))
	cp, err := a.Capture(ctx, c.follow(p, h.Ref, billing.OpCapture, usd(1000)))
	check(t, "Capture", cp, err, billing.EntryCaptured, usd(1000))
	_, err = a.Cancel(ctx, c.follow(p, h.Ref, billing.OpCancel, billing.Money{}))
	refused(t, "a cancellation after a capture", err, errs.KindConflict, "")
	refundLeft(t, a, c, p, h.Ref, 1000)
}

func testRefundOfHoldRefused(t testing.TB, a billing.Adapter, c *config) {
	p := newPayment()
	h := authorize(t, a, c, p, usd(1000))
	// Nothing was taken, so nothing can be refunded.
	refundLeft(t, a, c, p, h.Ref, 0)
}

func testCaptureInWrongCurrencyRefused(t testing.TB, a billing.Adapter, c *config) {
	ctx := context.Background()
	p := newPayment()
	h := authorize(t, a, c, p, usd(1000))
	_, err := a.Capture(ctx, c.follow(p, h.Ref, billing.OpCapture, billing.Money{Amount: 500, Currency: "EUR"}))
	refused(t, "a capture in EUR of a hold in USD", err, errs.KindInvalid, "amount.currency")
	_, err = a.Cancel(ctx, c.follow(p, h.Ref, billing.OpCancel, billing.Money{Amount: 1000, Currency: "EUR"}))
	refused(t, "a cancellation in EUR of a hold in USD", err, errs.KindInvalid, "amount.currency")
	cp, err := a.Capture(ctx, c.follow(p, h.Ref, billing.OpCapture, usd(500)))
	check(t, "Capture", cp, err, billing.EntryCaptured, usd(500))
}

func testConcurrentCaptureCapturesOnce(t testing.TB, a billing.Adapter, c *config) {
	p := newPayment()
	h := authorize(t, a, c, p, usd(1000))
	f := c.follow(p, h.Ref, billing.OpCapture, usd(700))
	res, fails := race(func() (billing.Result, error) { return a.Capture(context.Background(), f) })
	allSame(t, "Capture replayed at once", res, fails, billing.EntryCaptured, usd(700))
	refundLeft(t, a, c, p, h.Ref, 700)
}
