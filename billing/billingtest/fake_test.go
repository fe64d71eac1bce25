package billingtest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
)

// fakeProvider is a small in-memory payment provider, written apart from
// billing's ledger rules so that the suite is checked against an
// independent reading of the contract.
type fakeProvider struct {
	clock  clock.Clock
	secret []byte

	mu       sync.Mutex
	n        int
	payments map[billing.Ref]*fakePayment
	done     map[billing.Key]fakeDone
	setups   map[billing.Key]billing.SavedCard
}

type fakePayment struct {
	currency billing.Currency
	held     int64 // open hold
	holdOpen bool
	captured bool
	canceled bool
	paid     int64
	refunded int64
}

type fakeDone struct {
	request string // what was asked under the key
	result  billing.Result
}

var (
	_ billing.Adapter         = (*fakeProvider)(nil)
	_ billing.CardSaver       = (*fakeProvider)(nil)
	_ billing.WebhookVerifier = (*fakeProvider)(nil)
)

func newFake(c clock.Clock) *fakeProvider {
	return &fakeProvider{
		clock:    c,
		secret:   []byte("whsec_fake"),
		payments: map[billing.Ref]*fakePayment{},
		done:     map[billing.Key]fakeDone{},
		setups:   map[billing.Key]billing.SavedCard{},
	}
}

// do runs fn under the key: a key that succeeded answers its first result,
// a key reused for another request is refused.
func (f *fakeProvider) do(op string, key billing.Key, request string, fn func() (billing.Result, error)) (billing.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d, ok := f.done[key]; ok {
		if d.request != request {
			return billing.Result{}, &errs.Error{Kind: errs.KindConflict, Op: op, Field: "key", Msg: "the key was used for another request"}
		}
		return d.result, nil
	}
	r, err := fn()
	if err != nil {
		return billing.Result{}, err
	}
	f.done[key] = fakeDone{request: request, result: r}
	return r, nil
}

func (f *fakeProvider) open(op string, c billing.Charge, hold bool) (billing.Result, error) {
	if err := c.Validate(op); err != nil {
		return billing.Result{}, err
	}
	if c.Method.Kind != billing.MethodCardOnline {
		return billing.Result{}, errs.Invalid(op, "method.kind", "the fake takes online cards only")
	}
	req := fmt.Sprintf("%s|%s|%v|%s", op, c.Payment, c.Amount, c.Method.Token)
	return f.do(op, c.Key, req, func() (billing.Result, error) {
		if c.Method.Token == "tok_declined" {
			return billing.Result{}, &errs.Error{Kind: errs.KindPreconditionFailed, Op: op, Field: "method", Msg: "the card was declined"}
		}
		f.n++
		ref := billing.Ref(fmt.Sprintf("fake_pi_%d", f.n))
		p := &fakePayment{currency: c.Amount.Currency}
		kind := billing.EntryCharged
		if hold {
			p.held, p.holdOpen, kind = c.Amount.Amount, true, billing.EntryAuthorized
		} else {
			p.paid = c.Amount.Amount
		}
		f.payments[ref] = p
		return billing.Result{Ref: ref, Kind: kind, Amount: c.Amount, ProviderTx: string(ref), At: f.clock.Now()}, nil
	})
}

func (f *fakeProvider) Authorize(_ context.Context, c billing.Charge) (billing.Result, error) {
	return f.open("fake.Authorize", c, true)
}

func (f *fakeProvider) Purchase(_ context.Context, c billing.Charge) (billing.Result, error) {
	return f.open("fake.Purchase", c, false)
}

// follow checks u and runs fn on its payment under its key.
func (f *fakeProvider) follow(op string, u billing.FollowUp, zeroAllowed bool, fn func(p *fakePayment) (billing.Result, error)) (billing.Result, error) {
	if err := u.Validate(op, zeroAllowed); err != nil {
		return billing.Result{}, err
	}
	req := fmt.Sprintf("%s|%s|%v", op, u.Ref, u.Amount)
	return f.do(op, u.Key, req, func() (billing.Result, error) {
		p, ok := f.payments[u.Ref]
		if !ok {
			return billing.Result{}, errs.NotFound(op, "payment")
		}
		if u.Amount.Currency != "" && u.Amount.Currency != p.currency {
			return billing.Result{}, errs.Invalid(op, "amount.currency", "the payment is in "+string(p.currency))
		}
		r, err := fn(p)
		if err != nil {
			return billing.Result{}, err
		}
		f.n++
		r.Ref, r.ProviderTx, r.At = u.Ref, fmt.Sprintf("fake_tx_%d", f.n), f.clock.Now()
		return r, nil
	})
}

