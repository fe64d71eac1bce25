package stripe_test

import (
	"context"
	"fmt"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/billing/stripe"
	"github.com/carebook/carebook/billing/stripe/stripetest"
	"github.com/carebook/carebook/clock"
	"github.com/google/uuid"
)

// A visit's deposit held on a card, part of it captured after the visit;
// the rest of the hold is released. The adapter talks to a fake Stripe
// here; in production BackendURL is left empty.
func Example() {
	c := clock.NewFixed(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	fake := stripetest.NewFake(c)
	defer fake.Close()
	a, err := stripe.New(stripe.Config{SecretKey: "sk_test_example", BackendURL: fake.URL(), Clock: c})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	practice := uuid.MustParse("01890a5d-0000-7000-8000-000000000001")
	patient := actor.Actor{Kind: actor.Patient, ID: "patient-7"}
	p, err := billing.NewPayment(uuid.New(), practice, billing.Money{Amount: 10000, Currency: "USD"},
		billing.Method{Kind: billing.MethodCardOnline, Token: stripetest.CardVisa})
	if err != nil {
		panic(err)
	}

	key := p.KeyFor(billing.OpAuthorize)
	hold, err := a.Authorize(ctx, billing.Charge{Payment: p.ID, Amount: p.Amount, Method: p.Method, Key: key, By: patient, Description: "visit deposit"})
	if err != nil {
		panic(err)
	}
	if _, err := p.Record(hold, key, patient, ""); err != nil {
		panic(err)
	}

	key = p.KeyFor(billing.OpCapture)
	taken, err := a.Capture(ctx, billing.FollowUp{Ref: p.Ref, Amount: billing.Money{Amount: 6000, Currency: "USD"}, Key: key, By: patient})
	if err != nil {
		panic(err)
	}
	if _, err := p.Record(taken, key, patient, ""); err != nil {
		panic(err)
	}
	t, _ := p.Totals()
	st, _ := p.Status()
	fmt.Println(st, "paid", t.Paid, "released", t.Released)
	// Output: paid paid 60.00 USD released 40.00 USD
}
