package tenant

import (
	"context"
	"strings"
	"time"

	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/errs"
)

// Service validates and keeps tenants. It is safe for concurrent use.
type Service struct {
	store         Store
	clock         clock.Clock
	ids           clock.IDSource
	policyChanged []func(PracticeID)
	observers     []PolicyObserver
}

// Option changes how NewService builds a Service.
type Option func(*Service)

// OnPolicyChange registers fn to be called after a practice's booking policy
// changes, so that caches in the same process (such as the scheduling
// service's) forget it at once.
func OnPolicyChange(fn func(PracticeID)) Option {
	return func(s *Service) { s.policyChanged = append(s.policyChanged, fn) }
}

// PolicyObserver hears of every change of a practice's booking policy
// inside the transaction that makes it, after the policy is written: what
// it writes with ctx commits or rolls back with the change, and an error it
// returns undoes the change. The directory uses it to recompute the next
// open times it shows under the new policy.
type PolicyObserver interface {
	PolicyChanged(ctx context.Context, practice PracticeID, p BookingPolicy) error
}

// WithPolicyObserver adds o to the observers SetPolicy tells, in the order
// they were added; the first to fail undoes the change and the later ones
// are not told.
func WithPolicyObserver(o PolicyObserver) Option {
	return func(s *Service) { s.observers = append(s.observers, o) }
}

// NewService returns a Service over store.
func NewService(store Store, c clock.Clock, ids clock.IDSource, opts ...Option) *Service {
	s := &Service{store: store, clock: c, ids: ids}
	for _, o := range opts {
		o(s)
	}
	return s
}

// CreateGroup creates a group of practices.
func (s *Service) CreateGroup(ctx context.Context, name string) (*Group, error) {
	const op = "tenant.CreateGroup"
	name = strings.TrimSpace(name)
	if err := checkName(op, "name", name); err != nil {
		return nil, err
	}
	g := &Group{ID: s.ids.New(), Name: name, CreatedAt: s.clock.Now().UTC()}
	if err := s.store.CreateGroup(ctx, g); err != nil {
		return nil, err
	}
	return g, nil
}

// NewPractice is the input of CreatePractice.
type NewPractice struct {
	GroupID GroupID
	Name    string
	Policy  *BookingPolicy // nil: DefaultPolicy
}

