// Package tenant holds the tenants of carebook: groups of practices, practices
// (the tenant every row belongs to), their locations, and each practice's
// booking policy. Every Store must be safe for concurrent use.
package tenant

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// GroupID identifies a group of practices.
type GroupID = uuid.UUID

// PracticeID identifies a practice, the tenant.
type PracticeID = uuid.UUID

// LocationID identifies a location of a practice.
type LocationID = uuid.UUID

// Group is a group of practices under one owner.
type Group struct {
	ID        GroupID   `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Practice is a clinic: the tenant. Every tenant-owned row carries its ID.
type Practice struct {
	ID        PracticeID    `json:"id"`
	GroupID   GroupID       `json:"group_id"`
	Name      string        `json:"name"`
	Policy    BookingPolicy `json:"policy"`
	CreatedAt time.Time     `json:"created_at"`
}

// BookingPolicy is how a practice takes bookings. Its durations are not
// JSON-encoded: APIs show them in whole minutes (see refserver).
type BookingPolicy struct {
	// AutoConfirm makes patients' bookings confirmed at once instead of new requests.
	AutoConfirm bool `json:"auto_confirm"`
	// MinNotice is how long before a visit it can still be booked by a patient.
	MinNotice time.Duration `json:"-"`
	// MaxAdvance is how far ahead a visit can be booked; 0 means no limit.
	MaxAdvance time.Duration `json:"-"`
	// CancelCutoff is how long before a visit a patient can still cancel or move it.
	CancelCutoff time.Duration `json:"-"`
	// ArrivalEarly is how long before a visit's start the front desk can
	// record the patient's arrival. 0, the default, allows it from the start
	// of the visit's local day (midnight where the visit takes place), so
	// that an early patient is checked in but not one who comes on the wrong
	// day.
	ArrivalEarly time.Duration `json:"-"`
	// ArrivalLate is how long after a visit's end its arrival can still be
	// recorded. 0, the default, allows it until the end of the visit's local
	// day (or the visit's end, if later), so that the desk can catch up on
	// the day's arrivals until closing.
	ArrivalLate time.Duration `json:"-"`
}

// MaxArrivalWindow bounds ArrivalEarly and ArrivalLate.
const MaxArrivalWindow = 24 * time.Hour

// DefaultPolicy is the policy of a practice that sets none: requests wait for the
// front desk, two hours' notice, 90 days ahead, cancel up to 24 hours before,
// arrivals recorded on the visit's day.
var DefaultPolicy = BookingPolicy{
	MinNotice:    2 * time.Hour,
	MaxAdvance:   90 * 24 * time.Hour,
	CancelCutoff: 24 * time.Hour,
}

// Address is a postal address.
type Address struct {
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	Country    string `json:"country"` // ISO 3166-1 alpha-2
}

// GeoPoint is a WGS 84 position.
type GeoPoint struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

// Location is a place where a practice sees patients. Availability at a
// location is defined in its time zone.
type Location struct {
	ID         LocationID `json:"id"`
	PracticeID PracticeID `json:"practice_id"`
	Name       string     `json:"name"`
	TimeZone   string     `json:"time_zone"` // IANA name, such as "America/New_York"
	Address    Address    `json:"address"`
	Geo        GeoPoint   `json:"geo"`
	CreatedAt  time.Time  `json:"created_at"`
}

// Store keeps groups, practices and locations.
//
// Get methods return an *errs.Error of KindNotFound when the ID is unknown, or
// when it belongs to another practice. Create methods store the value as given,
// ID and timestamps included; validation is the Service's job.
type Store interface {
	// InTx runs fn in one transaction, carried in the context fn receives:
	// every method called with that context runs in it; it commits if fn
	// returns nil and rolls back otherwise. Called with a context that
	// already carries a transaction, it runs fn in that one.
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	CreateGroup(ctx context.Context, g *Group) error
	GetGroup(ctx context.Context, id GroupID) (*Group, error)
	CreatePractice(ctx context.Context, p *Practice) error
	GetPractice(ctx context.Context, id PracticeID) (*Practice, error)
	// ListPractices returns the practices of a group, by name.
	ListPractices(ctx context.Context, group GroupID) ([]*Practice, error)
	UpdatePolicy(ctx context.Context, id PracticeID, p BookingPolicy) error
	CreateLocation(ctx context.Context, l *Location) error
	GetLocation(ctx context.Context, practice PracticeID, id LocationID) (*Location, error)
	// ListLocations returns the locations of a practice, by name.
	ListLocations(ctx context.Context, practice PracticeID) ([]*Location, error)
}

// Verification is a practice's identity check (package kyc): its
// organisation NPI, found active as an NPI-2 in the registry, under the
// registry's name, when and by whom. A practice without one is unverified
// and cannot take online payments.
type Verification struct {
	PracticeID   PracticeID `json:"practice_id"`
	NPI          string     `json:"npi"`
	RegistryName string     `json:"registry_name"`
	VerifiedAt   time.Time  `json:"verified_at"`
	VerifiedBy   string     `json:"verified_by"`
}

// VerificationStore keeps practices' verifications (sqlstore's Tenants
// has it).
type VerificationStore interface {
	// SaveVerification stores v as given, replacing the practice's
	// earlier one.
	SaveVerification(ctx context.Context, v *Verification) error
	// GetVerification returns the practice's verification, or an
	// *errs.Error of KindNotFound when it has none.
	GetVerification(ctx context.Context, practice PracticeID) (*Verification, error)
}

// SignUpCodeStore keeps the operator's invitations to sign a clinic up,
// by the SHA-256 of their code (sqlstore's Tenants has it).
type SignUpCodeStore interface {
	// CreateSignUpCode stores a new, unused code.
	CreateSignUpCode(ctx context.Context, hash []byte, note string, at time.Time) error
	// UseSignUpCode marks the unused code hash used by practice at at:
	// KindNotFound when there is no such code or it was used already, so
	// that of two sign-ups with one code only one succeeds.
	UseSignUpCode(ctx context.Context, hash []byte, practice PracticeID, at time.Time) error
}
