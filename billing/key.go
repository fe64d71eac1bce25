package billing

import (
	"strconv"

	"github.com/carebook/carebook/errs"
)

// Key is an idempotency key: the caller derives it from the payment and the
// operation, so that a retry of the same operation sends the same key and an
// adapter that already did it answers with the same Result instead of doing
// it again.
type Key string

// MaxKeyLen is the longest key an adapter must accept (Stripe's limit).
const MaxKeyLen = 255

// Operation names what an adapter is asked to do; it is part of every key.
type Operation string

// The operations of an Adapter, and SetupCard's of a CardSaver.
const (
	OpAuthorize Operation = "authorize"
	OpCapture   Operation = "capture"
	OpPurchase  Operation = "purchase"
	OpCancel    Operation = "cancel"
	OpRefund    Operation = "refund"
	OpSetupCard Operation = "setup-card"
)

// DeriveKey returns the idempotency key of the seq-th step (from 1) of
// payment, doing op: the same arguments give the same key every time, and
// different arguments never give the same key. Payment.KeyFor picks seq from
// the payment's ledger, so that a retry before the result was recorded sends
// the key of the first try.
func DeriveKey(payment PaymentID, op Operation, seq int) Key {
	return Key("carebook-" + payment.String() + "-" + string(op) + "-" + strconv.Itoa(seq))
}

// Validate checks k for operation op: 1 to MaxKeyLen printable ASCII
// characters without spaces. Errors are of errs.KindInvalid naming "key".
func (k Key) Validate(op string) error {
	if k == "" {
		return errs.Invalid(op, "key", "an idempotency key is required")
	}
	if len(k) > MaxKeyLen {
		return errs.Invalid(op, "key", "the idempotency key is longer than "+strconv.Itoa(MaxKeyLen)+" characters")
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] > '~' {
			return errs.Invalid(op, "key", "the idempotency key must be printable ASCII without spaces")
		}
	}
	return nil
}
