package scheduling

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/carebook/carebook/actor"
	"github.com/carebook/carebook/clock"
	"github.com/carebook/carebook/contact"
	"github.com/carebook/carebook/errs"
	"github.com/carebook/carebook/tenant"
	"github.com/google/uuid"
)

// Tenants is what scheduling reads of the tenant domain. tenant.Store has it.
type Tenants interface {
	GetPractice(ctx context.Context, id tenant.PracticeID) (*tenant.Practice, error)
	GetLocation(ctx context.Context, practice tenant.PracticeID, id tenant.LocationID) (*tenant.Location, error)
}

// Service is the scheduling engine: it validates input, applies the practice's
// booking policy and the status rules, and keeps everything in a Store. It is
// safe for concurrent use; several Services (in several processes) may share
// one database.
//
// Methods that change appointments read the acting actor.Actor from the
// context and fail with KindUnauthenticated when there is none. Whether the
// actor may act at all is the caller's concern (package rbac); the Service
// only applies the rules that depend on who acts: patients book requests
// within the policy's notice and advance windows and cancel before the
// cut-off, staff confirm and record visits.
type Service struct {
	store   Store
	tenants Tenants
	clock   clock.Clock
	ids     clock.IDSource
	cache   refCache
	// observers hear of appointment changes in their transaction.
	observers []Observer
	// blockObservers hear of block changes in their transaction.
	blockObservers []BlockObserver
	// lateCancel, when set, may allow a patient's cancellation inside the
	// cut-off.
	lateCancel LateCancel
}

// NewService returns a Service over store.
func NewService(store Store, tenants Tenants, c clock.Clock, ids clock.IDSource, opts ...Option) *Service {
	s := &Service{store: store, tenants: tenants, clock: c, ids: ids}
	s.cache.ttl = DefaultCacheTTL
	for _, o := range opts {
		o(s)
	}
	return s
}

func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

func actorOf(ctx context.Context, op string) (actor.Actor, error) {
	a, ok := actor.From(ctx)
	if !ok || !a.Valid() {
		return a, errs.E(errs.KindUnauthenticated, op, "no actor for this request")
	}
	return a, nil
}

// NewProvider is the input of CreateProvider.
type NewProvider struct {
	NPI         string
	GivenName   string
	FamilyName  string
	Specialties []string
	LocationIDs []tenant.LocationID
}

// CreateProvider adds a provider to a practice. The NPI must pass its check
// digit and be unique within the practice; every location must be the
// practice's.
func (s *Service) CreateProvider(ctx context.Context, practice tenant.PracticeID, in NewProvider) (*Provider, error) {
	const op = "scheduling.CreateProvider"
	if !ValidNPI(in.NPI) {
		return nil, errs.Invalid(op, "npi", "is not a valid NPI (ten digits with a correct check digit)")
	}
	if err := checkText(op, "given_name", in.GivenName, true, 100); err != nil {
		return nil, err
	}
	if err := checkText(op, "family_name", in.FamilyName, true, 100); err != nil {
		return nil, err
	}
	specs, err := normalizeSpecialties(op, in.Specialties)
	if err != nil {
		return nil, err
	}
	locs, err := s.checkLocations(ctx, op, practice, in.LocationIDs)
	if err != nil {
		return nil, err
	}
	p := &Provider{
		ID: s.ids.New(), PracticeID: practice, NPI: in.NPI,
		GivenName: strings.TrimSpace(in.GivenName), FamilyName: strings.TrimSpace(in.FamilyName),
		Specialties: specs, LocationIDs: locs, CreatedAt: s.now(),
	}
	if err := s.store.CreateProvider(ctx, p); err != nil {
		if errs.Is(err, errs.KindConflict) {
			return nil, &errs.Error{Kind: errs.KindConflict, Op: op, Field: "npi", Msg: "a provider with this NPI exists in the practice", Err: err}
		}
		return nil, err
	}
	return p, nil
}