func (f *fakeProvider) Capture(_ context.Context, u billing.FollowUp) (billing.Result, error) {
	const op = "fake.Capture"
	return f.follow(op, u, false, func(p *fakePayment) (billing.Result, error) {
		if !p.holdOpen {
			return billing.Result{}, errs.Conflict(op, "no open hold")
		}
		if u.Amount.Amount > p.held {
			return billing.Result{}, errs.Conflict(op, "the capture exceeds the hold")
		}
		p.paid, p.holdOpen, p.captured, p.held = u.Amount.Amount, false, true, 0
		return billing.Result{Kind: billing.EntryCaptured, Amount: u.Amount}, nil
	})
}

func (f *fakeProvider) Cancel(_ context.Context, u billing.FollowUp) (billing.Result, error) {
	const op = "fake.Cancel"
	return f.follow(op, u, true, func(p *fakePayment) (billing.Result, error) {
		if p.captured || !p.holdOpen {
			return billing.Result{}, errs.Conflict(op, "no open hold to cancel")
		}
		if !u.Amount.IsZero() && u.Amount.Amount != p.held {
			return billing.Result{}, errs.Invalid(op, "amount", "a cancellation releases the whole hold")
		}
		amount := billing.Money{Amount: p.held, Currency: p.currency}
		p.holdOpen, p.canceled, p.held = false, true, 0
		return billing.Result{Kind: billing.EntryCanceled, Amount: amount}, nil
	})
}

func (f *fakeProvider) Refund(_ context.Context, u billing.FollowUp) (billing.Result, error) {
	const op = "fake.Refund"
	return f.follow(op, u, false, func(p *fakePayment) (billing.Result, error) {
		if u.Amount.Amount > p.paid-p.refunded {
			return billing.Result{}, errs.Conflict(op, "the refund exceeds what is left")
		}
		p.refunded += u.Amount.Amount
		return billing.Result{Kind: billing.EntryRefunded, Amount: u.Amount}, nil
	})
}

func (f *fakeProvider) SetupCard(_ context.Context, s billing.CardSetup) (billing.SavedCard, error) {
	if err := s.Key.Validate("fake.SetupCard"); err != nil {
		return billing.SavedCard{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if sc, ok := f.setups[s.Key]; ok {
		return sc, nil
	}
	f.n++
	sc := billing.SavedCard{ID: fmt.Sprintf("fake_seti_%d", f.n), Token: fmt.Sprintf("fake_pm_%d", f.n), ClientSecret: fmt.Sprintf("fake_seti_%d_secret", f.n)}
	f.setups[s.Key] = sc
	return sc, nil
}

// fakeEvent is the body of the fake's webhooks.
type fakeEvent struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Ref      string `json:"ref"`
	Kind     string `json:"kind"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	At       int64  `json:"at"`
}

// sign returns the Fake-Signature header of body.
func (f *fakeProvider) sign(body []byte) string {
	m := hmac.New(sha256.New, f.secret)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func (f *fakeProvider) ParseWebhook(body []byte, h billing.Header) (billing.Event, error) {
	const op = "fake.ParseWebhook"
	got, err := hex.DecodeString(h.Get("Fake-Signature"))
	if err != nil || !hmac.Equal(got, mustHex(f.sign(body))) {
		return billing.Event{}, &errs.Error{Kind: errs.KindUnauthenticated, Op: op, Field: "Fake-Signature", Msg: "the signature does not match"}
	}
	var ev fakeEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return billing.Event{}, errs.Invalid(op, "body", "the event is not JSON")
	}
	if ev.ID == "" {
		return billing.Event{}, errs.Invalid(op, "id", "the event has no ID")
	}
	out := billing.Event{ID: ev.ID, Type: ev.Type, Ref: billing.Ref(ev.Ref)}
	if ev.Kind != "" {
		amount := billing.Money{Amount: ev.Amount, Currency: billing.Currency(ev.Currency)}
		if err := amount.Validate(op, "amount"); err != nil {
			return billing.Event{}, err
		}
		out.Result = billing.Result{Ref: out.Ref, Kind: billing.EntryKind(ev.Kind), Amount: amount, At: time.Unix(ev.At, 0).UTC()}
	}
	return out, nil
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
