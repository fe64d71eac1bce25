// Package errs is carebook's one error type. Every domain error carries a Kind
// (what went wrong, in terms a caller can act on), the operation that failed, and
// the input field at fault, so that embedders branch with errors.As or KindOf and
// the reference server maps kinds to HTTP statuses in one place.
package errs

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies an error. The zero value is KindInternal.
type Kind uint8

// The kinds of error. Anything that is not an *Error reads as KindInternal.
const (
	KindInternal           Kind = iota // a bug or an outage; details are not shown to users
	KindInvalid                        // bad input; Field names the culprit
	KindNotFound                       // no such thing in this practice
	KindConflict                       // the state forbids it: a taken slot, an illegal transition
	KindForbidden                      // the actor may not do this
	KindUnauthenticated                // no valid credentials
	KindPreconditionFailed             // a rule of the practice or the calendar refuses it
	KindRateLimited                    // too many requests
	KindTooLarge                       // the request body is too big
	KindUnsupportedMedia               // the request body is in a format the operation does not take
	KindReadOnly                       // the practice is read-only (unpaid): it reads but does not write
)

var kindNames = [...]string{
	KindInternal:           "internal",
	KindInvalid:            "invalid",
	KindNotFound:           "not_found",
	KindConflict:           "conflict",
	KindForbidden:          "forbidden",
	KindUnauthenticated:    "unauthenticated",
	KindPreconditionFailed: "precondition_failed",
	KindRateLimited:        "rate_limited",
	KindTooLarge:           "too_large",
	KindUnsupportedMedia:   "unsupported_media_type",
	KindReadOnly:           "practice_read_only",
}

// String returns the kind's stable snake_case name, used in API answers.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Error is a domain error. Op and Err are for logs; Kind, Field and Msg are safe
// to show to the caller (except for KindInternal, whose message is not shown).
type Error struct {
	Kind  Kind
	Op    string // the operation, such as "scheduling.Book"
	Field string // the input field at fault, if any, in API spelling ("start", "rrule")
	Msg   string // a human sentence for the caller
	Err   error  // the cause, if any
	// Details are structured extras for the caller, such as the appointments that
	// keep a block from being deleted. They must be JSON-encodable.
	Details any
}

// Error renders op, field, message and cause on one line.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	if e.Msg != "" {
		b.WriteString(e.Msg)
	} else {
		b.WriteString(e.Kind.String())
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// E builds an error of kind k for operation op with a message.
func E(k Kind, op, msg string) *Error { return &Error{Kind: k, Op: op, Msg: msg} }

// Wrap builds an error of kind k for op around a cause.
func Wrap(k Kind, op, msg string, err error) *Error {
	return &Error{Kind: k, Op: op, Msg: msg, Err: err}
}

// Invalid reports bad input in field.
func Invalid(op, field, msg string) *Error {
	return &Error{Kind: KindInvalid, Op: op, Field: field, Msg: msg}
}

// NotFound reports that what was asked for does not exist in the caller's practice.
func NotFound(op, what string) *Error {
	return &Error{Kind: KindNotFound, Op: op, Msg: what + " not found"}
}

// Conflict reports that the current state forbids the change.
func Conflict(op, msg string) *Error { return &Error{Kind: KindConflict, Op: op, Msg: msg} }

// KindOf returns the kind of the first *Error in err's chain, or KindInternal.
// KindOf(nil) is KindInternal too; check err != nil first.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// FieldOf returns the field at fault of the first *Error in err's chain, or "".
func FieldOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// Is reports whether err is an *Error of kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// As is errors.As for *Error, for callers that need the whole error.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// WithField names field as the culprit of a KindNotFound or KindInvalid
// error that names none (an ID read by a store does not know which input
// held it); other errors are returned as they are.
func WithField(err error, field string) error {
	k := KindOf(err)
	if (k != KindNotFound && k != KindInvalid) || FieldOf(err) != "" {
		return err
	}
	msg := err.Error()
	if e, ok := As(err); ok && e.Msg != "" {
		msg = e.Msg
	}
	return &Error{Kind: k, Field: field, Msg: msg, Err: err}
}
