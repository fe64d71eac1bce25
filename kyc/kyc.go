// Package kyc is what carebook knows of a practice's identity checks
// ("know your customer"): for clinics in the United States, the National
// Provider Identifier (NPI) of the practice's organisation (an NPI-2) and of
// its providers (NPI-1), looked up in a registry such as CMS's NPPES (see
// package nppes, which implements Registry over HTTP). This package holds the
// domain side only: no network, no storage.
package kyc

import (
	"context"

	"github.com/carebook/carebook/errs"
)

// Entity is whom an NPI was issued to.
type Entity string

// The entities of the NPPES registry's enumeration_type.
const (
	Individual   Entity = "NPI-1" // a person: a provider
	Organization Entity = "NPI-2" // an organisation: a practice, a group
)

// Record is what a registry says of one NPI.
type Record struct {
	NPI    string
	Entity Entity
	// Active is the registry's status "A".
	Active bool
	// Name is the organisation's name, or the person's "given family".
	Name string
	// Taxonomies are the record's taxonomy codes (such as "207Q00000X"),
	// its primary one first.
	Taxonomies []string
}

// Registry looks NPIs up.
//
// Lookup returns an *errs.Error of KindNotFound when the registry has no
// record of npi, and Unreachable's error when the registry cannot be asked
// or answers what is not the registry's.
type Registry interface {
	Lookup(ctx context.Context, npi string) (*Record, error)
}

// Unreachable is the error of a registry that could not answer (a timeout,
// a refused connection, a 5xx, an answer that is not the registry's): the
// check can be tried again later. It is KindPreconditionFailed with the
// field named, so that an API answers 422 and not a 5xx.
func Unreachable(op, field, why string) error {
	return &errs.Error{Kind: errs.KindPreconditionFailed, Op: op, Field: field,
		Msg: "the NPI registry could not be reached (" + why + "); try again later"}
}

// Check looks npi up in r and requires a record of the entity want that is
// active. Errors name field: not found (KindInvalid), an NPI of the other
// entity (KindInvalid), inactive (KindInvalid), or the registry
// unreachable (Unreachable's).
func Check(ctx context.Context, r Registry, op, field, npi string, want Entity) (*Record, error) {
	rec, err := r.Lookup(ctx, npi)
	if errs.Is(err, errs.KindNotFound) {
		return nil, errs.Invalid(op, field, "not found in the NPI registry")
	}
	if err != nil {
		return nil, errs.WithField(err, field)
	}
	switch {
	case rec.Entity != want && rec.Entity == Individual:
		return nil, errs.Invalid(op, field, "is an individual NPI (NPI-1); the practice's organisation NPI (NPI-2) is needed")
	case rec.Entity != want && rec.Entity == Organization:
		return nil, errs.Invalid(op, field, "is an organisation NPI (NPI-2); a provider's individual NPI (NPI-1) is needed")
	case rec.Entity != want:
		return nil, errs.Invalid(op, field, "is an NPI of an unknown kind "+string(rec.Entity))
	case !rec.Active:
		return nil, errs.Invalid(op, field, "is inactive in the NPI registry")
	}
	return rec, nil
}
