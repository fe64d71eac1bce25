package notify

import (
	"context"
	"errors"
	"time"
)

// Outgoing is a message handed to a Sender.
type Outgoing struct {
	Message *Message
	// From is the practice's sender address (phone or email) when it has
	// one; "" lets the Sender use its default.
	From string
	// FromName is the display name of an email's sender (the practice's name).
	FromName string
}

// Receipt is what a provider answered to an accepted message.
type Receipt struct {
	// ProviderID is the provider's ID of the message, later used to match
	// its status callbacks.
	ProviderID string
	// Status is the provider's status word, such as "queued" or "accepted".
	Status string
}

// Sender delivers messages of one channel through an outside provider.
//
// The contract every implementation keeps:
//   - Send is safe for concurrent use and honours ctx's deadline.
//   - It returns a Receipt once the provider accepted the message.
//   - A failure that retrying will not fix (an invalid number, a bounced
//     address, a refused sender) is wrapped with Permanent; anything else
//     (a timeout, a 5xx, a 429) is temporary and will be retried.
//   - It never retries by itself: the dispatcher owns retries, so that a
//     message is never sent twice.
type Sender interface {
	Channel() Channel
	Send(ctx context.Context, out Outgoing) (Receipt, error)
}

// Finder is a Sender that can also ask its provider whether it holds a
// message: the dispatcher asks it about every message in doubt (marked
// sending by a dispatcher that stopped before recording the send) before
// deciding, and sends again only what the provider has no record of. A
// Sender that is not a Finder cannot settle a doubt: its messages in doubt
// go dead as "delivery unknown", never resent.
//
// The contract every implementation keeps:
//   - Find is safe for concurrent use and honours ctx's deadline.
//   - found is true, with the provider's ID in the Receipt, when the
//     provider accepted m (sent through this Sender's account at any time
//     since m became due).
//   - found is false with a nil error only when the provider was asked and
//     has no record of m: m is then sent again.
//   - Any doubt (the provider cannot be reached, answers with an error, or
//     its records cannot tell) is an error: the message stays in doubt and
//     is asked about again later, never resent blindly. An error wrapped
//     with Permanent says the provider will never answer (the account may
//     not read those records): the message is treated as for a Sender that
//     is not a Finder.
type Finder interface {
	Sender
	Find(ctx context.Context, m *Message) (rc Receipt, found bool, err error)
}

// LaggingFinder is a Finder whose provider's records show a send only
// after a while (SendGrid's Email Activity lags its sends by up to
// minutes): a message it does not find is taken as never sent only once
// RecordLag has passed since the message was marked sending; until then it
// stays in doubt and is asked about again after the next lease.
type LaggingFinder interface {
	Finder
	RecordLag() time.Duration
}

// PermanentError marks a send failure that must not be retried.
type PermanentError struct{ Err error }

// Error says the failure is permanent, with its cause.
func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as a failure that must not be retried; nil stays nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// IsPermanent reports whether err, or an error it wraps, is permanent.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}