// CreatePractice creates a practice in an existing group.
func (s *Service) CreatePractice(ctx context.Context, in NewPractice) (*Practice, error) {
	const op = "tenant.CreatePractice"
	name := strings.TrimSpace(in.Name)
	if err := checkName(op, "name", name); err != nil {
		return nil, err
	}
	pol := DefaultPolicy
	if in.Policy != nil {
		pol = *in.Policy
	}
	if err := pol.Validate(op); err != nil {
		return nil, err
	}
	if _, err := s.store.GetGroup(ctx, in.GroupID); err != nil {
		if errs.Is(err, errs.KindNotFound) {
			return nil, errs.Invalid(op, "group_id", "no such group")
		}
		return nil, err
	}
	p := &Practice{ID: s.ids.New(), GroupID: in.GroupID, Name: name, Policy: pol, CreatedAt: s.clock.Now().UTC()}
	if err := s.store.CreatePractice(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// Practice returns a practice.
func (s *Service) Practice(ctx context.Context, id PracticeID) (*Practice, error) {
	return s.store.GetPractice(ctx, id)
}

// Practices lists the practices of a group, by name.
func (s *Service) Practices(ctx context.Context, group GroupID) ([]*Practice, error) {
	return s.store.ListPractices(ctx, group)
}

// SetPolicy replaces a practice's booking policy and tells the policy
// observers (WithPolicyObserver), in one transaction; then, once it has
// committed, the OnPolicyChange functions.
func (s *Service) SetPolicy(ctx context.Context, id PracticeID, p BookingPolicy) error {
	const op = "tenant.SetPolicy"
	if err := p.Validate(op); err != nil {
		return err
	}
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.UpdatePolicy(ctx, id, p); err != nil {
			return err
		}
		for _, o := range s.observers {
			if err := o.PolicyChanged(ctx, id, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, fn := range s.policyChanged {
		fn(id)
	}
	return nil
}

// Validate checks that no duration is negative, that MaxAdvance, when set,
// leaves room after MinNotice, and that the arrival window's edges are at
// most MaxArrivalWindow.
func (p BookingPolicy) Validate(op string) error {
	switch {
	case p.MinNotice < 0:
		return errs.Invalid(op, "policy.min_notice", "must not be negative")
	case p.MaxAdvance < 0:
		return errs.Invalid(op, "policy.max_advance", "must not be negative")
	case p.CancelCutoff < 0:
		return errs.Invalid(op, "policy.cancel_cutoff", "must not be negative")
	case p.MaxAdvance != 0 && p.MaxAdvance <= p.MinNotice:
		return errs.Invalid(op, "policy.max_advance", "must be longer than min_notice")
	case p.MaxAdvance > 5*366*24*time.Hour:
		return errs.Invalid(op, "policy.max_advance", "must be at most five years")
	case p.ArrivalEarly < 0 || p.ArrivalEarly > MaxArrivalWindow:
		return errs.Invalid(op, "policy.arrival_early", "must be between 0 (from the start of the visit's day) and 24 hours")
	case p.ArrivalLate < 0 || p.ArrivalLate > MaxArrivalWindow:
		return errs.Invalid(op, "policy.arrival_late", "must be between 0 (until the end of the visit's day) and 24 hours")
	}
	return nil
}

// NewLocation is the input of CreateLocation.
type NewLocation struct {
	Name     string
	TimeZone string
	Address  Address
	Geo      GeoPoint
}

// CreateLocation adds a location to a practice.
func (s *Service) CreateLocation(ctx context.Context, practice PracticeID, in NewLocation) (*Location, error) {
	const op = "tenant.CreateLocation"
	name := strings.TrimSpace(in.Name)
	if err := checkName(op, "name", name); err != nil {
		return nil, err
	}
	if _, err := LoadZone(op, "time_zone", in.TimeZone); err != nil {
		return nil, err
	}
	if in.Geo.Lat < -90 || in.Geo.Lat > 90 {
		return nil, errs.Invalid(op, "geo.lat", "must be between -90 and 90")
	}
	if in.Geo.Lng < -180 || in.Geo.Lng > 180 {
		return nil, errs.Invalid(op, "geo.lng", "must be between -180 and 180")
	}
	if c := in.Address.Country; c != "" && (len(c) != 2 || strings.ToUpper(c) != c) {
		return nil, errs.Invalid(op, "address.country", "must be an ISO 3166-1 alpha-2 code such as US")
	}
	if _, err := s.store.GetPractice(ctx, practice); err != nil {
		return nil, err
	}
	l := &Location{
		ID: s.ids.New(), PracticeID: practice, Name: name, TimeZone: in.TimeZone,
		Address: in.Address, Geo: in.Geo, CreatedAt: s.clock.Now().UTC(),
	}
	if err := s.store.CreateLocation(ctx, l); err != nil {
		return nil, err
	}
	return l, nil
}

// Location returns one location of a practice.
func (s *Service) Location(ctx context.Context, practice PracticeID, id LocationID) (*Location, error) {
	return s.store.GetLocation(ctx, practice, id)
}

// Locations lists a practice's locations.
func (s *Service) Locations(ctx context.Context, practice PracticeID) ([]*Location, error) {
	return s.store.ListLocations(ctx, practice)
}

// LoadZone loads an IANA time zone, refusing "Local" and the empty name, which
// would make availability depend on the server's settings.
func LoadZone(op, field, name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, errs.Invalid(op, field, "an IANA time zone such as America/New_York is required")
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, errs.Invalid(op, field, "unknown time zone "+quote(name))
	}
	return loc, nil
}

func checkName(op, field, v string) error {
	if v == "" {
		return errs.Invalid(op, field, "is required")
	}
	if len(v) > 200 {
		return errs.Invalid(op, field, "must be at most 200 characters")
	}
	return nil
}

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return "\"" + s + "\""
}
