// Package billing takes payments for visits: money in integer minor units with
// its ISO 4217 currency, the Adapter interface a payment provider's integration
// implements, and the Payment with its append-only ledger of entries whose
// rules every adapter and every store keeps.
//
// The rules of the ledger are pure functions over its entries (see Summarize
// and Payment.Append): a capture never exceeds the hold it captures, a refund
// never exceeds what was paid, and a payment is never deleted: a mistake is
// corrected by a reversal entry that cancels the effect of an earlier one.
//
// Every call to an Adapter carries an idempotency key the caller derives from
// the payment (Payment.KeyFor, DeriveKey), so that a retry after a timeout or
// a crash sends the same key and the provider never charges twice.
//
// Adapters are subpackages: billing/offline takes payments at the desk (cash,
// card terminal, cheque, insurance copay); billing/billingtest is the
// conformance suite every adapter passes. Optional capabilities (saving a
// card for later charges, verifying a provider's webhooks) are small extra
// interfaces found by type assertion. The package imports no net/http and
// reads no clock: times come from the adapters' injected clocks.
package billing
