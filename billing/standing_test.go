package billing_test

import (
	"testing"

	"github.com/carebook/carebook/billing"
	"github.com/carebook/carebook/errs"
	"github.com/google/uuid"
)

// pay is a payment of 50.00 USD of appointment appt with the ledger es.
func pay(appt *uuid.UUID, es ...billing.Entry) *billing.Payment {
	return &billing.Payment{ID: uuid.New(), Amount: usd(5000), Appointment: appt, Ledger: ledger(es...)}
}

// TestStandingOf: a visit's payments taken together, owed first, then
// held, then what was taken and given back.
func TestStandingOf(t *testing.T) {
	cases := []struct {
		name string
		ps   []*billing.Payment
		want billing.Standing
	}{
		{"no payment", nil, billing.StandingNone},
		{"an owed fee", []*billing.Payment{pay(nil)}, billing.StandingOwed},
		{"paid", []*billing.Payment{pay(nil, e(billing.EntryCharged, 5000))}, billing.StandingPaid},
		{"paid, and a fee owed", []*billing.Payment{pay(nil, e(billing.EntryCharged, 5000)), pay(nil)}, billing.StandingOwed},
		{"a deposit held", []*billing.Payment{pay(nil, e(billing.EntryAuthorized, 2000))}, billing.StandingHeld},
		{"a deposit held beside a paid visit", []*billing.Payment{pay(nil, e(billing.EntryCharged, 5000)), pay(nil, e(billing.EntryAuthorized, 2000))}, billing.StandingHeld},
		{"a deposit captured", []*billing.Payment{pay(nil, e(billing.EntryAuthorized, 2000), e(billing.EntryCaptured, 2000))}, billing.StandingPaid},
		{"a hold released", []*billing.Payment{pay(nil, e(billing.EntryAuthorized, 2000), e(billing.EntryCanceled, 2000))}, billing.StandingNone},
		{"partly refunded", []*billing.Payment{pay(nil, e(billing.EntryCharged, 5000), e(billing.EntryRefunded, 500))}, billing.StandingPartlyRefunded},
		{"refunded", []*billing.Payment{pay(nil, e(billing.EntryCharged, 5000), e(billing.EntryRefunded, 5000))}, billing.StandingRefunded},
		{"one refunded, one paid", []*billing.Payment{pay(nil, e(billing.EntryCharged, 5000), e(billing.EntryRefunded, 5000)), pay(nil, e(billing.EntryCharged, 1000))}, billing.StandingPartlyRefunded},
		{"a charge reversed", []*billing.Payment{pay(nil, e(billing.EntryCharged, 5000), rev(1, 5000))}, billing.StandingNone},
	}
	for _, c := range cases {
		got, err := billing.StandingOf(c.ps)
		if err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	_, err := billing.StandingOf([]*billing.Payment{pay(nil, e(billing.EntryRefunded, 5000))})
	if !errs.Is(err, errs.KindConflict) {
		t.Errorf("a broken ledger: %v, want a conflict", err)
	}
}

// TestStandings groups payments by appointment: none for a payment of no
// appointment, none for a visit whose payments moved no money.
func TestStandings(t *testing.T) {
	a1, a2, a3 := uuid.New(), uuid.New(), uuid.New()
	got, err := billing.Standings([]*billing.Payment{
		pay(&a1, e(billing.EntryCharged, 5000)), pay(&a1),
		pay(&a2, e(billing.EntryCharged, 5000), e(billing.EntryRefunded, 5000)),
		pay(&a3, e(billing.EntryAuthorized, 2000), e(billing.EntryCanceled, 2000)),
		pay(nil, e(billing.EntryCharged, 100)),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[uuid.UUID]billing.Standing{a1: billing.StandingOwed, a2: billing.StandingRefunded}
	if len(got) != len(want) || got[a1] != want[a1] || got[a2] != want[a2] {
		t.Errorf("Standings = %v, want %v", got, want)
	}
}
