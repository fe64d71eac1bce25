package billing

import (
	"context"
	"net/url"
	"time"

	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// OpSetupCheckout is the operation of a SetupCheckout's session; its keys
// are DeriveKey(a new ID, OpSetupCheckout, 1): each start is a new
// session.
const OpSetupCheckout Operation = "setup-checkout"

// SessionParam is the query parameter a SetupCheckout adds to the success
// URL: the session's ID, which SetupOutcome reads.
const SessionParam = "session_id"

// SetupCheckoutRequest asks a SetupCheckout for a page at the provider
// where the practice's administrator saves the card the operator charges
// the practice's invoices to (off-session).
type SetupCheckoutRequest struct {
	Practice tenant.PracticeID // named in the provider's metadata
	Key      Key               // the same retry gets the same session
	// SuccessURL and CancelURL are the absolute http or https pages of
	// carebook the provider sends the browser back to; the adapter adds
	// SessionParam to SuccessURL.
	SuccessURL, CancelURL string
	// Description is what the provider's page shows, such as "carebook
	// subscription"; "" for the adapter's own.
	Description string
}

// Validate checks r for operation op: the practice, the key and both
// return URLs. Errors are of errs.KindInvalid and name the field
// ("practice", "key", "success_url", "cancel_url").
func (r SetupCheckoutRequest) Validate(op string) error {
	if r.Practice == uuid.Nil {
		return errs.Invalid(op, "practice", "the practice is required")
	}
	if err := r.Key.Validate(op); err != nil {
		return err
	}
	return returnURLs(op, r.SuccessURL, r.CancelURL)
}

// returnURLs checks the success and cancel URLs of a hosted page.
func returnURLs(op, success, cancel string) error {
	for _, f := range []struct{ name, v string }{{"success_url", success}, {"cancel_url", cancel}} {
		u, err := url.Parse(f.v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errs.Invalid(op, f.name, "an absolute http or https URL is required")
		}
	}
	return nil
}

// SetupOutcome is where a SetupCheckout's session stands.
type SetupOutcome struct {
	Session  string            // the provider's ID of the session
	Practice tenant.PracticeID // the practice in its metadata; zero for a session made outside carebook
	// Done: the card is saved; SetupRef, Token and Label are set.
	Done     bool
	SetupRef string // the provider's handle of the setup (a SetupIntent)
	Token    string // charges the card off-session (Method.Token)
	Label    string // what the practice sees, such as "Visa ending 4242"
	Created  time.Time
}

// SetupCheckout is an optional capability of an Adapter that also saves
// cards (CardSaver): a page hosted by the provider where the practice's
// administrator types a card, saved for the off-session charges of the
// practice's invoices (no card number ever reaches carebook, and the page
// needs no script of carebook's). Find it with a type assertion.
//
// The contract: StartSetupCheckout moves no money; the same key returns
// the same session, a key reused with another request is
// errs.KindConflict naming "key", and bad requests are refused as
// SetupCheckoutRequest.Validate does, before asking the provider. Once the
// card is saved the provider sends the browser to SuccessURL with
// SessionParam, and its webhook (the adapter's WebhookVerifier) tells of it
// as an Event whose Setup is the session's ID and whose Practice is the
// practice. SetupOutcome reads a session; an unknown one is
// errs.KindNotFound naming "session_id".
type SetupCheckout interface {
	CardSaver
	WebhookVerifier
	StartSetupCheckout(ctx context.Context, r SetupCheckoutRequest) (CheckoutSession, error)
	SetupOutcome(ctx context.Context, session string) (SetupOutcome, error)
}