func (s *Service) checkLocations(ctx context.Context, op string, practice tenant.PracticeID, ids []tenant.LocationID) ([]tenant.LocationID, error) {
	if _, err := s.tenants.GetPractice(ctx, practice); err != nil {
		return nil, err
	}
	out := make([]tenant.LocationID, 0, len(ids))
	for _, id := range ids {
		if _, err := s.tenants.GetLocation(ctx, practice, id); err != nil {
			if errs.Is(err, errs.KindNotFound) {
				return nil, errs.Invalid(op, "location_ids", "no such location "+id.String())
			}
			return nil, err
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// Provider returns one provider.
func (s *Service) Provider(ctx context.Context, practice tenant.PracticeID, id ProviderID) (*Provider, error) {
	return s.store.GetProvider(ctx, practice, id)
}

// Providers lists a practice's providers.
func (s *Service) Providers(ctx context.Context, practice tenant.PracticeID, f ProviderFilter) ([]*Provider, error) {
	return s.store.ListProviders(ctx, practice, f)
}

// NewResource is the input of CreateResource.
type NewResource struct {
	LocationID tenant.LocationID
	Name       string
	Kind       ResourceKind
}

// CreateResource adds a room or piece of equipment at a location.
func (s *Service) CreateResource(ctx context.Context, practice tenant.PracticeID, in NewResource) (*Resource, error) {
	const op = "scheduling.CreateResource"
	if err := checkText(op, "name", in.Name, true, 200); err != nil {
		return nil, err
	}
	if in.Kind != Room && in.Kind != Equipment {
		return nil, errs.Invalid(op, "kind", "must be room or equipment")
	}
	if _, err := s.tenants.GetLocation(ctx, practice, in.LocationID); err != nil {
		if errs.Is(err, errs.KindNotFound) {
			return nil, errs.Invalid(op, "location_id", "no such location")
		}
		return nil, err
	}
	r := &Resource{ID: s.ids.New(), PracticeID: practice, LocationID: in.LocationID,
		Name: strings.TrimSpace(in.Name), Kind: in.Kind, CreatedAt: s.now()}
	if err := s.store.CreateResource(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// Resources lists a practice's resources, at one location if location is set.
func (s *Service) Resources(ctx context.Context, practice tenant.PracticeID, location *tenant.LocationID) ([]*Resource, error) {
	return s.store.ListResources(ctx, practice, location)
}

// PatientInput is the input of CreatePatient and UpdatePatient.
type PatientInput struct {
	GivenName  string
	FamilyName string
	BirthDate  string
	Phone      string
	Email      string
	Language   string
}

func (s *Service) checkPatient(op string, in PatientInput) (PatientInput, error) {
	var err error
	if err = checkText(op, "given_name", in.GivenName, true, 100); err != nil {
		return in, err
	}
	if err = checkText(op, "family_name", in.FamilyName, true, 100); err != nil {
		return in, err
	}
	if err = checkBirthDate(op, "birth_date", in.BirthDate, s.now()); err != nil {
		return in, err
	}
	if in.Phone != "" {
		if in.Phone, err = contact.NormalizePhone(op, "phone", in.Phone); err != nil {
			return in, err
		}
	}
	if in.Email != "" {
		if in.Email, err = contact.NormalizeEmail(op, "email", in.Email); err != nil {
			return in, err
		}
	}
	if err = checkLanguage(op, "language", in.Language); err != nil {
		return in, err
	}
	in.GivenName, in.FamilyName = strings.TrimSpace(in.GivenName), strings.TrimSpace(in.FamilyName)
	return in, nil
}

// CreatePatient registers a patient with a practice.
func (s *Service) CreatePatient(ctx context.Context, practice tenant.PracticeID, in PatientInput) (*Patient, error) {
	const op = "scheduling.CreatePatient"
	in, err := s.checkPatient(op, in)
	if err != nil {
		return nil, err
	}
	if _, err := s.tenants.GetPractice(ctx, practice); err != nil {
		return nil, err
	}
	now := s.now()
	p := &Patient{ID: s.ids.New(), PracticeID: practice, GivenName: in.GivenName, FamilyName: in.FamilyName,
		BirthDate: in.BirthDate, Phone: in.Phone, Email: in.Email, Language: in.Language,
		CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreatePatient(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// UpdatePatient replaces a patient's details.
func (s *Service) UpdatePatient(ctx context.Context, practice tenant.PracticeID, id PatientID, in PatientInput) (*Patient, error) {
	const op = "scheduling.UpdatePatient"
	in, err := s.checkPatient(op, in)
	if err != nil {
		return nil, err
	}
	p, err := s.store.GetPatient(ctx, practice, id)
	if err != nil {
		return nil, err
	}
	p.GivenName, p.FamilyName, p.BirthDate = in.GivenName, in.FamilyName, in.BirthDate
	p.Phone, p.Email, p.Language, p.UpdatedAt = in.Phone, in.Email, in.Language, s.now()
	if err := s.store.UpdatePatient(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// Patient returns one patient.
func (s *Service) Patient(ctx context.Context, practice tenant.PracticeID, id PatientID) (*Patient, error) {
	return s.store.GetPatient(ctx, practice, id)
}

// Patients lists a practice's patients that pass f. A family name
// longer than 100 bytes, or a birth date that is no YYYY-MM-DD date, is
// KindInvalid naming it.
func (s *Service) Patients(ctx context.Context, practice tenant.PracticeID, f PatientFilter) ([]*Patient, error) {
	const op = "scheduling.Patients"
	if err := checkText(op, "family_name", f.FamilyName, false, 100); err != nil {
		return nil, err
	}
	if f.BirthDate != "" {
		if _, err := time.Parse(dateLayout, f.BirthDate); err != nil {
			return nil, errs.Invalid(op, "birth_date", "must be a date as YYYY-MM-DD")
		}
	}
	return s.store.ListPatients(ctx, practice, f)
}

// NewVisitType is the input of CreateVisitType.
type NewVisitType struct {
	Name         string
	Duration     time.Duration
	BufferBefore time.Duration
	BufferAfter  time.Duration
	Step         time.Duration // 0: Duration
	ResourceIDs  []ResourceID
	Audience     Audience // "": AnyPatient
	PriceMinor   int64
	Currency     string
}

// CreateVisitType adds a visit type to a practice.
func (s *Service) CreateVisitType(ctx context.Context, practice tenant.PracticeID, in NewVisitType) (*VisitType, error) {
	const op = "scheduling.CreateVisitType"
	if err := checkText(op, "name", in.Name, true, 200); err != nil {
		return nil, err
	}
	switch {
	case in.Duration <= 0:
		return nil, errs.Invalid(op, "duration_minutes", "must be positive")
	case in.Duration%time.Minute != 0:
		return nil, errs.Invalid(op, "duration_minutes", "must be whole minutes")
	case in.BufferBefore%time.Minute != 0:
		return nil, errs.Invalid(op, "buffer_before_minutes", "must be whole minutes")
	case in.BufferAfter%time.Minute != 0:
		return nil, errs.Invalid(op, "buffer_after_minutes", "must be whole minutes")
	case in.Step%time.Minute != 0:
		return nil, errs.Invalid(op, "step_minutes", "must be whole minutes")
	case in.Duration > 12*time.Hour:
		return nil, errs.Invalid(op, "duration_minutes", "must be at most 12 hours")
	case in.BufferBefore < 0 || in.BufferBefore > 4*time.Hour:
		return nil, errs.Invalid(op, "buffer_before_minutes", "must be between 0 and 240")
	case in.BufferAfter < 0 || in.BufferAfter > 4*time.Hour:
		return nil, errs.Invalid(op, "buffer_after_minutes", "must be between 0 and 240")
	case in.Step < 0 || in.Step > 12*time.Hour:
		return nil, errs.Invalid(op, "step_minutes", "must be between 0 and 720")
	case in.PriceMinor < 0:
		return nil, errs.Invalid(op, "price_minor", "must not be negative")
	case in.PriceMinor > 0 && !validCurrency(in.Currency):
		return nil, errs.Invalid(op, "currency", "must be an ISO 4217 code such as USD")
	}
	aud := in.Audience
	if aud == "" {
		aud = AnyPatient
	}
	if aud != AnyPatient && aud != NewOnly && aud != EstablishedOnly {
		return nil, errs.Invalid(op, "audience", "must be any, new or established")
	}
	res := make([]ResourceID, 0, len(in.ResourceIDs))
	var at tenant.LocationID
	for i, id := range in.ResourceIDs {
		r, err := s.store.GetResource(ctx, practice, id)
		if err != nil {
			if errs.Is(err, errs.KindNotFound) {
				return nil, errs.Invalid(op, "resource_ids", "no such resource "+id.String())
			}
			return nil, err
		}
		if i > 0 && r.LocationID != at {
			return nil, errs.Invalid(op, "resource_ids", "all resources must be at one location")
		}
		at = r.LocationID
		if !slices.Contains(res, id) {
			res = append(res, id)
		}
	}
	if _, err := s.tenants.GetPractice(ctx, practice); err != nil {
		return nil, err
	}
	v := &VisitType{ID: s.ids.New(), PracticeID: practice, Name: strings.TrimSpace(in.Name),
		Duration: in.Duration, BufferBefore: in.BufferBefore, BufferAfter: in.BufferAfter, Step: in.Step,
		ResourceIDs: res, Audience: aud, PriceMinor: in.PriceMinor, Currency: in.Currency, CreatedAt: s.now()}
	if err := s.store.CreateVisitType(ctx, v); err != nil {
		return nil, err
	}
	return v, nil
}

func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

// VisitType returns one visit type.
func (s *Service) VisitType(ctx context.Context, practice tenant.PracticeID, id VisitTypeID) (*VisitType, error) {
	return s.store.GetVisitType(ctx, practice, id)
}

// VisitTypes lists a practice's visit types.
func (s *Service) VisitTypes(ctx context.Context, practice tenant.PracticeID) ([]*VisitType, error) {
	return s.store.ListVisitTypes(ctx, practice)
}

// sortedKeys returns the IDs sorted and without duplicates, the order in
// which locks are taken.
func sortedKeys(ids ...uuid.UUID) []uuid.UUID {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	return slices.Compact(out)
}
