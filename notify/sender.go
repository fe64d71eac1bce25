package notify

import (
	"context"
	"errors"
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

// PermanentError marks a send failure that must not be retried.
type PermanentError struct{ Err error }

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
