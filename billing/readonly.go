package billing

import (
	"time"

	"github.com/carebook/carebook/tenant"
)

// ReadOnlyReason is why a practice is read-only: it reads, exports and
// lets its patients cancel, but writes nothing else until it is restored.
type ReadOnlyReason string

// The reasons a practice is read-only.
const (
	// ReadOnlyTrialEnded: its trial ended without a payment method on
	// file; attaching one restores it.
	ReadOnlyTrialEnded ReadOnlyReason = "trial_ended"
	// ReadOnlyPaymentFailed: the charges of its invoice kept failing;
	// paying the invoice restores it.
	ReadOnlyPaymentFailed ReadOnlyReason = "payment_failed"
)

// Valid reports whether r is one of the reasons.
func (r ReadOnlyReason) Valid() bool {
	return r == ReadOnlyTrialEnded || r == ReadOnlyPaymentFailed
}

// Restore says, for the practice's administrator, what restores a
// practice read-only for r.
func (r ReadOnlyReason) Restore() string {
	switch r {
	case ReadOnlyTrialEnded:
		return "add a payment method"
	case ReadOnlyPaymentFailed:
		return "pay the open invoice"
	}
	return "contact support"
}

// Why says in a sentence why a practice is read-only for r.
func (r ReadOnlyReason) Why() string {
	switch r {
	case ReadOnlyTrialEnded:
		return "its trial ended without a payment method"
	case ReadOnlyPaymentFailed:
		return "the payment of its invoice failed"
	}
	return "of " + string(r)
}

// ReadOnly is one reason a practice is read-only, and since when: a
// practice is read-only while it has one.
type ReadOnly struct {
	Practice tenant.PracticeID
	Reason   ReadOnlyReason
	Since    time.Time
}

// ReadOnlyDetails are the Details of the errs.KindReadOnly error that
// refuses a write of a read-only practice: why (each reason in force, the
// oldest first), since when, and what restores it.
type ReadOnlyDetails struct {
	Reasons []ReadOnlyReason `json:"reasons"`
	Since   time.Time        `json:"since"`
	Restore []string         `json:"restore"`
}

// PaymentMethod is the practice's payment method on file, which the
// operator charges its invoices to: the provider's token of a saved card
// (a completed CardSaver setup), never a card number.
type PaymentMethod struct {
	Practice tenant.PracticeID
	Provider string // the adapter's name, as given to WithPaymentAdapter
	SetupRef string // the provider's handle of the setup (SavedCard.ID)
	Token    string // charges the card off-session (Method.Token)
	Label    string // what the practice sees: "Visa ending 4242"
	SavedAt  time.Time
	SavedBy  string // the actor who attached it
}
