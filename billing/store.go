package billing

import (
	"context"
	"time"

	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Store keeps payments with their ledgers, the webhook events applied, the
// practices' payment policies and the patients' saved cards. Every method
// is scoped to a practice, except PaymentByRef and the webhook events,
// which a provider's webhook finds by the provider's own IDs. Implementations
// run on the transaction InTx puts in the context, and pass
// billingtest.RunStore.
type Store interface {
	// InTx runs fn in a transaction carried by the context it is given;
	// calls with that context join it.
	InTx(ctx context.Context, fn func(ctx context.Context) error) error

	// CreatePayment writes p with an empty ledger. A second fee of the
	// same purpose for one appointment is refused with errs.KindConflict:
	// a fee is charged at most once.
	CreatePayment(ctx context.Context, p *Payment) error
	// Payment reads payment id of practice with its ledger, or
	// errs.KindNotFound.
	Payment(ctx context.Context, practice tenant.PracticeID, id PaymentID) (*Payment, error)
	// LockPayment is Payment, holding the payment's row until the
	// transaction in ctx ends, so that two steps on one payment are
	// recorded one after the other.
	LockPayment(ctx context.Context, practice tenant.PracticeID, id PaymentID) (*Payment, error)
	// PaymentByRef finds the payment provider knows as ref, in any
	// practice, or errs.KindNotFound.
	PaymentByRef(ctx context.Context, provider string, ref Ref) (*Payment, error)
	// AppendEntry writes e, the payment's next entry (e.Seq is one more
	// than the ledger's length), and the payment's Ref and Declines as p
	// holds them. An entry whose Seq, or whose non-empty Key, the payment
	// already has is refused with errs.KindConflict.
	AppendEntry(ctx context.Context, p *Payment, e Entry) error
	// SetMethod changes how a payment with an empty ledger is taken (an
	// owed fee paid at the desk); once an entry is recorded it is
	// errs.KindConflict.
	SetMethod(ctx context.Context, practice tenant.PracticeID, id PaymentID, provider string, m Method) error
	// OwedOnline lists, across practices, the fees to charge online that
	// were written before before and have an empty ledger and no decline,
	// oldest first, at most limit.
	OwedOnline(ctx context.Context, before time.Time, limit int) ([]*Payment, error)
	// SetDeclines records the payment's count of declines.
	SetDeclines(ctx context.Context, practice tenant.PracticeID, id PaymentID, declines int) error
	// Payments lists the practice's payments matching f, newest first.
	Payments(ctx context.Context, practice tenant.PracticeID, f PaymentFilter) ([]*Payment, error)

	// RememberEvent records that the provider's event id is being
	// applied, with the payment it is about and its effect, in the
	// transaction in ctx; false means it was recorded before (the event
	// was delivered again) and nothing is written.
	RememberEvent(ctx context.Context, ev StoredEvent) (bool, error)
	// WaitingEvents lists the events of payment left waiting (their
	// effect could not apply yet: it arrived before an earlier one), in
	// the order they arrived.
	WaitingEvents(ctx context.Context, practice tenant.PracticeID, payment PaymentID) ([]StoredEvent, error)
	// SettleEvent marks a waiting event applied.
	SettleEvent(ctx context.Context, provider, id string, at time.Time) error

	// Policy returns the policy of visitType in practice (nil: the
	// practice's default), or errs.KindNotFound when there is none.
	Policy(ctx context.Context, practice tenant.PracticeID, visitType *uuid.UUID) (*Policy, error)
	// Policies lists the practice's policies, its default first.
	Policies(ctx context.Context, practice tenant.PracticeID) ([]*Policy, error)
	// PutPolicy writes p, replacing the policy of its visit type.
	PutPolicy(ctx context.Context, p *Policy) error

	// SaveCard records the card on file of a patient at provider,
	// replacing an earlier one.
	SaveCard(ctx context.Context, c Card) error
	// CardOnFile returns the patient's card at provider, or
	// errs.KindNotFound.
	CardOnFile(ctx context.Context, practice tenant.PracticeID, patient uuid.UUID, provider string) (*Card, error)
}

// PaymentFilter selects payments. Zero fields select all.
type PaymentFilter struct {
	Patient     *uuid.UUID
	Appointment *uuid.UUID
	// Appointments selects the payments of any of these appointments (a
	// calendar's).
	Appointments []uuid.UUID
	From, To     time.Time // created in [From, To)
	// Limit is at most 200 (0: 200), but with Appointments, where 0
	// reads every payment of them: a calendar page's, in one read.
	Limit int
}

// EventState is where a provider's event stands.
type EventState string

// The states of an event.
const (
	EventApplied EventState = "applied" // its effect is in the ledger, or it had none
	EventWaiting EventState = "waiting" // its effect waits for an earlier event
)

// StoredEvent is a provider's webhook event as the store remembers it.
type StoredEvent struct {
	Provider string
	Event    Event
	Practice tenant.PracticeID // the payment's, when the event names one
	Payment  *PaymentID
	State    EventState
	At       time.Time // when it arrived
}

// Card is a patient's card saved at a provider for later off-session
// charges (fees): the provider's token, never a card number.
type Card struct {
	Practice tenant.PracticeID
	Patient  uuid.UUID
	Provider string
	Token    string
	Label    string // what the patient sees: "Visa ending 4242"
	SavedAt  time.Time
}
