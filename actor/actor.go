// Package actor names who is acting on a request: a patient, a member of staff,
// or carebook itself. The actor rides in the context; the practice never does,
// it is always an explicit argument.
package actor

import (
	"context"
	"strings"
)

// Kind is the kind of actor.
type Kind string

// The kinds of actor.
const (
	Patient Kind = "patient"
	Staff   Kind = "staff"
	System  Kind = "system"
)

// Actor is who acts. ID is an account ID, a patient ID, or a job name.
type Actor struct {
	Kind Kind
	ID   string
}

// String renders the actor as "kind:id", the form kept in histories and logs.
func (a Actor) String() string { return string(a.Kind) + ":" + a.ID }

// Parse reads an actor written by String ("kind:id"). It does not check
// the kind: what was stored comes back as it was.
func Parse(s string) Actor {
	kind, id, _ := strings.Cut(s, ":")
	return Actor{Kind: Kind(kind), ID: id}
}

// Valid reports whether a names a known kind and an ID.
func (a Actor) Valid() bool {
	switch a.Kind {
	case Patient, Staff, System:
		return a.ID != ""
	}
	return false
}

type ctxKey struct{}

// With returns a context carrying a.
func With(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, ctxKey{}, a)
}

// From returns the actor carried by ctx and whether there was one.
func From(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(ctxKey{}).(Actor)
	return a, ok
}
